//! Detection accuracy measured as a user would: the real `phigate scan
//! --json` (PDF text read by pdftotext, every detector, MIME decoding)
//! over labelled corpora. The dev corpus (tests/corpus/dev, shared) and the
//! tuning half of our own corpus (tests/corpus/gen/tune) must keep recall
//! of at least 0.98 and false alarms of at most 0.02; the blind half
//! (tests/corpus/gen/blind), never read while tuning, and the outside half
//! (tests/corpus/gen/outside, names from a source the product does not
//! vendor) are scored and printed only.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

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
    fn recall(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fn_).max(1) as f64
    }
    fn precision(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fp).max(1) as f64
    }
    fn fpr(&self) -> f64 {
        self.fp as f64 / (self.fp + self.tn).max(1) as f64
    }
}

/// Scores a corpus directory; prints the table; the message-level counts.
fn score(dir: &Path) -> Counts {
    phigate_tests::require_tool("pdftotext");
    let labels: Vec<serde_json::Value> = std::fs::read_to_string(dir.join("labels.jsonl"))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let out = Command::new(phigate_tests::binary())
        .args(["scan", "--json"])
        .args(labels.iter().map(|l| dir.join(l["file"].as_str().unwrap())))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: BTreeMap<String, serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let f = Path::new(v["file"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (f, v)
        })
        .collect();
    let mut message = Counts::default();
    let mut cats: BTreeMap<&str, Counts> = BTreeMap::new();
    let mut formats: BTreeMap<String, Counts> = BTreeMap::new();
    let mut kinds: BTreeMap<String, Counts> = BTreeMap::new();
    for l in &labels {
        let file = l["file"].as_str().unwrap();
        let r = &results[file];
        let phi = l["phi"].as_bool().unwrap();
        let got = r["phi"].as_bool().unwrap();
        message.add(got, phi);
        let wanted: Vec<&str> = l["categories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let found: Vec<&str> = r["categories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        for c in ["ssn", "icd10cm", "name_date", "mrn", "mbi", "npi"] {
            cats.entry(c)
                .or_default()
                .add(found.contains(&c), wanted.contains(&c));
        }
        for f in l["formats"].as_array().into_iter().flatten() {
            formats
                .entry(f.as_str().unwrap().to_string())
                .or_default()
                .add(got, phi);
        }
        if !phi {
            kinds
                .entry(l["kind"].as_str().unwrap_or("").to_string())
                .or_default()
                .add(got, phi);
        }
    }
    println!(
        "{}: {} messages: recall {:.3}, false alarms {:.3} (tp {}, fn {}, fp {}, tn {})",
        dir.display(),
        labels.len(),
        message.recall(),
        message.fpr(),
        message.tp,
        message.fn_,
        message.fp,
        message.tn
    );
    for (c, n) in &cats {
        if n.tp + n.fn_ + n.fp > 0 {
            println!(
                "  category {c:<10} precision {:.3} recall {:.3} ({}/{})",
                n.precision(),
                n.recall(),
                n.tp,
                n.tp + n.fn_
            );
        }
    }
    for (f, n) in &formats {
        println!(
            "  format   {f:<10} recall {:.3} ({}/{})",
            n.recall(),
            n.tp,
            n.tp + n.fn_
        );
    }
    for (k, n) in &kinds {
        println!("  negative {k:<16} false alarms {}/{}", n.fp, n.fp + n.tn);
    }
    message
}

fn corpus(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(name)
}

#[test]
fn the_dev_corpus_and_our_tuning_half_hold_the_bar() {
    for name in ["dev", "gen/tune"] {
        let m = score(&corpus(name));
        assert!(
            m.recall() >= 0.98,
            "{name}: recall {:.3} < 0.98",
            m.recall()
        );
        assert!(
            m.fpr() <= 0.02,
            "{name}: false alarms {:.3} > 0.02",
            m.fpr()
        );
    }
}

/// The blind half: printed for the record, never tuned on.
#[test]
fn the_blind_half_is_scored() {
    let m = score(&corpus("gen/blind"));
    assert!(m.tp + m.fn_ + m.fp + m.tn >= 300, "the blind half is there");
}

/// The outside half, written once the blind half's failures had been read:
/// blind phrasings, names from a source the product does not vendor
/// (mimesis, hand-written lists). Printed for the record, never tuned on.
#[test]
fn the_outside_half_is_scored() {
    let m = score(&corpus("gen/outside"));
    assert!(
        m.tp + m.fn_ + m.fp + m.tn >= 300,
        "the outside half is there"
    );
}
