//! Outbound TLS: what a next hop's certificate is checked against, what
//! is recorded about it, and the policy decision that lets a message go.
//!
//! Every handshake verifies the certificate (webpki roots plus the
//! configured `ca_file`) and records the result, subject and SHA-256
//! fingerprint. Only at level `verify` does a failed verification abort the
//! handshake; below it the result is recorded and the handshake goes on.

use std::sync::{Arc, Mutex};

use phigate_config::TlsLevel;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

use super::dane::Tlsa;
use super::mta_sts::Approval;
use crate::smtp::status::{Class, Failure, Stage};

/// What the handshake established; goes to the log and the audit record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TlsDetails {
    /// e.g. `TLSv1_3`
    pub version: String,
    /// e.g. `TLS13_AES_256_GCM_SHA384`
    pub cipher: String,
    /// Whether the certificate is valid for the name we connected to.
    pub verified: bool,
    /// Why not, when not.
    pub verify_error: Option<String>,
    /// The same as a reason class.
    pub verify_class: Option<Class>,
    /// The TLSA record (usage selector matching) the certificate matched,
    /// when DANE authenticated the host.
    pub dane: Option<String>,
    /// Certificate subject (distinguished name).
    pub subject: String,
    /// SHA-256 of the leaf certificate, hex.
    pub fingerprint: String,
}

pub use crate::tls::Trust;

/// A client config for one handshake verifying against `trust` (or, when
/// `tlsa` is not empty, against those DNSSEC-secure TLSA records: DANE),
/// and the slot where its certificate check is recorded.
pub fn client_config(
    trust: &Trust,
    enforce: bool,
    tlsa: &[Tlsa],
) -> (Arc<rustls::ClientConfig>, Arc<Mutex<Option<CertCheck>>>) {
    let provider = crate::tls::provider();
    let inner = WebPkiServerVerifier::builder_with_provider(trust.roots(), provider.clone())
        .build()
        .expect("a root store with the webpki roots is never empty");
    let slot = Arc::new(Mutex::new(None));
    let verifier = Recording {
        inner,
        enforce,
        tlsa: tlsa.to_vec(),
        provider: provider.clone(),
        slot: slot.clone(),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    (Arc::new(config), slot)
}

/// The recorded certificate check.
#[derive(Debug, Clone)]
pub struct CertCheck {
    /// Verification error, `None` when valid.
    pub error: Option<String>,
    /// Its reason class.
    pub class: Option<Class>,
    /// The TLSA record matched, under DANE.
    pub dane: Option<String>,
    /// Subject DN.
    pub subject: String,
    /// SHA-256 fingerprint, hex.
    pub fingerprint: String,
}

/// Verifies like webpki, records the outcome, and lets the handshake go on
/// when not enforcing (levels `may` and `encrypt`).
#[derive(Debug)]
struct Recording {
    inner: Arc<WebPkiServerVerifier>,
    enforce: bool,
    /// DANE: the host's secure TLSA records replace the PKIX check.
    tlsa: Vec<Tlsa>,
    provider: Arc<rustls::crypto::CryptoProvider>,
    slot: Arc<Mutex<Option<CertCheck>>>,
}

/// DANE (RFC 7672 section 3): a DANE-EE record matching the leaf (names
/// and dates ignored), or a DANE-TA record matching a certificate of the
/// presented chain, which then anchors a full chain and name check.
fn dane_verify(
    records: &[Tlsa],
    leaf: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    name: &ServerName<'_>,
    now: UnixTime,
    provider: &Arc<rustls::crypto::CryptoProvider>,
) -> Result<String, String> {
    if let Some(r) = records.iter().find(|r| r.usage == 3 && r.matches(leaf)) {
        return Ok(r.params());
    }
    let mut last = "no TLSA record matches the certificate chain".to_string();
    for r in records.iter().filter(|r| r.usage == 2) {
        for (i, ta) in intermediates.iter().enumerate() {
            if !r.matches(ta) {
                continue;
            }
            let mut roots = rustls::RootCertStore::empty();
            if roots.add(ta.clone()).is_err() {
                continue;
            }
            let Ok(v) =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
            else {
                continue;
            };
            match v.verify_server_cert(leaf, &intermediates[..i], name, &[], now) {
                Ok(_) => return Ok(r.params()),
                Err(e) => last = format!("DANE-TA: {e}"),
            }
        }
    }
    Err(last)
}

/// The reason class of a certificate verification error.
fn cert_class(e: &rustls::Error) -> Class {
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                Class::CertNameMismatch
            }
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => Class::CertExpired,
            CertificateError::UnknownIssuer => Class::CertUntrusted,
            _ => Class::CertInvalid,
        },
        _ => Class::CertInvalid,
    }
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let digest = ring::digest::digest(&ring::digest::SHA256, end_entity.as_ref());
        let fingerprint = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        let subject = x509_parser::parse_x509_certificate(end_entity.as_ref())
            .map(|(_, c)| c.subject().to_string())
            .unwrap_or_else(|_| "<unparseable certificate>".into());
        if !self.tlsa.is_empty() {
            let result = dane_verify(
                &self.tlsa,
                end_entity,
                intermediates,
                server_name,
                now,
                &self.provider,
            );
            *self.slot.lock().expect("cert slot") = Some(CertCheck {
                error: result.as_ref().err().cloned(),
                class: result.as_ref().err().map(|_| Class::DaneMismatch),
                dane: result.as_ref().ok().cloned(),
                subject,
                fingerprint,
            });
            return match result {
                Ok(_) => Ok(ServerCertVerified::assertion()),
                Err(e) if self.enforce => Err(rustls::Error::General(e)),
                Err(_) => Ok(ServerCertVerified::assertion()),
            };
        }
        let result =
            self.inner
                .verify_server_cert(end_entity, intermediates, server_name, ocsp, now);
        *self.slot.lock().expect("cert slot") = Some(CertCheck {
            error: result.as_ref().err().map(|e| e.to_string()),
            class: result.as_ref().err().map(cert_class),
            dane: None,
            subject,
            fingerprint,
        });
        match result {
            Ok(v) => Ok(v),
            Err(e) if self.enforce => Err(e),
            Err(_) => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Why policy forbids sending over a channel.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyRefusal {
    /// TLS was required and the server did not offer STARTTLS.
    #[error("the server does not offer STARTTLS and policy requires TLS ({0})")]
    NotOffered(&'static str),
    /// TLS was required and the handshake failed.
    #[error("TLS handshake failed and policy requires TLS ({level}): {error}")]
    Handshake {
        /// Required level.
        level: &'static str,
        /// The handshake error.
        error: String,
    },
    /// Level `dane` and the host has no DNSSEC-secure TLSA records.
    #[error("no DNSSEC-secure TLSA records for this host, and policy requires dane")]
    NoDane,
    /// Level `mta-sts` and the domain has no enforced policy listing this host.
    #[error("no MTA-STS policy in enforce mode lists this host, and policy requires mta-sts")]
    NoMtaSts,
    /// A verified certificate was required.
    #[error("the server certificate did not verify and policy requires verify: {error}")]
    NotVerified {
        /// The verification error.
        error: String,
        /// Its reason class.
        class: Class,
    },
}

impl PolicyRefusal {
    /// The refusal as a delivery failure: temporary, at the TLS stage (the
    /// queue decides whether PHI waits, is rerouted or is held).
    pub fn failure(&self) -> Failure {
        let class = match self {
            PolicyRefusal::NotOffered(_) => Class::TlsNotOffered,
            PolicyRefusal::Handshake { .. } => Class::TlsFailed,
            PolicyRefusal::NotVerified { class, .. } => *class,
            PolicyRefusal::NoMtaSts => Class::MtaStsMissing,
            PolicyRefusal::NoDane => Class::DaneMissing,
        };
        Failure::ours(Stage::Tls, class, false)
    }
}

/// Permission to send a message over a channel: the only way to obtain one
/// is [`permit`], so no code path can send without the policy having said
/// yes for the TLS actually negotiated.
#[derive(Debug)]
pub struct Permit {
    _private: (),
}

/// What authenticates one next hop beyond a certificate for its name:
/// an enforced MTA-STS policy listing it, or its DNSSEC-secure TLSA
/// records (DANE, which takes precedence).
#[derive(Debug, Clone, Default)]
pub struct HopAuth {
    /// An MTA-STS policy in enforce mode lists the host.
    pub mta_sts: Option<Approval>,
    /// The host's usable TLSA records, from a DNSSEC-secure answer.
    pub tlsa: Vec<Tlsa>,
}

impl HopAuth {
    /// Whether DNS-published policy (DANE or MTA-STS) vouches for the host.
    pub fn authenticates(&self) -> bool {
        self.mta_sts.is_some() || !self.tlsa.is_empty()
    }
}

/// The level that applies to one next hop: `secure` is `dane` for a host
/// with TLSA records, `mta-sts` for an MX host an enforced policy lists,
/// else `verify`.
pub fn effective(required: crate::policy::transport::Requirement, auth: &HopAuth) -> TlsLevel {
    match required.level() {
        TlsLevel::Secure if !auth.tlsa.is_empty() => TlsLevel::Dane,
        TlsLevel::Secure if auth.mta_sts.is_some() => TlsLevel::MtaSts,
        TlsLevel::Secure => TlsLevel::Verify,
        level => level,
    }
}

/// Checks the negotiated channel against what the transport rule
/// requires (crate::policy::transport): a permit proves the PHI rule held.
/// Level `mta-sts` also needs the hop's MTA-STS [`Approval`]; level `dane`
/// a certificate that matched the hop's TLSA records.
pub fn permit(
    required: crate::policy::transport::Requirement,
    tls: Option<&TlsDetails>,
    auth: &HopAuth,
) -> Result<Permit, PolicyRefusal> {
    let level = effective(required, auth);
    match (level, tls) {
        (TlsLevel::None | TlsLevel::May, _) => Ok(Permit { _private: () }),
        (TlsLevel::Encrypt, Some(_)) => Ok(Permit { _private: () }),
        (TlsLevel::Dane, _) if auth.tlsa.is_empty() => Err(PolicyRefusal::NoDane),
        (TlsLevel::Dane, Some(t)) if t.verified && t.dane.is_some() => Ok(Permit { _private: () }),
        (TlsLevel::MtaSts, _) if auth.mta_sts.is_none() => Err(PolicyRefusal::NoMtaSts),
        (l, Some(t)) if t.verified && l != TlsLevel::Dane => Ok(Permit { _private: () }),
        (_, Some(t)) => Err(PolicyRefusal::NotVerified {
            error: t.verify_error.clone().unwrap_or_else(|| "unknown".into()),
            class: t.verify_class.unwrap_or(Class::CertInvalid),
        }),
        (level, None) => Err(PolicyRefusal::NotOffered(level.as_str())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details(verified: bool) -> TlsDetails {
        TlsDetails {
            version: "TLSv1_3".into(),
            cipher: "x".into(),
            verified,
            verify_error: (!verified).then(|| "expired".into()),
            verify_class: (!verified).then_some(Class::CertExpired),
            dane: None,
            subject: String::new(),
            fingerprint: String::new(),
        }
    }

    /// A requirement at `level` (for mail without PHI to a domain whose
    /// default is `level`).
    fn at(level: &str) -> crate::policy::transport::Requirement {
        let cfg = phigate_config::Config::from_toml(
            "t.toml",
            &format!("[tls]\ndefault = \"{level}\"\n[delivery.dns]\ndnssec = true\n"),
        )
        .unwrap();
        crate::policy::transport::required(
            phigate_config::Action::Deliver,
            false,
            false,
            &cfg.tls,
            crate::policy::transport::Destination::Domain("payer.example"),
        )
    }

    fn permit_at(
        r: crate::policy::transport::Requirement,
        tls: Option<&TlsDetails>,
    ) -> Result<Permit, PolicyRefusal> {
        permit(r, tls, &HopAuth::default())
    }

    #[test]
    fn mta_sts_needs_the_hop_approved_and_secure_falls_back_to_verify() {
        use crate::delivery::mta_sts::{Published, parse};
        let policy = parse(
            "version: STSv1\nmode: enforce\nmx: mx.good.test\nmax_age: 60",
            "1",
            0,
        );
        let approval = Published::Enforce(policy.unwrap()).approve("mx.good.test");
        assert!(approval.is_some());
        let listed = HopAuth {
            mta_sts: approval,
            tlsa: Vec::new(),
        };
        let none = HopAuth::default();
        let ok = details(true);
        assert_eq!(
            permit(at("mta-sts"), Some(&ok), &none).unwrap_err(),
            PolicyRefusal::NoMtaSts
        );
        assert!(permit(at("mta-sts"), Some(&ok), &listed).is_ok());
        assert!(permit(at("mta-sts"), Some(&details(false)), &listed).is_err());
        assert!(permit(at("secure"), Some(&ok), &none).is_ok());
        assert!(permit(at("secure"), Some(&details(false)), &none).is_err());
        assert_eq!(effective(at("secure"), &none), TlsLevel::Verify);
        assert_eq!(effective(at("secure"), &listed), TlsLevel::MtaSts);
        // DANE comes first, and only a DANE match will do for it.
        let dane = HopAuth {
            mta_sts: listed.mta_sts.clone(),
            tlsa: vec![crate::delivery::dane::Tlsa::usable(3, 1, 1, vec![1; 32]).unwrap()],
        };
        assert_eq!(effective(at("secure"), &dane), TlsLevel::Dane);
        assert!(
            permit(at("secure"), Some(&ok), &dane).is_err(),
            "PKIX is not DANE"
        );
        let matched = TlsDetails {
            dane: Some("3 1 1".into()),
            ..details(true)
        };
        assert!(permit(at("secure"), Some(&matched), &dane).is_ok());
        assert_eq!(
            permit(at("dane"), Some(&matched), &none).unwrap_err(),
            PolicyRefusal::NoDane
        );
    }

    #[test]
    fn permits_follow_the_levels() {
        assert!(permit_at(at("may"), None).is_ok());
        assert!(permit_at(at("encrypt"), None).is_err());
        assert!(permit_at(at("encrypt"), Some(&details(false))).is_ok());
        assert!(permit_at(at("verify"), Some(&details(true))).is_ok());
        assert_eq!(
            permit_at(at("verify"), Some(&details(false))).unwrap_err(),
            PolicyRefusal::NotVerified {
                error: "expired".into(),
                class: Class::CertExpired
            }
        );
    }

    /// DANE-TA (2 x x): the record names a CA in the presented chain, which
    /// then anchors the chain and the name check; DANE-EE (3 x x) ignores
    /// names. Signatures are checked by webpki either way.
    #[test]
    fn dane_trust_anchor_and_end_entity_records() {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["mx.good.test".into()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        let (leaf, ca) = (leaf.der().clone(), ca.der().clone());
        let sha = |b: &[u8]| {
            ring::digest::digest(&ring::digest::SHA256, b)
                .as_ref()
                .to_vec()
        };
        let provider = crate::tls::provider();
        let now = UnixTime::now();
        let name = |n: &str| ServerName::try_from(n.to_string()).unwrap();
        let ta = [Tlsa::usable(2, 0, 1, sha(&ca)).unwrap()];
        let chain = [ca.clone()];
        assert_eq!(
            dane_verify(&ta, &leaf, &chain, &name("mx.good.test"), now, &provider),
            Ok("2 0 1".to_string())
        );
        assert!(dane_verify(&ta, &leaf, &chain, &name("mx.evil.test"), now, &provider).is_err());
        assert!(dane_verify(&ta, &leaf, &[], &name("mx.good.test"), now, &provider).is_err());
        let ee = [Tlsa::usable(3, 0, 1, sha(&leaf)).unwrap()];
        assert_eq!(
            dane_verify(&ee, &leaf, &[], &name("anything.test"), now, &provider),
            Ok("3 0 1".to_string())
        );
        let other = [Tlsa::usable(3, 0, 1, sha(&ca)).unwrap()];
        assert!(dane_verify(&other, &leaf, &chain, &name("mx.good.test"), now, &provider).is_err());
    }
}
