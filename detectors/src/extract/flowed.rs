//! `format=flowed` text (RFC 3676), as Thunderbird, Apple Mail and many
//! phone clients send plain text: a line that ends in a space is wrapped,
//! and the next line goes on with the same sentence. A name or a date
//! wrapped there ("our patient Henrietta \r\nMakgoba") is one phrase to
//! the reader, so it must be one to the detectors.
//!
//! The soft line break, and the quote marks that begin the line it
//! continues, become spaces: the text keeps its length, so every offset
//! a finding reports still points into the decoded part. (With `DelSp=yes`
//! the space before the break belongs to no word; it stays a space, so a
//! word wrapped in its middle reads as two words, as it did before.)

/// Unwraps the soft line breaks of flowed `text` in place of their bytes.
pub fn unwrap(text: String) -> String {
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

    #[test]
    fn soft_breaks_become_spaces_and_keep_offsets() {
        let text = "our patient Henrietta \r\nMakgoba called, DOB \r\n09/17/1939.\r\nThanks\r\n";
        let out = unwrap(text.to_string());
        assert_eq!(out.len(), text.len());
        assert!(out.contains("Henrietta   Makgoba"), "{out:?}");
        assert!(out.contains("DOB   09/17/1939.\r\nThanks"), "{out:?}");
    }

    #[test]
    fn hard_breaks_quotes_and_signatures_stay() {
        // A hard break (no space before it) stays.
        assert_eq!(unwrap("Ann\r\nLee".into()), "Ann\r\nLee");
        // A quoted line continues only a quoted line of the same depth.
        let q = "> seen by Ann \r\n> Lee on 3/4\r\n>> older \r\nnew text";
        assert_eq!(
            unwrap(q.into()),
            "> seen by Ann     Lee on 3/4\r\n>> older \r\nnew text"
        );
        // An empty quoted line ("> ") ends its paragraph.
        assert_eq!(unwrap("> \r\n> Ann".into()), "> \r\n> Ann");
        // The signature separator is not a soft break.
        assert_eq!(unwrap("-- \r\nAnn Lee".into()), "-- \r\nAnn Lee");
        // Text that is not ASCII around the break is kept as it is.
        assert_eq!(unwrap("José \nÑúñez".into()), "José  Ñúñez");
    }
}
