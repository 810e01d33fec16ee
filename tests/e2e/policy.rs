//! The policy through the running relay: each action and modifier, the
//! encrypted route, quarantine release and delete, audit-only rules, the
//! senders' keywords; and what the audit log says about each.

use std::time::{Duration, Instant};

use phigate::audit::search::{Query, Trail, search};
use phigate::server::control::{self, Request};
use phigate_tests::downstream::{Behaviour, Downstream, server_tls};
use phigate_tests::{Client, GatewayBuilder, RunningGateway, TestCa};

const SSN: &str = "135-14-4832";

fn phi_body(subject: &str) -> Vec<u8> {
    format!(
        "Subject: {subject}\r\nMessage-ID: <claim-1@clinic.example>\r\n\r\nPatient SSN: {SSN}, please update the guarantor record.\r\n"
    )
    .into_bytes()
}

fn clean_body(subject: &str) -> Vec<u8> {
    format!("Subject: {subject}\r\n\r\nSee you at noon in the break room.\r\n").into_bytes()
}

/// Downstreams: `mail` stands for every recipient's server (plain, no TLS:
/// what forces PHI elsewhere), `secure` for the secure-mail provider
/// (STARTTLS with a test-CA certificate, AUTH).
struct Net {
    ca: TestCa,
    mail: Downstream,
    secure: Downstream,
}

async fn net() -> Net {
    let ca = TestCa::new("phigate test CA");
    let dir = tempfile::tempdir().unwrap();
    let id = ca.issue(dir.path(), "secure", &["127.0.0.1"]);
    let secure = Downstream::start(Behaviour {
        tls: Some(server_tls(&id)),
        auth: Some(("phigate".into(), "s3cret".into())),
        ..Default::default()
    })
    .await;
    let mail = Downstream::start(Behaviour::default()).await;
    Net { ca, mail, secure }
}

/// A gateway routing payer.example, clinic.example and marketing.example to
/// `net.mail`, with the encrypted route to `net.secure` when `encryption`.
fn gateway(net: &Net, encryption: bool, policy: &str) -> GatewayBuilder {
    let b = GatewayBuilder::new();
    let ca = b.ca_file(&net.ca);
    let mut toml = format!(
        "[delivery]\nretry_initial_secs = 1\nretry_max_secs = 1\n\
         [[delivery.route]]\ndomains = [\"payer.example\", \"clinic.example\", \"marketing.example\"]\nrelay = \"[127.0.0.1]:{}\"\n\
         [tls]\nca_file = \"{}\"\n",
        net.mail.addr.port(),
        ca.display()
    );
    if encryption {
        toml += &format!(
            "[encryption]\nrelay = \"[127.0.0.1]:{}\"\nuser = \"phigate\"\npassword = \"s3cret\"\nsubject_tag = \"[encrypt]\"\nheader = \"X-Secure-Delivery: yes\"\n",
            net.secure.addr.port()
        );
    }
    toml += policy;
    b.toml(&toml)
}

async fn send(gw: &RunningGateway, rcpts: &[&str], body: &[u8]) -> phigate_tests::client::Reply {
    let mut c = Client::greeted(gw.addr).await;
    let r = c.send_message("desk@clinic.example", rcpts, body).await;
    c.expect("QUIT", 221).await;
    r
}

fn trails(gw: &RunningGateway, q: Query) -> Vec<Trail> {
    search(&gw.audit_dir(), &q).unwrap()
}

/// Waits until the audit log shows `outcome` for `rcpt`.
async fn wait_outcome(gw: &RunningGateway, rcpt: &str, outcome: &str) -> Trail {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let q = Query {
            recipient: Some(rcpt.into()),
            ..Query::default()
        };
        if let Some(t) = trails(gw, q)
            .into_iter()
            .find(|t| t.recipients.get(rcpt).and_then(|r| r.outcome.as_deref()) == Some(outcome))
        {
            return t;
        }
        assert!(
            Instant::now() < deadline,
            "no `{outcome}` for {rcpt}: {:#?}",
            trails(gw, Query::default())
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn assert_no_phi_in_clear(ds: &Downstream) {
    let plain = String::from_utf8_lossy(&ds.plaintext()).into_owned();
    assert!(!plain.contains(SSN), "PHI crossed in clear:\n{plain}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reject_refuses_with_5_7_1_naming_the_rule_and_no_phi() {
    let net = net().await;
    let policy = "[[policy.rule]]\nid = \"no-phi-to-marketing\"\nphi = true\nrecipient_domains = [\"marketing.example\"]\naction = \"reject\"\nnotify_sender = true\n";
    let gw = gateway(&net, false, policy).start().await;
    let r = send(&gw, &["news@marketing.example"], &phi_body("list")).await;
    assert_eq!(r.code, 550, "{r}");
    let text = r.text();
    assert!(
        text.contains("5.7.1") && text.contains("no-phi-to-marketing"),
        "{text}"
    );
    assert!(text.contains("protected health information") && !text.contains(SSN));
    // The same message without PHI is not the rule's business.
    let r = send(&gw, &["news@marketing.example"], &clean_body("list")).await;
    assert_eq!(r.code, 250, "{r}");
    // Nothing of the refused message was queued; the sender got a notice.
    let got = net.mail.wait_for(2, Duration::from_secs(10)).await;
    let notice = got.iter().find(|m| m.from.is_empty()).expect("a notice");
    let text = String::from_utf8_lossy(&notice.data);
    assert!(
        text.contains("was refused") && text.contains("no-phi-to-marketing"),
        "{text}"
    );
    assert!(!text.contains(SSN));
    let refused = trails(
        &gw,
        Query {
            action: Some("reject".into()),
            ..Query::default()
        },
    );
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].refused, Some(550));
    assert_eq!(refused[0].categories, ["ssn"]);
    assert_no_phi_in_clear(&net.mail);
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypt_goes_to_the_provider_over_verified_tls_with_auth_trigger_and_modifiers() {
    let net = net().await;
    let policy = "[[policy.rule]]\nid = \"payer-phi\"\ncategories = [\"ssn\"]\nrecipient_domains = [\"payer.example\"]\naction = \"encrypt\"\ntag_subject = \"[PHI]\"\nadd_header = \"X-Practice-Policy: payer-phi\"\n";
    let gw = gateway(&net, true, policy).start().await;
    let r = send(&gw, &["billing@payer.example"], &phi_body("claim 7")).await;
    assert_eq!(r.code, 250, "{r}");
    let got = net.secure.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert!(m.tls, "over TLS");
    assert_eq!(
        m.auth.as_deref(),
        Some("phigate"),
        "authenticated to the provider"
    );
    assert_eq!(m.rcpts, ["billing@payer.example"]);
    let text = String::from_utf8_lossy(&m.data);
    assert!(text.contains("Subject: [PHI] [encrypt] claim 7"), "{text}");
    assert!(
        text.contains("X-Secure-Delivery: yes\r\n")
            && text.contains("X-Practice-Policy: payer-phi\r\n")
    );
    assert!(net.mail.received().is_empty(), "nothing by regular mail");
    let t = wait_outcome(&gw, "billing@payer.example", "delivered").await;
    let r = &t.recipients["billing@payer.example"];
    assert_eq!(
        (r.action.as_str(), r.rule.as_str()),
        ("encrypt", "payer-phi")
    );
    assert!(
        r.delivered_over.as_deref().unwrap().contains("(verified)"),
        "{r:?}"
    );
    assert!(
        r.host.as_deref().unwrap().contains("via encryption"),
        "{r:?}"
    );
    assert_no_phi_in_clear(&net.mail);
    assert_no_phi_in_clear(&net.secure);
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phi_falls_back_to_the_encrypted_route_when_the_server_has_no_verified_tls() {
    let net = net().await;
    let gw = gateway(&net, true, "").start().await;
    let r = send(&gw, &["billing@payer.example"], &phi_body("claim")).await;
    assert_eq!(r.code, 250);
    let got = net.secure.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "rerouted to the provider");
    assert!(String::from_utf8_lossy(&got[0].data).contains("Subject: [encrypt] claim"));
    // The built-in default tells the sender.
    let notices = net.mail.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(notices.len(), 1);
    assert!(notices[0].from.is_empty());
    assert!(
        String::from_utf8_lossy(&notices[0].data)
            .contains("sent through the\r\npractice's encrypted-delivery service")
    );
    let t = wait_outcome(&gw, "billing@payer.example", "delivered").await;
    assert_eq!(t.recipients["billing@payer.example"].action, "encrypt");
    assert_eq!(t.recipients["billing@payer.example"].rule, "default.phi");
    assert_no_phi_in_clear(&net.mail);
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quarantine_holds_and_notifies_then_release_and_delete_work() {
    let net = net().await;
    let policy = "[[policy.rule]]\nid = \"hold-partner\"\nphi = true\nrecipient_domains = [\"partner.example\"]\naction = \"quarantine\"\nnotify_sender = true\n";
    // The partner's server does TLS with a certificate we trust: a release
    // goes out over verified TLS.
    let dir = tempfile::tempdir().unwrap();
    let id = net.ca.issue(dir.path(), "partner", &["127.0.0.1"]);
    let partner = Downstream::start(Behaviour {
        tls: Some(server_tls(&id)),
        ..Default::default()
    })
    .await;
    let route = format!(
        "[[delivery.route]]\ndomains = [\"partner.example\"]\nrelay = \"[127.0.0.1]:{}\"\n",
        partner.addr.port()
    );
    let gw = gateway(&net, false, policy).toml(&route).start().await;
    let r = send(
        &gw,
        &["ap@partner.example", "billing@payer.example"],
        &phi_body("two"),
    )
    .await;
    assert_eq!(r.code, 250, "{r}");
    let held_id = r.text().rsplit(' ').next().unwrap().to_string();
    let r = send(&gw, &["ar@partner.example"], &phi_body("three")).await;
    let delete_id = r.text().rsplit(' ').next().unwrap().to_string();
    // Held: the sender hears so, nothing reaches the partner.
    let got = net.mail.wait_for(2, Duration::from_secs(10)).await;
    let texts: Vec<String> = got
        .iter()
        .map(|m| String::from_utf8_lossy(&m.data).into_owned())
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("held and has not been sent") && t.contains("hold-partner")),
        "{texts:?}"
    );
    assert!(partner.received().is_empty());
    let spool_dir = gw.dir().join("spool");
    // Not held: nothing to release.
    let wrong = control::call(
        &spool_dir,
        &Request::Release {
            id: "00000000000000AA".into(),
        },
    )
    .unwrap();
    assert!(!wrong.ok);
    let r = control::call(
        &spool_dir,
        &Request::Release {
            id: held_id.clone(),
        },
    )
    .unwrap();
    assert!(r.ok, "{r:?}");
    // payer.example has no verified TLS and there is no encrypted route:
    // its recipient was held too, and is released with it.
    assert_eq!(
        r.recipients,
        ["ap@partner.example", "billing@payer.example"]
    );
    let got = partner.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    assert!(got[0].tls, "released PHI still goes over verified TLS");
    let r = control::call(
        &spool_dir,
        &Request::Delete {
            id: delete_id.clone(),
        },
    )
    .unwrap();
    assert!(r.ok, "{r:?}");
    let t = wait_outcome(&gw, "ar@partner.example", "deleted").await;
    assert_eq!(t.queue_id, delete_id);
    let t = wait_outcome(&gw, "ap@partner.example", "delivered").await;
    assert_eq!(t.queue_id, held_id);
    // The deleted message left the spool; nothing else waits.
    let deadline = Instant::now() + Duration::from_secs(10);
    while gw
        .spool()
        .messages
        .iter()
        .any(|m| m.envelope.id.to_string() == delete_id)
    {
        assert!(
            Instant::now() < deadline,
            "deleted message still in the spool"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_no_phi_in_clear(&partner);
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_only_rules_record_what_they_would_do_and_mail_flows() {
    let net = net().await;
    let policy = "[[policy.rule]]\nid = \"trial-block\"\nsenders = [\"@clinic.example\"]\naction = \"reject\"\naudit_only = true\n";
    let gw = gateway(&net, false, policy).start().await;
    let r = send(&gw, &["billing@payer.example"], &clean_body("invoice")).await;
    assert_eq!(r.code, 250, "{r}");
    net.mail.wait_for(1, Duration::from_secs(10)).await;
    let t = wait_outcome(&gw, "billing@payer.example", "delivered").await;
    assert_eq!(t.recipients["billing@payer.example"].rule, "default.clean");
    let text = std::fs::read_dir(gw.audit_dir())
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
        .collect::<String>();
    assert!(
        text.contains(r#""would":{"rule":"trial-block","action":"reject"}"#),
        "{text}"
    );
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_senders_opt_in_keyword_forces_encryption() {
    let net = net().await;
    let gw = gateway(&net, true, "").start().await;
    let r = send(
        &gw,
        &["billing@payer.example"],
        &clean_body("[secure] invoice"),
    )
    .await;
    assert_eq!(r.code, 250);
    let got = net.secure.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    let t = wait_outcome(&gw, "billing@payer.example", "delivered").await;
    assert_eq!(t.recipients["billing@payer.example"].rule, "opt_in");
    gw.shutdown().await;
}
