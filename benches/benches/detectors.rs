//! Detector throughput: MB/s of decoded text (dev corpus texts; a large
//! clean text) and messages/s from raw .eml including MIME parsing.
//! `cargo bench -p phigate-benches --bench detectors`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use phigate_detectors::{Engine, Settings, extract};

fn bench(c: &mut Criterion) {
    let engine = Engine::new(Settings::default()).unwrap();
    let corpus = phigate_benches::corpus();
    let raw_bytes: usize = corpus.iter().map(Vec::len).sum();

    let mut g = c.benchmark_group("raw messages (MIME parsing + all detectors)");
    g.throughput(Throughput::Elements(corpus.len() as u64));
    g.bench_function("dev corpus, msgs", |b| {
        b.iter(|| corpus.iter().filter(|m| engine.scan(m).phi).count())
    });
    g.throughput(Throughput::Bytes(raw_bytes as u64));
    g.bench_function("dev corpus, raw bytes", |b| {
        b.iter(|| corpus.iter().filter(|m| engine.scan(m).phi).count())
    });
    g.finish();

    // Decoded text: what the detectors read after extraction.
    let parser = extract::parser();
    let texts: Vec<String> = corpus
        .iter()
        .map(|m| extract::extract_with(&parser, m, &Default::default()).text)
        .collect();
    let text_bytes: usize = texts.iter().map(String::len).sum();
    let clean = phigate_benches::clean_text(1 << 20);
    let mut g = c.benchmark_group("decoded text (all detectors)");
    g.throughput(Throughput::Bytes(text_bytes as u64));
    g.bench_function("dev corpus texts", |b| {
        b.iter(|| texts.iter().filter(|t| engine.scan_text(t).phi).count())
    });
    g.throughput(Throughput::Bytes(clean.len() as u64));
    g.bench_function("1 MiB clean business text", |b| {
        b.iter(|| engine.scan_text(&clean).phi)
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
