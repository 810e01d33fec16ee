//! The header every message the gateway writes carries, with Stalwart's
//! `mail-builder` (it encodes headers and picks each part's transfer
//! encoding, so no message here is MIME written by hand).

use mail_builder::MessageBuilder;
use mail_builder::headers::raw::Raw;

/// A message from the mail system at `hostname` to `to`: From, To,
/// Subject, Date, Message-ID `<{local}@{hostname}>`, and
/// `Auto-Submitted: auto-replied` (RFC 3834: nothing answers it).
pub fn from_mail_system<'x>(
    hostname: &'x str,
    to: &'x str,
    subject: &'x str,
    local: String,
    now: u64,
) -> MessageBuilder<'x> {
    MessageBuilder::new()
        .from((
            "Mail Delivery System".to_string(),
            format!("MAILER-DAEMON@{hostname}"),
        ))
        .to(to)
        .subject(subject)
        .date(now)
        .message_id(format!("{local}@{hostname}"))
        .header("Auto-Submitted", Raw::new("auto-replied"))
}

/// The message's bytes (CRLF lines).
pub fn write(message: MessageBuilder<'_>) -> Vec<u8> {
    message
        .write_to_vec()
        .expect("writing a message into memory cannot fail")
}
