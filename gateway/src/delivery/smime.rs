//! S/MIME encryption (RFC 8551) of a whole message to its recipients'
//! certificates: the message as it would have left (headers and body) is
//! the encrypted content; outside are only the headers delivery and the
//! recipient's mail client need (trace, From, Date, Message-ID, the
//! recipients' bare addresses) and a neutral Subject, so neither the
//! subject nor a display name carrying a patient's name is left in clear.
//!
//! CMS EnvelopedData with AES-256-CBC content encryption and RSA
//! (PKCS#1 v1.5) key transport: what every S/MIME client reads. The
//! RustCrypto `cms` builder does the CMS; the content key is made and
//! wiped by it.

use base64::Engine as _;
use cms::builder::{
    ContentEncryptionAlgorithm, EnvelopedDataBuilder, KeyEncryptionInfo,
    KeyTransRecipientInfoBuilder,
};
use cms::cert::IssuerAndSerialNumber;
use cms::content_info::ContentInfo;
use cms::enveloped_data::RecipientIdentifier;
use rsa::pkcs8::DecodePublicKey as _;
use x509_cert::der::{Any, Decode, Encode};

use super::certs::RecipientCert;

/// The content encryption, for the audit record.
pub const CIPHER: &str = "aes256-cbc rsa";

/// Why a message could not be encrypted (a certificate the store took but
/// CMS could not use: never expected, and never a reason to send in clear).
#[derive(Debug, thiserror::Error)]
#[error("S/MIME encryption failed: {0}")]
pub struct SmimeError(String);

fn err(e: impl std::fmt::Display) -> SmimeError {
    SmimeError(e.to_string())
}

/// `message` (CRLF lines) encrypted to every certificate in `certs`, as an
/// `application/pkcs7-mime; smime-type=enveloped-data` message addressed to
/// `rcpts` with `subject` outside.
pub fn encrypt(
    message: &[u8],
    certs: &[&RecipientCert],
    rcpts: &[String],
    subject: &str,
) -> Result<Vec<u8>, SmimeError> {
    let der = enveloped(message, certs)?;
    let mut out = Vec::with_capacity(der.len() * 4 / 3 + 1024);
    let (head, _) = split_head(message);
    for (name, raw) in header_fields(head) {
        if OUTER.iter().any(|o| o.eq_ignore_ascii_case(name)) {
            out.extend_from_slice(raw);
        }
    }
    out.extend_from_slice(format!("To: {}\r\n", rcpts.join(", ")).as_bytes());
    out.extend_from_slice(format!("Subject: {subject}\r\n").as_bytes());
    out.extend_from_slice(
        b"MIME-Version: 1.0\r\n\
          Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=\"smime.p7m\"\r\n\
          Content-Transfer-Encoding: base64\r\n\
          Content-Disposition: attachment; filename=\"smime.p7m\"\r\n\
          Content-Description: S/MIME Encrypted Message\r\n\r\n",
    );
    let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
    for chunk in b64.as_bytes().chunks(76) {
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    Ok(out)
}

/// Headers copied outside: trace (hop counting and loop detection need
/// them), the author, the date and the identifiers that thread a reply.
/// Not Subject, To or Cc (their display names can name a patient): the
/// outer To lists the recipients' bare addresses.
const OUTER: &[&str] = &[
    "Received",
    "Return-Path",
    "From",
    "Sender",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "DKIM-Signature",
];

/// The CMS ContentInfo (EnvelopedData), DER.
fn enveloped(content: &[u8], certs: &[&RecipientCert]) -> Result<Vec<u8>, SmimeError> {
    let mut rng = rand_core::OsRng;
    let mut rngs: Vec<rand_core::OsRng> = certs.iter().map(|_| rand_core::OsRng).collect();
    let mut builder =
        EnvelopedDataBuilder::new(None, content, ContentEncryptionAlgorithm::Aes256Cbc, None)
            .map_err(err)?;
    for (cert, rng) in certs.iter().zip(rngs.iter_mut()) {
        let parsed = x509_cert::Certificate::from_der(&cert.der).map_err(err)?;
        let spki = parsed
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(err)?;
        let key = rsa::RsaPublicKey::from_public_key_der(&spki).map_err(err)?;
        let rid = RecipientIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: parsed.tbs_certificate.issuer.clone(),
            serial_number: parsed.tbs_certificate.serial_number.clone(),
        });
        let info = KeyTransRecipientInfoBuilder::new(rid, KeyEncryptionInfo::Rsa(key), rng)
            .map_err(err)?;
        builder.add_recipient_info(info).map_err(err)?;
    }
    let data = builder.build_with_rng(&mut rng).map_err(err)?;
    let info = ContentInfo {
        content_type: x509_cert::der::oid::db::rfc5911::ID_ENVELOPED_DATA,
        content: Any::encode_from(&data).map_err(err)?,
    };
    info.to_der().map_err(err)
}

/// The header block (with its final CRLF) and the body.
fn split_head(message: &[u8]) -> (&[u8], &[u8]) {
    let end = memchr::memmem::find(message, b"\r\n\r\n").map_or(message.len(), |i| i + 2);
    let (head, rest) = message.split_at(end);
    (head, rest.strip_prefix(b"\r\n").unwrap_or(rest))
}

/// Each header field: its name and its raw lines (folding kept).
fn header_fields(head: &[u8]) -> Vec<(&str, &[u8])> {
    let mut out: Vec<(&str, &[u8])> = Vec::new();
    let mut start = None;
    let mut pos = 0;
    for line in head.split_inclusive(|&b| b == b'\n') {
        let folded = line.first().is_some_and(|&b| b == b' ' || b == b'\t');
        if !folded {
            if let Some(s) = start {
                push_field(&mut out, &head[s..pos]);
            }
            start = Some(pos);
        }
        pos += line.len();
    }
    if let Some(s) = start {
        push_field(&mut out, &head[s..pos]);
    }
    out
}

fn push_field<'a>(out: &mut Vec<(&'a str, &'a [u8])>, raw: &'a [u8]) {
    let Some(colon) = raw.iter().position(|&b| b == b':') else {
        return;
    };
    if let Ok(name) = std::str::from_utf8(&raw[..colon]) {
        out.push((name.trim(), raw));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_keep_folding_and_skip_junk() {
        let head =
            b"Received: from a\r\n\tby b\r\nSubject: x\r\nnot a header\r\nFrom: c@d.example\r\n";
        let f = header_fields(head);
        let names: Vec<&str> = f.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["Received", "Subject", "From"]);
        assert_eq!(f[0].1, b"Received: from a\r\n\tby b\r\n");
    }
}
