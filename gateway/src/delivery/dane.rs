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
use hickory_resolver::proto::dnssec::rdata::{DNSSECRData, DS};
use hickory_resolver::proto::dnssec::{Algorithm, DigestType, Proof, TrustAnchors, Verifier as _};
use hickory_resolver::proto::op::{Edns, Message, Query};
use hickory_resolver::proto::rr::{DNSClass, LowerName, Name, RData, Record, RecordType};
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
    /// The trust anchor file is unreadable or not DNSKEY or DS records.
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
    /// Built once the trust anchors are known: at once from DNSKEY
    /// anchors, or from DS anchors once a lookup found the key sets they
    /// name.
    resolver: tokio::sync::Mutex<Option<Arc<TokioResolver>>>,
    /// When the DS anchors last failed to give keys: tried again a minute
    /// later, not at every lookup (a stalling name server would otherwise
    /// hold every DANE lookup behind the lock for its timeouts).
    failed_at: std::sync::Mutex<Option<std::time::Instant>>,
    /// DS anchors still to turn into keys, with the keys given as such.
    pending: Option<Pending>,
    cfg: DnsConfig,
}

/// DS trust anchors (RFC 4034 section 5), each naming a key-signing key
/// of its zone by digest.
#[derive(Clone)]
struct Pending {
    ds: Vec<(Name, DS)>,
    keys: TrustAnchors,
}

impl std::fmt::Debug for Dane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dane").finish_non_exhaustive()
    }
}

impl Dane {
    /// A validating resolver asking what routing asks (the system's
    /// resolver or `servers`), trusting the root's keys or `trust_anchor`
    /// (DNSKEY or DS records). `None` when `[delivery.dns]` does not turn
    /// DNSSEC on.
    pub fn new(cfg: &DnsConfig) -> Result<Option<Dane>, DaneError> {
        if !cfg.dnssec || cfg.static_only {
            return Ok(None);
        }
        let (anchors, pending) = match &cfg.trust_anchor {
            None => (TrustAnchors::default(), None),
            Some(path) => {
                let bad = |why: String| DaneError::Anchor {
                    path: path.display().to_string(),
                    why,
                };
                let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
                let (keys, ds) = anchor_file(&text).map_err(bad)?;
                if ds.is_empty() {
                    (keys, None)
                } else {
                    (keys.clone(), Some(Pending { ds, keys }))
                }
            }
        };
        let resolver = match pending {
            Some(_) => None,
            None => Some(Arc::new(validating(cfg, anchors)?)),
        };
        Ok(Some(Dane {
            resolver: tokio::sync::Mutex::new(resolver),
            failed_at: std::sync::Mutex::new(None),
            pending,
            cfg: cfg.clone(),
        }))
    }

    /// The validating resolver; with DS anchors, made on first use. `None`
    /// while a DS anchor's zone gives no key set it authenticates (every
    /// answer then counts as bogus: mail waits; a lookup a minute later
    /// tries again).
    async fn resolver(&self) -> Option<Arc<TokioResolver>> {
        let mut slot = self.resolver.lock().await;
        if let Some(r) = slot.as_ref() {
            return Some(Arc::clone(r));
        }
        let pending = self.pending.as_ref()?;
        let failed_at = |t: Option<std::time::Instant>| {
            *self.failed_at.lock().expect("DS anchor retry time") = t;
        };
        let recent = self
            .failed_at
            .lock()
            .expect("DS anchor retry time")
            .is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(60));
        if recent {
            return None;
        }
        let servers = name_servers(&self.cfg);
        let mut anchors = pending.keys.clone();
        for (zone, ds) in &pending.ds {
            match keys_for_ds(&servers, zone, ds, crate::date::now()).await {
                Ok(keys) => {
                    for k in keys {
                        if let Ok(key) = k.key() {
                            anchors.insert_with_name(&*key, LowerName::new(zone));
                        }
                    }
                }
                Err(why) => {
                    tracing::warn!(zone = %zone, key_tag = ds.key_tag(), why, "DS trust anchor: no key set it authenticates");
                    failed_at(Some(std::time::Instant::now()));
                    return None;
                }
            }
        }
        let r = Arc::new(validating(&self.cfg, anchors).ok()?);
        failed_at(None);
        *slot = Some(Arc::clone(&r));
        Some(r)
    }

    /// What DNSSEC says about `domain`'s MX answer and `hosts`' TLSA
    /// records at `port`.
    pub async fn lookup(&self, domain: &str, hosts: &[String], port: u16) -> Found {
        let Some(resolver) = self.resolver().await else {
            return Found::Bogus;
        };
        let mx = match resolver.mx_lookup(format!("{domain}.")).await {
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
            let records = match resolver.tlsa_lookup(name).await {
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

impl Dane {
    /// The certificates DNSSEC-secure SMIMEA records (RFC 8162) publish for
    /// `rcpt`: usage 3 (the domain's own word, as DANE-EE), selector 0 and
    /// matching 0 (the whole certificate, which encryption needs). Nothing
    /// from an insecure or bogus answer.
    pub async fn smimea(&self, rcpt: &str) -> Vec<Vec<u8>> {
        let Some((local, domain)) = rcpt.rsplit_once('@') else {
            return Vec::new();
        };
        let Some(resolver) = self.resolver().await else {
            return Vec::new();
        };
        let digest = ring::digest::digest(&ring::digest::SHA256, local.as_bytes());
        let label: String = digest.as_ref()[..28]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let name = format!("{label}._smimecert.{}.", domain.to_ascii_lowercase());
        let Ok(answer) = resolver.lookup(name, RecordType::SMIMEA).await else {
            return Vec::new();
        };
        answer
            .answers()
            .iter()
            .filter(|r| r.proof == Proof::Secure)
            .filter_map(|r| match &r.data {
                RData::SMIMEA(s)
                    if u8::from(s.0.cert_usage) == 3
                        && u8::from(s.0.selector) == 0
                        && u8::from(s.0.matching) == 0 =>
                {
                    Some(s.0.cert_data.clone())
                }
                _ => None,
            })
            .collect()
    }
}

/// A resolver asking what routing asks, validating from `anchors`.
fn validating(cfg: &DnsConfig, anchors: TrustAnchors) -> Result<TokioResolver, DaneError> {
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
    builder
        .build()
        .map_err(|e| DaneError::Resolver(e.to_string()))
}

/// The servers routing asks: `servers`, else the system's (port 53).
fn name_servers(cfg: &DnsConfig) -> Vec<std::net::SocketAddr> {
    if !cfg.servers.is_empty() {
        return cfg.servers.clone();
    }
    hickory_resolver::system_conf::read_system_conf()
        .map(|(c, _)| {
            c.name_servers
                .iter()
                .map(|n| std::net::SocketAddr::new(n.ip, 53))
                .collect()
        })
        .unwrap_or_default()
}

/// The whole DNSKEY set of `zone`, once its signature by the key `ds`
/// names is checked (RFC 4035 section 5.2): the validator is then given
/// every key of the set, as a DNSKEY anchor file gives them (hickory
/// otherwise asks the parent zone for a DS record, which a private zone's
/// anchor does not have).
async fn keys_for_ds(
    servers: &[std::net::SocketAddr],
    zone: &Name,
    ds: &DS,
    now: u64,
) -> Result<Vec<hickory_resolver::proto::dnssec::rdata::DNSKEY>, String> {
    let answers = ask_dnskey(servers, zone).await?;
    let mut keys = Vec::new();
    let mut sigs = Vec::new();
    for r in &answers {
        if r.name != *zone {
            continue;
        }
        match &r.data {
            RData::DNSSEC(DNSSECRData::DNSKEY(k)) => keys.push((r, k)),
            RData::DNSSEC(DNSSECRData::RRSIG(s))
                if s.input().type_covered == RecordType::DNSKEY =>
            {
                sigs.push(s)
            }
            _ => {}
        }
    }
    let Some((_, ksk)) = keys
        .iter()
        .find(|(_, k)| ds.covers(zone, k).unwrap_or(false))
    else {
        return Err("no DNSKEY matches the DS digest".into());
    };
    let records: Vec<&Record> = keys.iter().map(|(r, _)| *r).collect();
    let now = now as u32;
    let signed = sigs.iter().any(|s| {
        let i = s.input();
        i.key_tag == ds.key_tag()
            && i.sig_inception.get() <= now
            && now <= i.sig_expiration.get()
            && ksk
                .verify_rrsig(zone, DNSClass::IN, s, records.iter().copied())
                .is_ok()
    });
    if !signed {
        return Err("the DNSKEY set is not signed by the key the DS names".into());
    }
    Ok(keys.into_iter().map(|(_, k)| k.clone()).collect())
}

/// The DNSKEY answer for `zone` with its RRSIGs (the DO bit set), over UDP,
/// again over TCP when truncated; the first server that answers.
async fn ask_dnskey(servers: &[std::net::SocketAddr], zone: &Name) -> Result<Vec<Record>, String> {
    use rand_core::RngCore as _;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut q = Message::query();
    q.metadata.id = rand_core::OsRng.next_u32() as u16;
    q.metadata.recursion_desired = true;
    q.add_query(Query::query(zone.clone(), RecordType::DNSKEY));
    let mut edns = Edns::new();
    edns.set_dnssec_ok(true);
    edns.set_max_payload(4096);
    q.set_edns(edns);
    let bytes = q.to_vec().map_err(|e| e.to_string())?;
    let wait = std::time::Duration::from_secs(3);
    let mut last = "no name server".to_string();
    for &server in servers {
        let bind: std::net::SocketAddr = if server.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let udp = async {
            let sock = tokio::net::UdpSocket::bind(bind).await?;
            sock.connect(server).await?;
            sock.send(&bytes).await?;
            let mut buf = vec![0u8; 65535];
            let n = sock.recv(&mut buf).await?;
            buf.truncate(n);
            Ok::<_, std::io::Error>(buf)
        };
        let reply = match tokio::time::timeout(wait, udp).await {
            Ok(Ok(b)) => b,
            Ok(Err(e)) => {
                last = e.to_string();
                continue;
            }
            Err(_) => {
                last = format!("{server}: no answer");
                continue;
            }
        };
        let mut msg = match Message::from_vec(&reply) {
            Ok(m) if m.metadata.id == q.metadata.id => m,
            _ => continue,
        };
        if msg.metadata.truncation {
            let tcp = async {
                let mut s = tokio::net::TcpStream::connect(server).await?;
                s.write_all(&(bytes.len() as u16).to_be_bytes()).await?;
                s.write_all(&bytes).await?;
                let len = s.read_u16().await? as usize;
                let mut buf = vec![0u8; len];
                s.read_exact(&mut buf).await?;
                Ok::<_, std::io::Error>(buf)
            };
            match tokio::time::timeout(wait, tcp).await {
                Ok(Ok(b)) => match Message::from_vec(&b) {
                    Ok(m) if m.metadata.id == q.metadata.id => msg = m,
                    _ => continue,
                },
                _ => continue,
            }
        }
        return Ok(msg.answers);
    }
    Err(last)
}

/// A trust anchor file: DNSKEY records (as `dig DNSKEY` prints them) and
/// DS records (`owner [ttl] [IN] DS tag algorithm digest-type hex`), one
/// per line; `;` starts a comment.
fn anchor_file(text: &str) -> Result<(TrustAnchors, Vec<(Name, DS)>), String> {
    let mut keys = String::new();
    let mut ds = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split(';').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.iter().position(|w| w.eq_ignore_ascii_case("DS")) {
            Some(at) if f.len() >= at + 5 => {
                let bad = |what: &str| format!("line {}: {what}", n + 1);
                let name = Name::from_ascii(f[0]).map_err(|_| bad("owner name"))?;
                let tag: u16 = f[at + 1].parse().map_err(|_| bad("key tag"))?;
                let alg: u8 = f[at + 2].parse().map_err(|_| bad("algorithm"))?;
                let digest_type: u8 = f[at + 3].parse().map_err(|_| bad("digest type"))?;
                let hex: String = f[at + 4..].concat();
                let digest = (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("x"), 16))
                    .collect::<Result<Vec<u8>, _>>()
                    .map_err(|_| bad("digest is not hex"))?;
                if !matches!(digest_type, 2 | 4) {
                    return Err(bad("digest type must be 2 (SHA-256) or 4 (SHA-384)"));
                }
                ds.push((
                    name,
                    DS::new(
                        tag,
                        Algorithm::from_u8(alg),
                        DigestType::from(digest_type),
                        digest,
                    ),
                ));
            }
            Some(_) => return Err(format!("line {}: a DS record needs 4 fields", n + 1)),
            None => {
                keys.push_str(line);
                keys.push('\n');
            }
        }
    }
    if keys.is_empty() && ds.is_empty() {
        return Err("no DNSKEY or DS record".into());
    }
    let anchors = if keys.is_empty() {
        TrustAnchors::empty()
    } else {
        keys.parse::<TrustAnchors>().map_err(|e| e.to_string())?
    };
    Ok((anchors, ds))
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

#[cfg(test)]
mod anchor_tests {
    use super::*;
    use hickory_resolver::proto::serialize::txt::trust_anchor::{Entry, Parser};

    /// A DS line as `ldns-key2ds -2` prints it names the key it was made
    /// from; key lines beside DS lines stay keys; bad lines say which.
    #[test]
    fn ds_lines_name_their_key() {
        let key = "example. 3600 IN DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==";
        let ds = "example.\t3600\tIN\tDS\t2371 13 2 45f3e654251ed1ef06d12e43dcad351b36f0e4a530e44c62558a3979b8b260cd";
        let (_, parsed) = anchor_file(&format!("; comment\n{ds}\n")).unwrap();
        assert_eq!(parsed.len(), 1);
        let Entry::DNSKEY(record) = Parser::new(key).parse().unwrap().remove(0) else {
            panic!("not a DNSKEY");
        };
        let (name, ds) = &parsed[0];
        assert_eq!(ds.key_tag(), 2371);
        assert!(ds.covers(name, record.data()).unwrap());
        let Err(e) = anchor_file("example. IN DS 1 13 9 00\n") else {
            panic!("digest type 9 taken");
        };
        assert!(e.contains("line 1: digest type"), "{e}");
        assert!(anchor_file("; nothing\n").is_err());
        assert!(anchor_file(&format!("{key}\n")).unwrap().1.is_empty());
    }
}
