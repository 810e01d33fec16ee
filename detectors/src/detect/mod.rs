//! The detectors. Each takes a candidate (or a context hit) in a normalised
//! text, with every context word of that text, and returns a scored
//! [`Match`] or nothing.

pub mod custom;
pub mod dates;
pub mod icd10;
pub mod ids;
pub mod name_date;
pub mod names;
pub mod ssn;
pub mod structured;

use crate::context::{Class, Hit, Hits};
use crate::finding::Category;

/// A scored match in a normalised text.
#[derive(Debug, Clone)]
pub struct Match {
    /// What kind of PHI.
    pub category: Category,
    /// Rule id.
    pub rule: String,
    /// 0.0 to 1.0.
    pub confidence: f32,
    /// Byte range in the normalised text.
    pub start: usize,
    /// End of the range.
    pub end: usize,
    /// The value, normalised.
    pub value: String,
    /// Redacted preview.
    pub preview: String,
    /// Why it fired (no PHI).
    pub why: String,
}

impl Match {
    /// A match whose preview masks all but the last two letters or digits
    /// (identifiers, custom rules); the confidence is clamped.
    pub fn masked(
        category: Category,
        rule: &str,
        confidence: f32,
        start: usize,
        end: usize,
        value: &str,
        why: String,
    ) -> Match {
        Match {
            category,
            rule: rule.into(),
            confidence: clamp(confidence),
            start,
            end,
            value: value.to_string(),
            preview: crate::finding::mask_keep_last(value, 2),
            why,
        }
    }
}

/// The text being scanned (a message's texts, joined), its context hits,
/// and the bounds of the text a candidate came from: no window reaches
/// past them, so a header's words never vouch for a body's date.
pub struct Text<'a> {
    /// Normalised text of the whole message.
    pub text: &'a str,
    /// Context hits, indexed by class.
    pub hits: &'a Hits,
    /// Start of the current text (a header, a part).
    pub lo: usize,
    /// End of the current text.
    pub hi: usize,
    /// Scores below this are not reported (the lowest threshold), so a
    /// detector can stop before building its explanation; 0 when every
    /// score is wanted (`phigate scan` shows those below threshold too).
    pub floor: f32,
    /// The message's Subject when it is a person's name and nothing else
    /// ("Re: Ann Lee"): the person a reply's care without a name is
    /// about ([`names::subject_name`]).
    pub subject: Option<&'a names::Name>,
    /// This year, read from the clock once per scan (a date's age is
    /// asked of nearly every date; the clock is a system call).
    pub year: u32,
}

/// This year by the system clock (whole years since 1970, the average
/// Gregorian year: a day's error at New Year is harmless here).
pub fn this_year() -> u32 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    1970 + (now / 31_556_952) as u32
}

impl<'a> Text<'a> {
    /// Closest context word of `class` within the window around `start..end`.
    pub fn context(
        &self,
        class: Class,
        start: usize,
        end: usize,
        before: usize,
        after: usize,
    ) -> Option<&'a str> {
        let before = before.min(start.saturating_sub(self.lo));
        let after = after.min(self.hi.saturating_sub(end));
        crate::context::near(self.hits.of(class), class, start, end, before, after)
            .map(|h| h.word(self.text))
    }

    /// A context word of `class` anywhere from `before` bytes before
    /// `start` to `after` bytes after `end`, inside the range too.
    pub fn around(
        &self,
        class: Class,
        start: usize,
        end: usize,
        before: usize,
        after: usize,
    ) -> Option<&'a str> {
        self.around_where(class, start, end, before, after, |_| true)
    }

    /// As [`Text::around`], for the first word that `keep` accepts.
    pub fn around_where(
        &self,
        class: Class,
        start: usize,
        end: usize,
        before: usize,
        after: usize,
        keep: impl Fn(&Hit) -> bool,
    ) -> Option<&'a str> {
        let lo = start.saturating_sub(before).max(self.lo);
        let hi = (end + after).min(self.hi);
        let hits = self.hits.of(class);
        let first = hits.partition_point(|h| h.end < lo);
        hits[first..]
            .iter()
            .take_while(|h| h.start <= hi)
            .find(|h| h.end >= lo && keep(h))
            .map(|h| h.word(self.text))
    }

    /// The current text.
    pub fn segment(&self) -> &'a str {
        &self.text[self.lo..self.hi]
    }
}

/// Clamps a score into 0..=0.99.
pub fn clamp(x: f32) -> f32 {
    x.clamp(0.0, 0.99)
}
