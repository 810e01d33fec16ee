//! Real clients: swaks (STARTTLS, AUTH, pipelining) and Postfix's smtp-source.

use std::process::Command;

use phigate_tests::{GatewayBuilder, TestCa, require_tool};

/// Runs swaks against `server` from desk@clinic.example to
/// billing@payer.example with `extra` arguments; (success, transcript).
fn swaks(server: std::net::SocketAddr, extra: &[&str]) -> (bool, String) {
    let out = Command::new(require_tool("swaks"))
        .args(["--server", &server.to_string()])
        .args([
            "--from",
            "desk@clinic.example",
            "--to",
            "billing@payer.example",
        ])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn swaks_sends_a_message() {
    let gw = GatewayBuilder::new().spawn();
    let (ok, transcript) = swaks(
        gw.addr,
        &["--pipeline", "--header", "Subject: swaks interop"],
    );
    assert!(ok, "swaks failed:\n{transcript}");
    assert!(
        transcript.contains("250 2.0.0 Ok: queued as"),
        "{transcript}"
    );
    let spool = gw.spool();
    assert_eq!(spool.messages.len(), 1);
    assert!(
        String::from_utf8_lossy(spool.messages[0].message.as_ref().unwrap())
            .contains("Subject: swaks interop")
    );
}

#[test]
fn swaks_starttls_and_auth_to_relay_from_outside_relay_networks() {
    let ca = TestCa::new("phigate test CA");
    // 127.0.0.1 is not a relay network here: swaks must authenticate.
    let b = GatewayBuilder::new()
        .server("relay_networks", "[\"192.0.2.0/24\"]")
        .user("desk@clinic.example", "pa55 word");
    let id = ca.issue(b.dir(), "gw", &["gw.test.example", "127.0.0.1"]);
    let gw = b.tls(id).spawn();
    let (ok, t) = swaks(gw.addr, &["--tls"]);
    assert!(
        !ok && t.contains("554 5.7.1"),
        "relay without AUTH must fail:\n{t}"
    );

    let (ok, t) = swaks(
        gw.addr,
        &[
            "--tls",
            "--auth",
            "PLAIN",
            "--auth-user",
            "desk@clinic.example",
            "--auth-password",
            "pa55 word",
        ],
    );
    assert!(ok, "swaks with AUTH failed:\n{t}");
    assert!(
        t.contains("235 2.7.0") && t.contains("250 2.0.0 Ok: queued as"),
        "{t}"
    );
    let m = &gw.spool().messages[0];
    assert_eq!(m.envelope.auth_user.as_deref(), Some("desk@clinic.example"));
    assert!(m.envelope.tls.is_some());
}

/// phigate delivers a PHI message to a real Postfix over STARTTLS with a
/// certificate from the test CA, verified; it lands in Postfix's Maildir.
#[test]
fn phigate_delivers_to_a_real_postfix_over_verified_starttls() {
    use phigate_tests::postfix::{Postfix, PostfixOptions};
    let ca = TestCa::new("phigate test CA");
    let certs = tempfile::tempdir().unwrap();
    let id = ca.issue(certs.path(), "pf", &["127.0.0.1"]);
    let pf = Postfix::start(PostfixOptions {
        mailbox_domains: vec!["payer.example"],
        tls: Some(&id),
        ..Default::default()
    });
    let b = GatewayBuilder::new();
    let ca_path = b.dir().join("ca.pem");
    ca.write_pem(&ca_path);
    let gw = b
        .toml(&format!(
            "[[delivery.route]]\ndomains = [\"payer.example\"]\nrelay = \"[127.0.0.1]:{}\"\n[tls]\nca_file = \"{}\"\n",
            pf.addr.port(),
            ca_path.display()
        ))
        .spawn();
    let (ok, transcript) = swaks(
        gw.addr,
        &[
            "--header",
            "Subject: claim",
            "--body",
            "Patient SSN: 135-14-4832",
        ],
    );
    assert!(ok, "{transcript}");
    let mail = pf.wait_mailbox(1, std::time::Duration::from_secs(30));
    assert_eq!(
        mail.len(),
        1,
        "postfix log:\n{}\nphigate log:\n{}",
        pf.log(),
        gw.log()
    );
    let text = String::from_utf8_lossy(&mail[0]);
    assert!(text.contains("Patient SSN: 135-14-4832"));
    assert!(
        text.contains("(phigate)"),
        "our Received: header travels with it"
    );
    let log = pf.log();
    assert!(
        log.contains("TLS connection established from localhost"),
        "postfix saw no TLS:\n{log}"
    );
    assert!(gw.log().contains("cert_verified=true"), "{}", gw.log());
}

/// A real Postfix uses phigate as its relayhost: mail submitted to
/// Postfix reaches phigate and is spooled there.
#[test]
fn a_real_postfix_relays_through_phigate() {
    use phigate_tests::postfix::{Postfix, PostfixOptions};
    let gw = GatewayBuilder::new().spawn();
    let pf = Postfix::start(PostfixOptions {
        relayhost: Some(gw.addr),
        ..Default::default()
    });
    let (ok, transcript) = swaks(pf.addr, &["--header", "Subject: via postfix"]);
    assert!(ok, "{transcript}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let spool = gw.spool();
        if let Some(m) = spool.messages.first() {
            let text = String::from_utf8_lossy(m.message.as_ref().unwrap()).into_owned();
            assert!(text.contains("Subject: via postfix"));
            assert_eq!(m.envelope.rcpt_to, vec!["billing@payer.example"]);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "nothing arrived from postfix:\n{}",
            pf.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn smtp_source_load_is_all_spooled() {
    let source = require_tool("smtp-source");
    let gw = GatewayBuilder::new().spawn();
    let out = Command::new(source)
        .args([
            "-s",
            "10",
            "-m",
            "200",
            "-l",
            "4096",
            "-f",
            "desk@clinic.example",
            "-t",
            "billing@payer.example",
        ])
        .arg(gw.addr.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "smtp-source failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let spool = gw.spool();
    assert_eq!(spool.messages.len(), 200);
    assert!(spool.messages.iter().all(|m| m.envelope.size > 4096));
}
