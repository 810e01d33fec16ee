//! Administrators' own rules: a regex or a keyword list, with a category,
//! a weight, and optional context words that must appear within a window.

use regex::Regex;

use super::{Match, Text};
use crate::context::Class;
use crate::finding::Category;

/// A custom rule as configured.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSpec {
    /// Rule id, shown in findings and the audit log.
    pub id: String,
    /// Category the rule reports (a built-in name or a new one).
    pub category: String,
    /// A regular expression (Rust `regex` syntax).
    pub pattern: Option<String>,
    /// Words or phrases that are findings themselves (case-insensitive).
    pub keywords: Vec<String>,
    /// Confidence of a match with its context (or of any match when the
    /// rule has no context words).
    pub weight: f32,
    /// Words that must appear near a match for it to count in full.
    pub context: Vec<String>,
    /// Bytes either side of a match searched for context.
    pub window: usize,
}

/// Why a custom rule cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    /// The regex does not compile.
    #[error("rule `{id}`: invalid pattern: {message}")]
    Pattern {
        /// Rule id.
        id: String,
        /// The regex crate's message.
        message: String,
    },
    /// Neither a pattern nor keywords.
    #[error("rule `{id}`: needs a pattern or keywords")]
    Empty {
        /// Rule id.
        id: String,
    },
    /// Weight outside 0..=1.
    #[error("rule `{id}`: weight must be between 0 and 1")]
    Weight {
        /// Rule id.
        id: String,
    },
}

/// A compiled rule.
#[derive(Debug)]
pub struct Rule {
    spec: RuleSpec,
    regex: Option<Regex>,
    category: Category,
}

impl Rule {
    /// Compiles a rule.
    pub fn new(spec: RuleSpec) -> Result<Rule, RuleError> {
        if spec.pattern.is_none() && spec.keywords.is_empty() {
            return Err(RuleError::Empty { id: spec.id });
        }
        if !(0.0..=1.0).contains(&spec.weight) {
            return Err(RuleError::Weight { id: spec.id });
        }
        let regex = match &spec.pattern {
            Some(p) => Some(
                regex::RegexBuilder::new(p)
                    .size_limit(1 << 22)
                    .build()
                    .map_err(|e| RuleError::Pattern {
                        id: spec.id.clone(),
                        message: e.to_string(),
                    })?,
            ),
            None => None,
        };
        Ok(Rule {
            category: Category::from_name(&spec.category),
            spec,
            regex,
        })
    }

    /// The rule's spec.
    pub fn spec(&self) -> &RuleSpec {
        &self.spec
    }

    fn scored(&self, t: &Text<'_>, idx: u16, start: usize, end: usize) -> Match {
        let mut confidence = self.spec.weight;
        let mut why = format!("custom rule {}", self.spec.id);
        if !self.spec.context.is_empty() {
            let w = self.spec.window;
            match t.context(Class::Custom(idx), start, end, w, w) {
                Some(word) => why.push_str(&format!("; context \"{}\"", word.to_ascii_lowercase())),
                None => {
                    confidence *= 0.5;
                    why.push_str("; no context word nearby");
                }
            }
        }
        let value = &t.text[start..end];
        Match::masked(
            self.category.clone(),
            &self.spec.id,
            confidence,
            start,
            end,
            value,
            why,
        )
    }

    /// Matches of this rule (index `idx`) in the text.
    pub fn detect(&self, t: &Text<'_>, idx: u16, out: &mut Vec<Match>) {
        if let Some(re) = &self.regex {
            for m in re.find_iter(t.segment()).filter(|m| !m.is_empty()) {
                out.push(self.scored(t, idx, t.lo + m.start(), t.lo + m.end()));
            }
        }
        for h in t
            .hits
            .of(Class::CustomKeyword(idx))
            .iter()
            .filter(|h| h.start >= t.lo && h.end <= t.hi)
        {
            out.push(self.scored(t, idx, h.start, h.end));
        }
    }
}
