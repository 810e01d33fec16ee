//! Undoing content transfer encodings (base64, quoted-printable) and
//! charsets. Decoders are lenient as mail readers are — what a recipient's
//! reader would show is what must be inspected — and say when they had to
//! guess, so that text we could not really read is never called clean.

use std::borrow::Cow;

/// A content transfer encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transfer {
    /// 7bit, 8bit, binary or absent: the bytes as they are.
    Identity,
    /// RFC 2045 base64.
    Base64,
    /// RFC 2045 quoted-printable.
    QuotedPrintable,
    /// `x-uuencode` (old mail programs; readers still decode it).
    Uuencode,
    /// Something else (x-uuencode, a typo): the bytes are kept as they are
    /// and the part is reported as not fully inspected.
    Unknown,
}

impl Transfer {
    /// From a `Content-Transfer-Encoding` value.
    pub fn from_header(value: Option<&str>) -> Transfer {
        let Some(v) = value else {
            return Transfer::Identity;
        };
        // Senders write "7-bit", "8 bit", "7bits": readers take them as
        // the identity, and so do we.
        let v: String = v
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        match v.as_str() {
            "base64" => Transfer::Base64,
            "quotedprintable" => Transfer::QuotedPrintable,
            "xuuencode" | "uuencode" | "xuue" | "uue" => Transfer::Uuencode,
            "" | "binary" => Transfer::Identity,
            v if v.ends_with("bit") || v.ends_with("bits") => Transfer::Identity,
            _ => Transfer::Unknown,
        }
    }
}

/// Decodes `body`; the flag says the input was not clean encoding (invalid
/// characters skipped), for the caller to weigh.
pub fn transfer(body: &[u8], t: Transfer) -> (Cow<'_, [u8]>, bool) {
    match t {
        Transfer::Identity | Transfer::Unknown => (Cow::Borrowed(body), t == Transfer::Unknown),
        Transfer::Base64 => {
            let (out, invalid) = base64(body);
            (Cow::Owned(out), invalid > 0)
        }
        Transfer::QuotedPrintable => (Cow::Owned(quoted_printable(body)), false),
        Transfer::Uuencode => {
            let (out, ok) = uudecode(body);
            (Cow::Owned(out), !ok)
        }
    }
}

/// uuencoded data between `begin` and `end` lines (text outside them is
/// kept as it is: some senders put a note before the `begin` line).
pub fn uudecode(input: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    let mut inside = false;
    let mut ok = true;
    let mut seen_begin = false;
    for line in input.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if !inside {
            if line.starts_with(b"begin ") {
                inside = true;
                seen_begin = true;
            } else if !line.is_empty() {
                out.extend_from_slice(line);
                out.push(b'\n');
            }
            continue;
        }
        if line == b"end" {
            inside = false;
            continue;
        }
        let Some((&len_char, rest)) = line.split_first() else {
            continue;
        };
        let len = (len_char.wrapping_sub(b' ') & 0x3F) as usize;
        let mut bytes = Vec::with_capacity(len + 3);
        for group in rest.chunks(4) {
            let v: Vec<u8> = group.iter().map(|c| c.wrapping_sub(b' ') & 0x3F).collect();
            if v.len() < 2 {
                break;
            }
            let get = |i: usize| v.get(i).copied().unwrap_or(0);
            bytes.push(get(0) << 2 | get(1) >> 4);
            bytes.push(get(1) << 4 | get(2) >> 2);
            bytes.push(get(2) << 6 | get(3));
        }
        if bytes.len() < len {
            ok = false;
        }
        bytes.truncate(len);
        out.extend_from_slice(&bytes);
    }
    (out, ok && seen_begin)
}

const INVALID: u8 = 0xFF;
const SKIP: u8 = 0xFE;
const PAD: u8 = 0xFD;

const B64: [u8; 256] = {
    let mut t = [INVALID; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut i = 0;
    while i < 64 {
        t[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    t[b'\r' as usize] = SKIP;
    t[b'\n' as usize] = SKIP;
    t[b' ' as usize] = SKIP;
    t[b'\t' as usize] = SKIP;
    t[b'=' as usize] = PAD;
    t
};

/// Bytes as UTF-8 text, invalid sequences replaced: validated first by
/// the fast path (most text is valid), copied only when it is not.
pub fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// Lenient base64: line breaks and blanks skipped, other stray characters
/// skipped and counted, padding may end one block and another may follow
/// (some senders concatenate encoded chunks).
pub fn base64(input: &[u8]) -> (Vec<u8>, usize) {
    // Never more than three bytes out for four in (plus a partial quad),
    // and room for the eight-byte stores of the fast path.
    let mut out = vec![0u8; input.len() / 4 * 3 + 8];
    // Fast path: well-formed lines of whole quads (what MIME writers
    // produce), eight characters to six bytes at a time; the first line
    // that is not goes to the lenient reader, with everything after it.
    let mut o = 0;
    let mut i = 0;
    while i < input.len() {
        let end = memchr::memchr(b'\n', &input[i..]).map_or(input.len(), |n| i + n);
        let line = &input[i..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || !line.len().is_multiple_of(4) {
            break;
        }
        // The last quad may carry padding: the lenient reader takes it.
        let body = &line[..line.len() - 4];
        match quads(body, &mut out[o..]) {
            Some(n) => o += n,
            None => break,
        }
        let last = &line[line.len() - 4..];
        match quads(last, &mut out[o..]) {
            Some(n) => o += n,
            None => {
                // Padding (or a stray character) in the last quad: from
                // there on, the lenient reader.
                i += body.len();
                break;
            }
        }
        i = end + 1;
    }
    let invalid = if i < input.len() {
        lenient_base64(&input[i..], &mut out, &mut o)
    } else {
        0
    };
    out.truncate(o);
    (out, invalid)
}

/// Decodes whole quads of alphabet characters into `out`, or `None` at the
/// first character outside the alphabet. Four table lookups (each value
/// already in place, an invalid one with the top bit set) make three
/// bytes; two quads are stored as one eight-byte write, six kept.
fn quads(q: &[u8], out: &mut [u8]) -> Option<usize> {
    let mut o = 0;
    let mut pairs = q.chunks_exact(8);
    for c in pairs.by_ref() {
        let a = D0[c[0] as usize] | D1[c[1] as usize] | D2[c[2] as usize] | D3[c[3] as usize];
        let b = D0[c[4] as usize] | D1[c[5] as usize] | D2[c[6] as usize] | D3[c[7] as usize];
        if (a | b) & BAD != 0 {
            return None;
        }
        let v = (u64::from(a) << 40) | (u64::from(b) << 16);
        out[o..o + 8].copy_from_slice(&v.to_be_bytes());
        o += 6;
    }
    for c in pairs.remainder().chunks_exact(4) {
        let a = D0[c[0] as usize] | D1[c[1] as usize] | D2[c[2] as usize] | D3[c[3] as usize];
        if a & BAD != 0 {
            return None;
        }
        out[o..o + 3].copy_from_slice(&a.to_be_bytes()[1..]);
        o += 3;
    }
    Some(o)
}

/// Marks a character outside the alphabet in the quad tables.
const BAD: u32 = 1 << 31;

const fn quad_table(shift: u32) -> [u32; 256] {
    let mut t = [BAD; 256];
    let mut c = 0;
    while c < 256 {
        let v = B64[c];
        if v < 64 {
            t[c] = (v as u32) << shift;
        }
        c += 1;
    }
    t
}

static D0: [u32; 256] = quad_table(18);
static D1: [u32; 256] = quad_table(12);
static D2: [u32; 256] = quad_table(6);
static D3: [u32; 256] = quad_table(0);

/// Base64 as readers take it: characters outside the alphabet skipped
/// (and counted), line breaks and blanks ignored, padding ending a quad
/// wherever it comes. Writes into `out` from `*o`; returns the count of
/// invalid characters.
fn lenient_base64(input: &[u8], out: &mut [u8], o: &mut usize) -> usize {
    let mut invalid = 0;
    let mut acc: u32 = 0;
    let mut n = 0u8;
    for &c in input {
        match B64[c as usize] {
            SKIP => {}
            PAD => {
                *o += flush(&mut out[*o..], acc, n);
                acc = 0;
                n = 0;
            }
            INVALID => invalid += 1,
            v => {
                acc = acc << 6 | v as u32;
                n += 1;
                if n == 4 {
                    out[*o..*o + 3].copy_from_slice(&[
                        (acc >> 16) as u8,
                        (acc >> 8) as u8,
                        acc as u8,
                    ]);
                    *o += 3;
                    acc = 0;
                    n = 0;
                }
            }
        }
    }
    *o += flush(&mut out[*o..], acc, n);
    invalid
}

/// Writes what a partial quad holds; returns how many bytes.
fn flush(out: &mut [u8], acc: u32, n: u8) -> usize {
    match n {
        2 => {
            out[0] = (acc >> 4) as u8;
            1
        }
        3 => {
            out[..2].copy_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]);
            2
        }
        _ => 0,
    }
}

/// Quoted-printable: `=XX` escapes, soft line breaks (`=` at the end of a
/// line, trailing blanks allowed); a malformed escape is kept literally, as
/// readers show it.
pub fn quoted_printable(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut rest = input;
    while let Some(eq) = memchr::memchr(b'=', rest) {
        out.extend_from_slice(&rest[..eq]);
        let after = &rest[eq + 1..];
        if let (Some(&h), Some(&l)) = (after.first(), after.get(1))
            && let (Some(h), Some(l)) = (hex(h), hex(l))
        {
            out.push(h << 4 | l);
            rest = &after[2..];
            continue;
        }
        // Soft line break: "=" then blanks then CRLF or LF.
        let blanks = after
            .iter()
            .take_while(|&&c| c == b' ' || c == b'\t')
            .count();
        let tail = &after[blanks..];
        if tail.starts_with(b"\r\n") {
            rest = &tail[2..];
        } else if tail.starts_with(b"\n") {
            rest = &tail[1..];
        } else if tail.is_empty() {
            rest = tail;
        } else {
            out.push(b'=');
            rest = after;
        }
    }
    out.extend_from_slice(rest);
    out
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'F' => Some(c - b'A' + 10),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// Why text could not be read as what it claims to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CharsetError {
    /// No decoder for this charset name (EBCDIC, a made-up name).
    Unknown(String),
    /// Declared UTF-8 (or nothing) but too many bytes do not decode.
    Undecodable,
}

/// Decodes text in `charset` (None: UTF-8 with a Latin-1 reading when that
/// fails, which is what readers do with unlabelled 8-bit mail).
pub fn charset<'b>(bytes: &'b [u8], charset: Option<&str>) -> Result<Cow<'b, str>, CharsetError> {
    let name = charset.map(str::trim).filter(|c| !c.is_empty());
    let is_utf8 = name.is_none_or(|n| {
        ["utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968"]
            .iter()
            .any(|x| n.eq_ignore_ascii_case(x))
    });
    if is_utf8 {
        if let Ok(s) = std::str::from_utf8(bytes) {
            return Ok(Cow::Borrowed(s));
        }
        if name.is_none() {
            return Ok(Cow::Owned(latin1(bytes)));
        }
        let lossy = String::from_utf8_lossy(bytes);
        let bad = lossy.matches('\u{FFFD}').count();
        // A few stray bytes are common (a Windows-1252 quote in UTF-8 mail);
        // mostly undecodable text is not text we read.
        if bad * 20 > lossy.chars().count().max(1) {
            return Err(CharsetError::Undecodable);
        }
        return Ok(Cow::Owned(lossy.into_owned()));
    }
    let n = name.expect("checked above");
    let Some(decode) = mail_parser::decoders::charsets::map::charset_decoder(n.as_bytes()) else {
        return Err(CharsetError::Unknown(sanitize_name(n)));
    };
    if bytes.is_ascii() && !ascii_incompatible(n) {
        return Ok(Cow::Borrowed(
            std::str::from_utf8(bytes).expect("ASCII is UTF-8"),
        ));
    }
    Ok(Cow::Owned(decode(bytes)))
}

/// Charsets in which ASCII bytes do not mean ASCII characters.
fn ascii_incompatible(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("utf-16")
        || n.starts_with("utf-32")
        || n.starts_with("ucs")
        || n.starts_with("utf-7")
        || n.contains("ebcdic")
        || n.starts_with("cp0")
        || n.starts_with("ibm0")
        || n.starts_with("cp500")
        || n.starts_with("cp875")
        || n.starts_with("cp1026")
        || n.starts_with("cp1140")
        || n.starts_with("cp1047")
        || n.starts_with("hz")
        || n.contains("2022")
}

/// A charset name fit for a reason string (a sender chooses it).
fn sanitize_name(n: &str) -> String {
    n.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(40)
        .collect()
}

/// ISO-8859-1 / Windows-1252 text as a string.
pub fn latin1(bytes: &[u8]) -> String {
    match mail_parser::decoders::charsets::map::charset_decoder(b"windows-1252") {
        Some(decode) => decode(bytes),
        None => bytes.iter().map(|&b| b as char).collect(),
    }
}

/// UTF-16 text (after a byte-order mark).
pub fn utf16(bytes: &[u8], big_endian: bool) -> String {
    let units = bytes.chunks_exact(2).map(|c| {
        if big_endian {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_le_bytes([c[0], c[1]])
        }
    });
    char::decode_utf16(units)
        .map(|r| r.unwrap_or('\u{FFFD}'))
        .filter(|&c| c != '\u{FEFF}')
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_fast_path_reads_as_the_lenient_reader() {
        use base64::Engine as _;
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..400 {
            let len = (next() % 700) as usize;
            let data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let enc = base64::engine::general_purpose::STANDARD.encode(&data);
            let width = [76, 64, 72, 4, 1000][round % 5];
            let mut text: Vec<u8> = enc
                .as_bytes()
                .chunks(width)
                .flat_map(|l| l.iter().copied().chain(*b"\r\n"))
                .collect();
            // Some inputs damaged: a stray character, a bare LF, a blank.
            if round % 3 == 1 && !text.is_empty() {
                let at = (next() as usize) % text.len();
                text[at] = [b'*', b'\n', b' ', b'='][(next() % 4) as usize];
            }
            let (fast, bad) = base64(&text);
            let mut slow = vec![0u8; text.len() / 4 * 3 + 8];
            let mut o = 0;
            let slow_bad = lenient_base64(&text, &mut slow, &mut o);
            slow.truncate(o);
            assert_eq!(
                (fast.as_slice(), bad),
                (slow.as_slice(), slow_bad),
                "round {round}"
            );
            if round % 3 != 1 {
                assert_eq!(fast, data, "round {round}");
            }
        }
    }

    #[test]
    fn base64_lenient() {
        assert_eq!(base64(b"aGVsbG8=").0, b"hello");
        assert_eq!(base64(b"aGVs\r\nbG8=\r\n").0, b"hello");
        assert_eq!(base64(b"aGVsbG8=d29ybGQ=").0, b"helloworld");
        let (out, bad) = base64(b"aGV*sbG8");
        assert_eq!((out.as_slice(), bad), (&b"hello"[..], 1));
        assert_eq!(base64(b"").0, b"");
    }

    #[test]
    fn transfer_names_as_readers_take_them() {
        for (v, t) in [
            ("7bit", Transfer::Identity),
            ("7-bit", Transfer::Identity),
            ("8 bit", Transfer::Identity),
            ("  7bits", Transfer::Identity),
            ("", Transfer::Identity),
            ("Base64", Transfer::Base64),
            ("x-uuencode", Transfer::Uuencode),
            ("x-gzip64", Transfer::Unknown),
        ] {
            assert_eq!(Transfer::from_header(Some(v)), t, "{v}");
        }
    }

    #[test]
    fn uuencoded() {
        // "SSN 135-14-4832" uuencoded.
        let (out, ok) = uudecode(b"begin 644 x.txt\r\n/4U-.(#$S-2TQ-\"TT.#,R\r\n`\r\nend\r\n");
        assert!(ok);
        assert_eq!(out, b"SSN 135-14-4832");
    }

    #[test]
    fn qp() {
        assert_eq!(quoted_printable(b"a=3Db=\r\nc"), b"a=bc");
        assert_eq!(quoted_printable(b"Au=  \r\ngust"), b"August");
        assert_eq!(quoted_printable(b"x=ZZ="), b"x=ZZ");
        assert_eq!(quoted_printable(b"caf=C3=A9"), "café".as_bytes());
    }

    #[test]
    fn charsets() {
        assert_eq!(charset(b"abc", Some("utf-8")).unwrap(), "abc");
        assert_eq!(charset(b"caf\xe9", Some("iso-8859-1")).unwrap(), "café");
        assert_eq!(charset(b"caf\xe9", None).unwrap(), "café");
        assert_eq!(
            charset(b"\xc1\xc2", Some("cp500")),
            Err(CharsetError::Unknown("cp500".into()))
        );
        assert_eq!(
            charset(b"SSN 123", Some("x-unheard-of")),
            Err(CharsetError::Unknown("x-unheard-of".into()))
        );
        assert_eq!(
            charset(b"SSN 123", Some("ISO-8859-1")),
            Ok(Cow::Borrowed("SSN 123"))
        );
        assert_eq!(
            charset(&[0xff; 40], Some("utf-8")),
            Err(CharsetError::Undecodable)
        );
        assert_eq!(utf16(&[0x41, 0, 0x42, 0], false), "AB");
    }
}
