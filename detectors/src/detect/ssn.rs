//! US Social Security numbers: 3-2-4 digits, validated against SSA rules
//! (area not 000, 666 or 900-999; group not 00; serial not 0000; numbers SSA
//! has publicised as never valid excluded). Dashes alone make a number look
//! like an SSN; spaces, dots or no separator need an SSN context word.

use super::{Match, Text, clamp};
use crate::context::Class;
use crate::finding::Category;

/// Numbers that pass the structural rules but were never assigned
/// (advertising and example numbers).
const NEVER_ISSUED: &[&str] = &[
    "078051120",
    "219099999",
    "123456789",
    "111111111",
    "333333333",
];

/// Checks the SSA structure rules for nine digits.
pub fn valid(digits: &str) -> bool {
    if digits.len() != 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let area: u32 = digits[0..3].parse().unwrap_or(0);
    let group = &digits[3..5];
    let serial = &digits[5..9];
    area != 0
        && area != 666
        && area < 900
        && group != "00"
        && serial != "0000"
        && !NEVER_ISSUED.contains(&digits)
}

/// Scores an SSN-shaped candidate.
pub fn detect(t: &Text<'_>, start: usize, end: usize) -> Option<Match> {
    let raw = &t.text[start..end];
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    if !valid(&digits) {
        return None;
    }
    let seps: Vec<char> = raw
        .chars()
        .filter(|c| !c.is_ascii_digit() && !c.is_whitespace())
        .collect();
    let spaced = raw.contains(char::is_whitespace);
    let (rule, base) = match (seps.as_slice(), spaced) {
        (['-', '-'], _) => ("ssn.dashed", 0.6),
        (['.', '.'], _) => ("ssn.dotted", 0.35),
        ([], true) => ("ssn.spaced", 0.35),
        ([], false) => ("ssn.undelimited", 0.25),
        _ => ("ssn.mixed", 0.3),
    };
    let mut confidence = base;
    let context = t.context(Class::Ssn, start, end, 60, 20);
    if context.is_some() {
        confidence += 0.38;
    }
    let not_phi = t.context(Class::NotPhi, start, end, 24, 0);
    if not_phi.is_some() {
        confidence -= 0.3;
    }
    let confidence = clamp(confidence);
    if confidence < t.floor {
        return None;
    }
    let mut why = format!(
        "{} 3-2-4 number passing SSA rules",
        rule.trim_start_matches("ssn.")
    );
    if let Some(word) = context {
        why.push_str(&format!("; context \"{}\"", word.to_ascii_lowercase()));
    }
    if let Some(word) = not_phi {
        why.push_str(&format!("; labelled \"{}\"", word.to_ascii_lowercase()));
    }
    Some(Match {
        category: Category::Ssn,
        rule: rule.into(),
        confidence,
        start,
        end,
        preview: format!("***-**-{}", &digits[5..]),
        value: digits,
        why,
    })
}

#[cfg(test)]
mod tests {
    use crate::tests::scan_text;

    /// (text, fires)
    const CASES: &[(&str, bool)] = &[
        ("SSN: 135-14-4832", true),
        ("The SS# on file is wrong, it should be 135-14-4832.", true),
        ("patient ssn 428 61 2662", true),
        ("Social Security number 428.61.2662", true),
        ("SSN 428612662", true),
        ("member 135-14-4832 on file", true),
        // No context: dashes alone are enough, other forms are not.
        ("call about 135-14-4832 today", true),
        ("ref 428 61 2662 thanks", false),
        ("Order 428612662 confirmed", false),
        // Invalid by SSA rules, even with context.
        ("SSN 000-12-3456", false),
        ("SSN 666-12-3456", false),
        ("SSN 912-12-3456", false),
        ("SSN 123-00-4567", false),
        ("SSN 123-45-0000", false),
        ("SSN 078-05-1120", false),
        ("Invoice 051-00-3223", false),
        ("Reference: 959-89-2438", false),
        // Not SSN-shaped.
        ("Fax: 151-397-9999", false),
        ("Phone (107) 171-9201", false),
        ("SSN 1234-56-789", false),
        // Labelled as something else.
        ("Invoice #: 135-14-4832", false),
    ];

    #[test]
    fn table() {
        for (text, fires) in CASES {
            let r = scan_text(text);
            assert_eq!(
                r.categories.iter().any(|c| c.as_str() == "ssn"),
                *fires,
                "{text}: {:#?}",
                r.findings
            );
        }
    }

    #[test]
    fn preview_keeps_only_the_last_four() {
        let r = scan_text("SSN: 135-14-4832");
        assert_eq!(r.findings[0].preview, "***-**-4832");
    }
}
