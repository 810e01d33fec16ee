//! Fault injection: repeated SIGKILL at random points under load, a full
//! spool disk, a downstream that hangs, DNS that does not answer. Nothing
//! acknowledged is lost, nothing is taken that cannot be kept.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use phigate_tests::disk::{Tmpfs, fill};
use phigate_tests::downstream::{Behaviour, trusted_tls};
use phigate_tests::{Client, GatewayBuilder};

use crate::crash::{Raw, send_two_until_accepted};

/// xorshift64*: random kill points, reproducible from the printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % below
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_sigkills_at_random_points_lose_no_recipient() {
    const N: usize = 300;
    const KILLS: usize = 20;
    let seed = std::env::var("PHIGATE_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("kill points from PHIGATE_KILL_SEED={seed}");
    let mut rng = Rng(seed);
    // A downstream with a trusted certificate: PHI and clean mail both go.
    let (ca, ds) = trusted_tls(Behaviour::default()).await;
    let b = GatewayBuilder::new();
    let ca_path = b.ca_file(&ca);
    let mut gw = b
        .toml(&format!(
            "[delivery]\nretry_initial_secs = 1\nretry_max_secs = 1\n[[delivery.route]]\ndomains = [\"payer.example\", \"hospital.example\", \"clinic.example\"]\nrelay = \"[127.0.0.1]:{}\"\n[tls]\nca_file = \"{}\"\n",
            ds.addr.port(),
            ca_path.display()
        ))
        .spawn();
    let addr = gw.addr;
    let deadline = Instant::now() + Duration::from_secs(240);
    let sender = tokio::spawn(async move {
        let mut acked = Vec::new();
        let mut c: Option<Raw> = None;
        for i in 0..N {
            let body = if i % 2 == 0 {
                format!("Subject: k{i}\r\n\r\ntoken-{i}\r\nPatient SSN: 135-14-4832\r\n")
            } else {
                format!("Subject: k{i}\r\n\r\ntoken-{i}\r\n")
            };
            send_two_until_accepted(&mut c, addr, body.as_bytes(), deadline).await;
            acked.push(i);
        }
        acked
    });
    for _ in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(100 + rng.next(400))).await;
        gw.kill();
        tokio::time::sleep(Duration::from_millis(rng.next(100))).await;
        tokio::task::block_in_place(|| gw.start());
    }
    let acked = sender.await.unwrap();
    assert_eq!(acked.len(), N);
    let mut seen: HashSet<(usize, String)> = HashSet::new();
    while Instant::now() < deadline && seen.len() < 2 * N {
        for r in ds.received() {
            let text = String::from_utf8_lossy(&r.data).into_owned();
            if let Some(i) = text
                .split("token-")
                .nth(1)
                .and_then(|t| t.split_whitespace().next()?.parse::<usize>().ok())
            {
                for rcpt in &r.rcpts {
                    seen.insert((i, rcpt.clone()));
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let missing = 2 * N - seen.len();
    assert_eq!(
        missing,
        0,
        "recipients lost after {KILLS} kills (seed {seed})\n{}",
        gw.log()
    );
    // No PHI ever went in clear, and the audit log survived every kill whole.
    let plain = String::from_utf8_lossy(&ds.plaintext()).into_owned();
    assert!(!plain.contains("135-14-4832"));
    let out = phigate_tests::verify_audit(gw.audit_dir().parent().unwrap());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dup = ds.received().iter().map(|r| r.rcpts.len()).sum::<usize>() - 2 * N;
    eprintln!(
        "{KILLS} kills: {} recipients delivered, {dup} repeated, none lost",
        2 * N
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_spool_disk_gets_452_and_the_spool_stays_readable() {
    let b = GatewayBuilder::new();
    let spool = b.dir().join("spool");
    let _fs = Tmpfs::mount(&spool, "512k");
    let gw = b.start().await;
    let mut c = Client::greeted(gw.addr).await;
    let body = b"Subject: x\r\n\r\nHello, the printer is fixed.\r\n".repeat(20);
    let r = c
        .send_message("a@clinic.example", &["b@payer.example"], &body)
        .await;
    assert_eq!(r.code, 250, "{r}");
    let filler = fill(&spool);
    let mut queued = 1;
    let refused = loop {
        let r = c
            .send_message("a@clinic.example", &["b@payer.example"], &body)
            .await;
        match r.code {
            250 if queued < 50 => queued += 1,
            _ => break r,
        }
    };
    assert_eq!(refused.code, 452, "{refused}");
    assert!(refused.text().contains("4.3.1"), "{refused}");
    // Readable, and holding exactly what was acknowledged.
    assert_eq!(gw.spool().messages.len(), queued);
    std::fs::remove_file(filler).unwrap();
    let r = c
        .send_message("a@clinic.example", &["b@payer.example"], &body)
        .await;
    assert_eq!(r.code, 250, "{r}");
    // Every record whole: the failed write was cut back, nothing torn.
    let scan = gw.spool();
    assert_eq!(scan.messages.len(), queued + 1);
    assert!(scan.torn.is_empty(), "{:?}", scan.torn);
    c.expect("QUIT", 221).await;
    gw.shutdown().await;
}

/// Waits until the only message's only recipient is deferred; its state.
async fn deferred(gw: &phigate_tests::RunningGateway) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let spool = gw.spool();
        if let Some(m) = spool.messages.first() {
            let s = format!("{:?}", m.rcpts[0]);
            if s.contains("Deferred") {
                return s;
            }
        }
        assert!(
            Instant::now() < deadline,
            "never deferred: {:?}",
            gw.spool().messages
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_downstream_that_hangs_times_out_and_the_recipient_is_deferred() {
    // Accepts connections and never says a word.
    let hang = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = hang.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut conns = Vec::new();
        while let Ok((s, _)) = hang.accept().await {
            conns.push(s);
        }
    });
    let gw = GatewayBuilder::new()
        .toml(&format!(
            "[delivery]\ncommand_timeout_secs = 1\nconnect_timeout_secs = 1\nretry_initial_secs = 60\n[[delivery.route]]\ndomains = [\"payer.example\"]\nrelay = \"[127.0.0.1]:{port}\"\n"
        ))
        .start()
        .await;
    let started = Instant::now();
    let mut c = Client::greeted(gw.addr).await;
    let r = c
        .send_message(
            "a@clinic.example",
            &["b@payer.example"],
            b"Subject: x\r\n\r\nhi\r\n",
        )
        .await;
    assert_eq!(r.code, 250);
    let state = deferred(&gw).await;
    assert!(state.to_lowercase().contains("time"), "{state}");
    assert!(started.elapsed() < Duration::from_secs(10));
    held.abort();
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dns_failure_defers_the_recipient_and_it_is_retried() {
    // Static DNS with no entry for the domain: the lookup fails temporarily.
    let gw = GatewayBuilder::new()
        .toml("[delivery]\nretry_initial_secs = 1\nretry_max_secs = 1\n")
        .start()
        .await;
    let mut c = Client::greeted(gw.addr).await;
    let r = c
        .send_message(
            "a@clinic.example",
            &["b@nowhere.example"],
            b"Subject: x\r\n\r\nhi\r\n",
        )
        .await;
    assert_eq!(r.code, 250);
    let state = deferred(&gw).await;
    assert!(state.contains("DNS"), "{state}");
    // Retried, not bounced.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = format!("{:?}", gw.spool().messages[0].rcpts[0]);
        if s.contains("attempts: 2") || s.contains("attempts: 3") {
            break;
        }
        assert!(Instant::now() < deadline, "not retried: {s}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    gw.shutdown().await;
}
