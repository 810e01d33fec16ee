use super::*;

fn texts(raw: &str) -> Extracted {
    extract(raw.as_bytes(), &Limits::default())
}

fn joined(e: &Extracted) -> String {
    e.segments
        .iter()
        .map(|s| s.text.as_str())
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
    assert_eq!(subject.text, "Records for Johnnie Jacoby DOB 8/11/92");
    assert!(joined(&e).contains("José García"));
    assert!(!joined(&e).contains("<1@x>"), "Message-ID is machinery");
}

#[test]
fn quoted_printable_soft_breaks_and_base64_are_undone() {
    let e = texts(
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ndate of birth Au=\r\ngust 12, 2003\r\n--b\r\nContent-Type: text/csv; name=x.csv\r\nContent-Disposition: attachment; filename=export.csv\r\nContent-Transfer-Encoding: base64\r\n\r\ncGF0aWVudCxkb2IKQW5uIExlZSwxLzIvMTk2MAo=\r\n--b--\r\n",
    );
    let all = joined(&e);
    assert!(all.contains("date of birth August 12, 2003"), "{all}");
    assert!(all.contains("patient: Ann Lee; dob: 1/2/1960"), "{all}");
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

#[test]
fn unreadable_attachments_are_uninspectable_but_images_are_not() {
    let e = texts(
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/x-msdownload; name=a.exe\r\nContent-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n--b\r\nContent-Type: image/png; name=logo.png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b--\r\n",
    );
    assert_eq!(e.uninspectable.len(), 1);
    assert_eq!(e.uninspectable[0].filename.as_deref(), Some("a.exe"));
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
