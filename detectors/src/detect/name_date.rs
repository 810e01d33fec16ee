//! A person's name next to a date of birth or of service.
//!
//! A name next to a date is ordinary business mail (invitations, forwarded
//! headers, sales reports). It is PHI when the date is a patient's birth or
//! service date, which the text says with context: "DOB", "date of
//! service", "seen on", "Patient:". The score adds how much the date is
//! marked as birth/service (or the person as a patient) to how much the
//! words look like a name, so a name missing from the Census lists is still
//! caught when the context is clear, and a listed name is not enough alone.

use super::dates::{self, Date};
use super::names;
use super::{Match, Text, clamp};
use crate::context::Class;
use crate::finding::{Category, mask_initials};
use crate::patterns::Kind;

/// How far before a date a name may end, and after it a name may start.
const NAME_BEFORE: usize = 110;
const NAME_AFTER: usize = 50;

/// Scores a date candidate against the names around it.
pub fn detect(t: &Text<'_>, kind: Kind, start: usize, end: usize) -> Option<Match> {
    let date = dates::parse(kind, &t.text[start..end])?;
    let (ctx, ctx_word, date_kind) = date_context(t, start, end);
    // Without birth, service or patient context no name can lift the score
    // to a threshold: skip the name search (most dates in mail end here).
    if ctx == 0.0
        && t.context(Class::Patient, start, end, NAME_BEFORE + 24, NAME_AFTER)
            .is_none()
    {
        return None;
    }
    let lo = floor_boundary(t.text, start.saturating_sub(NAME_BEFORE));
    let hi = ceil_boundary(t.text, (end + NAME_AFTER).min(t.text.len()));
    let candidates = names::find(t.text, lo, hi);
    // The closest name on either side.
    // A name after the date must be on its line, or labelled ("Patient:")
    // on a following one: unlabelled lines after a date are as likely a
    // signature as anything about the date.
    let name = candidates
        .into_iter()
        .filter(|n| {
            n.end <= start
                || (n.start >= end
                    && (!t.text[end..n.start].contains('\n')
                        || t.context(Class::Patient, n.start, n.end, 24, 0).is_some()))
        })
        .min_by_key(|n| {
            if n.end <= start {
                start - n.end
            } else {
                n.start - end
            }
        })?;
    let mut confidence = ctx + 0.4 * name.score;
    let mut why = format!("name ({}) near a date", name.why);
    if let Some(w) = ctx_word {
        why.push_str(&format!("; {date_kind} context \"{w}\""));
    }
    // "Patient:" or a title right before the name marks the person; a
    // patient label vouches for a name the Census lists do not have.
    if let Some(w) = t.context(Class::Patient, name.start, name.end, 24, 0) {
        let label = w.to_ascii_lowercase();
        let patient_label = label.starts_with("pat") || label.starts_with("pt");
        if patient_label && name.score < 0.6 {
            confidence += 0.4 * (0.6 - name.score);
        }
        confidence += if ctx < 0.35 { 0.35 } else { 0.1 };
        why.push_str(&format!("; labelled \"{label}\""));
    }
    let (s, e) = (name.start.min(start), name.end.max(end));
    let name_text = &t.text[name.start..name.end];
    Some(Match {
        category: Category::NameDate,
        rule: format!("name_date.{date_kind}"),
        confidence: clamp(confidence),
        start: s,
        end: e,
        value: format!(
            "{}|{:04}-{:02}-{:02}",
            name_text.to_lowercase(),
            date.year,
            date.month,
            date.day
        ),
        preview: format!("{} + {}", mask_initials(name_text), masked_date(&date)),
        why,
    })
}

/// Whether the date is marked as a birth date or a service date, and how strongly.
fn date_context<'t>(t: &Text<'t>, start: usize, end: usize) -> (f32, Option<String>, &'static str) {
    if let Some(w) = t.context(Class::Birth, start, end, 48, 8) {
        return (0.6, Some(w.to_ascii_lowercase()), "dob");
    }
    // Service words count only before the date ("seen on 3/4/2025",
    // "date of service: ..."): after it they start another sentence.
    if let Some(w) = t.context(Class::Service, start, end, 60, 0) {
        return (0.5, Some(w.to_ascii_lowercase()), "dos");
    }
    if let Some(w) = t.context(Class::ServiceWeak, start, end, 50, 0) {
        return (0.35, Some(w.to_ascii_lowercase()), "dos");
    }
    (0.0, None, "date")
}

fn masked_date(d: &Date) -> &'static str {
    if d.year >= 100 {
        "**/**/****"
    } else {
        "**/**/**"
    }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use crate::tests::scan_text;

    const CASES: &[(&str, bool)] = &[
        ("Patient: Mrs. John Stewart\nDOB: 1962-10-19", true),
        ("Records for Johnnie Jacoby DOB 8/11/92", true),
        (
            "Patient Esteban Landreth, date of birth August 12, 2003",
            true,
        ),
        ("Nathaniel J. More had an office visit on 08/16/2025.", true),
        (
            "patient: Whitney Gutierrez; date of service: 2/19/24; dx: N39.0",
            true,
        ),
        ("Name: Anthony Riley\nDOB: August 2, 1966", true),
        ("Patient: Zephyrine Okonkwo-Baptiste\nDOB: 4 Mar 1965", true),
        ("Pt Xavi Quell, born 19650304", true),
        ("Stephanie Duncan was seen on 3/10/46", true),
        // Names and dates without birth/service/patient context.
        (
            "Norma Austin has invited you to Vendor review on September 03, 2025 at 03:00 PM.",
            false,
        ),
        (
            "From: Maria Cobb <mcobb@white.org>\nSent: Tuesday, August 12, 2025 09:23 AM\nTo: Mary Ellis",
            false,
        ),
        (
            "region: Utah; rep: Georgina Ness; date: March 19, 2024; units: 189",
            false,
        ),
        (
            "Flu shot clinic is on June 11, 2025 from 9 to 3. We expect about 120 patients.",
            false,
        ),
        (
            "Planned maintenance windows: 8 Apr 2024, September 22, 2024 and 4/20/25",
            false,
        ),
        (
            "Please welcome Woodrow Braxton, Phytotherapist, ext. 663",
            false,
        ),
        (
            "Please order exam table paper. Delivery by 8 Jun 2024.\n\n\nRebecca Young\nHorticultural consultant",
            false,
        ),
        (
            "Date of service: 2025-07-11\nPatient: Metts, Roberto\nThe claim is pending.",
            true,
        ),
        (
            "Edwards, Johnson and Owens Newsletter - February 13, 2024\n\nVisit letter where foot",
            false,
        ),
    ];

    #[test]
    fn table() {
        for (text, fires) in CASES {
            let r = scan_text(text);
            assert_eq!(
                r.categories.iter().any(|c| c.as_str() == "name_date"),
                *fires,
                "{text}: {:#?}",
                r.findings
            );
        }
    }

    #[test]
    fn preview_hides_the_name_and_the_date() {
        let r = scan_text("Patient: Mrs. John Stewart\nDOB: 1962-10-19");
        let f = r
            .findings
            .iter()
            .find(|f| f.category.as_str() == "name_date")
            .unwrap();
        assert_eq!(f.preview, "M**. J*** S****** + **/**/****");
        assert!(!f.why.contains("Stewart"));
    }
}
