//! A certificate authority made fresh for each test, and certificates it signs.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose, SanType};
use rustls_pki_types::CertificateDer;

/// A test CA.
pub struct TestCa {
    params: CertificateParams,
    key: KeyPair,
    cert: rcgen::Certificate,
}

/// A certificate and key on disk.
pub struct Identity {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        TestCa { params, key, cert }
    }

    /// The CA certificate in DER, for a client's root store.
    pub fn der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }

    /// Writes the CA certificate as PEM.
    pub fn write_pem(&self, path: &Path) {
        std::fs::write(path, self.cert.pem()).unwrap();
    }

    /// Issues a server certificate for `names` (DNS names or IP addresses)
    /// and writes it with its key into `dir` as `<stem>.crt` / `<stem>.key`.
    pub fn issue(&self, dir: &Path, stem: &str, names: &[&str]) -> Identity {
        self.issue_with(dir, stem, names, false)
    }

    /// Like [`TestCa::issue`]; `expired` makes a certificate that ran out in 2020.
    pub fn issue_with(&self, dir: &Path, stem: &str, names: &[&str], expired: bool) -> Identity {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        if expired {
            params.not_before = rcgen::date_time_ymd(2019, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 1, 1);
        }
        params.distinguished_name.push(DnType::CommonName, names[0]);
        params.subject_alt_names = names
            .iter()
            .map(|n| match n.parse::<std::net::IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName((*n).try_into().unwrap()),
            })
            .collect();
        let key = KeyPair::generate().unwrap();
        let issuer = rcgen::Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).unwrap();
        let id = Identity {
            cert: dir.join(format!("{stem}.crt")),
            key: dir.join(format!("{stem}.key")),
        };
        std::fs::write(&id.cert, cert.pem()).unwrap();
        std::fs::write(&id.key, key.serialize_pem()).unwrap();
        id
    }

    /// Issues an S/MIME certificate for `email` with a key made by `openssl`
    /// (RSA-2048, the key transport every S/MIME client reads, unless
    /// `kind` asks for EC), writing `<stem>.crt`, `<stem>.key` and
    /// `<stem>.p12` (password `test`) into `dir`.
    pub fn issue_smime(&self, dir: &Path, stem: &str, email: &str, kind: SmimeKind) -> Identity {
        let openssl = crate::require_tool("openssl");
        let key_path = dir.join(format!("{stem}.key"));
        let (keyopt, sign_algo, usage) = match kind {
            SmimeKind::EcP256 => (
                ["EC", "ec_paramgen_curve:P-256"],
                &rcgen::PKCS_ECDSA_P256_SHA256,
                KeyUsagePurpose::KeyAgreement,
            ),
            SmimeKind::EcP384 => (
                ["EC", "ec_paramgen_curve:P-384"],
                &rcgen::PKCS_ECDSA_P384_SHA384,
                KeyUsagePurpose::KeyAgreement,
            ),
            _ => (
                ["RSA", "rsa_keygen_bits:2048"],
                &rcgen::PKCS_RSA_SHA256,
                KeyUsagePurpose::KeyEncipherment,
            ),
        };
        let ok = std::process::Command::new(&openssl)
            .args([
                "genpkey",
                "-quiet",
                "-algorithm",
                keyopt[0],
                "-pkeyopt",
                keyopt[1],
            ])
            .arg("-out")
            .arg(&key_path)
            .status()
            .unwrap()
            .success();
        assert!(ok, "openssl genpkey failed");
        let pem = std::fs::read_to_string(&key_path).unwrap();
        let key = KeyPair::from_pem_and_sign_algo(&pem, sign_algo).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, email);
        params.subject_alt_names = vec![SanType::Rfc822Name(email.try_into().unwrap())];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, usage];
        params.extended_key_usages = match kind {
            SmimeKind::NoEmailProtection => vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth],
            _ => vec![rcgen::ExtendedKeyUsagePurpose::EmailProtection],
        };
        if kind == SmimeKind::Expired {
            params.not_before = rcgen::date_time_ymd(2019, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 1, 1);
        }
        let issuer = rcgen::Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).unwrap();
        let id = Identity {
            cert: dir.join(format!("{stem}.crt")),
            key: key_path,
        };
        std::fs::write(&id.cert, cert.pem()).unwrap();
        let ok = std::process::Command::new(&openssl)
            // 3DES and SHA-1 MAC: the PKCS#12 form gpgsm reads.
            .args([
                "pkcs12",
                "-export",
                "-passout",
                "pass:test",
                "-keypbe",
                "PBE-SHA1-3DES",
                "-certpbe",
                "PBE-SHA1-3DES",
                "-macalg",
                "sha1",
                "-in",
            ])
            .arg(&id.cert)
            .arg("-inkey")
            .arg(&id.key)
            .arg("-out")
            .arg(dir.join(format!("{stem}.p12")))
            .status()
            .unwrap()
            .success();
        assert!(ok, "openssl pkcs12 failed");
        id
    }
}

/// What kind of S/MIME certificate [`TestCa::issue_smime`] makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmimeKind {
    /// Valid now, emailProtection, key encipherment.
    Good,
    /// Ran out in 2020.
    Expired,
    /// For TLS servers only (serverAuth), not e-mail.
    NoEmailProtection,
    /// An EC key on P-256, key agreement.
    EcP256,
    /// An EC key on P-384, key agreement.
    EcP384,
}
