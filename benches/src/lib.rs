//! Shared inputs for phigate's benchmarks.
#![allow(missing_docs)]

use std::path::PathBuf;

/// The labelled development corpus (tests/corpus/dev), raw .eml bytes.
pub fn corpus() -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/dev");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/corpus/dev")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// About `bytes` of ordinary business prose with numbers, dates, names and
/// codes but no PHI: the common case the detectors must get through fast.
pub fn clean_text(bytes: usize) -> String {
    let paragraphs = [
        "Thanks for the update on the Q3 vendor review. The meeting with Norma Austin moved to September 3, 2025 at 3 PM in room 204.\n",
        "Order 514012879 shipped on 2025-03-27; tracking 1Z1Y3BVV9WWW9C7FHJ. Invoice 051-00-3223 is due October 15, 2024, amount $3,697.00.\n",
        "Please quote part no. A31B qty 8 and part R07.9 qty 45. Call 612-448-5601 or fax 281-342-3155 with questions.\n",
        "The flu shot clinic runs June 11 from 9 to 3; we expect about 120 people. Parking is in lot C behind the main building.\n",
        "Maintenance windows: 8 Apr 2024, September 22, 2024 and 4/20/25 from 10pm to 2am. VPN and file shares are affected.\n",
        "Log excerpt: 2025-11-13 15:33:00 host5 ERR code E664 pid 5966; 2025-11-13 15:33:01 host3 WARN disk 91% full.\n",
    ];
    let mut s = String::with_capacity(bytes + 256);
    let mut i = 0;
    while s.len() < bytes {
        s.push_str(paragraphs[i % paragraphs.len()]);
        i += 1;
    }
    s
}

/// A small deterministic generator (xorshift), so inputs are the same in
/// every run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

fn base64_lines(bytes: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut out = String::with_capacity(b64.len() + b64.len() / 38);
    for chunk in b64.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push_str("\r\n");
    }
    out
}

/// About 4 KiB: a short clean business note, the common small message.
pub fn note_4k(i: usize) -> Vec<u8> {
    format!(
        "From: Front Desk <frontdesk@clinic.example>\r\nTo: it@msp.example\r\nSubject: Weekly update {i}\r\n\
         Date: Tue, 03 Mar 2026 09:14:00 -0500\r\nMessage-ID: <note{i}@clinic.example>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{}",
        clean_text(3800).replace('\n', "\r\n")
    )
    .into_bytes()
}

/// (b) About 100 KiB: a short note and a base64 CSV attachment (clean
/// business rows: orders, amounts, dates), ordinary practice mail.
pub fn message_100k(i: usize) -> Vec<u8> {
    let mut rng = Rng::new(0x100_000 + i as u64);
    let mut csv = String::from("order,date,item,qty,amount,rep\n");
    while csv.len() < 74_000 {
        csv.push_str(&format!(
            "{},2025-{:02}-{:02},part R{:02}.{},{},{}.{:02},{}\n",
            5_000_000 + rng.below(4_000_000),
            1 + rng.below(12),
            1 + rng.below(28),
            rng.below(99),
            rng.below(9),
            1 + rng.below(40),
            rng.below(900),
            rng.below(100),
            ["Norma Austin", "Allen Lee", "Maria Cobb", "Ken Ito"][rng.below(4) as usize]
        ));
    }
    format!(
        "From: Billing <billing@clinic.example>\r\nTo: vendor@supplies.example\r\nSubject: Order export {i}\r\n\
         Date: Tue, 03 Mar 2026 09:14:00 -0500\r\nMessage-ID: <bench{i}@clinic.example>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         {}\r\n--b\r\nContent-Type: text/csv; name=export.csv\r\nContent-Disposition: attachment; filename=export.csv\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}--b--\r\n",
        clean_text(1500),
        base64_lines(csv.as_bytes())
    )
    .into_bytes()
}

/// (c) About 1 MiB: an HTML newsletter (tables, links, staff names and
/// dates) with inline images (multipart/related, cid: references).
pub fn newsletter_1m(i: usize) -> Vec<u8> {
    let mut rng = Rng::new(0xC0FFEE + i as u64);
    let mut html = String::from("<html><head><style>td{padding:4px}</style></head><body>");
    while html.len() < 220_000 {
        html.push_str(&format!(
            "<h2>Practice news</h2><p>Welcome to <b>Norma Austin</b>, who joined on September {}, 2025. \
             The <a href=\"https://clinic.example/flu\">flu clinic</a> runs June 11 from 9 to 3.</p>\
             <table><tr><th>Event</th><th>Date</th></tr><tr><td>Staff meeting</td><td>2025-10-{:02}</td></tr>\
             <tr><td>Vendor demo</td><td>Oct {}, 2025</td></tr></table><img src=\"cid:img{}\" width=600 height=200>",
            1 + rng.below(28),
            1 + rng.below(28),
            1 + rng.below(28),
            rng.below(4)
        ));
    }
    html.push_str("</body></html>");
    let mut m = format!(
        "From: News <news@clinic.example>\r\nTo: staff@clinic.example\r\nSubject: Newsletter {i}\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/related; boundary=r\r\n\r\n--r\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\r\n{}\r\n",
        quoted_printable(&html)
    );
    for k in 0..4 {
        // A PNG header for a 600x200 banner, then incompressible data.
        let mut png =
            b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\x02\x58\0\0\0\xc8\x08\x02\0\0\0".to_vec();
        png.extend(rng.bytes(150_000));
        m.push_str(&format!(
            "--r\r\nContent-Type: image/png\r\nContent-ID: <img{k}>\r\nContent-Transfer-Encoding: base64\r\n\r\n{}",
            base64_lines(&png)
        ));
    }
    m.push_str("--r--\r\n");
    m.into_bytes()
}

fn quoted_printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 70 * 3);
    let mut col = 0;
    for b in s.bytes() {
        let enc = if b == b'=' || b >= 0x80 {
            format!("={b:02X}")
        } else {
            (b as char).to_string()
        };
        if col + enc.len() > 75 {
            out.push_str("=\r\n");
            col = 0;
        }
        col += enc.len();
        out.push_str(&enc);
    }
    out
}

/// (d) About 10 MiB: a letter with a DOCX (text and an embedded photo) and
/// an XLSX (a large sheet) attached.
pub fn office_10m(i: usize) -> Vec<u8> {
    use std::io::Write as _;
    let mut rng = Rng::new(0xD0C5 + i as u64);
    let zip_of = |entries: Vec<(&str, Vec<u8>)>, stored: &[&str]| {
        let mut buf = std::io::Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut buf);
        for (name, data) in entries {
            let method = if stored.contains(&name) {
                zip::CompressionMethod::Stored
            } else {
                zip::CompressionMethod::Deflated
            };
            let opts = zip::write::SimpleFileOptions::default().compression_method(method);
            w.start_file(name, opts).unwrap();
            w.write_all(&data).unwrap();
        }
        w.finish().unwrap();
        buf.into_inner()
    };
    let mut doc = String::from("<w:document><w:body>");
    for p in clean_text(1_500_000).lines() {
        doc.push_str(&format!("<w:p><w:r><w:t>{p}</w:t></w:r></w:p>"));
    }
    doc.push_str("</w:body></w:document>");
    let mut photo = vec![0xFF, 0xD8, 0xFF, 0xE0];
    photo.extend(rng.bytes(2_500_000));
    let docx = zip_of(
        vec![
            ("[Content_Types].xml", b"<Types/>".to_vec()),
            ("word/document.xml", doc.into_bytes()),
            ("word/media/image1.jpeg", photo),
        ],
        &["word/media/image1.jpeg"],
    );
    let mut sheet = String::from("<worksheet><sheetData>");
    for r in 1..60_000u64 {
        sheet.push_str(&format!(
            "<row r=\"{r}\"><c r=\"A{r}\"><v>{}</v></c><c r=\"B{r}\"><v>{}.{:02}</v></c><c r=\"C{r}\" t=\"inlineStr\"><is><t>2025-{:02}-{:02}</t></is></c></row>",
            9_000_000 + rng.below(900_000),
            rng.below(5000),
            rng.below(100),
            1 + rng.below(12),
            1 + rng.below(28)
        ));
    }
    sheet.push_str("</sheetData></worksheet>");
    let mut filler = rng.bytes(1_200_000);
    filler[..4].copy_from_slice(b"\x89PNG");
    let xlsx = zip_of(
        vec![
            ("[Content_Types].xml", b"<Types/>".to_vec()),
            ("xl/worksheets/sheet1.xml", sheet.into_bytes()),
            ("xl/media/logo.png", filler),
        ],
        &["xl/media/logo.png"],
    );
    format!(
        "From: Office <office@clinic.example>\r\nTo: accountant@firm.example\r\nSubject: Year-end files {i}\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=d\r\n\r\n--d\r\nContent-Type: text/plain\r\n\r\n{}\r\n\
         --d\r\nContent-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document; name=letter.docx\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}--d\r\n\
         Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; name=ledger.xlsx\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}--d--\r\n",
        clean_text(2000),
        base64_lines(&docx),
        base64_lines(&xlsx)
    )
    .into_bytes()
}
