//! The recipient certificate store: the S/MIME certificates an
//! administrator imported (`phigate certs import`), one PEM file per
//! certificate named by its SHA-256, indexed by the certificate's e-mail
//! addresses and, for gateway-to-gateway S/MIME, by domain.
//!
//! Trust comes from the import: an administrator vouches for a certificate
//! by putting it here (as they would pin a partner's key), so no chain is
//! built. What is checked at every use is what can change after import:
//! the validity dates. What cannot change is checked at import and again at
//! use: the key (RSA of at least 2048 bits, for key transport, which every
//! S/MIME client reads; or EC on P-256 or P-384, for ECDH key agreement,
//! RFC 5753), a key usage that allows what that key is used for (key
//! encipherment, key agreement), and the emailProtection extended key
//! usage. Removing a certificate is how one is
//! revoked here; CRLs and OCSP are not consulted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use x509_cert::der::{Decode, Encode};
use x509_parser::prelude::*;

/// A certificate the store holds, parsed once.
#[derive(Debug)]
pub struct RecipientCert {
    /// SHA-256 of the DER, hex: the certificate's name in the store,
    /// the audit log and `certs list`.
    pub sha256: String,
    /// The DER bytes.
    pub der: Vec<u8>,
    /// Addresses (lower case) from subjectAltName rfc822Name and the
    /// subject's emailAddress.
    pub addresses: Vec<String>,
    /// Domains it stands for (a domain certificate: an rfc822Name naming
    /// only a domain, or a dNSName).
    pub domains: Vec<String>,
    /// The subject, for people.
    pub subject: String,
    /// Validity, Unix seconds.
    pub not_before: i64,
    /// Validity, Unix seconds.
    pub not_after: i64,
    /// Its public key's kind: what decides key transport or agreement.
    pub key: CertKey,
    /// Why it can never be used (key, usages), checked at parse time.
    pub unusable: Option<Unusable>,
    /// Where it came from.
    pub source: Source,
}

/// Where a certificate was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The store an administrator fills (`phigate certs import`).
    Store,
    /// A DNSSEC-secure SMIMEA record (RFC 8162).
    Smimea,
    /// The LDAP directory (`[smime.ldap]`), reached over verified TLS.
    Directory,
}

/// Why a certificate is not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    /// Before its notBefore.
    NotYetValid,
    /// After its notAfter.
    Expired,
    /// Its extended key usage does not include emailProtection.
    NoEmailProtection,
    /// Its key usage does not allow key encipherment (RSA).
    NoKeyEncipherment,
    /// Its key usage does not allow key agreement (EC).
    NoKeyAgreement,
    /// Neither an RSA key of at least 2048 bits nor an EC key on P-256 or
    /// P-384.
    UnsupportedKey,
}

/// The kind of public key a certificate holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertKey {
    /// RSA, for key transport (PKCS#1 v1.5 or OAEP).
    Rsa,
    /// EC on NIST P-256, for ECDH.
    P256,
    /// EC on NIST P-384, for ECDH.
    P384,
    /// Anything else (never used).
    Other,
}

impl Unusable {
    /// Its word in the audit log, `certs list` and errors.
    pub fn as_str(self) -> &'static str {
        match self {
            Unusable::NotYetValid => "not yet valid",
            Unusable::Expired => "expired",
            Unusable::NoEmailProtection => "no emailProtection usage",
            Unusable::NoKeyEncipherment => "key usage forbids key encipherment",
            Unusable::NoKeyAgreement => "key usage forbids key agreement",
            Unusable::UnsupportedKey => "neither RSA of 2048 bits or more nor EC on P-256/P-384",
        }
    }
}

impl RecipientCert {
    /// Parses a DER certificate, noting whatever makes it unusable.
    pub fn parse(der: &[u8]) -> Result<RecipientCert, String> {
        let (rest, cert) =
            parse_x509_certificate(der).map_err(|e| format!("not an X.509 certificate: {e}"))?;
        if !rest.is_empty() {
            return Err("trailing bytes after the certificate".into());
        }
        let mut addresses = Vec::new();
        let mut domains = Vec::new();
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            for name in &san.value.general_names {
                match name {
                    GeneralName::RFC822Name(a) => {
                        let a = a.trim().to_ascii_lowercase();
                        match a.split_once('@') {
                            Some(("", d)) => domains.push(d.to_string()),
                            Some(_) => addresses.push(a),
                            None => domains.push(a),
                        }
                    }
                    GeneralName::DNSName(d) => domains.push(d.trim().to_ascii_lowercase()),
                    _ => {}
                }
            }
        }
        for attr in cert.subject().iter_email() {
            if let Ok(a) = attr.as_str() {
                let a = a.trim().to_ascii_lowercase();
                if a.contains('@') && !addresses.contains(&a) {
                    addresses.push(a);
                }
            }
        }
        let eku_ok = match cert.extended_key_usage() {
            Ok(Some(e)) => e.value.email_protection,
            _ => false,
        };
        let key = key_kind(&cert);
        // What the key usage must allow for this kind of key (RFC 8550
        // 4.4.2: absent, it allows everything).
        let ku_ok = match cert.key_usage() {
            Ok(Some(k)) => match key {
                CertKey::Rsa => k.value.key_encipherment(),
                _ => k.value.key_agreement(),
            },
            Ok(None) => true,
            Err(_) => false,
        };
        let unusable = if key == CertKey::Other {
            Some(Unusable::UnsupportedKey)
        } else if !eku_ok {
            Some(Unusable::NoEmailProtection)
        } else if !ku_ok {
            Some(if key == CertKey::Rsa {
                Unusable::NoKeyEncipherment
            } else {
                Unusable::NoKeyAgreement
            })
        } else {
            None
        };
        Ok(RecipientCert {
            sha256: hex(&ring::digest::digest(&ring::digest::SHA256, der)),
            der: der.to_vec(),
            addresses,
            domains,
            subject: cert.subject().to_string(),
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            key,
            unusable,
            source: Source::Store,
        })
    }

    /// Why it cannot be used at `now` (Unix seconds), if it cannot.
    pub fn check(&self, now: i64) -> Result<(), Unusable> {
        if let Some(u) = self.unusable {
            return Err(u);
        }
        if now < self.not_before {
            return Err(Unusable::NotYetValid);
        }
        if now > self.not_after {
            return Err(Unusable::Expired);
        }
        Ok(())
    }

    /// Whether it stands for `rcpt`: names the address, or its domain.
    pub fn names(&self, rcpt: &str) -> bool {
        let rcpt = rcpt.to_ascii_lowercase();
        let domain = rcpt.rsplit_once('@').map_or("", |(_, d)| d);
        self.addresses.contains(&rcpt) || self.domains.iter().any(|d| d == domain)
    }

    /// The first 16 hex digits of its SHA-256: enough to name it.
    pub fn short(&self) -> &str {
        &self.sha256[..16]
    }
}

/// Why no certificate was used for a recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// No certificate names the recipient or its domain.
    None,
    /// Certificates name it, none usable; the reason of the best one.
    Unusable(Unusable),
    /// The directory could not be asked (unreachable, TLS not verified,
    /// refused); what was wrong, without the recipient.
    Directory(String),
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skip::None => f.write_str("no certificate"),
            Skip::Unusable(u) => write!(f, "certificate {}", u.as_str()),
            Skip::Directory(e) => write!(f, "no certificate (directory: {e})"),
        }
    }
}

/// The store: a directory, read again when it changes.
#[derive(Debug)]
pub struct CertStore {
    dir: PathBuf,
    index: Mutex<Index>,
}

#[derive(Debug, Default)]
struct Index {
    stamp: Option<SystemTime>,
    certs: Vec<Arc<RecipientCert>>,
}

/// A store problem, with the file it concerns.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What happened.
        source: std::io::Error,
    },
    /// Not a certificate this store takes.
    #[error("{path}: {reason}")]
    Refused {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl CertStore {
    /// The store in `dir` (which may not exist yet: an empty store).
    pub fn new(dir: &Path) -> CertStore {
        CertStore {
            dir: dir.to_path_buf(),
            index: Mutex::new(Index::default()),
        }
    }

    /// Its directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every certificate in the store, read again if the directory changed
    /// since the last call (an import or removal while the gateway runs).
    pub fn all(&self) -> Vec<Arc<RecipientCert>> {
        let stamp = std::fs::metadata(&self.dir).and_then(|m| m.modified()).ok();
        let mut index = self.index.lock().expect("certificate index");
        if index.stamp != stamp || stamp.is_none() {
            index.certs = read_dir(&self.dir);
            index.stamp = stamp;
        }
        index.certs.clone()
    }

    /// The certificate to encrypt to for `rcpt` at `now`: one naming the
    /// address, else one naming its domain; among usable ones the one that
    /// stays valid longest.
    pub fn find(&self, rcpt: &str, now: i64) -> Result<Arc<RecipientCert>, Skip> {
        let rcpt = rcpt.to_ascii_lowercase();
        let domain = rcpt.rsplit_once('@').map_or("", |(_, d)| d).to_string();
        let all = self.all();
        let by_address: Vec<_> = all.iter().filter(|c| c.addresses.contains(&rcpt)).collect();
        let candidates = if by_address.is_empty() {
            all.iter().filter(|c| c.domains.contains(&domain)).collect()
        } else {
            by_address
        };
        if candidates.is_empty() {
            return Err(Skip::None);
        }
        if let Some(best) = candidates
            .iter()
            .filter(|c| c.check(now).is_ok())
            .max_by_key(|c| c.not_after)
        {
            return Ok(Arc::clone(best));
        }
        let reason = candidates
            .iter()
            .max_by_key(|c| c.not_after)
            .and_then(|c| c.check(now).err())
            .unwrap_or(Unusable::Expired);
        Err(Skip::Unusable(reason))
    }

    /// Adds the certificates in `file` (PEM or DER, a certificate or a
    /// PKCS#7 bundle). Each must name an address or domain and be usable
    /// now; a refused one refuses the whole import.
    pub fn import(&self, file: &Path, now: i64) -> Result<Vec<Arc<RecipientCert>>, StoreError> {
        let bytes = std::fs::read(file).map_err(|source| StoreError::Io {
            path: file.to_path_buf(),
            source,
        })?;
        let refused = |reason: String| StoreError::Refused {
            path: file.to_path_buf(),
            reason,
        };
        let ders = certificates_in(&bytes).map_err(refused)?;
        let mut certs = Vec::new();
        for der in ders {
            let c = RecipientCert::parse(&der).map_err(refused)?;
            if c.addresses.is_empty() && c.domains.is_empty() {
                return Err(refused(format!(
                    "certificate {} names no e-mail address or domain",
                    c.short()
                )));
            }
            if let Err(u) = c.check(now) {
                return Err(refused(format!(
                    "certificate {}: {}",
                    c.short(),
                    u.as_str()
                )));
            }
            certs.push(Arc::new(c));
        }
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| StoreError::Io { path, source }
        };
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        for c in &certs {
            let path = self.dir.join(format!("{}.pem", c.sha256));
            let tmp = self.dir.join(format!(".{}.tmp", c.sha256));
            std::fs::write(&tmp, super::pem::encode("CERTIFICATE", &c.der)).map_err(io(&tmp))?;
            std::fs::rename(&tmp, &path).map_err(io(&path))?;
        }
        Ok(certs)
    }

    /// Removes the certificates whose SHA-256 starts with `what` (at least
    /// 8 hex digits) or that name the address `what`; returns them.
    pub fn remove(&self, what: &str) -> Result<Vec<Arc<RecipientCert>>, StoreError> {
        let what = what.trim().to_ascii_lowercase();
        let hex_prefix = what.len() >= 8 && what.bytes().all(|b| b.is_ascii_hexdigit());
        let gone: Vec<_> = self
            .all()
            .into_iter()
            .filter(|c| (hex_prefix && c.sha256.starts_with(&what)) || c.addresses.contains(&what))
            .collect();
        for c in &gone {
            let path = self.dir.join(format!("{}.pem", c.sha256));
            std::fs::remove_file(&path).map_err(|source| StoreError::Io { path, source })?;
        }
        Ok(gone)
    }
}

/// Every certificate file in `dir`; files that do not parse are skipped
/// with a warning (a store is written by `certs import`, so one is a
/// stray).
fn read_dir(dir: &Path) -> Vec<Arc<RecipientCert>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = BTreeMap::new();
    for e in entries.flatten() {
        let path = e.path();
        if path.extension().is_none_or(|x| x != "pem") {
            continue;
        }
        let parsed = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| certificates_in(&b))
            .and_then(|ders| {
                ders.first()
                    .ok_or_else(|| "no certificate".to_string())
                    .and_then(|d| RecipientCert::parse(d))
            });
        match parsed {
            Ok(c) => {
                out.insert(c.sha256.clone(), Arc::new(c));
            }
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "certificate store: file skipped");
            }
        }
    }
    out.into_values().collect()
}

/// The DER certificates in a file: PEM CERTIFICATE or PKCS7 blocks, or DER
/// (a certificate or a PKCS#7 SignedData bundle).
fn certificates_in(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let text = std::str::from_utf8(bytes).ok();
    if let Some(text) = text.filter(|t| t.contains("-----BEGIN ")) {
        let mut out = Vec::new();
        for (label, der) in super::pem::decode(text)? {
            match label.as_str() {
                "CERTIFICATE" | "X509 CERTIFICATE" => out.push(der),
                "PKCS7" | "CMS" => out.extend(pkcs7_certificates(&der)?),
                _ => {}
            }
        }
        if out.is_empty() {
            return Err("no CERTIFICATE or PKCS7 block".into());
        }
        return Ok(out);
    }
    if x509_cert::Certificate::from_der(bytes).is_ok() {
        return Ok(vec![bytes.to_vec()]);
    }
    pkcs7_certificates(bytes).map_err(|_| "neither PEM, a DER certificate nor PKCS#7".to_string())
}

fn pkcs7_certificates(der: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let info = cms::content_info::ContentInfo::from_der(der).map_err(|e| e.to_string())?;
    if info.content_type != x509_cert::der::oid::db::rfc5911::ID_SIGNED_DATA {
        return Err("PKCS#7 that is not SignedData".into());
    }
    let signed = info
        .content
        .decode_as::<cms::signed_data::SignedData>()
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for choice in signed.certificates.iter().flat_map(|s| s.0.iter()) {
        if let cms::cert::CertificateChoices::Certificate(c) = choice {
            out.push(c.to_der().map_err(|e| e.to_string())?);
        }
    }
    if out.is_empty() {
        return Err("PKCS#7 bundle without certificates".into());
    }
    Ok(out)
}

/// RSA of 2048 bits or more, or EC on a curve ECDH is done on here.
fn key_kind(cert: &X509Certificate<'_>) -> CertKey {
    use x509_parser::oid_registry::{OID_EC_P256, OID_NIST_EC_P384};
    let spki = cert.public_key();
    match spki.parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(k)) if k.key_size() >= 2048 => CertKey::Rsa,
        Ok(x509_parser::public_key::PublicKey::EC(_)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok());
            match curve {
                Some(c) if c == OID_EC_P256 => CertKey::P256,
                Some(c) if c == OID_NIST_EC_P384 => CertKey::P384,
                _ => CertKey::Other,
            }
        }
        _ => CertKey::Other,
    }
}

fn hex(d: &ring::digest::Digest) -> String {
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{
        CertificateParams, ExtendedKeyUsagePurpose as Eku, KeyPair, KeyUsagePurpose as Ku, SanType,
    };

    fn cert(alg: &'static rcgen::SignatureAlgorithm, usages: Vec<Ku>) -> RecipientCert {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.subject_alt_names = vec![SanType::Rfc822Name("r@lab.example".try_into().unwrap())];
        p.key_usages = usages;
        p.extended_key_usages = vec![Eku::EmailProtection];
        let key = KeyPair::generate_for(alg).unwrap();
        let c = p.self_signed(&key).unwrap();
        RecipientCert::parse(c.der()).unwrap()
    }

    /// An EC key is used for key agreement, so its key usage must allow
    /// that, not key encipherment; P-256 and P-384 are told apart, and an
    /// Edwards key (no ECDH here) is refused.
    #[test]
    fn ec_keys_need_key_agreement_and_a_known_curve() {
        let ok = cert(&rcgen::PKCS_ECDSA_P256_SHA256, vec![Ku::KeyAgreement]);
        assert_eq!((ok.key, ok.unusable), (CertKey::P256, None));
        let ok = cert(&rcgen::PKCS_ECDSA_P384_SHA384, vec![Ku::KeyAgreement]);
        assert_eq!((ok.key, ok.unusable), (CertKey::P384, None));
        let no = cert(&rcgen::PKCS_ECDSA_P256_SHA256, vec![Ku::KeyEncipherment]);
        assert_eq!(no.unusable, Some(Unusable::NoKeyAgreement));
        let no = cert(&rcgen::PKCS_ED25519, vec![Ku::KeyAgreement]);
        assert_eq!(no.unusable, Some(Unusable::UnsupportedKey));
    }
}
