//! `phigate test-rules DIR`: rule test cases, so an administrator changes
//! detector thresholds and policy rules the way a developer changes code.
//!
//! A case is `NAME.eml` with `NAME.expect.toml` beside it:
//!
//! ```toml
//! categories = ["ssn"]          # exactly the categories found over threshold
//! sender = "desk@clinic.example" # envelope and session, all optional
//! client_ip = "10.0.0.5"
//! authenticated = false
//! inbound_tls = false
//! [actions]                      # recipient = action, or "action rule-id"
//! "billing@payer.example" = "encrypt payer-claims"
//! ```
//!
//! Each case runs the same detectors and policy the relay runs.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::policy::Policy;

/// What a case expects.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    #[serde(default)]
    categories: Option<Vec<String>>,
    #[serde(default = "default_sender")]
    sender: String,
    #[serde(default = "default_ip")]
    client_ip: IpAddr,
    #[serde(default)]
    authenticated: bool,
    #[serde(default)]
    inbound_tls: bool,
    #[serde(default)]
    actions: BTreeMap<String, String>,
}

fn default_sender() -> String {
    "sender@practice.example".into()
}

fn default_ip() -> IpAddr {
    IpAddr::from([127, 0, 0, 1])
}

/// One line of the result table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Case name.
    pub case: String,
    /// What was checked: `categories` or a recipient.
    pub what: String,
    /// Expected.
    pub expected: String,
    /// Found.
    pub got: String,
}

impl Row {
    /// Whether expectation and result agree.
    pub fn pass(&self) -> bool {
        self.expected == self.got
    }
}

/// A case that could not be run, with its file.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct CaseError {
    /// The file.
    pub file: String,
    /// What is wrong.
    pub message: String,
}

/// Runs every case in `dir` with `engine` and `policy`.
pub fn run(
    dir: &Path,
    engine: &phigate_detectors::Engine,
    policy: &Policy,
) -> Result<Vec<Row>, CaseError> {
    let err = |file: &Path, message: String| CaseError {
        file: file.display().to_string(),
        message,
    };
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| err(dir, e.to_string()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    cases.sort();
    if cases.is_empty() {
        return Err(err(dir, "no .eml cases here".into()));
    }
    let mut rows = Vec::new();
    for eml in cases {
        let name = eml
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let expect_path = eml.with_file_name(format!("{name}.expect.toml"));
        let text = std::fs::read_to_string(&expect_path)
            .map_err(|e| err(&expect_path, format!("cannot read: {e}")))?;
        let expect: Expect = toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start].matches('\n').count() + 1)
                .unwrap_or(0);
            err(&expect_path, format!("line {line}: {}", e.message()))
        })?;
        let raw = std::fs::read(&eml).map_err(|e| err(&eml, format!("cannot read: {e}")))?;
        // The relay's own stage: the same report, the same policy facts.
        let content = crate::intake::Content::scan(engine, raw);
        let categories = content.categories().to_vec();
        if let Some(want) = &expect.categories {
            let mut want = want.clone();
            want.sort();
            rows.push(Row {
                case: name.clone(),
                what: "categories".into(),
                expected: list(&want),
                got: list(&categories),
            });
        }
        let sender = crate::intake::Sender {
            address: &expect.sender,
            client_ip: expect.client_ip,
            authenticated: expect.authenticated,
            inbound_tls: expect.inbound_tls,
        };
        let rcpts: Vec<String> = expect.actions.keys().cloned().collect();
        let decisions = content.decide(policy, &sender, &rcpts);
        for ((rcpt, want), d) in expect.actions.iter().zip(decisions) {
            // "action" alone checks the action; "action rule" both.
            let got = if want.contains(' ') {
                format!("{} {}", d.action, d.rule)
            } else {
                d.action.to_string()
            };
            rows.push(Row {
                case: name.clone(),
                what: rcpt.clone(),
                expected: want.clone(),
                got,
            });
        }
    }
    Ok(rows)
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".into()
    } else {
        items.join(",")
    }
}

/// The result table, as printed.
pub fn table(rows: &[Row]) -> String {
    let w = |f: fn(&Row) -> &str, min: usize| {
        rows.iter().map(|r| f(r).len()).max().unwrap_or(0).max(min)
    };
    let (a, b, c) = (w(|r| &r.case, 4), w(|r| &r.what, 5), w(|r| &r.expected, 8));
    let mut out = format!(
        "{:<a$}  {:<b$}  {:<c$}  {:<6}  GOT\n",
        "CASE", "CHECK", "EXPECTED", "RESULT"
    );
    for r in rows {
        let verdict = if r.pass() { "ok" } else { "FAIL" };
        out += &format!(
            "{:<a$}  {:<b$}  {:<c$}  {:<6}  {}\n",
            r.case, r.what, r.expected, verdict, r.got
        );
    }
    let failed = rows.iter().filter(|r| !r.pass()).count();
    out += &format!("{} check(s), {} failed\n", rows.len(), failed);
    out
}
