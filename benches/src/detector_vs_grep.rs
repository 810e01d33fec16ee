//! The detector against `grep -E` with one SSN pattern, over the same raw
//! messages, in one run: prints MB/s for each and the ratio.
//!
//! grep is timed two ways: over one file holding every message back to
//! back (its best case: one process, one sequential read) and over the
//! message files one by one (as messages arrive). The detector runs on one
//! core, every detector, MIME decoding included.
//!
//! Usage: detector-vs-grep [ROUNDS]   (default 50; bounded to ~60 s)

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

const SSN: &str = "[0-9]{3}-[0-9]{2}-[0-9]{4}";

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .map_or(50, |r| r.parse().expect("ROUNDS"));
    let corpus = phigate_benches::corpus();
    let bytes: usize = corpus.iter().map(Vec::len).sum();
    let engine = phigate_detectors::Engine::new(Default::default()).unwrap();

    // Detector.
    let deadline = Instant::now() + Duration::from_secs(60);
    let t = Instant::now();
    let mut done = 0;
    for _ in 0..rounds {
        for m in &corpus {
            std::hint::black_box(engine.scan(m));
        }
        done += 1;
        if Instant::now() > deadline {
            break;
        }
    }
    let det = (bytes * done) as f64 / t.elapsed().as_secs_f64() / 1e6;

    // grep over one concatenated file.
    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("all.eml");
    let mut f = std::fs::File::create(&all).unwrap();
    for _ in 0..done {
        for m in &corpus {
            f.write_all(m).unwrap();
        }
    }
    drop(f);
    let t = Instant::now();
    let st = Command::new("grep")
        .args(["-cE", SSN])
        .arg(&all)
        .output()
        .expect("grep");
    let grep_one = (bytes * done) as f64 / t.elapsed().as_secs_f64() / 1e6;
    assert!(st.status.code().is_some_and(|c| c <= 1), "grep failed");

    // grep over the message files, once per round.
    let files = dir.path().join("msgs");
    std::fs::create_dir(&files).unwrap();
    let mut names = Vec::new();
    for (i, m) in corpus.iter().enumerate() {
        let p = files.join(format!("{i:04}.eml"));
        std::fs::write(&p, m).unwrap();
        names.push(p);
    }
    let t = Instant::now();
    for _ in 0..done {
        Command::new("grep")
            .args(["-cE", SSN])
            .args(&names)
            .output()
            .expect("grep");
    }
    let grep_files = (bytes * done) as f64 / t.elapsed().as_secs_f64() / 1e6;

    println!("{} messages, {} bytes, {done} rounds", corpus.len(), bytes);
    println!(
        "{:<52} {:>9.1} MB/s",
        "phigate detectors (MIME + all detectors, 1 core)", det
    );
    println!(
        "{:<52} {:>9.1} MB/s   ratio {:.2}",
        "grep -E SSN, one concatenated file",
        grep_one,
        det / grep_one
    );
    println!(
        "{:<52} {:>9.1} MB/s   ratio {:.2}",
        "grep -E SSN, the 400 message files",
        grep_files,
        det / grep_files
    );
}
