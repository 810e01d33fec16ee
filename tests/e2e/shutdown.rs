//! SIGTERM: stop accepting, let transactions finish within a bound, exit 0.

use std::time::{Duration, Instant};

use phigate_tests::{Client, GatewayBuilder};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_transaction_finish_and_exits_zero() {
    let mut gw = GatewayBuilder::new().spawn();
    let mut idle = Client::connect(gw.addr).await;
    idle.reply().await;
    idle.expect("EHLO idle.test", 250).await;
    let mut busy = Client::connect(gw.addr).await;
    busy.reply().await;
    busy.expect("EHLO busy.test", 250).await;
    busy.expect("MAIL FROM:<a@clinic.example>", 250).await;
    busy.expect("RCPT TO:<b@payer.example>", 250).await;
    busy.expect("DATA", 354).await;
    busy.send_raw(b"Subject: in flight\r\n\r\nfirst half\r\n")
        .await;

    gw.terminate();
    // The idle session is told and closed.
    let r = idle.reply().await;
    assert_eq!(r.code, 421, "{r}");
    assert!(r.text().starts_with("4.3.2"));
    assert!(idle.is_closed().await);
    // No new sessions.
    assert!(
        tokio::net::TcpStream::connect(gw.addr).await.is_err(),
        "listener must be closed after SIGTERM"
    );
    // The transaction in flight completes and is durable, then the session ends.
    busy.send_raw(b"second half\r\n.\r\n").await;
    let r = busy.reply().await;
    assert_eq!(r.code, 250, "{r}");
    assert_eq!(busy.reply().await.code, 421);
    assert_eq!(
        gw.wait(Duration::from_secs(10)),
        Some(0),
        "log:\n{}",
        gw.log()
    );
    let spool = gw.spool();
    assert_eq!(spool.messages.len(), 1);
    assert!(
        spool.messages[0]
            .message
            .as_ref()
            .unwrap()
            .ends_with(b"first half\r\nsecond half\r\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_does_not_wait_past_the_grace_period() {
    let mut gw = GatewayBuilder::new()
        .server("shutdown_grace_secs", "1")
        .spawn();
    let mut stuck = Client::connect(gw.addr).await;
    stuck.reply().await;
    stuck.expect("EHLO stuck.test", 250).await;
    stuck.expect("MAIL FROM:<a@clinic.example>", 250).await;
    stuck.expect("RCPT TO:<b@payer.example>", 250).await;
    stuck.expect("DATA", 354).await;
    let started = Instant::now();
    gw.terminate();
    assert_eq!(gw.wait(Duration::from_secs(10)), Some(0));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    // Nothing half-received was spooled.
    assert!(gw.spool().messages.is_empty());
}
