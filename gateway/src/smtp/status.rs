//! Why a delivery did not happen, in terms an operator can act on: the
//! stage it failed at (DNS, connect, TLS, a command, our own policy), the
//! reply code and enhanced status code (RFC 3463), and a reason class.
//!
//! The remote server's words are never kept: a reply can quote an address
//! or the message back. The class and the codes carry the meaning, so one
//! [`Failure`] can go into the spool, the audit log, a log line, `queue
//! list` and a DSN alike.

use serde::{Deserialize, Serialize};

/// Where in delivery a failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Finding the next hop (MX, address records, the static table).
    Dns,
    /// Opening the TCP connection.
    Connect,
    /// The server's greeting, EHLO or HELO.
    Greeting,
    /// STARTTLS and the handshake.
    Tls,
    /// AUTH to a smarthost.
    Auth,
    /// `MAIL FROM`.
    Mail,
    /// `RCPT TO`.
    Rcpt,
    /// `DATA`, the message, and the reply after it.
    Data,
    /// Our own decision (the TLS floor for PHI, a loop, a route).
    Policy,
}

impl Stage {
    /// The word used in records.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Dns => "dns",
            Stage::Connect => "connect",
            Stage::Greeting => "greeting",
            Stage::Tls => "tls",
            Stage::Auth => "auth",
            Stage::Mail => "mail",
            Stage::Rcpt => "rcpt",
            Stage::Data => "data",
            Stage::Policy => "policy",
        }
    }

    /// The stage a command belongs to, by its verb.
    pub fn of_command(line: &str) -> Stage {
        let verb = line.split(' ').next().unwrap_or("");
        match verb.to_ascii_uppercase().as_str() {
            "MAIL" => Stage::Mail,
            "RCPT" => Stage::Rcpt,
            "DATA" | "BDAT" => Stage::Data,
            "STARTTLS" => Stage::Tls,
            "AUTH" => Stage::Auth,
            _ => Stage::Greeting,
        }
    }
}

/// What kind of failure, in a word an operator can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// The recipient's domain does not exist (NXDOMAIN, or the server says so).
    NoSuchDomain,
    /// The domain publishes a null MX (RFC 7505): it accepts no mail.
    NullMx,
    /// A DNS query failed (server failure, timeout).
    DnsFailure,
    /// Nothing to route by: static DNS mode and no table entry.
    NoRoute,
    /// The next hop refused the TCP connection.
    ConnectionRefused,
    /// The TCP connection timed out.
    ConnectTimeout,
    /// The network or host is unreachable.
    Unreachable,
    /// The connection broke in the middle of the conversation.
    ConnectionLost,
    /// The server did not answer within the command timeout.
    Timeout,
    /// The server's greeting was not 220, or it answered 421.
    ServerUnavailable,
    /// The server's reply was malformed or too long.
    ProtocolError,
    /// Policy required TLS and the server did not offer STARTTLS.
    TlsNotOffered,
    /// The TLS handshake failed.
    TlsFailed,
    /// The certificate is not valid for the next hop's name.
    CertNameMismatch,
    /// The certificate does not chain to a trusted root.
    CertUntrusted,
    /// The certificate has expired or is not valid yet.
    CertExpired,
    /// The certificate did not verify for another reason.
    CertInvalid,
    /// The MX host is not one the domain's MTA-STS policy (enforce) lists.
    MtaStsUnlisted,
    /// Level `mta-sts` and the domain publishes no policy in enforce mode.
    MtaStsMissing,
    /// DNSSEC validation of the MX or TLSA answer failed (bogus).
    DnssecBogus,
    /// The certificate matched none of the host's TLSA records (DANE).
    DaneMismatch,
    /// Level `dane` and no DNSSEC-secure TLSA records for the host.
    DaneMissing,
    /// REQUIRETLS (RFC 8689) and the next hop is not authenticated or does
    /// not offer REQUIRETLS itself.
    RequiretlsUnsupported,
    /// The smarthost refused our credentials.
    AuthFailed,
    /// The mailbox does not exist (x.1.1).
    MailboxUnknown,
    /// The mailbox is full (x.2.2).
    MailboxFull,
    /// The message is larger than the server takes (x.3.4, 552).
    MessageTooLarge,
    /// The message needs SMTPUTF8 and the server does not offer it.
    Smtputf8Unsupported,
    /// The server refused for policy reasons (x.7.x).
    RemotePolicy,
    /// The next hop is this gateway, or the server reports a loop (x.4.6).
    MailLoop,
    /// S/MIME encryption to the recipient's certificate failed (x.7.5).
    SmimeFailed,
    /// A policy rule quarantined the recipient.
    Quarantined,
    /// Refused for good with no more specific reason.
    Rejected,
    /// A temporary failure with no more specific reason.
    Deferred,
}

impl Class {
    /// The word used in records (`no_such_domain`).
    pub fn as_str(self) -> &'static str {
        match self {
            Class::NoSuchDomain => "no_such_domain",
            Class::NullMx => "null_mx",
            Class::DnsFailure => "dns_failure",
            Class::NoRoute => "no_route",
            Class::ConnectionRefused => "connection_refused",
            Class::ConnectTimeout => "connect_timeout",
            Class::Unreachable => "unreachable",
            Class::ConnectionLost => "connection_lost",
            Class::Timeout => "timeout",
            Class::ServerUnavailable => "server_unavailable",
            Class::ProtocolError => "protocol_error",
            Class::TlsNotOffered => "tls_not_offered",
            Class::TlsFailed => "tls_failed",
            Class::CertNameMismatch => "cert_name_mismatch",
            Class::CertUntrusted => "cert_untrusted",
            Class::CertExpired => "cert_expired",
            Class::CertInvalid => "cert_invalid",
            Class::MtaStsUnlisted => "mta_sts_unlisted",
            Class::MtaStsMissing => "mta_sts_missing",
            Class::RequiretlsUnsupported => "requiretls_unsupported",
            Class::DnssecBogus => "dnssec_bogus",
            Class::DaneMismatch => "dane_mismatch",
            Class::DaneMissing => "dane_missing",
            Class::AuthFailed => "auth_failed",
            Class::MailboxUnknown => "mailbox_unknown",
            Class::MailboxFull => "mailbox_full",
            Class::MessageTooLarge => "message_too_large",
            Class::Smtputf8Unsupported => "smtputf8_unsupported",
            Class::RemotePolicy => "remote_policy",
            Class::MailLoop => "mail_loop",
            Class::SmimeFailed => "smime_failed",
            Class::Quarantined => "quarantined",
            Class::Rejected => "rejected",
            Class::Deferred => "deferred",
        }
    }

    /// The same in words, for people (log lines, DSNs, `queue list`).
    pub fn describe(self) -> &'static str {
        match self {
            Class::NoSuchDomain => "no such domain",
            Class::NullMx => "the domain accepts no mail (null MX)",
            Class::DnsFailure => "DNS lookup failed",
            Class::NoRoute => "no route (static DNS table has no entry)",
            Class::ConnectionRefused => "connection refused",
            Class::ConnectTimeout => "connection timed out",
            Class::Unreachable => "host unreachable",
            Class::ConnectionLost => "connection lost",
            Class::Timeout => "timed out waiting for the server",
            Class::ServerUnavailable => "server unavailable",
            Class::ProtocolError => "malformed or overlong reply from the server",
            Class::TlsNotOffered => "TLS required but not offered",
            Class::TlsFailed => "TLS handshake failed",
            Class::CertNameMismatch => "certificate name mismatch",
            Class::CertUntrusted => "certificate not trusted",
            Class::CertExpired => "certificate expired or not yet valid",
            Class::CertInvalid => "certificate invalid",
            Class::MtaStsUnlisted => "MX host not listed by the domain's MTA-STS policy",
            Class::MtaStsMissing => "no MTA-STS policy in enforce mode",
            Class::DnssecBogus => "DNSSEC validation failed (bogus answer)",
            Class::DaneMismatch => "certificate matches none of the TLSA records (DANE)",
            Class::DaneMissing => "no DNSSEC-secure TLSA records (level dane)",
            Class::RequiretlsUnsupported => {
                "REQUIRETLS: next hop not authenticated or without REQUIRETLS"
            }
            Class::AuthFailed => "smarthost authentication failed",
            Class::MailboxUnknown => "mailbox unknown",
            Class::MailboxFull => "mailbox full",
            Class::MessageTooLarge => "message too large",
            Class::Smtputf8Unsupported => "the server does not support SMTPUTF8",
            Class::RemotePolicy => "refused by the receiving server's policy",
            Class::MailLoop => "mail loop",
            Class::SmimeFailed => "S/MIME encryption failed",
            Class::Quarantined => "policy: quarantined by a rule",
            Class::Rejected => "rejected by the receiving server",
            Class::Deferred => "temporary failure at the receiving server",
        }
    }

    /// Subject and detail of the enhanced status code we give when the
    /// server gave none (RFC 3463, RFC 5248's registry, RFC 7505).
    fn subject_detail(self) -> &'static str {
        match self {
            Class::NoSuchDomain => "1.2",
            Class::NullMx => "1.10",
            Class::DnsFailure => "4.3",
            Class::NoRoute => "4.4",
            Class::ConnectionRefused | Class::ConnectTimeout | Class::Unreachable => "4.1",
            Class::ConnectionLost | Class::Timeout => "4.2",
            Class::ServerUnavailable => "3.2",
            Class::ProtocolError => "5.0",
            Class::TlsNotOffered | Class::MtaStsMissing => "7.10",
            Class::MtaStsUnlisted => "7.5",
            Class::RequiretlsUnsupported => "7.30",
            Class::DnssecBogus | Class::DaneMismatch | Class::DaneMissing => "7.5",
            Class::TlsFailed
            | Class::CertNameMismatch
            | Class::CertUntrusted
            | Class::CertExpired
            | Class::CertInvalid => "7.5",
            Class::AuthFailed => "7.8",
            Class::MailboxUnknown => "1.1",
            Class::MailboxFull => "2.2",
            Class::MessageTooLarge => "3.4",
            Class::Smtputf8Unsupported => "6.7",
            Class::RemotePolicy | Class::Quarantined => "7.1",
            Class::MailLoop => "4.6",
            Class::SmimeFailed => "7.5",
            Class::Rejected | Class::Deferred => "0.0",
        }
    }
}

/// One failure to deliver to one recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// Where it happened.
    pub stage: Stage,
    /// What kind of failure.
    pub class: Class,
    /// The server's reply code, when a reply caused it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// Enhanced status code: the server's when it gave a consistent one,
    /// else ours from the class.
    pub status: String,
}

impl Failure {
    /// A failure we found ourselves (no reply behind it).
    pub fn ours(stage: Stage, class: Class, permanent: bool) -> Failure {
        let first = if permanent { '5' } else { '4' };
        Failure {
            stage,
            class,
            code: None,
            status: format!("{first}.{}", class.subject_detail()),
        }
    }

    /// A failure from a 4xx or 5xx reply at `stage`, classified by its
    /// enhanced status code when it has one, else by its code and stage.
    /// Only the code and the status code are looked at.
    pub fn reply(stage: Stage, code: u16, text: &str) -> Failure {
        let first = if code >= 500 { '5' } else { '4' };
        // An enhanced code whose class disagrees with the reply code is
        // ignored (RFC 3463 section 2: they must agree).
        let enhanced = enhanced(text).filter(|e| e.starts_with(first));
        let by_status = enhanced.and_then(|e| {
            let (_, rest) = e.split_once('.')?;
            Some(match rest {
                "1.1" => Class::MailboxUnknown,
                "1.2" => Class::NoSuchDomain,
                "1.10" => Class::NullMx,
                "2.2" => Class::MailboxFull,
                "3.4" | "2.3" => Class::MessageTooLarge,
                "4.6" => Class::MailLoop,
                "6.7" => Class::Smtputf8Unsupported,
                "7.8" if stage == Stage::Auth => Class::AuthFailed,
                r if r.starts_with("7.") => Class::RemotePolicy,
                _ => return None,
            })
        });
        let class = by_status.unwrap_or(match (code, stage) {
            (421, _) => Class::ServerUnavailable,
            (_, Stage::Greeting) if code >= 500 => Class::ServerUnavailable,
            (_, Stage::Auth) => Class::AuthFailed,
            (552, Stage::Data | Stage::Mail) => Class::MessageTooLarge,
            (c, _) if c >= 500 => Class::Rejected,
            _ => Class::Deferred,
        });
        let status = match enhanced {
            Some(e) => e.to_string(),
            None => format!("{first}.{}", class.subject_detail()),
        };
        Failure {
            stage,
            class,
            code: Some(code),
            status,
        }
    }

    /// Whether retrying cannot help.
    pub fn permanent(&self) -> bool {
        self.status.starts_with('5')
    }

    /// The status of a temporary failure that was retried until the
    /// message's lifetime ran out: 5.4.7, delivery time expired; a security
    /// failure (x.7.y) keeps its subject and detail, which say more.
    pub fn expired(mut self) -> Failure {
        self.status = match self.status.strip_prefix("4.7.") {
            Some(detail) => format!("5.7.{detail}"),
            None => "5.4.7".into(),
        };
        self
    }
}

impl std::fmt::Display for Failure {
    /// `rcpt: 550 5.1.1 mailbox unknown`: stage, codes and our words only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: ", self.stage.as_str())?;
        if let Some(code) = self.code {
            write!(f, "{code} ")?;
        }
        write!(f, "{} {}", self.status, self.class.describe())
    }
}

/// The enhanced status code a reply text starts with, if any (RFC 3463:
/// class.subject.detail; class 2, 4 or 5, subject and detail 1-3 digits).
pub fn enhanced(text: &str) -> Option<&str> {
    let first = text.split_whitespace().next()?;
    let mut parts = first.split('.');
    let class = parts.next()?;
    let ok = matches!(class, "2" | "4" | "5")
        && parts
            .by_ref()
            .take(2)
            .filter(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
            .count()
            == 2
        && parts.next().is_none();
    ok.then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_classified_by_status_then_code() {
        let f = Failure::reply(Stage::Rcpt, 550, "5.1.1 <ann@x> Patient: Ann Lee");
        assert_eq!(
            (f.class, f.status.as_str()),
            (Class::MailboxUnknown, "5.1.1")
        );
        assert_eq!(f.to_string(), "rcpt: 550 5.1.1 mailbox unknown");
        let f = Failure::reply(Stage::Rcpt, 452, "4.2.2 over quota");
        assert_eq!((f.class, f.permanent()), (Class::MailboxFull, false));
        let f = Failure::reply(Stage::Data, 552, "message exceeds fixed limit");
        assert_eq!(
            (f.class, f.status.as_str()),
            (Class::MessageTooLarge, "5.3.4")
        );
        let f = Failure::reply(Stage::Rcpt, 550, "5.1.2 bad destination system");
        assert_eq!(f.class, Class::NoSuchDomain);
        let f = Failure::reply(Stage::Mail, 554, "5.7.1 relay denied");
        assert_eq!(f.class, Class::RemotePolicy);
        let f = Failure::reply(Stage::Greeting, 421, "busy");
        assert_eq!(
            (f.class, f.status.as_str()),
            (Class::ServerUnavailable, "4.3.2")
        );
        // Codes that disagree: the reply code wins.
        let f = Failure::reply(Stage::Rcpt, 450, "5.1.1 no");
        assert_eq!((f.class, f.status.as_str()), (Class::Deferred, "4.0.0"));
        let f = Failure::reply(Stage::Rcpt, 550, "no such user");
        assert_eq!((f.class, f.status.as_str()), (Class::Rejected, "5.0.0"));
    }

    #[test]
    fn our_failures_carry_rfc_3463_codes() {
        let f = Failure::ours(Stage::Dns, Class::NoSuchDomain, true);
        assert_eq!(f.status, "5.1.2");
        assert_eq!(f.to_string(), "dns: 5.1.2 no such domain");
        assert_eq!(
            Failure::ours(Stage::Dns, Class::NullMx, true).status,
            "5.1.10"
        );
        let f = Failure::ours(Stage::Connect, Class::ConnectionRefused, false);
        assert_eq!(f.status, "4.4.1");
        assert_eq!(f.expired().status, "5.4.7");
        let f = Failure::ours(Stage::Tls, Class::TlsNotOffered, false);
        assert_eq!(f.expired().status, "5.7.10");
    }

    #[test]
    fn enhanced_codes() {
        assert_eq!(enhanced("5.1.1 x"), Some("5.1.1"));
        assert_eq!(enhanced("4.7.10"), Some("4.7.10"));
        assert_eq!(enhanced("1.2.3 x"), None);
        assert_eq!(enhanced("5.1 x"), None);
        assert_eq!(enhanced("5.1.1.1 x"), None);
        assert_eq!(enhanced("5.1111.1"), None);
    }

    #[test]
    fn records_use_snake_case_words() {
        let f = Failure::reply(Stage::Rcpt, 550, "5.1.1");
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(
            json,
            r#"{"stage":"rcpt","class":"mailbox_unknown","code":550,"status":"5.1.1"}"#
        );
        for c in [
            Class::Smtputf8Unsupported,
            Class::Quarantined,
            Class::CertNameMismatch,
        ] {
            let word = serde_json::to_value(c).unwrap();
            assert_eq!(word.as_str(), Some(c.as_str()));
        }
    }
}
