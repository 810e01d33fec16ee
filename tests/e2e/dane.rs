//! DANE (RFC 7672) against a DNSSEC-signed zone that Knot signs on
//! loopback, validated from a trust anchor the test writes: the TLSA
//! record decides, whatever PKIX would say.
//!
//! `good.test`'s MX presents the certificate its TLSA record names:
//! delivered, authenticated by DANE. `wrong.test`'s MX presents a
//! certificate any CA-based check accepts, but its TLSA record names
//! another: the PHI is not sent. `plain.test`'s MX has no TLSA record:
//! the MTA-STS / verify path, as for `insecure.test`, an unsigned zone
//! delegated without a DS record. A gateway trusting the wrong key sees bogus
//! answers: the PHI waits (deferred), it is neither bounced nor sent.

use std::time::{Duration, Instant};

use phigate_tests::dns::DnsServer;
use phigate_tests::downstream::{Behaviour, Downstream, server_tls};
use phigate_tests::{Client, GatewayBuilder, RunningGateway, TestCa};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The zones both tests use, Knot signing `test.` and `decoy.`: `good.test`'s
/// MX has a TLSA record naming `mx_cert`, `wrong.test`'s names another key,
/// `plain.test`'s has none; `insecure.test` is delegated without a DS and
/// its MX is `good.test`'s host. Every MX listens on `port`.
fn signed_zones(mx_cert: &std::path::Path, port: u16) -> DnsServer {
    let der = CertificateDer::from_pem_file(mx_cert).unwrap();
    let digest = ring::digest::digest(&ring::digest::SHA256, der.as_ref());
    let other = ring::digest::digest(&ring::digest::SHA256, b"another key");
    let zone = format!(
        "good MX 10 mx.good.test.\nmx.good A 127.0.0.1\n_{port}._tcp.mx.good TLSA 3 0 1 {}\n\
         wrong MX 10 mx.wrong.test.\nmx.wrong A 127.0.0.1\n_{port}._tcp.mx.wrong TLSA 3 0 1 {}\n\
         plain MX 10 mx.plain.test.\nmx.plain A 127.0.0.1\n\
         insecure NS ns.insecure.test.\nns.insecure A 127.0.0.1\n",
        hex(digest.as_ref()),
        hex(other.as_ref())
    );
    DnsServer::start_with(
        &[
            ("test", &zone),
            ("decoy", "x A 127.0.0.1\n"),
            // Unsigned, delegated from the signed zone without a DS record:
            // provably insecure. Its MX is the host with the TLSA record.
            ("insecure.test", "@ MX 10 mx.good.test.\n"),
        ],
        &["test", "decoy"],
    )
}

/// Every attempt and outcome record of the gateway's audit log.
fn records(gw: &RunningGateway) -> Vec<serde_json::Value> {
    phigate_tests::audit_records(&gw.audit_dir())
        .into_iter()
        .filter(|v| v["event"] == "outcome" || v["event"] == "attempt")
        .collect()
}

fn outcome(gw: &RunningGateway, rcpt: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(r) = records(gw)
            .into_iter()
            .find(|r| r["event"] == "outcome" && r["recipient"] == rcpt)
        {
            return r;
        }
        assert!(Instant::now() < deadline, "no outcome for {rcpt}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn attempt_to(gw: &RunningGateway, rcpt: &str) -> Option<serde_json::Value> {
    records(gw).into_iter().find(|r| {
        r["event"] == "attempt"
            && r["recipients"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == rcpt))
    })
}

async fn send_phi(gw: &RunningGateway, rcpt: &str) {
    let mut c = Client::greeted(gw.addr).await;
    let body = b"Subject: chart\r\n\r\nPatient SSN: 523-41-8876, chart attached.\r\n";
    let r = c.send_message("desk@clinic.example", &[rcpt], body).await;
    assert_eq!(r.code, 250, "{r}");
    c.expect("QUIT", 221).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tlsa_records_decide_and_bogus_answers_defer() {
    let ca = TestCa::new("phigate test CA");
    let certs = tempfile::tempdir().unwrap();
    let mx = ca.issue(
        certs.path(),
        "mx",
        &["mx.good.test", "mx.wrong.test", "mx.plain.test"],
    );
    let ds = Downstream::start(Behaviour {
        tls: Some(server_tls(&mx)),
        ..Default::default()
    })
    .await;
    let port = ds.addr.port();
    let dns = signed_zones(&mx.cert, port);
    let gateway = |anchor: &str| {
        let b = GatewayBuilder::new();
        let ca_path = b.ca_file(&ca);
        let anchor_path = b.dir().join("anchor.keys");
        std::fs::write(&anchor_path, anchor).unwrap();
        b.toml(&format!(
            "[delivery]\nport = {port}\nretry_initial_secs = 600\nretry_max_secs = 600\n\
             [delivery.dns]\nmode = \"servers\"\nservers = [\"{}\"]\ntrust_anchor = \"{}\"\n\
             [tls]\nca_file = \"{}\"\n",
            dns.addr,
            anchor_path.display(),
            ca_path.display()
        ))
    };
    let gw = gateway(&dns.dnskeys("test")).start().await;

    send_phi(&gw, "records@good.test").await;
    assert_eq!(outcome(&gw, "records@good.test")["outcome"], "delivered");
    let a = attempt_to(&gw, "records@good.test").unwrap();
    assert_eq!(
        (a["tls_auth"].as_str(), a["dane"].as_str()),
        (Some("dane"), Some("3 0 1")),
        "{a}"
    );

    // A certificate PKIX accepts, but not the one the TLSA record names.
    send_phi(&gw, "records@wrong.test").await;
    let o = outcome(&gw, "records@wrong.test");
    assert_eq!(o["outcome"], "held", "{o}");
    assert_eq!(o["reason"], "dane_mismatch", "{o}");

    // No TLSA record: certificate verified for the MX name.
    send_phi(&gw, "records@plain.test").await;
    assert_eq!(outcome(&gw, "records@plain.test")["outcome"], "delivered");
    let a = attempt_to(&gw, "records@plain.test").unwrap();
    assert_eq!(a["tls_auth"], "verify", "{a}");
    // An insecure MX answer: DANE does not apply, though the host has a
    // TLSA record (only a secure MX answer makes its name trustworthy).
    send_phi(&gw, "records@insecure.test").await;
    assert_eq!(
        outcome(&gw, "records@insecure.test")["outcome"],
        "delivered"
    );
    let a = attempt_to(&gw, "records@insecure.test").unwrap();
    assert_eq!(a["tls_auth"], "verify", "{a}");
    let got = ds.wait_for(3, Duration::from_secs(10)).await;
    assert!(
        got.iter()
            .all(|m| !m.rcpts.iter().any(|r| r.ends_with("@wrong.test"))),
        "PHI went to the host whose certificate the TLSA record does not name"
    );
    gw.shutdown().await;

    // A DS record for test.'s key-signing key (as a parent zone or IANA's
    // root-anchors file gives it) anchors as well as the keys: the gateway
    // asks for the zone's key set, checks the digest and the set's
    // signature by that key, and validates from the set.
    let ksk = dns
        .dnskeys("test")
        .lines()
        .find(|l| l.split_whitespace().nth(4) == Some("257"))
        .expect("a key-signing key")
        .to_string();
    let key_file = certs.path().join("ksk.key");
    std::fs::write(&key_file, format!("{ksk}\n")).unwrap();
    let ds = std::process::Command::new(phigate_tests::require_tool("ldns-key2ds"))
        .args(["-n", "-2"])
        .arg(&key_file)
        .output()
        .unwrap();
    assert!(ds.status.success(), "{ds:?}");
    let ds_line = String::from_utf8(ds.stdout).unwrap();
    let by_ds = gateway(&format!("; test. by digest\n{ds_line}"))
        .start()
        .await;
    send_phi(&by_ds, "records@good.test").await;
    let o = outcome(&by_ds, "records@good.test");
    assert_eq!(o["outcome"], "delivered", "{o}");
    let a = attempt_to(&by_ds, "records@good.test").unwrap();
    assert_eq!(a["tls_auth"], "dane", "{a}");
    by_ds.shutdown().await;
    // A DS naming no key of the zone: nothing validates, the PHI waits.
    let no_such_key = {
        let mut f: Vec<String> = ds_line.split_whitespace().map(str::to_string).collect();
        let last = f.len() - 1;
        f[last] = "00".repeat(32);
        f.join(" ")
    };
    let no_key = gateway(&no_such_key).start().await;
    send_phi(&no_key, "records@good.test").await;
    let o = outcome(&no_key, "records@good.test");
    assert_eq!(o["outcome"], "deferred", "{o}");
    assert_eq!(o["reason"], "dnssec_bogus", "{o}");
    no_key.shutdown().await;

    // The decoy zone's keys in place of test.'s: every answer is bogus.
    let wrong_anchor = dns.dnskeys("decoy").replace("decoy.", "test.");
    let bogus = gateway(&wrong_anchor).start().await;
    send_phi(&bogus, "records@good.test").await;
    let o = outcome(&bogus, "records@good.test");
    assert_eq!(o["outcome"], "deferred", "{o}");
    assert_eq!(o["reason"], "dnssec_bogus", "{o}");
    assert!(
        attempt_to(&bogus, "records@good.test").is_none(),
        "nothing may be tried"
    );
    bogus.shutdown().await;
}

/// A Postfix with `smtp_tls_security_level = dane`, resolving through a
/// validating BIND that trusts the same anchor, against the same zones and
/// MX host: what it delivers, defers and how it authenticates, beside
/// phigate's decisions in the test above.
#[test]
fn postfix_with_dane_reaches_the_same_decisions() {
    use phigate_tests::postfix::{Dane, Postfix, PostfixOptions};
    use phigate_tests::resolver::Resolver;

    let rt = tokio::runtime::Runtime::new().unwrap();
    let ca = TestCa::new("phigate test CA");
    let certs = tempfile::tempdir().unwrap();
    let mx = ca.issue(
        certs.path(),
        "mx",
        &["mx.good.test", "mx.wrong.test", "mx.plain.test"],
    );
    let ds = rt.block_on(Downstream::start(Behaviour {
        tls: Some(server_tls(&mx)),
        ..Default::default()
    }));
    let port = ds.addr.port();
    let dns = signed_zones(&mx.cert, port);
    let postfix_via = |anchor: &str| {
        let resolver = Resolver::start(&["test", "decoy"], dns.addr, anchor);
        let pf = Postfix::start(PostfixOptions {
            dane: Some(Dane {
                resolver: resolver.ip,
                port,
            }),
            ..Default::default()
        });
        (resolver, pf)
    };
    let submit = |pf: &Postfix, rcpt: &str| {
        rt.block_on(async {
            let mut c = Client::greeted(pf.addr).await;
            let body = b"Subject: chart\r\n\r\nPatient SSN: 523-41-8876, chart attached.\r\n";
            let r = c.send_message("desk@clinic.example", &[rcpt], body).await;
            assert_eq!(r.code, 250, "{r}");
            c.expect("QUIT", 221).await;
        })
    };
    // Postfix's decision for `rcpt`: its status and the TLS line of the
    // session to the host it tried.
    let decision = |pf: &Postfix, rcpt: &str, host: &str| {
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            let log = pf.log();
            let lines: Vec<&str> = log.lines().collect();
            let found = lines.iter().enumerate().find_map(|(i, l)| {
                if !l.contains(&format!("to=<{rcpt}>")) {
                    return None;
                }
                let status = l.split("status=").nth(1)?;
                Some((
                    i,
                    status.split_whitespace().next().unwrap_or("").to_string(),
                ))
            });
            if let Some((at, status)) = found {
                // The session's TLS line: the nearest one before, to the host.
                let tls = lines[..at]
                    .iter()
                    .rev()
                    .find(|l| l.contains("TLS connection established to") && l.contains(host))
                    .and_then(|l| l.split(": ").nth(1))
                    .map(|s| s.split(" TLS connection").next().unwrap_or("").to_string());
                return (status, tls);
            }
            assert!(Instant::now() < deadline, "no decision for {rcpt}:\n{log}");
            std::thread::sleep(Duration::from_millis(200));
        }
    };

    let (resolver, pf) = postfix_via(&dns.dnskeys("test"));
    let mut table = Vec::new();
    for (rcpt, host) in [
        ("records@good.test", "mx.good.test"),
        ("records@wrong.test", "mx.wrong.test"),
        ("records@plain.test", "mx.plain.test"),
        ("records@insecure.test", "mx.good.test"),
    ] {
        submit(&pf, rcpt);
        let d = decision(&pf, rcpt, host);
        table.push((rcpt, d));
    }
    // One resolver at a time (port 53): this one goes, Postfix is done.
    drop(resolver);
    let (wrong_resolver, bogus_pf) = postfix_via(&dns.dnskeys("decoy").replace("decoy.", "test."));
    submit(&bogus_pf, "records@good.test");
    let bogus = decision(&bogus_pf, "records@good.test", "mx.good.test");
    drop(wrong_resolver);
    for (rcpt, (status, tls)) in &table {
        println!(
            "postfix dane: {rcpt:24} {status:9} {}",
            tls.as_deref().unwrap_or("-")
        );
    }
    println!(
        "postfix dane: bogus anchor, good.test  {} {:?}",
        bogus.0, bogus.1
    );

    let by = |rcpt: &str| table.iter().find(|(r, _)| *r == rcpt).unwrap().1.clone();
    // The TLSA record decides, as for phigate: delivered, authenticated.
    assert_eq!(by("records@good.test").0, "sent", "{}", pf.log());
    assert_eq!(by("records@good.test").1.as_deref(), Some("Verified"));
    // A certificate the TLSA record does not name: not delivered.
    assert_eq!(by("records@wrong.test").0, "deferred", "{}", pf.log());
    // Bogus answers: nothing sent, deferred.
    assert_eq!(bogus.0, "deferred", "{}", bogus_pf.log());
    // Where they differ (the note's table): a secure MX without TLSA is
    // encrypted but unauthenticated for Postfix at `dane` (phigate:
    // certificate verified for the MX name), and an insecure MX whose host
    // has a secure TLSA record gets DANE from Postfix
    // (smtp_tls_dane_insecure_mx_policy) where phigate takes the verify path.
    assert_eq!(by("records@plain.test").0, "sent");
    assert_eq!(by("records@insecure.test").0, "sent");
    let got = rt.block_on(ds.wait_for(3, Duration::from_secs(10)));
    assert!(
        got.iter()
            .all(|m| !m.rcpts.iter().any(|r| r.ends_with("@wrong.test"))),
        "Postfix sent to the host the TLSA record does not name"
    );
}
