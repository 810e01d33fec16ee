//! A day's schedule under its date: lines that begin with a clock time or
//! a list item, then a name, then a kind of visit.

use super::phrases::ceil_boundary;
use super::{Role, care_word};
use crate::context::Class;
use crate::detect::Text;
use crate::detect::names::{self, Name};

/// A day's schedule under its date: the lines after the date's line that
/// begin with a time, then a name, then a named kind of visit ("8:30  Ann
/// Lee - annual physical", "9:00 AM | Lee, Ann | f/u diabetes"). Two such
/// lines or more (an agenda has a line or two with a speaker and seldom a
/// kind of visit on each) make the date theirs; the first is returned,
/// with the role of the date. Under a heading that names care ("Surgery
/// list 12/03/2026:") a numbered or bulleted list is as good as times.
pub(super) fn schedule_entry<'t>(
    t: &Text<'t>,
    start: usize,
    end: usize,
) -> Option<(Name, Role<'t>)> {
    const LINES: usize = 12;
    const REACH: usize = 1200;
    let b = t.text.as_bytes();
    let stop = ceil_boundary(t.text, (end + REACH).min(t.hi));
    // The date heads the schedule: little follows it on its line, and no
    // field separators (a table row's date is not a heading).
    let rest = memchr::memchr(b'\n', &b[end..stop])?;
    if rest > 40 || b[end..end + rest].iter().any(|c| b",;\t|".contains(c)) {
        return None;
    }
    let mut at = end + rest + 1;
    // Whether the date's line names care, looked up at the first list
    // item (most dates have none under them).
    let mut lists_care = None;
    let mut heading_names_care = || {
        *lists_care.get_or_insert_with(|| {
            let heading = memchr::memrchr(b'\n', &b[t.lo..start]).map_or(t.lo, |i| t.lo + i + 1);
            [Class::ServiceWeak, Class::Visit, Class::Clinical]
                .into_iter()
                .any(|c| care_word(t, c, heading, end + rest).is_some())
        })
    };
    let mut first: Option<(Name, Role<'t>)> = None;
    let mut entries = 0;
    for _ in 0..LINES {
        if at >= stop {
            break;
        }
        let line_end = memchr::memchr(b'\n', &b[at..stop]).map_or(stop, |i| at + i);
        let line = &t.text[at..line_end];
        let slot = clock_time(line).or_else(|| list_item(line).filter(|_| heading_names_care()));
        // A schedule begins under its date: one look per date elsewhere.
        if slot.is_none() && entries == 0 && !line.trim().is_empty() {
            return None;
        }
        if let Some(after) = slot.map(|n| at + n)
            && let Some(name) = names::find(t.text, after, line_end)
                .into_iter()
                .find(|n| !n.provider && n.start <= after + 3)
            && let Some(visit) = care_word(t, Class::Visit, name.end, line_end)
        {
            entries += 1;
            if first.is_none() {
                let role = Role {
                    weight: 0.35,
                    kind: "schedule",
                    word: Some(visit.word(t.text)),
                    adjacent: false,
                    for_name: false,
                    subject: None,
                };
                first = Some((name, role));
            }
        }
        at = line_end + 1;
    }
    first.filter(|_| entries >= 2)
}

/// If `line` begins with a clock time ("8:30", "09:15 AM", "2:45p.m."),
/// the offset after it and the blanks or separators that follow.
pub(super) fn clock_time(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let mut i = b
        .iter()
        .take_while(|c| matches!(c, b' ' | b'\t' | b'*' | b'-'))
        .count();
    let digits = |i: usize| b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let h = digits(i);
    if !(1..=2).contains(&h) || b.get(i + h) != Some(&b':') || digits(i + h + 1) != 2 {
        return None;
    }
    i += h + 3;
    let rest = line[i..].trim_start_matches(' ');
    let meridiem = ["am", "pm", "a.m.", "p.m.", "a", "p"]
        .iter()
        .find(|m| {
            rest.len() >= m.len()
                && rest.as_bytes()[..m.len()].eq_ignore_ascii_case(m.as_bytes())
                && !rest
                    .as_bytes()
                    .get(m.len())
                    .is_some_and(u8::is_ascii_alphabetic)
        })
        .map_or(0, |m| m.len());
    if meridiem > 0 {
        i = line.len() - rest.len() + meridiem;
    }
    let sep = line[i..]
        .bytes()
        .take_while(|c| matches!(c, b' ' | b'\t' | b'-' | b'|' | b',' | b':'))
        .count();
    // A time then a word with no separator is not a slot ("8:30am-ish").
    (sep > 0).then_some(i + sep)
}

/// If `line` begins with a list item's number or bullet ("1.", "2)",
/// "-", "*", "•"), the offset after it and the blanks that follow.
pub(super) fn list_item(line: &str) -> Option<usize> {
    let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
    let rest = &line[indent..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let marker =
        if (1..=2).contains(&digits) && matches!(rest.as_bytes().get(digits), Some(b'.' | b')')) {
            digits + 1
        } else if rest.starts_with(['-', '*']) {
            1
        } else if rest.starts_with('•') {
            '•'.len_utf8()
        } else {
            return None;
        };
    let blanks = rest[marker..]
        .bytes()
        .take_while(|c| matches!(c, b' ' | b'\t'))
        .count();
    (blanks > 0).then_some(indent + marker + blanks)
}
