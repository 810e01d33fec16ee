//! Messages written for this suite, independent of the dev corpus: other
//! phrasings, date formats, name origins, encodings and evasions, and hard
//! negatives. They guard against tuning to the corpus templates.

use base64::Engine as _;
use phigate_detectors::{Engine, Settings};

fn plain(subject: &str, body: &str) -> Vec<u8> {
    format!("From: a@clinic.example\r\nTo: b@payer.example\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n").into_bytes()
}

fn html(subject: &str, body: &str) -> Vec<u8> {
    format!("Subject: {subject}\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>{body}</body></html>\r\n").into_bytes()
}

fn attachment(body: &str, name: &str, ctype: &str, content: &[u8]) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(content);
    format!(
        "Subject: files\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\n{body}\r\n--XX\r\nContent-Type: {ctype}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--XX--\r\n"
    )
    .into_bytes()
}

fn qp(subject: &str, body_qp: &str) -> Vec<u8> {
    format!("Subject: {subject}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{body_qp}\r\n").into_bytes()
}

struct Case {
    name: &'static str,
    raw: Vec<u8>,
    /// Expected category, or None for a clean message.
    want: Option<&'static str>,
}

fn cases() -> Vec<Case> {
    let c = |name, raw, want| Case { name, raw, want };
    vec![
        // SSN phrasings and tricks.
        c("s.s.n. label", plain("tax form", "S.S.N. 219-44-7720 for the W-9 of our patient."), Some("ssn")),
        c("ssn split over a line", plain("records", "Patient SSN: 219-44-\r\n7720"), Some("ssn")),
        c("spaced dashes", plain("update", "social security no. 219 - 44 - 7720"), Some("ssn")),
        c("arabic-indic digits", plain("member", "SSN ٢١٩-٤٤-٧٧٢٠"), Some("ssn")),
        c("word joiners", plain("member", "SSN 2\u{2060}1\u{2060}9-44-7720"), Some("ssn")),
        c("html comment split", html("info", "<p>SSN 219<!-- x -->-44-<b>7720</b></p>"), Some("ssn")),
        c("hex entities", html("info", "<p>Soc Sec: &#x32;19-44-7720</p>"), Some("ssn")),
        c("ssn in subject", plain("SSN 219-44-7720 correction", "see subject"), Some("ssn")),
        // ICD-10-CM phrasings.
        c("problem list", plain("summary", "Problem list: I10 essential hypertension, E78.5 hyperlipidemia"), Some("icd10cm")),
        c("diagnosed with", plain("note", "She was diagnosed with F32.9 last spring."), Some("icd10cm")),
        c("claim line", plain("claim", "Claim line 2: CPT 99213, ICD-10 M54.50"), Some("icd10cm")),
        c("xlsx? no: tsv dx column", attachment("list", "dx.tsv", "text/tab-separated-values", b"member\tdiag\nA. Jones\tJ45.909\n"), Some("icd10cm")),
        // Name + date phrasings, formats, name origins.
        c("all-caps reversed name, dd-MON-yyyy", plain("lab", "NAME: NGUYEN, THI LAN\nDOB: 07-JUL-1958"), Some("name_date")),
        c("compact clinical date", plain("lab", "Pt: Oluwaseun Adeyemi  DOB 12MAR1971"), Some("name_date")),
        c("born on", plain("family", "Baby boy Mateo Alvarez was born on 02/14/2025 at 3:10 am."), Some("name_date")),
        c("seen in clinic", plain("f/u", "Priya Raghunathan was seen in clinic on 2025-06-03 for follow up."), Some("name_date")),
        c("admitted", plain("census", "Admitted 11/02/2025: Mr. Wojciech Brzezinski, bed 4."), Some("name_date")),
        c("docx attachment", attachment("see doc", "referral.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", &docx("Referral for patient Ana Souza, date of birth 1 April 1980.")), Some("name_date")),
        c("subject only, rfc2047", b"Subject: =?utf-8?Q?Chart_for_Jos=C3=A9_Mart=C3=ADnez_DOB_3/9/1944?=\r\nContent-Type: text/plain\r\n\r\nthanks\r\n".to_vec(), Some("name_date")),
        c("qp soft break in name", qp("form", "Patient Margaret Thomp=\r\nson, DOB 5/5/1950"), Some("name_date")),
        // Other identifiers.
        c("mbi with spaces", plain("elig", "Medicare ID 1EG4 TE5 MK73 is active."), Some("mbi")),
        c("mrn variant", plain("merge", "Please merge Med Rec # 0045-77812 into the new chart."), Some("mrn")),
        c("member id", plain("auth", "Subscriber ID: ZGP889013347 needs prior auth."), Some("member_id")),
        // Uninspectable.
        c("pdf attachment", attachment("scan attached", "labs.pdf", "application/pdf", b"%PDF-1.4 binary"), Some("uninspectable")),
        // Hard negatives.
        c("staff birthday", plain("cake!", "Join us to celebrate Susan Miller's birthday on June 5, 2025 in the break room."), None),
        c("meeting with names", plain("Invitation: budget", "Karen Lopez invited you to Budget sync on Thursday, March 12, 2026 at 10:00 AM."), None),
        c("forward header block", plain("FW: supplies", "-----Original Message-----\nFrom: David Chen\nSent: Friday, January 9, 2026 4:12 PM\nTo: Laura Price\nSubject: gloves\n\nWe need more gloves."), None),
        c("sales csv", attachment("numbers", "q1.csv", "text/csv", b"rep,region,close_date,amount\nJames Carter,West,01/15/2026,12000\nLinda Park,East,02/03/2026,8000\n"), None),
        c("order numbers", plain("order", "Order #219447720 placed 2026-01-03, tracking 9400111899223817263544."), None),
        c("invalid ssn-like invoice", plain("invoice", "Invoice 900-12-3456 due 02/01/2026."), None),
        c("part list codes", plain("quote", "SKU E11.9 x 10, part J45.909 x 4, model I10 x 1"), None),
        c("it log", plain("alert", "2026-01-05 10:22:01 srv-db01 ERROR code F32 pid 4411 user jsmith"), None),
        c("phone and zip", plain("contact", "Call 415-555-0199, fax 415-555-0100, 1200 Main St, Springfield, IL 62704-1234"), None),
        c("provider directory", plain("new hire", "Welcome Dr. Rebecca Stone, our new cardiologist, starting March 2, 2026."), None),
        c("newsletter with visit", html("news", "<h1>Spring News - April 1, 2026</h1><p>Visit our new wing! Maria Gonzalez leads the tour.</p>"), None),
    ]
}

fn docx(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut w = zip::ZipWriter::new(&mut buf);
    w.start_file(
        "word/document.xml",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    write!(
        w,
        "<w:document><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"
    )
    .unwrap();
    w.finish().unwrap();
    buf.into_inner()
}

#[test]
fn generalisation_suite() {
    let engine = Engine::new(Settings::default()).unwrap();
    let mut failures = Vec::new();
    let all = cases();
    for case in &all {
        let r = engine.scan(&case.raw);
        let got: Vec<&str> = r.categories.iter().map(|c| c.as_str()).collect();
        let ok = match case.want {
            Some(cat) => got.contains(&cat),
            None => got.is_empty(),
        };
        if !ok {
            let why: Vec<String> = r
                .findings
                .iter()
                .map(|f| format!("{} {:.2} {} ({})", f.category, f.confidence, f.rule, f.why))
                .collect();
            failures.push(format!(
                "{}: want {:?}, got {:?}\n    {}",
                case.name,
                case.want,
                got,
                why.join("\n    ")
            ));
        }
    }
    println!(
        "generalisation: {} of {} as expected",
        all.len() - failures.len(),
        all.len()
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
