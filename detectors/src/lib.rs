//! PHI detection for phigate: raw message bytes in, findings out.
//!
//! The [`Engine`] is built once from [`Settings`] and shared. For each
//! message it extracts every text ([`extract`]: headers, MIME parts, HTML,
//! tables, text attachments, file names), normalises each ([`normalize`]),
//! then reads each text twice in total: one Aho-Corasick pass finds every
//! context word of every detector ([`context`]), one multi-pattern regex
//! pass finds every structured candidate ([`patterns`]). The detectors
//! ([`detect`]) score candidates against the context around them; a
//! category is reported when its best score reaches its threshold.
//!
//! ```
//! use phigate_detectors::{Engine, Settings};
//! let engine = Engine::new(Settings::default()).unwrap();
//! let report = engine.scan(b"Subject: claim\r\n\r\nPatient SSN: 135-14-4832\r\n");
//! assert!(report.phi);
//! assert_eq!(report.categories[0].as_str(), "ssn");
//! assert_eq!(report.findings[0].preview, "***-**-4832");
//! ```
#![deny(missing_docs)]

pub mod context;
pub mod detect;
pub mod extract;
mod finding;
pub mod formats;
pub mod normalize;
pub mod patterns;

use std::collections::HashMap;

pub use detect::custom::{RuleError, RuleSpec};
pub use finding::{Category, Finding, Location, MatchedValue, Report};

use context::{Class, Context};
use detect::{Match, Text, custom::Rule};
use extract::{Extracted, Limits, Profile, Source};
use patterns::{Kind, Patterns};

/// Text out of a PDF, done outside this crate (out of process, with
/// limits: PDF readers are large and attackable). `Err` says why not,
/// in words without content.
pub trait PdfText: Send + Sync {
    /// The text of `pdf`, or why it could not be had by `deadline`.
    fn text(&self, pdf: &[u8], deadline: Option<std::time::Instant>) -> Result<String, String>;
}

/// How the engine is set up.
#[derive(Clone)]
pub struct Settings {
    /// Threshold per category name; others use `default_threshold`.
    pub thresholds: HashMap<String, f32>,
    /// Threshold for categories not listed.
    pub default_threshold: f32,
    /// Administrators' rules.
    pub custom: Vec<RuleSpec>,
    /// Extraction limits.
    pub limits: Limits,
    /// Reads PDF text; without one, PDFs are uninspectable.
    pub pdf: Option<std::sync::Arc<dyn PdfText>>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("thresholds", &self.thresholds)
            .field("default_threshold", &self.default_threshold)
            .field("custom", &self.custom)
            .field("limits", &self.limits)
            .field("pdf", &self.pdf.is_some())
            .finish()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            thresholds: HashMap::new(),
            default_threshold: 0.5,
            custom: Vec::new(),
            limits: Limits::default(),
            pdf: None,
        }
    }
}

/// Why an engine could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A custom rule is invalid.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// The keyword automaton could not be built (too many keywords).
    #[error("context word automaton: {0}")]
    Automaton(#[from] aho_corasick::BuildError),
}

/// The compiled detectors.
pub struct Engine {
    settings: Settings,
    parser: mail_parser::MessageParser,
    context: Context,
    patterns: Patterns,
    rules: Vec<Rule>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Compiles the detectors and custom rules.
    pub fn new(settings: Settings) -> Result<Engine, BuildError> {
        let rules = settings
            .custom
            .iter()
            .cloned()
            .map(Rule::new)
            .collect::<Result<Vec<_>, _>>()?;
        let mut custom_words = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            custom_words.push((Class::Custom(i as u16), r.spec().context.clone()));
            custom_words.push((Class::CustomKeyword(i as u16), r.spec().keywords.clone()));
        }
        let context = Context::new(&custom_words)?;
        detect::names::warm_up();
        let _ = detect::icd10::is_code("A000");
        Ok(Engine {
            settings,
            parser: extract::parser(),
            context,
            patterns: Patterns::new(),
            rules,
        })
    }

    /// The threshold of a category.
    pub fn threshold(&self, c: &Category) -> f32 {
        self.settings
            .thresholds
            .get(c.as_str())
            .copied()
            .unwrap_or(self.settings.default_threshold)
    }

    /// Scans a raw RFC 5322 message.
    pub fn scan(&self, raw: &[u8]) -> Report {
        self.scan_until(raw, None)
    }

    /// Scans a raw message, stopping at `deadline`: whatever was not read
    /// by then is reported uninspectable, so a scan never runs on after its
    /// time budget (the relay has answered by then).
    pub fn scan_until(&self, raw: &[u8], deadline: Option<std::time::Instant>) -> Report {
        let extracted = extract::extract_until(
            &self.parser,
            raw,
            &self.settings.limits,
            deadline,
            self.settings.pdf.as_deref(),
        );
        self.report(extracted, deadline)
    }

    /// Scans plain text as if it were a message body (for rule tests).
    pub fn scan_text(&self, text: &str) -> Report {
        self.report(
            Extracted {
                segments: vec![extract::Segment {
                    source: Source::Part {
                        path: "1".into(),
                        filename: None,
                    },
                    text: text.to_string(),
                    profile: Profile::Full,
                    form: None,
                }],
                uninspectable: Vec::new(),
                timed_out: false,
            },
            None,
        )
    }

    fn report(&self, mut extracted: Extracted, deadline: Option<std::time::Instant>) -> Report {
        let mut findings = Vec::new();
        let mut timed_out = extracted.timed_out;
        for (i, seg) in extracted.segments.iter().enumerate() {
            if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                let left = extracted.segments.len() - i;
                extracted.uninspectable.push(extract::Uninspectable {
                    path: "1".into(),
                    filename: None,
                    reason: format!(
                        "inspection time budget used up; {left} texts were not scanned"
                    ),
                });
                timed_out = true;
                break;
            }
            let norm = normalize::normalize(&seg.text);
            let locate = |start: usize, end: usize| match &seg.source {
                Source::Header(name) => Location::Header { name: name.clone() },
                Source::Filename { path } => Location::Filename { path: path.clone() },
                Source::Part { path, filename } => Location::Part {
                    path: path.clone(),
                    filename: filename.clone(),
                    start,
                    end,
                },
            };
            let mut add = |m: Match, location: Location| {
                let why = match seg.form {
                    Some(form) => format!("{}; in {form}", m.why),
                    None => m.why,
                };
                findings.push(Finding {
                    category: m.category,
                    rule: m.rule,
                    confidence: m.confidence,
                    location,
                    preview: m.preview,
                    why,
                    value: MatchedValue::new(m.value),
                });
            };
            for m in self.matches(&norm.text, seg.profile) {
                let loc = locate(norm.source_offset(m.start), norm.source_offset(m.end));
                add(m, loc);
            }
            // Clinical formats in a part (attached or pasted): their
            // records, with offsets in the part's text.
            if seg.profile == Profile::Full && matches!(seg.source, Source::Part { .. }) {
                for rec in formats::records(&seg.text) {
                    for m in detect::structured::matches(&rec) {
                        let loc = locate(m.start, m.end);
                        add(m, loc);
                    }
                }
            }
        }
        for u in &extracted.uninspectable {
            findings.push(Finding {
                category: Category::Uninspectable,
                rule: "uninspectable".into(),
                confidence: 1.0,
                location: Location::Part {
                    path: u.path.clone(),
                    filename: u.filename.clone(),
                    start: 0,
                    end: 0,
                },
                preview: String::new(),
                why: u.reason.clone(),
                value: MatchedValue::new(""),
            });
        }
        let mut categories: Vec<Category> = Vec::new();
        for f in &findings {
            if f.confidence >= self.threshold(&f.category) && !categories.contains(&f.category) {
                categories.push(f.category.clone());
            }
        }
        categories.sort();
        Report {
            phi: categories.iter().any(|c| *c != Category::Uninspectable),
            uninspectable: categories.contains(&Category::Uninspectable),
            categories,
            findings,
            timed_out,
        }
    }

    /// Every scored match in one normalised text.
    fn matches(&self, text: &str, profile: Profile) -> Vec<Match> {
        // Every built-in finding contains a digit (numbers, codes, dates):
        // a text without one needs no pass unless custom rules could match.
        if self.rules.is_empty() && !text.bytes().any(|b| b.is_ascii_digit()) {
            return Vec::new();
        }
        let hits = self.context.hits(text);
        let t = Text { text, hits: &hits };
        let mut out = Vec::new();
        for c in self.patterns.candidates(text) {
            let m = match c.kind {
                Kind::Ssn => detect::ssn::detect(&t, c.start, c.end),
                Kind::Icd => detect::icd10::detect(&t, c.start, c.end),
                Kind::Mbi => detect::ids::mbi(&t, c.start, c.end),
                Kind::Dea => detect::ids::dea(&t, c.start, c.end),
                Kind::Npi => detect::ids::npi(&t, c.start, c.end),
                Kind::DateNumeric
                | Kind::DateCompact
                | Kind::DateMonthFirst
                | Kind::DateDayFirst
                | Kind::DateCompactMonth => {
                    if profile == Profile::Identifiers {
                        continue;
                    }
                    detect::name_date::detect(&t, c.kind, c.start, c.end)
                }
            };
            out.extend(m);
        }
        out.extend(detect::ids::labelled(&t));
        for (i, rule) in self.rules.iter().enumerate() {
            rule.detect(&t, i as u16, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;

    /// The default engine, built once for all unit tests.
    pub fn engine() -> &'static Engine {
        static E: OnceLock<Engine> = OnceLock::new();
        E.get_or_init(|| Engine::new(Settings::default()).unwrap())
    }

    /// Scans `text` as a message body.
    pub fn scan_text(text: &str) -> Report {
        engine().scan_text(text)
    }
}
