//! S/MIME in the PHI delivery chain, through the real binary: a recipient
//! whose server has no TLS but whose certificate was imported gets the
//! message encrypted to that certificate (no PHI byte in clear on the
//! wire); `openssl cms` and `gpgsm` decrypt it to the message as sent; an
//! expired certificate, one not for e-mail, and one for someone else are
//! not used, and the chain goes on to hold the recipient.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use phigate_tests::ca::SmimeKind;
use phigate_tests::downstream::{Behaviour, Downstream, Received};
use phigate_tests::{Client, GatewayBuilder, GatewayProcess, TestCa, require_tool};

const SSN: &str = "523-41-8876";
const SUBJECT: &str = "Results for Maria Alvarez";

fn original() -> Vec<u8> {
    format!(
        "From: Front Desk <desk@clinic.example>\r\nTo: Maria Alvarez <results@lab.example>\r\n\
         Subject: {SUBJECT}\r\nMessage-ID: <smime-1@clinic.example>\r\n\r\n\
         Patient SSN: {SSN}, lipid panel attached.\r\n"
    )
    .into_bytes()
}

/// A gateway routing `domains` to `lab` (fast retries), its certificate
/// store in its own directory, `smime` appended under `[smime]`; and that
/// store's path.
fn lab_gateway(lab: &Downstream, domains: &[&str], smime: &str) -> (GatewayProcess, PathBuf) {
    let b = GatewayBuilder::new();
    let certs_dir = b.dir().join("certs");
    let domains: Vec<String> = domains.iter().map(|d| format!("\"{d}\"")).collect();
    let gw = b
        .toml(&format!(
            "[delivery]\nretry_initial_secs = 1\nretry_max_secs = 1\n\
             [[delivery.route]]\ndomains = [{}]\nrelay = \"[127.0.0.1]:{}\"\n\
             [smime]\ncerts_dir = \"{}\"\n{smime}",
            domains.join(", "),
            lab.addr.port(),
            certs_dir.display()
        ))
        .spawn();
    (gw, certs_dir)
}

async fn submit(gw: &GatewayProcess, rcpt: &str, body: &[u8]) -> String {
    let mut c = Client::greeted(gw.addr).await;
    let r = c.send_message("desk@clinic.example", &[rcpt], body).await;
    assert_eq!(r.code, 250, "{r}");
    c.expect("QUIT", 221).await;
    r.text().rsplit(' ').next().unwrap().to_string()
}

/// Waits for the recipient's outcome in the audit trail of `id`.
fn outcome(gw: &GatewayProcess, id: &str, rcpt: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let t = gw.trail(id);
        let r = &t["recipients"][rcpt];
        if matches!(
            r["outcome"].as_str(),
            Some("delivered" | "held" | "bounced")
        ) {
            return r.clone();
        }
        assert!(Instant::now() < deadline, "no outcome: {t:#}\n{}", gw.log());
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The CMS object of an S/MIME message, DER.
fn p7m(message: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let text = String::from_utf8_lossy(message);
    let (head, body) = text.split_once("\r\n\r\n").expect("header and body");
    assert!(
        head.contains("Content-Type: application/pkcs7-mime; smime-type="),
        "{head}"
    );
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64 body")
}

fn openssl_decrypt(dir: &Path, der: &[u8], cert: &Path, key: &Path) -> Vec<u8> {
    let input = dir.join("msg.p7m");
    std::fs::write(&input, der).unwrap();
    let out = Command::new(require_tool("openssl"))
        .args(["cms", "-decrypt", "-binary", "-inform", "DER", "-in"])
        .arg(&input)
        .arg("-recip")
        .arg(cert)
        .arg("-inkey")
        .arg(key)
        .output()
        .unwrap();
    assert!(out.status.success(), "openssl cms -decrypt: {out:?}");
    out.stdout
}

fn gpgsm_decrypt(dir: &Path, der: &[u8], p12: &Path) -> Vec<u8> {
    let gpgsm = require_tool("gpgsm");
    let home = dir.join("gnupg");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::set_permissions(&home, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    // The agent is started before gpgsm needs it, so a loaded machine's
    // slow start is not part of an import.
    let launched = Command::new("gpgconf")
        .env("GNUPGHOME", &home)
        .args(["--launch", "gpg-agent"])
        .output()
        .unwrap();
    assert!(
        launched.status.success(),
        "gpgconf --launch gpg-agent: {launched:?}"
    );
    // The PKCS#12 password (and the agent's, after import) on stdin, from
    // a file: all of it is there before gpgsm reads.
    let pass = dir.join("gpgsm-pass");
    std::fs::write(&pass, b"test\ntest\ntest\n").unwrap();
    let run = |args: &[&str], file: &Path| {
        Command::new(&gpgsm)
            .env("GNUPGHOME", &home)
            .args([
                "--batch",
                "--disable-crl-checks",
                "--pinentry-mode",
                "loopback",
                "--passphrase-fd",
                "0",
            ])
            .args(args)
            .arg(file)
            .stdin(std::fs::File::open(&pass).unwrap())
            .output()
            .unwrap()
    };
    let imported = run(&["--import"], p12);
    assert!(imported.status.success(), "gpgsm --import: {imported:?}");
    let input = dir.join("msg-gpgsm.p7m");
    std::fs::write(&input, der).unwrap();
    let out = run(&["--decrypt"], &input);
    // Stop the agent this home started.
    let _ = Command::new("gpgconf")
        .env("GNUPGHOME", &home)
        .args(["--kill", "all"])
        .output();
    assert!(out.status.success(), "gpgsm --decrypt: {out:?}");
    out.stdout
}

/// The message as the gateway would have sent it in clear: what the
/// client sent, after the gateway's own trace header.
fn assert_is_original(decrypted: &[u8]) {
    let text = String::from_utf8_lossy(decrypted);
    assert!(text.starts_with("Received: "), "{text}");
    assert!(
        decrypted.ends_with(&original()),
        "decrypted message differs from what was sent:\n{text}"
    );
}

fn assert_nothing_in_clear(got: &Received) {
    let wire = String::from_utf8_lossy(&got.data);
    for secret in [SSN, "Maria", "Alvarez", "lipid"] {
        assert!(!wire.contains(secret), "`{secret}` in clear:\n{wire}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phi_goes_smime_encrypted_to_an_imported_certificate_and_nothing_else_is_used() {
    let ca = TestCa::new("partner lab CA");
    let keys = tempfile::tempdir().unwrap();
    let good = ca.issue_smime(keys.path(), "good", "results@lab.example", SmimeKind::Good);
    let expired = ca.issue_smime(keys.path(), "old", "old@lab.example", SmimeKind::Expired);
    let web = ca.issue_smime(
        keys.path(),
        "web",
        "web@lab.example",
        SmimeKind::NoEmailProtection,
    );
    let other = ca.issue_smime(keys.path(), "other", "other@lab.example", SmimeKind::Good);

    // The lab's server: no STARTTLS at all.
    let lab = Downstream::start(Behaviour::default()).await;
    let (gw, certs_dir) = lab_gateway(
        &lab,
        &["lab.example", "partner.example"],
        "outer_subject = \"Secure message\"\n",
    );

    // The store takes the good certificate and the other recipient's, and
    // refuses what cannot be used, naming why.
    // The good one as a DER PKCS#7 bundle, the other as a DER certificate.
    let openssl = require_tool("openssl");
    let bundle = keys.path().join("good.p7b");
    let other_der = keys.path().join("other.der");
    for (args, input, out) in [
        (
            &["crl2pkcs7", "-nocrl", "-outform", "DER", "-certfile"][..],
            &good.cert,
            &bundle,
        ),
        (
            &["x509", "-outform", "DER", "-in"][..],
            &other.cert,
            &other_der,
        ),
    ] {
        let ok = Command::new(&openssl)
            .args(args)
            .arg(input)
            .arg("-out")
            .arg(out)
            .status()
            .unwrap()
            .success();
        assert!(ok, "openssl {args:?}");
    }
    let (code, out, err) = gw.cli(&["certs", "import", bundle.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("results@lab.example") && out.contains("valid"),
        "{out}"
    );
    let (code, out, err) = gw.cli(&["certs", "import", other_der.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("other@lab.example"), "{out}");
    let (code, _, err) = gw.cli(&["certs", "import", expired.cert.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(err.contains("expired"), "{err}");
    let (code, _, err) = gw.cli(&["certs", "import", web.cert.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(err.contains("emailProtection"), "{err}");
    // Certificates that reached the store some other way (imported while
    // still valid, copied in) are checked again at every use.
    for (id, name) in [(&expired, "old"), (&web, "web")] {
        std::fs::copy(&id.cert, certs_dir.join(format!("{name}.pem"))).unwrap();
    }
    let (code, list, _) = gw.cli(&["certs", "list"]);
    assert_eq!(code, 0);
    assert_eq!(list.lines().count(), 4, "{list}");
    assert!(
        list.contains("expired") && list.contains("no emailProtection usage"),
        "{list}"
    );

    // The chain, as an administrator asks for it.
    let (code, chain, _) = gw.cli(&["certs", "chain", "results@lab.example"]);
    assert_eq!(code, 0);
    assert!(
        chain.contains("1. TLS at `secure`")
            && chain.contains("2. S/MIME: certificate ")
            && chain.contains("aes256-cbc rsa")
            && chain.contains("3. encrypted route: not configured")
            && chain.contains("4. held"),
        "{chain}"
    );
    let (_, chain, _) = gw.cli(&["certs", "chain", "old@lab.example"]);
    assert!(
        chain.contains("2. S/MIME: skipped: certificate expired"),
        "{chain}"
    );

    // PHI to the recipient with a certificate: encrypted, delivered
    // without TLS, nothing readable on the wire.
    let id = submit(&gw, "results@lab.example", &original()).await;
    let got = lab.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1, "{}", gw.log());
    assert!(!got[0].tls);
    assert_nothing_in_clear(&got[0]);
    let wire = String::from_utf8_lossy(&got[0].data).into_owned();
    assert!(wire.contains("Subject: Secure message\r\n"), "{wire}");
    assert!(wire.contains("smime-type=\"enveloped-data\";"), "{wire}");
    assert!(wire.contains("To: <results@lab.example>\r\n"), "{wire}");
    assert!(
        wire.contains("Message-ID: <smime-1@clinic.example>"),
        "{wire}"
    );
    let der = p7m(&got[0].data);
    assert_is_original(&openssl_decrypt(keys.path(), &der, &good.cert, &good.key));
    assert_is_original(&gpgsm_decrypt(
        keys.path(),
        &der,
        &keys.path().join("good.p12"),
    ));
    // The other recipient's key cannot open it.
    let wrong = Command::new(require_tool("openssl"))
        .args(["cms", "-decrypt", "-binary", "-inform", "DER", "-in"])
        .arg(keys.path().join("msg.p7m"))
        .arg("-inkey")
        .arg(&other.key)
        .output()
        .unwrap();
    assert!(!wrong.status.success() || wrong.stdout != original());

    let r = outcome(&gw, &id, "results@lab.example");
    assert_eq!(r["outcome"], "delivered", "{r:#}");
    assert_eq!(r["action"], "encrypt", "{r:#}");
    let records = phigate_tests::audit_records(&gw.audit_dir());
    let sha = list
        .lines()
        .find(|l| l.contains("results@lab.example"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();
    assert!(
        records.iter().any(|r| r["event"] == "attempt"
            && r["queue_id"] == id.as_str()
            && r["smime"]
                .as_str()
                .is_some_and(|s| s.starts_with("aes256-cbc rsa ") && s.contains(&sha))),
        "attempt record names the cipher and certificate"
    );
    assert!(
        records.iter().any(|r| r["event"] == "outcome"
            && r["queue_id"] == id.as_str()
            && r["outcome"] == "rerouted"
            && r["reason"] == "tls_not_offered"
            && r["detail"]
                .as_str()
                .is_some_and(|d| d.contains("S/MIME to certificate"))),
        "the reroute says why TLS was skipped and what came next"
    );

    // Expired, not for e-mail, and nobody's: held, each saying why.
    for (rcpt, why) in [
        ("old@lab.example", "certificate expired"),
        ("web@lab.example", "certificate no emailProtection usage"),
        ("nobody@lab.example", "no certificate"),
    ] {
        let id = submit(&gw, rcpt, &original()).await;
        let r = outcome(&gw, &id, rcpt);
        assert_eq!(r["outcome"], "held", "{rcpt}: {r:#}");
        let detail = r["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains(why) && detail.contains("no encrypted route"),
            "{rcpt}: {detail}"
        );
    }
    assert_eq!(lab.received().len(), 1, "nothing else reached the lab");
    let plain = String::from_utf8_lossy(&lab.plaintext()).into_owned();
    assert!(!plain.contains(SSN), "PHI crossed in clear");

    // A domain certificate (gateway-to-gateway S/MIME) covers every
    // recipient at the domain that has no certificate of their own.
    let partner = ca.issue_smime(keys.path(), "partner", "partner.example", SmimeKind::Good);
    let (code, out, err) = gw.cli(&["certs", "import", partner.cert.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let id = submit(&gw, "billing@partner.example", &original()).await;
    assert_eq!(
        outcome(&gw, &id, "billing@partner.example")["outcome"],
        "delivered"
    );
    let got = lab.wait_for(2, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 2);
    assert_nothing_in_clear(&got[1]);
    let der = p7m(&got[1].data);
    assert_is_original(&openssl_decrypt(
        keys.path(),
        &der,
        &partner.cert,
        &partner.key,
    ));

    // Removing the certificate withdraws it: the next message is held.
    let (code, out, _) = gw.cli(&["certs", "remove", "results@lab.example"]);
    assert_eq!(code, 0, "{out}");
    let id = submit(&gw, "results@lab.example", &original()).await;
    assert_eq!(outcome(&gw, &id, "results@lab.example")["outcome"], "held");
}

/// AES-256-GCM (AuthEnvelopedData) and RSA-OAEP for the domains configured
/// to read them, and ECDH (P-256, P-384) for recipients whose certificate
/// holds an EC key; `openssl cms` decrypts each to the message as sent, and
/// a GCM message altered on the way fails to decrypt (it is authenticated).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gcm_oaep_and_ecdh_decrypt_with_openssl() {
    let ca = TestCa::new("partner CA");
    let keys = tempfile::tempdir().unwrap();
    let lab = Downstream::start(Behaviour::default()).await;
    let cases = [
        (
            "r@gcm.example",
            "aes256-gcm rsa",
            "authEnveloped-data",
            SmimeKind::Good,
        ),
        (
            "r@oaep.example",
            "aes256-cbc rsa-oaep",
            "enveloped-data",
            SmimeKind::Good,
        ),
        (
            "r@both.example",
            "aes256-gcm rsa-oaep",
            "authEnveloped-data",
            SmimeKind::Good,
        ),
        (
            "r@ec.example",
            "aes256-cbc ecdh-p256",
            "enveloped-data",
            SmimeKind::EcP256,
        ),
        (
            "r@gcm.example.org",
            "aes256-gcm ecdh-p384",
            "authEnveloped-data",
            SmimeKind::EcP384,
        ),
    ];
    let (gw, _) = lab_gateway(
        &lab,
        &[
            "gcm.example",
            "oaep.example",
            "both.example",
            "ec.example",
            "gcm.example.org",
        ],
        "[[smime.domain]]\ndomain = \"gcm.example\"\ncontent = \"aes256-gcm\"\n\
         [[smime.domain]]\ndomain = \"gcm.example.org\"\ncontent = \"aes256-gcm\"\n\
         [[smime.domain]]\ndomain = \"oaep.example\"\nkey_transport = \"rsa-oaep\"\n\
         [[smime.domain]]\ndomain = \"both.example\"\ncontent = \"aes256-gcm\"\nkey_transport = \"rsa-oaep\"\n",
    );
    let mut ids = Vec::new();
    for (i, (rcpt, _, _, kind)) in cases.iter().enumerate() {
        let id = ca.issue_smime(keys.path(), &format!("r{i}"), rcpt, *kind);
        let (code, out, err) = gw.cli(&["certs", "import", id.cert.to_str().unwrap()]);
        assert_eq!(code, 0, "{out}{err}");
        ids.push(id);
    }
    for (i, (rcpt, algorithms, smime_type, _)) in cases.iter().enumerate() {
        let id = submit(&gw, rcpt, &original()).await;
        assert_eq!(outcome(&gw, &id, rcpt)["outcome"], "delivered", "{rcpt}");
        let got = lab.wait_for(i + 1, Duration::from_secs(20)).await;
        let m = &got[i];
        assert_nothing_in_clear(m);
        let wire = String::from_utf8_lossy(&m.data).into_owned();
        assert!(
            wire.contains(&format!("smime-type=\"{smime_type}\";")),
            "{wire}"
        );
        let der = p7m(&m.data);
        assert_is_original(&openssl_decrypt(
            keys.path(),
            &der,
            &ids[i].cert,
            &ids[i].key,
        ));
        let records = phigate_tests::audit_records(&gw.audit_dir());
        assert!(
            records.iter().any(|r| r["event"] == "attempt"
                && r["queue_id"] == id.as_str()
                && r["smime"]
                    .as_str()
                    .is_some_and(|s| s.starts_with(&format!("{algorithms} ")))),
            "{rcpt}: the attempt names {algorithms}"
        );
        if *smime_type == "authEnveloped-data" {
            // One bit of ciphertext flipped near the end (inside the
            // encrypted content or the tag): refused, not garbage.
            let mut bad = der.clone();
            let n = bad.len();
            bad[n - 40] ^= 1;
            let input = keys.path().join("bad.p7m");
            std::fs::write(&input, &bad).unwrap();
            let out = Command::new(require_tool("openssl"))
                .args(["cms", "-decrypt", "-binary", "-inform", "DER", "-in"])
                .arg(&input)
                .arg("-recip")
                .arg(&ids[i].cert)
                .arg("-inkey")
                .arg(&ids[i].key)
                .output()
                .unwrap();
            assert!(
                !out.status.success(),
                "{rcpt}: altered GCM message decrypted"
            );
        }
    }
}

/// RFC 8162: with DNSSEC on, a certificate the recipient's domain publishes
/// in a signed SMIMEA record is used when the store has none; one in an
/// unsigned zone is not (anyone on the path could have written it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_smimea_record_gives_the_certificate_and_an_unsigned_one_does_not() {
    use phigate_tests::dns::DnsServer;
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    let ca = TestCa::new("lab CA");
    let keys = tempfile::tempdir().unwrap();
    let signed = ca.issue_smime(keys.path(), "signed", "results@sec.test", SmimeKind::Good);
    let unsigned = ca.issue_smime(
        keys.path(),
        "unsigned",
        "results@insecure.test",
        SmimeKind::Good,
    );
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let der = |p: &Path| CertificateDer::from_pem_file(p).unwrap().as_ref().to_vec();
    let owner = hex(&ring::digest::digest(&ring::digest::SHA256, b"results").as_ref()[..28]);
    let lab = Downstream::start(Behaviour::default()).await;
    let zone = format!(
        "sec MX 10 mx.sec.test.\nmx.sec A 127.0.0.1\n\
         {owner}._smimecert.sec SMIMEA 3 0 0 {}\n\
         insecure NS ns.insecure.test.\nns.insecure A 127.0.0.1\n",
        hex(&der(&signed.cert))
    );
    let dns = DnsServer::start_with(
        &[
            ("test", &zone),
            (
                "insecure.test",
                &format!(
                    "@ MX 10 mx.sec.test.\n{owner}._smimecert SMIMEA 3 0 0 {}\n",
                    hex(&der(&unsigned.cert))
                ),
            ),
        ],
        &["test"],
    );
    let b = GatewayBuilder::new();
    let anchor = b.dir().join("anchor.keys");
    std::fs::write(&anchor, dns.dnskeys("test")).unwrap();
    let gw = b
        .toml(&format!(
            "[delivery]\nport = {}\nretry_initial_secs = 1\nretry_max_secs = 1\n\
             [delivery.dns]\nmode = \"servers\"\nservers = [\"{}\"]\ndnssec = true\ntrust_anchor = \"{}\"\n",
            lab.addr.port(),
            dns.addr,
            anchor.display()
        ))
        .spawn();

    let id = submit(&gw, "results@sec.test", &original()).await;
    let r = outcome(&gw, &id, "results@sec.test");
    assert_eq!(r["outcome"], "delivered", "{r:#}\n{}", gw.log());
    let got = lab.wait_for(1, Duration::from_secs(20)).await;
    assert_nothing_in_clear(&got[0]);
    assert_is_original(&openssl_decrypt(
        keys.path(),
        &p7m(&got[0].data),
        &signed.cert,
        &signed.key,
    ));
    let records = phigate_tests::audit_records(&gw.audit_dir());
    assert!(
        records.iter().any(|r| r["event"] == "outcome"
            && r["queue_id"] == id.as_str()
            && r["outcome"] == "rerouted"
            && r["detail"].as_str().is_some_and(|d| d.contains("(SMIMEA)"))),
        "the reroute says the certificate came from DNS"
    );

    let id = submit(&gw, "results@insecure.test", &original()).await;
    let r = outcome(&gw, &id, "results@insecure.test");
    assert_eq!(r["outcome"], "held", "{r:#}");
    assert!(
        r["detail"]
            .as_str()
            .unwrap_or("")
            .contains("no certificate"),
        "{r:#}"
    );
    assert_eq!(lab.received().len(), 1, "nothing for the unsigned zone");
}

/// With the practice's own S/MIME identity configured, the message is
/// signed, then encrypted (RFC 8551 3.6): the recipient decrypts a signed
/// entity that verifies against the practice's CA and holds the message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_practice_identity_signs_before_encrypting() {
    let ca = TestCa::new("practice and lab CA");
    let keys = tempfile::tempdir().unwrap();
    let lab_id = ca.issue_smime(keys.path(), "lab", "results@lab.example", SmimeKind::Good);
    let practice = ca.issue_smime(
        keys.path(),
        "practice",
        "desk@clinic.example",
        SmimeKind::Good,
    );
    let ca_pem = keys.path().join("ca.pem");
    ca.write_pem(&ca_pem);
    let lab = Downstream::start(Behaviour::default()).await;
    let (gw, _) = lab_gateway(
        &lab,
        &["lab.example"],
        &format!(
            "sign_cert = \"{}\"\nsign_key = \"{}\"\n",
            practice.cert.display(),
            practice.key.display()
        ),
    );
    let (code, out, err) = gw.cli(&["certs", "import", lab_id.cert.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let id = submit(&gw, "results@lab.example", &original()).await;
    assert_eq!(
        outcome(&gw, &id, "results@lab.example")["outcome"],
        "delivered"
    );
    let got = lab.wait_for(1, Duration::from_secs(20)).await;
    assert_nothing_in_clear(&got[0]);
    let entity = openssl_decrypt(keys.path(), &p7m(&got[0].data), &lab_id.cert, &lab_id.key);
    let text = String::from_utf8_lossy(&entity).into_owned();
    assert!(text.contains("smime-type=\"signed-data\""), "{text}");
    let signed = keys.path().join("signed.eml");
    std::fs::write(&signed, &entity).unwrap();
    let verified = Command::new(require_tool("openssl"))
        .args([
            "cms", "-verify", "-binary", "-inform", "SMIME", "-purpose", "any", "-CAfile",
        ])
        .arg(&ca_pem)
        .arg("-in")
        .arg(&signed)
        .output()
        .unwrap();
    assert!(
        verified.status.success(),
        "openssl cms -verify: {verified:?}"
    );
    assert_is_original(&verified.stdout);
    // A different CA does not vouch for it.
    let other = TestCa::new("someone else");
    let other_pem = keys.path().join("other.pem");
    other.write_pem(&other_pem);
    let refused = Command::new(require_tool("openssl"))
        .args([
            "cms", "-verify", "-binary", "-inform", "SMIME", "-purpose", "any", "-CAfile",
        ])
        .arg(&other_pem)
        .arg("-in")
        .arg(&signed)
        .output()
        .unwrap();
    assert!(!refused.status.success(), "verified against the wrong CA");
}

/// The certificate as DER, from the PEM the CA wrote.
fn der_of(id: &phigate_tests::ca::Identity) -> Vec<u8> {
    let pem = std::fs::read_to_string(&id.cert).unwrap();
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
}

/// `[smime.ldap]`: a recipient whose certificate only the directory holds
/// gets the message S/MIME-encrypted to it, over LDAPS with a bind and over
/// StartTLS anonymously; a directory certificate that names someone else,
/// or has expired, is not used; and a directory whose TLS certificate is
/// not trusted is not believed at all (whoever answers could choose the
/// key), so the recipient is held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_certificate_is_used_only_over_verified_tls() {
    use phigate_tests::ldap::{BASE, LdapServer, Person};
    let ca = TestCa::new("partner lab CA");
    let keys = tempfile::tempdir().unwrap();
    let good = ca.issue_smime(keys.path(), "good", "results@lab.example", SmimeKind::Good);
    let other = ca.issue_smime(keys.path(), "other", "x@else.example", SmimeKind::Good);
    let old = ca.issue_smime(keys.path(), "old", "old@lab.example", SmimeKind::Expired);
    let directory_ca = TestCa::new("directory CA");
    let tls = directory_ca.issue(keys.path(), "ldap", &["127.0.0.1"]);
    let dir = LdapServer::start(
        &tls,
        &[
            Person {
                mail: "results@lab.example",
                certs: vec![der_of(&good)],
            },
            Person {
                mail: "wrong@lab.example",
                certs: vec![der_of(&other)],
            },
            Person {
                mail: "old@lab.example",
                certs: vec![der_of(&old)],
            },
        ],
    );
    let trusted = keys.path().join("directory-ca.pem");
    directory_ca.write_pem(&trusted);
    let password = dir.dir().join("bind.pw");
    std::fs::write(&password, "secret\n").unwrap();
    let lab = Downstream::start(Behaviour::default()).await;

    // LDAPS, bound as the gateway.
    let (gw, _) = lab_gateway(
        &lab,
        &["lab.example"],
        &format!(
            "[smime.ldap]\nurl = \"ldaps://{}\"\nbase = \"{BASE}\"\n\
             bind_dn = \"cn=gateway,{BASE}\"\nbind_password_file = \"{}\"\n\
             [tls]\nca_file = \"{}\"\n",
            dir.ldaps,
            password.display(),
            trusted.display()
        ),
    );
    let (_, chain, _) = gw.cli(&["certs", "chain", "results@lab.example"]);
    assert!(chain.contains("the directory ldaps://"), "{chain}");
    let id = submit(&gw, "results@lab.example", &original()).await;
    let r = outcome(&gw, &id, "results@lab.example");
    assert_eq!(r["outcome"], "delivered", "{r:#}\n{}", dir.log());
    let got = lab.wait_for(1, Duration::from_secs(20)).await;
    assert_nothing_in_clear(&got[0]);
    let der = p7m(&got[0].data);
    assert_is_original(&openssl_decrypt(keys.path(), &der, &good.cert, &good.key));
    let records = phigate_tests::audit_records(&gw.audit_dir());
    assert!(
        records.iter().any(|r| r["event"] == "outcome"
            && r["queue_id"] == id.as_str()
            && r["detail"]
                .as_str()
                .is_some_and(|d| d.contains("(directory)"))),
        "the reroute names the directory as the certificate's source"
    );
    for (rcpt, why) in [
        ("wrong@lab.example", "no certificate"),
        ("old@lab.example", "certificate expired"),
    ] {
        let id = submit(&gw, rcpt, &original()).await;
        let r = outcome(&gw, &id, rcpt);
        assert_eq!(r["outcome"], "held", "{rcpt}: {r:#}");
        let detail = r["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(why), "{rcpt}: {detail}");
    }

    // StartTLS on the plain port, anonymous.
    let (gw2, _) = lab_gateway(
        &lab,
        &["lab.example"],
        &format!(
            "[smime.ldap]\nurl = \"ldap://{}\"\nbase = \"{BASE}\"\n\
             [tls]\nca_file = \"{}\"\n",
            dir.ldap,
            trusted.display()
        ),
    );
    let id = submit(&gw2, "results@lab.example", &original()).await;
    let r = outcome(&gw2, &id, "results@lab.example");
    assert_eq!(r["outcome"], "delivered", "{r:#}\n{}", gw2.log());
    let got = lab.wait_for(2, Duration::from_secs(20)).await;
    assert_nothing_in_clear(&got[1]);
    assert_is_original(&openssl_decrypt(
        keys.path(),
        &p7m(&got[1].data),
        &good.cert,
        &good.key,
    ));

    // The same directory, its TLS certificate not trusted: held, and the
    // hold says the directory could not be asked.
    let (gw3, _) = lab_gateway(
        &lab,
        &["lab.example"],
        &format!(
            "[smime.ldap]\nurl = \"ldaps://{}\"\nbase = \"{BASE}\"\n",
            dir.ldaps
        ),
    );
    let id = submit(&gw3, "results@lab.example", &original()).await;
    let r = outcome(&gw3, &id, "results@lab.example");
    assert_eq!(r["outcome"], "held", "{r:#}");
    let detail = r["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("directory: TLS"), "{detail}");
    assert_eq!(lab.received().len(), 2, "nothing else reached the lab");
    assert!(
        !String::from_utf8_lossy(&lab.plaintext()).contains(SSN),
        "PHI crossed in clear"
    );
}
