//! What a scan reports: findings, their locations, and the message verdict.

use std::fmt;

use serde::Serialize;

/// A kind of PHI. Names match the corpus labels and the `scan --json` contract.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub enum Category {
    /// US Social Security number.
    Ssn,
    /// ICD-10-CM diagnosis code in clinical context.
    Icd10cm,
    /// A person's name next to a date of birth or service.
    NameDate,
    /// Medical record number.
    Mrn,
    /// National Provider Identifier.
    Npi,
    /// Medicare Beneficiary Identifier.
    Mbi,
    /// DEA registration number.
    Dea,
    /// Health-plan member or subscriber ID.
    MemberId,
    /// An attachment that could not be inspected: never treated as clean.
    Uninspectable,
    /// A category defined by a custom rule.
    Custom(String),
}

impl Category {
    /// The category's name.
    pub fn as_str(&self) -> &str {
        match self {
            Category::Ssn => "ssn",
            Category::Icd10cm => "icd10cm",
            Category::NameDate => "name_date",
            Category::Mrn => "mrn",
            Category::Npi => "npi",
            Category::Mbi => "mbi",
            Category::Dea => "dea",
            Category::MemberId => "member_id",
            Category::Uninspectable => "uninspectable",
            Category::Custom(name) => name,
        }
    }

    /// A built-in category by name, or a custom one.
    pub fn from_name(name: &str) -> Category {
        match name {
            "ssn" => Category::Ssn,
            "icd10cm" => Category::Icd10cm,
            "name_date" => Category::NameDate,
            "mrn" => Category::Mrn,
            "npi" => Category::Npi,
            "mbi" => Category::Mbi,
            "dea" => Category::Dea,
            "member_id" => Category::MemberId,
            "uninspectable" => Category::Uninspectable,
            other => Category::Custom(other.to_owned()),
        }
    }
}

impl From<Category> for String {
    fn from(c: Category) -> String {
        c.as_str().to_owned()
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where in the message a finding is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Location {
    /// A header (decoded).
    Header {
        /// Header name, e.g. `Subject`.
        name: String,
    },
    /// A MIME part's decoded text.
    Part {
        /// Part path: `1`, `1.2`, `2.1.1` (nested messages and archive members add levels).
        path: String,
        /// Attachment file name, if any.
        filename: Option<String>,
        /// Byte range in the part's decoded text.
        start: usize,
        /// End of the byte range.
        end: usize,
    },
    /// An attachment's file name.
    Filename {
        /// Part path.
        path: String,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Header { name } => write!(f, "header {name}"),
            Location::Part {
                path,
                filename,
                start,
                end,
            } => {
                write!(f, "part {path}")?;
                if let Some(n) = filename {
                    write!(f, " ({n})")?;
                }
                write!(f, " bytes {start}..{end}")
            }
            Location::Filename { path } => write!(f, "filename of part {path}"),
        }
    }
}

/// The matched value, kept for keyed hashing and never shown: its `Debug`
/// and `Display` print only its length, and it is not serialised.
#[derive(Clone, PartialEq, Eq)]
pub struct MatchedValue(String);

impl MatchedValue {
    pub(crate) fn new(s: impl Into<String>) -> Self {
        MatchedValue(s.into())
    }
    /// The normalised value, for a keyed hash (HMAC) in the audit log. Do
    /// not log or display it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for MatchedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MatchedValue(<{} bytes>)", self.0.len())
    }
}

/// One thing found.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// What kind of PHI.
    pub category: Category,
    /// The rule that fired, e.g. `ssn.delimited`, or a custom rule's id.
    pub rule: String,
    /// 0.0 to 1.0.
    pub confidence: f32,
    /// Where.
    pub location: Location,
    /// A redacted preview such as `***-**-6789`; never the whole value.
    pub preview: String,
    /// Why it fired: the context seen, in words (no PHI).
    pub why: String,
    /// The value itself, for hashing only.
    #[serde(skip)]
    pub value: MatchedValue,
}

/// The outcome of scanning one message.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Every finding; those below every threshold only when the engine
    /// explains them (`Settings::explain_below_threshold`).
    pub findings: Vec<Finding>,
    /// Categories whose best finding reached its threshold, sorted.
    pub categories: Vec<Category>,
    /// Whether the message carries PHI: some PHI category reached its threshold.
    pub phi: bool,
    /// Whether some part could not be inspected.
    pub uninspectable: bool,
    /// Whether the scan stopped at its deadline (what was left is among the
    /// uninspectable findings).
    pub timed_out: bool,
}

impl Report {
    /// The report for a message that could not be inspected at all (the
    /// scan failed): uninspectable, never clean.
    pub fn not_inspected(reason: &str) -> Report {
        Report {
            findings: vec![Finding {
                category: Category::Uninspectable,
                rule: "uninspectable".into(),
                confidence: 1.0,
                location: Location::Part {
                    path: "1".into(),
                    filename: None,
                    start: 0,
                    end: 0,
                },
                preview: String::new(),
                why: reason.to_string(),
                value: MatchedValue::new(""),
            }],
            categories: vec![Category::Uninspectable],
            phi: false,
            uninspectable: true,
            timed_out: false,
        }
    }

    /// Findings that reached their category's threshold.
    pub fn phi_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| self.categories.contains(&f.category))
    }
}

/// Masks every ASCII letter and digit except the last `keep` of them.
pub(crate) fn mask_keep_last(value: &str, keep: usize) -> String {
    let total = value.chars().filter(char::is_ascii_alphanumeric).count();
    let mut seen = 0;
    value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                seen += 1;
                if seen + keep > total { c } else { '*' }
            } else {
                c
            }
        })
        .collect()
}

/// Masks everything but the first letter of each word: `J*** S****`.
pub(crate) fn mask_initials(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut start = true;
    for c in value.chars() {
        if c.is_alphanumeric() {
            out.push(if start { c } else { '*' });
            start = false;
        } else {
            out.push(c);
            start = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews() {
        assert_eq!(mask_keep_last("123-45-6789", 4), "***-**-6789");
        assert_eq!(mask_keep_last("1EG4-TE5-MK73", 2), "****-***-**73");
        assert_eq!(mask_initials("Mrs. John Stewart"), "M**. J*** S******");
    }

    #[test]
    fn matched_value_never_prints() {
        let v = MatchedValue::new("123-45-6789");
        assert_eq!(format!("{v:?}"), "MatchedValue(<11 bytes>)");
    }
}
