//! Limits, each with a clear reply.

use std::time::Duration;

use phigate_tests::{Client, GatewayBuilder, converse};

#[tokio::test]
async fn an_overlong_command_line_is_refused_and_the_session_goes_on() {
    let gw = GatewayBuilder::new()
        .server("max_line_length", "512")
        .start()
        .await;
    let mut c = Client::connect(gw.addr).await;
    c.reply().await;
    let long = format!("EHLO {}", "a".repeat(3000));
    let r = c.expect(&long, 500).await;
    assert!(r.text().contains("too long"), "{r}");
    c.expect("EHLO client.test", 250).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn too_many_recipients() {
    let gw = GatewayBuilder::new()
        .server("max_recipients", "2")
        .start()
        .await;
    converse(
        gw.addr,
        "S: 220
         C: EHLO client.test
         S: 250
         C: MAIL FROM:<a@clinic.example>
         S: 250
         C: RCPT TO:<1@payer.example>
         S: 250
         C: RCPT TO:<2@payer.example>
         S: 250
         C: RCPT TO:<3@payer.example>
         S: 452 4.5.3",
    )
    .await;
    gw.shutdown().await;
}

#[tokio::test]
async fn message_size_at_mail_and_during_data() {
    let gw = GatewayBuilder::new()
        .server("max_message_size", "1000")
        .start()
        .await;
    let mut c = converse(
        gw.addr,
        "S: 220
         C: EHLO client.test
         S~ SIZE 1000
         C: MAIL FROM:<a@clinic.example> SIZE=1001
         S: 552 5.3.4
         C: MAIL FROM:<a@clinic.example> SIZE=900
         S: 250",
    )
    .await;
    c.expect("RCPT TO:<b@payer.example>", 250).await;
    c.expect("DATA", 354).await;
    let big = "x".repeat(78) + "\r\n";
    c.send_raw(format!("{}.\r\n", big.repeat(20)).as_bytes())
        .await;
    let r = c.reply().await;
    assert_eq!(r.code, 552, "{r}");
    // The transaction is over; the session is not.
    c.expect("RCPT TO:<b@payer.example>", 503).await;
    c.expect("NOOP", 250).await;
    assert!(gw.spool().messages.is_empty());
    gw.shutdown().await;
}

#[tokio::test]
async fn bdat_over_the_size_limit() {
    let gw = GatewayBuilder::new()
        .server("max_message_size", "1000")
        .start()
        .await;
    let mut c = Client::in_transaction(gw.addr).await;
    c.send_raw(b"BDAT 1500 LAST\r\n").await;
    c.send_raw(&[b'y'; 1500]).await;
    assert_eq!(c.reply().await.code, 552);
    c.expect("NOOP", 250).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn connections_per_client_ip_and_in_total() {
    let gw = GatewayBuilder::new()
        .server("max_connections_per_ip", "2")
        .server("max_connections", "3")
        .start()
        .await;
    let mut a = Client::connect_from(gw.addr, "127.0.0.1".parse().unwrap()).await;
    let mut b = Client::connect_from(gw.addr, "127.0.0.1".parse().unwrap()).await;
    assert_eq!(a.reply().await.code, 220);
    assert_eq!(b.reply().await.code, 220);
    let mut third = Client::connect_from(gw.addr, "127.0.0.1".parse().unwrap()).await;
    let r = third.reply().await;
    assert_eq!(r.code, 421, "{r}");
    assert!(r.text().starts_with("4.7.0"));
    let mut other = Client::connect_from(gw.addr, "127.0.0.5".parse().unwrap()).await;
    assert_eq!(other.reply().await.code, 220);
    let mut fourth = Client::connect_from(gw.addr, "127.0.0.6".parse().unwrap()).await;
    assert_eq!(fourth.reply().await.code, 421, "total limit");
    // A slot frees up when a session ends.
    a.expect("QUIT", 221).await;
    assert!(a.is_closed().await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut again = Client::connect_from(gw.addr, "127.0.0.1".parse().unwrap()).await;
    assert_eq!(again.reply().await.code, 220);
    gw.shutdown().await;
}

#[tokio::test]
async fn an_idle_client_times_out_with_421() {
    let gw = GatewayBuilder::new()
        .server("command_timeout_secs", "1")
        .start()
        .await;
    let mut c = Client::greeted(gw.addr).await;
    let r = c.reply().await;
    assert_eq!(r.code, 421);
    assert!(r.text().starts_with("4.4.2"), "{r}");
    assert!(c.is_closed().await);
    gw.shutdown().await;
}

#[tokio::test]
async fn a_stalled_data_phase_times_out_with_421() {
    let gw = GatewayBuilder::new()
        .server("data_timeout_secs", "1")
        .start()
        .await;
    let mut c = Client::in_transaction(gw.addr).await;
    c.expect("DATA", 354).await;
    c.send_raw(b"Subject: never finished\r\n").await;
    let r = c.reply().await;
    assert_eq!(r.code, 421, "{r}");
    assert!(gw.spool().messages.is_empty());
    gw.shutdown().await;
}

#[tokio::test]
async fn too_many_errors_end_the_session() {
    let gw = GatewayBuilder::new()
        .server("max_errors", "3")
        .start()
        .await;
    let mut c = Client::connect(gw.addr).await;
    c.reply().await;
    for _ in 0..3 {
        c.expect("FROB", 500).await;
    }
    c.send("FROB").await;
    assert_eq!(c.reply().await.code, 500);
    assert_eq!(c.reply().await.code, 421);
    assert!(c.is_closed().await);
    gw.shutdown().await;
}

/// A gateway whose content budget is its size limit, 300,000 bytes (the
/// smallest budget allowed).
async fn tight_budget() -> phigate_tests::RunningGateway {
    GatewayBuilder::new()
        .server("max_message_size", "300000")
        .server("content_memory", "300000")
        .start()
        .await
}

/// A message of about `bytes` of plain text.
fn message(bytes: usize) -> String {
    let line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\r\n";
    let head = "From: a@clinic.example\r\nTo: b@payer.example\r\nSubject: load\r\n\r\n";
    format!("{head}{}", line.repeat(bytes / line.len()))
}

/// A session in DATA that has sent 200 KB, its end not yet: it holds
/// 256 KiB of a tight budget's room.
async fn holding_room(gw: &phigate_tests::RunningGateway) -> Client {
    let mut a = Client::in_transaction(gw.addr).await;
    a.expect("DATA", 354).await;
    a.send_raw(message(200_000).as_bytes()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    a
}

/// Memory for content is shared by all sessions (`server.content_memory`):
/// a session whose message would take more than is left waits, then gets
/// `452 4.3.1` and keeps its connection; once the others are done, the same
/// message goes through. The session holding the room is not disturbed.
#[tokio::test]
async fn content_memory_is_shared_by_all_sessions() {
    let gw = tight_budget().await;
    let mut a = holding_room(&gw).await;
    // B's 100 KB cannot fit beside it.
    let small = message(100_000);
    let mut b = Client::greeted(gw.addr)
        .await
        .patient(Duration::from_secs(30));
    let started = std::time::Instant::now();
    let r = b
        .send_message("a@clinic.example", &["b@payer.example"], small.as_bytes())
        .await;
    assert_eq!(r.code, 452, "{r}");
    assert!(r.text().contains("4.3.1"), "{r}");
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "B waited for room"
    );
    // A finishes as if nothing happened, and gives its room back.
    a.send_raw(b".\r\n").await;
    assert_eq!(a.reply().await.code, 250);
    // B, still connected, sends again and is accepted.
    let r = b
        .send_message("a@clinic.example", &["b@payer.example"], small.as_bytes())
        .await;
    assert_eq!(r.code, 250, "{r}");
    // And so does a BDAT transaction, its room checked per chunk.
    b.expect("MAIL FROM:<a@clinic.example>", 250).await;
    b.expect("RCPT TO:<b@payer.example>", 250).await;
    b.send_raw(format!("BDAT {} LAST\r\n{small}", small.len()).as_bytes())
        .await;
    assert_eq!(b.reply().await.code, 250);
    assert_eq!(gw.spool().messages.len(), 3);
    gw.shutdown().await;
}

/// A BDAT chunk that cannot fit beside another session's content ends its
/// transaction with `452 4.3.1`; the session goes on.
#[tokio::test]
async fn a_bdat_chunk_without_room_is_refused() {
    let gw = tight_budget().await;
    let _a = holding_room(&gw).await;
    let mut b = Client::in_transaction(gw.addr)
        .await
        .patient(Duration::from_secs(30));
    b.send_raw(b"BDAT 100000 LAST\r\n").await;
    b.send_raw(&[b'y'; 100_000]).await;
    let r = b.reply().await;
    assert_eq!(r.code, 452, "{r}");
    b.expect("NOOP", 250).await;
    assert!(gw.spool().messages.is_empty());
    gw.shutdown().await;
}

/// A budget of the size limit (the smallest allowed) still takes a message
/// of nearly that size: rounding the room up must not outgrow the budget.
#[tokio::test]
async fn the_largest_message_fits_a_budget_of_its_size() {
    let gw = tight_budget().await;
    let mut c = Client::greeted(gw.addr).await;
    let started = std::time::Instant::now();
    let r = c
        .send_message(
            "a@clinic.example",
            &["b@payer.example"],
            message(290_000).as_bytes(),
        )
        .await;
    assert_eq!(r.code, 250, "{r}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "no wait for room on an idle gateway"
    );
    gw.shutdown().await;
}
