//! From raw message bytes to the texts the detectors read: decoded headers,
//! every MIME part (nested messages included, to a depth limit) with its
//! transfer encoding and charset undone, HTML as text, tables labelled,
//! text-like attachments and file names. What cannot be read is listed as
//! uninspectable, never skipped as if clean.

pub mod archive;
pub mod html;
pub mod table;

use mail_parser::{
    HeaderName, HeaderValue, Message, MessageParser, MessagePart, MimeHeaders, PartType,
};

/// Bounds on the work one message can cause.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Nesting of multiparts and attached messages.
    pub max_depth: usize,
    /// Decoded text kept from one part; the rest is not inspected.
    pub max_part_text: usize,
    /// Parts looked at in one message.
    pub max_parts: usize,
    /// Zip and office document limits.
    pub archives: archive::ArchiveLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 8,
            max_part_text: 16 << 20,
            max_parts: 1000,
            archives: archive::ArchiveLimits::default(),
        }
    }
}

/// Where a text came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A header, by name.
    Header(String),
    /// A MIME part's content.
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

/// One text to scan.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Where it came from.
    pub source: Source,
    /// The decoded text.
    pub text: String,
}

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

/// Everything extracted from one message.
#[derive(Debug, Default)]
pub struct Extracted {
    /// Texts to scan.
    pub segments: Vec<Segment>,
    /// Parts that could not be read.
    pub uninspectable: Vec<Uninspectable>,
}

/// Headers that carry machinery, not words a person wrote.
const SKIP_HEADERS: &[&str] = &[
    "received",
    "dkim-signature",
    "arc-seal",
    "arc-message-signature",
    "arc-authentication-results",
    "authentication-results",
    "message-id",
    "in-reply-to",
    "references",
    "date",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "content-disposition",
    "content-id",
    "return-path",
    "x-mailer",
    "user-agent",
    "list-unsubscribe",
    "list-id",
    "x-ms-exchange-organization-authas",
    "received-spf",
    "x-received",
    "x-google-dkim-signature",
    "x-gm-message-state",
];

/// A MIME parser set up for inspection: MIME and address headers parsed,
/// free-text headers decoded (RFC 2047), everything else kept raw (cheap:
/// trace and ID headers are not inspected). Build once, share.
pub fn parser() -> MessageParser {
    MessageParser::new()
        .with_mime_headers()
        .with_address_headers()
        .header_text(HeaderName::Subject)
        .header_text(HeaderName::Comments)
        .header_text(HeaderName::Keywords)
}

/// Extracts the texts of a message with a parser from [`parser`].
pub fn extract_with(parser: &MessageParser, raw: &[u8], limits: &Limits) -> Extracted {
    let mut out = Extracted::default();
    match parser.parse(raw) {
        Some(msg) if !msg.parts.is_empty() => {
            let mut walker = Walker {
                limits,
                out: &mut out,
                parts_seen: 0,
            };
            walker.message(&msg, String::new(), 0);
        }
        _ => {
            // Not a message we can parse: inspect the bytes as text, and say so.
            out.uninspectable.push(Uninspectable {
                path: "1".into(),
                filename: None,
                reason: "message structure could not be parsed".into(),
            });
            out.segments.push(Segment {
                source: Source::Part {
                    path: "1".into(),
                    filename: None,
                },
                text: String::from_utf8_lossy(raw).into_owned(),
            });
        }
    }
    out
}

/// Extracts the texts of a message (builds a parser each call: prefer
/// [`extract_with`] in a loop).
pub fn extract(raw: &[u8], limits: &Limits) -> Extracted {
    extract_with(&parser(), raw, limits)
}

struct Walker<'l, 'o> {
    limits: &'l Limits,
    out: &'o mut Extracted,
    parts_seen: usize,
}

impl Walker<'_, '_> {
    fn message(&mut self, msg: &Message<'_>, prefix: String, depth: usize) {
        self.headers(msg.root_part(), &prefix);
        let root_path = if prefix.is_empty() {
            "1".to_string()
        } else {
            format!("{prefix}.1")
        };
        match &msg.root_part().body {
            PartType::Multipart(children) => self.children(msg, children, &prefix, depth),
            _ => self.leaf(msg, 0, root_path, depth),
        }
    }

    fn children(&mut self, msg: &Message<'_>, ids: &[u32], prefix: &str, depth: usize) {
        if depth >= self.limits.max_depth {
            self.out.uninspectable.push(Uninspectable {
                path: if prefix.is_empty() {
                    "1".into()
                } else {
                    prefix.into()
                },
                filename: None,
                reason: format!("MIME nesting deeper than {}", self.limits.max_depth),
            });
            return;
        }
        for (i, &id) in ids.iter().enumerate() {
            let path = if prefix.is_empty() {
                format!("{}", i + 1)
            } else {
                format!("{prefix}.{}", i + 1)
            };
            match msg.part(id).map(|p| &p.body) {
                Some(PartType::Multipart(grand)) => self.children(msg, grand, &path, depth + 1),
                Some(_) => self.leaf(msg, id, path, depth + 1),
                None => {}
            }
        }
    }

    fn leaf(&mut self, msg: &Message<'_>, id: u32, path: String, depth: usize) {
        self.parts_seen += 1;
        if self.parts_seen > self.limits.max_parts {
            if self.parts_seen == self.limits.max_parts + 1 {
                self.out.uninspectable.push(Uninspectable {
                    path,
                    filename: None,
                    reason: format!("more than {} MIME parts", self.limits.max_parts),
                });
            }
            return;
        }
        let Some(part) = msg.part(id) else { return };
        let filename = part.attachment_name().map(str::to_owned);
        if let Some(name) = &filename {
            self.push(
                Source::Filename { path: path.clone() },
                name.replace(['_', '.'], " "),
            );
        }
        let ctype = content_type(part);
        let source = Source::Part {
            path: path.clone(),
            filename: filename.clone(),
        };
        match &part.body {
            PartType::Text(text) => self.text(source, &ctype, filename.as_deref(), text),
            PartType::Html(html) => self.push(source, html::to_text(self.cap(html))),
            PartType::Binary(bytes) | PartType::InlineBinary(bytes) => {
                self.binary(source, &ctype, filename.as_deref(), bytes, path)
            }
            PartType::Message(nested) => {
                if depth >= self.limits.max_depth {
                    self.out.uninspectable.push(Uninspectable {
                        path,
                        filename,
                        reason: format!(
                            "attached messages nested deeper than {}",
                            self.limits.max_depth
                        ),
                    });
                } else {
                    self.message(nested, path, depth + 1);
                }
            }
            PartType::Multipart(_) => {}
        }
    }

    fn text(&mut self, source: Source, ctype: &str, filename: Option<&str>, text: &str) {
        let text = self.cap(text);
        let t = if is_table(ctype, filename) {
            table::labelled(text)
        } else if ctype == "text/html" {
            html::to_text(text)
        } else {
            text.to_string()
        };
        self.push(source, t);
    }

    fn binary(
        &mut self,
        source: Source,
        ctype: &str,
        filename: Option<&str>,
        bytes: &[u8],
        path: String,
    ) {
        if let Some(kind) = archive::container(ctype, &extension(filename)) {
            return archive::read(
                kind,
                bytes,
                &path,
                filename,
                &self.limits.archives,
                0,
                self.out,
            );
        }
        if is_text_like(ctype, filename) {
            let text = String::from_utf8_lossy(bytes);
            return self.text(source, ctype, filename, &text);
        }
        let media = ctype.split('/').next().unwrap_or("");
        if matches!(media, "image" | "audio" | "video" | "font")
            || is_media_ext(&extension(filename))
        {
            // Media is not read (no OCR); it is not treated as a failure either.
            return;
        }
        self.out.uninspectable.push(Uninspectable {
            path,
            filename: filename.map(str::to_owned),
            reason: format!("cannot read {ctype} attachments"),
        });
    }

    fn headers(&mut self, part: &MessagePart<'_>, prefix: &str) {
        let label = |name: &str| {
            if prefix.is_empty() {
                name.to_string()
            } else {
                format!("{prefix} {name}")
            }
        };
        for h in &part.headers {
            let name = h.name.as_str();
            if SKIP_HEADERS.iter().any(|s| name.eq_ignore_ascii_case(s)) {
                continue;
            }
            let text = match &h.value {
                HeaderValue::Text(t) => t.to_string(),
                HeaderValue::TextList(list) => list.join(", "),
                HeaderValue::Address(a) => {
                    // Display names only: the addresses themselves are not text.
                    let names: Vec<&str> = a.iter().filter_map(|x| x.name()).collect();
                    names.join(", ")
                }
                _ => continue,
            };
            if !text.trim().is_empty() {
                let hn = if matches!(h.name, HeaderName::Subject) {
                    "Subject".to_string()
                } else {
                    name.to_string()
                };
                self.push(Source::Header(label(&hn)), text);
            }
        }
    }

    fn cap<'t>(&self, text: &'t str) -> &'t str {
        if text.len() <= self.limits.max_part_text {
            return text;
        }
        let mut end = self.limits.max_part_text;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        &text[..end]
    }

    fn push(&mut self, source: Source, text: String) {
        self.out.segments.push(Segment { source, text });
    }
}

fn content_type(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("")).to_ascii_lowercase(),
        None => "text/plain".into(),
    }
}

fn extension(filename: Option<&str>) -> String {
    filename
        .and_then(|f| f.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default()
}

fn is_table(ctype: &str, filename: Option<&str>) -> bool {
    matches!(
        ctype,
        "text/csv"
            | "text/tab-separated-values"
            | "application/csv"
            | "text/comma-separated-values"
    ) || matches!(extension(filename).as_str(), "csv" | "tsv")
}

/// File extensions of images, sound and video: not read, not a failure.
fn is_media_ext(ext: &str) -> bool {
    matches!(
        ext,
        "png"
            | "jpg"
            | "jpeg"
            | "gif"
            | "bmp"
            | "webp"
            | "svg"
            | "ico"
            | "heic"
            | "mp3"
            | "wav"
            | "m4a"
            | "mp4"
            | "mov"
            | "avi"
            | "ttf"
            | "otf"
            | "woff"
            | "woff2"
    )
}

fn is_text_like(ctype: &str, filename: Option<&str>) -> bool {
    ctype.starts_with("text/")
        || matches!(
            ctype,
            "application/json"
                | "application/xml"
                | "application/csv"
                | "application/x-hl7"
                | "application/hl7-v2"
                | "application/ics"
                | "application/x-yaml"
                | "application/yaml"
        )
        || ctype.ends_with("+xml")
        || ctype.ends_with("+json")
        || matches!(
            extension(filename).as_str(),
            "txt"
                | "csv"
                | "tsv"
                | "json"
                | "xml"
                | "ics"
                | "vcs"
                | "hl7"
                | "log"
                | "md"
                | "htm"
                | "html"
                | "yaml"
                | "yml"
        )
}

#[cfg(test)]
mod tests;
