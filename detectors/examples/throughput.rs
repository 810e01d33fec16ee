//! Quick throughput check: scans every .eml in a directory N times.
//! `cargo run --release -p phigate-detectors --example throughput -- DIR [N]`
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("DIR");
    let rounds: usize = args.next().map_or(20, |n| n.parse().unwrap());
    let msgs: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .map(|e| std::fs::read(e.path()).unwrap())
        .collect();
    let bytes: usize = msgs.iter().map(Vec::len).sum();
    let engine = phigate_detectors::Engine::new(Default::default()).unwrap();
    let t = Instant::now();
    let mut phi = 0;
    for _ in 0..rounds {
        for m in &msgs {
            phi += engine.scan(m).phi as usize;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{} messages, {} bytes, {rounds} rounds: {:.1} MB/s raw, {:.0} msgs/s ({phi} phi verdicts)",
        msgs.len(),
        bytes,
        (bytes * rounds) as f64 / secs / 1e6,
        (msgs.len() * rounds) as f64 / secs
    );
}
