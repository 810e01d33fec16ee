//! From raw message bytes to the texts the detectors read.
//!
//! The walk follows the message's MIME structure as the raw bytes declare
//! it ([`mime`]: header block, boundaries, preamble, parts, epilogue —
//! every byte lands in exactly one piece), reads every header block
//! ([`headers`]), undoes transfer encodings and charsets ([`decode`]), and
//! decides what each part is by its content ([`sniff`]), not by its label.
//! Text becomes segments to scan (HTML as text, tables as written and
//! marked so their column labels count for every cell, archives and office
//! documents opened within limits); everything that cannot be read is
//! listed as uninspectable, never skipped as if clean. The limits
//! hold for the whole message: text kept, archive entries, nesting, parts
//! and time.
//!
//! mail-parser reads header values (RFC 2047, RFC 2231, addresses, content
//! types); the structure is ours, so that no part can be lost between the
//! parser's view and the bytes that leave. A second, line-by-line count of
//! every boundary's delimiter lines checks the walk.

pub mod archive;
pub mod decode;
pub mod enriched;
pub mod headers;
pub mod html;
pub mod mime;
pub mod rtf;
pub mod sniff;
pub mod table;
pub mod wrap;

use std::borrow::Cow;
use std::time::Instant;

use decode::{CharsetError, Transfer};
use headers::Mime;
use mail_parser::MessageParser;
use sniff::{ImageFormat, Sniffed};

/// Bounds on the work one message can cause; they hold for the whole
/// message, so nesting or many parts cannot multiply them.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Nesting of multiparts and attached messages.
    pub max_depth: usize,
    /// Decoded text kept from one part; beyond it the part is uninspectable.
    pub max_part_text: usize,
    /// Decoded text kept from the whole message, archives included.
    pub max_total_text: u64,
    /// Leaf parts looked at in one message (archive members count).
    pub max_parts: usize,
    /// Zip and office document limits.
    pub archives: archive::ArchiveLimits,
    /// An image of at most this many pixels (a logo, an icon) is decoration
    /// and skipped; larger images, TIFF and images of unknown size may be a
    /// scan or a photo of a document and are uninspectable. 0: every image
    /// is uninspectable.
    pub decorative_image_pixels: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 8,
            max_part_text: 16 << 20,
            max_total_text: 64 << 20,
            max_parts: 1000,
            archives: archive::ArchiveLimits::default(),
            decorative_image_pixels: 250_000,
        }
    }
}

/// Where a text came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A header, by name (prefixed with the part path in nested messages;
    /// the usual names are not allocated for every message).
    Header(Cow<'static, str>),
    /// A MIME part's content (or a preamble / epilogue, or archive member).
    Part {
        /// Part path, `1.2`.
        path: String,
        /// Attachment file name.
        filename: Option<String>,
    },
    /// An attachment's file name.
    Filename {
        /// Part path.
        path: String,
    },
}

/// Which detectors a text gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Words a person wrote: every detector.
    Full,
    /// Machinery (trace and date headers, ids, addresses): identifiers and
    /// codes only; names next to dates mean nothing here.
    Identifiers,
}

/// One text to scan: a range of [`Extracted::text`].
#[derive(Debug, Clone)]
pub struct Segment {
    /// Where it came from.
    pub source: Source,
    /// Its normalised text's place in [`Extracted::text`].
    pub range: std::ops::Range<usize>,
    /// Which detectors apply.
    pub profile: Profile,
    /// The format the text was made from (`iCalendar`, `vCard`, `PDF`...),
    /// for explanations; `None` for text as written.
    pub form: Option<&'static str>,
    /// A delimited table: its header row labels its columns
    /// ([`table::Table`]).
    pub table: bool,
    /// For text normalisation changed: offset in the normalised text to
    /// offset in the decoded text.
    map: Option<Vec<u32>>,
}

impl Segment {
    /// The decoded-text offset of offset `i` (from the segment's start) in
    /// its normalised text.
    pub fn source_offset(&self, i: usize) -> usize {
        match &self.map {
            None => i,
            Some(m) => m
                .get(i)
                .map_or_else(|| m.last().map_or(0, |&o| o as usize + 1), |&o| o as usize),
        }
    }
}

/// What separates texts in [`Extracted::text`]: line breaks around a
/// control character that no pattern, word or name can match across.
pub const SEPARATOR: &str = "\n\u{1}\n";

/// A part that could not be inspected, and why (no content in the reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uninspectable {
    /// Part path.
    pub path: String,
    /// Attachment file name.
    pub filename: Option<String>,
    /// What stopped inspection.
    pub reason: String,
}

/// Everything extracted from one message: every text, normalised and
/// joined in one buffer (read in one pass by each matcher), and where each
/// came from.
#[derive(Debug, Default)]
pub struct Extracted {
    /// The texts, normalised, separated by [`SEPARATOR`].
    pub text: String,
    /// Each text's place and origin.
    pub segments: Vec<Segment>,
    /// Parts that could not be read.
    pub uninspectable: Vec<Uninspectable>,
    /// The deadline passed before everything was read.
    pub timed_out: bool,
    /// What [`Extracted::text`] may grow to (the message's text limit and
    /// the separators); its capacity stays within it.
    limit: usize,
}

impl Extracted {
    /// A segment's normalised text.
    pub fn text_of(&self, s: &Segment) -> &str {
        &self.text[s.range.clone()]
    }

    /// Adds a text (normalised here) with its origin.
    pub fn push(
        &mut self,
        source: Source,
        text: &str,
        profile: Profile,
        form: Option<&'static str>,
    ) {
        let (norm, map) = crate::normalize::normalize(text).into_parts();
        // Grow by doubling, but never past the message's text limit: a
        // message at the limit would otherwise hold twice it.
        let need = SEPARATOR.len() + norm.len();
        if self.text.capacity() - self.text.len() < need {
            let room = self.limit.saturating_sub(self.text.len());
            self.text
                .reserve_exact(self.text.len().max(need).min(room).max(need));
        }
        if !self.text.is_empty() {
            self.text.push_str(SEPARATOR);
        }
        let start = self.text.len();
        self.text.push_str(&norm);
        self.segments.push(Segment {
            source,
            range: start..self.text.len(),
            profile,
            form,
            table: false,
            map,
        });
    }
}

/// Builds the header parser (build once, share).
pub fn parser() -> MessageParser {
    headers::parser()
}

/// Extracts the texts of a message with a parser from [`parser`].
pub fn extract_with(parser: &MessageParser, raw: &[u8], limits: &Limits) -> Extracted {
    extract_until(parser, raw, limits, None, None)
}

/// As [`extract_with`], stopping at `deadline`: what is left is reported
/// uninspectable (the scan's time budget is over).
pub fn extract_until(
    parser: &MessageParser,
    raw: &[u8],
    limits: &Limits,
    deadline: Option<Instant>,
    pdf: Option<&dyn crate::PdfText>,
) -> Extracted {
    // The texts are seldom much longer than the raw message (base64
    // shrinks); one allocation up front for most.
    let mut out = Extracted {
        text: String::with_capacity(raw.len().min(limits.max_total_text as usize) + 256),
        segments: Vec::with_capacity(32),
        limit: (limits.max_total_text as usize)
            .saturating_add(limits.max_parts.saturating_mul(4 * SEPARATOR.len())),
        ..Extracted::default()
    };
    let mut w = Walker {
        parser,
        limits,
        sink: Sink {
            out: &mut out,
            text_left: limits.max_total_text,
            deadline,
            over_time: false,
            over_text: false,
        },
        leaves: 0,
        boundaries: Vec::new(),
        archive_depth: 0,
        decompressed_left: limits.archives.max_total,
        pdf,
        deadline,
    };
    w.entity(raw, "", 0, true, true);
    let boundaries = std::mem::take(&mut w.boundaries);
    let timed_out = w.sink.over_time;
    out.timed_out = timed_out;
    check_complete(raw, &boundaries, &mut out);
    out
}

/// Extracts the texts of a message (builds a parser each call: prefer
/// [`extract_with`] in a loop).
pub fn extract(raw: &[u8], limits: &Limits) -> Extracted {
    extract_with(&parser(), raw, limits)
}

/// The independent completeness check: each boundary the walk used must
/// account for every delimiter line of it in the raw message (multiparts
/// inside decoded content are not in the raw bytes and are not counted).
fn check_complete(raw: &[u8], used: &[(Vec<u8>, usize)], out: &mut Extracted) {
    let mut seen: Vec<&[u8]> = Vec::new();
    for (b, _) in used {
        if seen.contains(&b.as_slice()) {
            continue;
        }
        seen.push(b);
        let walked: usize = used.iter().filter(|(x, _)| x == b).map(|(_, n)| n).sum();
        let in_raw = mime::count_delimiter_lines(raw, b);
        if in_raw > walked {
            out.uninspectable.push(Uninspectable {
                path: "1".into(),
                filename: None,
                reason: format!(
                    "MIME structure not fully accounted for: {in_raw} delimiter lines, {walked} walked"
                ),
            });
        }
    }
}

/// Collects segments within the message-wide text budget and deadline.
pub struct Sink<'o> {
    out: &'o mut Extracted,
    text_left: u64,
    deadline: Option<Instant>,
    over_time: bool,
    over_text: bool,
}

impl Sink<'_> {
    /// Adds a text (blank ones too: a caller wanting them skipped uses
    /// [`Sink::push_text`]).
    pub fn push(&mut self, source: Source, text: &str, profile: Profile) {
        let mut text = text;
        if text.len() as u64 > self.text_left {
            let keep = floor_char(text, self.text_left as usize);
            text = &text[..keep];
            if !self.over_text {
                self.over_text = true;
                self.out.uninspectable.push(Uninspectable {
                    path: path_of(&source),
                    filename: None,
                    reason: "the message's decoded text is larger than the inspection limit; the rest was not read".into(),
                });
            }
        }
        self.text_left -= text.len() as u64;
        self.out.push(source, text, profile, None);
    }

    /// Adds text made from a format's fields (an iCalendar event, a vCard),
    /// read as prose with the format named in explanations.
    pub fn push_form(&mut self, source: Source, text: &str, form: &'static str) {
        self.push(source, text, Profile::Full);
        if let Some(s) = self.out.segments.last_mut() {
            s.form = Some(form);
        }
    }

    /// Adds a delimited table (CSV, TSV, spreadsheet rows) as written.
    pub fn push_table(&mut self, source: Source, text: &str) {
        let tabs = table::Table::read(text).and_then(|t| t.tab_delimited());
        self.push(source, tabs.as_deref().unwrap_or(text), Profile::Full);
        if let Some(s) = self.out.segments.last_mut() {
            s.table = true;
        }
    }

    /// Adds a text unless it is blank.
    pub fn push_text(&mut self, source: Source, text: &str, profile: Profile) {
        let blank = text.bytes().all(|b| b.is_ascii_whitespace()) || text.trim().is_empty();
        if !blank {
            self.push(source, text, profile);
        }
    }

    /// Bytes no structure claimed (header garbage, a preamble): scanned as text.
    pub fn unclaimed(&mut self, bytes: &[u8], label: &str) {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let text = decode::charset(bytes, None)
            .map(Cow::into_owned)
            .unwrap_or_else(|_| decode::latin1(bytes));
        self.push(
            Source::Header(label.to_string().into()),
            &text,
            Profile::Full,
        );
    }

    /// Records a part that could not be read.
    pub fn uninspectable(&mut self, path: &str, filename: Option<&str>, reason: impl Into<String>) {
        self.out.uninspectable.push(Uninspectable {
            path: if path.is_empty() {
                "1".into()
            } else {
                path.into()
            },
            filename: filename.map(str::to_owned),
            reason: reason.into(),
        });
    }

    /// Whether the time budget is over (reported once, then `true` forever).
    pub fn out_of_time(&mut self, path: &str) -> bool {
        if self.over_time {
            return true;
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.over_time = true;
            self.uninspectable(
                path,
                None,
                "inspection time budget used up; the rest was not read",
            );
            return true;
        }
        false
    }

    /// Text bytes still allowed.
    pub fn text_left(&self) -> u64 {
        self.text_left
    }
}

fn path_of(source: &Source) -> String {
    match source {
        Source::Header(_) => "1".into(),
        Source::Part { path, .. } | Source::Filename { path } => path.clone(),
    }
}

fn floor_char(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

struct Walker<'p, 'o> {
    parser: &'p MessageParser,
    limits: &'p Limits,
    sink: Sink<'o>,
    /// Leaf parts seen (archive members included).
    leaves: usize,
    /// Boundaries used on bytes of the raw message, with delimiters found.
    boundaries: Vec<(Vec<u8>, usize)>,
    /// Archives we are inside of now.
    archive_depth: usize,
    /// Bytes archives may still decompress, for the whole message.
    decompressed_left: u64,
    /// Reads PDF text, when the caller gave a reader.
    pdf: Option<&'p dyn crate::PdfText>,
    deadline: Option<Instant>,
}

/// How a leaf is labelled: declared type, extension, charset.
struct Hint<'a> {
    ctype: &'a str,
    ext: String,
    charset: Option<&'a str>,
    /// `format=flowed` plain text ([`wrap`]).
    flowed: bool,
}

impl Walker<'_, '_> {
    /// One MIME entity: a message (`is_message`: its headers are a
    /// message's) or a body part. `path` is the entity's part path (empty
    /// for the top-level message); `in_raw` says its bytes are those of the
    /// raw message (not decoded from a transfer encoding).
    fn entity(&mut self, bytes: &[u8], path: &str, depth: usize, is_message: bool, in_raw: bool) {
        if self.sink.out_of_time(path) {
            return;
        }
        if depth > self.limits.max_depth {
            return self.sink.uninspectable(
                path,
                None,
                format!("MIME nesting deeper than {}", self.limits.max_depth),
            );
        }
        let (block, body) = mime::split_headers(bytes);
        // A message's headers are labelled with its path; a part's by its
        // path too, so findings in part headers say where they are.
        let m = headers::read(self.parser, block, path, &mut self.sink);
        let ctype = m
            .content_type
            .clone()
            .unwrap_or_else(|| "text/plain".into());
        let (major, _) = ctype.split_once('/').unwrap_or((&ctype, ""));
        // A message's root content lives at `path.1` (`1` at top level).
        let content_path = if is_message {
            child(path, 1)
        } else if path.is_empty() {
            "1".to_string()
        } else {
            path.to_string()
        };
        if major == "multipart" {
            return self.multipart(body, &m, path, &content_path, is_message, depth, in_raw);
        }
        if major == "message" && matches!(&ctype[8..], "rfc822" | "global" | "news") {
            let (decoded, bad) =
                decode::transfer(body, Transfer::from_header(m.transfer_encoding.as_deref()));
            if bad {
                self.sink.uninspectable(
                    &content_path,
                    None,
                    "attached message with a broken transfer encoding",
                );
            }
            let raw_again = in_raw && matches!(decoded, Cow::Borrowed(_));
            return self.entity(&decoded, &content_path, depth + 1, true, raw_again);
        }
        if ctype == "message/partial" || ctype == "message/external-body" {
            // A fragment's text is read, but the rest of the message travels
            // in other messages (or at an address) the gateway never sees
            // together: a base64 part cut in two, a name on one side of the
            // cut and its date on the other. Splitting a message is a way
            // around inspection, so the whole is not clean.
            self.sink.uninspectable(
                &content_path,
                None,
                if ctype == "message/partial" {
                    "a fragment of a message (message/partial); the rest travels in other messages"
                } else {
                    "a message whose body is elsewhere (message/external-body)"
                },
            );
        }
        self.leaf(body, &m, &content_path, depth);
    }

    #[allow(clippy::too_many_arguments)]
    fn multipart(
        &mut self,
        body: &[u8],
        m: &Mime,
        path: &str,
        content_path: &str,
        is_message: bool,
        depth: usize,
        in_raw: bool,
    ) {
        // Children of a message's root multipart are `1`, `2`... (or
        // `path.1`...); children of a nested multipart extend its path.
        let base = if is_message { path } else { content_path };
        let Some(boundary) = m.boundary.as_deref().filter(|b| !b.is_empty()) else {
            self.sink.uninspectable(
                content_path,
                None,
                "multipart without a boundary; read as text",
            );
            return self.text_leaf(body, content_path, None, "text/plain", None, false);
        };
        let parts = mime::split_multipart(body, boundary.as_bytes());
        if in_raw {
            self.boundaries
                .push((boundary.as_bytes().to_vec(), parts.delimiters));
        }
        self.sink.unclaimed(
            parts.preamble,
            &format!("{} preamble", label_path(content_path)),
        );
        for (i, part) in parts.parts.iter().enumerate() {
            if self.sink.out_of_time(content_path) {
                return;
            }
            self.entity(part, &child(base, i + 1), depth + 1, false, in_raw);
        }
        self.sink.unclaimed(
            parts.epilogue,
            &format!("{} epilogue", label_path(content_path)),
        );
    }

    fn leaf(&mut self, body: &[u8], m: &Mime, path: &str, depth: usize) {
        if !self.count_leaf(path) {
            return;
        }
        let filename = m.filename.as_deref().filter(|f| !f.trim().is_empty());
        if let Some(name) = filename {
            self.sink.push(
                Source::Filename {
                    path: path.to_string(),
                },
                &filename_words(name),
                Profile::Full,
            );
        }
        let transfer = Transfer::from_header(m.transfer_encoding.as_deref());
        let (decoded, bad) = decode::transfer(body, transfer);
        if transfer == Transfer::Unknown {
            self.sink.uninspectable(
                path,
                filename,
                "unknown content transfer encoding; read as it is",
            );
        } else if bad {
            self.sink
                .uninspectable(path, filename, "base64 content with invalid characters");
        }
        let ctype = m.content_type.as_deref().unwrap_or("text/plain");
        let hint = Hint {
            ctype,
            ext: extension(filename),
            charset: m.charset.as_deref(),
            flowed: m.flowed,
        };
        self.content(&decoded, &hint, path, filename, depth);
    }

    /// Counts a leaf; `false` once past the part limit (reported once).
    fn count_leaf(&mut self, path: &str) -> bool {
        self.leaves += 1;
        if self.leaves > self.limits.max_parts {
            if self.leaves == self.limits.max_parts + 1 {
                self.sink.uninspectable(
                    path,
                    None,
                    format!(
                        "more than {} parts; the rest were not read",
                        self.limits.max_parts
                    ),
                );
            }
            return false;
        }
        true
    }

    /// Decoded content of a leaf or an archive member, read for what its
    /// bytes are.
    fn content(
        &mut self,
        bytes: &[u8],
        hint: &Hint<'_>,
        path: &str,
        filename: Option<&str>,
        depth: usize,
    ) {
        if self.sink.out_of_time(path) {
            return;
        }
        let declared_text = hint.ctype.starts_with("text/");
        match sniff::sniff(bytes) {
            Sniffed::Text => {
                // A charset applies to text the sender labelled as text.
                let charset = if declared_text { hint.charset } else { None };
                self.text_leaf(bytes, path, filename, hint.ctype, charset, hint.flowed);
            }
            Sniffed::Utf16 { big_endian } => {
                let text = decode::utf16(bytes, big_endian);
                self.text_form(text, path, filename, hint.ctype, &hint.ext);
            }
            Sniffed::Zip => {
                let kind = archive::kind_hint(hint.ctype, &hint.ext);
                archive::read(self, kind, bytes, path, filename, depth);
            }
            Sniffed::Pdf => self.pdf(bytes, path, filename),
            Sniffed::Image { format, size } => self.image(format, size, path, filename),
            Sniffed::Media => self.sink.uninspectable(
                path,
                filename,
                "audio or video (voice mail, a recording) cannot be transcribed",
            ),
            Sniffed::Font => {}
            Sniffed::Ole => self.sink.uninspectable(
                path,
                filename,
                "legacy Office document (OLE2: .doc, .xls, .msg) cannot be read",
            ),
            Sniffed::Compressed if bytes.starts_with(&[0x1F, 0x8B]) => {
                archive::gunzip(self, bytes, path, filename, depth);
            }
            Sniffed::Compressed => self.sink.uninspectable(
                path,
                filename,
                "compressed data (bzip2, xz, zstd, 7z, rar) is not opened",
            ),
            // A detached S/MIME signature holds certificates and a signature,
            // not message text.
            Sniffed::Cms
                if matches!(
                    hint.ctype,
                    "application/pkcs7-signature" | "application/x-pkcs7-signature"
                ) => {}
            Sniffed::Cms => self.sink.uninspectable(
                path,
                filename,
                "S/MIME (CMS) content: encrypted or opaque-signed, not read",
            ),
            // Text in a declared charset need not look like ASCII (EBCDIC,
            // UTF-16 without a mark): the charset decides.
            Sniffed::Binary if declared_text && hint.charset.is_some() => {
                self.text_leaf(bytes, path, filename, hint.ctype, hint.charset, hint.flowed);
            }
            Sniffed::Binary => {
                let what = if declared_text {
                    "a text part whose bytes are not text".to_string()
                } else {
                    format!("cannot read {} content", safe_type(hint.ctype))
                };
                self.sink.uninspectable(path, filename, what);
            }
        }
    }

    /// A PDF's text layer, through the caller's reader. A PDF without one
    /// (a scan), or one the reader cannot read in time, is uninspectable.
    fn pdf(&mut self, bytes: &[u8], path: &str, filename: Option<&str>) {
        let Some(reader) = self.pdf else {
            return self.sink.uninspectable(
                path,
                filename,
                "PDF text is not extracted (no PDF reader configured); treated as not inspected",
            );
        };
        match reader.text(bytes, self.deadline) {
            Ok(text) if text.chars().filter(|c| c.is_alphanumeric()).count() >= 4 => {
                let source = Source::Part {
                    path: path.to_string(),
                    filename: filename.map(str::to_owned),
                };
                self.sink.push_form(source, &text, "PDF");
            }
            Ok(_) => self.sink.uninspectable(
                path,
                filename,
                "PDF without a text layer (a scan or images): not read without OCR",
            ),
            Err(why) => self.sink.uninspectable(
                path,
                filename,
                format!("PDF text could not be extracted: {why}"),
            ),
        }
    }

    fn image(
        &mut self,
        format: ImageFormat,
        size: Option<(u32, u32)>,
        path: &str,
        filename: Option<&str>,
    ) {
        let pixels = size.map(|(w, h)| w as u64 * h as u64);
        let decorative = format != ImageFormat::Tiff
            && pixels.is_some_and(|p| p <= self.limits.decorative_image_pixels);
        if decorative {
            return;
        }
        let what = match (format, size) {
            (ImageFormat::Tiff, _) => {
                "TIFF image (a fax or a scan) cannot be read without OCR".to_string()
            }
            (f, Some((w, h))) => format!(
                "{} image of {w}x{h} pixels may show a document or a photo; not read (no OCR)",
                f.as_str()
            ),
            (f, None) => format!(
                "{} image may show a document or a photo; not read (no OCR)",
                f.as_str()
            ),
        };
        self.sink.uninspectable(path, filename, what);
    }

    /// Text bytes in an optional charset.
    fn text_leaf(
        &mut self,
        bytes: &[u8],
        path: &str,
        filename: Option<&str>,
        ctype: &str,
        charset: Option<&str>,
        flowed: bool,
    ) {
        let limit = self.limits.max_part_text;
        let bytes = if bytes.len() > limit {
            self.sink.uninspectable(
                path,
                filename,
                format!(
                    "text larger than the {} MiB inspection limit; the rest was not read",
                    limit >> 20
                ),
            );
            &bytes[..limit]
        } else {
            bytes
        };
        let text = match decode::charset(bytes, charset) {
            Ok(t) => t.into_owned(),
            Err(CharsetError::Unknown(name)) => {
                self.sink.uninspectable(
                    path,
                    filename,
                    format!("text in an unknown charset ({name})"),
                );
                decode::latin1(bytes)
            }
            Err(CharsetError::Undecodable) => {
                self.sink.uninspectable(
                    path,
                    filename,
                    "text that does not decode in its declared charset",
                );
                String::from_utf8_lossy(bytes).into_owned()
            }
        };
        let text = match ctype {
            "text/plain" if flowed => wrap::soft_breaks(text),
            "text/plain" => wrap::hard_wraps(text),
            _ => text,
        };
        let ext = extension(filename);
        self.text_form(text, path, filename, ctype, &ext);
    }

    /// Text, read in its form: HTML, a table, or prose.
    fn text_form(
        &mut self,
        text: String,
        path: &str,
        filename: Option<&str>,
        ctype: &str,
        ext: &str,
    ) {
        let source = Source::Part {
            path: path.to_string(),
            filename: filename.map(str::to_owned),
        };
        if let Some(events) = crate::formats::calendar::ical_text(&text) {
            self.sink.push_form(source.clone(), &events, "iCalendar");
        }
        if let Some(cards) = crate::formats::calendar::vcard_text(&text) {
            self.sink.push_form(source.clone(), &cards, "vCard");
        }
        if rtf::is_rtf(&text) {
            return self.sink.push_form(source, &rtf::to_text(&text), "RTF");
        }
        if is_table(ctype, ext) {
            return self.sink.push_table(source, &text);
        }
        let t = if is_html(ctype, ext, &text) {
            html::to_text(&text)
        } else if enriched::is_enriched(ctype) {
            enriched::to_text(&text)
        } else {
            text
        };
        self.sink.push(source, &t, Profile::Full);
    }
}

/// A file name as words: its extension dropped, underscores as spaces, and
/// every other character kept (dots, dashes and slashes inside dates,
/// commas of `Last, First`).
pub fn filename_words(name: &str) -> String {
    let stem = match name.rsplit_once('.') {
        Some((stem, ext))
            if !ext.is_empty()
                && ext.len() <= 5
                && ext.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            stem
        }
        _ => name,
    };
    stem.replace('_', " ")
}

fn child(path: &str, i: usize) -> String {
    if path.is_empty() {
        i.to_string()
    } else {
        format!("{path}.{i}")
    }
}

fn label_path(path: &str) -> &str {
    if path.is_empty() { "1" } else { path }
}

/// A content type fit for a reason string (a sender chooses it).
fn safe_type(t: &str) -> String {
    t.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '.' | '+'))
        .take(60)
        .collect()
}

fn extension(filename: Option<&str>) -> String {
    filename
        .and_then(|f| f.rsplit_once('.'))
        .map(|(_, e)| e.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

fn is_table(ctype: &str, ext: &str) -> bool {
    matches!(
        ctype,
        "text/csv"
            | "text/tab-separated-values"
            | "application/csv"
            | "text/comma-separated-values"
    ) || matches!(ext, "csv" | "tsv")
}

fn is_html(ctype: &str, ext: &str, text: &str) -> bool {
    if ctype == "text/html" || ctype == "application/xhtml+xml" || matches!(ext, "htm" | "html") {
        return true;
    }
    let head = text
        .trim_start()
        .get(..15)
        .unwrap_or("")
        .to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html")
}

#[cfg(test)]
mod tests;
