//! Person names: US Census first-name and surname lists (1990, public
//! domain, vendored in data/), used as evidence together with shape —
//! capitalisation, titles, initials, labels such as "Patient:" — so that
//! names missing from the lists are still found when labelled.

use std::collections::HashSet;
use std::sync::OnceLock;

static FIRST: &str = include_str!("../../data/first-names.txt");
static LAST: &str = include_str!("../../data/surnames.txt");

struct Lists {
    first: HashSet<&'static str>,
    last: HashSet<&'static str>,
}

fn lists() -> &'static Lists {
    static L: OnceLock<Lists> = OnceLock::new();
    L.get_or_init(|| Lists {
        first: FIRST.lines().filter(|l| !l.is_empty()).collect(),
        last: LAST.lines().filter(|l| !l.is_empty()).collect(),
    })
}

/// Builds the lists now rather than at the first scan.
pub fn warm_up() {
    let _ = lists();
}

/// Upper-cases an ASCII word into `buf`; `None` for other words (the
/// lists are ASCII) or words longer than any name.
fn upper<'b>(word: &str, buf: &'b mut [u8; 32]) -> Option<&'b str> {
    let b = word.as_bytes();
    if b.len() > buf.len() || !word.is_ascii() {
        return None;
    }
    for (d, s) in buf.iter_mut().zip(b) {
        *d = s.to_ascii_uppercase();
    }
    std::str::from_utf8(&buf[..b.len()]).ok()
}

/// Whether `word` is a first name in the list.
pub fn is_first(word: &str) -> bool {
    let mut buf = [0u8; 32];
    upper(word, &mut buf).is_some_and(|w| lists().first.contains(w))
}

/// Whether `word` is a surname in the list.
pub fn is_last(word: &str) -> bool {
    let mut buf = [0u8; 32];
    upper(word, &mut buf).is_some_and(|w| lists().last.contains(w.trim_end_matches("'S")))
}

/// Capitalised words that are not names, whatever the lists say.
const NOT_NAMES: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "mon",
    "tue",
    "wed",
    "thu",
    "fri",
    "sat",
    "sun",
    "patient",
    "patients",
    "pt",
    "name",
    "date",
    "dob",
    "birth",
    "born",
    "service",
    "dos",
    "visit",
    "dear",
    "hi",
    "hello",
    "thanks",
    "thank",
    "regards",
    "best",
    "please",
    "the",
    "a",
    "an",
    "and",
    "or",
    "of",
    "for",
    "to",
    "from",
    "sent",
    "subject",
    "re",
    "fw",
    "fwd",
    "cc",
    "records",
    "record",
    "medical",
    "number",
    "no",
    "id",
    "order",
    "invoice",
    "hospital",
    "clinic",
    "medicine",
    "health",
    "care",
    "group",
    "inc",
    "llc",
    "ltd",
    "center",
    "centre",
    "street",
    "st",
    "ave",
    "road",
    "suite",
    "internal",
    "family",
    "practice",
    "office",
    "dept",
    "department",
    "team",
    "all",
    "new",
    "member",
    "client",
    "resident",
    "admission",
    "discharge",
    "appointment",
    "note",
    "notes",
    "form",
    "report",
    "summary",
    "dx",
    "mrn",
    "ssn",
    "npi",
    "mbi",
    "dr",
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "md",
    "do",
    "rn",
    "np",
    "pa",
    "phd",
    "jr",
    "sr",
    "ii",
    "iii",
    "iv",
    "phone",
    "fax",
    "tel",
    "email",
    "cell",
    "mobile",
    "ext",
    "attached",
    "attachment",
    "see",
    "below",
    "above",
    "today",
    "tomorrow",
    "yesterday",
    "morning",
    "afternoon",
    "evening",
    "am",
    "pm",
    "est",
    "edt",
    "cst",
    "pst",
    "utc",
    "gmt",
    "is",
    "was",
    "on",
    "in",
    "at",
    "by",
    "with",
    "had",
    "has",
    "seen",
    "age",
    "sex",
    "male",
    "female",
    "gender",
    "insurance",
    "plan",
    "policy",
    "claim",
    "claims",
    "billing",
    "payment",
    "account",
    "total",
    "amount",
    "due",
    "type",
    "status",
    "vendor",
    "review",
    "meeting",
    "invitation",
    "invited",
    "holiday",
    "hours",
    "newsletter",
    "update",
    "updated",
    "primary",
    "secondary",
    "provider",
    "referring",
    "referral",
    "i",
    "we",
    "you",
    "he",
    "she",
    "they",
    "it",
    "our",
    "your",
    "his",
    "her",
    "their",
    "this",
    "that",
    "these",
    "those",
];

/// Titles that introduce a name.
const TITLES: &[&str] = &["mr", "mrs", "ms", "miss", "mx", "dr", "mstr", "master"];

/// A name found in a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Name {
    /// Start offset (title included).
    pub start: usize,
    /// End offset.
    pub end: usize,
    /// 0..1: how much this looks like a person's name.
    pub score: f32,
    /// Evidence, in words.
    pub why: String,
}

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    start: usize,
    end: usize,
    word: &'a str,
    /// Followed by a comma ("Surname, First").
    comma: bool,
}

fn tokens(text: &str, lo: usize, hi: usize) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = lo;
    while i < hi {
        let c = text[i..].chars().next().unwrap_or(' ');
        if c.is_alphabetic() {
            let start = i;
            let mut end = i;
            for (k, ch) in text[i..].char_indices() {
                if ch.is_alphabetic() || ((ch == '\'' || ch == '-' || ch == '’') && k > 0) {
                    end = i + k + ch.len_utf8();
                } else {
                    break;
                }
            }
            let word = text[start..end].trim_end_matches(['\'', '-', '’']);
            let end = start + word.len();
            let mut j = end;
            // An initial or title may carry a dot.
            if j < b.len() && b[j] == b'.' {
                j += 1;
            }
            let comma = text[j..].starts_with(',');
            out.push(Token {
                start,
                end: j.min(text.len()),
                word,
                comma,
            });
            i = j.max(end).max(i + 1);
        } else {
            i += c.len_utf8();
        }
    }
    out
}

fn capitalised(word: &str) -> bool {
    let mut chars = word.chars();
    let first = chars.next().is_some_and(char::is_uppercase);
    let rest: Vec<char> = chars.filter(|c| c.is_alphabetic()).collect();
    first
        && (rest.iter().all(|c| c.is_lowercase()) || (rest.len() >= 2 && rest.iter().all(|c| c.is_uppercase()))
        // McDonald, O'Brien, DeSantis
        || rest.iter().filter(|c| c.is_uppercase()).count() == 1 && rest.len() >= 3)
}

fn is_initial(t: &Token<'_>) -> bool {
    t.word.chars().count() == 1 && t.word.chars().all(char::is_uppercase)
}

fn not_name(word: &str) -> bool {
    // Month names (and their abbreviations) are dates' business.
    if super::dates::is_month(word) {
        return true;
    }
    static SET: OnceLock<HashSet<String>> = OnceLock::new();
    let set = SET.get_or_init(|| NOT_NAMES.iter().map(|w| w.to_ascii_uppercase()).collect());
    let mut buf = [0u8; 32];
    match upper(word, &mut buf) {
        Some(up) => set.contains(up),
        None => set.contains(&word.to_uppercase()),
    }
}

fn is_title(word: &str) -> bool {
    TITLES.iter().any(|t| t.eq_ignore_ascii_case(word))
}

/// Names in `text[lo..hi]`: runs of two to four capitalised words (an
/// initial may stand in the middle), optionally after a title.
pub fn find(text: &str, lo: usize, hi: usize) -> Vec<Name> {
    let toks = tokens(text, lo, hi.min(text.len()));
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let title = is_title(toks[i].word) && capitalised(toks[i].word);
        let begin = if title { i + 1 } else { i };
        let mut j = begin;
        let mut words: Vec<Token<'_>> = Vec::new();
        while j < toks.len() && words.len() < 4 {
            let t = toks[j];
            // Words of one name are separated by white space only (or a comma after the surname).
            if let Some(prev) = words.last() {
                let gap = &text[prev.end..t.start];
                // A name never runs across a line break.
                let spaces = gap.chars().all(|c| c == ' ' || c == '\t');
                let comma = prev.comma && gap.trim() == "," && !gap.contains('\n');
                if !(spaces || comma) || gap.len() > 3 {
                    break;
                }
            }
            let ok = (capitalised(t.word) && !not_name(t.word) && t.word.chars().count() >= 2)
                || (is_initial(&t) && !words.is_empty());
            if !ok {
                break;
            }
            words.push(t);
            j += 1;
        }
        // Trailing initials are not part of a name.
        while words.last().is_some_and(is_initial) {
            words.pop();
        }
        if words.len() >= 2 {
            let full: Vec<&Token<'_>> = words.iter().filter(|t| !is_initial(t)).collect();
            let reversed = words[0].comma;
            let (first, last) = if reversed {
                (full[full.len() - 1], full[0])
            } else {
                (full[0], full[full.len() - 1])
            };
            let mut score: f32 = 0.15;
            let mut why = Vec::new();
            if is_first(first.word) {
                score += 0.35;
                why.push("first name in list");
            }
            if is_last(last.word) {
                score += 0.3;
                why.push("surname in list");
            }
            if title {
                score += 0.4;
                why.push("title");
            }
            let start = if title { toks[i].start } else { words[0].start };
            let end = words.last().map_or(start, |t| t.start + t.word.len());
            out.push(Name {
                start,
                end,
                score: score.min(1.0),
                why: if why.is_empty() {
                    "capitalised words".into()
                } else {
                    why.join(", ")
                },
            });
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<(&str, f32)> {
        find(text, 0, text.len())
            .into_iter()
            .map(|n| (&text[n.start..n.end], n.score))
            .collect()
    }

    #[test]
    fn shapes() {
        let n = names("Patient: Mrs. John Stewart\nDOB: 1962-10-19");
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].0, "Mrs. John Stewart");
        assert!(n[0].1 > 0.9);
        assert_eq!(
            names("Nathaniel J. More had a visit")[0].0,
            "Nathaniel J. More"
        );
        assert_eq!(
            names("Gutierrez, Whitney 2/19/24")[0].0,
            "Gutierrez, Whitney"
        );
        assert_eq!(
            names("Records for Johnnie Jacoby DOB 8/11/92")[0].0,
            "Johnnie Jacoby"
        );
        assert!(names("Thank you for your order").is_empty());
        assert!(names("Flu shot clinic is on June 11, 2025").is_empty());
        assert!(names("Sent: Tuesday, August 12, 2025").is_empty());
        // Not in the 1990 lists, still a name by shape, with a low score.
        let n = names("Zephyrine Okonkwo-Baptiste");
        assert_eq!(n.len(), 1);
        assert!(n[0].1 < 0.5);
    }
}
