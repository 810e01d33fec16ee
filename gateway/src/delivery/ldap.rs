//! Recipients' certificates from an LDAP directory (`[smime.ldap]`): the
//! `userCertificate;binary` values (RFC 4523) of the entries whose address
//! attribute (`mail`) equals the recipient, asked when the store has no
//! certificate for them.
//!
//! Always over TLS verified against the same anchors as delivery
//! (`ldaps://`, or `ldap://` upgraded with StartTLS before the bind or the
//! search): a directory anyone on the path could answer for would let them
//! choose the key PHI is encrypted to. The certificates it returns are
//! checked like the store's (validity, key, usages), and one that does not
//! name the recipient or its domain is not used.
//!
//! A small client of our own for the three operations needed (StartTLS,
//! simple bind, one equality search): the directory is a peer, and every
//! byte it sends is bounded here, each message and the whole answer, where
//! a general client buffers a message of whatever length it announces. The
//! search is built as BER, never from a filter string, so an address
//! cannot change what is searched for.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use phigate_config::SmimeLdap;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::tls::Trust;

/// The largest single LDAP message taken (a certificate is a few KiB).
const MAX_MESSAGE: usize = 256 * 1024;
/// The most one lookup reads, all messages together.
const MAX_ANSWER: usize = 1024 * 1024;
/// Entries asked for (the search's size limit).
const MAX_ENTRIES: u32 = 8;
/// Answers remembered; the cache starts over past this.
const MAX_CACHED: usize = 10_000;
/// A failed lookup is not tried again for this long.
const FAILURE_SECS: u64 = 60;
/// RFC 4511 4.14.1.
const STARTTLS_OID: &[u8] = b"1.3.6.1.4.1.1466.20037";
/// What is asked for, and the attribute types that answer it.
const ATTRIBUTE: &[u8] = b"userCertificate;binary";

/// Why the directory could not be asked. Never names the recipient.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LdapError {
    /// No TCP connection.
    #[error("cannot connect: {0}")]
    Connect(String),
    /// The TLS handshake failed (an unverified certificate among others).
    #[error("TLS: {0}")]
    Tls(String),
    /// The server refused StartTLS.
    #[error("StartTLS refused (result {0})")]
    StartTls(u32),
    /// The server refused the bind.
    #[error("bind refused (result {0})")]
    Bind(u32),
    /// The search failed.
    #[error("search failed (result {0})")]
    Search(u32),
    /// Not LDAP as RFC 4511 writes it.
    #[error("protocol error: {0}")]
    Protocol(&'static str),
    /// More than the bounds above.
    #[error("answer too large")]
    TooLarge,
    /// Past `timeout_secs`.
    #[error("timed out")]
    Timeout,
    /// The bind password could not be read.
    #[error("{0}")]
    Password(String),
}

/// What was found for an address: certificates (DER), or why nothing.
type Answer = Result<Arc<Vec<Vec<u8>>>, LdapError>;

/// The configured directory and the answers it gave lately.
pub struct Directory {
    cfg: SmimeLdap,
    password: Option<zeroize::Zeroizing<String>>,
    trust: Trust,
    cache: Mutex<HashMap<String, (Instant, Answer)>>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("url", &self.cfg.url)
            .finish_non_exhaustive()
    }
}

impl Directory {
    /// The directory of `cfg`, its bind password read now (a missing file
    /// is a configuration error at start, not a failure at each lookup).
    pub fn new(cfg: &SmimeLdap, trust: Trust) -> Result<Directory, LdapError> {
        let password = match &cfg.bind {
            Some((_, file)) => {
                let text = std::fs::read_to_string(file)
                    .map_err(|e| LdapError::Password(format!("{}: {e}", file.display())))?;
                Some(zeroize::Zeroizing::new(
                    text.trim_end_matches(['\r', '\n']).to_string(),
                ))
            }
            None => None,
        };
        Ok(Directory {
            cfg: cfg.clone(),
            password,
            trust,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The certificates the directory holds for `address` (DER), from the
    /// cache while fresh.
    pub async fn certificates(&self, address: &str) -> Answer {
        let key = address.to_ascii_lowercase();
        if let Some((at, answer)) = self.cache.lock().expect("ldap cache").get(&key) {
            let ttl = match answer {
                Ok(_) => self.cfg.cache_secs,
                Err(_) => FAILURE_SECS.min(self.cfg.cache_secs),
            };
            if at.elapsed() < Duration::from_secs(ttl) {
                return answer.clone();
            }
        }
        let budget = Duration::from_secs(self.cfg.timeout_secs);
        let answer = match tokio::time::timeout(budget, self.lookup(&key)).await {
            Ok(r) => r.map(Arc::new),
            Err(_) => Err(LdapError::Timeout),
        };
        let mut cache = self.cache.lock().expect("ldap cache");
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(key, (Instant::now(), answer.clone()));
        answer
    }

    async fn lookup(&self, address: &str) -> Result<Vec<Vec<u8>>, LdapError> {
        let cfg = &self.cfg;
        let mut tcp = TcpStream::connect((cfg.host.as_str(), cfg.port))
            .await
            .map_err(|e| LdapError::Connect(e.to_string()))?;
        let mut budget = MAX_ANSWER;
        if cfg.starttls {
            tcp.write_all(&message(1, &tlv(0x77, &tlv(0x80, STARTTLS_OID))))
                .await
                .map_err(|e| LdapError::Connect(e.to_string()))?;
            let (_, op, body) = read_message(&mut tcp, &mut budget).await?;
            if op != 0x78 {
                return Err(LdapError::Protocol("no answer to StartTLS"));
            }
            match result_code(&body)? {
                0 => {}
                code => return Err(LdapError::StartTls(code)),
            }
        }
        let config = rustls::ClientConfig::builder_with_provider(crate::tls::provider())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default versions")
            .with_root_certificates(self.trust.roots())
            .with_no_client_auth();
        let name = rustls_pki_types::ServerName::try_from(cfg.host.clone())
            .map_err(|e| LdapError::Tls(e.to_string()))?;
        let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| LdapError::Tls(e.to_string()))?;
        if let (Some((dn, _)), Some(password)) = (&cfg.bind, &self.password) {
            let mut bind = int(0x02, 3);
            bind.extend(tlv(0x04, dn.as_bytes()));
            bind.extend(tlv(0x80, password.as_bytes()));
            send(&mut tls, &message(2, &tlv(0x60, &bind))).await?;
            let (_, op, body) = read_message(&mut tls, &mut budget).await?;
            if op != 0x61 {
                return Err(LdapError::Protocol("no answer to the bind"));
            }
            match result_code(&body)? {
                0 => {}
                code => return Err(LdapError::Bind(code)),
            }
        }
        send(&mut tls, &message(3, &search(cfg, address))).await?;
        let mut found = Vec::new();
        loop {
            let (id, op, body) = read_message(&mut tls, &mut budget).await?;
            if id != 3 {
                return Err(LdapError::Protocol("an answer to another request"));
            }
            match op {
                // SearchResultEntry
                0x64 => certificates_in_entry(&body, &mut found)?,
                // SearchResultReference: elsewhere, not followed.
                0x73 => {}
                // SearchResultDone: success, or the size limit reached.
                0x65 => match result_code(&body)? {
                    0 | 4 => break,
                    code => return Err(LdapError::Search(code)),
                },
                _ => return Err(LdapError::Protocol("unexpected operation")),
            }
        }
        // UnbindRequest, then close; neither is waited on.
        let _ = tls.write_all(&message(4, &[0x42, 0x00])).await;
        let _ = tls.shutdown().await;
        Ok(found)
    }
}

/// SearchRequest: `attribute` equal to `address` under `base`, the whole
/// subtree, aliases not followed, only the certificate asked back.
fn search(cfg: &SmimeLdap, address: &str) -> Vec<u8> {
    let mut req = tlv(0x04, cfg.base.as_bytes());
    req.extend(tlv(0x0a, &[2])); // wholeSubtree
    req.extend(tlv(0x0a, &[0])); // neverDerefAliases
    req.extend(int(0x02, MAX_ENTRIES));
    req.extend(int(0x02, cfg.timeout_secs.min(u32::MAX as u64) as u32));
    req.extend(tlv(0x01, &[0])); // typesOnly FALSE
    let mut equality = tlv(0x04, cfg.attribute.as_bytes());
    equality.extend(tlv(0x04, address.as_bytes()));
    req.extend(tlv(0xa3, &equality));
    req.extend(tlv(0x30, &tlv(0x04, ATTRIBUTE)));
    tlv(0x63, &req)
}

/// The certificate values of one SearchResultEntry, appended to `out`.
fn certificates_in_entry(body: &[u8], out: &mut Vec<Vec<u8>>) -> Result<(), LdapError> {
    let mut entry = Ber(body);
    entry.expect(0x04)?; // objectName
    let mut attributes = Ber(entry.expect(0x30)?);
    while !attributes.0.is_empty() {
        let mut attribute = Ber(attributes.expect(0x30)?);
        let kind = attribute.expect(0x04)?;
        let mut values = Ber(attribute.expect(0x31)?);
        // `userCertificate;binary`, or `userCertificate` from a server that
        // leaves the option off (the value is the DER either way).
        let wanted = kind
            .split(|&b| b == b';')
            .next()
            .is_some_and(|t| t.eq_ignore_ascii_case(b"userCertificate"));
        while !values.0.is_empty() {
            let v = values.expect(0x04)?;
            if wanted && out.len() < MAX_ENTRIES as usize * 4 {
                out.push(v.to_vec());
            }
        }
    }
    Ok(())
}

/// The resultCode of an LDAPResult.
fn result_code(body: &[u8]) -> Result<u32, LdapError> {
    let code = Ber(body).expect(0x0a)?;
    if code.is_empty() || code.len() > 4 {
        return Err(LdapError::Protocol("bad result code"));
    }
    Ok(code.iter().fold(0u32, |n, &b| (n << 8) | u32::from(b)))
}

async fn send<S: AsyncWrite + Unpin>(s: &mut S, bytes: &[u8]) -> Result<(), LdapError> {
    s.write_all(bytes)
        .await
        .map_err(|e| LdapError::Connect(e.to_string()))
}

/// One LDAPMessage: its id, the protocolOp's tag and the op's contents.
/// Lengths are definite in LDAP (RFC 4511 5.1); each is checked against
/// what is left of `budget` before anything is read into memory.
async fn read_message<S: AsyncRead + Unpin>(
    s: &mut S,
    budget: &mut usize,
) -> Result<(u32, u8, Vec<u8>), LdapError> {
    let io = |e: std::io::Error| LdapError::Connect(e.to_string());
    let mut head = [0u8; 2];
    s.read_exact(&mut head).await.map_err(io)?;
    if head[0] != 0x30 {
        return Err(LdapError::Protocol("not an LDAPMessage"));
    }
    let len = match head[1] {
        n if n < 0x80 => n as usize,
        n if (0x81..=0x84).contains(&n) => {
            let mut bytes = [0u8; 4];
            let k = (n & 0x7f) as usize;
            s.read_exact(&mut bytes[4 - k..]).await.map_err(io)?;
            u32::from_be_bytes(bytes) as usize
        }
        _ => return Err(LdapError::Protocol("indefinite or oversized length")),
    };
    if len > MAX_MESSAGE || len > *budget {
        return Err(LdapError::TooLarge);
    }
    *budget -= len;
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).await.map_err(io)?;
    let mut msg = Ber(&body);
    let id = msg.expect(0x02)?;
    if id.is_empty() || id.len() > 4 {
        return Err(LdapError::Protocol("bad message id"));
    }
    let id = id.iter().fold(0u32, |n, &b| (n << 8) | u32::from(b));
    let (op, contents) = msg.next()?;
    Ok((id, op, contents.to_vec()))
}

/// A cursor over BER elements with definite lengths.
struct Ber<'a>(&'a [u8]);

impl<'a> Ber<'a> {
    /// The next element's tag and contents.
    fn next(&mut self) -> Result<(u8, &'a [u8]), LdapError> {
        let bad = LdapError::Protocol("truncated element");
        let (&tag, rest) = self.0.split_first().ok_or(bad.clone())?;
        if tag & 0x1f == 0x1f {
            return Err(LdapError::Protocol("multi-byte tag"));
        }
        let (&first, rest) = rest.split_first().ok_or(bad.clone())?;
        let (len, rest) = match first {
            n if n < 0x80 => (n as usize, rest),
            n if (0x81..=0x84).contains(&n) => {
                let k = (n & 0x7f) as usize;
                if rest.len() < k {
                    return Err(bad);
                }
                let len = rest[..k]
                    .iter()
                    .fold(0usize, |l, &b| (l << 8) | usize::from(b));
                (len, &rest[k..])
            }
            _ => return Err(LdapError::Protocol("indefinite length")),
        };
        if rest.len() < len {
            return Err(bad);
        }
        self.0 = &rest[len..];
        Ok((tag, &rest[..len]))
    }

    /// The next element's contents, which must have `tag`.
    fn expect(&mut self, tag: u8) -> Result<&'a [u8], LdapError> {
        match self.next()? {
            (t, c) if t == tag => Ok(c),
            _ => Err(LdapError::Protocol("unexpected element")),
        }
    }
}

/// A BER element with a definite length.
fn tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = contents.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = (n as u32).to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (4 - skip) as u8);
        out.extend(&bytes[skip..]);
    }
    out.extend(contents);
    out
}

/// A non-negative INTEGER (or ENUMERATED) in the fewest octets.
fn int(tag: u8, n: u32) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(3);
    let mut v = Vec::with_capacity(5);
    if bytes[skip] & 0x80 != 0 {
        // A leading zero keeps it positive.
        v.push(0);
    }
    v.extend(&bytes[skip..]);
    tlv(tag, &v)
}

/// An LDAPMessage with `id` around `op`.
fn message(id: u32, op: &[u8]) -> Vec<u8> {
    let mut m = int(0x02, id);
    m.extend(op);
    tlv(0x30, &m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_lengths_are_minimal_and_positive() {
        assert_eq!(int(0x02, 3), [0x02, 1, 3]);
        assert_eq!(int(0x02, 0), [0x02, 1, 0]);
        assert_eq!(int(0x02, 128), [0x02, 2, 0, 128]);
        assert_eq!(int(0x02, 0x8000_0000), [0x02, 5, 0, 0x80, 0, 0, 0]);
        assert_eq!(tlv(0x04, &[7; 200])[..3], [0x04, 0x81, 200]);
        assert_eq!(tlv(0x04, &[7; 300])[..4], [0x04, 0x82, 1, 44]);
    }

    /// An address with filter syntax in it is only ever a value: the
    /// equality element carries it as an octet string.
    #[test]
    fn the_address_is_a_value_not_a_filter() {
        let cfg = phigate_config::Config::from_toml(
            "t.toml",
            "[smime.ldap]\nurl = \"ldaps://dir.example\"\nbase = \"dc=example\"\n",
        )
        .unwrap()
        .smime
        .ldap
        .unwrap();
        let evil = "*)(objectClass=*";
        let req = search(&cfg, evil);
        let mut op = Ber(&req);
        let mut body = Ber(op.expect(0x63).unwrap());
        for tag in [0x04, 0x0a, 0x0a, 0x02, 0x02, 0x01] {
            body.expect(tag).unwrap();
        }
        let mut eq = Ber(body.expect(0xa3).unwrap());
        assert_eq!(eq.expect(0x04).unwrap(), b"mail");
        assert_eq!(eq.expect(0x04).unwrap(), evil.as_bytes());
    }

    #[test]
    fn entries_give_their_certificates_and_junk_is_an_error() {
        let mut attrs = Vec::new();
        let mut a = tlv(0x04, b"userCertificate;binary");
        a.extend(tlv(
            0x31,
            &[tlv(0x04, b"DER1"), tlv(0x04, b"DER2")].concat(),
        ));
        attrs.extend(tlv(0x30, &a));
        let mut b = tlv(0x04, b"cn");
        b.extend(tlv(0x31, &tlv(0x04, b"x")));
        attrs.extend(tlv(0x30, &b));
        let mut entry = tlv(0x04, b"cn=x,dc=example");
        entry.extend(tlv(0x30, &attrs));
        let mut out = Vec::new();
        certificates_in_entry(&entry, &mut out).unwrap();
        assert_eq!(out, [b"DER1".to_vec(), b"DER2".to_vec()]);
        assert!(certificates_in_entry(&entry[..entry.len() - 1], &mut out).is_err());
        assert!(certificates_in_entry(&[0x04, 0x80], &mut out).is_err());
    }

    /// A peer announcing a message past the bound is refused before any
    /// of it is read into memory.
    #[tokio::test]
    async fn an_oversized_message_is_refused_unread() {
        let (mut client, mut server) = tokio::io::duplex(64);
        tokio::spawn(async move {
            // SEQUENCE of 1 GiB.
            let _ = server.write_all(&[0x30, 0x84, 0x40, 0, 0, 0]).await;
            let _ = server.write_all(&[0; 32]).await;
        });
        let mut budget = MAX_ANSWER;
        let r = read_message(&mut client, &mut budget).await;
        assert!(matches!(r, Err(LdapError::TooLarge)), "{r:?}");
    }
}
