//! ICD-10-CM diagnosis codes, checked against the official code set
//! (FY2026, plus codes retired that year: mail quotes old claims). A code
//! alone is weak evidence — parts lists are full of `E11.9`-shaped strings —
//! so it needs clinical context to reach the threshold.

use std::sync::OnceLock;

use super::{Match, Text, clamp};
use crate::context::Class;
use crate::finding::Category;

static CODES: &str = include_str!("../../data/icd10cm-codes.txt");
static RETIRED: &str = include_str!("../../data/icd10cm-codes-retired.txt");

/// The code set as a sorted table, built once.
fn table() -> &'static [&'static str] {
    static TABLE: OnceLock<Vec<&'static str>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut v: Vec<&str> = CODES
            .lines()
            .chain(RETIRED.lines())
            .filter(|l| !l.is_empty())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    })
}

/// Whether `code` (with or without the dot, any case, a blank around the
/// dot) is an ICD-10-CM code.
pub fn is_code(code: &str) -> bool {
    let code: String = code
        .chars()
        .filter(|c| *c != ' ')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let plain: String = code.chars().filter(|&c| c != '.').collect();
    if let Some(dot) = code.find('.')
        && dot != 3
    {
        return false;
    }
    table().binary_search(&plain.as_str()).is_ok()
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
    let mut why = "code in the ICD-10-CM code set".to_string();
    if let Some(word) = t.context(Class::Diagnosis, start, end, 120, 30) {
        confidence += 0.5;
        why.push_str(&format!(
            "; clinical context \"{}\"",
            word.to_ascii_lowercase()
        ));
    }
    if let Some(word) = t.context(Class::NotPhi, start, end, 30, 0) {
        confidence -= 0.4;
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
        confidence: clamp(confidence),
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
