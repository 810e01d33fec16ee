//! Accuracy on the labelled development corpus (tests/corpus/dev, a copy of
//! the shared synthetic corpus). Prints precision, recall and false-positive
//! rate per category and asserts the message-level targets.
//!
//! The corpus shows formats and tricks; nothing in the detectors knows its
//! files. Held-out messages judge generalisation.

use std::collections::BTreeMap;
use std::path::PathBuf;

use phigate_detectors::{Engine, Settings};

#[derive(Default)]
struct Counts {
    tp: u32,
    fp: u32,
    fn_: u32,
    tn: u32,
}

impl Counts {
    fn add(&mut self, predicted: bool, actual: bool) {
        match (predicted, actual) {
            (true, true) => self.tp += 1,
            (true, false) => self.fp += 1,
            (false, true) => self.fn_ += 1,
            (false, false) => self.tn += 1,
        }
    }
    fn precision(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fp).max(1) as f64
    }
    fn recall(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fn_).max(1) as f64
    }
    fn fpr(&self) -> f64 {
        self.fp as f64 / (self.fp + self.tn).max(1) as f64
    }
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/dev")
}

#[test]
fn dev_corpus_accuracy() {
    let dir = corpus_dir();
    let labels =
        std::fs::read_to_string(dir.join("labels.jsonl")).expect("tests/corpus/dev/labels.jsonl");
    let engine = Engine::new(Settings::default()).unwrap();
    let mut message = Counts::default();
    let mut per_cat: BTreeMap<String, Counts> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut n = 0;
    for line in labels.lines().filter(|l| !l.trim().is_empty()) {
        let label: serde_json::Value = serde_json::from_str(line).unwrap();
        let file = label["file"].as_str().unwrap();
        let phi = label["phi"].as_bool().unwrap();
        let cats: Vec<&str> = label["categories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let raw = std::fs::read(dir.join(file)).unwrap();
        let report = engine.scan(&raw);
        n += 1;
        message.add(report.phi, phi);
        if report.phi != phi {
            misses.push(format!(
                "{file} ({}): labelled phi={phi} {cats:?}, got {:?}",
                label["kind"].as_str().unwrap_or(""),
                report
                    .categories
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
            ));
        }
        for cat in ["ssn", "icd10cm", "name_date", "mrn", "mbi", "npi"] {
            let got = report.categories.iter().any(|c| c.as_str() == cat);
            per_cat
                .entry(cat.to_string())
                .or_default()
                .add(got, cats.contains(&cat));
        }
    }
    println!("dev corpus: {n} messages");
    println!(
        "{:<10} {:>9} {:>9} {:>9}",
        "category", "precision", "recall", "FPR"
    );
    for (cat, c) in &per_cat {
        println!(
            "{cat:<10} {:>9.3} {:>9.3} {:>9.4}",
            c.precision(),
            c.recall(),
            c.fpr()
        );
    }
    println!(
        "{:<10} {:>9.3} {:>9.3} {:>9.4}   (message level: phi or not)",
        "ALL",
        message.precision(),
        message.recall(),
        message.fpr()
    );
    for m in &misses {
        println!("miss: {m}");
    }
    assert!(n >= 400, "corpus incomplete: {n} messages");
    assert!(
        message.recall() >= 0.98,
        "recall {:.3} < 0.98",
        message.recall()
    );
    assert!(
        message.fpr() <= 0.02,
        "false-positive rate {:.4} > 0.02",
        message.fpr()
    );
}
