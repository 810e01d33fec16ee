//! SMTP smuggling and STARTTLS command injection.

use phigate_tests::{Client, GatewayBuilder, TestCa};

/// Each vector tries to end DATA early with a non-CRLF end-of-data and
/// smuggle a second transaction behind it.
#[tokio::test]
async fn only_crlf_dot_crlf_ends_data_and_bare_line_endings_are_refused() {
    let vectors: &[(&str, &[u8])] = &[
        ("<LF>.<LF>", b"\n.\n"),
        ("<CR>.<CR>", b"\r.\r"),
        ("<LF>.<CRLF>", b"\n.\r\n"),
        ("<CRLF>.<LF>", b"\r\n.\n"),
        ("<CR>.<CRLF>", b"\r.\r\n"),
        ("<CRLF>.<CR>", b"\r\n.\r"),
        ("bare LF in a line", b"\nX"),
    ];
    let gw = GatewayBuilder::new().start().await;
    for (name, eod) in vectors {
        let mut c = Client::connect(gw.addr).await;
        c.reply().await;
        c.expect("EHLO attacker.test", 250).await;
        c.expect("MAIL FROM:<a@clinic.example>", 250).await;
        c.expect("RCPT TO:<b@payer.example>", 250).await;
        c.expect("DATA", 354).await;
        let mut wire = b"Subject: first\r\n\r\nhello".to_vec();
        wire.extend_from_slice(eod);
        wire.extend_from_slice(
            b"MAIL FROM:<ceo@clinic.example>\r\nRCPT TO:<victim@payer.example>\r\nDATA\r\nSubject: smuggled\r\n\r\nsmuggled\r\n.\r\n",
        );
        c.send_raw(&wire).await;
        let r = c.reply().await;
        assert_eq!(r.code, 554, "{name}: {r}");
        assert!(
            r.text().contains("5.6.0") && r.text().contains("bare"),
            "{name}: {r}"
        );
        // The next reply belongs to our NOOP: nothing smuggled was executed.
        c.expect("NOOP", 250).await;
    }
    assert!(gw.spool().messages.is_empty(), "nothing may be spooled");
    gw.shutdown().await;
}

#[tokio::test]
async fn bare_lf_in_bdat_content_is_refused() {
    let gw = GatewayBuilder::new().start().await;
    let mut c = Client::connect(gw.addr).await;
    c.reply().await;
    c.expect("EHLO attacker.test", 250).await;
    c.expect("MAIL FROM:<a@clinic.example>", 250).await;
    c.expect("RCPT TO:<b@payer.example>", 250).await;
    let body = b"Subject: x\r\n\r\nhi\n.\nMAIL FROM:<x@y.example>\r\n";
    c.send_raw(format!("BDAT {} LAST\r\n", body.len()).as_bytes())
        .await;
    c.send_raw(body).await;
    let r = c.reply().await;
    assert_eq!(r.code, 554, "{r}");
    assert!(gw.spool().messages.is_empty());
    gw.shutdown().await;
}

/// CVE-2011-0411: commands pipelined behind STARTTLS in plaintext must not
/// be executed inside the TLS session.
#[tokio::test]
async fn plaintext_pipelined_after_starttls_is_discarded() {
    let ca = TestCa::new("phigate test CA");
    let b = GatewayBuilder::new();
    let id = ca.issue(b.dir(), "gw", &["gw.test.example"]);
    let gw = b.tls(id).start().await;
    let mut c = Client::greeted(gw.addr).await;
    c.send_raw(
        b"STARTTLS\r\nMAIL FROM:<injected@attacker.example>\r\nRCPT TO:<x@payer.example>\r\n",
    )
    .await;
    assert_eq!(c.reply().await.code, 220);
    c.starttls(ca.der(), "gw.test.example").await;
    // Had the injected MAIL been kept, this EHLO would come after it and the
    // first reply would be 250 for MAIL; and the RCPT below would succeed.
    let ehlo = c.expect("EHLO client.test", 250).await;
    assert!(ehlo.lines[0].starts_with("gw.test.example"), "{ehlo}");
    c.expect("RCPT TO:<x@payer.example>", 503).await;
    gw.shutdown().await;
}
