//! `[server]`: listeners, limits, inbound TLS, who may relay, AUTH users.

use std::time::Duration;

use super::*;

/// `[server]`, every key checked.
pub(super) fn server(c: &mut Checker<'_>, s: &crate::raw::RawServer) -> ServerConfig {
    if s.listen.is_empty() {
        c.errors.push(ConfigError::new(
            c.origin,
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

    let max_message_size = c.positive(&s.max_message_size, "server.max_message_size", TB);
    let content_memory = c.positive(&s.content_memory, "server.content_memory", TB);
    if content_memory < max_message_size {
        c.error(
            &s.content_memory,
            "server.content_memory",
            format!(
                "must be at least server.max_message_size ({max_message_size}), \
                 or no message of the largest size could be accepted"
            ),
        );
    }
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
    let local_domains = domain_list(c, &s.local_domains, "server.local_domains");
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
            c.origin,
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

    ServerConfig {
        listen,
        hostname,
        relay_networks,
        max_message_size,
        content_memory,
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
    }
}

/// An argon2 PHC string that parses and is not weaker than OWASP's minimum
/// (m=19456 KiB with t=2, or an equivalent product of memory and passes).
pub(super) fn check_argon2(hash: &str) -> Result<(), String> {
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
