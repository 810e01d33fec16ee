//! Soak: a long mixed run against the real gateway, then the books are
//! checked. Mail with and without PHI goes to several destinations: a
//! partner with verified TLS, a flaky partner (every third session gets
//! 451), a server without TLS (PHI there is rerouted to the encrypted
//! route), a domain a rule quarantines, and a mailbox that refuses (550,
//! bounced). At the end every recipient accepted must be delivered, bounced
//! or quarantined (the audit log says which, the downstreams confirm the
//! deliveries), and phigate's RSS and open file descriptors must have stayed
//! flat. Everything runs on loopback and stops by itself.
//!
//! ```text
//! cargo run --release -p phigate-benches --bin soak -- --minutes 10 --rate 20
//! ```

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use phigate::audit::search::{Query, search};
use phigate_tests::downstream::{Behaviour, Downstream, server_tls};
use phigate_tests::{Client, GatewayBuilder, TestCa};

struct Args {
    minutes: f64,
    rate: f64,
    phigate: PathBuf,
}

fn args() -> Args {
    let mut a = Args {
        minutes: 10.0,
        rate: 20.0,
        phigate: PathBuf::from("target/release/phigate"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        match k.as_str() {
            "--minutes" => a.minutes = v.parse().expect("--minutes M"),
            "--rate" => a.rate = v.parse().expect("--rate MSGS_PER_SEC"),
            "--phigate" => a.phigate = v.into(),
            other => panic!("unknown option {other}"),
        }
    }
    a
}

/// RSS (KiB) and open file descriptors of a process.
fn sample(pid: u32) -> (u64, usize) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count());
    (rss, fds)
}

const RECIPIENTS: [&str; 6] = [
    "billing@payer.example",    // verified TLS
    "claims@flaky.example",     // verified TLS, every third session 451
    "ap@partner.example",       // no TLS: PHI rerouted to the encrypted route
    "news@marketing.example",   // quarantined by rule
    "nobody@payer.example",     // 550: bounced
    "records@hospital.example", // verified TLS
];

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let a = args();
    let ca = TestCa::new("soak CA");
    let certs = tempfile::tempdir().unwrap();
    let id = ca.issue(certs.path(), "down", &["127.0.0.1"]);
    let tls = server_tls(&id);
    let mut rcpt_replies = HashMap::new();
    rcpt_replies.insert(
        "nobody@payer.example".to_string(),
        "550 5.1.1 no such user".to_string(),
    );
    let good = Downstream::start(Behaviour {
        tls: Some(tls.clone()),
        rcpt_replies,
        ..Default::default()
    })
    .await;
    let flaky = Downstream::start(Behaviour {
        tls: Some(tls.clone()),
        flaky_every: 3,
        ..Default::default()
    })
    .await;
    let plain = Downstream::start(Behaviour::default()).await;
    let secure = Downstream::start(Behaviour {
        tls: Some(tls),
        ..Default::default()
    })
    .await;
    let b = GatewayBuilder::new();
    let ca_path = b.ca_file(&ca);
    let route = |domains: &str, ds: &Downstream| {
        format!(
            "[[delivery.route]]\ndomains = [{domains}]\nrelay = \"[127.0.0.1]:{}\"\n",
            ds.addr.port()
        )
    };
    let mut toml = "[delivery]\nretry_initial_secs = 1\nretry_max_secs = 2\n".to_string();
    toml += &route(
        "\"payer.example\", \"clinic.example\", \"hospital.example\"",
        &good,
    );
    toml += &route("\"flaky.example\"", &flaky);
    toml += &route("\"partner.example\", \"marketing.example\"", &plain);
    toml += &format!(
        "[tls]\nca_file = \"{}\"\n[encryption]\nrelay = \"[127.0.0.1]:{}\"\nsubject_tag = \"[encrypt]\"\n\
         [[policy.rule]]\nid = \"hold-marketing\"\nrecipient_domains = [\"marketing.example\"]\naction = \"quarantine\"\n",
        ca_path.display(),
        secure.addr.port()
    );
    let gw = b
        .toml(&toml)
        .spawn_binary(std::fs::canonicalize(&a.phigate).expect("phigate binary"));
    let pid = gw.pid().expect("running");
    let run_for = Duration::from_secs_f64(a.minutes * 60.0);
    let started = Instant::now();
    let interval = Duration::from_secs_f64(1.0 / a.rate);
    let mut samples = vec![(0u64, sample(pid))];
    let mut next_sample = started + Duration::from_secs(10);
    let mut accepted_rcpts = 0usize;
    let mut refused = 0usize;
    let mut i = 0usize;
    let mut c = Client::greeted(gw.addr).await;
    while started.elapsed() < run_for {
        let tick = Instant::now();
        let phi = i.is_multiple_of(3);
        let to = [
            RECIPIENTS[i % RECIPIENTS.len()],
            RECIPIENTS[(i / 7) % RECIPIENTS.len()],
        ];
        let to: Vec<&str> = if to[0] == to[1] {
            vec![to[0]]
        } else {
            to.to_vec()
        };
        let body = if phi {
            format!("Subject: claim {i}\r\n\r\nPatient SSN: 135-14-4832, visit {i}.\r\n")
        } else {
            format!(
                "Subject: note {i}\r\n\r\nThe printer on floor {} is fixed.\r\n",
                i % 5
            )
        };
        let r = c
            .send_message("desk@clinic.example", &to, body.as_bytes())
            .await;
        if r.code == 250 {
            accepted_rcpts += to.len();
        } else {
            refused += 1;
        }
        i += 1;
        // A new session now and then, as MTAs do.
        if i.is_multiple_of(50) {
            c.expect("QUIT", 221).await;
            c = Client::greeted(gw.addr).await;
        }
        if Instant::now() >= next_sample {
            samples.push((started.elapsed().as_secs(), sample(pid)));
            next_sample += Duration::from_secs(10);
        }
        if let Some(rest) = interval.checked_sub(tick.elapsed()) {
            tokio::time::sleep(rest).await;
        }
    }
    c.expect("QUIT", 221).await;
    let sent_secs = started.elapsed().as_secs_f64();
    // Let retries and reroutes finish: until every accepted recipient is settled.
    let settle = Instant::now() + Duration::from_secs(180);
    let (mut delivered, mut bounced, mut held, mut other);
    loop {
        (delivered, bounced, held, other) = (0, 0, 0, 0);
        for t in search(&gw.audit_dir(), &Query::default()).expect("audit log") {
            if t.sender != "desk@clinic.example" || t.refused.is_some() {
                continue;
            }
            for r in t.recipients.values() {
                match r.outcome.as_deref() {
                    Some("delivered") => delivered += 1,
                    Some("bounced") => bounced += 1,
                    Some("held") | None if r.action == "quarantine" => held += 1,
                    _ => other += 1,
                }
            }
        }
        if other == 0 || Instant::now() > settle {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    samples.push((started.elapsed().as_secs(), sample(pid)));
    let downstream_rcpts: usize = [&good, &flaky, &plain, &secure]
        .iter()
        .flat_map(|d| d.received())
        .filter(|m| m.from == "desk@clinic.example")
        .map(|m| m.rcpts.len())
        .sum();
    // Flat: after a warm-up minute, the last third's peak within 25% (and
    // 8 MiB) of the first third's; descriptors within 32.
    let warm: Vec<&(u64, (u64, usize))> = samples.iter().filter(|(t, _)| *t >= 60).collect();
    let third = (warm.len() / 3).max(1);
    let peak = |s: &[&(u64, (u64, usize))]| s.iter().map(|(_, (r, _))| *r).max().unwrap_or(0);
    let fds = |s: &[&(u64, (u64, usize))]| s.iter().map(|(_, (_, f))| *f).max().unwrap_or(0);
    let (early, late) = (
        &warm[..third.min(warm.len())],
        &warm[warm.len().saturating_sub(third)..],
    );
    let (rss0, rss1) = (peak(early), peak(late));
    let (fd0, fd1) = (fds(early), fds(late));
    println!(
        "soak: {:.1} min, {i} messages ({:.1}/s), {accepted_rcpts} recipients accepted, {refused} refused",
        sent_secs / 60.0,
        i as f64 / sent_secs
    );
    println!(
        "soak: delivered {delivered} + bounced {bounced} + quarantined {held} = {} (unsettled {other}); downstreams got {downstream_rcpts} recipient deliveries",
        delivered + bounced + held
    );
    println!(
        "soak: RSS {:.1} MiB early peak, {:.1} MiB late peak, {:.1} MiB overall peak; fds {fd0} early, {fd1} late",
        rss0 as f64 / 1024.0,
        rss1 as f64 / 1024.0,
        samples.iter().map(|(_, (r, _))| *r).max().unwrap_or(0) as f64 / 1024.0
    );
    let mut ok = true;
    if delivered + bounced + held != accepted_rcpts || other != 0 {
        eprintln!("soak: FAILED: the books do not balance");
        ok = false;
    }
    if downstream_rcpts < delivered {
        eprintln!("soak: FAILED: fewer deliveries seen downstream than audited");
        ok = false;
    }
    if warm.len() >= 3 && (rss1 > rss0 + rss0 / 4 && rss1 > rss0 + 8 * 1024) {
        eprintln!("soak: FAILED: RSS grew");
        ok = false;
    }
    if warm.len() >= 3 && fd1 > fd0 + 32 {
        eprintln!("soak: FAILED: file descriptors grew");
        ok = false;
    }
    if !ok {
        eprintln!(
            "{}",
            gw.log()
                .lines()
                .rev()
                .take(40)
                .collect::<Vec<_>>()
                .join("\n")
        );
        std::process::exit(1);
    }
    println!("soak: ok");
}
