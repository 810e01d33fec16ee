//! Spool designs compared: phigate's append-only segment log (with group
//! commit, and with one fsync per message) against a file per message
//! (write, fsync the file, fsync the directory; unlink when delivered), the
//! way Postfix's queue works.
//!
//! Each design runs several rounds: `--writers` concurrent writers store
//! `--messages` messages of `--size` bytes, then every message is removed
//! again (a done record, or an unlink), as delivery would. Prints messages/s
//! and CPU microseconds per message for every round, so a design that slows
//! down as files come and go shows it.
//!
//! Usage: spool-designs [--messages N] [--size BYTES] [--writers N] [--rounds N] [--dir PATH]

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use phigate::spool::{Envelope, Spool};

struct Args {
    messages: usize,
    size: usize,
    writers: usize,
    rounds: usize,
    dir: Option<PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        messages: 4000,
        size: 4096,
        writers: 20,
        rounds: 4,
        dir: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--messages" => a.messages = val().parse().expect("--messages N"),
            "--size" => a.size = val().parse().expect("--size BYTES"),
            "--writers" => a.writers = val().parse().expect("--writers N"),
            "--rounds" => a.rounds = val().parse().expect("--rounds N"),
            "--dir" => a.dir = Some(PathBuf::from(val())),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

/// User + system CPU seconds of this process so far.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Fields 14 and 15 of stat are utime and stime; here offset by the 2 before ')'.
    (ticks(11) + ticks(12)) / 100.0
}

fn envelope(spool: &Spool, size: usize) -> Envelope {
    Envelope {
        id: spool.next_id(),
        received_at: 0,
        client_ip: "127.0.0.1".parse().unwrap(),
        helo: "bench.example".into(),
        mail_from: "a@clinic.example".into(),
        rcpt_to: vec!["b@payer.example".into()],
        body_type: Default::default(),
        smtputf8: false,
        requiretls: false,
        tls_optional: false,
        tls: None,
        auth_user: None,
        size: size as u64,
        phi: None,
        categories: Vec::new(),
        decisions: Vec::new(),
    }
}

/// An audit log beside the spool (its own directory and key).
fn audit_log(dir: &Path) -> phigate::audit::Audit {
    let mut cfg = phigate_config::Config::embedded_default().audit;
    cfg.dir = dir.join("audit");
    cfg.signing_key = dir.join("audit-signing.key");
    cfg.witness = Default::default();
    let metrics = Arc::new(phigate::metrics::Metrics::new());
    phigate::audit::Audit::open(&cfg, "bench.example", metrics).unwrap()
}

/// Records the messages' `received` records; the receipt that lets the
/// spool take them.
async fn audited<'a>(
    audit: &phigate::audit::Audit,
    envelopes: impl Iterator<Item = &'a Envelope>,
) -> phigate::audit::Receipt {
    let events = envelopes
        .map(|e| {
            phigate::audit::Event::Received(phigate::audit::event::Received {
                queue_id: e.id.to_string(),
                client_ip: e.client_ip.to_string(),
                inbound_tls: None,
                auth_user: None,
                sender: e.mail_from.clone(),
                recipients: e.rcpt_to.clone(),
                size: e.size,
                message_id_hash: None,
                requiretls: false,
                tls_required_no: None,
            })
        })
        .collect();
    audit.log(events).await.unwrap()
}

fn report(design: &str, round: usize, n: usize, secs: f64, cpu: f64) {
    println!(
        "{design:<28} round {round}: {:>9.0} msgs/s  {:>7.1} us CPU/msg",
        n as f64 / secs,
        cpu * 1e6 / n as f64
    );
}

async fn segment_log(dir: &Path, a: &Args, group_commit: bool) {
    let name = if group_commit {
        "segment log, group commit"
    } else {
        "segment log, fsync per msg"
    };
    let spool = Spool::open(dir, 64 << 20, group_commit).unwrap().spool;
    let audit = audit_log(dir);
    let body = Arc::new(vec![b'x'; a.size]);
    for round in 1..=a.rounds {
        let per = a.messages / a.writers;
        // The spool appends only what the audit log has recorded: the
        // records of a round are written before it is timed.
        let envelopes: Vec<Vec<Envelope>> = (0..a.writers)
            .map(|_| (0..per).map(|_| envelope(&spool, body.len())).collect())
            .collect();
        let receipt = Arc::new(audited(&audit, envelopes.iter().flatten()).await);
        let (t0, c0) = (Instant::now(), cpu_secs());
        let mut tasks = Vec::new();
        for batch in envelopes {
            let (spool, body, receipt) = (spool.clone(), body.clone(), receipt.clone());
            tasks.push(tokio::spawn(async move {
                let mut ids = Vec::with_capacity(per);
                for env in batch {
                    spool.append(&env, &[&body], &receipt).await.unwrap();
                    ids.push(env.id);
                }
                ids
            }));
        }
        let mut ids = Vec::new();
        for t in tasks {
            ids.extend(t.await.unwrap());
        }
        report(
            name,
            round,
            per * a.writers,
            t0.elapsed().as_secs_f64(),
            cpu_secs() - c0,
        );
        for id in ids {
            spool.complete(id).await.unwrap();
        }
    }
}

fn file_per_message(dir: &Path, a: &Args) {
    let name = "file per message";
    let body = vec![b'x'; a.size];
    let mut seq = 0u64;
    for round in 1..=a.rounds {
        let (t0, c0) = (Instant::now(), cpu_secs());
        let per = a.messages / a.writers;
        let paths: Vec<Vec<PathBuf>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..a.writers)
                .map(|w| {
                    let body = &body;
                    let base = seq + (w * per) as u64;
                    s.spawn(move || {
                        let d = File::open(dir).unwrap();
                        (0..per)
                            .map(|i| {
                                let p = dir.join(format!("{:016X}", base + i as u64));
                                let mut f = OpenOptions::new()
                                    .write(true)
                                    .create_new(true)
                                    .open(&p)
                                    .unwrap();
                                f.write_all(body).unwrap();
                                f.sync_data().unwrap();
                                d.sync_all().unwrap();
                                p
                            })
                            .collect()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        seq += (a.writers * per) as u64;
        report(
            name,
            round,
            per * a.writers,
            t0.elapsed().as_secs_f64(),
            cpu_secs() - c0,
        );
        for p in paths.into_iter().flatten() {
            std::fs::remove_file(p).unwrap();
        }
        File::open(dir).unwrap().sync_all().unwrap();
    }
}

fn main() {
    let a = args();
    let base = match &a.dir {
        Some(d) => tempfile::tempdir_in(d).unwrap(),
        None => tempfile::tempdir_in(".").unwrap(),
    };
    println!(
        "spool designs: {} messages x {} bytes, {} writers, {} rounds, in {}",
        a.messages,
        a.size,
        a.writers,
        a.rounds,
        base.path().display()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    for group_commit in [true, false] {
        let d = base
            .path()
            .join(if group_commit { "log-gc" } else { "log-1" });
        rt.block_on(segment_log(&d, &a, group_commit));
    }
    let d = base.path().join("files");
    std::fs::create_dir_all(&d).unwrap();
    file_per_message(&d, &a);
}
