//! Step two: raw structs to a [`Config`], collecting every error in the file.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use toml::Spanned;

use crate::error::{ConfigError, ConfigErrors, line_of};
use crate::model::*;
use crate::raw::RawConfig;

mod audit;
mod console;
mod delivery;
mod detectors;
mod dkim;
mod encryption;
mod log;
mod policy;
mod review;
mod server;
mod smime;
mod tls;

use audit::audit;
use delivery::delivery;
use delivery::next_hop;
use detectors::detectors;
use detectors::is_category_name;
use encryption::encryption;
use log::log;
use policy::policy;
use tls::outbound_tls;

/// Sizes up to a terabyte are accepted where a size is asked for.
pub(super) const TB: u64 = 1 << 40;

/// Collects errors with their positions while validation walks the file.
pub(super) struct Checker<'a> {
    pub(super) origin: &'a str,
    pub(super) text: &'a str,
    pub(super) errors: Vec<ConfigError>,
    /// Lines of keys that name files, for errors found later.
    pub(super) lines: Vec<(String, usize)>,
}

impl Checker<'_> {
    pub(super) fn line<T>(&self, v: &Spanned<T>) -> usize {
        let span = v.span();
        if span.is_empty() && span.start == 0 {
            0
        } else {
            line_of(self.text, span.start)
        }
    }

    /// Remembers where `key` is, for errors about the file it names.
    pub(super) fn note<T>(&mut self, v: &Spanned<T>, key: &str) {
        let line = self.line(v);
        self.lines.push((key.to_string(), line));
    }

    pub(super) fn error<T>(&mut self, v: &Spanned<T>, key: &str, msg: impl Into<String>) {
        // Values filled in by serde defaults have an empty span: no line to name.
        let span = v.span();
        let line = if span.is_empty() && span.start == 0 {
            0
        } else {
            line_of(self.text, span.start)
        };
        self.errors
            .push(ConfigError::new(self.origin, line, key, msg.into()));
    }

    pub(super) fn socket_addr(&mut self, v: &Spanned<String>, key: &str) -> Option<SocketAddr> {
        match v.get_ref().parse::<SocketAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                self.error(
                    v,
                    key,
                    format!(
                        "`{}` is not an address:port such as 127.0.0.1:2525 or [::1]:2525",
                        v.get_ref()
                    ),
                );
                None
            }
        }
    }

    pub(super) fn positive(&mut self, v: &Spanned<u64>, key: &str, max: u64) -> u64 {
        let n = *v.get_ref();
        if n == 0 || n > max {
            self.error(v, key, format!("must be between 1 and {max}, not {n}"));
        }
        n
    }

    pub(super) fn path(&mut self, v: &Spanned<String>, key: &str) -> PathBuf {
        if v.get_ref().trim().is_empty() {
            self.error(v, key, "must not be empty");
        }
        self.note(v, key);
        PathBuf::from(v.get_ref())
    }

    pub(super) fn at_most(&mut self, v: &Spanned<u64>, key: &str, max: u64) -> u64 {
        let n = *v.get_ref();
        if n > max {
            self.error(v, key, format!("must be at most {max}, not {n}"));
        }
        n
    }
}

pub(crate) fn validate(origin: &str, text: &str, raw: RawConfig) -> Result<Config, ConfigErrors> {
    let mut c = Checker {
        origin,
        text,
        errors: Vec::new(),
        lines: Vec::new(),
    };
    let server = server::server(&mut c, &raw.server);
    let sp = &raw.spool;
    let spool = SpoolConfig {
        dir: c.path(&sp.dir, "spool.dir"),
        group_commit: sp.group_commit,
        segment_size: c.positive(&sp.segment_size, "spool.segment_size", TB),
    };
    if spool.segment_size < 1 << 16 {
        c.error(
            &sp.segment_size,
            "spool.segment_size",
            "must be at least 65536",
        );
    }
    let audit = audit(&mut c, &raw.audit);
    let metrics_listen = c.socket_addr(&raw.metrics.listen, "metrics.listen");
    let relay = raw
        .delivery
        .relay
        .as_ref()
        .and_then(|r| match parse_next_hop(r.get_ref()) {
            Some(h) => Some(h),
            None => {
                c.error(
                    r,
                    "delivery.relay",
                    format!(
                        "`{}` is not a next hop such as [127.0.0.1]:2526 or smtp.example.com:587",
                        r.get_ref()
                    ),
                );
                None
            }
        });

    let detectors = detectors(&mut c, &raw.detectors);
    let delivery_rest = delivery(&mut c, &raw.delivery);
    let outbound_tls = outbound_tls(&mut c, &raw.tls);
    if !delivery_rest.dns.dnssec {
        let levels = [
            (Some(&raw.tls.default), "tls.default"),
            (Some(&raw.tls.phi), "tls.phi"),
        ]
        .into_iter()
        .chain(raw.tls.policy.iter().flat_map(|p| {
            [
                (p.default.as_ref(), "tls.policy.default"),
                (p.phi.as_ref(), "tls.policy.phi"),
            ]
        }));
        for (v, key) in levels {
            if let Some(v) = v.filter(|v| v.get_ref() == "dane") {
                c.error(
                    v,
                    key,
                    "level \"dane\" needs DNSSEC: set [delivery.dns] dnssec = true",
                );
            }
        }
    }
    let encryption = raw.encryption.as_ref().and_then(|e| encryption(&mut c, e));
    let smime = smime::smime(&mut c, raw.smime.as_ref(), &spool.dir);
    let policy = policy(
        &mut c,
        &raw.policy,
        encryption.is_some() || (smime.explicit && smime.enabled),
    );
    let log = log(&mut c, &raw.log);
    let dkim = raw.dkim.as_ref().and_then(|d| dkim::dkim(&mut c, d));
    let review = review::review(&mut c, &raw.review);
    let console = raw
        .console
        .as_ref()
        .and_then(|r| console::console(&mut c, r, server.tls.as_ref()));

    if !c.errors.is_empty() {
        c.errors.sort_by_key(|e| e.line);
        return Err(ConfigErrors(c.errors));
    }
    Ok(Config {
        origin: origin.to_owned(),
        server,
        spool,
        audit,
        metrics: MetricsConfig {
            listen: metrics_listen.expect("checked above"),
        },
        delivery: DeliveryConfig {
            relay,
            ..delivery_rest
        },
        detectors,
        tls: outbound_tls,
        policy,
        encryption,
        dkim,
        smime,
        console,
        review,
        log,
        key_lines: c.lines,
    })
}

/// A network in CIDR form; a bare address is a /32 or /128.
pub(super) fn parse_net(s: &str) -> Option<IpNet> {
    s.parse::<IpNet>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

/// Letters, digits, hyphens and dots, at least two labels.
pub(super) fn is_domain(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    s.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// `[host]:port`, `host:port`, `[host]` or `host`; the port defaults to 25.
pub(crate) fn parse_next_hop(s: &str) -> Option<NextHop> {
    let (host, mx_lookup, rest) = if let Some(inner) = s.strip_prefix('[') {
        let close = inner.find(']')?;
        (&inner[..close], false, &inner[close + 1..])
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, true, &s[h.len()..][..p.len() + 1]),
            _ => (s, true, ""),
        }
    };
    let port = match rest {
        "" => 25,
        r => r
            .strip_prefix(':')?
            .parse::<u16>()
            .ok()
            .filter(|&p| p > 0)?,
    };
    let host = match host.parse::<IpAddr>() {
        Ok(ip) => Host::Ip(ip),
        Err(_) if is_domain(host) => Host::Name(host.to_ascii_lowercase()),
        Err(_) => return None,
    };
    // An address needs no MX lookup whatever the brackets say.
    let mx_lookup = mx_lookup && matches!(host, Host::Name(_));
    Some(NextHop {
        host,
        port,
        mx_lookup,
    })
}

/// A header given as `Name: value`.
pub(super) fn header_line(
    c: &mut Checker<'_>,
    v: &Spanned<String>,
    key: &str,
) -> Option<(String, String)> {
    let text = v.get_ref();
    let parsed = text.split_once(':').and_then(|(n, val)| {
        let (n, val) = (n.trim(), val.trim());
        let name_ok = !n.is_empty() && n.bytes().all(|b| b.is_ascii_graphic() && b != b':');
        (name_ok && !val.is_empty()).then(|| (n.to_string(), val.to_string()))
    });
    if parsed.is_none() || text.contains(['\r', '\n']) {
        c.error(
            v,
            key,
            format!("`{text}` is not a header such as `X-Secure: yes`"),
        );
        return None;
    }
    parsed
}

/// A subject tag or keyword: one line of printable text.
pub(super) fn one_line(c: &mut Checker<'_>, v: &Spanned<String>, key: &str) -> Option<String> {
    let t = v.get_ref();
    if t.trim().is_empty() || t.chars().any(char::is_control) {
        c.error(v, key, "must be non-empty text on one line");
        return None;
    }
    Some(t.clone())
}

pub(super) fn domain_list(c: &mut Checker<'_>, list: &[Spanned<String>], key: &str) -> Vec<String> {
    list.iter()
        .filter_map(|d| {
            let v = d.get_ref().to_ascii_lowercase();
            if is_domain(&v) {
                Some(v)
            } else {
                c.error(d, key, format!("`{v}` is not a domain"));
                None
            }
        })
        .collect()
}
