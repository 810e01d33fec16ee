//! Delivery to downstream servers the tests start, under the TLS policy.
//! The one rule above all: a message with PHI never crosses the wire in
//! clear — every plaintext byte each downstream saw is checked.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use phigate_tests::downstream::{Behaviour, Downstream, tls_downstream};
use phigate_tests::{Client, GatewayBuilder, RunningGateway, TestCa};

const SSN: &str = "135-14-4832";

fn phi_body() -> Vec<u8> {
    format!("Subject: claim\r\n\r\nPatient SSN: {SSN}, please update the guarantor record.\r\n")
        .into_bytes()
}

fn clean_body() -> Vec<u8> {
    b"Subject: lunch\r\n\r\nSee you at noon in the break room.\r\n".to_vec()
}

/// A gateway routing payer.example and clinic.example (the senders' side,
/// for DSNs) to `ds`, retrying every second.
fn builder(ds: &Downstream, ca: Option<&TestCa>, give_up_secs: u64) -> GatewayBuilder {
    let b = GatewayBuilder::new();
    let mut toml = format!(
        "[delivery]\nretry_initial_secs = 1\nretry_max_secs = 1\ngive_up_after_secs = {give_up_secs}\n\
         [[delivery.route]]\ndomains = [\"payer.example\", \"clinic.example\"]\nrelay = \"[127.0.0.1]:{}\"\n",
        ds.addr.port()
    );
    if let Some(ca) = ca {
        toml += &format!("[tls]\nca_file = \"{}\"\n", b.ca_file(ca).display());
    }
    b.toml(&toml)
}

async fn send(gw: &RunningGateway, rcpts: &[&str], body: &[u8]) {
    let mut c = Client::connect(gw.addr).await;
    c.reply().await;
    c.expect("EHLO desk.clinic.example", 250).await;
    let r = c.send_message("desk@clinic.example", rcpts, body).await;
    assert_eq!(r.code, 250, "{r}");
    c.expect("QUIT", 221).await;
}

async fn wait_spool_empty(gw: &RunningGateway) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !gw.spool().messages.is_empty() {
        assert!(
            Instant::now() < deadline,
            "spool never emptied: {:?}",
            gw.spool()
                .messages
                .iter()
                .map(|m| &m.rcpts)
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn assert_no_phi_in_clear(ds: &Downstream) {
    let plain = String::from_utf8_lossy(&ds.plaintext()).into_owned();
    assert!(
        !plain.contains(SSN) && !plain.contains("Patient SSN"),
        "PHI crossed in clear:\n{plain}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_without_phi_goes_by_plaintext_when_tls_is_not_offered() {
    let ds = Downstream::start(Behaviour::default()).await;
    let gw = builder(&ds, None, 3600).start().await;
    send(&gw, &["billing@payer.example"], &clean_body()).await;
    let got = ds.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].from, "desk@clinic.example");
    assert_eq!(got[0].rcpts, vec!["billing@payer.example"]);
    assert!(!got[0].tls);
    assert!(got[0].data.ends_with(&clean_body()));
    assert!(got[0].data.starts_with(b"Received: "));
    wait_spool_empty(&gw).await;
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phi_is_never_sent_without_tls_it_is_held_and_the_sender_told() {
    let ds = Downstream::start(Behaviour::default()).await;
    let gw = builder(&ds, None, 3600).start().await;
    send(&gw, &["billing@payer.example"], &phi_body()).await;
    // No encrypted route is configured: the message is held at once, and a
    // notice (no PHI in it) goes to the sender's side through the same server.
    let got = ds.wait_for(1, Duration::from_secs(15)).await;
    assert_eq!(got.len(), 1, "only the notice arrives");
    let notice = String::from_utf8_lossy(&got[0].data).into_owned();
    assert_eq!(got[0].from, "", "notice from the null sender");
    assert_eq!(got[0].rcpts, vec!["desk@clinic.example"]);
    assert!(
        notice.contains("was held and has not been sent")
            && notice.contains("does not offer verified TLS")
            && notice.contains("<billing@payer.example>")
            && notice.contains("(ssn)"),
        "{notice}"
    );
    assert!(!notice.contains(SSN) && !notice.contains("Subject: claim"));
    assert_no_phi_in_clear(&ds);
    let spool = gw.spool();
    assert_eq!(
        spool.messages.len(),
        1,
        "the held message stays in the spool"
    );
    let state = format!("{:?}", spool.messages[0].rcpts[0]);
    assert!(
        state.contains("Held")
            && state.contains("no secure route")
            && state.contains("TlsNotOffered"),
        "{state}"
    );
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phi_goes_over_starttls_with_a_certificate_from_a_trusted_ca() {
    let (ca, ds) = tls_downstream(&["127.0.0.1"], false, Behaviour::default()).await;
    let gw = builder(&ds, Some(&ca), 3600).start().await;
    send(&gw, &["billing@payer.example"], &phi_body()).await;
    let got = ds.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    assert!(got[0].tls, "delivered over TLS");
    assert!(String::from_utf8_lossy(&got[0].data).contains(SSN));
    assert_no_phi_in_clear(&ds);
    wait_spool_empty(&gw).await;
    gw.shutdown().await;
}

async fn bad_certificate_case(expired: bool) {
    // Expired, or valid but for another name than the one we connect to.
    let names: &[&str] = if expired {
        &["127.0.0.1"]
    } else {
        &["other.example"]
    };
    let (ca, ds) = tls_downstream(names, expired, Behaviour::default()).await;
    let gw = builder(&ds, Some(&ca), 3600).start().await;
    send(&gw, &["billing@payer.example"], &phi_body()).await;
    send(&gw, &["billing@payer.example"], &clean_body()).await;
    // The clean message goes (TLS, unverified: level may); the PHI one never:
    // it is held, and the sender gets a notice.
    let got = ds.wait_for(2, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let got = if got.len() == 2 { ds.received() } else { got };
    assert_eq!(got.len(), 2, "the clean message and the notice");
    let clean: Vec<_> = got
        .iter()
        .filter(|r| r.from == "desk@clinic.example")
        .collect();
    assert_eq!(clean.len(), 1);
    assert!(clean[0].data.ends_with(&clean_body()));
    assert!(clean[0].tls);
    assert!(got.iter().any(|r| r.from.is_empty()), "the notice");
    assert_no_phi_in_clear(&ds);
    let spool = gw.spool();
    assert_eq!(spool.messages.len(), 1);
    let state = format!("{:?}", spool.messages[0].rcpts[0]);
    assert!(state.contains("Held"), "{state}");
    // The audit log names why: the certificate did not verify.
    let trail = phigate::audit::search::search(&gw.audit_dir(), &Default::default()).unwrap();
    let held = trail.iter().find(|t| t.categories == ["ssn"]).unwrap();
    assert_eq!(
        held.recipients["billing@payer.example"].outcome.as_deref(),
        Some("held")
    );
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_certificate_stops_phi() {
    bad_certificate_case(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_name_certificate_stops_phi() {
    bad_certificate_case(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_starttls_stripping_man_in_the_middle_gets_nothing() {
    let (ca, ds) = tls_downstream(
        &["127.0.0.1"],
        false,
        Behaviour {
            strip_starttls: true,
            ..Default::default()
        },
    )
    .await;
    let gw = builder(&ds, Some(&ca), 3600).start().await;
    send(&gw, &["billing@payer.example"], &phi_body()).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        ds.received().iter().all(|r| r.from.is_empty()),
        "nothing but the notice to the sender"
    );
    let plain = String::from_utf8_lossy(&ds.plaintext()).into_owned();
    // The notice (from <>, no PHI) may go in clear; nothing of the message did.
    assert!(
        !plain.contains("MAIL FROM:<desk@clinic.example>"),
        "not even the envelope was sent:\n{plain}"
    );
    assert_no_phi_in_clear(&ds);
    let state = format!("{:?}", gw.spool().messages[0].rcpts[0]);
    assert!(state.contains("Held"), "{state}");
    gw.shutdown().await;
}

/// A downstream that fails the first session as `b` says: the message is
/// retried and arrives whole, once, and leaves the spool.
async fn retried_until_delivered(b: Behaviour) {
    let ds = Downstream::start(b).await;
    let gw = builder(&ds, None, 3600).start().await;
    send(&gw, &["billing@payer.example"], &clean_body()).await;
    let got = ds.wait_for(1, Duration::from_secs(15)).await;
    assert_eq!(got.len(), 1);
    assert!(ds.sessions() >= 2, "retried in a new session");
    assert!(got[0].data.ends_with(&clean_body()));
    wait_spool_empty(&gw).await;
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_temporary_failure_is_retried_until_delivered() {
    retried_until_delivered(Behaviour {
        tempfail_sessions: 1,
        ..Default::default()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_dropped_mid_data_is_retried() {
    retried_until_delivered(Behaviour {
        drop_in_data_sessions: 1,
        ..Default::default()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_recipient_replies_are_kept_per_recipient() {
    let mut replies = HashMap::new();
    replies.insert(
        "gone@payer.example".to_string(),
        "550 5.1.1 no such user".to_string(),
    );
    replies.insert(
        "busy@payer.example".to_string(),
        "450 4.2.1 mailbox busy".to_string(),
    );
    let ds = Downstream::start(Behaviour {
        rcpt_replies: replies,
        ..Default::default()
    })
    .await;
    let gw = builder(&ds, None, 3600).start().await;
    send(
        &gw,
        &[
            "ok@payer.example",
            "gone@payer.example",
            "busy@payer.example",
        ],
        &clean_body(),
    )
    .await;
    // The message for ok@, then the DSN for gone@ to the sender.
    let got = ds.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].rcpts, vec!["ok@payer.example"]);
    let dsn = String::from_utf8_lossy(&got[1].data).into_owned();
    assert!(
        dsn.contains("Final-Recipient: rfc822; gone@payer.example")
            && dsn.contains("Status: 5.1.1"),
        "{dsn}"
    );
    assert!(
        !dsn.contains("busy@payer.example"),
        "busy@ is deferred, not bounced"
    );
    // Still waiting: busy@ only.
    let spool = gw.spool();
    let m = spool
        .messages
        .iter()
        .find(|m| m.envelope.rcpt_to.len() == 3)
        .expect("original still queued");
    let states: Vec<String> = m.rcpts.iter().map(|s| format!("{s:?}")).collect();
    assert!(states[0].starts_with("Delivered"), "{states:?}");
    assert!(states[1].starts_with("Bounced"), "{states:?}");
    assert!(
        states[2].starts_with("Deferred") && states[2].contains("450"),
        "{states:?}"
    );
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mx_delivery_verifies_the_mx_host_name() {
    let (ca, ds) = tls_downstream(&["mx.hospital.example"], false, Behaviour::default()).await;
    let b = GatewayBuilder::new();
    let ca_path = b.ca_file(&ca);
    let gw = b
        .toml(&format!(
            "[delivery]\nport = {}\n[delivery.dns]\nmode = \"static\"\nmx = {{ \"hospital.example\" = [\"mx.hospital.example\"] }}\nhosts = {{ \"mx.hospital.example\" = [\"127.0.0.1\"] }}\n[tls]\nca_file = \"{}\"\n",
            ds.addr.port(),
            ca_path.display()
        ))
        .start()
        .await;
    send(&gw, &["records@hospital.example"], &phi_body()).await;
    let got = ds.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    assert!(got[0].tls);
    assert_no_phi_in_clear(&ds);
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_to_a_next_hop_are_reused() {
    let (ca, ds) = tls_downstream(&["127.0.0.1"], false, Behaviour::default()).await;
    let gw = builder(&ds, Some(&ca), 3600).start().await;
    let mut c = Client::connect(gw.addr).await;
    c.reply().await;
    c.expect("EHLO desk.clinic.example", 250).await;
    for i in 0..10 {
        let body = if i % 2 == 0 { phi_body() } else { clean_body() };
        let r = c
            .send_message("desk@clinic.example", &["billing@payer.example"], &body)
            .await;
        assert_eq!(r.code, 250);
        // One at a time, so each delivery can find the previous session idle.
        ds.wait_for(i + 1, Duration::from_secs(10)).await;
    }
    let got = ds.received();
    assert_eq!(got.len(), 10);
    // PHI needs verify, the rest may: two cached sessions at most, not ten.
    assert!(
        ds.sessions() <= 3,
        "{} sessions for 10 messages",
        ds.sessions()
    );
    assert!(got.iter().all(|r| r.tls));
    assert_no_phi_in_clear(&ds);
    gw.shutdown().await;
}
