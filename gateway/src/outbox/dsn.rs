//! Delivery status notifications (RFC 3464) for recipients that failed for
//! good. The report names the recipients and the reasons; it never quotes
//! the original message or its headers, which may carry PHI.

use mail_builder::headers::content_type::ContentType;
use mail_builder::mime::{BodyPart, MimePart};

use super::compose;
use crate::date::rfc5322_date;
use crate::smtp::status::Failure;
use crate::spool::{Envelope, QueueId};

/// One failed recipient and why.
pub struct Failed<'a> {
    /// The recipient address.
    pub rcpt: &'a str,
    /// The reason in our words (never the remote server's text).
    pub reason: &'a str,
    /// Stage, class and codes; `None` for records kept before they were.
    pub why: Option<&'a Failure>,
}

/// The text used when policy kept a PHI message from an unverified server.
pub const TLS_POLICY_REASON: &str = "the recipient's server does not offer verified TLS; \
the message was not sent, to protect health information";

/// The DSN's `Status:` for a failed recipient (RFC 3463 class 5).
fn dsn_status(f: &Failed<'_>) -> String {
    match f.why {
        Some(w) if w.permanent() => w.status.clone(),
        Some(w) => w.clone().expired().status,
        None => status_of(f.reason),
    }
}

/// Enhanced status code found in an old record's reason, or a generic one.
fn status_of(reason: &str) -> String {
    reason
        .split_whitespace()
        .filter_map(crate::smtp::status::enhanced)
        .find(|s| s.starts_with('5'))
        .map(str::to_string)
        .unwrap_or_else(|| {
            if reason.contains("TLS") {
                "5.7.0".into()
            } else {
                "5.0.0".into()
            }
        })
}

/// Builds the DSN message (CRLF line endings) for `original`.
pub fn build(
    hostname: &str,
    original: &Envelope,
    failed: &[Failed<'_>],
    id: QueueId,
    now: u64,
) -> Vec<u8> {
    let mut human = String::new();
    for f in failed {
        human.push_str(&wrap(&format!("<{}>: {}", f.rcpt, single_line(f.reason))));
    }
    let mut status = format!(
        "Reporting-MTA: dns; {hostname}\r\nX-Phigate-Queue-ID: {}\r\nArrival-Date: {}\r\n",
        original.id,
        rfc5322_date(original.received_at)
    );
    for f in failed {
        status.push_str(&format!(
            "\r\nFinal-Recipient: rfc822; {}\r\nAction: failed\r\nStatus: {}\r\n",
            f.rcpt,
            dsn_status(f),
        ));
        // The server's code and status code, never its text (it can quote
        // the message back); our own failures have no diagnostic code.
        if let Some(w) = f.why
            && let Some(code) = w.code
        {
            status.push_str(&format!(
                "Diagnostic-Code: smtp; {code} {} ({})\r\n",
                w.status,
                w.class.describe()
            ));
        }
    }
    let text = format!(
        "This is the mail system at {hostname}.\r\n\
         \r\n\
         Your message (queue ID {orig},\r\n\
         received {recv})\r\n\
         could not be delivered to the recipients below. It is not attached, to\r\n\
         keep any health information it holds from travelling again.\r\n\
         \r\n\
         {human}",
        orig = original.id,
        recv = rfc5322_date(original.received_at),
    );
    // RFC 3464: multipart/report, the human part, then the machine part
    // (7bit, as written: it is ASCII by construction).
    let report = MimePart::new(
        ContentType::new("multipart/report").attribute("report-type", "delivery-status"),
        vec![
            MimePart::new("text/plain", text),
            MimePart::new(
                ContentType::new("message/delivery-status"),
                BodyPart::Binary(status.into_bytes().into()),
            )
            .transfer_encoding("7bit"),
        ],
    );
    let message = compose::from_mail_system(
        hostname,
        &original.mail_from,
        "Undelivered Mail Returned to Sender",
        format!("{id}.dsn"),
        now,
    )
    .body(report);
    compose::write(message)
}

/// `line` broken at spaces into lines of at most 76 characters (the next
/// ones indented), so the human part stays 7bit and readable as sent.
fn wrap(line: &str) -> String {
    let mut out = String::new();
    let mut current = String::new();
    for word in line.split(' ') {
        if !current.trim().is_empty() && current.len() + 1 + word.len() > 76 {
            out.push_str(current.trim_end());
            out.push_str("\r\n");
            current = "    ".to_string();
        } else if !current.is_empty() && !current.ends_with(' ') {
            current.push(' ');
        }
        current.push_str(word);
    }
    out.push_str(current.trim_end());
    out.push_str("\r\n");
    out
}

fn single_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_shape() {
        let env = Envelope {
            id: QueueId::from_u64(0xAB),
            received_at: 0,
            client_ip: "127.0.0.1".parse().unwrap(),
            helo: "c".into(),
            mail_from: "desk@clinic.example".into(),
            rcpt_to: vec!["x@payer.example".into()],
            body_type: Default::default(),
            smtputf8: false,
            requiretls: false,
            tls_optional: false,
            tls: None,
            auth_user: None,
            size: 1,
            phi: Some(true),
            categories: Vec::new(),
            decisions: Vec::new(),
        };
        let dsn = String::from_utf8(build(
            "gw.example",
            &env,
            &[Failed {
                rcpt: "x@payer.example",
                reason: TLS_POLICY_REASON,
                why: None,
            }],
            QueueId::from_u64(0xCD),
            0,
        ))
        .unwrap();
        assert!(
            dsn.contains("Content-Type: multipart/report; report-type=\"delivery-status\""),
            "{dsn}"
        );
        // The human part stays 7bit: every line fits.
        assert!(!dsn.contains("quoted-printable"), "{dsn}");
        assert!(dsn.lines().all(|l| l.len() <= 78), "{dsn}");
        assert!(dsn.contains(
            "Final-Recipient: rfc822; x@payer.example\r\nAction: failed\r\nStatus: 5.7.0"
        ));
        assert!(dsn.contains("does not offer verified TLS"));
        assert!(dsn.contains("To: <desk@clinic.example>"));
        assert_eq!(status_of("550 5.1.1 no such user"), "5.1.1");
    }
}
