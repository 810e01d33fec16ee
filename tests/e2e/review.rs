//! Audit review: a period of traffic with things a security officer should
//! see — a sender's PHI volume far above its (empty) baseline, PHI to a
//! free-mail domain and to a domain never written to before, a release
//! from quarantine, a gateway killed without a stop — listed with the queue
//! IDs to look up, and mailed as a digest; no recipient address in either.

use std::process::Command;
use std::time::{Duration, Instant};

use phigate_tests::downstream::{Behaviour, Downstream};
use phigate_tests::{Client, GatewayBuilder, GatewayProcess, binary};

const PHI: &[u8] = b"Subject: chart\r\n\r\nPatient SSN: 523-41-8876, chart attached.\r\n";

async fn send(gw: &GatewayProcess, rcpt: &str, body: &[u8]) -> String {
    let mut c = Client::greeted(gw.addr).await;
    let r = c.send_message("desk@clinic.example", &[rcpt], body).await;
    assert_eq!(r.code, 250, "{r}");
    c.expect("QUIT", 221).await;
    r.text().rsplit(' ').next().unwrap().to_string()
}

fn review(gw: &GatewayProcess, args: &[&str]) -> String {
    let out = Command::new(binary())
        .args(["audit", "review", "--config"])
        .arg(&gw.config)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}\n{}", gw.log());
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_lists_what_deserves_a_look_and_mails_it() {
    let ds = Downstream::start(Behaviour::default()).await;
    let mut gw = GatewayBuilder::new()
        .toml(&format!(
            "[[delivery.route]]\ndomains = [\"payer.example\", \"newpartner.example\", \"gmail.com\", \"clinic.example\"]\n\
             relay = \"[127.0.0.1]:{}\"\n\
             [review]\nofficer = \"security@clinic.example\"\nphi_jump_min = 2\nreleases = 1\n",
            ds.addr.port()
        ))
        .spawn();
    // History: the practice has written to payer.example before.
    send(
        &gw,
        "claims@payer.example",
        b"Subject: hours\r\n\r\nWe open at nine.\r\n",
    )
    .await;
    std::thread::sleep(Duration::from_millis(1200));
    let since = {
        let out = Command::new("date")
            .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    // The period: PHI to a known domain, a new one and a free-mail one
    // (each held: the downstream offers no TLS).
    let held = send(&gw, "claims@payer.example", PHI).await;
    let new = send(&gw, "intake@newpartner.example", PHI).await;
    let free = send(&gw, "patient.name@gmail.com", PHI).await;
    // An administrator releases one; the gateway is killed and restarted.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = Command::new(binary())
            .args(["quarantine", "release", "--config"])
            .arg(&gw.config)
            .arg(&held)
            .output()
            .unwrap();
        if r.status.success() {
            break;
        }
        assert!(Instant::now() < deadline, "release: {r:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    gw.kill();
    gw.start();

    let text = review(&gw, &["--since", &since, "--json"]);
    let items: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let find = |kind: &str| {
        items
            .iter()
            .filter(|i| i["kind"] == kind)
            .cloned()
            .collect::<Vec<_>>()
    };
    let jump = find("phi_volume_jump");
    assert_eq!(jump.len(), 1, "{text}");
    assert_eq!(jump[0]["queue_ids"].as_array().unwrap().len(), 3);
    let fresh = find("phi_to_new_domain");
    assert_eq!(fresh.len(), 1, "only newpartner.example is new: {text}");
    assert!(
        fresh[0]["what"]
            .as_str()
            .unwrap()
            .contains("newpartner.example")
    );
    assert_eq!(fresh[0]["queue_ids"][0], new.as_str());
    let freemail = find("phi_to_free_mail");
    assert_eq!(freemail.len(), 1, "{text}");
    assert_eq!(freemail[0]["queue_ids"][0], free.as_str());
    let released = find("quarantine_releases");
    assert_eq!(released.len(), 1, "{text}");
    assert_eq!(released[0]["queue_ids"][0], held.as_str());
    assert_eq!(find("unclean_stop").len(), 1, "{text}");
    assert!(!text.contains("patient.name") && !text.contains("523-41-8876"));

    // The digest, mailed to the security officer through the queue.
    let line = review(&gw, &["--since", &since, "--mail"]);
    assert!(line.contains("mailed to security@clinic.example"), "{line}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let digest = loop {
        if let Some(m) = ds
            .received()
            .into_iter()
            .find(|m| m.rcpts == ["security@clinic.example"])
        {
            break String::from_utf8(m.data).unwrap();
        }
        assert!(Instant::now() < deadline, "no digest:\n{}", gw.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        digest.contains("[phi_to_free_mail]") && digest.contains(&free),
        "{digest}"
    );
    assert!(!digest.contains("patient.name") && !digest.contains("523-41-8876"));
    gw.kill();
}
