//! MTA-STS (RFC 8461): which MX hosts a recipient domain says are its own.
//!
//! The MX answer itself is unauthenticated DNS: an attacker who can answer
//! it names their own host, which then presents a perfectly valid
//! certificate for its own name. A domain that publishes an MTA-STS policy
//! in `enforce` mode lists its MX hosts (by name pattern) over HTTPS with a
//! certificate for `mta-sts.<domain>`; a host outside that list gets
//! nothing. The policy is discovered through a `_mta-sts` TXT record whose
//! `id` changes when the policy does, cached for its `max_age` (also across
//! restarts, in the spool directory) and used while a refresh fails.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::timeout;

use super::route::Router;
use crate::tls::Trust;

/// Largest policy body read (RFC 8461 section 3.3 suggests 64 KiB).
pub const MAX_POLICY: usize = 64 * 1024;
/// Largest response header block read.
const MAX_HEAD: usize = super::https::MAX_HEAD;
/// Longest a policy is kept (RFC 8461 section 3.2: at most a year).
const MAX_AGE_CAP: u64 = 31_557_600;
/// Time for one policy fetch, connect to last byte.
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// What a policy asks of senders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Deliver only to listed MX hosts over verified TLS.
    Enforce,
    /// Report failures, deliver anyway.
    Testing,
    /// The domain withdrew its policy.
    None,
}

impl Mode {
    /// The word in policies and records.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Testing => "testing",
            Mode::None => "none",
        }
    }
}

/// A domain's policy, as fetched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// The `id` of the TXT record it was fetched under.
    pub id: String,
    /// What it asks.
    pub mode: Mode,
    /// MX host patterns: names, or `*.` and one label.
    pub mx: Vec<String>,
    /// Seconds it may be kept.
    pub max_age: u64,
    /// When it was fetched (Unix seconds).
    pub fetched_at: u64,
}

impl Policy {
    /// Whether `host` is one of the policy's MX hosts (RFC 8461 section
    /// 4.1: a `*.` pattern stands for exactly one leftmost label).
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.mx.iter().any(|p| match p.strip_prefix("*.") {
            Some(rest) => host
                .split_once('.')
                .is_some_and(|(label, tail)| !label.is_empty() && tail == rest),
            None => host == *p,
        })
    }

    /// The policy as its lines (for TLS reports' `policy-string`).
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![
            "version: STSv1".to_string(),
            format!("mode: {}", self.mode.as_str()),
        ];
        out.extend(self.mx.iter().map(|m| format!("mx: {m}")));
        out.push(format!("max_age: {}", self.max_age));
        out
    }

    fn expired(&self, now: u64) -> bool {
        now >= self.fetched_at.saturating_add(self.max_age)
    }
}

/// Why a policy text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// `version: STSv1` missing or another version.
    #[error("not an STSv1 policy")]
    Version,
    /// `mode` missing or unknown.
    #[error("no valid mode")]
    Mode,
    /// `max_age` missing or not a number.
    #[error("no valid max_age")]
    MaxAge,
    /// `enforce` or `testing` without any `mx`.
    #[error("no mx")]
    NoMx,
}

/// Parses a policy body (RFC 8461 section 3.2); `id` and the fetch time
/// are the caller's.
pub fn parse(text: &str, id: &str, now: u64) -> Result<Policy, PolicyError> {
    let (mut version, mut mode, mut max_age, mut mx) = (None, None, None, Vec::new());
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "version" => version = Some(value.to_string()),
            "mode" => {
                mode = match value {
                    "enforce" => Some(Mode::Enforce),
                    "testing" => Some(Mode::Testing),
                    "none" => Some(Mode::None),
                    _ => return Err(PolicyError::Mode),
                }
            }
            "max_age" => max_age = Some(value.parse::<u64>().map_err(|_| PolicyError::MaxAge)?),
            "mx" => mx.push(value.trim_end_matches('.').to_ascii_lowercase()),
            // Unknown keys are ignored (section 3.2).
            _ => {}
        }
    }
    if version.as_deref() != Some("STSv1") {
        return Err(PolicyError::Version);
    }
    let mode = mode.ok_or(PolicyError::Mode)?;
    let max_age = max_age.ok_or(PolicyError::MaxAge)?.min(MAX_AGE_CAP);
    if mode != Mode::None && mx.is_empty() {
        return Err(PolicyError::NoMx);
    }
    Ok(Policy {
        id: id.to_string(),
        mode,
        mx,
        max_age,
        fetched_at: now,
    })
}

/// The `id` of a `_mta-sts` TXT record (`v=STSv1; id=...`), if it is one.
pub fn txt_id(record: &str) -> Option<String> {
    let mut fields = record.split(';').map(str::trim);
    if fields.next()? != "v=STSv1" {
        return None;
    }
    fields
        .filter_map(|f| f.split_once('='))
        .find(|(k, _)| k.trim() == "id")
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty() && v.len() <= 32 && v.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Proof that the next hop is an MX host an `enforce` policy lists: made
/// only here, and required by the TLS policy for level `mta-sts` (and for
/// `secure` when the domain has such a policy).
///
/// ```compile_fail
/// // Only an enforced policy that lists the host makes one.
/// let a = phigate::delivery::mta_sts::Approval { id: "1".into() };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// The policy's id.
    id: String,
}

impl Approval {
    /// The id of the policy that listed the host, for the audit record.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// The MTA-STS state of one destination, as delivery sees it.
#[derive(Debug, Clone)]
pub enum Published {
    /// No policy (no TXT record, mode `none`, or nothing fetched and nothing cached).
    Nothing,
    /// A policy in `testing` mode: deliver as without, note the result.
    Testing(Policy),
    /// A policy in `enforce` mode.
    Enforce(Policy),
}

impl Published {
    /// For an `enforce` policy: an approval for `host` when the policy lists it.
    pub fn approve(&self, host: &str) -> Option<Approval> {
        match self {
            Published::Enforce(p) if p.allows(host) => Some(Approval { id: p.id.clone() }),
            _ => None,
        }
    }
}

/// Policies by domain: fetched, cached, persisted.
pub struct Sts {
    cache: Mutex<HashMap<String, Policy>>,
    file: Option<PathBuf>,
    port: u16,
    trust: Trust,
    /// Fetches in flight are not shared; a domain fetched twice at once is
    /// harmless (the later result wins).
    timeout: Duration,
}

impl std::fmt::Debug for Sts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sts")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Sts {
    /// A policy store persisted in `file` (read now; a missing or damaged
    /// file is an empty cache), fetching from `port` with `trust`.
    pub fn new(file: Option<PathBuf>, port: u16, trust: Trust) -> Sts {
        let cache = file
            .as_ref()
            .and_then(|f| std::fs::read(f).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        Sts {
            cache: Mutex::new(cache),
            file,
            port,
            trust,
            timeout: FETCH_TIMEOUT,
        }
    }

    /// What `domain` publishes now (RFC 8461 section 5): the TXT record's
    /// id against the cache, a fetch when it changed or the cached policy
    /// expired, the cached policy when the record or the fetch fails.
    pub async fn published(&self, router: &Router, domain: &str) -> Published {
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        let now = crate::date::now();
        let cached = self.cache.lock().expect("sts cache").get(&domain).cloned();
        let cached = cached.filter(|p| !p.expired(now));
        let id = match router.txt(&format!("_mta-sts.{domain}")).await {
            Ok(records) => {
                let ids: Vec<String> = records.iter().filter_map(|r| txt_id(r)).collect();
                // Exactly one record (section 3.1); more than one is none.
                (ids.len() == 1).then(|| ids[0].clone())
            }
            Err(_) => None,
        };
        let policy = match (id, cached) {
            (None, cached) => cached,
            (Some(id), Some(p)) if p.id == id => Some(p),
            (Some(id), cached) => match self.fetch(router, &domain, &id, now).await {
                Ok(p) => {
                    self.store(&domain, p.clone());
                    Some(p)
                }
                Err(e) => {
                    tracing::info!(domain = %domain, error = %e, "MTA-STS policy fetch failed");
                    cached
                }
            },
        };
        match policy {
            Some(p) if p.mode == Mode::Enforce => Published::Enforce(p),
            Some(p) if p.mode == Mode::Testing => Published::Testing(p),
            _ => Published::Nothing,
        }
    }

    fn store(&self, domain: &str, p: Policy) {
        let mut cache = self.cache.lock().expect("sts cache");
        cache.insert(domain.to_string(), p);
        let Some(file) = &self.file else {
            return;
        };
        // Written whole and renamed into place: a crash leaves the old file.
        let tmp = file.with_extension("tmp");
        let write = || -> std::io::Result<()> {
            let mut f = crate::fsmode::create_private(&tmp)?;
            std::io::Write::write_all(&mut f, &serde_json::to_vec(&*cache)?)?;
            f.sync_all()?;
            std::fs::rename(&tmp, file)
        };
        if let Err(e) = write() {
            tracing::warn!(error = %e, "could not persist the MTA-STS policy cache");
        }
    }

    async fn fetch(
        &self,
        router: &Router,
        domain: &str,
        id: &str,
        now: u64,
    ) -> Result<Policy, FetchError> {
        let host = format!("mta-sts.{domain}");
        let addrs = router
            .address_list(&host, self.port)
            .await
            .map_err(|e| FetchError::Dns(e.to_string()))?;
        let request = super::https::Request {
            host: &host,
            path: "/.well-known/mta-sts.txt",
            post: None,
        };
        let raw = timeout(
            self.timeout,
            super::https::send(&request, &addrs, &self.trust),
        )
        .await
        .map_err(|_| FetchError::Timeout)?
        .map_err(|e| match e {
            super::https::HttpsError::Connect => FetchError::Connect,
            super::https::HttpsError::Tls(t) => FetchError::Tls(t),
            super::https::HttpsError::TooLarge => FetchError::TooLarge,
        })?;
        let body = response_body(&raw)?;
        let text = std::str::from_utf8(&body).map_err(|_| FetchError::Body)?;
        parse(text, id, now).map_err(FetchError::Policy)
    }
}

/// Why a policy could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The policy host's name did not resolve.
    #[error("policy host: {0}")]
    Dns(String),
    /// No connection.
    #[error("cannot connect to the policy host")]
    Connect,
    /// The handshake or the certificate failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// Too slow.
    #[error("timed out")]
    Timeout,
    /// Not a 200 (redirects are not followed: section 3.3).
    #[error("HTTP status {0}")]
    Status(u16),
    /// Not `text/plain`, or a malformed response.
    #[error("malformed response")]
    Body,
    /// Larger than the bound.
    #[error("policy larger than 64 KiB")]
    TooLarge,
    /// The policy itself.
    #[error("policy: {0}")]
    Policy(PolicyError),
}

/// The body of a complete HTTP/1.1 response: status 200, `text/plain`,
/// `Content-Length`, chunked or closed-delimited, at most [`MAX_POLICY`].
pub fn response_body(raw: &[u8]) -> Result<Vec<u8>, FetchError> {
    let split = memchr::memmem::find(raw, b"\r\n\r\n").ok_or(FetchError::Body)?;
    if split > MAX_HEAD {
        return Err(FetchError::TooLarge);
    }
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| FetchError::Body)?;
    let rest = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or(FetchError::Body)?;
    if status != 200 {
        return Err(FetchError::Status(status));
    }
    let (mut length, mut chunked, mut plain) = (None, false, false);
    for l in lines {
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase());
        match k.as_str() {
            "content-length" => length = v.parse::<usize>().ok(),
            "transfer-encoding" => chunked = v.contains("chunked"),
            "content-type" => plain = v.starts_with("text/plain"),
            _ => {}
        }
    }
    if !plain {
        return Err(FetchError::Body);
    }
    let body = if chunked {
        dechunk(rest)?
    } else if let Some(n) = length {
        rest.get(..n).ok_or(FetchError::Body)?.to_vec()
    } else {
        rest.to_vec()
    };
    if body.len() > MAX_POLICY {
        return Err(FetchError::TooLarge);
    }
    Ok(body)
}

fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, FetchError> {
    let mut out = Vec::new();
    loop {
        let eol = memchr::memmem::find(rest, b"\r\n").ok_or(FetchError::Body)?;
        let size = std::str::from_utf8(&rest[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok())
            .ok_or(FetchError::Body)?;
        rest = &rest[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        if out.len() + size > MAX_POLICY {
            return Err(FetchError::TooLarge);
        }
        out.extend_from_slice(rest.get(..size).ok_or(FetchError::Body)?);
        rest = rest.get(size + 2..).ok_or(FetchError::Body)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_per_rfc_8461() {
        let p = parse(
            "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 86400\r\n",
            "20261202",
            100,
        )
        .unwrap();
        assert_eq!(p.mode, Mode::Enforce);
        assert!(p.allows("mail.example.com") && p.allows("MAIL.example.com."));
        assert!(p.allows("mx1.example.net"));
        assert!(!p.allows("a.b.example.net"), "a wildcard is one label");
        assert!(!p.allows("example.net") && !p.allows("evil.example.com"));
        assert!(!p.expired(100 + 86_399) && p.expired(100 + 86_400));
        assert_eq!(
            parse("version: STSv2\nmode: enforce\nmx: a\nmax_age: 1", "x", 0),
            Err(PolicyError::Version)
        );
        assert_eq!(
            parse("version: STSv1\nmode: enforce\nmax_age: 1", "x", 0),
            Err(PolicyError::NoMx)
        );
        assert_eq!(
            parse("version: STSv1\nmode: strict\nmx: a\nmax_age: 1", "x", 0),
            Err(PolicyError::Mode)
        );
        let long = parse("version: STSv1\nmode: none\nmax_age: 99999999999", "x", 0).unwrap();
        assert_eq!(long.max_age, MAX_AGE_CAP);
    }

    #[test]
    fn txt_records() {
        assert_eq!(
            txt_id("v=STSv1; id=20160831085700Z;"),
            Some("20160831085700Z".into())
        );
        assert_eq!(txt_id("v=STSv1;id=abc"), Some("abc".into()));
        assert_eq!(txt_id("v=spf1 -all"), None);
        assert_eq!(txt_id("v=STSv1; id=bad-id"), None);
    }

    #[test]
    fn responses_are_bounded_and_strict() {
        let ok = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhelloXX";
        assert_eq!(response_body(ok).unwrap(), b"hello");
        let chunked = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(response_body(chunked).unwrap(), b"abcde");
        let redirect = b"HTTP/1.1 301 Moved\r\nLocation: https://evil.example/\r\n\r\n";
        assert_eq!(response_body(redirect), Err(FetchError::Status(301)));
        let html = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\nx";
        assert_eq!(response_body(html), Err(FetchError::Body));
        let mut big = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n".to_vec();
        big.extend(vec![b'a'; MAX_POLICY + 1]);
        assert_eq!(response_body(&big), Err(FetchError::TooLarge));
    }

    #[test]
    fn approvals_only_for_listed_hosts_of_enforced_policies() {
        let p = parse(
            "version: STSv1\nmode: enforce\nmx: mx.good.test\nmax_age: 60",
            "1",
            0,
        )
        .unwrap();
        assert!(
            Published::Enforce(p.clone())
                .approve("mx.good.test")
                .is_some()
        );
        assert!(
            Published::Enforce(p.clone())
                .approve("mx.evil.test")
                .is_none()
        );
        assert!(Published::Testing(p).approve("mx.good.test").is_none());
        assert!(Published::Nothing.approve("mx.good.test").is_none());
    }
}
