//! Why a message bounced, was deferred or held, as an operator sees it:
//! every outcome carries its stage, reason class, reply code and enhanced
//! status code in the audit record, `audit search`, the log line and
//! `queue list`; DSNs carry RFC 3463 codes; the remote server's text (which
//! here quotes a patient) appears nowhere.

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use phigate_tests::dns::DnsServer;
use phigate_tests::downstream::{Behaviour, Downstream, tls_downstream};
use phigate_tests::{Client, GatewayBuilder, GatewayProcess, binary};

/// Words the downstream puts in its replies: none may be kept.
const REPLY_TEXT: &[&str] = &["Ann Lee", "135-14-4832", "quota of Ann", "too big for"];

fn phi_body(tag: &str) -> Vec<u8> {
    format!("Subject: {tag}\r\n\r\nPatient SSN: 523-41-8876, chart attached.\r\n").into_bytes()
}

fn audit_search_text(gw: &GatewayProcess) -> String {
    let out = Command::new(binary())
        .args(["audit", "search", "--config"])
        .arg(&gw.config)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

async fn submit(gw: &GatewayProcess, rcpts: &[&str], body: &[u8]) -> String {
    let mut c = Client::greeted(gw.addr).await;
    let r = c.send_message("desk@clinic.example", rcpts, body).await;
    assert_eq!(r.code, 250, "{r}");
    c.expect("QUIT", 221).await;
    r.text().rsplit(' ').next().unwrap().to_string()
}

/// Waits until every recipient of `id` has an outcome in the audit log.
fn settled(gw: &GatewayProcess, id: &str, rcpts: &[&str]) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let t = gw.trail(id);
        let done = rcpts
            .iter()
            .all(|r| !t["recipients"][*r]["outcome"].is_null());
        if done {
            return t;
        }
        assert!(
            Instant::now() < deadline,
            "no outcome for every recipient: {t:#}\n{}",
            gw.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_outcome_says_why_with_codes_and_no_reply_text() {
    let dns = DnsServer::start(&[(
        "test",
        "nullmx MX 0 .\n\
         good MX 10 mx.good.test.\n\
         mx.good A 127.0.0.1\n",
    )]);
    let mut replies = HashMap::new();
    for (rcpt, reply) in [
        (
            "gone",
            "550 5.1.1 <gone@payer.example>: Ann Lee 135-14-4832 unknown",
        ),
        ("full", "452 4.2.2 over the quota of Ann Lee"),
        ("big", "552 5.3.4 message too big for Ann Lee"),
    ] {
        replies.insert(format!("{rcpt}@payer.example"), reply.to_string());
    }
    let ds = Downstream::start(Behaviour {
        rcpt_replies: replies,
        ..Default::default()
    })
    .await;
    let (ca, wrong_name) = tls_downstream(&["other.example"], false, Behaviour::default()).await;
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let b = GatewayBuilder::new();
    let ca_path = b.ca_file(&ca);
    let gw_toml = format!(
        "[delivery]\nport = {port}\nretry_initial_secs = 600\nretry_max_secs = 600\n\
         [delivery.dns]\nmode = \"servers\"\nservers = [\"{dns}\"]\n\
         [[delivery.route]]\ndomains = [\"payer.example\", \"clinic.example\", \"plain.example\"]\nrelay = \"[127.0.0.1]:{port}\"\n\
         [[delivery.route]]\ndomains = [\"closed.example\"]\nrelay = \"[127.0.0.1]:{closed}\"\n\
         [[delivery.route]]\ndomains = [\"mismatch.example\"]\nrelay = \"[127.0.0.1]:{tls}\"\n\
         [tls]\nca_file = \"{ca}\"\n",
        port = ds.addr.port(),
        dns = dns.addr,
        tls = wrong_name.addr.port(),
        ca = ca_path.display(),
    );
    let gw = b.toml(&gw_toml).spawn();

    // Mail without PHI to recipients that each fail differently.
    let clean: &[&str] = &[
        "ok@payer.example",
        "gone@payer.example",
        "full@payer.example",
        "big@payer.example",
        "x@gone.test",
        "x@nullmx.test",
        "x@closed.example",
    ];
    let id = submit(
        &gw,
        clean,
        b"Subject: lunch\r\n\r\nSee you at noon in the break room.\r\n",
    )
    .await;
    // PHI to servers that cannot have it: held.
    let held_plain = submit(&gw, &["desk@plain.example"], &phi_body("a")).await;
    let held_name = submit(&gw, &["desk@mismatch.example"], &phi_body("b")).await;

    let t = settled(&gw, &id, clean);
    let expect = [
        (
            "gone@payer.example",
            "bounced",
            "rcpt",
            "mailbox_unknown",
            Some(550u64),
            "5.1.1",
        ),
        (
            "full@payer.example",
            "deferred",
            "rcpt",
            "mailbox_full",
            Some(452),
            "4.2.2",
        ),
        (
            "big@payer.example",
            "bounced",
            "rcpt",
            "message_too_large",
            Some(552),
            "5.3.4",
        ),
        (
            "x@gone.test",
            "bounced",
            "dns",
            "no_such_domain",
            None,
            "5.1.2",
        ),
        ("x@nullmx.test", "bounced", "dns", "null_mx", None, "5.1.10"),
        (
            "x@closed.example",
            "deferred",
            "connect",
            "connection_refused",
            None,
            "4.4.1",
        ),
    ];
    for (rcpt, outcome, stage, reason, code, status) in expect {
        let r = &t["recipients"][rcpt];
        assert_eq!(r["outcome"], outcome, "{rcpt}: {r}");
        assert_eq!(r["stage"], stage, "{rcpt}: {r}");
        assert_eq!(r["reason"], reason, "{rcpt}: {r}");
        assert_eq!(r["status"], status, "{rcpt}: {r}");
        assert_eq!(r["code"].as_u64(), code, "{rcpt}: {r}");
    }
    assert_eq!(t["recipients"]["ok@payer.example"]["outcome"], "delivered");
    assert!(t["recipients"]["ok@payer.example"].get("reason").is_none());

    for (id, class) in [
        (&held_plain, "tls_not_offered"),
        (&held_name, "cert_name_mismatch"),
    ] {
        let rcpt = t_rcpt(&settled_any(&gw, id));
        let (name, r) = rcpt;
        assert_eq!(r["outcome"], "held", "{name}: {r}");
        assert_eq!(r["stage"], "tls", "{name}: {r}");
        assert_eq!(r["reason"], class, "{name}: {r}");
        // The hold names each step of the chain that could not take it.
        let detail = r["detail"].as_str().unwrap_or_default();
        assert_eq!(
            detail, "policy: no secure route (S/MIME skipped: no certificate; no encrypted route)",
            "{name}: {r}"
        );
    }

    // The DSN for the bounced recipients: RFC 3463 codes, our words only.
    let deadline = Instant::now() + Duration::from_secs(20);
    let dsn = loop {
        let dsn = ds
            .received()
            .iter()
            .map(|m| String::from_utf8_lossy(&m.data).into_owned())
            .find(|m| m.contains("report-type=\"delivery-status\""));
        if let Some(d) = dsn {
            break d;
        }
        assert!(Instant::now() < deadline, "no DSN:\n{}", gw.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for (rcpt, status) in [
        ("gone@payer.example", "5.1.1"),
        ("big@payer.example", "5.3.4"),
        ("x@gone.test", "5.1.2"),
        ("x@nullmx.test", "5.1.10"),
    ] {
        assert!(
            dsn.contains(&format!(
                "Final-Recipient: rfc822; {rcpt}\r\nAction: failed\r\nStatus: {status}\r\n"
            )),
            "{rcpt} {status}:\n{dsn}"
        );
    }
    assert!(dsn.contains("Diagnostic-Code: smtp; 550 5.1.1 (mailbox unknown)"));
    assert!(!dsn.contains("5.0.0"), "{dsn}");

    // The search, as printed for a person: classes and codes, nothing empty.
    let text = audit_search_text(&gw);
    assert!(
        text.contains("-> bounced at rcpt: 550 5.1.1 mailbox_unknown")
            && text.contains("-> bounced at dns: 5.1.2 no_such_domain")
            && text.contains("-> deferred at connect: 4.4.1 connection_refused"),
        "{text}"
    );
    assert!(text.contains("DSN about"), "{text}");
    assert!(
        !text.contains("(rule )") && !text.contains("client  "),
        "{text}"
    );

    // The log line for each, by class and codes.
    let log = gw.log();
    for needle in [
        "mailbox_unknown",
        "mailbox_full",
        "message_too_large",
        "no_such_domain",
        "null_mx",
        "connection_refused",
        "tls_not_offered",
        "cert_name_mismatch",
    ] {
        assert!(
            log.lines()
                .any(|l| l.contains("recipient ") && l.contains(needle)),
            "no log line with {needle}:\n{log}"
        );
    }

    // queue list: the waiting recipients with last and next attempt and why.
    let out = Command::new(binary())
        .args(["queue", "list", "--config"])
        .arg(&gw.config)
        .output()
        .unwrap();
    let list = String::from_utf8(out.stdout).unwrap();
    assert!(
        list.contains("<x@closed.example> deferred after 1 attempt(s), last ")
            && list.contains("connect: 4.4.1 connection refused [connection_refused]"),
        "{list}"
    );
    assert!(
        list.contains("<desk@plain.example> held: policy: no secure route: tls: 4.7.10"),
        "{list}"
    );

    // Not a word of any reply anywhere an operator looks.
    let mut audit = String::new();
    for e in std::fs::read_dir(gw.audit_dir()).unwrap() {
        audit += &std::fs::read_to_string(e.unwrap().path()).unwrap_or_default();
    }
    assert!(audit.contains(r#""reason":"mailbox_unknown""#), "{audit}");
    assert!(audit.contains(r#""status":"5.1.1""#));
    for word in REPLY_TEXT {
        for (what, text) in [
            ("log", &log),
            ("audit log", &audit),
            ("audit search", &text),
            ("queue list", &list),
            ("DSN", &dsn),
        ] {
            assert!(!text.contains(word), "{what} holds reply text {word:?}");
        }
    }
    gw.terminate();
}

/// Waits until some recipient of `id` has an outcome.
fn settled_any(gw: &GatewayProcess, id: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let t = gw.trail(id);
        if let Some(m) = t["recipients"].as_object()
            && m.values().any(|r| !r["outcome"].is_null())
        {
            return t;
        }
        assert!(Instant::now() < deadline, "no outcome: {t:#}\n{}", gw.log());
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn t_rcpt(t: &serde_json::Value) -> (String, serde_json::Value) {
    let (name, r) = t["recipients"].as_object().unwrap().iter().next().unwrap();
    (name.clone(), r.clone())
}
