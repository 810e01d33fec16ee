//! `phigate scan`: a dry run of the detectors over message files, with the
//! reasons each finding fired, for administrators tuning rules.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use phigate_detectors::{Engine, Report};
use serde::Serialize;

/// One input's result in `--json` form: a contract other tools rely on.
#[derive(Serialize)]
struct JsonResult<'a> {
    file: &'a str,
    phi: bool,
    categories: Vec<&'a str>,
    findings: Vec<JsonFinding<'a>>,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    category: &'a str,
    rule: &'a str,
    confidence: f32,
    location: String,
    preview: &'a str,
    why: &'a str,
}

/// Why an input could not be scanned.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {name}: {source}")]
pub struct InputError {
    name: String,
    source: std::io::Error,
}

/// Reads an input (`-` is standard input).
pub fn read_input(name: &str) -> Result<Vec<u8>, InputError> {
    let mut buf = Vec::new();
    let res = if name == "-" {
        std::io::stdin().read_to_end(&mut buf).map(|_| ())
    } else {
        std::fs::read(Path::new(name)).map(|b| buf = b)
    };
    res.map(|()| buf).map_err(|source| InputError {
        name: name.to_string(),
        source,
    })
}

/// One JSON line for a scanned input.
pub fn json_line(engine: &Engine, name: &str, report: &Report) -> String {
    let r = JsonResult {
        file: name,
        phi: report.phi,
        categories: report.categories.iter().map(|c| c.as_str()).collect(),
        findings: report
            .findings
            .iter()
            .filter(|f| f.confidence >= engine.threshold(&f.category))
            .map(|f| JsonFinding {
                category: f.category.as_str(),
                rule: &f.rule,
                confidence: (f.confidence * 100.0).round() / 100.0,
                location: f.location.to_string(),
                preview: &f.preview,
                why: &f.why,
            })
            .collect(),
    };
    serde_json::to_string(&r).expect("scan results always serialise")
}

/// A human-readable block for a scanned input.
pub fn text_block(engine: &Engine, name: &str, report: &Report) -> String {
    let mut out = String::new();
    let verdict = if report.phi {
        let cats: Vec<&str> = report.categories.iter().map(|c| c.as_str()).collect();
        format!("PHI ({})", cats.join(", "))
    } else if report.uninspectable {
        "not clean: part of it could not be inspected".to_string()
    } else {
        "no PHI found".to_string()
    };
    out.push_str(&format!("{name}: {verdict}\n"));
    let mut findings: Vec<_> = report.findings.iter().collect();
    findings.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    for f in findings {
        let threshold = engine.threshold(&f.category);
        let mark = if f.confidence >= threshold {
            "  "
        } else {
            "  (below threshold) "
        };
        out.push_str(&format!(
            "{mark}{:<10} {:<20} {:.2}/{:.2}  {}  {}\n      why: {}\n",
            f.category.as_str(),
            f.rule,
            f.confidence,
            threshold,
            f.location,
            f.preview,
            f.why
        ));
    }
    out
}

/// `phigate scan`: the detectors over message files, each finding explained.
pub(crate) fn scan_files(config: Option<&Path>, json: bool, files: &[String]) -> ExitCode {
    // JSON lists what the gateway acts on; the text form also shows, for
    // tuning, what scored below threshold.
    let engine = match super::load(config).and_then(|c| {
        let live = crate::app::Live::build(c, false)?;
        if json {
            Ok(live.engine)
        } else {
            Ok(std::sync::Arc::new(crate::app::engine::explaining(
                &live.config.detectors,
            )?))
        }
    }) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("phigate: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let mut status = ExitCode::SUCCESS;
    for name in files {
        let raw = match read_input(name) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("phigate: {e}");
                status = ExitCode::from(2);
                continue;
            }
        };
        let report = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| engine.scan(&raw)))
            .unwrap_or_else(|_| {
                phigate_detectors::Report::not_inspected("inspection failed with an internal error")
            });
        if json {
            println!("{}", json_line(&engine, name, &report));
        } else {
            print!("{}", text_block(&engine, name, &report));
        }
    }
    status
}

/// `phigate test-rules`: rule cases through the relay's detectors and policy.
pub(crate) fn test_rules(config: Option<&Path>, dir: &Path) -> ExitCode {
    let built = super::load(config).and_then(|c| {
        let live = crate::app::Live::build(c, false)?;
        Ok((live.engine, live.policy))
    });
    let (engine, policy) = match built {
        Ok(x) => x,
        Err(e) => {
            eprintln!("phigate: {e:#}");
            return ExitCode::from(2);
        }
    };
    match super::ruletest::run(dir, &engine, &policy) {
        Ok(rows) => {
            print!("{}", super::ruletest::table(&rows));
            if rows.iter().all(super::ruletest::Row::pass) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("phigate: {e}");
            ExitCode::from(2)
        }
    }
}
