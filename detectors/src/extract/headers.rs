//! A header block: every header value becomes text to scan, and the MIME
//! headers say how to read the body.
//!
//! Every header leaves the gateway, so every header is scanned: free text
//! (Subject, Comments, `X-` headers, anything unknown) with every detector;
//! machinery whose words a person did not write (Received, Date, message
//! ids, signatures, addresses) with the identifier detectors only, since
//! their dates and host names next to each other mean nothing. Bytes in the
//! block that no header claims are scanned too.

use mail_parser::{HeaderName, HeaderValue, MessageParser, parsers::MessageStream};

use super::{Profile, Sink, Source};

/// What the MIME headers say about the body.
#[derive(Debug, Default, Clone)]
pub struct Mime {
    /// `type/subtype`, lower case; `None` when absent or unreadable.
    pub content_type: Option<String>,
    /// `charset` parameter.
    pub charset: Option<String>,
    /// `boundary` parameter.
    pub boundary: Option<String>,
    /// `Content-Transfer-Encoding`.
    pub transfer_encoding: Option<String>,
    /// File name from `Content-Disposition` (`filename`) or `Content-Type`
    /// (`name`), RFC 2231 and RFC 2047 decoded.
    pub filename: Option<String>,
}

/// The parser set up for header blocks: MIME and address headers parsed,
/// every other header decoded as text (RFC 2047). Build once, share.
pub fn parser() -> MessageParser {
    MessageParser::new()
        .with_mime_headers()
        .with_address_headers()
        .default_header_text()
}

/// Headers whose words are machinery: identifiers only.
fn structured(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "received",
        "date",
        "resent-date",
        "message-id",
        "resent-message-id",
        "in-reply-to",
        "references",
        "return-path",
        "content-id",
        "content-transfer-encoding",
        "mime-version",
        "dkim-signature",
        "x-google-dkim-signature",
        "arc-seal",
        "arc-message-signature",
        "arc-authentication-results",
        "authentication-results",
        "received-spf",
        "x-received",
        "delivered-to",
        "x-original-to",
        "list-id",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "list-archive",
        "list-help",
        "list-owner",
        "list-post",
        "list-subscribe",
        "feedback-id",
        "x-ms-exchange-organization-authas",
        "x-gm-message-state",
        "x-ms-traffictypediagnostic",
        "x-ms-office365-filtering-correlation-id",
    ];
    NAMES.iter().any(|n| name.eq_ignore_ascii_case(n))
}

/// Signature headers carry long base64 values (`b=`, `bh=`) that are
/// neither words nor identifiers: they are left out of the text.
fn strip_signature_values(text: &str) -> String {
    text.split(';')
        .filter(|tag| {
            let t = tag.trim_start();
            !(t.starts_with("b=") || t.starts_with("bh="))
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// Reads a header block (of the message, a part, or a nested message),
/// pushes its texts into `sink` labelled with `prefix` (the nested part's
/// path, or empty), and returns what the MIME headers say.
pub fn read(parser: &MessageParser, block: &[u8], prefix: &str, sink: &mut Sink<'_>) -> Mime {
    let label = |name: &str| {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix} {name}")
        }
    };
    let mut mime = Mime::default();
    let mut block = block;
    // An mbox `From ` line before the headers is not a header.
    if block.starts_with(b"From ") {
        let end = memchr::memchr(b'\n', block).map_or(block.len(), |i| i + 1);
        let line = String::from_utf8_lossy(&block[..end]).into_owned();
        sink.push(
            Source::Header(label("mbox-from")),
            line,
            Profile::Identifiers,
        );
        block = &block[end..];
    }
    let mut stream = MessageStream::new(block);
    let mut headers = Vec::new();
    stream.parse_headers(parser, &mut headers);
    // Bytes no header claimed (a line without a colon, an unparsed tail).
    let mut covered = 0usize;
    for h in &headers {
        let (field, end) = (h.offset_field as usize, h.offset_end as usize);
        if field > covered {
            sink.unclaimed(
                &block[covered..field.min(block.len())],
                &label("unparsed header"),
            );
        }
        covered = covered.max(end.min(block.len()));
    }
    if covered < block.len() {
        sink.unclaimed(&block[covered..], &label("unparsed header"));
    }
    for h in &headers {
        let name = h.name.as_str();
        let raw = || {
            let s = (h.offset_start as usize).min(block.len());
            let e = (h.offset_end as usize).clamp(s, block.len());
            unfold(&String::from_utf8_lossy(&block[s..e]))
        };
        match (&h.name, &h.value) {
            (HeaderName::ContentType, HeaderValue::ContentType(ct)) => {
                mime.content_type = Some(
                    format!("{}/{}", ct.c_type, ct.c_subtype.as_deref().unwrap_or(""))
                        .to_ascii_lowercase(),
                );
                let mut other = String::new();
                for a in ct.attributes.iter().flatten() {
                    match a.name.to_ascii_lowercase().as_str() {
                        "charset" => mime.charset = Some(a.value.to_string()),
                        "boundary" => mime.boundary = Some(a.value.to_string()),
                        "name" => {
                            mime.filename.get_or_insert_with(|| a.value.to_string());
                        }
                        _ => other.push_str(&format!("{}: {}\n", a.name, a.value)),
                    }
                }
                sink.push_text(Source::Header(label(name)), other, Profile::Full);
            }
            (HeaderName::ContentDisposition, HeaderValue::ContentType(ct)) => {
                let mut other = String::new();
                for a in ct.attributes.iter().flatten() {
                    if a.name.eq_ignore_ascii_case("filename") {
                        mime.filename = Some(a.value.to_string());
                    } else {
                        other.push_str(&format!("{}: {}\n", a.name, a.value));
                    }
                }
                sink.push_text(Source::Header(label(name)), other, Profile::Full);
            }
            (HeaderName::ContentTransferEncoding, v) => {
                mime.transfer_encoding = v.as_text().map(|t| t.trim().to_string());
                sink.push_text(Source::Header(label(name)), raw(), Profile::Identifiers);
            }
            (_, HeaderValue::Address(a)) => {
                let mut names = Vec::new();
                let mut addrs = Vec::new();
                for addr in a.iter() {
                    if let Some(n) = addr.name.as_deref() {
                        names.push(n.to_string());
                    }
                    if let Some(x) = addr.address.as_deref() {
                        addrs.push(x.to_string());
                    }
                }
                if let mail_parser::Address::Group(groups) = a {
                    names.extend(
                        groups
                            .iter()
                            .filter_map(|g| g.name.as_deref())
                            .map(str::to_string),
                    );
                }
                // Display names are words a person wrote; addresses are identifiers.
                sink.push_text(Source::Header(label(name)), names.join(", "), Profile::Full);
                sink.push_text(
                    Source::Header(label(name)),
                    addrs.join(", "),
                    Profile::Identifiers,
                );
            }
            _ if structured(name) => {
                let text = if name.to_ascii_lowercase().contains("signature")
                    || name.eq_ignore_ascii_case("arc-seal")
                {
                    strip_signature_values(&raw())
                } else {
                    raw()
                };
                sink.push_text(Source::Header(label(name)), text, Profile::Identifiers);
            }
            (_, HeaderValue::Text(t)) => {
                let shown = if matches!(h.name, HeaderName::Subject) {
                    "Subject"
                } else {
                    name
                };
                sink.push_text(Source::Header(label(shown)), t.to_string(), Profile::Full);
            }
            (_, HeaderValue::TextList(list)) => {
                sink.push_text(Source::Header(label(name)), list.join(", "), Profile::Full);
            }
            // Anything the parser turned into a structure we do not read
            // (a date, a Received trace, ids): the raw value.
            _ => {
                sink.push_text(Source::Header(label(name)), raw(), Profile::Identifiers);
            }
        }
    }
    mime
}

/// A folded header value on one line.
fn unfold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, line) in s.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if i > 0 {
            out.push(' ');
        }
        out.push_str(line.trim());
    }
    out.trim().to_string()
}
