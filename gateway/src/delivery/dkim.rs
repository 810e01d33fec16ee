//! The gateway's DKIM signature (RFC 6376), the last change to a message
//! before it is sent.
//!
//! A rule's `tag_subject` or `add_header`, and the encrypted route's
//! trigger, change a message that the practice's own server (Microsoft 365,
//! Google Workspace, Postfix) may already have signed; that signature then
//! fails, and a recipient enforcing DMARC rejects or junks the mail. Signing
//! again with the practice's domain after the change keeps DMARC aligned.
//! The canonicalisation and signing are Stalwart's `mail-auth` (ring keys),
//! not ours.

use std::path::Path;

use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::{Canonicalization, DkimSigner};
use phigate_config::DkimConfig;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;

/// Why a signing key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DkimError {
    /// The key file could not be read or holds no usable key.
    #[error("dkim.key {path}: {why}")]
    Key {
        /// The file.
        path: String,
        /// What is wrong, in words (never key material).
        why: String,
    },
    /// Signing failed (a message without the signed headers, say).
    #[error("DKIM signing failed: {0}")]
    Sign(String),
}

enum Key {
    Rsa(RsaKey<Sha256>),
    Ed25519(Ed25519Key),
}

/// Signs messages for one domain and selector.
pub struct Signer {
    domain: String,
    selector: String,
    headers: Vec<String>,
    sign_all: bool,
    key: Key,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("domain", &self.domain)
            .field("selector", &self.selector)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// Loads the key `[dkim]` names: PEM, PKCS#8 RSA (2048 to 4096 bits,
    /// as ring allows) or Ed25519, or PKCS#1 RSA.
    pub fn load(cfg: &DkimConfig) -> Result<Signer, DkimError> {
        Ok(Signer {
            domain: cfg.domain.clone(),
            selector: cfg.selector.clone(),
            headers: cfg.headers.clone(),
            sign_all: cfg.sign_all,
            key: load_key(&cfg.key)?,
        })
    }

    /// The DNS TXT record to publish at `SELECTOR._domainkey.DOMAIN`.
    pub fn dns_record(&self) -> (String, String) {
        let name = format!("{}._domainkey.{}", self.selector, self.domain);
        let value = match &self.key {
            Key::Rsa(k) => txt("rsa", &rsa_spki(&k.public_key())),
            Key::Ed25519(k) => txt("ed25519", &k.public_key()),
        };
        (name, value)
    }

    /// Whether every message is signed, not only those the gateway changed.
    pub fn sign_all(&self) -> bool {
        self.sign_all
    }

    /// `message` with a `DKIM-Signature:` in front, when its From is in the
    /// signing domain (or below it: DMARC's relaxed alignment); `None` when
    /// it is not, as a signature for another domain would not help DMARC.
    pub fn sign(&self, message: &[u8]) -> Result<Option<Vec<u8>>, DkimError> {
        if !self.aligned(message) {
            return Ok(None);
        }
        let header = match &self.key {
            Key::Rsa(k) => self.sign_with(k, message)?,
            Key::Ed25519(k) => self.sign_with(k, message)?,
        };
        let mut out = Vec::with_capacity(header.len() + message.len());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(message);
        Ok(Some(out))
    }

    fn sign_with<K: mail_auth::common::crypto::SigningKey>(
        &self,
        key: &K,
        message: &[u8],
    ) -> Result<String, DkimError> {
        // The builder takes the key by value; ring keys are not Clone, so
        // sign through a reference wrapper.
        let signature = DkimSigner::from_key(ByRef(key))
            .domain(&self.domain)
            .selector(&self.selector)
            .headers(self.headers.iter().map(String::as_str))
            .header_canonicalization(Canonicalization::Relaxed)
            .body_canonicalization(Canonicalization::Relaxed)
            .sign(message)
            .map_err(|e| DkimError::Sign(e.to_string()))?;
        Ok(signature.to_header())
    }

    /// Whether the From domain is the signing domain or below it.
    fn aligned(&self, message: &[u8]) -> bool {
        let parsed = mail_parser::MessageParser::new().parse_headers(message);
        let Some(from) = parsed
            .as_ref()
            .and_then(|m| m.from())
            .and_then(|a| a.first())
            .and_then(|a| a.address())
        else {
            return false;
        };
        let domain = crate::policy::domain_of(from);
        domain == self.domain || domain.ends_with(&format!(".{}", self.domain))
    }
}

/// Signs with a borrowed key.
struct ByRef<'a, K>(&'a K);

impl<K: mail_auth::common::crypto::SigningKey> mail_auth::common::crypto::SigningKey
    for ByRef<'_, K>
{
    type Hasher = K::Hasher;

    fn sign(&self, input: impl mail_auth::common::headers::Writable) -> mail_auth::Result<Vec<u8>> {
        self.0.sign(input)
    }

    fn algorithm(&self) -> mail_auth::common::crypto::Algorithm {
        self.0.algorithm()
    }
}

/// A DKIM key record (RFC 6376 section 3.6.1; RFC 8463 for ed25519).
fn txt(algorithm: &str, public: &[u8]) -> String {
    use base64::Engine;
    let p = base64::engine::general_purpose::STANDARD.encode(public);
    format!("v=DKIM1; k={algorithm}; p={p}")
}

/// An RSA public key (PKCS#1 RSAPublicKey, as ring gives it) wrapped as
/// the SubjectPublicKeyInfo DKIM's `p=` holds.
fn rsa_spki(pkcs1: &[u8]) -> Vec<u8> {
    fn len(n: usize) -> Vec<u8> {
        match n {
            0..=0x7f => vec![n as u8],
            0x80..=0xff => vec![0x81, n as u8],
            _ => vec![0x82, (n >> 8) as u8, n as u8],
        }
    }
    // SEQUENCE { OID 1.2.840.113549.1.1.1 (rsaEncryption), NULL }
    const ALGORITHM: &[u8] = &[
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut bits = vec![0x03];
    bits.extend(len(pkcs1.len() + 1));
    bits.push(0); // no unused bits
    bits.extend_from_slice(pkcs1);
    let mut out = vec![0x30];
    out.extend(len(ALGORITHM.len() + bits.len()));
    out.extend_from_slice(ALGORITHM);
    out.extend(bits);
    out
}

/// A new signing key as PEM: RSA-2048 (PKCS#1; what every receiver
/// verifies) or Ed25519 (PKCS#8; RFC 8463, not verified everywhere yet).
pub fn generate(ed25519: bool) -> Result<String, DkimError> {
    let fail = |e: mail_auth::Error| DkimError::Sign(e.to_string());
    let (label, der) = if ed25519 {
        let pair = mail_auth::dkim::generate::DkimKeyPair::generate_ed25519().map_err(fail)?;
        ("PRIVATE KEY", pair.private_key().to_vec())
    } else {
        let pair = mail_auth::dkim::generate::DkimKeyPair::generate_rsa(2048).map_err(fail)?;
        ("RSA PRIVATE KEY", pair.private_key().to_vec())
    };
    Ok(super::pem::encode(label, &der))
}

fn load_key(path: &Path) -> Result<Key, DkimError> {
    let fail = |why: String| DkimError::Key {
        path: path.display().to_string(),
        why,
    };
    let pem = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let der = PrivateKeyDer::from_pem_slice(&pem)
        .map_err(|_| fail("no PEM private key in the file".into()))?;
    match der {
        PrivateKeyDer::Pkcs1(k) => RsaKey::<Sha256>::from_der(k.secret_pkcs1_der())
            .map(Key::Rsa)
            .map_err(|e| fail(rsa_words(&e.to_string()))),
        PrivateKeyDer::Pkcs8(k) => {
            let der = k.secret_pkcs8_der();
            match RsaKey::<Sha256>::from_pkcs8_der(der) {
                Ok(k) => Ok(Key::Rsa(k)),
                Err(rsa) => Ed25519Key::from_pkcs8_maybe_unchecked_der(der)
                    .map(Key::Ed25519)
                    .map_err(|_| fail(rsa_words(&rsa.to_string()))),
            }
        }
        _ => Err(fail(
            "not an RSA or Ed25519 key (DKIM signs with rsa-sha256 or ed25519-sha256)".into(),
        )),
    }
}

/// ring's words for an RSA key it refuses, with what it wants.
fn rsa_words(ring: &str) -> String {
    format!("not a usable RSA (2048 to 4096 bits) or Ed25519 key ({ring})")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path, pem: &str) -> DkimConfig {
        let key = dir.join("k.pem");
        std::fs::write(&key, pem).unwrap();
        let toml = format!(
            "[dkim]\ndomain = \"clinic.example\"\nselector = \"gw\"\nkey = \"{}\"\n",
            key.display()
        );
        phigate_config::Config::from_toml("t.toml", &toml)
            .unwrap()
            .dkim
            .unwrap()
    }

    #[test]
    fn signs_aligned_mail_only_and_refuses_bad_keys() {
        let dir = tempfile::tempdir().unwrap();
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let text = crate::delivery::pem::encode("PRIVATE KEY", pkcs8.as_ref());
        let signer = Signer::load(&config(dir.path(), &text)).unwrap();
        let msg = b"From: Desk <desk@clinic.example>\r\nTo: x@payer.example\r\nSubject: [secure] hi\r\n\r\nbody\r\n";
        let signed = signer.sign(msg).unwrap().expect("aligned");
        let text = String::from_utf8(signed).unwrap();
        assert!(
            text.starts_with("DKIM-Signature: v=1; a=ed25519-sha256;"),
            "{text}"
        );
        assert!(text.contains("d=clinic.example") && text.contains("s=gw"));
        assert!(text.ends_with("\r\n\r\nbody\r\n"));
        let other = b"From: a@elsewhere.example\r\n\r\nbody\r\n";
        assert!(signer.sign(other).unwrap().is_none());
        let sub = b"From: a@eu.clinic.example\r\n\r\nbody\r\n";
        assert!(signer.sign(sub).unwrap().is_some());

        let (name, txt) = signer.dns_record();
        assert_eq!(name, "gw._domainkey.clinic.example");
        assert!(txt.starts_with("v=DKIM1; k=ed25519; p="), "{txt}");

        let rsa = Signer::load(&config(dir.path(), &generate(false).unwrap())).unwrap();
        let (_, txt) = rsa.dns_record();
        // SPKI of a 2048-bit key: 294 bytes, base64 392 characters.
        assert!(
            txt.starts_with("v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"),
            "{txt}"
        );
        let signed = String::from_utf8(rsa.sign(msg).unwrap().unwrap()).unwrap();
        assert!(
            signed.starts_with("DKIM-Signature: v=1; a=rsa-sha256;"),
            "{signed}"
        );

        let e = Signer::load(&config(dir.path(), "not a key")).unwrap_err();
        assert!(e.to_string().contains("no PEM private key"), "{e}");
        let mut missing = config(dir.path(), "");
        missing.key = dir.path().join("absent.pem");
        let e = Signer::load(&missing).unwrap_err().to_string();
        assert!(
            e.starts_with("dkim.key ") && e.contains("absent.pem"),
            "{e}"
        );
    }
}
