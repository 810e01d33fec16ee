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
//! Each side is timed [`TRIALS`] times and the best counts: this machine
//! has moments when it is busy elsewhere, and one of them must not decide
//! a ratio. A trial is at least ROUNDS passes and at least [`TRIAL_MIN`].
//!
//! Usage: detector-vs-grep [ROUNDS] [INPUTS]   (ROUNDS default 20, each
//! side of an input bounded to about 20 s; INPUTS a subset of "abcd",
//! default all)

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

/// How many times each side is timed; the best time counts, so a moment
/// when the machine is busy elsewhere does not decide a ratio.
const TRIALS: usize = 5;
/// The least time a trial runs: `ROUNDS` passes over the messages, then
/// more whole passes until this much time has gone.
const TRIAL_MIN: Duration = Duration::from_millis(300);
/// The most time one side of one input may take.
const SIDE_MAX: Duration = Duration::from_secs(20);

/// The best MB/s of `TRIALS` trials of `pass`, which handles `bytes`
/// bytes each time it is called: each trial makes at least `rounds`
/// passes and lasts at least `TRIAL_MIN`; all trials together stop after
/// `SIDE_MAX`.
fn best_of(bytes: usize, rounds: usize, mut pass: impl FnMut()) -> f64 {
    let deadline = Instant::now() + SIDE_MAX;
    let mut best = 0f64;
    for _ in 0..TRIALS {
        let t = Instant::now();
        let mut done = 0;
        while done < rounds || t.elapsed() < TRIAL_MIN {
            pass();
            done += 1;
            if Instant::now() > deadline {
                break;
            }
        }
        best = best.max((bytes * done) as f64 / t.elapsed().as_secs_f64() / 1e6);
        if Instant::now() > deadline {
            break;
        }
    }
    best
}

/// MB/s of the detector, of grep over one file, of grep over the files:
/// each side the best of its trials.
fn measure(engine: &phigate_detectors::Engine, msgs: &[Vec<u8>], rounds: usize) -> (f64, f64, f64) {
    let bytes: usize = msgs.iter().map(Vec::len).sum();
    let det = best_of(bytes, rounds, || {
        for m in msgs {
            std::hint::black_box(engine.scan(m));
        }
    });

    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("all.eml");
    let mut f = std::fs::File::create(&all).unwrap();
    for _ in 0..rounds {
        for m in msgs {
            f.write_all(m).unwrap();
        }
    }
    drop(f);
    // Read once so both sides start from the page cache.
    let _ = std::fs::read(&all);
    let grep = |files: &[std::path::PathBuf]| {
        let st = Command::new("grep")
            .args(["-cE", SSN])
            .args(files)
            .output()
            .expect("grep");
        assert!(st.status.code().is_some_and(|c| c <= 1), "grep failed");
    };
    let grep_one = best_of(bytes * rounds, 1, || grep(std::slice::from_ref(&all)));

    let files = dir.path().join("msgs");
    std::fs::create_dir(&files).unwrap();
    let mut names = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        let p = files.join(format!("{i:04}.eml"));
        std::fs::write(&p, m).unwrap();
        names.push(p);
    }
    let grep_files = best_of(bytes, rounds, || grep(&names));
    (det, grep_one, grep_files)
}
