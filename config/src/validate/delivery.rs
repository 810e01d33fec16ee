//! `[delivery]`: routes, the relay, DNS, retries, concurrency.

use super::*;

pub(super) fn next_hop(c: &mut Checker<'_>, v: &Spanned<String>, key: &str) -> Option<NextHop> {
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

pub(super) fn delivery(c: &mut Checker<'_>, raw: &crate::raw::RawDelivery) -> DeliveryConfig {
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
    if !matches!(mode, "system" | "servers" | "static") {
        c.error(
            &raw.dns.mode,
            "delivery.dns.mode",
            "must be \"system\", \"servers\" or \"static\"",
        );
    }
    let servers: Vec<std::net::SocketAddr> = raw
        .dns
        .servers
        .iter()
        .filter_map(|s| match s.get_ref().parse() {
            Ok(a) => Some(a),
            Err(_) => {
                c.error(
                    s,
                    "delivery.dns.servers",
                    format!("`{}` is not an ip:port", s.get_ref()),
                );
                None
            }
        })
        .collect();
    if mode == "servers" && servers.is_empty() && raw.dns.servers.is_empty() {
        c.error(
            &raw.dns.mode,
            "delivery.dns.servers",
            "mode \"servers\" needs at least one server (ip:port)",
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
            servers: if mode == "servers" {
                servers
            } else {
                Vec::new()
            },
            dnssec: raw.dns.dnssec || raw.dns.trust_anchor.is_some(),
            trust_anchor: raw
                .dns
                .trust_anchor
                .as_ref()
                .map(|a| c.path(a, "delivery.dns.trust_anchor")),
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
