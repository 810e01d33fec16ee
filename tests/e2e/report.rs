//! The monthly compliance report, built from the audit log of a month of
//! mixed traffic (the month given on the command line), checked against
//! what was sent; a log that no longer verifies says so in the report.

use std::process::Command;
use std::time::{Duration, Instant};

use phigate_tests::downstream::{Behaviour, Downstream, trusted_tls};
use phigate_tests::{Client, GatewayBuilder, GatewayProcess, binary};

const PHI: &[u8] = b"Subject: chart\r\n\r\nPatient SSN: 523-41-8876, chart attached.\r\n";
const CLEAN: &[u8] = b"Subject: hours\r\n\r\nWe open at nine.\r\n";

/// The value of the element with `data-k="key"`.
fn figure(html: &str, key: &str) -> Option<String> {
    let at = html.find(&format!("data-k=\"{key}\""))?;
    let rest = &html[at..];
    let start = rest.find('>')? + 1;
    let end = rest[start..].find('<')?;
    Some(rest[start..start + end].to_string())
}

fn report(gw: &GatewayProcess, month: &str, out: &std::path::Path) -> String {
    let r = Command::new(binary())
        .args(["report", "--config"])
        .arg(&gw.config)
        .args(["--month", month, "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert!(r.status.success(), "{r:?}");
    std::fs::read_to_string(out).unwrap()
}

async fn send(gw: &GatewayProcess, rcpt: &str, body: &[u8]) -> u16 {
    let mut c = Client::greeted(gw.addr).await;
    let r = c
        .send_message("desk@clinic.example", &[rcpt], body)
        .await
        .code;
    c.expect("QUIT", 221).await;
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_counts_what_was_sent_and_shows_a_broken_log() {
    let (ca, tls) = trusted_tls(Behaviour::default()).await;
    let plain = Downstream::start(Behaviour::default()).await;
    let b = GatewayBuilder::new();
    let ca_path = b.ca_file(&ca);
    let gw = b
        .toml(&format!(
            "[[delivery.route]]\ndomains = [\"payer.example\"]\nrelay = \"[127.0.0.1]:{}\"\n\
             [[delivery.route]]\ndomains = [\"plain.example\", \"clinic.example\"]\nrelay = \"[127.0.0.1]:{}\"\n\
             [tls]\nca_file = \"{}\"\n\
             [[policy.rule]]\nid = \"no-phi-to-marketing\"\nphi = true\nrecipient_domains = [\"marketing.example\"]\naction = \"reject\"\n",
            tls.addr.port(),
            plain.addr.port(),
            ca_path.display()
        ))
        .spawn();
    assert_eq!(send(&gw, "claims@payer.example", CLEAN).await, 250);
    assert_eq!(send(&gw, "claims@payer.example", PHI).await, 250);
    assert_eq!(send(&gw, "front@plain.example", PHI).await, 250);
    assert_eq!(send(&gw, "front@plain.example", CLEAN).await, 250);
    assert_eq!(send(&gw, "news@marketing.example", PHI).await, 550);

    let month = {
        let out = Command::new("date")
            .args(["-u", "+%Y-%m"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.html");
    // Wait until every recipient has its outcome (three delivered, one
    // held, and the notice about the held one delivered to the sender).
    let deadline = Instant::now() + Duration::from_secs(30);
    let html = loop {
        let html = report(&gw, &month, &out);
        if figure(&html, "outcome.held").as_deref() == Some("1")
            && figure(&html, "outcome.delivered").as_deref() == Some("4")
        {
            break html;
        }
        assert!(Instant::now() < deadline, "outcomes never settled:\n{html}");
        std::thread::sleep(Duration::from_millis(300));
    };
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        !html.contains("<script") && !html.contains("src=\"http"),
        "self-contained"
    );
    assert!(html.matches("<svg").count() >= 5, "charts inline");
    assert!(
        figure(&html, "verification").unwrap().starts_with("intact"),
        "{html}"
    );
    // Four accepted messages and the notice the gateway wrote itself.
    assert_eq!(figure(&html, "summary.refused").as_deref(), Some("1"));
    assert_eq!(figure(&html, "protection.verify").as_deref(), Some("2"));
    assert_eq!(figure(&html, "protection.none").as_deref(), Some("2"));
    assert_eq!(
        figure(&html, "summary.phi_exceptions").as_deref(),
        Some("1")
    );
    let exceptions = &html[html.find("data-k=\"exceptions\"").unwrap()..];
    assert!(exceptions.contains("plain.example") && exceptions.contains("held"));
    assert!(
        html.contains("no-phi-to-marketing: reject"),
        "rules in force"
    );
    // Nothing of any message: no subject, no value, no address.
    for word in [
        "523-41-8876",
        "Subject",
        "chart attached",
        "front@plain.example",
    ] {
        assert!(!html.contains(word), "{word} in the report");
    }
    let sha = figure(&html, "sha256").unwrap();
    let above = &html[..html.find("<h2>Signature</h2>").unwrap()];
    let digest = ring::digest::digest(&ring::digest::SHA256, above.as_bytes());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(sha, hex, "the signature block covers the report");

    // The same report as a PDF, printed by a headless Chromium: its text
    // has the figures and the signature, and still nothing of a message.
    // The signature is the one of the HTML this run printed: each run
    // stamps its own time, so a run in another second signs other bytes.
    let pdf = dir.path().join("report.pdf");
    let printed = dir.path().join("printed.html");
    phigate_tests::require_tool("chromium");
    let r = Command::new(binary())
        .args(["report", "--config"])
        .arg(&gw.config)
        .args(["--month", &month, "--out"])
        .arg(&printed)
        .arg("--pdf")
        .arg(&pdf)
        .env(
            "PATH",
            format!("{}:/usr/bin", std::env::var("PATH").unwrap_or_default()),
        )
        .output()
        .unwrap();
    assert!(r.status.success(), "{r:?}");
    let text = Command::new(phigate_tests::require_tool("pdftotext"))
        .args(["-layout"])
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(text.status.success(), "{text:?}");
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    let sha = figure(&std::fs::read_to_string(&printed).unwrap(), "sha256").unwrap();
    assert!(text.contains(&sha[..16]), "signature in the PDF:\n{text}");
    assert!(
        text.contains("no-phi-to-marketing"),
        "rules in the PDF:\n{text}"
    );
    for word in ["523-41-8876", "chart attached", "front@plain.example"] {
        assert!(!text.contains(word), "{word} in the PDF");
    }
    // The charts came through as drawings (their captions are text in
    // the PDF), and every page renders.
    for caption in [
        "Messages per day",
        "Recipient outcomes per day",
        "Decisions by rule",
    ] {
        assert!(
            text.contains(caption),
            "chart `{caption}` in the PDF:\n{text}"
        );
    }
    let pages = dir.path().join("page");
    let png = Command::new(phigate_tests::require_tool("pdftoppm"))
        .args(["-png", "-r", "40"])
        .arg(&pdf)
        .arg(&pages)
        .output()
        .unwrap();
    assert!(png.status.success(), "{png:?}");
    let rendered: Vec<u64> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .map(|p| std::fs::metadata(p).unwrap().len())
        .collect();
    assert!(
        !rendered.is_empty() && rendered.iter().all(|&n| n > 1000),
        "rendered pages: {rendered:?}"
    );

    // An insider edits a record: the next report says the log fails.
    let audit = gw.audit_dir();
    let file = std::fs::read_dir(&audit)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".jsonl"))
        .unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replacen("\"outcome\":\"held\"", "\"outcome\":\"delivered\"", 1),
    )
    .unwrap();
    let html = report(&gw, &month, &out);
    let v = figure(&html, "verification").unwrap();
    assert!(v.starts_with("FAILED"), "{v}");
}
