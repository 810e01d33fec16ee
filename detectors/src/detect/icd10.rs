//! ICD-10-CM diagnosis codes, checked against the official code set
//! (FY2026, plus codes retired that year: mail quotes old claims). A code
//! alone is weak evidence — parts lists are full of `E11.9`-shaped strings —
//! so it needs clinical context to reach the threshold.

use std::sync::OnceLock;

use rustc_hash::FxHashSet;

use super::{Match, Text, clamp};
use crate::context::Class;
use crate::finding::Category;

static CODES: &str = include_str!("../../data/icd10cm-codes.txt");
static RETIRED: &str = include_str!("../../data/icd10cm-codes-retired.txt");

/// The code set as a hash set of packed codes, built once. (A binary
/// search over the 74,000 codes was a twentieth of the time on a table
/// full of code-shaped part numbers: seventeen dependent cache misses a
/// lookup, where a hash is one or two.)
fn table() -> &'static FxHashSet<u64> {
    static TABLE: OnceLock<FxHashSet<u64>> = OnceLock::new();
    TABLE.get_or_init(|| {
        CODES
            .lines()
            .chain(RETIRED.lines())
            .filter_map(|l| pack(l.as_bytes()))
            .collect()
    })
}

/// A code of up to eight upper-case letters and digits as one number
/// (six bits a character, its length in the low bits), so that a lookup
/// is one integer hash.
fn pack(code: &[u8]) -> Option<u64> {
    if code.is_empty() || code.len() > 8 {
        return None;
    }
    let mut v = 0u64;
    for &b in code {
        let c = match b {
            b'0'..=b'9' => b - b'0' + 1,
            b'A'..=b'Z' => b - b'A' + 11,
            _ => return None,
        };
        v = (v << 6) | u64::from(c);
    }
    Some((v << 4) | code.len() as u64)
}

/// Whether `code` (with or without the dot, any case, a blank around the
/// dot) is an ICD-10-CM code.
pub fn is_code(code: &str) -> bool {
    // Codes are at most seven characters and a dot; upper-cased into a
    // buffer on the stack (this runs for every code-shaped candidate).
    let mut plain = [0u8; 8];
    let mut n = 0;
    let mut dot = None;
    let mut seen = 0;
    for b in code.bytes() {
        match b {
            b' ' => continue,
            b'.' if dot.is_none() => dot = Some(seen),
            b'.' => return false,
            _ if n == plain.len() => return false,
            _ => {
                plain[n] = b.to_ascii_uppercase();
                n += 1;
            }
        }
        seen += 1;
    }
    if dot.is_some_and(|d| d != 3) {
        return false;
    }
    pack(&plain[..n]).is_some_and(|v| table().contains(&v))
}

/// Scores an ICD-shaped candidate.
pub fn detect(t: &Text<'_>, start: usize, end: usize) -> Option<Match> {
    let code = &t.text[start..end];
    if !is_code(code) {
        return None;
    }
    let dotted = code.contains('.');
    // Upper case with the dot is how codes are written; other forms are
    // weaker evidence by themselves (context decides).
    let upper = code.chars().next().is_some_and(|c| c.is_ascii_uppercase());
    let mut confidence = match (dotted, upper) {
        (true, true) => 0.3,
        (false, true) | (true, false) => 0.2,
        (false, false) => 0.15,
    };
    let clinical = t.context(Class::Diagnosis, start, end, 120, 30);
    // Without a diagnosis word, a patient's date-of-birth label just
    // before it says the text is about a patient (a referral form's
    // "Reason:" line, a chart header): a valid code there is theirs.
    let patient = clinical
        .is_none()
        .then(|| t.context(Class::Birth, start, end, 200, 0))
        .flatten();
    // Nor a birth date: words of a condition or its care around it
    // ("s52.521a, closed fracture"; "E11.65 ... her insulin").
    let care = (clinical.is_none() && patient.is_none())
        .then(|| t.context(Class::Clinical, start, end, 120, 60))
        .flatten();
    if clinical.is_some() {
        confidence += 0.5;
    } else if patient.is_some() || care.is_some() {
        confidence += 0.3;
    }
    let not_phi = t.context(Class::NotPhi, start, end, 30, 0);
    if not_phi.is_some() {
        confidence -= 0.4;
    }
    let confidence = clamp(confidence);
    if confidence < t.floor {
        return None;
    }
    let mut why = "code in the ICD-10-CM code set".to_string();
    if let Some(word) = clinical {
        why.push_str(&format!(
            "; clinical context \"{}\"",
            word.to_ascii_lowercase()
        ));
    }
    if let Some(word) = patient {
        why.push_str(&format!(
            "; patient context \"{}\"",
            word.to_ascii_lowercase()
        ));
    }
    if let Some(word) = care {
        why.push_str(&format!(
            "; clinical words \"{}\"",
            word.to_ascii_lowercase()
        ));
    }
    if let Some(word) = not_phi {
        why.push_str(&format!("; labelled \"{}\"", word.to_ascii_lowercase()));
    }
    Some(Match {
        category: Category::Icd10cm,
        rule: if dotted {
            "icd10cm.dotted"
        } else {
            "icd10cm.plain"
        }
        .into(),
        confidence,
        start,
        end,
        value: code.replace(['.', ' '], "").to_ascii_uppercase(),
        preview: format!("{}**", code[..1].to_ascii_uppercase()),
        why,
    })
}

#[cfg(test)]
mod tests {
    use super::is_code;
    use crate::tests::scan_text;

    #[test]
    fn code_set_lookup() {
        assert!(is_code("E11.9"));
        assert!(is_code("E119"));
        assert!(is_code("S72.001A"));
        assert!(is_code("G35"), "retired in FY2026, still recognised");
        assert!(!is_code("E11"), "a category header is not a billable code");
        assert!(!is_code("E1.19"));
        assert!(!is_code("A31B"));
        assert!(is_code("e11.9") && is_code("e119") && is_code("E11 .9") && is_code("s72.001a"));
    }

    const CASES: &[(&str, bool)] = &[
        (
            "Dx: Z34.00 Encntr for suprvsn of normal first pregnancy",
            true,
        ),
        ("Assessment: I48.91 Unspecified atrial fibrillation", true),
        ("diagnosis code F411", true),
        ("dx: N39.0", true),
        ("ICD-10 E11.9", true),
        ("dx: e11.9 and i10", true),
        ("Diagnosis codes e119, s72.001a", true),
        ("Dx E11 .9", true),
        // A form about a patient: the date-of-birth label above the code.
        (
            "Consult request\nDate of birth: 2/17/1961\nReason: S72.001A",
            true,
        ),
        ("DOB 1961-02-17. Follow-up for m54.50 next week", true),
        // Words of the condition or its care around it.
        ("Please bill with s52.521a, closed fracture.", true),
        ("E11.65 - she is back on insulin since May", true),
        // A parts list stays a parts list, whatever it sells.
        ("Part no. E11.65 insulin pen needles, qty 40", false),
        // The same line with nothing about a patient around it.
        ("Reason: S72.001A", false),
        // Bare codes and parts lists.
        ("Part no. R07.9  qty 45  $164.00", false),
        ("Please quote E11.9 x 4", false),
        ("Model A31B", false),
        ("Dx: E11 (category only)", false),
    ];

    #[test]
    fn table() {
        for (text, fires) in CASES {
            let r = scan_text(text);
            assert_eq!(
                r.categories.iter().any(|c| c.as_str() == "icd10cm"),
                *fires,
                "{text}: {:#?}",
                r.findings
            );
        }
    }
}
