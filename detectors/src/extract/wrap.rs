//! Lines a mail client wrapped, read as the sentences they were.
//!
//! - `format=flowed` text (RFC 3676), as Thunderbird, Apple Mail and many
//!   phone clients send plain text: a line that ends in a space is
//!   wrapped, and the next line goes on with the same sentence.
//! - Hard-wrapped text, as Gmail's and Outlook's plain-text modes send it:
//!   every paragraph broken at a column (70 to 80 characters), with no
//!   mark at all. A break there is a wrap when the next line's first word
//!   would not have fitted on the line.
//!
//! A name or a date wrapped there ("our patient Henrietta | Makgoba") is
//! one phrase to the reader, so it must be one to the detectors. The line
//! break, and the quote marks that begin the line it continues, become
//! spaces: the text keeps its length, so every offset a finding reports
//! still points into the decoded part.

/// Unwraps the soft line breaks of flowed `text` in place of their bytes.
/// (With `DelSp=yes` the space before the break belongs to no word; it
/// stays a space, so a word wrapped in its middle reads as two words, as
/// it did before.)
pub fn soft_breaks(text: String) -> String {
    let mut b = text.into_bytes();
    let mut at = 0;
    while let Some(nl) = memchr::memchr(b'\n', &b[at..]).map(|i| at + i) {
        let line_start = at;
        let end = if nl > line_start && b[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        };
        let line = &b[line_start..end];
        at = nl + 1;
        // A soft break: the line ends in a space and is not the signature
        // separator "-- ".
        let depth = quote_depth(line);
        let content = &line[depth..];
        let soft = content.last() == Some(&b' ') && content != b"-- " && content != b" -- ";
        if !soft || at >= b.len() {
            continue;
        }
        // The next line continues this one only at the same quote depth.
        let next_end = memchr::memchr(b'\n', &b[at..]).map_or(b.len(), |i| at + i);
        if quote_depth(&b[at..next_end]) != depth {
            continue;
        }
        for c in &mut b[end..at] {
            *c = b' ';
        }
        for c in &mut b[at..at + depth] {
            *c = b' ';
        }
    }
    String::from_utf8(b).expect("only ASCII bytes were replaced, by ASCII spaces")
}

/// The widest a wrapped line can be: longer lines are paragraphs the
/// client did not wrap.
const MAX_WRAP: usize = 100;
/// The narrowest wrap column looked for (below it, short lines are
/// structure: lists, forms, signatures).
const MIN_WRAP: usize = 60;

/// Unwraps `text` where a client hard-wrapped it at a column, in place of
/// the line breaks' bytes. The column is the longest line up to
/// [`MAX_WRAP`] characters, and counts only when at least three lines
/// reach within ten characters of it. A break is a wrap when the next
/// line, at the same quote depth, begins with a letter, and its first
/// word would have made the line longer than the column. A next line that
/// begins with a label ("Date:", "DOB:"), and a line with tabs or pipes (a
/// table's), keep their break: lines there are structure.
pub fn hard_wraps(mut text: String) -> String {
    // How many lines have each width up to the widest wrap: most texts
    // are not wrapped, and are known so in one pass with no allocation.
    let mut widths = [0u32; MAX_WRAP + 1];
    for (s, e) in lines(text.as_bytes()) {
        // (Only widths from ten under the narrowest column count; a line
        // is never wider than its bytes.)
        if e - s < MIN_WRAP - 10 {
            continue;
        }
        if let Some(n) = widths.get_mut(width(&text.as_bytes()[s..e])) {
            *n += 1;
        }
    }
    let Some(column) = (MIN_WRAP..=MAX_WRAP).rev().find(|&w| widths[w] > 0) else {
        return text;
    };
    if widths[column - 10..=column].iter().sum::<u32>() < 3 {
        return text;
    }
    let mut joins = Vec::new();
    let b = text.as_bytes();
    let mut prev: Option<(usize, usize)> = None;
    for (ns, ne) in lines(b) {
        let Some((s, e)) = prev.replace((ns, ne)) else {
            continue;
        };
        let (line, next) = (&b[s..e], &b[ns..ne]);
        let depth = quote_depth(line);
        let line_width = width(line);
        if quote_depth(next) != depth || line_width > column {
            continue;
        }
        let rest = &next[depth..];
        let word = rest
            .iter()
            .position(|&c| c == b' ' || c == b'\r' || c == b'\t')
            .unwrap_or(rest.len());
        let first = &rest[..word];
        // A word of prose: letters, perhaps an apostrophe or a hyphen inside
        // and punctuation after; not a label ("DOB:") nor a record's
        // fields ("DMG*D8*19570221~", "key=value").
        let prose = first
            .first()
            .is_some_and(|c| c.is_ascii_alphabetic() || *c >= 0x80)
            && first
                .iter()
                .all(|&c| c.is_ascii_alphabetic() || c >= 0x80 || b"'-.,;!?)".contains(&c));
        let structure = |l: &[u8]| l.contains(&b'\t') || l.contains(&b'|');
        if prose && line_width + 1 + width(first) > column && !structure(line) && !structure(next) {
            let end = if line.ends_with(b"\r") { e - 1 } else { e };
            joins.push((end, ns + depth));
        }
    }
    // Same-length replacements of ASCII bytes: nothing after them moves.
    const BLANKS: &str = "        ";
    for (from, to) in joins {
        for at in (from..to).step_by(BLANKS.len()) {
            let upto = (at + BLANKS.len()).min(to);
            text.replace_range(at..upto, &BLANKS[..upto - at]);
        }
    }
    text
}

/// The lines of `b`, without their `\n`.
fn lines(b: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut breaks = memchr::memchr_iter(b'\n', b);
    let mut at = Some(0);
    std::iter::from_fn(move || {
        let start = at?;
        match breaks.next() {
            Some(nl) => {
                at = Some(nl + 1);
                Some((start, nl))
            }
            None => {
                at = None;
                Some((start, b.len()))
            }
        }
    })
}

/// A line's width in characters, without its `\r`.
fn width(l: &[u8]) -> usize {
    let l = l.strip_suffix(b"\r").unwrap_or(l);
    if l.is_ascii() {
        l.len()
    } else {
        l.iter().filter(|&&c| c & 0xC0 != 0x80).count()
    }
}

/// How many quote marks begin `line` (">", ">>", "> >" counts 2), with
/// the one space-stuffing blank after them.
fn quote_depth(line: &[u8]) -> usize {
    let mut i = 0;
    let mut marks = 0;
    while i < line.len() && line[i] == b'>' {
        marks += 1;
        i += 1;
        // Some clients write "> > ".
        if line.get(i) == Some(&b' ') && line.get(i + 1) == Some(&b'>') {
            i += 1;
        }
    }
    if marks > 0 && line.get(i) == Some(&b' ') {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Paragraphs wrapped at 72 columns, as a plain-text client sends them.
    const WRAPPED: &str = "Hello Dr. K,\r\n\r\n\
        The daughter of our patient called this morning about Henrietta\r\n\
        Makgoba, DOB 09/17/1939. She fell again last night and has a bruise on\r\n\
        her left hip, no loss of consciousness, walking with her cane as usual.\r\n\
        Could you call the family back before four today, or ask the nurse?\r\n\
        \r\n\
        Thanks,\r\nMaria\r\n";

    #[test]
    fn a_hard_wrap_is_read_as_a_space() {
        let out = hard_wraps(WRAPPED.to_string());
        assert_eq!(out.len(), WRAPPED.len());
        assert!(out.contains("Henrietta  Makgoba, DOB"), "{out:?}");
        assert!(out.contains("bruise on  her left hip"), "{out:?}");
        // Short lines are not wraps: the greeting, the sign-off.
        assert!(out.contains("Thanks,\r\nMaria"), "{out:?}");
        assert!(out.contains("Hello Dr. K,\r\n"), "{out:?}");
    }

    #[test]
    fn text_that_is_not_hard_wrapped_keeps_its_lines() {
        // Lines of any length with no column: a form, a list.
        let form = "Patient: Henrietta\nMakgoba\nDOB: 09/17/1939\n";
        assert_eq!(hard_wraps(form.into()), form);
        // One paragraph per line, as most clients send: no column.
        let long = format!("{}\nnext line here\n", "word ".repeat(40));
        assert_eq!(hard_wraps(long.clone()), long);
        // A label at the start of the next line keeps its break, and so
        // does a record's segment.
        let fwd = WRAPPED.replace("Makgoba, DOB", "Date: Tue, 3 Mar");
        assert!(hard_wraps(fwd).contains("Henrietta\r\nDate:"));
        let x12 = WRAPPED.replace("Makgoba, DOB", "DMG*D8*19390917~ DOB");
        assert!(hard_wraps(x12).contains("Henrietta\r\nDMG*"));
    }

    #[test]
    fn soft_breaks_become_spaces_and_keep_offsets() {
        let text = "our patient Henrietta \r\nMakgoba called, DOB \r\n09/17/1939.\r\nThanks\r\n";
        let out = soft_breaks(text.to_string());
        assert_eq!(out.len(), text.len());
        assert!(out.contains("Henrietta   Makgoba"), "{out:?}");
        assert!(out.contains("DOB   09/17/1939.\r\nThanks"), "{out:?}");
    }

    #[test]
    fn hard_breaks_quotes_and_signatures_stay() {
        // A hard break (no space before it) stays.
        assert_eq!(soft_breaks("Ann\r\nLee".into()), "Ann\r\nLee");
        // A quoted line continues only a quoted line of the same depth.
        let q = "> seen by Ann \r\n> Lee on 3/4\r\n>> older \r\nnew text";
        assert_eq!(
            soft_breaks(q.into()),
            "> seen by Ann     Lee on 3/4\r\n>> older \r\nnew text"
        );
        // An empty quoted line ("> ") ends its paragraph.
        assert_eq!(soft_breaks("> \r\n> Ann".into()), "> \r\n> Ann");
        // The signature separator is not a soft break.
        assert_eq!(soft_breaks("-- \r\nAnn Lee".into()), "-- \r\nAnn Lee");
        // Text that is not ASCII around the break is kept as it is.
        assert_eq!(soft_breaks("José \nÑúñez".into()), "José  Ñúñez");
    }
}
