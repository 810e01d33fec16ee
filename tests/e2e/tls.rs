//! Inbound STARTTLS and AUTH with a certificate from a CA the test makes.

use phigate_tests::{Client, GatewayBuilder, TestCa, converse};

use crate::relay::base64_encode;

async fn tls_gateway() -> (TestCa, phigate_tests::RunningGateway) {
    let ca = TestCa::new("phigate test CA");
    let b = GatewayBuilder::new().user("desk@clinic.example", "right");
    let id = ca.issue(b.dir(), "gw", &["gw.test.example", "127.0.0.1"]);
    (ca, b.tls(id).start().await)
}

#[tokio::test]
async fn starttls_then_mail_records_the_negotiated_tls() {
    let (ca, gw) = tls_gateway().await;
    let mut c = Client::connect(gw.addr).await;
    c.reply().await;
    let ehlo = c.expect("EHLO client.test", 250).await;
    assert!(ehlo.lines.iter().any(|l| l == "STARTTLS"));
    assert!(
        !ehlo.text().contains("AUTH"),
        "AUTH must not be offered in plaintext: {ehlo}"
    );
    c.expect("STARTTLS", 220).await;
    c.starttls(ca.der(), "gw.test.example").await;
    // RFC 3207: the session starts over; MAIL before EHLO is out of order.
    c.expect("MAIL FROM:<a@clinic.example>", 503).await;
    let ehlo = c.expect("EHLO client.test", 250).await;
    assert!(!ehlo.text().contains("STARTTLS"));
    assert!(ehlo.lines.iter().any(|l| l == "AUTH PLAIN LOGIN"), "{ehlo}");
    c.expect("STARTTLS", 503).await;
    let r = c
        .send_message(
            "a@clinic.example",
            &["b@payer.example"],
            b"Subject: tls\r\n\r\nx\r\n",
        )
        .await;
    assert_eq!(r.code, 250);
    let m = &gw.spool().messages[0];
    let tls = m.envelope.tls.as_ref().expect("TLS recorded");
    assert_eq!(tls.version, "TLSv1_3");
    assert!(tls.cipher.starts_with("TLS13_"), "{}", tls.cipher);
    let text = String::from_utf8_lossy(m.message.as_ref().unwrap()).into_owned();
    assert!(
        text.contains("(using TLSv1_3 with cipher TLS13_") && text.contains("with ESMTPS id"),
        "{text}"
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn auth_before_tls_is_refused() {
    let (_ca, gw) = tls_gateway().await;
    converse(
        gw.addr,
        "S: 220
         C: EHLO client.test
         S: 250
         C: AUTH PLAIN AGRlc2tAY2xpbmljLmV4YW1wbGUAcmlnaHQ=
         S: 538 5.7.11
         C: QUIT
         S: 221",
    )
    .await;
    gw.shutdown().await;
}

async fn after_tls(ca: &TestCa, gw: &phigate_tests::RunningGateway) -> Client {
    let mut c = Client::greeted(gw.addr).await;
    c.expect("STARTTLS", 220).await;
    c.starttls(ca.der(), "127.0.0.1").await;
    c.expect("EHLO client.test", 250).await;
    c
}

#[tokio::test]
async fn auth_plain_good_and_bad() {
    let (ca, gw) = tls_gateway().await;
    let mut c = after_tls(&ca, &gw).await;
    let wrong = base64_encode(b"\0desk@clinic.example\0wrong");
    c.expect(&format!("AUTH PLAIN {wrong}"), 535).await;
    let unknown = base64_encode(b"\0nobody@clinic.example\0right");
    c.expect(&format!("AUTH PLAIN {unknown}"), 535).await;
    c.expect("AUTH PLAIN not-base64!", 501).await;
    // Without an initial response: 334, then the response.
    c.expect("AUTH PLAIN", 334).await;
    c.expect(&base64_encode(b"\0desk@clinic.example\0right"), 235)
        .await;
    c.expect("AUTH PLAIN", 503).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn auth_login_and_cancel() {
    let (ca, gw) = tls_gateway().await;
    let mut c = after_tls(&ca, &gw).await;
    let r = c.expect("AUTH LOGIN", 334).await;
    assert_eq!(r.text(), "VXNlcm5hbWU6");
    c.expect("*", 501).await;
    c.expect("AUTH LOGIN", 334).await;
    c.expect(&base64_encode(b"desk@clinic.example"), 334).await;
    c.expect(&base64_encode(b"right"), 235).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn a_failed_handshake_closes_the_session() {
    let (_ca, gw) = tls_gateway().await;
    let mut c = Client::greeted(gw.addr).await;
    c.expect("STARTTLS", 220).await;
    c.send_raw(b"this is not a TLS ClientHello\r\n").await;
    assert!(c.is_closed().await);
    // The gateway is still serving others.
    let mut d = Client::connect(gw.addr).await;
    assert_eq!(d.reply().await.code, 220);
    gw.shutdown().await;
}
