use super::*;

fn texts(raw: &str) -> Extracted {
    extract(raw.as_bytes(), &Limits::default())
}

fn joined(e: &Extracted) -> String {
    e.segments
        .iter()
        .map(|s| e.text_of(s))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn encoded_subject_and_display_names() {
    let e = texts(
        "From: \"Emily Moreno\" <e@x.example>\r\nTo: =?utf-8?Q?Jos=C3=A9_Garc=C3=ADa?= <j@y.example>\r\nSubject: =?utf-8?B?UmVjb3JkcyBmb3IgSm9obm5pZSBKYWNvYnkgRE9CIDgvMTEvOTI=?=\r\nMessage-ID: <1@x>\r\n\r\nbody\r\n",
    );
    let subject = e
        .segments
        .iter()
        .find(|s| s.source == Source::Header("Subject".into()))
        .unwrap();
    assert_eq!(e.text_of(subject), "Records for Johnnie Jacoby DOB 8/11/92");
    assert!(joined(&e).contains("José García"));
    // Message-ID leaves the gateway too: scanned, for identifiers only.
    let id = e
        .segments
        .iter()
        .find(|s| e.text_of(s).contains("<1@x>"))
        .expect("Message-ID is scanned");
    assert_eq!(id.profile, Profile::Identifiers);
}

#[test]
fn quoted_printable_soft_breaks_and_base64_are_undone() {
    let e = texts(
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ndate of birth Au=\r\ngust 12, 2003\r\n--b\r\nContent-Type: text/csv; name=x.csv\r\nContent-Disposition: attachment; filename=export.csv\r\nContent-Transfer-Encoding: base64\r\n\r\ncGF0aWVudCxkb2IKQW5uIExlZSwxLzIvMTk2MAo=\r\n--b--\r\n",
    );
    let all = joined(&e);
    assert!(all.contains("date of birth August 12, 2003"), "{all}");
    assert!(all.contains("patient,dob\nAnn Lee,1/2/1960"), "{all}");
    let csv = e
        .segments
        .iter()
        .find(|s| matches!(&s.source, Source::Part { filename: Some(f), .. } if f == "export.csv"))
        .unwrap();
    assert_eq!(
        csv.source,
        Source::Part {
            path: "2".into(),
            filename: Some("export.csv".into())
        }
    );
    assert!(csv.table);
}

#[test]
fn nested_messages_are_walked() {
    let e = texts(
        "Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--o\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner subject\r\nContent-Type: text/plain\r\n\r\ninner body SSN 135-14-4832\r\n--o--\r\n",
    );
    let all = joined(&e);
    assert!(all.contains("inner body SSN 135-14-4832"), "{all}");
    assert!(e.segments.iter().any(
        |s| matches!(&s.source, Source::Header(h) if h.contains("Subject") && h.starts_with('2'))
    ));
}

/// A PNG header (signature and IHDR) of the given size, base64.
fn png_b64(w: u32, h: u32) -> String {
    use base64::Engine as _;
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    png.extend_from_slice(&w.to_be_bytes());
    png.extend_from_slice(&h.to_be_bytes());
    png.extend_from_slice(&[8, 2, 0, 0, 0]);
    base64::engine::general_purpose::STANDARD.encode(png)
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn unreadable_attachments_are_uninspectable_logos_are_not() {
    let e = texts(&format!(
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/x-msdownload; name=a.exe\r\nContent-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n--b\r\nContent-Type: image/png; name=logo.png\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        png_b64(120, 40)
    ));
    assert_eq!(e.uninspectable.len(), 1, "{:?}", e.uninspectable);
    assert_eq!(e.uninspectable[0].filename.as_deref(), Some("a.exe"));
}

/// Regression (security review): parts were judged by their label, so a
/// CSV of SSNs declared as an image or a video was skipped as media.
#[test]
fn text_labelled_as_media_is_read_as_text() {
    let csv = b64(b"patient,ssn\nAnn Lee,135-14-4832\n");
    for (ctype, disposition) in [
        ("image/png", ""),
        ("application/octet-stream; name=x.png", ""),
        (
            "video/mp4",
            "Content-Disposition: attachment; filename=clip.mp4\r\n",
        ),
    ] {
        let e = texts(&format!(
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: {ctype}\r\n{disposition}Content-Transfer-Encoding: base64\r\n\r\n{csv}\r\n--b--\r\n"
        ));
        assert!(
            joined(&e).contains("135-14-4832"),
            "{ctype}: {:?}",
            e.segments
        );
    }
}

/// A real image large enough to be a scan, a fax (TIFF) or a photo is
/// uninspectable, not clean.
#[test]
fn scans_and_photos_are_uninspectable() {
    let tiff = b64(b"II*\0\x08\0\0\0rest of a fax");
    for (ctype, body) in [
        ("image/png", png_b64(1700, 2200)),
        ("image/tiff", tiff),
        ("application/octet-stream", png_b64(2000, 1000)),
    ] {
        let e = texts(&format!(
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: {ctype}\r\nContent-Transfer-Encoding: base64\r\n\r\n{body}\r\n--b--\r\n"
        ));
        assert_eq!(e.uninspectable.len(), 1, "{ctype}: {:?}", e.uninspectable);
        assert!(
            e.uninspectable[0].reason.contains("image"),
            "{:?}",
            e.uninspectable
        );
    }
}

/// Text in a charset we cannot decode (EBCDIC) or that does not decode is
/// uninspectable, never clean.
#[test]
fn unknown_and_undecodable_charsets_are_uninspectable() {
    let e = texts(
        "Content-Type: text/plain; charset=cp500\r\nContent-Transfer-Encoding: base64\r\n\r\n4uLVQPP2+WD09/v2+fn2\r\n",
    );
    assert_eq!(e.uninspectable.len(), 1, "{:?}", e.uninspectable);
    assert!(e.uninspectable[0].reason.contains("cp500"));
    let e = texts(&format!(
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
        b64(&[0xC3u8; 200])
    ));
    assert_eq!(e.uninspectable.len(), 1, "{:?}", e.uninspectable);
}

/// Regression (security review): mail-parser 0.11 lost every part after a
/// message/rfc822 whose body is itself a message/rfc822 (a forward of a
/// forward), so an SSN in a later part went out unread.
#[test]
fn parts_after_a_forward_of_a_forward_are_read() {
    let raw = "From: a@x.example\r\nContent-Type: multipart/mixed; boundary=outer\r\n\r\n\
--outer\r\nContent-Type: text/plain\r\n\r\nsee the forwards\r\n\
--outer\r\nContent-Type: message/rfc822\r\n\r\n\
Subject: fwd 1\r\nContent-Type: message/rfc822\r\n\r\n\
Subject: fwd 2\r\nContent-Type: text/plain\r\n\r\ninnermost\r\n\
--outer\r\nContent-Type: text/plain\r\n\r\nPatient SSN 135-14-4832\r\n\
--outer--\r\n";
    let e = texts(raw);
    let all = joined(&e);
    assert!(all.contains("innermost"), "{all}");
    assert!(all.contains("Patient SSN 135-14-4832"), "{all}");
    assert!(e.uninspectable.is_empty(), "{:?}", e.uninspectable);
}

/// Regression (security review): text past the 16 MiB part limit was not
/// read and the message was called clean.
#[test]
fn text_past_the_limit_is_uninspectable() {
    let limits = Limits {
        max_part_text: 1 << 10,
        ..Limits::default()
    };
    let raw = format!(
        "Subject: x\r\n\r\n{}\r\nSSN 135-14-4832\r\n",
        "a".repeat(4096)
    );
    let e = extract(raw.as_bytes(), &limits);
    assert_eq!(e.uninspectable.len(), 1, "{:?}", e.uninspectable);
    assert!(e.uninspectable[0].reason.contains("limit"));
}

/// Regression (security review): X-, Received, References, User-Agent and
/// Date headers were never scanned.
#[test]
fn every_header_is_scanned() {
    let raw = "X-Patient: Ann Lee DOB 1/2/1960\r\nReceived: from h (ssn 135-14-4832)\r\nReferences: <246-81-3579@x.example>\r\nUser-Agent: 318-46-2957\r\nDate: 425-96-7314\r\nSubject: hi\r\n\r\nbody\r\n";
    let all = joined(&texts(raw));
    for v in [
        "Ann Lee DOB 1/2/1960",
        "135-14-4832",
        "246-81-3579",
        "318-46-2957",
        "425-96-7314",
    ] {
        assert!(all.contains(v), "{v} not scanned in {all}");
    }
}

/// Preamble and epilogue leave the gateway too: they are read.
#[test]
fn preamble_and_epilogue_are_read() {
    let e = texts(
        "Content-Type: multipart/mixed; boundary=b\r\n\r\nSSN 135-14-4832\r\n--b\r\n\r\nx\r\n--b--\r\nDOB 1/2/1960\r\n",
    );
    let all = joined(&e);
    assert!(
        all.contains("135-14-4832") && all.contains("DOB 1/2/1960"),
        "{all}"
    );
}

/// The walk is checked against a line-by-line count of delimiters: lines
/// the walk did not account for make the message uninspectable.
#[test]
fn unaccounted_delimiters_are_uninspectable() {
    // A text part (outside the multipart that owns boundary `b`) holding
    // delimiter lines of `b`: they are not structure to the walk.
    let raw = "Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n--a\r\nContent-Type: text/plain\r\n\r\n--b\r\nhidden?\r\n--a--\r\n";
    let e = texts(raw);
    assert!(joined(&e).contains("hidden?"));
    assert!(
        e.uninspectable
            .iter()
            .any(|u| u.reason.contains("MIME structure")),
        "{:?}",
        e.uninspectable
    );
}

#[test]
fn garbage_never_panics() {
    for raw in [
        &b""[..],
        b"\r\n\r\n",
        b"Content-Type: multipart/mixed; boundary=\r\n\r\n--\r\n",
        &[0xff; 64][..],
    ] {
        let _ = extract(raw, &Limits::default());
    }
}

/// A `format=flowed` part is read unwrapped: a name wrapped at a soft
/// line break is one phrase. A hard break in plain text stays a break.
#[test]
fn flowed_text_is_unwrapped() {
    let body = "our patient Henrietta \r\nMakgoba called\r\n";
    let flowed = texts(&format!(
        "Subject: x\r\nContent-Type: text/plain; charset=utf-8; format=flowed\r\n\r\n{body}"
    ));
    assert!(joined(&flowed).contains("Henrietta   Makgoba called"));
    let fixed = texts(&format!(
        "Subject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}"
    ));
    assert!(
        joined(&fixed).contains("Henrietta \r\nMakgoba")
            || joined(&fixed).contains("Henrietta \nMakgoba")
    );
}

/// An RTF attachment is read as the text a word processor shows, not as
/// its control words.
#[test]
fn rtf_is_read_as_its_text() {
    let rtf =
        "{\\rtf1\\ansi {\\fonttbl {\\f0 Times;}}\\f0 Re: Ifeoma\\~Chukwu, DOB 06/12/1970\\par}";
    let raw = format!(
        "Subject: letter\r\nContent-Type: application/rtf; name=letter.rtf\r\n\r\n{rtf}\r\n"
    );
    let e = texts(&raw);
    let seg = e.segments.iter().find(|s| s.form == Some("RTF")).unwrap();
    assert_eq!(
        e.text_of(seg).trim_end(),
        "Re: Ifeoma Chukwu, DOB 06/12/1970"
    );
}

/// A message split into fragments (RFC 2046 message/partial) is never
/// clean: the parts travel apart and are not read together.
#[test]
fn a_message_fragment_is_uninspectable() {
    let e = texts(
        "Subject: part\r\nContent-Type: message/partial; id=\"abc@x\"; number=1; total=2\r\n\r\n\
         From: a@b\r\nSubject: pt\r\n\r\nUGF0aWVudCBBbm4gTGVlIERP\r\n",
    );
    assert!(
        e.uninspectable
            .iter()
            .any(|u| u.reason.contains("message/partial")),
        "{:?}",
        e.uninspectable
    );
    let whole = texts("Subject: whole\r\nContent-Type: text/plain\r\n\r\nhello\r\n");
    assert!(whole.uninspectable.is_empty());
}
