//! What the people who run phigate rely on: `/metrics` after a mixed run
//! matches what was sent, delivered, held and refused; reloads with a good
//! and a bad file; rule test cases.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use phigate_tests::downstream::{Behaviour, Downstream, trusted_tls};
use phigate_tests::{Client, GatewayBuilder, GatewayProcess};

const SSN: &str = "135-14-4832";

fn phi(subject: &str) -> Vec<u8> {
    format!("Subject: {subject}\r\n\r\nPatient SSN: {SSN}, please update the record.\r\n")
        .into_bytes()
}

fn clean(subject: &str) -> Vec<u8> {
    format!("Subject: {subject}\r\n\r\nThe printer on floor 2 is fixed.\r\n").into_bytes()
}

/// The value of one sample line (`name{labels}` exactly as rendered).
fn sample(page: &str, series: &str) -> f64 {
    page.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

async fn send(gw: &GatewayProcess, to: &str, body: &[u8]) -> u16 {
    let mut c = Client::greeted(gw.addr).await;
    let r = c.send_message("desk@clinic.example", &[to], body).await;
    c.expect("QUIT", 221).await;
    r.code
}

async fn wait_metric(gw: &GatewayProcess, series: &str, want: f64) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, page) = gw.http_get("/metrics");
        if sample(&page, series) == want {
            return page;
        }
        assert!(
            Instant::now() < deadline,
            "{series} never reached {want}:\n{page}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A gateway after a mixed run: 3 clean and 2 PHI messages delivered to a
/// server with a trusted certificate, 1 PHI message held (its server has
/// no TLS, there is no encrypted route), 1 refused by a rule; and the
/// notice about the held one delivered. The downstreams live as long as it.
struct Mixed {
    gw: GatewayProcess,
    _good: Downstream,
    _plain: Downstream,
}

async fn mixed_run() -> Mixed {
    // payer.example and clinic.example: a server with a trusted certificate.
    // partner.example: no TLS (PHI there is held: no encrypted route).
    let (ca, good) = trusted_tls(Behaviour::default()).await;
    let plain = Downstream::start(Behaviour::default()).await;
    let b = GatewayBuilder::new();
    let ca_path = b.ca_file(&ca);
    let gw = b
        .toml(&format!(
            "[delivery]\nretry_initial_secs = 1\n\
             [[delivery.route]]\ndomains = [\"payer.example\", \"clinic.example\"]\nrelay = \"[127.0.0.1]:{}\"\n\
             [[delivery.route]]\ndomains = [\"partner.example\"]\nrelay = \"[127.0.0.1]:{}\"\n\
             [tls]\nca_file = \"{}\"\n\
             [[policy.rule]]\nid = \"no-phi-to-marketing\"\nphi = true\nrecipient_domains = [\"marketing.example\"]\naction = \"reject\"\n",
            good.addr.port(),
            plain.addr.port(),
            ca_path.display()
        ))
        .spawn();
    let (status, _) = gw.http_get("/healthz");
    assert!(status.contains("200"), "{status}");
    for i in 0..3 {
        assert_eq!(
            send(&gw, "billing@payer.example", &clean(&format!("c{i}"))).await,
            250
        );
    }
    for i in 0..2 {
        assert_eq!(
            send(&gw, "billing@payer.example", &phi(&format!("p{i}"))).await,
            250
        );
    }
    assert_eq!(send(&gw, "ap@partner.example", &phi("held")).await, 250);
    assert_eq!(send(&gw, "news@marketing.example", &phi("no")).await, 550);
    // Five messages and the notice about the held one reach the good server.
    let got = good.wait_for(6, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 6);
    Mixed {
        gw,
        _good: good,
        _plain: plain,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_after_a_mixed_run_match_what_happened() {
    let mixed = mixed_run().await;
    let gw = &mixed.gw;
    let page = wait_metric(gw, "phigate_quarantine_messages", 1.0).await;
    let page = if sample(&page, "phigate_recipients_total{outcome=\"delivered\"}") == 6.0 {
        page
    } else {
        wait_metric(gw, "phigate_recipients_total{outcome=\"delivered\"}", 6.0).await
    };
    let expect = [
        ("phigate_messages_received_total", 7.0),
        ("phigate_messages_accepted_total", 6.0),
        ("phigate_messages_refused_total{reason=\"policy\"}", 1.0),
        ("phigate_phi_messages_total", 4.0),
        ("phigate_findings_total{category=\"ssn\"}", 4.0),
        (
            "phigate_decisions_total{action=\"reject\",rule=\"no-phi-to-marketing\"}",
            1.0,
        ),
        (
            "phigate_decisions_total{action=\"require_tls\",rule=\"default.phi\"}",
            3.0,
        ),
        (
            "phigate_decisions_total{action=\"deliver\",rule=\"default.clean\"}",
            3.0,
        ),
        ("phigate_recipients_total{outcome=\"delivered\"}", 6.0),
        ("phigate_recipients_total{outcome=\"held\"}", 1.0),
        ("phigate_notices_total{reason=\"held\"}", 1.0),
        ("phigate_quarantine_messages", 1.0),
        ("phigate_queue_messages", 1.0),
        ("phigate_audit_write_failures_total", 0.0),
        // Seven sessions, and the harness's probe that the port is open.
        ("phigate_connections_total{outcome=\"accepted\"}", 8.0),
        ("phigate_config_last_reload_success", 1.0),
    ];
    let wrong: Vec<String> = expect
        .iter()
        .filter(|(s, v)| sample(&page, s) != *v)
        .map(|(s, v)| format!("{s}: want {v}, got {}", sample(&page, s)))
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}\n{page}");
    assert!(
        sample(
            &page,
            "phigate_delivery_attempts_total{result=\"delivered\",route=\"route\",tls_version=\"TLSv1_3\",verified=\"true\"}"
        ) >= 1.0,
        "{page}"
    );
    assert!(
        sample(
            &page,
            "phigate_delivery_attempts_total{result=\"policy_refused\",route=\"route\",tls_version=\"none\",verified=\"false\"}"
        ) == 1.0,
        "{page}"
    );
    assert!(page.contains("phigate_build_info{version=\""));
    assert!(
        page.contains("phigate_scan_duration_seconds_count 7"),
        "{page}"
    );
    assert!(page.contains("process_resident_memory_bytes"));
    // Labels carry no addresses, domains or values.
    for leak in [SSN, "payer.example", "partner.example", "clinic.example"] {
        assert!(!page.contains(leak), "{leak} on the metrics page");
    }
    let (status, body) = gw.http_get("/readyz");
    assert!(status.contains("200"), "{status} {body}");
    let (status, _) = gw.http_get("/nothing");
    assert!(status.contains("404"), "{status}");
}

fn reject_rule() -> &'static str {
    "[[policy.rule]]\nid = \"no-phi-to-marketing\"\nphi = true\nrecipient_domains = [\"marketing.example\"]\naction = \"reject\"\n"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_takes_a_good_file_refuses_a_bad_one_and_answers_sighup() {
    let gw = GatewayBuilder::new().spawn();
    let original = std::fs::read_to_string(&gw.config).unwrap();
    // Before: no rule, PHI to marketing is accepted (and held for lack of a route).
    assert_eq!(send(&gw, "news@marketing.example", &phi("a")).await, 250);
    // A good file: the rule is in force for new sessions; a session open
    // since before the reload finishes on the configuration it began with.
    let mut before = Client::greeted(gw.addr).await;
    std::fs::write(&gw.config, format!("{original}\n{}", reject_rule())).unwrap();
    let (code, out, err) = gw.cli(&["reload"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("reloaded"), "{out}");
    assert_eq!(send(&gw, "news@marketing.example", &phi("b")).await, 550);
    let r = before
        .send_message(
            "desk@clinic.example",
            &["news@marketing.example"],
            &phi("old"),
        )
        .await;
    assert_eq!(r.code, 250, "the open session keeps its configuration: {r}");
    before.expect("QUIT", 221).await;
    // A bad file: refused with file, line and key; the running config stays.
    let bad = format!("{original}\n{}", reject_rule().replace("reject", "shred"));
    std::fs::write(&gw.config, &bad).unwrap();
    let (code, _, err) = gw.cli(&["reload"]);
    assert_eq!(code, 1);
    let line = bad.lines().position(|l| l.contains("shred")).unwrap() + 1;
    assert!(
        err.contains(&format!("phigate.toml:{line}: policy.rule.action"))
            && err.contains("`shred` is not one of"),
        "{err}"
    );
    assert_eq!(send(&gw, "news@marketing.example", &phi("c")).await, 550);
    let (_, page) = gw.http_get("/metrics");
    assert_eq!(sample(&page, "phigate_config_last_reload_success"), 0.0);
    assert_eq!(
        sample(&page, "phigate_config_reloads_total{result=\"failed\"}"),
        1.0
    );
    // SIGHUP with the original file: the rule is gone again.
    std::fs::write(&gw.config, &original).unwrap();
    gw.signal("HUP");
    wait_metric(&gw, "phigate_config_reloads_total{result=\"ok\"}", 2.0).await;
    assert_eq!(send(&gw, "news@marketing.example", &phi("d")).await, 250);
    // Every reload is in the audit log, refused one included.
    let audit: String = std::fs::read_dir(gw.audit_dir())
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
        .collect();
    assert_eq!(
        audit
            .matches("\"event\":\"config_reload\",\"ok\":true")
            .count(),
        2,
        "{audit}"
    );
    assert_eq!(
        audit
            .matches("\"event\":\"config_reload\",\"ok\":false")
            .count(),
        1
    );
    assert!(gw.log().contains("configuration reload refused"));
}

fn rule_tests() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../config/rule-tests")
}

fn test_rules(dir: &std::path::Path) -> (i32, String) {
    let out = std::process::Command::new(phigate_tests::binary())
        .args(["test-rules", "--config"])
        .arg(rule_tests().join("phigate.toml"))
        .arg(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn the_starter_rule_tests_pass_and_the_failing_one_fails() {
    let (code, out) = test_rules(&rule_tests());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("10 check(s), 0 failed"), "{out}");
    assert!(
        out.contains("ssn-to-payer      billing@payer.example"),
        "{out}"
    );
    let (code, out) = test_rules(&rule_tests().join("must-fail"));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL") && out.contains("encrypt payer-claims"),
        "{out}"
    );
    // A case file with a typo is a clear error naming the file and line.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(rule_tests().join("lunch.eml"), dir.path().join("x.eml")).unwrap();
    std::fs::write(
        dir.path().join("x.expect.toml"),
        "categories = []\nactoins = {}\n",
    )
    .unwrap();
    let (code, out) = test_rules(dir.path());
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("x.expect.toml: line 2: unknown field `actoins`"),
        "{out}"
    );
}

/// A Prometheus server run for a test; killed when dropped.
struct Prometheus {
    child: std::process::Child,
    addr: std::net::SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Starts Prometheus scraping `target` every second, with the shipped alert rules.
fn prometheus(target: std::net::SocketAddr) -> Prometheus {
    let bin = phigate_tests::require_tool("prometheus");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n  - job_name: phigate\n    static_configs:\n      - targets: [\"{target}\"]\n",
            repo().join("deploy/prometheus/alerts.yml").display()
        ),
    )
    .unwrap();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], phigate_tests::gateway::free_port()));
    let child = std::process::Command::new(bin)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address={addr}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("log")).unwrap())
        .spawn()
        .unwrap();
    Prometheus {
        child,
        addr,
        _dir: dir,
    }
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// GET on Prometheus's HTTP API; the JSON answer (`None` while it is not up).
fn api(p: &Prometheus, path_and_query: &str) -> Option<serde_json::Value> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(p.addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {path_and_query} HTTP/1.0\r\nHost: x\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    serde_json::from_str(text.split_once("\r\n\r\n")?.1).ok()
}

fn query(p: &Prometheus, expr: &str) -> Option<serde_json::Value> {
    api(p, &format!("/api/v1/query?query={}", percent_encode(expr)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dashboard_query_and_alert_rule_works_on_real_scraped_data() {
    let mixed = mixed_run().await;
    let prom = prometheus(mixed.gw.metrics);
    // At least a few scrapes, so rate() and increase() have two points.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n = query(&prom, "count_over_time(up{job=\"phigate\"}[1m])")
            .and_then(|v| {
                v["data"]["result"][0]["value"][1]
                    .as_str()
                    .map(str::to_string)
            })
            .and_then(|n| n.parse::<f64>().ok())
            .unwrap_or(0.0);
        if n >= 4.0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus never scraped phigate 4 times"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("deploy/grafana/phigate-dashboard.json")).unwrap(),
    )
    .unwrap();
    let mut checked = 0;
    let mut empty = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            let answer = query(&prom, expr).unwrap_or_default();
            assert_eq!(answer["status"], "success", "{expr}: {answer}");
            if answer["data"]["result"]
                .as_array()
                .is_none_or(Vec::is_empty)
            {
                empty.push(format!("{}: {expr}", panel["title"]));
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked} queries");
    assert!(
        empty.is_empty(),
        "panels with no data after a mixed run: {empty:#?}"
    );
    // The certificate-expiry alert has its series: the store's states.
    let certs = query(&prom, "phigate_smime_certificates").unwrap_or_default();
    assert_eq!(
        certs["data"]["result"].as_array().map_or(0, Vec::len),
        3,
        "valid, expiring, unusable: {certs}"
    );
    // The alert rules load and evaluate without error; the held message fires none
    // yet (PhigatePhiHeld waits 30 minutes) but is pending-capable: its expression is true.
    let deadline = Instant::now() + Duration::from_secs(30);
    let rules = loop {
        let r = api(&prom, "/api/v1/rules").unwrap_or_default();
        let rules: Vec<serde_json::Value> = r["data"]["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
            .collect();
        if rules.len() == 8 && rules.iter().all(|r| r["health"] == "ok") {
            break rules;
        }
        assert!(Instant::now() < deadline, "alert rules unhealthy: {r}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let held = rules
        .iter()
        .find(|r| r["name"] == "PhigatePhiHeld")
        .unwrap();
    assert_eq!(held["state"], "pending", "{held}");
}
