//! The administrators' web console in a real browser (headless Chromium
//! through ChromeDriver), against the real binary: sign-in with password
//! and TOTP, the month's figures, a held message's findings with masked
//! values, release with a reason (audited; a reason holding PHI refused),
//! audit search, the rule test, the report; a viewer who cannot release
//! even with a hand-made form; forged and cross-site posts refused;
//! lockout after failed sign-ins; metrics; and HTTPS with Secure cookies.

use std::time::{Duration, Instant};

use phigate::console::session::{base32, totp};
use phigate_tests::browser::{Browser, http};
use phigate_tests::downstream::{Behaviour, Downstream, server_tls};
use phigate_tests::gateway::free_port;
use phigate_tests::{Client, GatewayBuilder, GatewayProcess, TestCa};

const SSN: &str = "523-41-8876";

const ALICE_KEY: &[u8] = b"alice-totp-key-0123456789";
const VICTOR_KEY: &[u8] = b"victor-totp-key-987654321";

fn hash(password: &str) -> String {
    phigate::auth::hash(password).unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A gateway routing lab.example to `lab`, its console on `console`
/// (`tls` = false: loopback HTTP), with alice (admin) and victor (viewer);
/// `extra` appended (tables).
fn gateway(lab: &Downstream, console: &str, extra: &str) -> GatewayProcess {
    GatewayBuilder::new()
        .toml(&format!(
            "{extra}\n[delivery]\nretry_initial_secs = 1\nretry_max_secs = 1\n\
             [[delivery.route]]\ndomains = [\"lab.example\"]\nrelay = \"[127.0.0.1]:{}\"\n\
             [console]\n{console}\n\
             [[console.user]]\nname = \"alice\"\npassword_hash = \"{}\"\nrole = \"admin\"\ntotp_secret = \"{}\"\n\
             [[console.user]]\nname = \"victor\"\npassword_hash = \"{}\"\nrole = \"viewer\"\ntotp_secret = \"{}\"\n",
            lab.addr.port(),
            hash("alice-pass-1"),
            base32(ALICE_KEY),
            hash("victor-pass-2"),
            base32(VICTOR_KEY),
        ))
        .spawn()
}

/// Signs in through the form.
fn sign_in(b: &Browser, base: &str, name: &str, password: &str, code: &str) {
    b.go(&format!("{base}/"));
    b.type_into(&b.find("#name"), name);
    b.type_into(&b.find("#password"), password);
    b.type_into(&b.find("#code"), code);
    b.click(&b.find("#submit"));
}

/// The CSRF token in the page's forms.
fn csrf_of(source: &str) -> String {
    let at = source.find("name=\"csrf\" value=\"").expect("a form") + 19;
    source[at..at + 64].to_string()
}

fn form_post(
    addr: std::net::SocketAddr,
    path: &str,
    cookie: &str,
    extra: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut headers = vec![
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Cookie", cookie),
    ];
    headers.extend_from_slice(extra);
    let (code, _, body) = http(addr, "POST", path, &headers, Some(body.to_string())).unwrap();
    (code, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_reviews_and_releases_and_a_viewer_cannot() {
    // The lab's server does STARTTLS with a certificate the gateway
    // trusts; a policy rule holds PHI to the lab for review.
    let ca = TestCa::new("lab CA");
    let certs = tempfile::tempdir().unwrap();
    let lab_id = ca.issue(certs.path(), "lab", &["127.0.0.1"]);
    let lab = Downstream::start(Behaviour {
        tls: Some(server_tls(&lab_id)),
        ..Default::default()
    })
    .await;
    let trusted = certs.path().join("ca.pem");
    ca.write_pem(&trusted);
    let port = free_port();
    let gw = gateway(
        &lab,
        &format!("listen = \"127.0.0.1:{port}\"\ntls = false"),
        &format!(
            "[tls]\nca_file = \"{}\"\n[[policy.rule]]\nid = \"review-lab\"\nphi = true\n\
             recipient_domains = [\"lab.example\"]\naction = \"quarantine\"\n",
            trusted.display()
        ),
    );
    let console: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let base = format!("http://{console}");

    // PHI to the lab: held by the rule.
    let mut c = Client::greeted(gw.addr).await;
    let body = format!(
        "From: desk@clinic.example\r\nTo: results@lab.example\r\nSubject: results\r\n\r\n\
         Patient SSN {SSN}, please call back.\r\n"
    );
    let r = c
        .send_message(
            "desk@clinic.example",
            &["results@lab.example"],
            body.as_bytes(),
        )
        .await;
    assert_eq!(r.code, 250, "{r}");
    let id = r.text().rsplit(' ').next().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !gw.cli(&["quarantine", "list"]).1.contains(&id) {
        assert!(Instant::now() < deadline, "not held: {}", gw.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    tokio::task::block_in_place(|| {
        let b = Browser::start();
        // Not signed in: every page leads to the sign-in form.
        b.go(&format!("{base}/quarantine"));
        assert_eq!(b.url(), format!("{base}/"));
        // A wrong password: refused, and said so.
        sign_in(&b, &base, "alice", "wrong", &totp(ALICE_KEY, now() / 30));
        assert!(b.text(&b.find("#error")).contains("wrong"));
        b.screenshot("signin-refused");
        // Right password, wrong code: refused too (the second factor).
        sign_in(&b, &base, "alice", "alice-pass-1", "000000");
        assert!(b.try_find("#error").is_some(), "{}", b.source());
        sign_in(
            &b,
            &base,
            "alice",
            "alice-pass-1",
            &totp(ALICE_KEY, now() / 30),
        );
        assert_eq!(b.url(), format!("{base}/overview"), "{}", b.source());
        assert_eq!(b.text(&b.find("#who")), "alice (admin)");
        assert_eq!(b.text(&b.find("#messages")), "1");
        assert_eq!(b.text(&b.find("#phi")), "1");
        assert_eq!(b.text(&b.find("#held")), "1");
        b.screenshot("overview");

        // The quarantine, and the held message: findings by category,
        // values masked, the message itself not shown.
        b.go(&format!("{base}/quarantine"));
        assert!(b.text(&b.find("#count")).starts_with("1 message"));
        b.click(&b.find(".held-id"));
        assert_eq!(b.url(), format!("{base}/quarantine/{id}"));
        let page = b.source();
        assert!(b.text(&b.find("#findings")).contains("ssn"), "{page}");
        assert!(page.contains("8876"), "the masked value's tail: {page}");
        assert!(!page.contains(SSN), "the value in clear: {page}");
        assert!(!page.contains("please call back"), "the body: {page}");
        b.screenshot("message");
        let alice_cookie = format!(
            "phigate_session={}",
            b.cookie("phigate_session").unwrap()["value"]
                .as_str()
                .unwrap()
        );
        let alice_csrf = csrf_of(&page);

        // Posts that are not this session's own form: no token, another
        // site's origin. Refused before anything happens.
        let path = format!("/quarantine/{id}/release");
        let (code, text) = form_post(console, &path, &alice_cookie, &[], "reason=x");
        assert_eq!(code, 403, "{text}");
        assert!(text.contains("did not come from this session"), "{text}");
        let (code, text) = form_post(
            console,
            &path,
            &alice_cookie,
            &[("Origin", "http://evil.example")],
            &format!("csrf={alice_csrf}&reason=x"),
        );
        assert_eq!(code, 403, "{text}");
        assert!(text.contains("cross-site"), "{text}");

        // A reason that holds PHI is refused (it would stay in the audit
        // log for years); a plain one releases the message.
        b.type_into(&b.find("#release-reason"), &format!("patient SSN {SSN} ok"));
        b.click(&b.find("#release"));
        assert!(b.text(&b.find("#error")).contains("PHI"), "{}", b.source());
        b.go(&format!("{base}/quarantine/{id}"));
        b.type_into(&b.find("#release-reason"), "checked with the lab by phone");
        b.click(&b.find("#release"));
        assert!(
            b.text(&b.find("#done")).contains("results@lab.example"),
            "{}",
            b.source()
        );
        b.screenshot("released");
        // Released, it reaches the lab, over verified TLS (the PHI floor).
        let got =
            tokio::runtime::Handle::current().block_on(lab.wait_for(1, Duration::from_secs(20)));
        assert_eq!(got.len(), 1, "{}", gw.log());
        assert!(got[0].tls, "released PHI went without TLS");
        let deadline = Instant::now() + Duration::from_secs(20);
        while gw.trail(&id)["recipients"]["results@lab.example"]["outcome"] != "delivered" {
            assert!(Instant::now() < deadline, "{:#}", gw.trail(&id));
            std::thread::sleep(Duration::from_millis(100));
        }
        let t = gw.trail(&id);
        let over = t["recipients"]["results@lab.example"]["delivered_over"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(over.contains("verified"), "{t:#}");

        // Audit search by queue ID.
        b.go(&format!("{base}/audit?id={id}"));
        assert!(b.text(&b.find("#count")).starts_with("1 message"));
        assert!(b.text(&b.find("#trails")).contains(&id));
        assert!(b.text(&b.find("#trails")).contains("delivered"));
        b.screenshot("audit-search");

        // The rule test: what the running policy would do.
        b.go(&format!("{base}/test"));
        b.type_into(&b.find("#sender"), "desk@clinic.example");
        b.type_into(&b.find("#recipients"), "billing@payer.example");
        b.type_into(
            &b.find("#message"),
            &format!("Subject: claim\n\nMember SSN {SSN}\n"),
        );
        b.click(&b.find("#run"));
        assert!(
            b.text(&b.find("#verdict")).contains("PHI"),
            "{}",
            b.source()
        );
        assert!(
            b.text(&b.find("#decisions"))
                .contains("billing@payer.example")
        );
        assert!(!b.source().contains(SSN));
        b.screenshot("rule-test");
        // The same with a message file uploaded (bare LF lines, as saved
        // by many mail clients).
        let eml = certs.path().join("claim.eml");
        std::fs::write(
            &eml,
            format!("Subject: claim\nTo: billing@payer.example\n\nMember SSN {SSN}\n"),
        )
        .unwrap();
        b.go(&format!("{base}/test"));
        b.type_into(&b.find("#recipients"), "billing@payer.example");
        b.type_into(&b.find("#file"), eml.to_str().unwrap());
        b.click(&b.find("#run"));
        assert!(
            b.text(&b.find("#verdict")).contains("PHI"),
            "{}",
            b.source()
        );

        // The month's report, as `phigate report` writes it.
        let month = &phigate::date::day(now())[..7];
        b.go(&format!("{base}/report?month={month}"));
        assert!(
            b.source().contains(&format!("Compliance report — {month}")),
            "{}",
            b.source()
        );
        b.screenshot("report");

        b.go(&format!("{base}/overview"));
        b.click(&b.find("#signout"));
        assert_eq!(b.url(), format!("{base}/"));
        b.go(&format!("{base}/overview"));
        assert_eq!(b.url(), format!("{base}/"), "signed out");

        // The viewer sees the message but no way to release it; a form
        // made by hand with the viewer's own token is refused too.
        sign_in(
            &b,
            &base,
            "victor",
            "victor-pass-2",
            &totp(VICTOR_KEY, now() / 30),
        );
        assert_eq!(b.text(&b.find("#who")), "victor (viewer)");
        b.go(&format!("{base}/quarantine/{id}"));
        assert!(b.try_find("#release").is_none(), "{}", b.source());
        let victor_cookie = format!(
            "phigate_session={}",
            b.cookie("phigate_session").unwrap()["value"]
                .as_str()
                .unwrap()
        );
        let victor_csrf = csrf_of(&b.source());
        let (code, text) = form_post(
            console,
            &format!("/quarantine/{id}/delete"),
            &victor_cookie,
            &[],
            &format!("csrf={victor_csrf}&reason=cleanup"),
        );
        assert_eq!(code, 403, "{text}");
        assert!(text.contains("Viewers cannot"), "{text}");
        b.screenshot("viewer");

        // Failed sign-ins lock the client out before any password is
        // checked: even the right one is refused then.
        let mut locked = false;
        for _ in 0..6 {
            let (code, _) = form_post(console, "/", "", &[], "name=alice&password=nope&code=1");
            if code == 429 {
                locked = true;
                break;
            }
            assert_eq!(code, 401);
        }
        assert!(locked, "no lockout after repeated failures");
        let right = format!(
            "name=alice&password=alice-pass-1&code={}",
            totp(ALICE_KEY, now() / 30 + 1)
        );
        assert_eq!(form_post(console, "/", "", &[], &right).0, 429);
        // A sign-in form is small: a large body from anyone is refused
        // unread, not buffered.
        let big = format!("name={}", "a".repeat(200 * 1024));
        assert_eq!(form_post(console, "/", "", &[], &big).0, 413);
    });

    // Every action is in the audit log, and no PHI with it.
    let records = phigate_tests::audit_records(&gw.audit_dir());
    let console_events: Vec<&serde_json::Value> =
        records.iter().filter(|r| r["event"] == "console").collect();
    for (user, action) in [
        (Some("alice"), "sign_in_failed"),
        (Some("alice"), "sign_in"),
        (Some("alice"), "audit_search"),
        (Some("alice"), "rule_test"),
        (Some("alice"), "report"),
        (Some("alice"), "sign_out"),
        (Some("victor"), "sign_in"),
    ] {
        assert!(
            console_events
                .iter()
                .any(|r| r["action"] == action && r["user"].as_str() == user),
            "{user:?} {action} not audited: {console_events:#?}"
        );
    }
    assert!(
        records.iter().any(|r| r["event"] == "quarantine"
            && r["queue_id"] == id.as_str()
            && r["op"] == "release"
            && r["by"] == "console:alice"
            && r["reason"] == "checked with the lab by phone"),
        "the release is audited with who and why"
    );
    let all = records
        .iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!all.contains(SSN), "PHI in the audit log");
    assert!(!all.contains("alice-pass-1"), "a password in the audit log");

    // Metrics: requests by page and status, sign-in failures.
    let (_, metrics) = gw.http_get("/metrics");
    assert!(
        metrics.contains("phigate_console_requests_total{code=\"200\",page=\"overview\"}"),
        "{metrics}"
    );
    let failures: f64 = metrics
        .lines()
        .find(|l| l.starts_with("phigate_console_signin_failures_total "))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    assert!(failures >= 4.0, "{metrics}");
    assert!(
        metrics.contains("phigate_reports_built_total 1"),
        "{metrics}"
    );
}

/// Over HTTPS (the gateway's own certificate): the sign-in page answers,
/// the session cookie is `__Host-`, Secure and HttpOnly, HSTS is sent; and
/// plain HTTP on a public address is refused by the configuration check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_secure_cookies_and_no_plain_http_off_loopback() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let lab = Downstream::start(Behaviour::default()).await;
    let ca = TestCa::new("console CA");
    let dir = tempfile::tempdir().unwrap();
    let id = ca.issue(dir.path(), "console", &["127.0.0.1"]);
    let port = free_port();
    let gw = gateway(
        &lab,
        &format!(
            "listen = \"127.0.0.1:{port}\"\ncert = \"{}\"\nkey = \"{}\"",
            id.cert.display(),
            id.key.display()
        ),
        "",
    );
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    // The console listens once the gateway runs, just after SMTP.
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "console not listening: {}",
            gw.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let exchange = |request: String| {
        let connector = connector.clone();
        async move {
            let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap();
            let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
            let mut tls = connector.connect(name, tcp).await.expect("verified TLS");
            tls.write_all(request.as_bytes()).await.unwrap();
            let mut out = Vec::new();
            let _ = tls.read_to_end(&mut out).await;
            String::from_utf8_lossy(&out).into_owned()
        }
    };
    let page = exchange(format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    ))
    .await;
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("Sign in to phigate"), "{page}");
    let form = format!(
        "name=alice&password=alice-pass-1&code={}",
        totp(ALICE_KEY, now() / 30)
    );
    let answer = exchange(format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    ))
    .await;
    assert!(answer.starts_with("HTTP/1.1 303"), "{answer}\n{}", gw.log());
    let cookie = answer
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_default();
    for part in [
        "__Host-phigate=",
        "Secure",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
    ] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("strict-transport-security: max-age="),
        "{answer}"
    );

    // Plain HTTP is for loopback only.
    let path = dir.path().join("public.toml");
    std::fs::write(
        &path,
        "[console]\nlisten = \"0.0.0.0:8443\"\ntls = false\nrequire_totp = false\n",
    )
    .unwrap();
    let out = std::process::Command::new(phigate_tests::binary())
        .arg("check-config")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("public.toml:3: console.tls: false is allowed only on a loopback address"),
        "{err}"
    );
}
