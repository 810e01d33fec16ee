//! DANE for SMTP (RFC 7672): the certificates a recipient domain's MX
//! hosts must present, published as TLSA records in DNSSEC-signed DNS.
//!
//! When the MX answer is DNSSEC-secure and an MX host has usable TLSA
//! records (`_25._tcp.<host>`), its certificate must match them: DANE-EE
//! (usage 3) the leaf itself or its key, names and dates ignored; DANE-TA
//! (usage 2) a trust anchor in the presented chain, with the chain and the
//! host name verified against it. PKIX usages (0, 1) are not used (section
//! 3.1.3). A bogus answer defers the recipient: never a bounce, never a
//! fall-back to less. DNSSEC is validated here, in a resolver of its own,
//! so that routing keeps working through resolvers that strip signatures.

use std::collections::HashMap;
use std::sync::Arc;

use hickory_resolver::TokioResolver;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::dnssec::{Proof, TrustAnchors};
use hickory_resolver::proto::rr::RData;
use phigate_config::DnsConfig;

/// One usable TLSA record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlsa {
    /// 2 (DANE-TA) or 3 (DANE-EE).
    pub usage: u8,
    /// 0: the whole certificate; 1: its SubjectPublicKeyInfo.
    pub selector: u8,
    /// 0: exact; 1: SHA-256; 2: SHA-512.
    pub matching: u8,
    /// What to compare with.
    pub data: Vec<u8>,
}

impl Tlsa {
    /// A record with the parameters RFC 7672 lets SMTP use, else `None`.
    pub fn usable(usage: u8, selector: u8, matching: u8, data: Vec<u8>) -> Option<Tlsa> {
        (matches!(usage, 2 | 3) && selector <= 1 && matching <= 2 && !data.is_empty()).then_some(
            Tlsa {
                usage,
                selector,
                matching,
                data,
            },
        )
    }

    /// Whether `cert` (DER) is what this record names.
    pub fn matches(&self, cert: &[u8]) -> bool {
        let selected: Vec<u8> = match self.selector {
            0 => cert.to_vec(),
            _ => match x509_parser::parse_x509_certificate(cert) {
                Ok((_, c)) => c.tbs_certificate.subject_pki.raw.to_vec(),
                Err(_) => return false,
            },
        };
        let digest = |alg| ring::digest::digest(alg, &selected).as_ref().to_vec();
        let value = match self.matching {
            0 => selected,
            1 => digest(&ring::digest::SHA256),
            _ => digest(&ring::digest::SHA512),
        };
        value == self.data
    }

    /// `3 1 1`: usage, selector, matching, for records.
    pub fn params(&self) -> String {
        format!("{} {} {}", self.usage, self.selector, self.matching)
    }
}

/// What DNSSEC says about a destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// The MX answer is not DNSSEC-secure: no DANE here.
    Insecure,
    /// Validation failed (bogus or indeterminate): defer.
    Bogus,
    /// The MX answer is secure; each MX host's usable, secure TLSA records
    /// (none: DANE does not apply to that host).
    Secure(HashMap<String, Vec<Tlsa>>),
}

impl Found {
    /// The TLSA records for `host`.
    pub fn tlsa(&self, host: &str) -> &[Tlsa] {
        match self {
            Found::Secure(m) => m.get(host).map_or(&[][..], Vec::as_slice),
            _ => &[],
        }
    }

    /// Whether any host has records.
    pub fn any(&self) -> bool {
        matches!(self, Found::Secure(m) if m.values().any(|v| !v.is_empty()))
    }
}

/// Why DANE could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum DaneError {
    /// The trust anchor file is unreadable or not DNSKEY records.
    #[error("delivery.dns.trust_anchor {path}: {why}")]
    Anchor {
        /// The file.
        path: String,
        /// What is wrong.
        why: String,
    },
    /// The resolver could not be made.
    #[error("DNSSEC resolver: {0}")]
    Resolver(String),
}

/// A validating resolver for DANE.
pub struct Dane {
    resolver: TokioResolver,
}

impl std::fmt::Debug for Dane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dane").finish_non_exhaustive()
    }
}

impl Dane {
    /// A validating resolver asking what routing asks (the system's
    /// resolver or `servers`), trusting the root's keys or `trust_anchor`.
    /// `None` when `[delivery.dns]` does not turn DNSSEC on.
    pub fn new(cfg: &DnsConfig) -> Result<Option<Dane>, DaneError> {
        if !cfg.dnssec || cfg.static_only {
            return Ok(None);
        }
        let anchors = match &cfg.trust_anchor {
            None => TrustAnchors::default(),
            Some(path) => TrustAnchors::from_file(path).map_err(|e| DaneError::Anchor {
                path: path.display().to_string(),
                why: e.to_string(),
            })?,
        };
        let builder = if cfg.servers.is_empty() {
            TokioResolver::builder_tokio().map_err(|e| DaneError::Resolver(e.to_string()))?
        } else {
            TokioResolver::builder_with_config(
                super::route::servers_config(&cfg.servers),
                Default::default(),
            )
        };
        let mut builder = builder.with_trust_anchor(Arc::new(anchors));
        builder.options_mut().validate = true;
        let resolver = builder
            .build()
            .map_err(|e| DaneError::Resolver(e.to_string()))?;
        Ok(Some(Dane { resolver }))
    }

    /// What DNSSEC says about `domain`'s MX answer and `hosts`' TLSA
    /// records at `port`.
    pub async fn lookup(&self, domain: &str, hosts: &[String], port: u16) -> Found {
        let mx = match self.resolver.mx_lookup(format!("{domain}.")).await {
            Ok(l) => l,
            Err(e) if bogus(&e) => return Found::Bogus,
            // No MX (the domain's own address) or none at all: routing
            // decides; DANE needs a secure MX answer.
            Err(_) => return Found::Insecure,
        };
        let secure = mx
            .answers()
            .iter()
            .filter(|r| matches!(r.data, RData::MX(_)))
            .all(|r| r.proof == Proof::Secure);
        if !secure || mx.answers().is_empty() {
            return Found::Insecure;
        }
        let mut out = HashMap::new();
        for host in hosts {
            if out.contains_key(host) {
                continue;
            }
            let name = format!("_{port}._tcp.{host}.");
            let records = match self.resolver.tlsa_lookup(name).await {
                Ok(l) => l
                    .answers()
                    .iter()
                    .filter(|r| r.proof == Proof::Secure)
                    .filter_map(|r| match &r.data {
                        RData::TLSA(t) => Tlsa::usable(
                            u8::from(t.cert_usage),
                            u8::from(t.selector),
                            u8::from(t.matching),
                            t.cert_data.clone(),
                        ),
                        _ => None,
                    })
                    .collect(),
                Err(e) if bogus(&e) => return Found::Bogus,
                Err(_) => Vec::new(),
            };
            out.insert(host.clone(), records);
        }
        Found::Secure(out)
    }
}

fn bogus(e: &NetError) -> bool {
    matches!(e, NetError::Dns(DnsError::DnssecBogus))
}

/// The MX host names of a destination, in order, once each.
pub fn hosts(hops: &[super::client::Hop]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for h in hops {
        if !out.contains(&h.name) {
            out.push(h.name.clone());
        }
    }
    out
}

/// The port TLSA records are looked up for: the one delivery connects to.
pub fn port_of(hops: &[super::client::Hop]) -> u16 {
    hops.first().map_or(25, |h| h.addr.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_match_by_selector_and_matching_type() {
        let ca = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["mx.good.test".into()])
            .unwrap()
            .self_signed(&ca)
            .unwrap();
        let der = cert.der().to_vec();
        let spki = rcgen::PublicKeyData::subject_public_key_info(&ca);
        let sha256 = |b: &[u8]| {
            ring::digest::digest(&ring::digest::SHA256, b)
                .as_ref()
                .to_vec()
        };
        let sha512 = |b: &[u8]| {
            ring::digest::digest(&ring::digest::SHA512, b)
                .as_ref()
                .to_vec()
        };
        assert!(Tlsa::usable(3, 1, 1, sha256(&spki)).unwrap().matches(&der));
        assert!(Tlsa::usable(3, 0, 1, sha256(&der)).unwrap().matches(&der));
        assert!(Tlsa::usable(3, 0, 2, sha512(&der)).unwrap().matches(&der));
        assert!(Tlsa::usable(3, 1, 0, spki.clone()).unwrap().matches(&der));
        assert!(
            !Tlsa::usable(3, 1, 1, sha256(b"other"))
                .unwrap()
                .matches(&der)
        );
        // PKIX usages and unknown parameters are not usable for SMTP.
        assert!(Tlsa::usable(1, 1, 1, sha256(&spki)).is_none());
        assert!(Tlsa::usable(0, 1, 1, sha256(&spki)).is_none());
        assert!(Tlsa::usable(3, 2, 1, sha256(&spki)).is_none());
        assert!(Tlsa::usable(3, 1, 3, sha256(&spki)).is_none());
    }
}
