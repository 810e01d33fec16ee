//! S/MIME encryption (RFC 8551) of a whole message to its recipients'
//! certificates: the message as it would have left (headers and body) is
//! the encrypted content; outside are only the headers delivery and the
//! recipient's mail client need (trace, From, Date, Message-ID, the
//! recipients' bare addresses) and a neutral Subject, so neither the
//! subject nor a display name carrying a patient's name is left in clear.
//!
//! By default CMS EnvelopedData with AES-256-CBC content encryption and
//! RSA (PKCS#1 v1.5) key transport: what every S/MIME client reads. For
//! domains configured to read them: AES-256-GCM in AuthEnvelopedData
//! (RFC 5083/5084, the content authenticated as well as encrypted) and
//! RSAES-OAEP with SHA-256 (RFC 8017, RFC 4055). A recipient whose
//! certificate holds an EC key (P-256, P-384) gets ECDH key agreement
//! instead (RFC 5753: ephemeral-static, the X9.63 KDF with SHA-256 or
//! SHA-384, AES-256 key wrap), whatever the content cipher. The RustCrypto
//! `cms` builder makes EnvelopedData and the PKCS#1 v1.5 recipient; OAEP
//! and ECDH are recipient builders of ours (the builder's key agreement is
//! a placeholder), and AuthEnvelopedData, which the builder does not make,
//! is assembled from the same types here.

use cms::builder::{
    ContentEncryptionAlgorithm, EnvelopedDataBuilder, KeyEncryptionInfo,
    KeyTransRecipientInfoBuilder, RecipientInfoBuilder, RecipientInfoType,
};
use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::enveloped_data::{
    EncryptedContentInfo, KeyAgreeRecipientIdentifier, KeyAgreeRecipientInfo,
    KeyTransRecipientInfo, OriginatorIdentifierOrKey, OriginatorPublicKey, RecipientEncryptedKey,
    RecipientIdentifier, RecipientInfo, RecipientInfos,
};
use der::asn1::{BitString, ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode, Sequence};
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::{BodyPart, MimePart};
use phigate_config::SmimeAlgorithms;
use rand_core::RngCore as _;
use rsa::pkcs8::DecodePublicKey as _;
use x509_cert::der::oid::db::{rfc5911, rfc5912};
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::certs::{CertKey, RecipientCert};

/// Why a message could not be encrypted (a certificate the store took but
/// CMS could not use: never expected, and never a reason to send in clear).
#[derive(Debug, thiserror::Error)]
#[error("S/MIME encryption failed: {0}")]
pub struct SmimeError(String);

fn err(e: impl std::fmt::Display) -> SmimeError {
    SmimeError(e.to_string())
}

/// The message as S/MIME sends it to `cert`: signed by `signer` first
/// when the practice has an identity (RFC 8551 3.6), then encrypted; the
/// outer headers come from `message` either way.
pub fn seal(
    message: &[u8],
    cert: &RecipientCert,
    algorithms: SmimeAlgorithms,
    rcpts: &[String],
    subject: &str,
    signer: Option<&SmimeSigner>,
) -> Result<Vec<u8>, SmimeError> {
    match signer {
        Some(s) => encrypt(
            &s.sign(message)?,
            &[cert],
            algorithms,
            rcpts,
            subject,
            Some(message),
        ),
        None => encrypt(message, &[cert], algorithms, rcpts, subject, None),
    }
}

/// `message` (CRLF lines) encrypted with `algorithms` to every certificate
/// in `certs`, as an `application/pkcs7-mime` message (smime-type
/// `enveloped-data`, or `authEnveloped-data` for GCM) addressed to `rcpts`
/// with `subject` outside.
///
/// `headers_from` is the message whose headers go outside when `message`
/// is not itself one (a signed entity wrapping it); `None`: `message`.
fn encrypt(
    message: &[u8],
    certs: &[&RecipientCert],
    algorithms: SmimeAlgorithms,
    rcpts: &[String],
    subject: &str,
    headers_from: Option<&[u8]>,
) -> Result<Vec<u8>, SmimeError> {
    let der = content_info(message, certs, algorithms)?;
    let message = headers_from.unwrap_or(message);
    let smime_type = if algorithms.gcm {
        "authEnveloped-data"
    } else {
        "enveloped-data"
    };
    // The outside, built by mail-builder: the copied fields as they were
    // (folding kept), the bare recipients, the neutral subject, and the
    // CMS object as a base64 attachment.
    let (head, _) = split_head(message);
    let mut outer = mail_builder::MessageBuilder::new();
    for (name, raw) in header_fields(head) {
        if let Some(known) = OUTER.iter().find(|o| o.eq_ignore_ascii_case(name)) {
            // After the colon, whatever stood before it (`Received :`).
            let value = raw.splitn(2, |&b| b == b':').nth(1).unwrap_or_default();
            let value = String::from_utf8_lossy(value);
            // Unfolded (RFC 5322 2.2.3); the builder folds it again.
            let value = value
                .trim_start_matches([' ', '\t'])
                .trim_end_matches(['\r', '\n'])
                .replace("\r\n", "");
            outer = outer.header(*known, Raw::new(value));
        }
    }
    let to: Vec<&str> = rcpts.iter().map(String::as_str).collect();
    let outer = outer.to(to).subject(subject).body(
        MimePart::new(
            ContentType::new("application/pkcs7-mime")
                .attribute("smime-type", smime_type)
                .attribute("name", "smime.p7m"),
            BodyPart::Binary(der.into()),
        )
        .attachment("smime.p7m")
        .header("Content-Description", Raw::new("S/MIME Encrypted Message")),
    );
    outer.write_to_vec().map_err(err)
}

/// The practice's own S/MIME identity, signing what it encrypts (RFC 8551
/// section 3.6: signed, then enveloped). RSA with SHA-256, computed by ring
/// (constant-time), behind the traits the `cms` builder asks for.
pub struct SmimeSigner {
    key: ring::signature::RsaKeyPair,
    cert: x509_cert::Certificate,
}

impl std::fmt::Debug for SmimeSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmimeSigner").finish_non_exhaustive()
    }
}

impl SmimeSigner {
    /// Loads the certificate and RSA key (PEM: PKCS#8 or PKCS#1).
    pub fn load(cert: &std::path::Path, key: &std::path::Path) -> Result<SmimeSigner, String> {
        let read = |p: &std::path::Path| {
            std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))
        };
        let cert_der = super::pem::decode(&read(cert)?)?
            .into_iter()
            .find(|(l, _)| l == "CERTIFICATE")
            .ok_or_else(|| format!("{}: no CERTIFICATE block", cert.display()))?
            .1;
        let cert_parsed = x509_cert::Certificate::from_der(&cert_der)
            .map_err(|e| format!("{}: {e}", cert.display()))?;
        let (label, key_der) = super::pem::decode(&read(key)?)?
            .into_iter()
            .next()
            .ok_or_else(|| format!("{}: no PEM block", key.display()))?;
        let pair = match label.as_str() {
            "PRIVATE KEY" => ring::signature::RsaKeyPair::from_pkcs8(&key_der),
            "RSA PRIVATE KEY" => ring::signature::RsaKeyPair::from_der(&key_der),
            other => return Err(format!("{}: {other} is not an RSA key", key.display())),
        }
        .map_err(|e| format!("{}: {e}", key.display()))?;
        let spki = cert_parsed
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes();
        if pair.public().as_ref() != spki {
            return Err(format!(
                "{} is not the key of {}",
                key.display(),
                cert.display()
            ));
        }
        Ok(SmimeSigner {
            key: pair,
            cert: cert_parsed,
        })
    }

    /// `content` as opaque S/MIME signed data (the MIME entity
    /// `application/pkcs7-mime; smime-type=signed-data`), the certificate
    /// included.
    pub fn sign(&self, content: &[u8]) -> Result<Vec<u8>, SmimeError> {
        use cms::builder::{SignedDataBuilder, SignerInfoBuilder, create_signing_time_attribute};
        use cms::signed_data::{EncapsulatedContentInfo, SignerIdentifier};
        let eci = EncapsulatedContentInfo {
            econtent_type: rfc5911::ID_DATA,
            econtent: Some(Any::new(der::Tag::OctetString, content).map_err(err)?),
        };
        let sha256 = AlgorithmIdentifierOwned {
            oid: x509_cert::der::oid::db::rfc5912::ID_SHA_256,
            parameters: None,
        };
        let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: self.cert.tbs_certificate.issuer.clone(),
            serial_number: self.cert.tbs_certificate.serial_number.clone(),
        });
        let mut info =
            SignerInfoBuilder::new(self, sid, sha256.clone(), &eci, None).map_err(err)?;
        info.add_signed_attribute(create_signing_time_attribute().map_err(err)?)
            .map_err(err)?;
        let mut data = SignedDataBuilder::new(&eci);
        data.add_digest_algorithm(sha256).map_err(err)?;
        data.add_certificate(cms::cert::CertificateChoices::Certificate(
            self.cert.clone(),
        ))
        .map_err(err)?;
        data.add_signer_info::<_, rsa::pkcs1v15::Signature>(info)
            .map_err(err)?;
        let der = data.build().map_err(err)?.to_der().map_err(err)?;
        let mut out = Vec::new();
        MimePart::new(
            ContentType::new("application/pkcs7-mime")
                .attribute("smime-type", "signed-data")
                .attribute("name", "smime.p7m"),
            BodyPart::Binary(der.into()),
        )
        .attachment("smime.p7m")
        .write_part(&mut out)
        .map_err(err)?;
        Ok(out)
    }
}

impl signature::Keypair for SmimeSigner {
    type VerifyingKey = ();
    fn verifying_key(&self) {}
}

impl x509_cert::spki::DynSignatureAlgorithmIdentifier for SmimeSigner {
    fn signature_algorithm_identifier(&self) -> x509_cert::spki::Result<AlgorithmIdentifierOwned> {
        Ok(AlgorithmIdentifierOwned {
            oid: rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
            parameters: Some(Any::null()),
        })
    }
}

impl signature::Signer<rsa::pkcs1v15::Signature> for SmimeSigner {
    fn try_sign(&self, msg: &[u8]) -> Result<rsa::pkcs1v15::Signature, signature::Error> {
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                msg,
                &mut sig,
            )
            .map_err(|_| signature::Error::new())?;
        rsa::pkcs1v15::Signature::try_from(sig.as_slice())
    }
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

/// One recipient's key transport, as the `cms` builder takes it.
fn recipient<'r>(
    cert: &RecipientCert,
    oaep: bool,
    rng: &'r mut rand_core::OsRng,
) -> Result<Box<dyn RecipientInfoBuilder + 'r>, SmimeError> {
    let parsed = x509_cert::Certificate::from_der(&cert.der).map_err(err)?;
    let ias = IssuerAndSerialNumber {
        issuer: parsed.tbs_certificate.issuer.clone(),
        serial_number: parsed.tbs_certificate.serial_number.clone(),
    };
    let curve = match cert.key {
        CertKey::P256 => Some(Curve::P256),
        CertKey::P384 => Some(Curve::P384),
        CertKey::Rsa => None,
        CertKey::Other => return Err(err("the certificate's key is not supported")),
    };
    if let Some(curve) = curve {
        let point = parsed
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes()
            .to_vec();
        return Ok(Box::new(EcdhRecipient {
            rid: KeyAgreeRecipientIdentifier::IssuerAndSerialNumber(ias),
            point,
            curve,
        }));
    }
    let spki = parsed
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(err)?;
    let key = rsa::RsaPublicKey::from_public_key_der(&spki).map_err(err)?;
    let rid = RecipientIdentifier::IssuerAndSerialNumber(ias);
    if oaep {
        return Ok(Box::new(OaepRecipient { rid, key }));
    }
    let b =
        KeyTransRecipientInfoBuilder::new(rid, KeyEncryptionInfo::Rsa(key), rng).map_err(err)?;
    Ok(Box::new(b))
}

/// The CMS ContentInfo, DER: EnvelopedData (AES-256-CBC) or
/// AuthEnvelopedData (AES-256-GCM).
fn content_info(
    content: &[u8],
    certs: &[&RecipientCert],
    algorithms: SmimeAlgorithms,
) -> Result<Vec<u8>, SmimeError> {
    let mut rngs: Vec<rand_core::OsRng> = certs.iter().map(|_| rand_core::OsRng).collect();
    let mut recipients = Vec::with_capacity(certs.len());
    for (cert, rng) in certs.iter().zip(rngs.iter_mut()) {
        recipients.push(recipient(cert, algorithms.oaep, rng)?);
    }
    let info = if algorithms.gcm {
        ContentInfo {
            content_type: rfc5911::ID_CT_AUTH_ENVELOPED_DATA,
            content: Any::encode_from(&auth_enveloped(content, recipients)?).map_err(err)?,
        }
    } else {
        let mut builder =
            EnvelopedDataBuilder::new(None, content, ContentEncryptionAlgorithm::Aes256Cbc, None)
                .map_err(err)?;
        for r in recipients {
            builder.add_recipient_info(BoxedRecipient(r)).map_err(err)?;
        }
        let data = builder.build_with_rng(&mut rand_core::OsRng).map_err(err)?;
        ContentInfo {
            content_type: rfc5911::ID_ENVELOPED_DATA,
            content: Any::encode_from(&data).map_err(err)?,
        }
    };
    info.to_der().map_err(err)
}

/// A boxed recipient builder handed to `EnvelopedDataBuilder`, which takes
/// `impl RecipientInfoBuilder`.
struct BoxedRecipient<'r>(Box<dyn RecipientInfoBuilder + 'r>);

impl RecipientInfoBuilder for BoxedRecipient<'_> {
    fn recipient_info_type(&self) -> RecipientInfoType {
        self.0.recipient_info_type()
    }
    fn recipient_info_version(&self) -> CmsVersion {
        self.0.recipient_info_version()
    }
    fn build(&mut self, key: &[u8]) -> Result<RecipientInfo, cms::builder::Error> {
        self.0.build(key)
    }
}

/// RSAES-OAEP key transport with SHA-256 and MGF1-SHA-256 (RFC 4055), for
/// the `cms` builder, which has PKCS#1 v1.5 only.
struct OaepRecipient {
    rid: RecipientIdentifier,
    key: rsa::RsaPublicKey,
}

impl RecipientInfoBuilder for OaepRecipient {
    fn recipient_info_type(&self) -> RecipientInfoType {
        RecipientInfoType::Ktri
    }
    fn recipient_info_version(&self) -> CmsVersion {
        // RFC 5652 section 6.2.1: 0 with issuerAndSerialNumber.
        CmsVersion::V0
    }
    fn build(&mut self, cek: &[u8]) -> Result<RecipientInfo, cms::builder::Error> {
        let encrypted = self
            .key
            .encrypt(&mut rand_core::OsRng, rsa::Oaep::new::<sha2::Sha256>(), cek)
            .map_err(|e| cms::builder::Error::Builder(e.to_string()))?;
        let params = rsa::pkcs1::RsaOaepParams::new::<sha2::Sha256>();
        Ok(RecipientInfo::Ktri(KeyTransRecipientInfo {
            version: CmsVersion::V0,
            rid: self.rid.clone(),
            key_enc_alg: AlgorithmIdentifierOwned {
                oid: rfc5912::ID_RSAES_OAEP,
                parameters: Some(Any::encode_from(&params)?),
            },
            enc_key: OctetString::new(encrypted)?,
        }))
    }
}

/// How the content key reaches `cert`'s holder with `algorithms`, as the
/// audit record and `certs chain` name it: `aes256-cbc rsa`, ...,
/// `aes256-gcm ecdh-p384`.
pub fn method(cert: &RecipientCert, algorithms: SmimeAlgorithms) -> &'static str {
    match (cert.key, algorithms.gcm) {
        (CertKey::P256, false) => "aes256-cbc ecdh-p256",
        (CertKey::P256, true) => "aes256-gcm ecdh-p256",
        (CertKey::P384, false) => "aes256-cbc ecdh-p384",
        (CertKey::P384, true) => "aes256-gcm ecdh-p384",
        _ => algorithms.as_str(),
    }
}

/// The NIST curves ECDH is done on.
#[derive(Clone, Copy)]
enum Curve {
    P256,
    P384,
}

/// dhSinglePass-stdDH-sha256kdf-scheme (RFC 5753 7.1.4, SEC 1).
const ECDH_SHA256_KDF: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.1.11.1");
/// dhSinglePass-stdDH-sha384kdf-scheme.
const ECDH_SHA384_KDF: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.1.11.2");

/// RFC 5753 7.2 ECC-CMS-SharedInfo: what the KDF binds the key to.
#[derive(Clone, Debug, Sequence)]
struct EccCmsSharedInfo {
    key_info: AlgorithmIdentifierOwned,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    entity_u_info: Option<OctetString>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT")]
    supp_pub_info: OctetString,
}

/// Ephemeral-static ECDH key agreement (RFC 5753 3.1.1): a fresh key pair
/// per message and recipient, the shared secret through the ANSI X9.63 KDF
/// (SHA-256 on P-256, SHA-384 on P-384, as RFC 5753 8 pairs them) into an
/// AES-256 key that wraps the content key (RFC 3394).
struct EcdhRecipient {
    rid: KeyAgreeRecipientIdentifier,
    /// The recipient's public point, uncompressed, from its certificate.
    point: Vec<u8>,
    curve: Curve,
}

impl RecipientInfoBuilder for EcdhRecipient {
    fn recipient_info_type(&self) -> RecipientInfoType {
        RecipientInfoType::Kari
    }
    fn recipient_info_version(&self) -> CmsVersion {
        // RFC 5652 6.2.2: always 3.
        CmsVersion::V3
    }
    fn build(&mut self, cek: &[u8]) -> Result<RecipientInfo, cms::builder::Error> {
        use ring::agreement;
        let fail = |what: &str| cms::builder::Error::Builder(format!("ECDH: {what}"));
        let (alg, scheme, digest) = match self.curve {
            Curve::P256 => (
                &agreement::ECDH_P256,
                ECDH_SHA256_KDF,
                &ring::digest::SHA256,
            ),
            Curve::P384 => (
                &agreement::ECDH_P384,
                ECDH_SHA384_KDF,
                &ring::digest::SHA384,
            ),
        };
        let wrap = AlgorithmIdentifierOwned {
            oid: rfc5911::ID_AES_256_WRAP,
            parameters: None,
        };
        let shared_info = EccCmsSharedInfo {
            key_info: wrap.clone(),
            entity_u_info: None,
            // The key-encryption key's length in bits, big-endian.
            supp_pub_info: OctetString::new(256u32.to_be_bytes().to_vec())?,
        }
        .to_der()?;
        let rng = ring::rand::SystemRandom::new();
        let private = agreement::EphemeralPrivateKey::generate(alg, &rng)
            .map_err(|_| fail("key generation"))?;
        let public = private
            .compute_public_key()
            .map_err(|_| fail("public key"))?;
        let peer = agreement::UnparsedPublicKey::new(alg, &self.point);
        // X9.63: one block is enough for a 256-bit key:
        // Hash(Z || 00000001 || SharedInfo).
        let kek = agreement::agree_ephemeral(private, &peer, |z| {
            let mut ctx = ring::digest::Context::new(digest);
            ctx.update(z);
            ctx.update(&1u32.to_be_bytes());
            ctx.update(&shared_info);
            let mut kek = zeroize::Zeroizing::new([0u8; 32]);
            kek.copy_from_slice(&ctx.finish().as_ref()[..32]);
            kek
        })
        .map_err(|_| fail("the certificate's point is not on its curve"))?;
        let wrapped = aes_kw::KekAes256::from(*kek)
            .wrap_vec(cek)
            .map_err(|_| fail("key wrap"))?;
        Ok(RecipientInfo::Kari(KeyAgreeRecipientInfo {
            version: CmsVersion::V3,
            // id-ecPublicKey with parameters absent: the curve is the
            // recipient's own (RFC 5753 7.1.2).
            originator: OriginatorIdentifierOrKey::OriginatorKey(OriginatorPublicKey {
                algorithm: AlgorithmIdentifierOwned {
                    oid: rfc5912::ID_EC_PUBLIC_KEY,
                    parameters: None,
                },
                public_key: BitString::from_bytes(public.as_ref())?,
            }),
            ukm: None,
            key_enc_alg: AlgorithmIdentifierOwned {
                oid: scheme,
                parameters: Some(Any::encode_from(&wrap)?),
            },
            recipient_enc_keys: vec![RecipientEncryptedKey {
                rid: self.rid.clone(),
                enc_key: OctetString::new(wrapped)?,
            }],
        }))
    }
}

/// RFC 5083 AuthEnvelopedData, without the optional parts the gateway
/// never writes (originator info, attributes).
#[derive(Clone, Debug, Sequence)]
struct AuthEnvelopedData {
    version: CmsVersion,
    recip_infos: RecipientInfos,
    auth_encrypted_content: EncryptedContentInfo,
    mac: OctetString,
}

/// RFC 5084 GCMParameters.
#[derive(Clone, Debug, Sequence)]
struct GcmParameters {
    nonce: OctetString,
    icv_len: u8,
}

/// AES-256-GCM over `content` with a fresh key and nonce; the key goes to
/// each recipient, then is wiped.
fn auth_enveloped(
    content: &[u8],
    recipients: Vec<Box<dyn RecipientInfoBuilder + '_>>,
) -> Result<AuthEnvelopedData, SmimeError> {
    use aes_gcm::aead::{AeadInPlace, KeyInit};
    let mut cek = zeroize::Zeroizing::new([0u8; 32]);
    let mut nonce = [0u8; 12];
    rand_core::OsRng.fill_bytes(&mut cek[..]);
    rand_core::OsRng.fill_bytes(&mut nonce);
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(&cek[..]).map_err(err)?;
    let mut data = content.to_vec();
    let tag = cipher
        .encrypt_in_place_detached(&nonce.into(), b"", &mut data)
        .map_err(err)?;
    let params = GcmParameters {
        nonce: OctetString::new(nonce.to_vec()).map_err(err)?,
        icv_len: 16,
    };
    let mut infos = Vec::with_capacity(recipients.len());
    for mut r in recipients {
        infos.push(r.build(&cek[..]).map_err(err)?);
    }
    let set = SetOfVec::try_from(infos).map_err(err)?;
    Ok(AuthEnvelopedData {
        version: CmsVersion::V0,
        recip_infos: RecipientInfos(set),
        auth_encrypted_content: EncryptedContentInfo {
            content_type: rfc5911::ID_DATA,
            content_enc_alg: AlgorithmIdentifierOwned {
                oid: rfc5911::ID_AES_256_GCM,
                parameters: Some(Any::encode_from(&params).map_err(err)?),
            },
            encrypted_content: Some(OctetString::new(data).map_err(err)?),
        },
        mac: OctetString::new(tag.to_vec()).map_err(err)?,
    })
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
