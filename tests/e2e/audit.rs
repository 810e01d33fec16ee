//! The audit log through the running relay: the record is on disk before
//! the 250, a log that cannot be written refuses mail, and no PHI value of
//! the whole corpus ends up in a log line or an audit record.

use std::path::{Path, PathBuf};
use std::time::Duration;

use phigate::audit::search::{Query, search};
use phigate_tests::disk::{Tmpfs, fill};
use phigate_tests::downstream::{Behaviour, trusted_tls};
use phigate_tests::{Client, GatewayBuilder, corpus_dir};

fn audit_text(dir: &Path) -> String {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_250_comes_after_its_audit_record_is_on_disk() {
    let mut gw = GatewayBuilder::new().spawn();
    let mut c = Client::greeted(gw.addr).await;
    for i in 0..20 {
        let body = format!("Subject: n{i}\r\n\r\nPatient SSN: 135-14-4832 visit {i}\r\n");
        let r = c
            .send_message(
                "desk@clinic.example",
                &["billing@payer.example"],
                body.as_bytes(),
            )
            .await;
        assert_eq!(r.code, 250, "{r}");
        let id = r.text().rsplit(' ').next().unwrap().to_string();
        // Read the files now, while the client has not even said QUIT.
        let text = audit_text(&gw.audit_dir());
        for event in ["received", "scan", "decision"] {
            assert!(
                text.lines()
                    .any(|l| l.contains(&format!("\"queue_id\":\"{id}\""))
                        && l.contains(&format!("\"event\":\"{event}\""))),
                "no {event} record for {id} at the time of its 250"
            );
        }
    }
    // Killed without warning, the log still verifies: every record was whole.
    gw.kill();
    assert_verifies(&gw.audit_dir());
}

/// `phigate audit verify` passes on `dir`.
fn assert_verifies(dir: &Path) {
    let out = phigate_tests::verify_audit(dir.parent().unwrap());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_is_refused_while_the_audit_log_cannot_be_written() {
    let b = GatewayBuilder::new();
    let audit = b.dir().join("audit");
    let _fs = Tmpfs::mount(&audit, "256k");
    let gw = b.start().await;
    let filler = fill(&audit);
    let mut c = Client::greeted(gw.addr).await;
    let body = b"Subject: x\r\n\r\nPatient SSN: 135-14-4832\r\n";
    // The audit file's last page may still hold a record or two; the first
    // message whose records do not fit must be refused, and not queued.
    let mut queued = 0;
    let refused = loop {
        let r = c
            .send_message("desk@clinic.example", &["billing@payer.example"], body)
            .await;
        match r.code {
            250 if queued < 20 => queued += 1,
            _ => break r,
        }
    };
    assert_eq!(refused.code, 451, "{refused}");
    assert!(
        refused.text().contains("4.3.0") && refused.text().contains("Audit log"),
        "{refused}"
    );
    assert_eq!(
        gw.spool().messages.len(),
        queued,
        "nothing unaudited was queued"
    );
    // Space again: mail flows again.
    std::fs::remove_file(filler).unwrap();
    let r = c
        .send_message("desk@clinic.example", &["billing@payer.example"], body)
        .await;
    assert_eq!(r.code, 250, "{r}");
    assert_eq!(gw.spool().messages.len(), queued + 1);
    c.expect("QUIT", 221).await;
    gw.shutdown().await;
}

/// Every PHI value the corpus labels name, in every form they are given.
fn labelled_values() -> Vec<String> {
    let labels = std::fs::read_to_string(corpus_dir().join("labels.jsonl")).unwrap();
    let mut values = Vec::new();
    for line in labels.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for span in v["spans"].as_array().unwrap() {
            for key in ["text", "value", "date"] {
                if let Some(s) = span[key].as_str() {
                    values.push(s.to_string());
                }
            }
        }
    }
    values.sort();
    values.dedup();
    values
}

/// Where `value` occurs in `hay` as a whole token (not inside a longer run
/// of letters and digits, such as a hex hash or queue ID).
fn occurs(hay: &str, value: &str) -> bool {
    hay.match_indices(value).any(|(i, _)| {
        let before = hay[..i].chars().next_back();
        let after = hay[i + value.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_phi_value_of_the_corpus_reaches_logs_or_the_audit_log() {
    // A downstream with a trusted certificate, so PHI is delivered and
    // every delivery path logs and audits.
    let (ca, ds) = trusted_tls(Behaviour::default()).await;
    let b = GatewayBuilder::new();
    let ca_path = b.ca_file(&ca);
    let policy = "[[policy.rule]]\nid = \"hold-mrn\"\ncategories = [\"mrn\"]\naction = \"quarantine\"\nnotify_sender = true\n";
    let mut gw = b
        .toml(&format!(
            "[delivery]\nretry_initial_secs = 1\n[[delivery.route]]\ndomains = [\"payer.example\", \"clinic.example\"]\nrelay = \"[127.0.0.1]:{}\"\n[tls]\nca_file = \"{}\"\n{policy}",
            ds.addr.port(),
            ca_path.display()
        ))
        .spawn();
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    let mut c = Client::greeted(gw.addr).await;
    let mut accepted = 0;
    for f in &files {
        let body = std::fs::read(f).unwrap();
        let r = c
            .send_message("desk@clinic.example", &["billing@payer.example"], &body)
            .await;
        assert!(r.code == 250 || r.code == 554, "{}: {r}", f.display());
        accepted += usize::from(r.code == 250);
    }
    c.expect("QUIT", 221).await;
    assert!(
        accepted >= files.len() - 5,
        "{accepted} of {} accepted",
        files.len()
    );
    // Let deliveries finish, then stop cleanly (the log ends signed).
    let got = ds.wait_for(accepted, Duration::from_secs(60)).await;
    assert!(
        got.len() >= accepted / 2,
        "deliveries happened: {}",
        got.len()
    );
    gw.terminate();
    assert_eq!(gw.wait(Duration::from_secs(30)), Some(0));
    let audit = audit_text(&gw.audit_dir());
    let log = gw.log();
    let trails = search(&gw.audit_dir(), &Query::default()).unwrap();
    assert!(trails.len() >= accepted, "the audit log saw every message");
    assert!(
        trails
            .iter()
            .any(|t| t.categories.iter().any(|c| c == "name_date")),
        "findings were recorded"
    );
    let mut leaks = Vec::new();
    for v in labelled_values() {
        for (what, text) in [("audit log", &audit), ("operational log", &log)] {
            if occurs(text, &v) {
                leaks.push(format!("{what}: {v:?}"));
            }
        }
    }
    assert!(leaks.is_empty(), "PHI found: {leaks:#?}");
    // And the log is intact after all that.
    assert_verifies(&gw.audit_dir());
}
