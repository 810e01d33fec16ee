//! Encrypted delivery: how a recipient whose action is `encrypt` gets its
//! mail. One method today, the relay of a secure-mail provider (it encrypts
//! and notifies the recipient, who reads the message on the provider's
//! portal). The enum is the slot for the next: S/MIME to the recipient's own
//! certificate would prepare the message (encrypt it) and deliver it by the
//! recipient's usual route, where the relay method adds the provider's
//! trigger and sends everything to the provider.

use phigate_config::{EncryptionConfig, NextHop, TlsLevel};

use super::rewrite;

/// A configured encrypted-delivery method.
#[derive(Debug, Clone)]
pub enum Encryptor {
    /// Relay to a secure-mail provider.
    Relay(phigate_config::EncryptionRelay),
}

/// Where a method's mail goes.
#[derive(Debug, Clone, Copy)]
pub enum Via<'a> {
    /// A fixed next hop (the provider's relay), with optional AUTH.
    Hop(&'a NextHop, Option<(&'a str, &'a str)>),
}

impl Encryptor {
    /// The method configured in `[encryption]`.
    pub fn new(cfg: &EncryptionConfig) -> Encryptor {
        match cfg {
            EncryptionConfig::Relay(r) => Encryptor::Relay(r.clone()),
        }
    }

    /// Its name in the audit log.
    pub fn name(&self) -> &'static str {
        match self {
            Encryptor::Relay(_) => "encryption",
        }
    }

    /// Where its mail goes.
    pub fn via(&self) -> Via<'_> {
        match self {
            Encryptor::Relay(r) => Via::Hop(
                &r.hop,
                r.auth.as_ref().map(|(u, p)| (u.as_str(), p.as_str())),
            ),
        }
    }

    /// TLS to the method's next hop: always verified, whatever `[tls]` says.
    pub fn tls(&self) -> TlsLevel {
        TlsLevel::Verify
    }

    /// The message as the method sends it, with the policy's own `tags` and
    /// `headers` applied as well.
    pub fn prepare(&self, message: &[u8], tags: &[&str], headers: &[(&str, &str)]) -> Vec<u8> {
        match self {
            Encryptor::Relay(r) => {
                let mut tags = tags.to_vec();
                if let Some(t) = &r.subject_tag {
                    tags.push(t);
                }
                let mut headers = headers.to_vec();
                if let Some((n, v)) = &r.header {
                    headers.push((n, v));
                }
                rewrite::apply(message, &tags, &headers)
            }
        }
    }
}
