//! `text/enriched` (RFC 1896) and its older form `text/richtext` (RFC
//! 1341): plain text with formatting commands in angle brackets. Read
//! as tags, a name split by `<bold>` or a line break written as `<nl>`
//! is two words to the name finder; read as the text a client shows, it
//! is one.

/// Whether a part of this media type is enriched text.
pub fn is_enriched(ctype: &str) -> bool {
    matches!(ctype, "text/enriched" | "text/richtext")
}

/// The text a client shows: commands dropped, `<<` (and richtext's
/// `<lt>`) read as `<`, `<nl>` as a line break, and what a `<param>`
/// holds (a colour, a font's name) skipped. In enriched text one line
/// break is a space and a run of n is n - 1 (RFC 1896, section 2); the
/// text's own words are kept as written.
pub fn to_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut param = 0usize;
    let mut breaks = 0usize;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '\r' {
            rest = &rest[1..];
            continue;
        }
        if c == '\n' {
            breaks += 1;
            rest = &rest[1..];
            continue;
        }
        if breaks > 0 {
            if param == 0 && breaks == 1 {
                out.push(' ');
            } else if param == 0 {
                out.extend(std::iter::repeat_n('\n', breaks - 1));
            }
            breaks = 0;
        }
        if let Some(after) = rest.strip_prefix("<<") {
            if param == 0 {
                out.push('<');
            }
            rest = after;
            continue;
        }
        if c == '<' {
            // A command runs to '>' (at most 60 characters, RFC 1896);
            // an unclosed one is text. Only that far is looked at: a text
            // of '<' with no '>' would otherwise be read to its end once
            // per '<'.
            let head = &rest.as_bytes()[1..rest.len().min(63)];
            if let Some(end) = memchr::memchr(b'>', head) {
                let name = rest[1..1 + end].to_ascii_lowercase();
                match name.as_str() {
                    "param" => param += 1,
                    "/param" => param = param.saturating_sub(1),
                    "nl" if param == 0 => out.push('\n'),
                    "lt" if param == 0 => out.push('<'),
                    "np" if param == 0 => out.push_str("\n\n"),
                    _ => {}
                }
                rest = &rest[end + 2..];
                continue;
            }
        }
        if param == 0 {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::to_text;

    #[test]
    fn commands_are_dropped_and_text_kept() {
        assert_eq!(
            to_text("<bold>Patient:</bold> Ann<nl>Lee DOB 3/4/1965"),
            "Patient: Ann\nLee DOB 3/4/1965"
        );
        assert_eq!(
            to_text("<color><param>red</param>Ann</color> Lee"),
            "Ann Lee"
        );
        assert_eq!(to_text("a <<b> c"), "a <b> c");
    }

    #[test]
    fn line_breaks_follow_rfc_1896() {
        assert_eq!(to_text("Ann\r\nLee"), "Ann Lee");
        assert_eq!(to_text("Ann\r\n\r\nLee"), "Ann\nLee");
        assert_eq!(to_text("Ann\n\n\nLee"), "Ann\n\nLee");
    }

    #[test]
    fn broken_input_is_text() {
        assert_eq!(to_text("a < b"), "a < b");
        assert_eq!(to_text("<"), "<");
        assert_eq!(to_text("é<bold>ü"), "éü");
        let long = format!("<{}> x", "a".repeat(80));
        assert_eq!(to_text(&long), long);
    }

    /// A hostile text of '<' and no '>' is read in one pass, not one per
    /// '<' (a megabyte of it took minutes when each looked to the end).
    #[test]
    fn many_unclosed_commands_are_read_in_one_pass() {
        let text = "< ".repeat(1 << 20);
        let t = std::time::Instant::now();
        assert_eq!(to_text(&text).len(), text.len());
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
    }
}
