//! Never an open relay.

use phigate_tests::{Client, GatewayBuilder, TestCa};

#[tokio::test]
async fn a_client_outside_relay_networks_is_refused_at_every_rcpt() {
    let gw = GatewayBuilder::new()
        .server("relay_networks", "[\"127.0.0.1/32\"]")
        .start()
        .await;
    let mut c = Client::connect_from(gw.addr, "127.0.0.2".parse().unwrap()).await;
    c.reply().await;
    c.expect("EHLO outsider.test", 250).await;
    c.expect("MAIL FROM:<spammer@outsider.example>", 250).await;
    for rcpt in ["a@payer.example", "b@hospital.example", "c@gw.test.example"] {
        let r = c.expect(&format!("RCPT TO:<{rcpt}>"), 554).await;
        assert!(r.text().starts_with("5.7.1"), "{r}");
    }
    c.expect("DATA", 554).await;
    // The same gateway relays for 127.0.0.1.
    let mut ok = Client::connect_from(gw.addr, "127.0.0.1".parse().unwrap()).await;
    ok.reply().await;
    ok.expect("EHLO inside.test", 250).await;
    ok.expect("MAIL FROM:<desk@clinic.example>", 250).await;
    ok.expect("RCPT TO:<a@payer.example>", 250).await;
    assert!(gw.spool().messages.is_empty());
    ok.expect("QUIT", 221).await;
    c.expect("QUIT", 221).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn an_authenticated_client_may_relay_from_anywhere() {
    let ca = TestCa::new("phigate test CA");
    let b = GatewayBuilder::new()
        .server("relay_networks", "[\"127.0.0.1/32\"]")
        .user("desk@clinic.example", "s3cret pass");
    let id = ca.issue(b.dir(), "gw", &["gw.test.example"]);
    let gw = b.tls(id).start().await;
    let mut c = Client::connect_from(gw.addr, "127.0.0.3".parse().unwrap()).await;
    c.reply().await;
    c.expect("EHLO roaming.test", 250).await;
    c.expect("STARTTLS", 220).await;
    c.starttls(ca.der(), "gw.test.example").await;
    c.expect("EHLO roaming.test", 250).await;
    c.expect("MAIL FROM:<desk@clinic.example>", 250).await;
    c.expect("RCPT TO:<a@payer.example>", 554).await;
    c.expect("RSET", 250).await;
    // PLAIN: \0user\0password
    let cred = base64_encode(b"\0desk@clinic.example\0s3cret pass");
    c.expect(&format!("AUTH PLAIN {cred}"), 235).await;
    let r = c
        .send_message(
            "desk@clinic.example",
            &["a@payer.example"],
            b"Subject: t\r\n\r\nhi\r\n",
        )
        .await;
    assert_eq!(r.code, 250, "{r}");
    let m = &gw.spool().messages[0];
    assert_eq!(m.envelope.auth_user.as_deref(), Some("desk@clinic.example"));
    assert!(String::from_utf8_lossy(m.message.as_ref().unwrap()).contains("with ESMTPSA id"));
    gw.shutdown().await;
}

pub fn base64_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}
