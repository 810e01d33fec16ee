//! MTA-STS (RFC 8461) against a spoofed MX: DNS from Knot on loopback,
//! policies from an HTTPS server with a test CA, the real binary.
//!
//! The attack: `victim.test`'s MX answer names `mx.attacker.test`, a host
//! with a perfectly valid certificate for its own name. Under plain
//! `verify` it would get the PHI; the domain's enforced policy lists only
//! `mx.victim.test`, so at the default PHI level (`secure`) it gets
//! nothing, and the policy still holds after a restart with the policy
//! server down (it is cached in the spool directory).

use std::time::{Duration, Instant};

use phigate_tests::dns::DnsServer;
use phigate_tests::downstream::{Behaviour, Downstream, server_tls};
use phigate_tests::https::PolicyServer;
use phigate_tests::{Client, GatewayBuilder, GatewayProcess, TestCa};

const ZONE: &str = "\
good MX 10 mx.good.test.\n\
mx.good A 127.0.0.1\n\
mta-sts.good A 127.0.0.1\n\
_mta-sts.good TXT \"v=STSv1; id=1\"\n\
victim MX 10 mx.attacker.test.\n\
mx.attacker A 127.0.0.1\n\
mta-sts.victim A 127.0.0.1\n\
_mta-sts.victim TXT \"v=STSv1; id=1\"\n\
trial MX 10 mx.attacker.test.\n\
mta-sts.trial A 127.0.0.1\n\
_mta-sts.trial TXT \"v=STSv1; id=1\"\n\
plain MX 10 mx.attacker.test.\n";

fn policy(mode: &str, mx: &str) -> String {
    format!("version: STSv1\r\nmode: {mode}\r\nmx: {mx}\r\nmax_age: 86400\r\n")
}

/// The recipient's outcome record once there is one.
fn outcome(gw: &GatewayProcess, id: &str, rcpt: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let t = gw.trail(id);
        let r = &t["recipients"][rcpt];
        if !r["outcome"].is_null() {
            return r.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no outcome for {rcpt}: {t}\n{}",
            gw.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The `tls_auth` and `mta_sts` of the attempt records for `id`.
fn attempts(gw: &GatewayProcess, id: &str) -> Vec<(String, String)> {
    phigate_tests::audit_records(&gw.audit_dir())
        .into_iter()
        .filter(|v| v["event"] == "attempt" && v["queue_id"] == id)
        .map(|v| {
            (
                v["tls_auth"].as_str().unwrap_or("").to_string(),
                v["mta_sts"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

async fn submit(gw: &GatewayProcess, rcpt: &str) -> String {
    let mut c = Client::greeted(gw.addr).await;
    let body = b"Subject: chart\r\n\r\nPatient SSN: 523-41-8876, chart attached.\r\n";
    let r = c.send_message("desk@clinic.example", &[rcpt], body).await;
    assert_eq!(r.code, 250, "{r}");
    c.expect("QUIT", 221).await;
    r.text().rsplit(' ').next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enforced_policy_stops_phi_to_a_spoofed_mx_and_survives_a_restart() {
    let dns = DnsServer::start(&[("test", ZONE)]);
    let ca = TestCa::new("phigate test CA");
    let certs = tempfile::tempdir().unwrap();
    // One certificate valid for every MX name, the attacker's included.
    let mx = ca.issue(
        certs.path(),
        "mx",
        &["mx.good.test", "mx.attacker.test", "mx.victim.test"],
    );
    let web = ca.issue(
        certs.path(),
        "web",
        &[
            "mta-sts.good.test",
            "mta-sts.victim.test",
            "mta-sts.trial.test",
        ],
    );
    let ds = Downstream::start(Behaviour {
        tls: Some(server_tls(&mx)),
        ..Default::default()
    })
    .await;
    let web_server = PolicyServer::start(
        &web,
        &[
            ("good.test", &policy("enforce", "mx.good.test")),
            ("victim.test", &policy("enforce", "mx.victim.test")),
            ("trial.test", &policy("testing", "mx.trial.test")),
        ],
    )
    .await;
    let b = GatewayBuilder::new();
    let ca_path = b.ca_file(&ca);
    let mut gw = b
        .toml(&format!(
            "[delivery]\nport = {}\nretry_initial_secs = 600\nretry_max_secs = 600\n\
             [delivery.dns]\nmode = \"servers\"\nservers = [\"{}\"]\n\
             [tls]\nca_file = \"{}\"\nmta_sts_port = {}\n",
            ds.addr.port(),
            dns.addr,
            ca_path.display(),
            web_server.addr.port()
        ))
        .spawn();

    // A listed MX: delivered, authenticated by MTA-STS.
    let good = submit(&gw, "records@good.test").await;
    assert_eq!(
        outcome(&gw, &good, "records@good.test")["outcome"],
        "delivered"
    );
    assert_eq!(
        attempts(&gw, &good),
        vec![("mta-sts".to_string(), "enforce 1".to_string())]
    );
    // The spoofed MX: nothing sent to it, the PHI held, the reason named.
    let spoofed = submit(&gw, "records@victim.test").await;
    let r = outcome(&gw, &spoofed, "records@victim.test");
    assert_eq!(r["outcome"], "held", "{r}");
    assert_eq!(r["reason"], "mta_sts_unlisted", "{r}");
    assert!(
        attempts(&gw, &spoofed).is_empty(),
        "no attempt to the spoofed MX"
    );
    // Testing mode: delivered, and the record says the host was not listed.
    let trial = submit(&gw, "records@trial.test").await;
    assert_eq!(
        outcome(&gw, &trial, "records@trial.test")["outcome"],
        "delivered"
    );
    assert_eq!(
        attempts(&gw, &trial),
        vec![("verify".to_string(), "testing 1 unlisted".to_string())]
    );
    // No policy at all: `secure` is `verify`, and the attacker's valid
    // certificate is all it takes (what MTA-STS is for).
    let plain = submit(&gw, "records@plain.test").await;
    assert_eq!(
        outcome(&gw, &plain, "records@plain.test")["outcome"],
        "delivered"
    );
    assert_eq!(
        attempts(&gw, &plain),
        vec![("verify".to_string(), String::new())]
    );
    let got = ds.wait_for(3, Duration::from_secs(10)).await;
    assert!(
        got.iter()
            .all(|m| m.tls && !m.rcpts.iter().any(|r| r.ends_with("@victim.test"))),
        "the spoofed MX received PHI"
    );
    let fetched = web_server.hits();
    assert_eq!(fetched, 3, "one fetch per policy domain, then the cache");

    // Restart with the policy server gone: the cached policy still holds.
    drop(web_server);
    gw.kill();
    gw.start();
    let again = submit(&gw, "records@victim.test").await;
    let r = outcome(&gw, &again, "records@victim.test");
    assert_eq!(r["outcome"], "held", "{r}");
    assert_eq!(r["reason"], "mta_sts_unlisted", "{r}");
    let good_again = submit(&gw, "records@good.test").await;
    assert_eq!(
        outcome(&gw, &good_again, "records@good.test")["outcome"],
        "delivered"
    );
    assert_eq!(
        attempts(&gw, &good_again),
        vec![("mta-sts".to_string(), "enforce 1".to_string())]
    );
    gw.kill();
}
