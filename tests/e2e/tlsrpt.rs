//! TLS reporting (RFC 8460): after a day's traffic to two domains that
//! publish MTA-STS policies and `_smtp._tls` records, `phigate tls-report`
//! (the day given, as the clock a test can set) sends one aggregate report
//! to each: by mail through the queue to `good.test`'s `mailto:` rua, by
//! HTTPS POST to `victim.test`'s. The reports' JSON has every field RFC
//! 8460 section 4.4 requires, and the counts are what was sent.

use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use phigate_tests::dns::DnsServer;
use phigate_tests::downstream::{Behaviour, Downstream, server_tls};
use phigate_tests::https::PolicyServer;
use phigate_tests::{Client, GatewayBuilder, GatewayProcess, TestCa, binary};

fn gunzip(data: &[u8], dir: &std::path::Path) -> Vec<u8> {
    let path = dir.join("report.json.gz");
    std::fs::write(&path, data).unwrap();
    let out = Command::new("gzip").arg("-dc").arg(&path).output().unwrap();
    assert!(out.status.success(), "not gzip: {out:?}");
    out.stdout
}

/// The fields RFC 8460 section 4.4 requires, with their JSON types.
fn assert_rfc8460(r: &serde_json::Value) {
    for key in ["organization-name", "contact-info", "report-id"] {
        assert!(r[key].is_string(), "{key} in {r:#}");
    }
    for key in ["start-datetime", "end-datetime"] {
        let v = r["date-range"][key].as_str().expect(key);
        assert!(
            v.len() == 20 && v.ends_with('Z') && v.as_bytes()[10] == b'T',
            "{v}"
        );
    }
    let policies = r["policies"].as_array().expect("policies");
    assert!(!policies.is_empty());
    for p in policies {
        let kind = p["policy"]["policy-type"].as_str().unwrap();
        assert!(["sts", "tlsa", "no-policy-found"].contains(&kind), "{kind}");
        assert!(p["policy"]["policy-domain"].is_string());
        assert!(p["summary"]["total-successful-session-count"].is_u64());
        assert!(p["summary"]["total-failure-session-count"].is_u64());
        for f in p["failure-details"].as_array().expect("failure-details") {
            assert!(f["result-type"].is_string() && f["failed-session-count"].is_u64());
        }
    }
}

async fn submit(gw: &GatewayProcess, rcpt: &str) {
    let mut c = Client::greeted(gw.addr).await;
    let body = b"Subject: chart\r\n\r\nPatient SSN: 523-41-8876, chart attached.\r\n";
    let r = c.send_message("desk@clinic.example", &[rcpt], body).await;
    assert_eq!(r.code, 250, "{r}");
    c.expect("QUIT", 221).await;
}

fn tls_report(gw: &GatewayProcess, day: &str) -> String {
    let out = Command::new(binary())
        .args(["tls-report", "--config"])
        .arg(&gw.config)
        .args(["--day", day])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}\n{}", gw.log());
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_days_sessions_are_reported_to_each_rua() {
    let ca = TestCa::new("phigate test CA");
    let certs = tempfile::tempdir().unwrap();
    let mx = ca.issue(certs.path(), "mx", &["mx.good.test", "mx.attacker.test"]);
    let web = ca.issue(
        certs.path(),
        "web",
        &["mta-sts.good.test", "mta-sts.victim.test"],
    );
    let ds = Downstream::start(Behaviour {
        tls: Some(server_tls(&mx)),
        ..Default::default()
    })
    .await;
    let policy =
        |mx: &str| format!("version: STSv1\r\nmode: enforce\r\nmx: {mx}\r\nmax_age: 86400\r\n");
    let server = PolicyServer::start(
        &web,
        &[
            ("good.test", &policy("mx.good.test")),
            ("victim.test", &policy("mx.victim.test")),
        ],
    )
    .await;
    let zone = format!(
        "good MX 10 mx.good.test.\nmx.good A 127.0.0.1\nmta-sts.good A 127.0.0.1\n\
         _mta-sts.good TXT \"v=STSv1; id=1\"\n\
         _smtp._tls.good TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@reports.example\"\n\
         victim MX 10 mx.attacker.test.\nmx.attacker A 127.0.0.1\nmta-sts.victim A 127.0.0.1\n\
         _mta-sts.victim TXT \"v=STSv1; id=1\"\n\
         _smtp._tls.victim TXT \"v=TLSRPTv1; rua=https://mta-sts.victim.test:{}/tlsrpt\"\n",
        server.addr.port()
    );
    let dns = DnsServer::start(&[("test", &zone)]);
    let b = GatewayBuilder::new();
    let ca_path = b.ca_file(&ca);
    let gw = b
        .toml(&format!(
            "[delivery]\nport = {port}\nretry_initial_secs = 600\nretry_max_secs = 600\n\
             [delivery.dns]\nmode = \"servers\"\nservers = [\"{}\"]\n\
             [[delivery.route]]\ndomains = [\"reports.example\"]\nrelay = \"[127.0.0.1]:{port}\"\n\
             [tls]\nca_file = \"{}\"\nmta_sts_port = {}\n",
            dns.addr,
            ca_path.display(),
            server.addr.port(),
            port = ds.addr.port(),
        ))
        .spawn();
    submit(&gw, "a@good.test").await;
    submit(&gw, "b@good.test").await;
    submit(&gw, "c@victim.test").await;
    assert_eq!(ds.wait_for(2, Duration::from_secs(20)).await.len(), 2);
    // The victim's message is held (its MX is not in the policy): wait for
    // that outcome before reporting the day.
    let deadline = Instant::now() + Duration::from_secs(20);
    let today = {
        let out = Command::new("date")
            .args(["-u", "+%Y-%m-%d"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let day_file = gw_spool(&gw).join("tlsrpt").join(format!("{today}.jsonl"));
    while std::fs::read_to_string(&day_file)
        .unwrap_or_default()
        .lines()
        .count()
        < 3
    {
        assert!(
            Instant::now() < deadline,
            "sessions not recorded:\n{}",
            gw.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let sent = tls_report(&gw, &today);
    assert!(sent.contains("2 report(s) sent"), "{sent}");

    // By mail, through the queue.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mail = loop {
        if let Some(m) = ds
            .received()
            .into_iter()
            .find(|m| m.rcpts == ["tlsrpt@reports.example"])
        {
            break String::from_utf8(m.data).unwrap();
        }
        assert!(Instant::now() < deadline, "no report mail:\n{}", gw.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        mail.contains("Content-Type: multipart/report; report-type=\"tlsrpt\""),
        "{mail}"
    );
    assert!(mail.contains("TLS-Report-Domain: good.test"), "{mail}");
    assert!(
        !mail.contains("523-41-8876") && !mail.contains("a@good.test"),
        "{mail}"
    );
    let part = mail
        .split("Content-Type: application/tlsrpt+gzip\r\n")
        .nth(1)
        .expect("the gzip part");
    let b64: String = part
        .split("\r\n\r\n")
        .nth(1)
        .unwrap()
        .split("--")
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    let gz = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    let good: serde_json::Value = serde_json::from_slice(&gunzip(&gz, certs.path())).unwrap();
    assert_rfc8460(&good);
    let p = &good["policies"][0];
    assert_eq!(p["policy"]["policy-type"], "sts");
    assert_eq!(p["policy"]["policy-domain"], "good.test");
    assert_eq!(p["policy"]["mx-host"][0], "mx.good.test");
    assert_eq!(p["summary"]["total-successful-session-count"], 2);
    assert_eq!(p["summary"]["total-failure-session-count"], 0);

    // By HTTPS POST.
    let posts = server.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0].path, "/tlsrpt");
    assert_eq!(posts[0].content_type, "application/tlsrpt+gzip");
    let victim: serde_json::Value =
        serde_json::from_slice(&gunzip(&posts[0].body, certs.path())).unwrap();
    assert_rfc8460(&victim);
    let p = &victim["policies"][0];
    assert_eq!(p["policy"]["policy-domain"], "victim.test");
    assert_eq!(p["summary"]["total-successful-session-count"], 0);
    assert_eq!(p["summary"]["total-failure-session-count"], 1);
    let f = &p["failure-details"][0];
    assert_eq!(f["result-type"], "validation-failure");
    assert_eq!(f["receiving-mx-hostname"], "mx.attacker.test");

    // A day is reported once.
    let again = tls_report(&gw, &today);
    assert!(again.contains("0 report(s) sent"), "{again}");
}

fn gw_spool(gw: &GatewayProcess) -> std::path::PathBuf {
    gw.config.parent().unwrap().join("spool")
}
