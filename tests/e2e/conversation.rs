//! A transcript per command and per error path.

use phigate_tests::{Client, GatewayBuilder, converse};

#[tokio::test]
async fn ehlo_lists_the_extensions() {
    let gw = GatewayBuilder::new().start().await;
    let mut c = Client::connect(gw.addr).await;
    let greeting = c.reply().await;
    assert_eq!(greeting.code, 220);
    assert!(greeting.text().starts_with("gw.test.example ESMTP"));
    let ehlo = c.expect("EHLO client.test", 250).await;
    for ext in [
        "PIPELINING",
        "SIZE 36700160",
        "8BITMIME",
        "SMTPUTF8",
        "ENHANCEDSTATUSCODES",
        "CHUNKING",
        "HELP",
    ] {
        assert!(
            ehlo.lines.iter().any(|l| l == ext),
            "{ext} missing from {ehlo}"
        );
    }
    // Without a certificate there is no STARTTLS, and without TLS no AUTH.
    assert!(!ehlo.text().contains("STARTTLS"));
    assert!(!ehlo.text().contains("AUTH"));
    gw.shutdown().await;
}

#[tokio::test]
async fn a_message_is_spooled_with_a_received_header() {
    let gw = GatewayBuilder::new().start().await;
    converse(
        gw.addr,
        "S: 220
         C: EHLO client.test
         S: 250
         C: MAIL FROM:<front.desk@clinic.example>
         S: 250 2.1.0
         C: RCPT TO:<billing@payer.example>
         S: 250 2.1.5
         C: RCPT TO:<records@hospital.example>
         S: 250 2.1.5
         C: DATA
         S: 354
         C: Subject: hello
         C:
         C: ..a line that starts with a dot
         C: .
         S: 250 2.0.0 Ok: queued as
         C: QUIT
         S: 221 2.0.0
         S: closed",
    )
    .await;
    let spool = gw.spool();
    assert_eq!(spool.messages.len(), 1);
    let m = &spool.messages[0];
    assert_eq!(m.envelope.mail_from, "front.desk@clinic.example");
    assert_eq!(
        m.envelope.rcpt_to,
        vec!["billing@payer.example", "records@hospital.example"]
    );
    let text = String::from_utf8(m.message.clone().unwrap()).unwrap();
    assert!(text.starts_with(
        "Received: from client.test ([127.0.0.1])\r\n\tby gw.test.example (phigate) with ESMTP id "
    ));
    assert!(
        text.ends_with("\r\nSubject: hello\r\n\r\n.a line that starts with a dot\r\n"),
        "{text}"
    );
    assert_eq!(m.envelope.size as usize, text.len());
    gw.shutdown().await;
}

#[tokio::test]
async fn helo_rset_noop_help_vrfy_expn() {
    let gw = GatewayBuilder::new().start().await;
    converse(
        gw.addr,
        "S: 220
         C: HELP
         S: 214 2.0.0
         C: NOOP
         S: 250 2.0.0
         C: HELO client.test
         S: 250 gw.test.example
         C: MAIL FROM:<a@clinic.example>
         S: 250
         C: RSET
         S: 250 2.0.0
         C: RCPT TO:<b@payer.example>
         S: 503 5.5.1
         C: VRFY root
         S: 502 5.5.1
         C: EXPN staff
         S: 502 5.5.1
         C: QUIT
         S: 221",
    )
    .await;
    gw.shutdown().await;
}

#[tokio::test]
async fn commands_out_of_order_get_503() {
    let gw = GatewayBuilder::new().start().await;
    converse(
        gw.addr,
        "S: 220
         C: MAIL FROM:<a@clinic.example>
         S: 503 5.5.1
         C: EHLO client.test
         S: 250
         C: RCPT TO:<b@payer.example>
         S: 503 5.5.1
         C: DATA
         S: 503 5.5.1
         C: MAIL FROM:<a@clinic.example>
         S: 250
         C: MAIL FROM:<a@clinic.example>
         S: 503 5.5.1
         C: DATA
         S: 554 5.5.1 No valid recipients
         C: RCPT TO:<b@payer.example>
         S: 250
         C: STARTTLS
         S: 502 5.5.1
         C: AUTH PLAIN AGEAYg==
         S: 503 5.5.1
         C: QUIT
         S: 221",
    )
    .await;
    gw.shutdown().await;
}

#[tokio::test]
async fn syntax_errors_are_named() {
    let gw = GatewayBuilder::new().start().await;
    converse(
        gw.addr,
        "S: 220
         C: FROB
         S: 500 5.5.2
         C: EHLO
         S: 501 5.5.4
         C: EHLO client.test
         S: 250
         C: MAIL FROM:no-brackets@clinic.example
         S: 553 5.1.3
         C: MAIL FROM:<a@clinic.example> RET=HDRS
         S: 555 5.5.4
         C: MAIL FROM:<a@clinic.example>
         S: 250
         C: RCPT TO:<not an address>
         S: 553 5.1.3
         C: RCPT TO:<ü@payer.example>
         S: 553 5.6.7
         C: QUIT
         S: 221",
    )
    .await;
    gw.shutdown().await;
}

#[tokio::test]
async fn pipelined_commands_get_replies_in_order() {
    let gw = GatewayBuilder::new().start().await;
    let mut c = Client::greeted(gw.addr).await;
    c.send_raw(
        b"MAIL FROM:<a@clinic.example>\r\nRCPT TO:<b@payer.example>\r\nRCPT TO:<c@payer.example>\r\nDATA\r\n",
    )
    .await;
    let codes = [
        c.reply().await.code,
        c.reply().await.code,
        c.reply().await.code,
        c.reply().await.code,
    ];
    assert_eq!(codes, [250, 250, 250, 354]);
    // Content and the next commands in one write.
    c.send_raw(
        b"Subject: p\r\n\r\nbody\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<d@payer.example>\r\nDATA\r\n",
    )
    .await;
    assert_eq!(c.reply().await.code, 250);
    assert_eq!(c.reply().await.code, 250);
    assert_eq!(c.reply().await.code, 250);
    assert_eq!(c.reply().await.code, 354);
    c.send_raw(b"bounce\r\n.\r\nQUIT\r\n").await;
    assert_eq!(c.reply().await.code, 250);
    assert_eq!(c.reply().await.code, 221);
    let spool = gw.spool();
    assert_eq!(spool.messages.len(), 2);
    assert_eq!(
        spool.messages[1].envelope.mail_from, "",
        "null sender kept as empty"
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn bdat_chunks_make_one_message() {
    let gw = GatewayBuilder::new().start().await;
    let mut c = Client::greeted(gw.addr).await;
    c.expect("MAIL FROM:<a@clinic.example> BODY=8BITMIME", 250)
        .await;
    c.expect("RCPT TO:<b@payer.example>", 250).await;
    let first = b"Subject: chunked\r\n\r\n.leading dot stays\r\n";
    c.send_raw(format!("BDAT {}\r\n", first.len()).as_bytes())
        .await;
    c.send_raw(first).await;
    let r = c.reply().await;
    assert_eq!(r.code, 250, "{r}");
    let second = "Grüße\r\n".as_bytes();
    c.send_raw(format!("BDAT {} LAST\r\n", second.len()).as_bytes())
        .await;
    c.send_raw(second).await;
    let r = c.reply().await;
    assert!(r.code == 250 && r.text().contains("queued as"), "{r}");
    let m = &gw.spool().messages[0];
    let stored = m.message.as_ref().unwrap();
    let mut want = first.to_vec();
    want.extend_from_slice(second);
    assert!(stored.ends_with(&want));
    assert_eq!(m.envelope.body_type, phigate::spool::BodyType::EightBitMime);
    gw.shutdown().await;
}

#[tokio::test]
async fn bdat_without_recipients_is_read_and_refused() {
    let gw = GatewayBuilder::new().start().await;
    let mut c = Client::greeted(gw.addr).await;
    // The chunk's bytes look like commands; they must be swallowed as data.
    c.send_raw(b"BDAT 12\r\nQUIT\r\nNOOP\r\n").await;
    assert_eq!(c.reply().await.code, 503);
    c.expect("NOOP", 250).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn smtputf8_addresses_and_8bit_content() {
    let gw = GatewayBuilder::new().start().await;
    let mut c = Client::greeted(gw.addr).await;
    c.expect(
        "MAIL FROM:<empfang@praxis.example> SMTPUTF8 BODY=8BITMIME",
        250,
    )
    .await;
    c.expect("RCPT TO:<müller@kasse.example>", 250).await;
    c.expect("DATA", 354).await;
    let body = "Subject: Befund für Frau Müller\r\n\r\nÜberweisung\r\n";
    c.send_raw(format!("{body}.\r\n").as_bytes()).await;
    assert_eq!(c.reply().await.code, 250);
    let m = &gw.spool().messages[0];
    assert!(m.envelope.smtputf8);
    assert_eq!(m.envelope.rcpt_to, vec!["müller@kasse.example"]);
    assert!(m.message.as_ref().unwrap().ends_with(body.as_bytes()));
    gw.shutdown().await;
}
