//! The structure of a MIME entity, found in the raw bytes: where its header
//! block ends, and where a multipart body's parts, preamble and epilogue
//! are (RFC 2046 §5.1). Nothing here copies: every piece is a slice of the
//! input, so every byte of a message belongs to exactly one piece and no
//! part can go missing between them.

use memchr::memmem;

/// Splits an entity into its header block and body at the first empty
/// line. An entity that starts with an empty line has no headers; one
/// without an empty line is all headers (an empty body).
pub fn split_headers(entity: &[u8]) -> (&[u8], &[u8]) {
    if entity.starts_with(b"\r\n") {
        return (&[], &entity[2..]);
    }
    if entity.starts_with(b"\n") {
        return (&[], &entity[1..]);
    }
    let mut from = 0;
    while let Some(nl) = memchr::memchr(b'\n', &entity[from..]) {
        let at = from + nl + 1;
        if entity[at..].starts_with(b"\r\n") {
            return (&entity[..at], &entity[at + 2..]);
        }
        if entity[at..].starts_with(b"\n") {
            return (&entity[..at], &entity[at + 1..]);
        }
        from = at;
    }
    (entity, &[])
}

/// A multipart body cut at its boundary.
#[derive(Debug, Default)]
pub struct Multipart<'a> {
    /// Text before the first delimiter (readers hide it; it still leaves).
    pub preamble: &'a [u8],
    /// The body parts, in order.
    pub parts: Vec<&'a [u8]>,
    /// Text after the close delimiter.
    pub epilogue: &'a [u8],
    /// Delimiter lines seen (part delimiters plus the close delimiter).
    pub delimiters: usize,
    /// Whether the close delimiter (`--boundary--`) was seen.
    pub closed: bool,
}

/// Cuts `body` at every delimiter line of `boundary`. A delimiter is
/// `--boundary` at the start of a line, optionally followed by `--` (the
/// close delimiter) and then only blanks up to the end of the line; the
/// line break before it belongs to it. A boundary that is a prefix of a
/// longer one on the line (`--abc` in `--abcd`) is not a delimiter.
pub fn split_multipart<'a>(body: &'a [u8], boundary: &[u8]) -> Multipart<'a> {
    let mut dash = Vec::with_capacity(boundary.len() + 2);
    dash.extend_from_slice(b"--");
    dash.extend_from_slice(boundary);
    let finder = memmem::Finder::new(&dash);
    let mut out = Multipart::default();
    // Start of the current piece (preamble, then each part).
    let mut piece_start = 0;
    let mut in_preamble = true;
    let mut search = 0;
    while let Some(rel) = finder.find(&body[search..]) {
        let at = search + rel;
        search = at + 1;
        let line_start = at == 0 || body[at - 1] == b'\n';
        if !line_start {
            continue;
        }
        let after = &body[at + dash.len()..];
        let close = after.starts_with(b"--");
        let rest = if close { &after[2..] } else { after };
        let blanks = rest
            .iter()
            .take_while(|&&c| c == b' ' || c == b'\t')
            .count();
        let tail = &rest[blanks..];
        let eol = if tail.starts_with(b"\r\n") {
            2
        } else if tail.starts_with(b"\n") {
            1
        } else if tail.is_empty() {
            0
        } else {
            // `--boundaryX...`: a longer boundary or text, not ours.
            continue;
        };
        // The line break before the delimiter is part of the delimiter.
        let mut piece_end = at;
        if piece_end > piece_start && body[piece_end - 1] == b'\n' {
            piece_end -= 1;
            if piece_end > piece_start && body[piece_end - 1] == b'\r' {
                piece_end -= 1;
            }
        }
        let piece = &body[piece_start..piece_end.max(piece_start)];
        if in_preamble {
            out.preamble = piece;
            in_preamble = false;
        } else {
            out.parts.push(piece);
        }
        out.delimiters += 1;
        let next = at + dash.len() + (if close { 2 } else { 0 }) + blanks + eol;
        piece_start = next;
        search = next;
        if close {
            out.closed = true;
            out.epilogue = &body[next..];
            return out;
        }
    }
    if in_preamble {
        // No delimiter at all: the whole body is (unlabelled) preamble.
        out.preamble = body;
    } else {
        // No close delimiter: the last part runs to the end, as readers take it.
        out.parts.push(&body[piece_start..]);
    }
    out
}

/// Counts delimiter lines of `boundary` anywhere in `raw`, by a method
/// independent of [`split_multipart`] (a line-by-line reading), for the
/// completeness check.
pub fn count_delimiter_lines(raw: &[u8], boundary: &[u8]) -> usize {
    let mut dash_boundary = Vec::with_capacity(boundary.len() + 2);
    dash_boundary.extend_from_slice(b"--");
    dash_boundary.extend_from_slice(boundary);
    memchr::memmem::find_iter(raw, &dash_boundary)
        .filter(|&at| at == 0 || raw[at - 1] == b'\n')
        .filter(|&at| {
            let rest = &raw[at + dash_boundary.len()..];
            let line = &rest[..memchr::memchr(b'\n', rest).unwrap_or(rest.len())];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let line = line.strip_prefix(b"--").unwrap_or(line);
            line.iter().all(|&c| c == b' ' || c == b'\t')
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_block() {
        assert_eq!(
            split_headers(b"A: 1\r\nB: 2\r\n\r\nbody"),
            (&b"A: 1\r\nB: 2\r\n"[..], &b"body"[..])
        );
        assert_eq!(
            split_headers(b"A: 1\n\nbody"),
            (&b"A: 1\n"[..], &b"body"[..])
        );
        assert_eq!(split_headers(b"\r\nbody"), (&b""[..], &b"body"[..]));
        assert_eq!(split_headers(b"A: 1\r\n"), (&b"A: 1\r\n"[..], &b""[..]));
    }

    #[test]
    fn parts_preamble_epilogue() {
        let body = b"pre\r\n--b\r\none\r\n--b \r\ntwo\r\n--bb\r\nstill two\r\n--b--\r\nepi\r\n";
        let m = split_multipart(body, b"b");
        assert_eq!(m.preamble, b"pre");
        assert_eq!(m.parts, vec![&b"one"[..], &b"two\r\n--bb\r\nstill two"[..]]);
        assert_eq!(m.epilogue, b"epi\r\n");
        assert_eq!((m.delimiters, m.closed), (3, true));
        assert_eq!(count_delimiter_lines(body, b"b"), 3);
    }

    #[test]
    fn unclosed_and_missing() {
        let m = split_multipart(b"--b\nx\n--b\ny", b"b");
        assert_eq!(m.parts, vec![&b"x"[..], &b"y"[..]]);
        assert!(!m.closed);
        let m = split_multipart(b"no delimiters here", b"b");
        assert_eq!(m.preamble, b"no delimiters here");
        assert!(m.parts.is_empty());
        // Mid-line is not a delimiter.
        let m = split_multipart(b"--b\nsee x--b\n--b--", b"b");
        assert_eq!(m.parts, vec![&b"see x--b"[..]]);
    }
}
