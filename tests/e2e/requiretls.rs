//! REQUIRETLS (RFC 8689) end to end: offered only after STARTTLS; a
//! message sent with it goes only to an authenticated next hop (an MX host
//! an enforced MTA-STS policy lists, or a configured route, certificate
//! verified) that offers REQUIRETLS itself, and then carries REQUIRETLS on
//! the wire (a second phigate receives it); anything else returns it with
//! 5.7.30. swaks cannot send the parameter, so the project's client does.

use std::time::{Duration, Instant};

use phigate_tests::dns::DnsServer;
use phigate_tests::downstream::{Behaviour, Downstream, server_tls};
use phigate_tests::https::PolicyServer;
use phigate_tests::{Client, GatewayBuilder, RunningGateway, TestCa};

const ZONE: &str = "\
good MX 10 mx.good.test.\n\
mx.good A 127.0.0.1\n\
mta-sts.good A 127.0.0.1\n\
_mta-sts.good TXT \"v=STSv1; id=1\"\n\
plain MX 10 mx.good.test.\n";

/// Every `outcome` record of the gateway's audit log, as (recipient,
/// outcome, reason, status).
fn outcomes(gw: &RunningGateway) -> Vec<(String, String, String, String)> {
    phigate_tests::audit_records(&gw.audit_dir())
        .into_iter()
        .filter(|v| v["event"] == "outcome")
        .map(|v| {
            let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
            (s("recipient"), s("outcome"), s("reason"), s("status"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requiretls_goes_only_to_authenticated_hops_that_offer_it() {
    let dns = DnsServer::start(&[("test", ZONE)]);
    let ca = TestCa::new("phigate test CA");
    let certs = tempfile::tempdir().unwrap();
    let mx_id = ca.issue(certs.path(), "mx", &["mx.good.test"]);
    let web_id = ca.issue(certs.path(), "web", &["mta-sts.good.test"]);
    let local_id = ca.issue(certs.path(), "local", &["127.0.0.1"]);
    let web = PolicyServer::start(
        &web_id,
        &[(
            "good.test",
            "version: STSv1\r\nmode: enforce\r\nmx: mx.good.test\r\nmax_age: 86400\r\n",
        )],
    )
    .await;
    // The next hop for good.test: a second phigate, which offers REQUIRETLS.
    let next = GatewayBuilder::new().tls(mx_id).start().await;
    // A route's next hop with verified TLS but no REQUIRETLS.
    let plain_tls = Downstream::start(Behaviour {
        tls: Some(server_tls(&local_id)),
        ..Default::default()
    })
    .await;
    let b = GatewayBuilder::new();
    let ca_path = b.ca_file(&ca);
    let local_for_inbound = ca.issue(b.dir(), "inbound", &["127.0.0.1"]);
    let gw = b
        .tls(local_for_inbound)
        .toml(&format!(
            "[delivery]\nport = {}\n\
             [delivery.dns]\nmode = \"servers\"\nservers = [\"{}\"]\n\
             [[delivery.route]]\ndomains = [\"noreq.example\", \"clinic.example\"]\nrelay = \"[127.0.0.1]:{}\"\n\
             [tls]\nca_file = \"{}\"\nmta_sts_port = {}\n",
            next.addr.port(),
            dns.addr,
            plain_tls.addr.port(),
            ca_path.display(),
            web.addr.port()
        ))
        .start()
        .await;

    let mut c = Client::connect(gw.addr).await;
    c.reply().await;
    let ehlo = c.expect("EHLO desk.clinic.example", 250).await;
    assert!(
        !ehlo.text().contains("REQUIRETLS"),
        "offered before TLS: {ehlo}"
    );
    let early = c.cmd("MAIL FROM:<desk@clinic.example> REQUIRETLS").await;
    assert_eq!(early.code, 530, "{early}");
    c.expect("STARTTLS", 220).await;
    c.starttls(ca.der(), "127.0.0.1").await;
    let ehlo = c.expect("EHLO desk.clinic.example", 250).await;
    assert!(ehlo.text().contains("REQUIRETLS"), "{ehlo}");
    c.expect("MAIL FROM:<desk@clinic.example> REQUIRETLS", 250)
        .await;
    for rcpt in ["x@good.test", "y@plain.test", "z@noreq.example"] {
        c.expect(&format!("RCPT TO:<{rcpt}>"), 250).await;
    }
    c.expect("DATA", 354).await;
    c.send_raw(b"Subject: schedule\r\n\r\nThe clinic opens at nine tomorrow.\r\n.\r\n")
        .await;
    let r = c.reply().await;
    assert_eq!(r.code, 250, "{r}");
    c.expect("QUIT", 221).await;

    let deadline = Instant::now() + Duration::from_secs(30);
    let settled = loop {
        let o = outcomes(&gw);
        let done = ["x@good.test", "y@plain.test", "z@noreq.example"]
            .iter()
            .all(|r| o.iter().any(|(rc, ..)| rc == r));
        if done {
            break o;
        }
        assert!(Instant::now() < deadline, "outcomes so far: {o:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let of = |rcpt: &str| {
        settled
            .iter()
            .find(|(r, ..)| r == rcpt)
            .map(|(_, o, reason, status)| (o.clone(), reason.clone(), status.clone()))
            .unwrap()
    };
    assert_eq!(of("x@good.test").0, "delivered", "{settled:?}");
    // An MX host not authenticated by MTA-STS, and a hop without REQUIRETLS.
    for rcpt in ["y@plain.test", "z@noreq.example"] {
        assert_eq!(
            of(rcpt),
            (
                "bounced".to_string(),
                "requiretls_unsupported".to_string(),
                "5.7.30".to_string()
            ),
            "{rcpt}"
        );
    }
    // The second phigate got it with REQUIRETLS on MAIL FROM.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let spool = next.spool();
        if let Some(m) = spool.messages.first() {
            assert!(m.envelope.requiretls, "REQUIRETLS not on the wire");
            assert_eq!(m.envelope.rcpt_to, vec!["x@good.test"]);
            break;
        }
        assert!(Instant::now() < deadline, "the next hop never got it");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Nothing reached the hop that does not offer REQUIRETLS.
    assert!(
        plain_tls
            .received()
            .iter()
            .all(|m| !m.rcpts.iter().any(|r| r == "z@noreq.example")),
        "a REQUIRETLS message went to a hop without REQUIRETLS"
    );
    gw.shutdown().await;
    next.shutdown().await;
}

/// `TLS-Required: No` (RFC 8689 section 5) lets mail without PHI go
/// without the TLS a domain's policy asks for; PHI ignores it, and the
/// audit record says which.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_required_no_is_honoured_for_mail_without_phi_only() {
    let plain = Downstream::start(Behaviour::default()).await;
    let gw = GatewayBuilder::new()
        .toml(&format!(
            "[[delivery.route]]\ndomains = [\"payer.example\", \"clinic.example\"]\nrelay = \"[127.0.0.1]:{}\"\n\
             [[tls.policy]]\ndomain = \"payer.example\"\ndefault = \"verify\"\n",
            plain.addr.port()
        ))
        .start()
        .await;
    let mut c = Client::greeted(gw.addr).await;
    let clean = b"TLS-Required: No\r\nSubject: hours\r\n\r\nWe open at nine.\r\n";
    let r = c
        .send_message("desk@clinic.example", &["front@payer.example"], clean)
        .await;
    assert_eq!(r.code, 250, "{r}");
    let phi =
        b"TLS-Required: no\r\nSubject: chart\r\n\r\nPatient SSN: 523-41-8876, chart attached.\r\n";
    let r = c
        .send_message("desk@clinic.example", &["claims@payer.example"], phi)
        .await;
    assert_eq!(r.code, 250, "{r}");
    c.expect("QUIT", 221).await;
    let got = plain.wait_for(1, Duration::from_secs(10)).await;
    assert!(
        got.iter()
            .any(|m| m.rcpts == ["front@payer.example"] && !m.tls),
        "the clean message went without TLS: {got:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let o = outcomes(&gw);
        if let Some((_, outcome, ..)) = o.iter().find(|(r, ..)| r == "claims@payer.example") {
            assert_eq!(outcome, "held", "{o:?}");
            break;
        }
        assert!(Instant::now() < deadline, "{o:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let plain_bytes = String::from_utf8_lossy(&plain.plaintext()).into_owned();
    assert!(!plain_bytes.contains("523-41-8876"), "PHI went in clear");
    let mut audit = String::new();
    for e in std::fs::read_dir(gw.audit_dir()).unwrap() {
        audit += &std::fs::read_to_string(e.unwrap().path()).unwrap_or_default();
    }
    assert!(audit.contains(r#""tls_required_no":"honoured""#), "{audit}");
    assert!(
        audit.contains(r#""tls_required_no":"ignored: PHI""#),
        "{audit}"
    );
    gw.shutdown().await;
}
