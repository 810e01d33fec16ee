//! The DATA reader: message content up to `<CRLF>.<CRLF>`, dot-unstuffed.
//!
//! Only `<CRLF>.<CRLF>` ends the data (RFC 5321 4.1.1.4). A bare LF or bare
//! CR anywhere in the content (RFC 5321 2.3.8 forbids them) marks the message
//! for rejection: it is read to its real end and then refused, so neither
//! `<LF>.<LF>` nor `<CR>.<CR>` can end the data early, and no such byte is
//! ever passed to a downstream server that might read it differently
//! (the "SMTP smuggling" family, CVE-2023-51764 and kin).
//!
//! A NUL byte refuses the message the same way. RFC 5321 makes content
//! US-ASCII or 8BITMIME text, neither of which has NUL, and servers differ
//! on what they do with one (some strip it, some end a line there), so a
//! NUL could make the next hop see different content, or a different end
//! of data, than we inspected. Refusing keeps what we inspect and what
//! we relay the same bytes; stripping would change the message silently.

/// What was wrong with the content, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataError {
    /// More than the size limit: the content was discarded as it came.
    TooBig,
    /// A bare LF or CR was seen.
    BareLineEnding,
    /// A NUL byte was seen.
    Nul,
    /// All sessions together held the memory content may take: the
    /// content was discarded as it came, to be sent again later.
    NoMemory,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a line.
    LineStart,
    /// Inside a line.
    Mid,
    /// Just after a CR inside a line.
    Cr,
    /// A '.' at the start of a line.
    Dot,
    /// ".\r" at the start of a line.
    DotCr,
}

/// Incremental reader: feed it buffered bytes, it says how many it used and
/// whether the end was reached. Bytes after the end belong to the next command.
#[derive(Debug)]
pub struct DataReader {
    state: State,
    body: Vec<u8>,
    limit: u64,
    seen: u64,
    error: Option<DataError>,
}

/// The finished content.
pub type DataResult = Result<Vec<u8>, DataError>;

impl DataReader {
    /// A reader that accepts at most `limit` bytes of unstuffed content.
    pub fn new(limit: u64) -> Self {
        DataReader {
            state: State::LineStart,
            body: Vec::with_capacity(8192),
            limit,
            seen: 0,
            error: None,
        }
    }

    /// Consumes from `input`; returns `(used, done)`.
    pub fn feed(&mut self, input: &[u8]) -> (usize, bool) {
        let mut i = 0;
        while i < input.len() {
            match self.state {
                State::Mid => {
                    // Fast path: copy up to the next CR or LF in one go.
                    let rest = &input[i..];
                    let n = memchr::memchr2(b'\r', b'\n', rest).unwrap_or(rest.len());
                    self.push(&rest[..n]);
                    i += n;
                    if i == input.len() {
                        break;
                    }
                    if input[i] == b'\r' {
                        self.state = State::Cr;
                    } else {
                        self.bare();
                        self.push(b"\n");
                    }
                    i += 1;
                }
                State::LineStart => {
                    if input[i] == b'.' {
                        self.state = State::Dot;
                        i += 1;
                    } else {
                        // Mid copies the byte and deals with CR and LF.
                        self.state = State::Mid;
                    }
                }
                State::Cr => {
                    if input[i] == b'\n' {
                        self.push(b"\r\n");
                        self.state = State::LineStart;
                        i += 1;
                    } else {
                        self.bare();
                        self.push(b"\r");
                        self.state = State::Mid;
                    }
                }
                State::Dot => {
                    // The leading dot is removed whatever follows (RFC 5321 4.5.2).
                    if input[i] == b'\r' {
                        self.state = State::DotCr;
                        i += 1;
                    } else {
                        self.state = State::Mid;
                    }
                }
                State::DotCr => {
                    if input[i] == b'\n' {
                        return (i + 1, true);
                    }
                    // ".\rX": content "\rX" with a bare CR.
                    self.bare();
                    self.push(b"\r");
                    self.state = State::Mid;
                }
            }
        }
        (input.len(), false)
    }

    fn bare(&mut self) {
        if self.error.is_none() {
            self.error = Some(DataError::BareLineEnding);
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        self.seen += bytes.len() as u64;
        if self.seen > self.limit {
            self.error = Some(DataError::TooBig);
            self.body = Vec::new();
        } else if self.error.is_none() {
            if memchr::memchr(0, bytes).is_some() {
                self.error = Some(DataError::Nul);
                self.body = Vec::new();
                return;
            }
            self.body.extend_from_slice(bytes);
        }
    }

    /// Bytes of content kept so far.
    pub fn kept(&self) -> usize {
        self.body.len()
    }

    /// Whether content is still kept (nothing has refused it yet).
    pub fn keeping(&self) -> bool {
        self.error.is_none()
    }

    /// Refuses the content for `e`: what came is dropped, the rest is
    /// read to its end and dropped as it comes.
    pub fn refuse(&mut self, e: DataError) {
        self.error = Some(e);
        self.body = Vec::new();
    }

    /// The content, or why it is refused. Call after `feed` returned `done`.
    pub fn finish(self) -> DataResult {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.body),
        }
    }
}

/// Checks BDAT content, which has no end marker to confuse but is relayed
/// with DATA downstream: bare CR or LF, or NUL, must not pass through it either.
pub fn check_content(body: &[u8]) -> Result<(), DataError> {
    if memchr::memchr(0, body).is_some() {
        return Err(DataError::Nul);
    }
    let mut prev = 0u8;
    for (i, &b) in body.iter().enumerate() {
        let next = body.get(i + 1).copied();
        if (b == b'\n' && prev != b'\r') || (b == b'\r' && next != Some(b'\n')) {
            return Err(DataError::BareLineEnding);
        }
        prev = b;
    }
    Ok(())
}

/// `Received:` headers in the message's header block: each hop adds one, so
/// a count past the limit is a mail loop (RFC 5321 6.3; Postfix's
/// `hopcount_limit` is 50).
pub fn hop_count(message: &[u8]) -> usize {
    let mut n = 0;
    let mut at_line_start = true;
    let mut i = 0;
    while i < message.len() {
        if at_line_start {
            let rest = &message[i..];
            // The empty line ends the header block.
            if rest.starts_with(b"\r\n") || rest.starts_with(b"\n") {
                break;
            }
            if rest.len() >= 9 && rest[..9].eq_ignore_ascii_case(b"received:") {
                n += 1;
            }
        }
        match memchr::memchr(b'\n', &message[i..]) {
            Some(nl) => {
                i += nl + 1;
                at_line_start = true;
            }
            None => break,
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in chunks of every size from 1 up, checking the result
    /// is the same however the bytes arrive.
    fn read(input: &[u8]) -> (DataResult, usize) {
        let mut first: Option<(DataResult, usize)> = None;
        for chunk in 1..=input.len().max(1) {
            let mut r = DataReader::new(1 << 20);
            let mut used = 0;
            let mut done = false;
            for c in input.chunks(chunk) {
                let (n, d) = r.feed(c);
                used += n;
                if d {
                    done = true;
                    break;
                }
            }
            let got = if done {
                (r.finish(), used)
            } else {
                (Err(DataError::TooBig), usize::MAX)
            };
            match &first {
                None => first = Some(got),
                Some(f) => assert_eq!(f, &got, "chunk size {chunk}"),
            }
        }
        first.unwrap()
    }

    #[test]
    fn plain_message_ends_at_crlf_dot_crlf() {
        let (r, used) = read(b"Subject: x\r\n\r\nhello\r\n.\r\nQUIT\r\n");
        assert_eq!(r.unwrap(), b"Subject: x\r\n\r\nhello\r\n");
        assert_eq!(used, 24);
    }

    /// Regression (security review): NUL bytes were relayed unchanged.
    #[test]
    fn nul_is_refused_in_data_and_bdat() {
        let (r, used) = read(b"a\0b\r\n.\r\n");
        assert_eq!((r, used), (Err(DataError::Nul), 8));
        assert_eq!(check_content(b"a\0b\r\n"), Err(DataError::Nul));
        assert_eq!(check_content(b"ab\r\n"), Ok(()));
    }

    #[test]
    fn hops_are_counted_in_the_header_block_only() {
        let m = b"Received: a\r\nreceived: b\r\n c\r\nSubject: x\r\n\r\nReceived: not a header\r\n";
        assert_eq!(hop_count(m), 2);
        assert_eq!(hop_count(b""), 0);
    }

    #[test]
    fn empty_message() {
        assert_eq!(read(b".\r\n").0.unwrap(), b"");
    }

    #[test]
    fn dot_unstuffing_is_exact() {
        let (r, _) = read(b"..\r\n...x\r\n.y\r\na.b\r\n.\r\n");
        assert_eq!(r.unwrap(), b".\r\n..x\r\ny\r\na.b\r\n");
    }

    #[test]
    fn bare_lf_dot_lf_does_not_end_data_and_is_rejected() {
        let input = b"hi\n.\nMAIL FROM:<evil@x.example>\r\n.\r\nNEXT";
        let (r, used) = read(input);
        assert_eq!(r, Err(DataError::BareLineEnding));
        assert_eq!(&input[used..], b"NEXT");
    }

    #[test]
    fn bare_cr_dot_cr_does_not_end_data_and_is_rejected() {
        let input = b"hi\r.\rRCPT TO:<x@y.example>\r\n.\r\n";
        let (r, used) = read(input);
        assert_eq!(r, Err(DataError::BareLineEnding));
        assert_eq!(used, input.len());
    }

    #[test]
    fn lf_dot_crlf_is_not_the_end() {
        // <LF>.<CRLF>: the dot is not at the start of a CRLF line.
        let input = b"a\n.\r\nb\r\n.\r\n";
        let (r, used) = read(input);
        assert_eq!(r, Err(DataError::BareLineEnding));
        assert_eq!(used, input.len());
    }

    #[test]
    fn cr_lf_split_across_reads_is_fine() {
        let mut r = DataReader::new(100);
        assert_eq!(r.feed(b"abc\r"), (4, false));
        assert_eq!(r.feed(b"\n.\r"), (3, false));
        assert_eq!(r.feed(b"\nX"), (1, true));
        assert_eq!(r.finish().unwrap(), b"abc\r\n");
    }

    #[test]
    fn size_limit_counts_unstuffed_bytes_and_reads_to_the_end() {
        let mut r = DataReader::new(5);
        let (used, done) = r.feed(b"123456789\r\n.\r\nQUIT");
        assert!(done);
        assert_eq!(used, 14);
        assert_eq!(r.finish(), Err(DataError::TooBig));
    }

    #[test]
    fn eight_bit_content_passes_unchanged() {
        let body = "Grüße, 東京\r\n".as_bytes();
        let mut input = body.to_vec();
        input.extend_from_slice(b".\r\n");
        assert_eq!(read(&input).0.unwrap(), body);
    }

    #[test]
    fn bdat_line_endings() {
        assert_eq!(check_content(b"a\r\nb\r\n"), Ok(()));
        assert_eq!(check_content(b"a\nb"), Err(DataError::BareLineEnding));
        assert_eq!(check_content(b"a\rb"), Err(DataError::BareLineEnding));
        assert_eq!(check_content(b"a\r"), Err(DataError::BareLineEnding));
    }
}
