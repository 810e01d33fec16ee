#!/usr/bin/env python3
"""A second labelled corpus of practice mail, written independently of the
dev corpus: its own templates, phrasings and name sources, every clinical
interchange format (HL7 v2, FHIR JSON/XML, C-CDA, X12, iCalendar, vCard,
CSV/TSV/XLSX, DOCX, PDF), PHI in file names and subjects, and hard negatives
(reply attributions, forwarded headers, staff birthdays, invitations, orders,
newsletters, finance and HR mail).

Two halves with nothing in common but the generator's code: every template
has several phrasings, and even-numbered phrasings go to `tune/`, odd ones to
`blind/`; the halves also draw names from different sources (Faker locales
and hand-written transliterations). `blind/` is scored, never read from while
the detectors are being worked on.

`outside/` was added once the blind half's failures had been read: blind
phrasings, names from mimesis's per-locale lists and hand-written lists,
sources the product does not vendor (it vendors Faker's names, so Faker-named
halves no longer measure unseen names). It is scored and printed only.

    pip install faker==33.1.0 mimesis==22.2.0
    python3 tests/corpus/gen.py            # writes tests/corpus/gen/{tune,blind,outside}
    python3 tests/corpus/gen.py outside    # one half only

Deterministic: the same seed gives the same files byte for byte.
"""
import base64
import io
import json
import os
import random
import shutil
import zipfile
from datetime import date, timedelta

from faker import Faker

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen")
PER_HALF = 360

# ---------------------------------------------------------------- names

ARABIC_A = [("Mohammed", "Al-Rashid"), ("Fatima", "Haddad"), ("Omar", "Khalil"),
            ("Layla", "Mansour"), ("Yusuf", "Saleh"), ("Aisha", "Nasser"), ("Hassan", "El-Amin")]
ARABIC_B = [("Khaled", "bin Saeed"), ("Noor", "Abdel-Rahman"), ("Tariq", "Al Masri"),
            ("Samira", "Darwish"), ("Ibrahim", "Qureshi"), ("Rania", "Othman"), ("Ziad", "Hamdan")]
VIET_B = [("Nguyen", "Thi Lan"), ("Tran", "Van Minh"), ("Pham", "Thu Ha"), ("Le", "Quoc Bao"),
          ("Hoang", "Anh Tuan"), ("Vo", "Thi Mai")]
NIGERIAN_B = [("Oluwaseun", "Adeyemi"), ("Chiamaka", "Okafor"), ("Emeka", "Nwosu"),
              ("Ngozi", "Eze"), ("Babajide", "Ogunleye"), ("Folake", "Adebayo")]
SOUTH_ASIAN_A = [("Priya", "Raghunathan"), ("Arjun", "Venkataraman"), ("Sunita", "Chatterjee"),
                 ("Rahul", "Deshpande")]
# The outside half's hand-written names: communities neither Faker nor
# mimesis lists (Somali, Hmong, Haitian, Ethiopian and Eritrean, Korean and
# Chinese romanised, Filipino, Navajo, Russian and Ukrainian transliterated).
OUTSIDE_EXTRA = [("Hodan", "Warsame"), ("Abdirahman", "Farah"), ("Fadumo", "Hersi"), ("Ayaan", "Guled"),
                 ("Pa Nhia", "Vang"), ("Tou", "Xiong"), ("Mai Yer", "Lor"), ("Chue", "Thao"), ("Kou", "Yang"),
                 ("Mireille", "Pierre-Louis"), ("Jean-Baptiste", "Dorvil"), ("Widlyne", "Charles"),
                 ("Tsehay", "Gebremedhin"), ("Yohannes", "Tesfaye"), ("Selamawit", "Haile"), ("Berhane", "Woldu"),
                 ("Ji-woo", "Park"), ("Seo-yeon", "Choi"), ("Min-jun", "Kang"), ("Xiaoming", "Zhang"),
                 ("Meiling", "Guo"), ("Jianhua", "Xu"), ("Maricel", "Dela Cruz"), ("Rodelio", "Bautista"),
                 ("Analyn", "Macaraeg"), ("Darlene", "Yazzie"), ("Kee", "Begay"), ("Loretta", "Tsosie"),
                 ("Dmitri", "Kuznetsov"), ("Oksana", "Hrytsenko"), ("Svetlana", "Vorobyova")]
# mimesis locales for the outside half: a second, independent name source
# (the product vendors Faker's and the US lists, never mimesis's).
OUTSIDE_MIMESIS = ["fi", "da", "hr", "cs", "hu", "nl", "sv", "no", "is", "et", "pt-br", "es-mx", "pl",
                   "tr", "it", "az", "de", "fr", "en"]


class Names:
    def __init__(self, locales, extra, rng):
        self.fakers = []
        for i, loc in enumerate(locales):
            f = Faker(loc)
            f.seed_instance(rng.randrange(1 << 30) + i)
            self.fakers.append(f)
        self.extra = extra
        self.rng = rng

    def person(self):
        r = self.rng
        if self.extra and r.random() < 0.25:
            first, last = r.choice(self.extra)
        else:
            f = r.choice(self.fakers)
            first, last = f.first_name(), f.last_name()
        suffix = r.choice(["", "", "", "", "", " Jr.", " Sr.", " II", " III"])
        middle = r.choice(["", "", "", chr(r.randrange(65, 91)) + "."])
        return {"first": first, "last": last + suffix, "middle": middle}

    def staff(self):
        f = self.rng.choice(self.fakers)
        return f.first_name() + " " + f.last_name()


class MimesisNames(Names):
    """Names from mimesis's per-locale person lists (`pip install mimesis==22.2.0`)."""

    def __init__(self, locales, extra, rng):
        import importlib.resources
        self.lists = []
        root = importlib.resources.files("mimesis") / "datasets"
        for loc in locales:
            d = json.loads((root / loc / "person.json").read_text(encoding="utf-8"))
            given = d["names"]
            given = sorted(set(given["female"]) | set(given["male"])) if isinstance(given, dict) else given
            family = d["surnames"]
            family = sorted(set(family["female"]) | set(family["male"])) if isinstance(family, dict) else family
            self.lists.append((sorted(given), sorted(family)))
        self.extra = extra
        self.rng = rng

    def _pair(self):
        given, family = self.rng.choice(self.lists)
        return self.rng.choice(given), self.rng.choice(family)

    def person(self):
        r = self.rng
        if r.random() < 0.25:
            first, last = r.choice(self.extra)
        else:
            first, last = self._pair()
        suffix = r.choice(["", "", "", "", "", " Jr.", " Sr.", " II", " III"])
        middle = r.choice(["", "", "", chr(r.randrange(65, 91)) + "."])
        return {"first": first, "last": last + suffix, "middle": middle}

    def staff(self):
        first, last = self._pair()
        return first + " " + last


def name_form(p, rng, forms=None):
    """A person's name as practice mail writes it."""
    first, last, mid = p["first"], p["last"], p["middle"]
    full = f"{first} {mid + ' ' if mid else ''}{last}"
    options = forms or ["full", "last_first", "caps", "caps_last_first", "title", "lower", "full"]
    form = rng.choice(options)
    if form == "full":
        return full
    if form == "last_first":
        return f"{last}, {first}{' ' + mid if mid else ''}"
    if form == "caps":
        return full.upper()
    if form == "caps_last_first":
        return f"{last.upper()}, {first.upper()}"
    if form == "title":
        return rng.choice(["Mr.", "Mrs.", "Ms.", "Mr", "Ms"]) + " " + full
    if form == "lower":
        return full.lower()
    return full


# ---------------------------------------------------------------- dates

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
ABBR = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def ordinal(n):
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def date_form(d, rng, forms=None):
    options = forms or ["us", "us2", "iso", "long", "abbr_dot", "day_first", "ordinal_of",
                        "dotted", "weekday", "us_dash"]
    f = rng.choice(options)
    if f == "us":
        return f"{d.month}/{d.day}/{d.year}"
    if f == "us2":
        return f"{d.month:02d}/{d.day:02d}/{d.year % 100:02d}"
    if f == "iso":
        return d.isoformat()
    if f == "long":
        return f"{MONTHS[d.month - 1]} {d.day}, {d.year}"
    if f == "abbr_dot":
        return f"{ABBR[d.month - 1]}. {ordinal(d.day)}, {d.year}"
    if f == "day_first":
        return f"{d.day} {MONTHS[d.month - 1]} {d.year}"
    if f == "ordinal_of":
        return f"the {ordinal(d.day)} of {MONTHS[d.month - 1]} {d.year}"
    if f == "dotted":
        return f"{d.month:02d}.{d.day:02d}.{d.year}"
    if f == "weekday":
        return f"{DAYS[d.weekday()]}, {MONTHS[d.month - 1]} {d.day}, {d.year}"
    if f == "us_dash":
        return f"{d.month:02d}-{d.day:02d}-{d.year}"
    return d.isoformat()


def birth(rng):
    return date(1930, 1, 1) + timedelta(days=rng.randrange(0, 365 * 90))


def service(rng):
    return date(2024, 1, 1) + timedelta(days=rng.randrange(0, 700))


# ---------------------------------------------------------------- identifiers

def ssn(rng):
    while True:
        a, g, s = rng.randrange(1, 900), rng.randrange(1, 100), rng.randrange(1, 10000)
        if a != 666:
            return f"{a:03d}", f"{g:02d}", f"{s:04d}"


def ssn_form(rng, forms=None):
    a, g, s = ssn(rng)
    f = rng.choice(forms or ["dash", "dash", "space", "plain", "dot"])
    return {"dash": f"{a}-{g}-{s}", "space": f"{a} {g} {s}", "plain": f"{a}{g}{s}",
            "dot": f"{a}.{g}.{s}"}[f]


MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"


def mbi(rng):
    L = lambda: rng.choice(MBI_LETTERS)
    A = lambda: rng.choice(MBI_LETTERS + "0123456789")
    D = lambda: str(rng.randrange(10))
    return f"{rng.randrange(1, 10)}{L()}{A()}{D()}{L()}{A()}{D()}{L()}{L()}{D()}{D()}"


def npi(rng):
    while True:
        base = [rng.choice("12")] + [str(rng.randrange(10)) for _ in range(8)]
        digits = "80840" + "".join(base)
        total = 0
        for i, ch in enumerate(reversed(digits)):
            d = int(ch)
            if i % 2 == 0:
                d *= 2
                if d > 9:
                    d -= 9
            total += d
        check = (10 - total % 10) % 10
        return "".join(base) + str(check)


ICD = None


def icd_codes():
    global ICD
    if ICD is None:
        path = os.path.join(os.path.dirname(__file__), "..", "..", "detectors", "data", "icd10cm-codes.txt")
        ICD = [l.strip() for l in open(path) if l.strip()]
    return ICD


def icd(rng, forms=None):
    code = rng.choice(icd_codes())
    f = rng.choice(forms or ["dot", "dot", "plain", "lower", "dot"])
    dotted = code[:3] + ("." + code[3:] if len(code) > 3 else "")
    return {"dot": dotted, "plain": code, "lower": dotted.lower()}[f]


def mrn(rng):
    return rng.choice([str(rng.randrange(100000, 99999999)),
                       f"{rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}{rng.randrange(100000, 9999999)}",
                       f"{rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}"])


# ---------------------------------------------------------------- message building

def eml(frm, to, subject, parts, rng, extra_headers=()):
    """A MIME message; parts: list of (content_type, body_bytes_or_str, filename, encoding)."""
    date_hdr = "Tue, 03 Mar 2026 09:14:00 -0500"
    boundary = f"=_gen_{rng.randrange(1 << 40):x}"
    h = [f"From: {frm}", f"To: {to}", f"Subject: {subject}", f"Date: {date_hdr}",
         f"Message-ID: <{rng.randrange(1 << 48):x}@mail.practice.example>", "MIME-Version: 1.0"]
    h.extend(extra_headers)
    if len(parts) == 1 and parts[0][2] is None:
        ctype, body, _, enc = parts[0]
        h.append(f"Content-Type: {ctype}")
        return "\r\n".join(h) + "\r\n" + encode(body, enc)
    h.append(f'Content-Type: multipart/mixed; boundary="{boundary}"')
    out = "\r\n".join(h) + "\r\n\r\n"
    for ctype, body, filename, enc in parts:
        out += f"--{boundary}\r\nContent-Type: {ctype}\r\n"
        if filename:
            out += f"Content-Disposition: attachment; {filename_param(filename)}\r\n"
        out += encode(body, enc)
    return out + f"--{boundary}--\r\n"


def filename_param(name):
    if all(32 <= ord(c) < 127 for c in name) and '"' not in name:
        return f'filename="{name}"'
    from urllib.parse import quote
    return f"filename*=utf-8''{quote(name)}"


def encode(body, enc):
    if isinstance(body, str):
        body_b = body.replace("\r\n", "\n").replace("\n", "\r\n").encode()
    else:
        body_b = body
    if enc == "base64":
        b = base64.encodebytes(body_b).decode().replace("\n", "\r\n")
        return "Content-Transfer-Encoding: base64\r\n\r\n" + b
    if enc == "qp":
        import quopri
        q = quopri.encodestring(body_b).decode().replace("\r\n", "\n").replace("\n", "\r\n")
        return "Content-Transfer-Encoding: quoted-printable\r\n\r\n" + q + "\r\n"
    return "\r\n" + body_b.decode("utf-8") + "\r\n"


def text(body):
    return ("text/plain; charset=utf-8", body, None, "8bit")


def xlsx(rows):
    shared = []
    idx = {}
    def si(v):
        if v not in idx:
            idx[v] = len(shared)
            shared.append(v)
        return idx[v]
    sheet_rows = []
    for r, row in enumerate(rows, 1):
        cells = "".join(f'<c r="{chr(65 + c)}{r}" t="s"><v>{si(str(v))}</v></c>' for c, v in enumerate(row))
        sheet_rows.append(f'<row r="{r}">{cells}</row>')
    esc = lambda s: s.replace("&", "&amp;").replace("<", "&lt;")
    sst = "".join(f"<si><t>{esc(s)}</t></si>" for s in shared)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(entry("[Content_Types].xml"), '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        z.writestr(entry("xl/workbook.xml"), '<workbook><sheets><sheet name="Sheet1" sheetId="1"/></sheets></workbook>')
        z.writestr(entry("xl/sharedStrings.xml"), f'<sst count="{len(shared)}">{sst}</sst>')
        z.writestr(entry("xl/worksheets/sheet1.xml"), f'<worksheet><sheetData>{"".join(sheet_rows)}</sheetData></worksheet>')
    return buf.getvalue()


def docx(paragraphs):
    esc = lambda s: s.replace("&", "&amp;").replace("<", "&lt;")
    body = "".join(f"<w:p><w:r><w:t>{esc(p)}</w:t></w:r></w:p>" for p in paragraphs)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(entry("[Content_Types].xml"), '<?xml version="1.0"?><Types/>')
        z.writestr(entry("word/document.xml"), f'<w:document xmlns:w="w"><w:body>{body}</w:body></w:document>')
    return buf.getvalue()


def entry(name):
    """A zip entry with a fixed time, so the same seed gives the same bytes."""
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


# Letters Helvetica's Latin-1 encoding lacks, as a producer without an
# embedded font would write them.
PDF_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ı": "i", "İ": "I", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D",
                          "ş": "s", "Ş": "S", "ğ": "g", "Ğ": "G", "ə": "e", "Ə": "E", "ő": "o", "ű": "u",
                          "č": "c", "Č": "C", "š": "s", "Š": "S", "ž": "z", "Ž": "Z", "ř": "r", "ě": "e",
                          "ć": "c", "ń": "n", "ś": "s", "ź": "z", "ż": "z", "ą": "a", "ę": "e", "ů": "u",
                          "ň": "n", "ť": "t", "ď": "d", "ľ": "l", "ĺ": "l", "ŕ": "r", "ā": "a", "ī": "i",
                          "ū": "u", "ē": "e", "ļ": "l", "ķ": "k", "ņ": "n", "ģ": "g", "õ": "o"})


def pdf(lines):
    """A minimal one-page PDF with a text layer (Helvetica)."""
    def esc(s):
        s = s.translate(PDF_FOLD)
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    content = "BT /F1 11 Tf 50 760 Td 14 TL " + " ".join(f"({esc(l)}) Tj T*" for l in lines) + " ET"
    objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = "%PDF-1.4\n"
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{o}\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n"
    for off in offsets:
        out += f"{off:010d} 00000 n \n"
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    return out.encode("latin-1", errors="replace")


def image_pdf():
    """A PDF whose page is only an image (a scan): no text layer."""
    img = "q 100 0 0 100 50 600 cm /Im1 Do Q"
    data = bytes([128]) * 64
    objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>",
        f"<< /Length {len(img)} >>\nstream\n{img}\nendstream",
        f"<< /Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray /BitsPerComponent 8 /Length {len(data)} >>\nstream\n" + data.decode("latin-1") + "\nendstream",
    ]
    out = "%PDF-1.4\n"
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{o}\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n" + "".join(f"{o:010d} 00000 n \n" for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    return out.encode("latin-1", errors="replace")


# ---------------------------------------------------------------- context

class Ctx:
    def __init__(self, rng, names, variant_parity):
        self.rng = rng
        self.names = names
        self.parity = variant_parity

    def pick(self, options):
        """A phrasing of this half: even indices for tune, odd for blind."""
        mine = [o for i, o in enumerate(options) if i % 2 == self.parity] or options
        return self.rng.choice(mine)

    def staff(self):
        return self.names.staff()

    def sig(self):
        r = self.rng
        role = r.choice(["Front Desk", "Billing Office", "Practice Manager", "Referral Coordinator",
                         "Medical Assistant", "Office Administrator", "Scheduling"])
        practice = r.choice(["Lakeview Family Medicine", "Cedar Creek Pediatrics", "Northside Internal Medicine",
                             "Harbor Dermatology", "Riverbend Orthopedics", "Summit Women's Health"])
        phone = f"({r.randrange(200, 999)}) {r.randrange(200, 999)}-{r.randrange(1000, 9999)}"
        return f"\n\n{self.staff()}\n{role}\n{practice}\nPhone {phone}\n"


# ---------------------------------------------------------------- PHI templates
# Each returns (subject, parts, categories, formats).

def p_name_dob(c):
    p = c.names.person()
    n = name_form(p, c.rng)
    d = date_form(birth(c.rng), c.rng)
    body = c.pick([
        f"Hello,\n\nCould you confirm the insurance on file for {n}, DOB {d}? The claim came back.",
        f"Hi team,\n\nPatient {n} (date of birth: {d}) called about her lab results. Please call back.",
        f"Please update the chart: {n} — birthdate {d}. Spelling of the last name was wrong.",
        f"Re the referral we discussed: {n}, born {d}, needs an appointment with cardiology.",
        f"Pt: {n}\nD.O.B.: {d}\nReason: follow-up on blood pressure readings",
        f"Good morning. Our mutual patient {n} (DOB {d}) will transfer care to your office next month.",
    ])
    return "Question about a patient", [text(body + c.sig())], ["name_date"], []


def p_name_dos(c):
    p = c.names.person()
    n = name_form(p, c.rng)
    d = date_form(service(c.rng), c.rng)
    body = c.pick([
        f"{n} was seen in clinic on {d} for knee pain. Please send the x-ray report.",
        f"Date of service: {d}\nPatient: {n}\nThe payer denied the claim; resubmitting with modifier 25.",
        f"We admitted {n} on {d}; discharge summary to follow.",
        f"Can you pull the visit note from {d} for {n}? The attorney's office asked for records.",
        f"{n} had a procedure on {d} and needs a post-op visit in two weeks.",
        f"Encounter {d} for {n} is missing a signature from the provider.",
    ])
    return c.pick(["Visit note request", "claim follow-up", "Records", "post-op"]), [text(body + c.sig())], ["name_date"], []


def p_ssn(c):
    s = ssn_form(c.rng)
    p = c.names.person()
    body = c.pick([
        f"The guarantor's SSN on the account is {s}; the statement was returned.",
        f"Per our call, social security number {s} needs to be corrected on the eligibility check.",
        f"Insured ID / SSN: {s}\nPlease rerun eligibility.",
        f"Hi, the member's soc sec # is {s} and the plan cannot find her.",
        f"SS#: {s} — {p['first']} asked us to fix it before the next claim.",
        f"Taxpayer ID for the patient refund check: {s}.",
    ])
    return "Account correction", [text(body + c.sig())], ["ssn"], []


def p_icd(c):
    codes = [icd(c.rng) for _ in range(c.rng.randrange(1, 4))]
    initials = f"{chr(c.rng.randrange(65, 91))}.{chr(c.rng.randrange(65, 91))}."
    joined = ", ".join(codes)
    body = c.pick([
        f"Referral for {initials} to endocrinology. Diagnosis codes: {joined}.",
        f"Assessment: {joined}\nPlan: recheck in 3 months.",
        f"The claim for {initials} is missing the dx. It should be {joined}.",
        f"Problem list updated with {joined} per Dr. Lee's note.",
        f"ICD-10: {joined}. Prior auth needed for the MRI.",
        f"Pt presents with symptoms consistent with {joined}; please expedite.",
    ])
    return "Referral", [text(body + c.sig())], ["icd10cm"], []


def p_mrn(c):
    m = mrn(c.rng)
    p = c.names.person()
    label = c.pick(["MRN", "Med Rec #", "Medical record no.", "Chart #", "Patient ID", "MR#",
                    "Acct #", "Patient account number", "EMR ID", "Chart number"])
    body = c.pick([
        f"Please merge duplicate charts. {label}: {m}.",
        f"{label} {m} has the wrong insurance attached.",
        f"Can you scan the consent into {label.lower()} {m}?",
        f"Records request for {label} {m} — the patient signed the release.",
    ])
    return "Chart", [text(body + c.sig())], ["mrn"], []


def p_mbi(c):
    m = mbi(c.rng)
    f = c.rng.choice(["plain", "dash", "lower"])
    m = {"plain": m, "dash": f"{m[:4]}-{m[4:7]}-{m[7:]}", "lower": m.lower()}[f]
    body = c.pick([
        f"The new Medicare card shows MBI {m}; please update registration.",
        f"Medicare number: {m}. The old HICN is no longer accepted.",
        f"Beneficiary identifier {m} came back inactive on the Medicare eligibility check.",
        f"Her Medicare Beneficiary Identifier is {m}.",
    ])
    return "Medicare", [text(body + c.sig())], ["mbi"], []


def hl7(c, p, dob, ssn_v, mrn_v, code):
    enc = c.rng.choice(["^~\\&", "^~\\&", "#~\\&"])
    comp = enc[0]
    msh = f"MSH|{enc}|EPIC|LAKEVIEW|LAB|QUEST|202603031015||ADT{comp}A04|MSG{c.rng.randrange(10**6)}|P|2.5.1"
    pid = (f"PID|1||{mrn_v}{comp}{comp}{comp}LAKEVIEW{comp}MR||{p['last'].upper()}{comp}{p['first'].upper()}{comp}{p['middle'].strip('.')}||"
           f"{dob.strftime('%Y%m%d')}|F|||12 MAIN ST{comp}{comp}SPRINGFIELD{comp}IL{comp}62701||||||||{ssn_v}")
    pv1 = f"PV1|1|O|CLINIC{comp}101{comp}A||||1234567893{comp}LEE{comp}ANNA"
    dg1 = f"DG1|1||{code}{comp}DIABETES{comp}I10||20260303|F"
    return "\r".join([msh, "EVN|A04|202603031015", pid, pv1, dg1]) + "\r"


def p_hl7(c):
    p = c.names.person()
    dob = birth(c.rng)
    a, g, s = ssn(c.rng)
    msg = hl7(c, p, dob, f"{a}-{g}-{s}", mrn(c.rng), icd(c.rng, ["plain"]))
    mode = c.pick(["attach_hl7", "pasted", "attach_txt", "attach_mime"])
    if mode == "pasted":
        return "ADT feed error", [text("The interface rejected this message, can you look?\n\n" + msg.replace("\r", "\n") + c.sig())], ["name_date", "ssn", "mrn", "icd10cm", "npi"], ["hl7"]
    ctype, fname = {"attach_hl7": ("application/octet-stream", "adt_a04.hl7"), "attach_txt": ("text/plain", "interface_error.txt"),
                    "attach_mime": ("application/hl7-v2", "message.dat")}[mode]
    return "HL7 message attached", [text("See the attached message from the lab interface." + c.sig()), (ctype, msg.encode(), fname, "base64")], ["name_date", "ssn", "mrn", "icd10cm", "npi"], ["hl7"]


def p_fhir(c):
    p = c.names.person()
    dob = birth(c.rng)
    a, g, s = ssn(c.rng)
    code = icd(c.rng)
    patient = {"resourceType": "Patient", "id": f"pt-{c.rng.randrange(10**5)}",
               "identifier": [{"system": "http://hl7.org/fhir/sid/us-ssn", "value": f"{a}-{g}-{s}"},
                              {"type": {"coding": [{"code": "MR"}]}, "system": "urn:oid:1.2.36.146.595.217.0.1", "value": mrn(c.rng)}],
               "name": [{"use": "official", "family": p["last"], "given": [p["first"]]}],
               "gender": "female", "birthDate": dob.isoformat()}
    cond = {"resourceType": "Condition", "subject": {"reference": f"Patient/{patient['id']}"},
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code, "display": "condition"}]}}
    mode = c.pick(["json_bundle", "xml_patient", "json_patient", "json_pasted"])
    if mode == "xml_patient":
        xml = (f'<Patient xmlns="http://hl7.org/fhir"><identifier><system value="http://hl7.org/fhir/sid/us-ssn"/>'
               f'<value value="{a}-{g}-{s}"/></identifier><name><family value="{p["last"]}"/><given value="{p["first"]}"/></name>'
               f'<birthDate value="{dob.isoformat()}"/></Patient>')
        return "FHIR export", [text("Export from the portal attached." + c.sig()), ("application/fhir+xml", xml.encode(), "patient.xml", "base64")], ["name_date", "ssn"], ["fhir_xml"]
    if mode == "json_patient":
        return "FHIR patient", [text("Attached the patient resource." + c.sig()), ("application/fhir+json", json.dumps(patient, indent=1).encode(), "patient.json", "base64")], ["name_date", "ssn", "mrn"], ["fhir_json"]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": patient}, {"resource": cond}]}
    if mode == "json_pasted":
        return "API response", [text("The API returned this:\n\n" + json.dumps(bundle) + c.sig())], ["name_date", "ssn", "mrn", "icd10cm"], ["fhir_json"]
    return "Bundle", [text("Bundle from the HIE attached." + c.sig()), ("application/json", json.dumps(bundle, indent=2).encode(), "bundle.json", "base64")], ["name_date", "ssn", "mrn", "icd10cm"], ["fhir_json"]


def p_ccda(c):
    p = c.names.person()
    dob = birth(c.rng)
    code = icd(c.rng, ["plain", "dot"])
    xml = f"""<?xml version="1.0"?>
<ClinicalDocument xmlns="urn:hl7-org:v3">
 <title>Continuity of Care Document</title>
 <recordTarget><patientRole>
  <id extension="{mrn(c.rng)}" root="2.16.840.1.113883.19.5"/>
  <patient><name><given>{p['first']}</given><family>{p['last']}</family></name>
   <administrativeGenderCode code="F"/><birthTime value="{dob.strftime('%Y%m%d')}"/></patient>
 </patientRole></recordTarget>
 <component><structuredBody><component><section><title>Problems</title>
  <entry><observation><value code="{code}" codeSystem="2.16.840.1.113883.6.90" codeSystemName="ICD-10-CM"/></observation></entry>
 </section></component></structuredBody></component>
</ClinicalDocument>"""
    return c.pick(["CCD", "Transition of care", "Summary of care"]), [text("Summary of care document for the transfer." + c.sig()), ("application/xml", xml.encode(), "ccd.xml", "base64")], ["name_date", "icd10cm", "mrn"], ["ccda"]


def p_x12(c):
    p = c.names.person()
    dob = birth(c.rng)
    a, g, s = ssn(c.rng)
    code = icd(c.rng, ["plain"])
    kind = c.pick(["837", "270", "837b", "271"])
    seg = [f"ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *260303*1015*^*00501*000000001*0*P*:",
           f"GS*HC*SUB*REC*20260303*1015*1*X*005010X222A1", f"ST*{kind[:3]}*0001*005010X222A1",
           f"NM1*85*2*LAKEVIEW FAMILY MEDICINE*****XX*{npi(c.rng)}",
           f"NM1*IL*1*{p['last'].upper()}*{p['first'].upper()}****MI*{mrn(c.rng)}",
           f"REF*SY*{a}{g}{s}", f"DMG*D8*{dob.strftime('%Y%m%d')}*F"]
    cats = ["name_date", "ssn", "npi"]
    if kind.startswith("837"):
        seg.append(f"HI*ABK:{code}")
        cats.append("icd10cm")
    seg += ["SE*9*0001", "GE*1*1", "IEA*1*000000001"]
    body = "~\n".join(seg) + "~\n"
    return "EDI file", [text("The clearinghouse rejected this file." + c.sig()), ("application/edi-x12", body.encode(), f"claim_{kind}.edi", "base64")], cats, ["x12"]


def p_ics(c):
    p = c.names.person()
    d = service(c.rng)
    n = name_form(p, c.rng, ["full", "last_first"])
    summary = c.pick([f"{n} - new patient visit", f"Follow-up: {n}", f"{n} / annual physical", f"Pt {n} post-op check"])
    ics = (f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Practice//Scheduler//EN\r\nBEGIN:VEVENT\r\nUID:{c.rng.randrange(10**9)}@practice.example\r\n"
           f"DTSTART:{d.strftime('%Y%m%d')}T093000\r\nDTEND:{d.strftime('%Y%m%d')}T100000\r\nSUMMARY:{summary}\r\n"
           f"DESCRIPTION:Exam room 3\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    return "Appointment", [text("Calendar entry attached." + c.sig()), ("text/calendar; method=PUBLISH", ics.encode(), "invite.ics", "base64")], ["name_date"], ["ical"]


def p_vcard(c):
    p = c.names.person()
    dob = birth(c.rng)
    v = (f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{p['first']} {p['last']}\r\nN:{p['last']};{p['first']};;;\r\n"
         f"BDAY:{dob.isoformat()}\r\nNOTE:patient of Dr. Lee\r\nEND:VCARD\r\n")
    return "Contact card", [text("Contact card for the new patient." + c.sig()), ("text/vcard", v.encode(), "contact.vcf", "base64")], ["name_date"], ["vcard"]


TABLE_HEADERS = [
    (["Patient Name", "DOB", "Insurance"], ["name_date"]),
    (["pt_name", "birth_date", "ssn"], ["name_date", "ssn"]),
    (["Member", "Member #", "Date of Service", "Dx Code"], ["name_date", "icd10cm"]),
    (["Last Name", "First Name", "Birthdate", "MRN"], ["name_date", "mrn"]),
    (["Insured", "Subscriber SSN", "Plan"], ["ssn"]),
    (["Name", "Visit Date", "Diagnosis"], ["name_date", "icd10cm"]),
]


def p_table(c):
    headers, cats = c.pick(TABLE_HEADERS)
    rows = [headers]
    for _ in range(c.rng.randrange(2, 6)):
        p = c.names.person()
        row = []
        for h in headers:
            hl = h.lower()
            if hl in ("last name",):
                row.append(p["last"])
            elif hl in ("first name",):
                row.append(p["first"])
            elif "name" in hl or hl in ("member", "insured"):
                row.append(f"{p['first']} {p['last']}")
            elif "birth" in hl or hl == "dob":
                row.append(date_form(birth(c.rng), c.rng, ["us", "iso", "us2"]))
            elif "date" in hl:
                row.append(date_form(service(c.rng), c.rng, ["us", "iso"]))
            elif "ssn" in hl:
                row.append(ssn_form(c.rng, ["dash", "plain"]))
            elif "dx" in hl or "diag" in hl:
                row.append(icd(c.rng))
            elif "mrn" in hl:
                row.append(mrn(c.rng))
            elif "#" in hl:
                row.append(str(c.rng.randrange(10**8, 10**9)))
            else:
                row.append(c.rng.choice(["Aetna", "BCBS", "Medicaid", "Self pay", "UHC"]))
        rows.append(row)
    mode = c.pick(["csv", "xlsx", "tsv", "html"])
    if mode == "csv":
        data = "\n".join(",".join(f'"{v}"' if "," in v else v for v in r) for r in rows) + "\n"
        return "Export", [text("Export attached." + c.sig()), ("text/csv", data.encode(), "export.csv", "base64")], cats, ["csv"]
    if mode == "tsv":
        data = "\n".join("\t".join(r) for r in rows) + "\n"
        return "List", [text("Tab separated list attached." + c.sig()), ("text/tab-separated-values", data.encode(), "list.tsv", "base64")], cats, ["tsv"]
    if mode == "xlsx":
        return "Spreadsheet", [text("Spreadsheet attached." + c.sig()), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xlsx(rows), "report.xlsx", "base64")], cats, ["xlsx"]
    html = "<html><body><p>Today's list:</p><table>" + "".join(
        "<tr>" + "".join((f"<th>{v}</th>" if i == 0 else f"<td>{v}</td>") for v in r) + "</tr>" for i, r in enumerate(rows)) + "</table></body></html>"
    return "Today's list", [("text/html; charset=utf-8", html, None, "qp")], cats, ["html"]


def p_filename(c):
    p = c.names.person()
    dob = birth(c.rng)
    d = date_form(dob, c.rng, ["us_dash", "us", "iso"])
    fname = c.pick([f"{p['last']}, {p['first']} (DOB {d}) referral.txt", f"{p['last']}_{p['first']}_DOB_{d.replace('/', '-')}.pdf",
                    f"Labs {p['first']} {p['last']} dob {d}.docx", f"{p['first']} {p['last']} - born {d}.txt"])
    content = b"" if c.rng.random() < 0.5 else b"\x00\x01binary"
    return "documents", [text("See attachment." + c.sig()), ("application/octet-stream", content, fname, "base64")], ["name_date"], ["filename"]


def p_subject(c):
    p = c.names.person()
    subject = c.pick([f"{p['first']} {p['last']} DOB {date_form(birth(c.rng), c.rng, ['us', 'iso'])}",
                      f"SSN {ssn_form(c.rng, ['dash'])} correction",
                      f"Re: {p['last']}, {p['first']} seen {date_form(service(c.rng), c.rng, ['us'])}",
                      f"Medicare # {mbi(c.rng)} update"])
    cats = ["ssn"] if "SSN" in subject else ["mbi"] if "Medicare" in subject else ["name_date"]
    return subject, [text("Please see subject." + c.sig())], cats, ["subject"]


def p_pdf(c):
    p = c.names.person()
    dob = birth(c.rng)
    lines = [c.pick(["Lab Report", "Referral Letter", "Visit Summary", "Consultation Note"]),
             f"Patient: {p['first']} {p['last']}", f"DOB: {dob.strftime('%m/%d/%Y')}",
             f"Diagnosis: {icd(c.rng)}", "Thank you for this referral."]
    return "Report", [text("Report attached as PDF." + c.sig()), ("application/pdf", pdf(lines), "report.pdf", "base64")], ["name_date", "icd10cm"], ["pdf"]


def p_docx(c):
    p = c.names.person()
    paras = ["Referral", f"{p['first']} {p['last']}", f"Date of birth: {date_form(birth(c.rng), c.rng)}", f"Reason: {icd(c.rng)}"]
    return "Referral letter", [text("Letter attached." + c.sig()), ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", docx(paras), "referral.docx", "base64")], ["name_date", "icd10cm"], ["docx"]


def p_forward(c):
    p = c.names.person()
    inner = f"From: portal@records.example\r\nSubject: results\r\n\r\nResults for {p['first']} {p['last']}, date of birth {date_form(birth(c.rng), c.rng)}.\r\n"
    return "Fwd: results", [text("Forwarding as discussed." + c.sig()), ("message/rfc822", inner, None, "8bit")], ["name_date"], ["forward"]


PHI = [p_name_dob, p_name_dob, p_name_dos, p_name_dos, p_ssn, p_ssn, p_icd, p_mrn, p_mbi, p_hl7, p_fhir, p_ccda,
       p_x12, p_ics, p_vcard, p_table, p_table, p_filename, p_subject, p_pdf, p_docx, p_forward]

# ---------------------------------------------------------------- hard negatives


def n_reply(c):
    who = c.staff()
    d = date_form(service(c.rng), c.rng, ["weekday", "long"])
    body = c.pick([
        f"Sounds good, thanks!\n\nOn {d} at 9:14 AM {who} <{who.split()[0].lower()}@vendor.example> wrote:\n> Can we move the copier service to next week?\n",
        f"Works for me.\n\n-----Original Message-----\nFrom: {who}\nSent: {d} 10:02 AM\nTo: Front Desk\nSubject: lunch order\n\nPizza or sandwiches?\n",
        f"Agreed.\n\n{who} wrote on {d}:\n> The quarterly numbers are in the shared folder.\n",
        f"Thanks {who.split()[0]}.\n\nOn {d}, {who} wrote:\n>> New toner arrived.\n",
    ])
    return "Re: quick question", [text(body + c.sig())], "reply"


def n_forwarded(c):
    who, to = c.staff(), c.staff()
    d = date_form(service(c.rng), c.rng, ["weekday", "long", "us"])
    body = c.pick([
        f"FYI below.\n\n---------- Forwarded message ---------\nFrom: {who} <office@supplies.example>\nDate: {d}\nSubject: Order confirmation\nTo: {to}\n\nYour order has shipped.\n",
        f"See below.\n\nBegin forwarded message:\n\nFrom: {who}\nDate: {d}\nTo: {to}\nSubject: Parking\n\nThe lot will be repaved this weekend.\n",
    ])
    return "Fwd: order", [text(body + c.sig())], "forwarded"


def n_birthday(c):
    who = c.staff()
    d = date_form(service(c.rng), c.rng, ["long", "weekday"])
    body = c.pick([
        f"Happy birthday to {who}! Cake in the break room on {d} at 3pm.",
        f"Please join us on {d} to celebrate {who}'s 10th work anniversary.",
        f"Reminder: {who}'s retirement party is {d}. Sign the card at the front desk.",
        f"{who} celebrates a birthday on {d}, say hi!",
    ])
    return "Celebration", [text(body + c.sig())], "staff_birthday"


def n_invite(c):
    who = c.staff()
    d = service(c.rng)
    mode = c.pick(["ics", "text", "ics", "text"])
    if mode == "ics":
        ics = (f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:{c.rng.randrange(10**9)}@practice.example\r\n"
               f"DTSTART:{d.strftime('%Y%m%d')}T120000\r\nSUMMARY:{c.pick(['Staff meeting', 'Vendor demo with ' + who, 'Budget review', 'Lunch and learn: ' + who])}\r\n"
               f"ORGANIZER;CN={who}:mailto:office@practice.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
        return "Invitation", [text(f"{who} has invited you." + c.sig()), ("text/calendar", ics.encode(), "invite.ics", "base64")], "invitation"
    body = c.pick([
        f"{who} has invited you to: Quarterly compliance training on {date_form(d, c.rng)} 2:00 PM - 3:00 PM (EST).",
        f"Webinar: Coding updates for 2026, presented by {who}, {date_form(d, c.rng)}. Register by Friday.",
    ])
    return "Invitation", [text(body + c.sig())], "invitation"


def n_order(c):
    num = c.pick([f"{c.rng.randrange(100, 999)}-{c.rng.randrange(10, 99)}-{c.rng.randrange(1000, 9999)}",
                  str(c.rng.randrange(10**8, 10**9)), f"1Z{c.rng.randrange(10**15):015d}"])
    body = c.pick([
        f"Order #{num} has shipped and will arrive {date_form(service(c.rng), c.rng)}.",
        f"Invoice {num} is due {date_form(service(c.rng), c.rng)}. Amount: $412.50.",
        f"Tracking number: {num}\nCarrier: UPS",
        f"PO {num} approved by {c.staff()}.",
    ])
    return "Your order", [text(body + c.sig())], "order"


def n_newsletter(c):
    a, b = c.staff(), c.staff()
    body = c.pick([
        f"Practice News - {date_form(service(c.rng), c.rng, ['long'])}\n\nWelcome to our new nurse practitioner, {a}! {b} will lead the flu clinic.",
        f"This month: {a} earned her coding certification on {date_form(service(c.rng), c.rng)}. Congratulations!",
        f"Newsletter\n\nDr. {a.split()[-1]} will speak at the county health fair on {date_form(service(c.rng), c.rng)}.",
        f"Staff spotlight: {a}, front desk since {date_form(service(c.rng) - timedelta(days=2000), c.rng)}.",
    ])
    return "Newsletter", [("text/html; charset=utf-8", "<html><body><p>" + body.replace("\n", "<br>") + "</p></body></html>", None, "qp")], "newsletter"


def n_finance(c):
    ein = f"{c.rng.randrange(10, 99)}-{c.rng.randrange(1000000, 9999999)}"
    body = c.pick([
        f"Our EIN is {ein}. Please update the W-9 for the vendor file.",
        f"Payroll for period ending {date_form(service(c.rng), c.rng)} is approved. Employee ID 40{c.rng.randrange(1000, 9999)} had overtime.",
        f"Routing number 0{c.rng.randrange(10**7, 10**8)} and account ending 4412 for the ACH payment.",
        f"Budget variance: supplies +$1,204; lab fees -$310. Approved by {c.staff()}.",
    ])
    return "Finance", [text(body + c.sig())], "finance"


def n_hr(c):
    who = c.staff()
    body = c.pick([
        f"{who} starts on {date_form(service(c.rng), c.rng)} as medical assistant. Badge number 4471.",
        f"PTO request: {who}, {date_form(service(c.rng), c.rng)} to {date_form(service(c.rng), c.rng)}.",
        f"Open enrollment closes {date_form(service(c.rng), c.rng)}. Questions to {who}.",
        f"{who}'s last day will be {date_form(service(c.rng), c.rng)}.",
    ])
    return "HR", [text(body + c.sig())], "hr"


def n_schedule(c):
    who = c.staff()
    body = c.pick([
        f"Dr. {who.split()[-1]} is out on {date_form(service(c.rng), c.rng)}; please move her appointments to Thursday.",
        f"The office closes early on {date_form(service(c.rng), c.rng)} for the holiday.",
        f"Coverage: {who} covers the front desk on {date_form(service(c.rng), c.rng)}.",
        f"Reminder: the fire drill is {date_form(service(c.rng), c.rng)} at 10am.",
    ])
    return "Schedule", [text(body + c.sig())], "schedule"


def n_it(c):
    body = c.pick([
        f"Ticket #{c.rng.randrange(10**5, 10**6)}: printer in exam 2 shows error E11.9 again. Model HP M404, serial CNB{c.rng.randrange(10**6, 10**7)}.",
        f"Server patch window {date_form(service(c.rng), c.rng)} 22:00. Build 4.12.0918, part no. R07.9.",
        f"Your password expires on {date_form(service(c.rng), c.rng)}. Version 10.0.19045.",
        f"VPN client v2.3.4 installed on 12 workstations; license key 123-45-67890-ABC.",
    ])
    return "IT", [text(body + c.sig())], "it"


def n_vendor(c):
    who = c.staff()
    body = c.pick([
        f"Hi, this is {who} from MedSupply. Your rep visit is {date_form(service(c.rng), c.rng)}. Quote #{c.rng.randrange(10**4, 10**5)} attached.",
        f"Thanks for meeting with {who} on {date_form(service(c.rng), c.rng)}. Pricing valid 30 days.",
    ])
    return "Vendor", [text(body + c.sig())], "vendor"


def n_table(c):
    rows = [["Name", "Department", "Start date"]] + [[c.staff(), c.rng.choice(["Billing", "Front desk", "Nursing"]),
                                                      date_form(service(c.rng), c.rng, ["us", "iso"])] for _ in range(4)]
    mode = c.pick(["csv", "xlsx"])
    if mode == "csv":
        return "Staff list", [text("Staff list attached." + c.sig()), ("text/csv", ("\n".join(",".join(r) for r in rows) + "\n").encode(), "staff.csv", "base64")], "staff_table"
    return "Staff list", [text("Staff list attached." + c.sig()), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xlsx(rows), "staff.xlsx", "base64")], "staff_table"


def n_pdf(c):
    lines = ["Invoice", f"Bill to: {c.staff()}", f"Date: {date_form(service(c.rng), c.rng)}", "Exam table paper x 12: $86.00"]
    return "Invoice PDF", [text("Invoice attached." + c.sig()), ("application/pdf", pdf(lines), "invoice.pdf", "base64")], "pdf_invoice"


NEG = [n_reply, n_reply, n_forwarded, n_birthday, n_invite, n_order, n_newsletter, n_finance, n_hr, n_schedule,
       n_it, n_vendor, n_table, n_pdf]

# ---------------------------------------------------------------- main


def main():
    import sys
    halves = {
        "tune": (0, ["en_US", "es_CO", "en_IN", "de_AT", "nl_NL", "id_ID"], ARABIC_A + SOUTH_ASIAN_A, 4242),
        "blind": (1, ["es_MX", "pt_PT", "tw_GH", "zu_ZA", "fr_FR", "pl_PL", "it_IT", "tr_TR", "ga_IE"],
                  ARABIC_B + VIET_B + NIGERIAN_B, 9090),
        # Written after the blind half was spent (its failures read): odd
        # phrasings, names from a source the product has never vendored.
        "outside": (1, OUTSIDE_MIMESIS, OUTSIDE_EXTRA, 31337),
    }
    wanted = sys.argv[1:] or list(halves)
    for half in wanted:
        parity, locales, extra, seed = halves[half]
        rng = random.Random(seed)
        names = (MimesisNames if half == "outside" else Names)(locales, extra, rng)
        c = Ctx(rng, names, parity)
        d = os.path.join(OUT, half)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        labels = []
        for i in range(PER_HALF):
            frm = f"{names.staff()} <desk@practice.example>"
            to = f"{names.staff()} <team@partner.example>"
            # 42% hard negatives, the rest PHI; every template used in turn.
            if i % 100 < 42:
                t = NEG[i % len(NEG)]
                subject, parts, kind = t(c)
                phi, cats, formats = False, [], []
                kind = "n_" + kind
            else:
                t = PHI[i % len(PHI)]
                subject, parts, cats, formats = t(c)
                phi, kind = True, t.__name__
            name = f"{half}-{i:04d}.eml"
            with open(os.path.join(d, name), "w", newline="") as f:
                f.write(eml(frm, to, subject, parts, rng))
            labels.append({"file": name, "phi": phi, "categories": sorted(set(cats)), "kind": kind, "formats": formats})
        with open(os.path.join(d, "labels.jsonl"), "w") as f:
            for l in labels:
                f.write(json.dumps(l) + "\n")
        print(half, len(labels), sum(1 for l in labels if not l["phi"]), "negatives")


if __name__ == "__main__":
    main()
