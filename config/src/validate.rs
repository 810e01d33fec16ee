//! Step two: raw structs to a [`Config`], collecting every error in the file.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use toml::Spanned;

use crate::error::{ConfigError, ConfigErrors, line_of};
use crate::model::*;
use crate::raw::RawConfig;

/// Collects errors with their positions while validation walks the file.
struct Checker<'a> {
    origin: &'a str,
    text: &'a str,
    errors: Vec<ConfigError>,
    /// Lines of keys that name files, for errors found later.
    lines: Vec<(String, usize)>,
}

impl Checker<'_> {
    fn line<T>(&self, v: &Spanned<T>) -> usize {
        let span = v.span();
        if span.is_empty() && span.start == 0 {
            0
        } else {
            line_of(self.text, span.start)
        }
    }

    /// Remembers where `key` is, for errors about the file it names.
    fn note<T>(&mut self, v: &Spanned<T>, key: &str) {
        let line = self.line(v);
        self.lines.push((key.to_string(), line));
    }

    fn error<T>(&mut self, v: &Spanned<T>, key: &str, msg: impl Into<String>) {
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

    fn socket_addr(&mut self, v: &Spanned<String>, key: &str) -> Option<SocketAddr> {
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

    fn positive(&mut self, v: &Spanned<u64>, key: &str, max: u64) -> u64 {
        let n = *v.get_ref();
        if n == 0 || n > max {
            self.error(v, key, format!("must be between 1 and {max}, not {n}"));
        }
        n
    }

    fn path(&mut self, v: &Spanned<String>, key: &str) -> PathBuf {
        if v.get_ref().trim().is_empty() {
            self.error(v, key, "must not be empty");
        }
        self.note(v, key);
        PathBuf::from(v.get_ref())
    }

    fn at_most(&mut self, v: &Spanned<u64>, key: &str, max: u64) -> u64 {
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
    let s = &raw.server;

    if s.listen.is_empty() {
        c.errors.push(ConfigError::new(
            origin,
            0,
            "server.listen",
            "needs at least one address",
        ));
    }
    let listen = s
        .listen
        .iter()
        .filter_map(|l| c.socket_addr(l, "server.listen"))
        .collect();

    let hostname = s.hostname.get_ref().clone();
    if !is_domain(&hostname) {
        c.error(
            &s.hostname,
            "server.hostname",
            format!("`{hostname}` is not a fully qualified host name"),
        );
    }

    let relay_networks = s
        .relay_networks
        .iter()
        .filter_map(|n| match parse_net(n.get_ref()) {
            Some(net) => Some(net),
            None => {
                c.error(
                    n,
                    "server.relay_networks",
                    format!(
                        "`{}` is not a network such as 192.168.1.0/24 or ::1/128",
                        n.get_ref()
                    ),
                );
                None
            }
        })
        .collect();

    const TB: u64 = 1 << 40;
    let max_message_size = c.positive(&s.max_message_size, "server.max_message_size", TB);
    let max_recipients = c.positive(&s.max_recipients, "server.max_recipients", 100_000);
    let max_line_length = c.positive(&s.max_line_length, "server.max_line_length", 1 << 20);
    if max_line_length < 512 {
        c.error(
            &s.max_line_length,
            "server.max_line_length",
            "must be at least 512 (RFC 5321 4.5.3.1.4)",
        );
    }
    let max_connections = c.positive(&s.max_connections, "server.max_connections", 1 << 20);
    let max_per_ip = c.positive(
        &s.max_connections_per_ip,
        "server.max_connections_per_ip",
        1 << 20,
    );
    let day = 86_400;
    let command_timeout = c.positive(&s.command_timeout_secs, "server.command_timeout_secs", day);
    let data_timeout = c.positive(&s.data_timeout_secs, "server.data_timeout_secs", day);
    let max_errors = c.positive(&s.max_errors, "server.max_errors", 1_000);
    let grace = c.positive(&s.shutdown_grace_secs, "server.shutdown_grace_secs", day);

    let max_hops = c.positive(&s.max_hops, "server.max_hops", 1000);
    let min_data_rate = c.at_most(&s.min_data_rate, "server.min_data_rate", 1 << 30);
    let untrusted = match &s.max_connections_untrusted {
        Some(v) => c.positive(v, "server.max_connections_untrusted", 1 << 20) as usize,
        None => (max_connections as usize / 2).max(1),
    };
    let auth_concurrency = c.positive(&s.auth_concurrency, "server.auth_concurrency", 64);
    let auth_max_failures = c.positive(&s.auth_max_failures, "server.auth_max_failures", 1000);
    let auth_lockout = c.positive(&s.auth_lockout_secs, "server.auth_lockout_secs", day);
    let local_domains = domain_list(&mut c, &s.local_domains, "server.local_domains");
    let mut relay_client_names = Vec::new();
    for n in &s.relay_client_names {
        let name = n.get_ref().to_ascii_lowercase();
        if !is_domain(name.strip_prefix("*.").unwrap_or(&name)) {
            c.error(
                n,
                "server.relay_client_names",
                format!("`{name}` is not a host name (a leading `*.` matches one label)"),
            );
        }
        relay_client_names.push(name);
    }

    let tls = s.tls.as_ref().map(|t| TlsFiles {
        cert: c.path(&t.cert, "server.tls.cert"),
        key: c.path(&t.key, "server.tls.key"),
        client_ca: t
            .client_ca
            .as_ref()
            .map(|p| c.path(p, "server.tls.client_ca")),
    });
    if !relay_client_names.is_empty() && tls.as_ref().is_none_or(|t| t.client_ca.is_none()) {
        c.errors.push(ConfigError::new(
            origin,
            s.relay_client_names.first().map_or(0, |n| c.line(n)),
            "server.relay_client_names",
            "needs server.tls.client_ca: client certificates are verified against it",
        ));
    }

    let mut users: Vec<AuthUser> = Vec::new();
    for u in &s.auth.users {
        let name = u.name.get_ref().clone();
        if name.is_empty() || name.chars().any(|ch| ch.is_control()) {
            c.error(
                &u.name,
                "server.auth.users.name",
                "must be a non-empty login name",
            );
        }
        if users.iter().any(|x| x.name == name) {
            c.error(
                &u.name,
                "server.auth.users.name",
                format!("`{name}` is listed twice"),
            );
        }
        let hash = u.password_hash.get_ref().clone();
        if let Err(why) = check_argon2(&hash) {
            c.error(&u.password_hash, "server.auth.users.password_hash", why);
        }
        users.push(AuthUser {
            name,
            password_hash: hash,
        });
    }

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
    let encryption = raw.encryption.as_ref().and_then(|e| encryption(&mut c, e));
    let policy = policy(&mut c, &raw.policy, encryption.is_some());
    let log = log(&mut c, &raw.log);

    if !c.errors.is_empty() {
        c.errors.sort_by_key(|e| e.line);
        return Err(ConfigErrors(c.errors));
    }
    Ok(Config {
        origin: origin.to_owned(),
        server: ServerConfig {
            listen,
            hostname,
            relay_networks,
            max_message_size,
            max_recipients: max_recipients as usize,
            max_line_length: max_line_length as usize,
            max_connections: max_connections as usize,
            max_connections_per_ip: max_per_ip as usize,
            command_timeout: Duration::from_secs(command_timeout),
            data_timeout: Duration::from_secs(data_timeout),
            max_errors: max_errors as u32,
            shutdown_grace: Duration::from_secs(grace),
            tls,
            users,
            max_hops: max_hops as usize,
            min_data_rate,
            max_connections_untrusted: untrusted,
            auth_concurrency: auth_concurrency as usize,
            auth_max_failures: auth_max_failures as u32,
            auth_lockout: Duration::from_secs(auth_lockout),
            local_domains,
            relay_client_names,
        },
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
        log,
        key_lines: c.lines,
    })
}

/// An argon2 PHC string that parses and is not weaker than OWASP's minimum
/// (m=19456 KiB with t=2, or an equivalent product of memory and passes).
fn check_argon2(hash: &str) -> Result<(), String> {
    let make = "make one with `phigate hash-password`";
    let fields: Vec<&str> = hash.split('$').collect();
    let [empty, alg, version, params, salt, digest] = fields[..] else {
        return Err(format!("must be an argon2 PHC string ({make})"));
    };
    if !empty.is_empty() || !matches!(alg, "argon2id" | "argon2i" | "argon2d") {
        return Err(format!("must be an argon2 PHC string ({make})"));
    }
    if !matches!(version, "v=19" | "v=16") {
        return Err(format!("unknown argon2 version `{version}` ({make})"));
    }
    let mut m = 0u64;
    let mut t = 0u64;
    let mut p = 0u64;
    for kv in params.split(',') {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        let n: u64 = v
            .parse()
            .map_err(|_| format!("malformed argon2 parameters `{params}` ({make})"))?;
        match k {
            "m" => m = n,
            "t" => t = n,
            "p" => p = n,
            _ => return Err(format!("malformed argon2 parameters `{params}` ({make})")),
        }
    }
    let b64 = |x: &str| {
        !x.is_empty()
            && x.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
    };
    if p == 0 || !b64(salt) || !b64(digest) || salt.len() < 11 || digest.len() < 22 {
        return Err(format!("malformed argon2 hash ({make})"));
    }
    if m < 7168 || m.saturating_mul(t) < 35_840 {
        return Err(format!(
            "argon2 parameters m={m},t={t} are too weak (at least m=19456,t=2 or an equivalent; {make})"
        ));
    }
    Ok(())
}

fn log(c: &mut Checker<'_>, raw: &crate::raw::RawLog) -> LogConfig {
    let json = match raw.format.get_ref().as_str() {
        "text" => false,
        "json" => true,
        other => {
            c.error(
                &raw.format,
                "log.format",
                format!("`{other}` is not text or json"),
            );
            false
        }
    };
    let level = raw.level.get_ref().clone();
    let known = ["error", "warn", "info", "debug", "trace"];
    let ok = level.split(',').all(|d| {
        let lvl = d.rsplit('=').next().unwrap_or("").trim();
        known.contains(&lvl)
    });
    if !ok {
        c.error(
            &raw.level,
            "log.level",
            format!(
                "`{level}` is not a level (error, warn, info, debug, trace) or target=level list"
            ),
        );
    }
    LogConfig { json, level }
}

fn next_hop(c: &mut Checker<'_>, v: &Spanned<String>, key: &str) -> Option<NextHop> {
    let hop = parse_next_hop(v.get_ref());
    if hop.is_none() {
        c.error(
            v,
            key,
            format!(
                "`{}` is not a next hop such as [127.0.0.1]:2526 or smtp.example.com:587",
                v.get_ref()
            ),
        );
    }
    hop
}

fn delivery(c: &mut Checker<'_>, raw: &crate::raw::RawDelivery) -> DeliveryConfig {
    let mut routes = Vec::new();
    for r in &raw.route {
        let domains: Vec<String> = r
            .domains
            .iter()
            .filter_map(|d| {
                let v = d.get_ref().to_ascii_lowercase();
                if is_domain(&v) {
                    Some(v)
                } else {
                    c.error(
                        d,
                        "delivery.route.domains",
                        format!("`{v}` is not a domain"),
                    );
                    None
                }
            })
            .collect();
        if let Some(hop) = next_hop(c, &r.relay, "delivery.route.relay") {
            routes.push(Route { domains, hop });
        }
    }
    let mode = raw.dns.mode.get_ref().as_str();
    if mode != "system" && mode != "static" {
        c.error(
            &raw.dns.mode,
            "delivery.dns.mode",
            "must be \"system\" or \"static\"",
        );
    }
    let mut hosts = Vec::new();
    for (name, addrs) in &raw.dns.hosts {
        let ips = addrs
            .iter()
            .filter_map(|a| match a.get_ref().parse::<IpAddr>() {
                Ok(ip) => Some(ip),
                Err(_) => {
                    c.error(
                        a,
                        &format!("delivery.dns.hosts.{name}"),
                        format!("`{}` is not an IP address", a.get_ref()),
                    );
                    None
                }
            })
            .collect();
        hosts.push((name.to_ascii_lowercase(), ips));
    }
    let relay_auth = match (&raw.relay_user, &raw.relay_password) {
        (Some(u), Some(p)) => Some((u.clone(), p.clone())),
        (None, None) => None,
        _ => {
            c.errors.push(ConfigError::new(
                c.origin,
                0,
                "delivery.relay_user",
                "relay_user and relay_password go together",
            ));
            None
        }
    };
    let day = 86_400;
    let port = c.positive(&raw.port, "delivery.port", 65_535) as u16;
    let initial = c.positive(&raw.retry_initial_secs, "delivery.retry_initial_secs", day);
    let max = c.positive(&raw.retry_max_secs, "delivery.retry_max_secs", 7 * day);
    let give_up = c.positive(
        &raw.give_up_after_secs,
        "delivery.give_up_after_secs",
        30 * day,
    );
    DeliveryConfig {
        relay: None,
        relay_auth,
        routes,
        dns: DnsConfig {
            static_only: mode == "static",
            mx: raw
                .dns
                .mx
                .iter()
                .map(|(d, hs)| {
                    (
                        d.to_ascii_lowercase(),
                        hs.iter().map(|h| h.to_ascii_lowercase()).collect(),
                    )
                })
                .collect(),
            hosts,
        },
        port,
        retry: RetryConfig {
            initial: Duration::from_secs(initial),
            max: Duration::from_secs(max),
            give_up_after: Duration::from_secs(give_up),
        },
        connect_timeout: Duration::from_secs(c.positive(
            &raw.connect_timeout_secs,
            "delivery.connect_timeout_secs",
            600,
        )),
        command_timeout: Duration::from_secs(c.positive(
            &raw.command_timeout_secs,
            "delivery.command_timeout_secs",
            3600,
        )),
        concurrency: c.positive(&raw.concurrency, "delivery.concurrency", 10_000) as usize,
        per_destination: c.positive(&raw.per_destination, "delivery.per_destination", 1_000)
            as usize,
    }
}

fn tls_level(c: &mut Checker<'_>, v: &Spanned<String>, key: &str) -> Option<TlsLevel> {
    match v.get_ref().as_str() {
        "none" => Some(TlsLevel::None),
        "may" => Some(TlsLevel::May),
        "encrypt" => Some(TlsLevel::Encrypt),
        "verify" => Some(TlsLevel::Verify),
        "dane" | "mta-sts" => {
            c.error(
                v,
                key,
                format!("`{}` is not implemented yet; use \"verify\"", v.get_ref()),
            );
            None
        }
        other => {
            c.error(
                v,
                key,
                format!("`{other}` is not one of none, may, encrypt, verify, dane, mta-sts"),
            );
            None
        }
    }
}

fn outbound_tls(c: &mut Checker<'_>, raw: &crate::raw::RawTls) -> TlsConfig {
    let default = tls_level(c, &raw.default, "tls.default").unwrap_or(TlsLevel::May);
    let phi = tls_level(c, &raw.phi, "tls.phi").unwrap_or(TlsLevel::Verify);
    if phi < TlsLevel::Encrypt {
        c.error(&raw.phi, "tls.phi", "PHI is never sent below \"encrypt\"");
    }
    let ca_file = raw.ca_file.as_ref().map(|f| c.path(f, "tls.ca_file"));
    let mut policies = Vec::new();
    for p in &raw.policy {
        let domain = p.domain.get_ref().to_ascii_lowercase();
        if !is_domain(&domain) {
            c.error(
                &p.domain,
                "tls.policy.domain",
                format!("`{domain}` is not a domain"),
            );
        }
        let d = p
            .default
            .as_ref()
            .and_then(|v| tls_level(c, v, "tls.policy.default"));
        let ph = p
            .phi
            .as_ref()
            .and_then(|v| tls_level(c, v, "tls.policy.phi"));
        if let (Some(v), Some(level)) = (&p.phi, ph)
            && level < TlsLevel::Encrypt
        {
            c.error(v, "tls.policy.phi", "PHI is never sent below \"encrypt\"");
        }
        policies.push(TlsPolicy {
            domain,
            default: d,
            phi: ph,
        });
    }
    TlsConfig {
        default,
        phi,
        ca_file,
        policies,
    }
}

fn unit(c: &mut Checker<'_>, v: &Spanned<f64>, key: &str) -> f32 {
    let x = *v.get_ref();
    if !(0.0..=1.0).contains(&x) {
        c.error(v, key, format!("must be between 0 and 1, not {x}"));
    }
    x as f32
}

fn is_category_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn detectors(c: &mut Checker<'_>, raw: &crate::raw::RawDetectors) -> DetectorsConfig {
    let threshold = unit(c, &raw.threshold, "detectors.threshold");
    let thresholds = raw
        .thresholds
        .iter()
        .map(|(k, v)| (k.clone(), unit(c, v, &format!("detectors.thresholds.{k}"))))
        .collect();
    let mut rules: Vec<CustomRule> = Vec::new();
    for r in &raw.rules {
        let id = r.id.get_ref().clone();
        let key = |field: &str| format!("detectors.rules.{field} (rule `{id}`)");
        if id.is_empty() || id.contains(char::is_whitespace) {
            c.error(
                &r.id,
                "detectors.rules.id",
                "must be a non-empty id without spaces",
            );
        }
        if rules.iter().any(|x| x.id == id) {
            c.error(&r.id, &key("id"), format!("rule id `{id}` is used twice"));
        }
        let category = r.category.get_ref().clone();
        if !is_category_name(&category) {
            c.error(
                &r.category,
                &key("category"),
                "must be lower-case letters, digits and _ (e.g. `lab_accession`)",
            );
        }
        if let Some(p) = &r.pattern
            && let Err(e) = regex::RegexBuilder::new(p.get_ref())
                .size_limit(1 << 22)
                .build()
        {
            // The regex error names the position in the pattern; keep its last line.
            let msg = e.to_string();
            let last = msg
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim()
                .to_string();
            c.error(
                p,
                &key("pattern"),
                format!("invalid regular expression: {last}"),
            );
        }
        if r.pattern.is_none() && r.keywords.iter().all(|k| k.trim().is_empty()) {
            c.error(&r.id, &key("pattern"), "needs a pattern or keywords");
        }
        let weight = unit(c, &r.weight, &key("weight"));
        rules.push(CustomRule {
            id,
            category,
            pattern: r.pattern.as_ref().map(|p| p.get_ref().clone()),
            keywords: r
                .keywords
                .iter()
                .filter(|k| !k.trim().is_empty())
                .cloned()
                .collect(),
            weight,
            context: r.context.clone(),
            window: r.window as usize,
        });
    }
    let pdf = match raw.pdf.get_ref().as_str() {
        "pdftotext" => true,
        "off" => false,
        other => {
            c.error(
                &raw.pdf,
                "detectors.pdf",
                format!("`{other}` is not \"pdftotext\" or \"off\""),
            );
            false
        }
    };
    DetectorsConfig {
        threshold,
        thresholds,
        rules,
        pdf,
        pdf_timeout: Duration::from_secs(c.positive(
            &raw.pdf_timeout_secs,
            "detectors.pdf_timeout_secs",
            600,
        )),
        pdf_workers: c.positive(&raw.pdf_workers, "detectors.pdf_workers", 64) as usize,
        pdf_memory_mib: c.positive(&raw.pdf_memory_mib, "detectors.pdf_memory_mib", 1 << 16),
        decorative_image_pixels: *raw.decorative_image_pixels.get_ref(),
    }
}

/// A network in CIDR form; a bare address is a /32 or /128.
fn parse_net(s: &str) -> Option<IpNet> {
    s.parse::<IpNet>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

/// Letters, digits, hyphens and dots, at least two labels.
fn is_domain(s: &str) -> bool {
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

fn audit(c: &mut Checker<'_>, raw: &crate::raw::RawAudit) -> AuditConfig {
    let retention_days = *raw.retention_days.get_ref();
    if retention_days < 2190 {
        // HIPAA: documentation of safeguards is kept six years (45 CFR 164.316(b)(2)).
        c.error(
            &raw.retention_days,
            "audit.retention_days",
            format!("must be at least 2190 (six years), not {retention_days}"),
        );
    }
    let public_key = raw.public_key.as_ref().and_then(|k| {
        let hex = k.get_ref().trim().to_ascii_lowercase();
        let hex = hex.strip_prefix("ed25519:").unwrap_or(&hex).to_string();
        if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            Some(hex)
        } else {
            c.error(
                k,
                "audit.public_key",
                "must be the 64 hex digits `phigate audit keygen` prints as the public key",
            );
            None
        }
    });
    let w = &raw.witness;
    let witness = WitnessConfig {
        file: w.file.as_ref().map(|p| c.path(p, "audit.witness.file")),
        syslog: w.syslog.as_ref().and_then(|v| {
            let ok = v
                .get_ref()
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
            if !ok {
                c.error(
                    v,
                    "audit.witness.syslog",
                    "must be host:port of a syslog-over-TLS collector",
                );
            }
            ok.then(|| v.get_ref().clone())
        }),
        syslog_ca: w
            .syslog_ca
            .as_ref()
            .map(|p| c.path(p, "audit.witness.syslog_ca")),
        syslog_server_name: w.syslog_server_name.as_ref().map(|v| v.get_ref().clone()),
    };
    let dir = c.path(&raw.dir, "audit.dir");
    if let Some(f) = &witness.file
        && f.starts_with(&dir)
    {
        c.error(
            w.file.as_ref().expect("set"),
            "audit.witness.file",
            "must be outside audit.dir: a witness the log's writer can rewrite witnesses nothing",
        );
    }
    AuditConfig {
        dir,
        signing_key: c.path(&raw.signing_key, "audit.signing_key"),
        public_key,
        previous_signing_key: raw
            .previous_signing_key
            .as_ref()
            .map(|p| c.path(p, "audit.previous_signing_key")),
        witness,
        checkpoint_every: c.positive(&raw.checkpoint_every, "audit.checkpoint_every", 1_000_000),
        checkpoint_interval: Duration::from_secs(c.positive(
            &raw.checkpoint_interval_secs,
            "audit.checkpoint_interval_secs",
            60,
        )),
        retention_days,
    }
}

/// A header given as `Name: value`.
fn header_line(c: &mut Checker<'_>, v: &Spanned<String>, key: &str) -> Option<(String, String)> {
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
fn one_line(c: &mut Checker<'_>, v: &Spanned<String>, key: &str) -> Option<String> {
    let t = v.get_ref();
    if t.trim().is_empty() || t.chars().any(char::is_control) {
        c.error(v, key, "must be non-empty text on one line");
        return None;
    }
    Some(t.clone())
}

fn domain_list(c: &mut Checker<'_>, list: &[Spanned<String>], key: &str) -> Vec<String> {
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

fn encryption(c: &mut Checker<'_>, raw: &crate::raw::RawEncryption) -> Option<EncryptionConfig> {
    match raw.kind.get_ref().as_str() {
        "relay" => {}
        "smime" => {
            c.error(
                &raw.kind,
                "encryption.kind",
                "\"smime\" is not implemented yet; use \"relay\"",
            );
            return None;
        }
        other => {
            c.error(
                &raw.kind,
                "encryption.kind",
                format!("`{other}` is not one of relay, smime"),
            );
            return None;
        }
    }
    let hop = next_hop(c, &raw.relay, "encryption.relay");
    let auth = match (&raw.user, &raw.password) {
        (Some(u), Some(p)) => Some((u.clone(), p.clone())),
        (None, None) => None,
        _ => {
            c.error(
                &raw.relay,
                "encryption.user",
                "user and password go together",
            );
            None
        }
    };
    let subject_tag = raw
        .subject_tag
        .as_ref()
        .and_then(|t| one_line(c, t, "encryption.subject_tag"));
    let header = raw
        .header
        .as_ref()
        .and_then(|h| header_line(c, h, "encryption.header"));
    if raw.subject_tag.is_none() && raw.header.is_none() {
        c.error(
            &raw.relay,
            "encryption",
            "needs subject_tag or header: the trigger the provider encrypts on",
        );
    }
    Some(EncryptionConfig::Relay(EncryptionRelay {
        hop: hop?,
        auth,
        subject_tag,
        header,
    }))
}

fn policy(c: &mut Checker<'_>, raw: &crate::raw::RawPolicy, encryption: bool) -> PolicyConfig {
    let mut rules: Vec<PolicyRule> = Vec::new();
    for r in &raw.rule {
        let id = r.id.get_ref().clone();
        let key = |field: &str| format!("policy.rule.{field} (rule `{id}`)");
        if id.is_empty() || id.contains(char::is_whitespace) {
            c.error(
                &r.id,
                "policy.rule.id",
                "must be a non-empty id without spaces",
            );
        }
        if rules.iter().any(|x| x.id == id) {
            c.error(&r.id, &key("id"), format!("rule id `{id}` is used twice"));
        }
        let action = match Action::from_name(r.action.get_ref()) {
            Some(a) => a,
            None => {
                c.error(
                    &r.action,
                    &key("action"),
                    format!(
                        "`{}` is not one of deliver, require_tls, encrypt, quarantine, reject",
                        r.action.get_ref()
                    ),
                );
                Action::Deliver
            }
        };
        if action == Action::Encrypt && !encryption {
            c.error(
                &r.action,
                &key("action"),
                "\"encrypt\" needs an [encryption] section",
            );
        }
        let categories = r
            .categories
            .iter()
            .filter_map(|cat| {
                if is_category_name(cat.get_ref()) {
                    Some(cat.get_ref().clone())
                } else {
                    c.error(
                        cat,
                        &key("categories"),
                        "must be lower-case letters, digits and _",
                    );
                    None
                }
            })
            .collect();
        let senders = r
            .senders
            .iter()
            .filter_map(|s| {
                let v = s.get_ref().to_ascii_lowercase();
                let domain = v.rsplit_once('@').map_or(v.as_str(), |(_, d)| d);
                if is_domain(domain) {
                    Some(v)
                } else {
                    c.error(
                        s,
                        &key("senders"),
                        format!("`{v}` is not an address, @domain or domain"),
                    );
                    None
                }
            })
            .collect();
        let recipient_domains = domain_list(c, &r.recipient_domains, &key("recipient_domains"));
        let client_networks = r
            .client_networks
            .iter()
            .filter_map(|n| match parse_net(n.get_ref()) {
                Some(net) => Some(net),
                None => {
                    c.error(
                        n,
                        &key("client_networks"),
                        format!("`{}` is not a network", n.get_ref()),
                    );
                    None
                }
            })
            .collect();
        let modifiers = Modifiers {
            tag_subject: r
                .tag_subject
                .as_ref()
                .and_then(|t| one_line(c, t, &key("tag_subject"))),
            add_header: r
                .add_header
                .as_ref()
                .and_then(|h| header_line(c, h, &key("add_header"))),
            notify_sender: r.notify_sender,
        };
        rules.push(PolicyRule {
            id,
            when: Conditions {
                phi: r.phi,
                categories,
                senders,
                recipient_domains,
                client_networks,
                authenticated: r.authenticated,
                inbound_tls: r.inbound_tls,
            },
            action,
            modifiers,
            audit_only: r.audit_only,
        });
    }
    PolicyConfig {
        audit_only: raw.audit_only,
        opt_in_keyword: raw
            .opt_in_keyword
            .as_ref()
            .and_then(|k| one_line(c, k, "policy.opt_in_keyword")),
        opt_out_keyword: raw
            .opt_out_keyword
            .as_ref()
            .and_then(|k| one_line(c, k, "policy.opt_out_keyword")),
        opt_out_domains: domain_list(c, &raw.opt_out_domains, "policy.opt_out_domains"),
        inspection_timeout: Duration::from_secs(c.positive(
            &raw.inspection_timeout_secs,
            "policy.inspection_timeout_secs",
            3600,
        )),
        rules,
    }
}
