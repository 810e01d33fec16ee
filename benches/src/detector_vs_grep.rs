//! The detector against `grep -E` with one SSN pattern, over the same raw
//! messages, in one run: prints MB/s for each and the ratio, for four
//! inputs:
//!
//! - (a) small messages: the dev corpus (400 files of about 640 bytes);
//! - (b) 100 KiB messages: a note and a base64 CSV attachment;
//! - (c) a 1 MiB HTML newsletter (quoted-printable) with inline images;
//! - (d) a 10 MiB message with a DOCX (text and a photo) and an XLSX.
//!
//! grep is timed two ways: over one file holding the messages back to back
//! (its best case: one process, one sequential read, its literal
//! prefilter skipping base64) and over the message files one by one (as
//! messages arrive). The detector runs on one core, every detector, MIME
//! decoding included, and reads the messages from memory.
//!
//! Usage: detector-vs-grep [ROUNDS] [INPUTS]   (ROUNDS default 20, each
//! input bounded to about 20 s; INPUTS a subset of "abcd", default all)

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

const SSN: &str = "[0-9]{3}-[0-9]{2}-[0-9]{4}";

/// Builds one input's messages.
type MakeInput = Box<dyn Fn() -> Vec<Vec<u8>>>;

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().map_or(20, |r| r.parse().expect("ROUNDS"));
    let which = args.next().unwrap_or_else(|| "abcd".into());
    let engine = phigate_detectors::Engine::new(Default::default()).unwrap();
    println!(
        "{:<44} {:>10} {:>10} {:>7} {:>10} {:>7}",
        "input", "phigate", "grep(1)", "ratio", "grep(n)", "ratio"
    );
    let inputs: Vec<(char, &str, MakeInput)> = vec![
        (
            'a',
            "(a) dev corpus, 400 small messages",
            Box::new(phigate_benches::corpus),
        ),
        (
            'b',
            "(b) 100 KiB, base64 CSV attachment x 100",
            Box::new(|| (0..100).map(phigate_benches::message_100k).collect()),
        ),
        (
            'c',
            "(c) 1 MiB HTML newsletter, images x 5",
            Box::new(|| (0..5).map(phigate_benches::newsletter_1m).collect()),
        ),
        (
            'd',
            "(d) 10 MiB, DOCX + XLSX x 2",
            Box::new(|| (0..2).map(phigate_benches::office_10m).collect()),
        ),
    ];
    for (key, name, make) in inputs {
        if !which.contains(key) {
            continue;
        }
        let msgs = make();
        let (det, g1, gn) = measure(&engine, &msgs, rounds);
        println!(
            "{name:<44} {:>7.1} MB/s {:>7.1} MB/s {:>6.3} {:>7.1} MB/s {:>6.3}",
            det,
            g1,
            det / g1,
            gn,
            det / gn
        );
    }
}

/// MB/s of the detector, of grep over one file, of grep over the files.
fn measure(engine: &phigate_detectors::Engine, msgs: &[Vec<u8>], rounds: usize) -> (f64, f64, f64) {
    let bytes: usize = msgs.iter().map(Vec::len).sum();
    let deadline = Instant::now() + Duration::from_secs(20);
    let t = Instant::now();
    let mut done = 0;
    for _ in 0..rounds {
        for m in msgs {
            std::hint::black_box(engine.scan(m));
        }
        done += 1;
        if Instant::now() > deadline {
            break;
        }
    }
    let det = (bytes * done) as f64 / t.elapsed().as_secs_f64() / 1e6;

    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("all.eml");
    let mut f = std::fs::File::create(&all).unwrap();
    for _ in 0..done {
        for m in msgs {
            f.write_all(m).unwrap();
        }
    }
    drop(f);
    // Read once so both sides start from the page cache.
    let _ = std::fs::read(&all);
    let t = Instant::now();
    let st = Command::new("grep")
        .args(["-cE", SSN])
        .arg(&all)
        .output()
        .expect("grep");
    let grep_one = (bytes * done) as f64 / t.elapsed().as_secs_f64() / 1e6;
    assert!(st.status.code().is_some_and(|c| c <= 1), "grep failed");

    let files = dir.path().join("msgs");
    std::fs::create_dir(&files).unwrap();
    let mut names = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
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
    (det, grep_one, grep_files)
}
