//! Identifiers with their own formats or check digits (MBI, NPI, DEA), and
//! the ones recognisable only by what precedes them (MRN, member IDs).

use super::{Match, Text};
use crate::context::{Class, Hit};
use crate::finding::Category;

/// Medicare Beneficiary Identifier: its 11-character format (CMS) is
/// specific enough to stand alone; Medicare context makes it certain.
pub fn mbi(t: &Text<'_>, start: usize, end: usize) -> Option<Match> {
    let raw = &t.text[start..end];
    let plain: String = raw
        .chars()
        .filter(|&c| c != '-' && c != ' ')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    // Separators, when present, are the same and sit after the 4th and 7th characters.
    if raw.len() != 11
        && !(raw.len() == 13 && raw[4..5] == raw[8..9] && (&raw[4..5] == "-" || &raw[4..5] == " "))
    {
        return None;
    }
    // CMS prints MBIs in capitals; a lower-case one needs its context.
    let upper = raw.chars().all(|c| !c.is_ascii_lowercase());
    let mut confidence = if upper { 0.5 } else { 0.3 };
    let context = t.context(Class::Medicare, start, end, 80, 20);
    if context.is_some() {
        confidence += 0.45;
    }
    let not_phi = t.context(Class::NotPhi, start, end, 30, 0);
    if not_phi.is_some() {
        confidence -= 0.35;
    }
    if super::clamp(confidence) < t.floor {
        return None;
    }
    let mut why = "Medicare Beneficiary Identifier format".to_string();
    if let Some(w) = context {
        why.push_str(&format!("; context \"{}\"", w.to_ascii_lowercase()));
    }
    if let Some(w) = not_phi {
        why.push_str(&format!("; labelled \"{}\"", w.to_ascii_lowercase()));
    }
    Some(Match::masked(
        Category::Mbi,
        "mbi.format",
        confidence,
        start,
        end,
        &plain,
        why,
    ))
}

/// Whether `s` (no separators, upper case) has the MBI's 11-character
/// format (CMS): digit 1-9, letter, letter or digit, digit, letter, letter
/// or digit, digit, two letters, two digits; letters exclude S L O I B Z.
pub fn mbi_shape(s: &str) -> bool {
    let b = s.as_bytes();
    let letter = |c: u8| c.is_ascii_uppercase() && !b"SLOIBZ".contains(&c);
    let alnum = |c: u8| letter(c) || c.is_ascii_digit();
    b.len() == 11
        && (b'1'..=b'9').contains(&b[0])
        && letter(b[1])
        && alnum(b[2])
        && b[3].is_ascii_digit()
        && letter(b[4])
        && alnum(b[5])
        && b[6].is_ascii_digit()
        && letter(b[7])
        && letter(b[8])
        && b[9].is_ascii_digit()
        && b[10].is_ascii_digit()
}

/// Luhn check of an NPI with the 80840 prefix (45 CFR 162.406).
pub fn npi_valid(digits: &str) -> bool {
    if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let full = format!("80840{digits}");
    let mut sum = 0;
    for (i, b) in full.bytes().rev().enumerate() {
        let mut d = (b - b'0') as u32;
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

/// National Provider Identifier: ten digits and a check digit; a random ten
/// digits pass one time in ten, so it needs context.
pub fn npi(t: &Text<'_>, start: usize, end: usize) -> Option<Match> {
    let digits = &t.text[start..end];
    if !npi_valid(digits) {
        return None;
    }
    let context = t.context(Class::Npi, start, end, 40, 10);
    let confidence = if context.is_some() { 0.9 } else { 0.2 };
    if confidence < t.floor {
        return None;
    }
    let mut why = "ten digits with a valid NPI check digit".to_string();
    if let Some(w) = context {
        why.push_str(&format!("; context \"{}\"", w.to_ascii_lowercase()));
    }
    Some(Match::masked(
        Category::Npi,
        "npi.luhn",
        confidence,
        start,
        end,
        digits,
        why,
    ))
}

/// DEA registration number: two letters, seven digits, a check digit.
pub fn dea_valid(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 9 || !b[2..].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let d: Vec<u32> = b[2..].iter().map(|c| (c - b'0') as u32).collect();
    let check = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10;
    check == d[6] && b"ABCDEFGHJKLMPRSTUX".contains(&b[0])
}

/// DEA numbers need context: the shape is common in part numbers.
pub fn dea(t: &Text<'_>, start: usize, end: usize) -> Option<Match> {
    let s = &t.text[start..end];
    if !dea_valid(s) {
        return None;
    }
    let context = t.context(Class::Dea, start, end, 40, 10);
    let confidence = if context.is_some() { 0.9 } else { 0.2 };
    if confidence < t.floor {
        return None;
    }
    let mut why = "DEA number format and check digit".to_string();
    if let Some(w) = context {
        why.push_str(&format!("; context \"{}\"", w.to_ascii_lowercase()));
    }
    Some(Match::masked(
        Category::Dea,
        "dea.checksum",
        confidence,
        start,
        end,
        s,
        why,
    ))
}

/// After a context word such as "MRN" or "Member ID", the identifier that
/// follows within a few characters: a token of letters, digits and dashes
/// with at least `min_digits` digits.
fn following_id(text: &str, hit: &Hit, min_digits: usize, hi: usize) -> Option<(usize, usize)> {
    let b = &text.as_bytes()[..hi.min(text.len())];
    let mut i = hit.end;
    let limit = (hit.end + 32).min(b.len());
    // Skip punctuation and filler words: ":", "#", "number", "no.", "is".
    while i < limit {
        let c = b[i];
        if c.is_ascii_digit() {
            break;
        }
        if c.is_ascii_alphabetic() {
            let word_end = (i..b.len())
                .find(|&k| !b[k].is_ascii_alphanumeric())
                .unwrap_or(b.len());
            let word = &text[i..word_end].to_ascii_lowercase();
            let has_digit = text[i..word_end].bytes().any(|x| x.is_ascii_digit());
            if has_digit {
                break;
            }
            if !matches!(
                word.as_str(),
                "number" | "no" | "num" | "is" | "nbr" | "id" | "of" | "on" | "file" | "the"
            ) {
                return None;
            }
            i = word_end;
            continue;
        }
        i += 1;
    }
    // The search window may end inside a multi-byte character: no ID there.
    if !text.is_char_boundary(i) {
        return None;
    }
    let start = i;
    let end = (start..b.len())
        .find(|&k| !(b[k].is_ascii_alphanumeric() || b[k] == b'-'))
        .unwrap_or(b.len());
    let token = text[start..end].trim_end_matches('-');
    let end = start + token.len();
    let digits = token.bytes().filter(u8::is_ascii_digit).count();
    (digits >= min_digits && (4..=20).contains(&token.len())).then_some((start, end))
}

/// A medical record number or member ID after the label `hit`:
/// recognisable only by its label.
pub fn labelled(t: &Text<'_>, hit: &Hit) -> Option<Match> {
    let label = hit.word(t.text).to_ascii_lowercase();
    let (category, rule, mut confidence, min_digits) = match hit.class {
        // An account number is a patient's in a practice's mail unless
        // the words around it are a bank's or a vendor's.
        Class::Mrn if label.contains("acct") || label.contains("account") => {
            (Category::Mrn, "mrn.account", 0.7, 4)
        }
        Class::Mrn => (Category::Mrn, "mrn.labelled", 0.85, 4),
        Class::Member => (Category::MemberId, "member_id.labelled", 0.75, 4),
        _ => return None,
    };
    if rule == "mrn.account"
        && t.around(Class::NotPhi, hit.start, hit.end, 40, 40)
            .is_some()
    {
        confidence -= 0.35;
    }
    if super::clamp(confidence) < t.floor {
        return None;
    }
    let (s, e) = following_id(t.text, hit, min_digits, t.hi)?;
    Some(Match::masked(
        category,
        rule,
        confidence,
        s,
        e,
        &t.text[s..e],
        format!("follows \"{label}\""),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::scan_text;

    #[test]
    fn check_digits() {
        assert!(npi_valid("1234567893"));
        assert!(!npi_valid("1234567890"));
        assert!(dea_valid("AB1234563"));
        assert!(!dea_valid("AB1234564"));
    }

    const CASES: &[(&str, &str, bool)] = &[
        (
            "The new Medicare number (MBI) for Kayla Daniels is 4WF9UY0VN84.",
            "mbi",
            true,
        ),
        ("MBI: 3KY3-C95-TV21", "mbi", true),
        ("medicare id 3ky3c95tv21", "mbi", true),
        ("ref 3ky3c95tv21", "mbi", false),
        ("beneficiary 1EG4TE5MK73 eligible", "mbi", true),
        ("Tracking: 1Z1Y3BVV9WWW9C7FHJ", "mbi", false),
        ("Part no. 1EG4-TE5-MK73", "mbi", false),
        ("Referring provider NPI 1234567893", "npi", true),
        ("Call 1234567893", "npi", false),
        ("NPI 1234567890", "npi", false),
        ("DEA# AB1234563", "dea", true),
        ("Model AB1234563", "dea", false),
        ("Medical record number 61344314", "mrn", true),
        ("MRN: A1234567", "mrn", true),
        ("chart # 4451223", "mrn", true),
        ("Patient ID is 00123456", "mrn", true),
        ("chart the progress", "mrn", false),
        ("Unit No. 1234567 - discharge paperwork", "mrn", true),
        ("CSN 1029384756 for the telehealth visit", "mrn", true),
        ("Unit No. 12, Building B", "mrn", false),
        // Labels abbreviated with periods.
        ("Med. Rec. No.: 00482913\nPt: Goran Petrovski", "mrn", true),
        ("Pt. ID 00482913", "mrn", true),
        ("P.O. No.: 00482913\nBuyer: Goran Petrovski", "mrn", false),
        ("scan the consent into acct # 6158-9981", "mrn", true),
        (
            "ACH routing number 021000021 and account # 4412339",
            "mrn",
            false,
        ),
        ("Member ID: XJH448812901", "member_id", true),
        ("Policy number 99-44123", "member_id", true),
        // A credential or a code of commerce in an MBI's format is not one.
        ("Her Medicare number is 1EG4TE5MK73.", "mbi", true),
        (
            "The Wi-Fi password is 1EG4TE5MK73 until Friday.",
            "mbi",
            false,
        ),
        ("Product key: 1EG4-TE5-MK73", "mbi", false),
    ];

    #[test]
    fn table() {
        for (text, cat, fires) in CASES {
            let r = scan_text(text);
            assert_eq!(
                r.categories.iter().any(|c| c.as_str() == *cat),
                *fires,
                "{text}: {:#?}",
                r.findings
            );
        }
    }

    /// Found by fuzzing: the 32-byte window after an MRN label ended inside
    /// a multi-byte character and the ID was cut out of it.
    #[test]
    fn a_label_followed_by_multibyte_text_is_not_an_id() {
        let engine = crate::Engine::new(crate::Settings::default()).unwrap();
        for n in 0..12 {
            let text = format!("Medical record {}24", "\u{fffd}".repeat(n));
            let r = engine.scan_text(&text);
            assert!(!r.categories.iter().any(|c| c.as_str() == "mrn"), "{text}");
        }
        let r = engine.scan_text("Medical record number: 48213377");
        assert!(r.categories.iter().any(|c| c.as_str() == "mrn"));
    }
}
