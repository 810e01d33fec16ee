//! DKIM survives the gateway: a message a rule changed (`tag_subject`)
//! leaves signed by the gateway, and an independent verifier (Python's
//! dkimpy, from Debian) accepts the signature with the published key and
//! rejects it with another key.

use std::process::Command;
use std::time::Duration;

use phigate_tests::downstream::{Behaviour, Downstream};
use phigate_tests::{Client, GatewayBuilder, binary};

/// Verifies `message` with dkimpy, the key record given directly (no DNS).
fn dkimpy_verifies(message: &[u8], record: &str, dir: &std::path::Path) -> bool {
    let python = "/usr/bin/python3";
    let probe = Command::new(python).args(["-c", "import dkim"]).status();
    assert!(
        probe.is_ok_and(|s| s.success()),
        "dkimpy is not installed (CI installs Debian's python3-dkim in scripts/install-test-tools)"
    );
    let msg = dir.join("signed.eml");
    std::fs::write(&msg, message).unwrap();
    let script = "import sys, dkim\n\
                  msg = open(sys.argv[1], 'rb').read()\n\
                  rec = sys.argv[2].encode()\n\
                  ok = dkim.verify(msg, dnsfunc=lambda name, timeout=5: rec)\n\
                  sys.exit(0 if ok else 1)\n";
    let out = Command::new(python)
        .args(["-c", script])
        .arg(&msg)
        .arg(record)
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some(),
        "verifier crashed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.status.success()
}

/// `phigate dkim keygen`: writes the key, prints the TXT record.
fn keygen(dir: &std::path::Path, name: &str, ed25519: bool) -> (std::path::PathBuf, String) {
    let key = dir.join(name);
    let mut cmd = Command::new(binary());
    cmd.args([
        "dkim",
        "keygen",
        "--domain",
        "clinic.example",
        "--selector",
        "gw",
        "--out",
    ])
    .arg(&key);
    if ed25519 {
        cmd.arg("--ed25519");
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let line = String::from_utf8(out.stdout).unwrap();
    assert!(
        line.starts_with("gw._domainkey.clinic.example. IN TXT \"v=DKIM1; "),
        "{line}"
    );
    let record = line.split('"').nth(1).unwrap().to_string();
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&key).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    (key, record)
}

async fn tagged_delivery(ed25519: bool) {
    let keys = tempfile::tempdir().unwrap();
    let (key, record) = keygen(keys.path(), "dkim.pem", ed25519);
    let (_, other_record) = keygen(keys.path(), "other.pem", ed25519);
    let ds = Downstream::start(Behaviour::default()).await;
    let gw = GatewayBuilder::new()
        .toml(&format!(
            "[tls]\ndefault = \"may\"\n\
             [[delivery.route]]\ndomains = [\"payer.example\"]\nrelay = \"[127.0.0.1]:{}\"\n\
             [[policy.rule]]\nid = \"tag-payer\"\nrecipient_domains = [\"payer.example\"]\n\
             action = \"deliver\"\ntag_subject = \"[Reviewed]\"\n\
             [dkim]\ndomain = \"clinic.example\"\nselector = \"gw\"\nkey = \"{}\"\n",
            ds.addr.port(),
            key.display()
        ))
        .start()
        .await;
    let mut c = Client::greeted(gw.addr).await;
    let body = b"From: Front Desk <desk@clinic.example>\r\nTo: <claims@payer.example>\r\n\
                 Subject: Claim batch\r\nDate: Wed, 2 Dec 2026 09:00:00 +0000\r\n\
                 Message-ID: <batch-1@clinic.example>\r\n\r\nThe batch went out this morning.\r\n";
    let r = c
        .send_message("desk@clinic.example", &["claims@payer.example"], body)
        .await;
    assert_eq!(r.code, 250, "{r}");
    let got = ds.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    let m = &got[0].data;
    let text = String::from_utf8_lossy(m);
    assert!(text.contains("Subject: [Reviewed] Claim batch"), "{text}");
    assert!(text.starts_with("DKIM-Signature: "), "{text}");
    assert!(
        dkimpy_verifies(m, &record, keys.path()),
        "the signature did not verify with the published key:\n{text}"
    );
    assert!(
        !dkimpy_verifies(m, &other_record, keys.path()),
        "the signature verified with an unrelated key"
    );
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tagged_message_verifies_with_the_rsa_key_published() {
    tagged_delivery(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tagged_message_verifies_with_the_ed25519_key_published() {
    tagged_delivery(true).await;
}

#[test]
fn check_config_warns_when_rules_modify_without_dkim() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("p.toml");
    std::fs::write(
        &cfg,
        "[[policy.rule]]\nid = \"tag\"\naction = \"deliver\"\ntag_subject = \"[x]\"\n",
    )
    .unwrap();
    let out = Command::new(binary())
        .arg("check-config")
        .arg(&cfg)
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("[dkim] is not set"), "{all}");
}
