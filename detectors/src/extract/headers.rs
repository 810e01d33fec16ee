//! A header block: every header value becomes text to scan, and the MIME
//! headers say how to read the body.
//!
//! Every header leaves the gateway, so every header is scanned: free text
//! (Subject, Comments, `X-` headers, anything unknown) with every detector;
//! machinery whose words a person did not write (Received, Date, message
//! ids, signatures, addresses) with the identifier detectors only, since
//! their dates and host names next to each other mean nothing. Bytes in the
//! block that no header claims are scanned too.

use std::borrow::Cow;

use mail_parser::{HeaderValue, MessageParser, parsers::MessageStream};

use super::{Profile, Sink, Source};

/// What the MIME headers say about the body.
#[derive(Debug, Default, Clone)]
pub struct Mime {
    /// `type/subtype`, lower case; `None` when absent or unreadable.
    pub content_type: Option<String>,
    /// `charset` parameter.
    pub charset: Option<String>,
    /// `format=flowed` (RFC 3676): soft line breaks to unwrap.
    pub flowed: bool,
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

/// Header names as mail usually writes them, so that a segment's label
/// need not be allocated for each.
const COMMON: &[&str] = &[
    "From",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "Message-Id",
    "Received",
    "Return-Path",
    "Reply-To",
    "Sender",
    "MIME-Version",
    "Mime-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Disposition",
    "Content-ID",
    "In-Reply-To",
    "References",
    "DKIM-Signature",
    "Authentication-Results",
    "X-Mailer",
    "User-Agent",
    "Thread-Topic",
    "Thread-Index",
    "Importance",
    "X-Priority",
    "mbox-from",
    "unparsed header",
];

/// Address headers: display names are words, addresses identifiers.
const ADDRESS: &[&str] = &[
    "from",
    "to",
    "cc",
    "bcc",
    "reply-to",
    "sender",
    "resent-from",
    "resent-to",
    "resent-cc",
    "resent-bcc",
    "resent-sender",
    "disposition-notification-to",
    "return-receipt-to",
    "mail-followup-to",
    "mail-reply-to",
];

fn is_one_of(name: &str, list: &[&str]) -> bool {
    list.iter().any(|n| n.eq_ignore_ascii_case(name))
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
///
/// The block is split into fields here (a field continues on lines that
/// start with a blank); mail-parser decodes the values that need it:
/// content types and their RFC 2231 parameters, address lists, and free
/// text with RFC 2047 encoded words. Machinery (trace, date and id
/// headers) is taken as written. A line that is not a field is scanned as
/// text too: nothing in a header block goes unread.
pub fn read(_parser: &MessageParser, block: &[u8], prefix: &str, sink: &mut Sink<'_>) -> Mime {
    let label = |name: &str| -> Cow<'static, str> {
        if prefix.is_empty() {
            match COMMON.iter().find(|c| **c == name) {
                Some(c) => Cow::Borrowed(*c),
                None => Cow::Owned(name.to_string()),
            }
        } else {
            Cow::Owned(format!("{prefix} {name}"))
        }
    };
    let mut mime = Mime::default();
    let mut block = block;
    // An mbox `From ` line before the headers is not a header.
    if block.starts_with(b"From ") {
        let end = memchr::memchr(b'\n', block).map_or(block.len(), |i| i + 1);
        let line = super::decode::lossy(&block[..end]);
        sink.push(
            Source::Header(label("mbox-from")),
            &line,
            Profile::Identifiers,
        );
        block = &block[end..];
    }
    for field in Fields(block) {
        let Some(colon) = memchr::memchr(b':', field) else {
            sink.unclaimed(field, &label("unparsed header"));
            continue;
        };
        let name_bytes = &field[..colon];
        let valid_name = !name_bytes.is_empty()
            && name_bytes.len() <= 76
            && name_bytes.iter().all(|&b| b.is_ascii_graphic());
        if !valid_name {
            sink.unclaimed(field, &label("unparsed header"));
            continue;
        }
        let name = std::str::from_utf8(name_bytes).expect("ASCII");
        let value = &field[colon + 1..];
        let text = || super::decode::lossy(value);
        if name.eq_ignore_ascii_case("content-type") {
            let ct = MessageStream::new(value).parse_content_type();
            if let HeaderValue::ContentType(ct) = &ct {
                mime.content_type = Some(
                    format!("{}/{}", ct.c_type, ct.c_subtype.as_deref().unwrap_or(""))
                        .to_ascii_lowercase(),
                );
            }
            let other = parameters(&ct, &mut mime, false);
            sink.push_text(Source::Header(label(name)), &other, Profile::Full);
        } else if name.eq_ignore_ascii_case("content-disposition") {
            let ct = MessageStream::new(value).parse_content_type();
            let other = parameters(&ct, &mut mime, true);
            sink.push_text(Source::Header(label(name)), &other, Profile::Full);
        } else if name.eq_ignore_ascii_case("content-transfer-encoding") {
            mime.transfer_encoding = Some(text().trim().to_string());
            sink.push_text(Source::Header(label(name)), &text(), Profile::Identifiers);
        } else if is_one_of(name, ADDRESS) {
            let parsed = MessageStream::new(value).parse_address();
            let mut names = String::new();
            let mut addrs = String::new();
            if let HeaderValue::Address(a) = &parsed {
                for addr in a.iter() {
                    if let Some(n) = addr.name.as_deref() {
                        names.push_str(n);
                        names.push_str(", ");
                    }
                    if let Some(x) = addr.address.as_deref() {
                        addrs.push_str(x);
                        addrs.push_str(", ");
                    }
                }
                if let mail_parser::Address::Group(groups) = a {
                    for g in groups {
                        if let Some(n) = g.name.as_deref() {
                            names.push_str(n);
                            names.push_str(", ");
                        }
                    }
                }
            } else {
                names = text().into_owned();
            }
            // Display names are words a person wrote; addresses are identifiers.
            sink.push_text(Source::Header(label(name)), &names, Profile::Full);
            sink.push_text(Source::Header(label(name)), &addrs, Profile::Identifiers);
        } else if structured(name) {
            let t = text();
            let t = if name.to_ascii_lowercase().contains("signature")
                || name.eq_ignore_ascii_case("arc-seal")
            {
                strip_signature_values(&t).into()
            } else {
                t
            };
            sink.push_text(Source::Header(label(name)), &t, Profile::Identifiers);
        } else {
            // Free text, RFC 2047 decoded when it has encoded words.
            let shown = if name.eq_ignore_ascii_case("subject") {
                "Subject"
            } else {
                name
            };
            if memchr::memmem::find(value, b"=?").is_some() {
                match MessageStream::new(value).parse_unstructured() {
                    HeaderValue::Text(t) => {
                        sink.push_text(Source::Header(label(shown)), &t, Profile::Full)
                    }
                    _ => sink.push_text(Source::Header(label(shown)), &text(), Profile::Full),
                }
            } else {
                sink.push_text(Source::Header(label(shown)), &text(), Profile::Full);
            }
        }
    }
    mime
}

/// A content type's (or disposition's) parameters: charset, boundary and
/// file name go to `mime`; the others come back as text to scan.
fn parameters(v: &HeaderValue<'_>, mime: &mut Mime, disposition: bool) -> String {
    let mut other = String::new();
    let HeaderValue::ContentType(ct) = v else {
        return other;
    };
    for a in ct.attributes.iter().flatten() {
        let n = a.name.as_ref();
        if n.eq_ignore_ascii_case("charset") && !disposition {
            mime.charset = Some(a.value.to_string());
        } else if n.eq_ignore_ascii_case("format")
            && !disposition
            && a.value.eq_ignore_ascii_case("flowed")
        {
            mime.flowed = true;
        } else if n.eq_ignore_ascii_case("boundary") && !disposition {
            mime.boundary = Some(a.value.to_string());
        } else if n.eq_ignore_ascii_case("name") && !disposition {
            mime.filename.get_or_insert_with(|| a.value.to_string());
        } else if n.eq_ignore_ascii_case("filename") && disposition {
            mime.filename = Some(a.value.to_string());
        } else {
            other.push_str(n);
            other.push_str(": ");
            other.push_str(&a.value);
            other.push('\n');
        }
    }
    other
}

/// The fields of a header block: each a name, a colon and a value running
/// over continuation lines (those that start with a blank), line breaks
/// included; a line without a colon comes as it is.
struct Fields<'a>(&'a [u8]);

impl<'a> Iterator for Fields<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let b = self.0;
        if b.is_empty() {
            return None;
        }
        let mut end = 0;
        loop {
            match memchr::memchr(b'\n', &b[end..]) {
                Some(nl) => {
                    end += nl + 1;
                    if !matches!(b.get(end), Some(b' ' | b'\t')) {
                        break;
                    }
                }
                None => {
                    end = b.len();
                    break;
                }
            }
        }
        self.0 = &b[end..];
        Some(&b[..end])
    }
}
