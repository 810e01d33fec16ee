//! Where a recipient domain's mail goes: a per-domain route, the
//! smarthost, or the domain's MX hosts (RFC 5321 5.1; null MX per RFC
//! 7505; A/AAAA when there is no MX). A static table answers first; in
//! static mode nothing else is asked (labs, tests).

use std::net::{IpAddr, SocketAddr};

use hickory_resolver::TokioResolver;
use phigate_config::{DeliveryConfig, Host, NextHop};

use super::client::Hop;
use crate::smtp::status::{Class, Failure, Stage};

/// Why a destination could not be resolved. The names in it are domains
/// and host names, never addresses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// Try again later (DNS trouble).
    #[error("temporary DNS failure for {0}")]
    Temporary(String),
    /// Static DNS mode and no table entry for this name.
    #[error("{0}: static DNS mode and no table entry")]
    NoEntry(String),
    /// The domain (or an MX host) does not exist.
    #[error("{0} does not exist")]
    NoSuchDomain(String),
    /// The domain accepts no mail (RFC 7505).
    #[error("{0} accepts no mail (null MX, RFC 7505)")]
    NullMx(String),
}

impl RouteError {
    /// The error as a delivery failure at the DNS stage.
    pub fn failure(&self) -> Failure {
        let (class, permanent) = match self {
            RouteError::Temporary(_) => (Class::DnsFailure, false),
            RouteError::NoEntry(_) => (Class::NoRoute, false),
            RouteError::NoSuchDomain(_) => (Class::NoSuchDomain, true),
            RouteError::NullMx(_) => (Class::NullMx, true),
        };
        Failure::ours(Stage::Dns, class, permanent)
    }
}

/// A resolved destination.
#[derive(Debug, Clone)]
pub struct Destination {
    /// Grouping key and per-destination limit key.
    pub key: String,
    /// Hosts in preference order.
    pub hops: Vec<Hop>,
    /// Whether this is the smarthost (AUTH applies).
    pub smarthost: bool,
}

/// A resolver configuration asking exactly `servers` (UDP, then TCP for
/// truncated answers), for `[delivery.dns] mode = "servers"`.
pub(crate) fn servers_config(servers: &[SocketAddr]) -> hickory_resolver::config::ResolverConfig {
    use hickory_resolver::config::{NameServerConfig, ResolverConfig};
    let name_servers = servers
        .iter()
        .map(|s| {
            let mut ns = NameServerConfig::udp_and_tcp(s.ip());
            for c in &mut ns.connections {
                c.port = s.port();
            }
            ns
        })
        .collect();
    ResolverConfig::from_name_servers(name_servers)
}

/// Resolves recipient domains to destinations.
pub struct Router {
    cfg: DeliveryConfig,
    resolver: Option<TokioResolver>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("static_only", &self.cfg.dns.static_only)
            .finish_non_exhaustive()
    }
}

impl Router {
    /// A router for the delivery configuration.
    pub fn new(cfg: DeliveryConfig) -> Router {
        let resolver = if cfg.dns.static_only {
            None
        } else {
            let builder = if cfg.dns.servers.is_empty() {
                TokioResolver::builder_tokio()
            } else {
                Ok(TokioResolver::builder_with_config(
                    servers_config(&cfg.dns.servers),
                    Default::default(),
                ))
            };
            match builder.and_then(|b| b.build()) {
                Ok(r) => Some(r),
                Err(e) => {
                    tracing::error!(error = %e, "no DNS resolver; only routes and the static table will work");
                    None
                }
            }
        };
        Router { cfg, resolver }
    }

    /// The destination for mail to `domain`.
    pub async fn route(&self, domain: &str) -> Result<Destination, RouteError> {
        let domain = domain.to_ascii_lowercase();
        if let Some(r) = self.cfg.routes.iter().find(|r| r.domains.contains(&domain)) {
            return self.hop(&r.hop, false).await;
        }
        if let Some(relay) = &self.cfg.relay {
            return self.hop(relay, true).await;
        }
        self.mx(&domain, self.cfg.port).await
    }

    /// The destination for a configured next hop (the encrypted route).
    pub async fn next_hop(&self, hop: &NextHop) -> Result<Destination, RouteError> {
        self.hop(hop, false).await
    }

    async fn hop(&self, hop: &NextHop, smarthost: bool) -> Result<Destination, RouteError> {
        let mut d = match (&hop.host, hop.mx_lookup) {
            (Host::Ip(ip), _) => Destination {
                key: hop.to_string(),
                hops: vec![Hop {
                    name: ip.to_string(),
                    addr: SocketAddr::new(*ip, hop.port),
                }],
                smarthost,
            },
            (Host::Name(name), true) => self.mx(name, hop.port).await?,
            (Host::Name(name), false) => Destination {
                key: hop.to_string(),
                hops: self.addresses(name, hop.port).await?,
                smarthost,
            },
        };
        d.smarthost = smarthost;
        d.key = hop.to_string();
        Ok(d)
    }

    /// MX hosts of `domain`, best first, with their addresses.
    async fn mx(&self, domain: &str, port: u16) -> Result<Destination, RouteError> {
        let exchangers: Vec<String> = match self.cfg.dns.mx.iter().find(|(d, _)| d == domain) {
            Some((_, hosts)) => hosts.clone(),
            None => self.lookup_mx(domain).await?,
        };
        if exchangers.len() == 1 && (exchangers[0] == "." || exchangers[0].is_empty()) {
            return Err(RouteError::NullMx(domain.to_string()));
        }
        // No MX at all: the domain's own address records (RFC 5321 5.1).
        let exchangers = if exchangers.is_empty() {
            vec![domain.to_string()]
        } else {
            exchangers
        };
        let mut hops = Vec::new();
        let mut last_err = None;
        for host in &exchangers {
            match self.addresses(host, port).await {
                Ok(h) => hops.extend(h),
                Err(e) => last_err = Some(e),
            }
        }
        if hops.is_empty() {
            return Err(last_err.unwrap_or_else(|| RouteError::Temporary(domain.to_string())));
        }
        Ok(Destination {
            key: format!("mx:{domain}"),
            hops,
            smarthost: false,
        })
    }

    async fn lookup_mx(&self, domain: &str) -> Result<Vec<String>, RouteError> {
        let Some(resolver) = &self.resolver else {
            return Err(RouteError::NoEntry(domain.to_string()));
        };
        match resolver.mx_lookup(format!("{domain}.")).await {
            Ok(lookup) => {
                let mut mx: Vec<(u16, String)> = lookup
                    .answers()
                    .iter()
                    .filter_map(|r| match &r.data {
                        hickory_resolver::proto::rr::RData::MX(mx) => {
                            let name = mx.exchange.to_utf8();
                            let name = name.trim_end_matches('.').to_ascii_lowercase();
                            Some((
                                mx.preference,
                                if name.is_empty() { ".".into() } else { name },
                            ))
                        }
                        _ => None,
                    })
                    .collect();
                mx.sort();
                Ok(mx.into_iter().map(|(_, n)| n).collect())
            }
            Err(e) if e.is_nx_domain() => Err(RouteError::NoSuchDomain(domain.to_string())),
            Err(e) if e.is_no_records_found() => Ok(Vec::new()),
            Err(e) => Err(RouteError::Temporary(format!("{domain}: {e}"))),
        }
    }

    /// The addresses of `host` (static table first), with `port`.
    pub async fn address_list(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, RouteError> {
        Ok(self
            .addresses(host, port)
            .await?
            .into_iter()
            .map(|h| h.addr)
            .collect())
    }

    /// The TXT records at `name`, each record's strings joined; none in
    /// static mode (the table has no TXT) or when the name has none.
    pub async fn txt(&self, name: &str) -> Result<Vec<String>, RouteError> {
        let Some(resolver) = &self.resolver else {
            return Ok(Vec::new());
        };
        match resolver.txt_lookup(format!("{name}.")).await {
            Ok(lookup) => Ok(lookup
                .answers()
                .iter()
                .filter_map(|r| match &r.data {
                    hickory_resolver::proto::rr::RData::TXT(t) => Some(
                        t.txt_data
                            .iter()
                            .map(|d| String::from_utf8_lossy(d).into_owned())
                            .collect::<String>(),
                    ),
                    _ => None,
                })
                .collect()),
            Err(e) if e.is_nx_domain() || e.is_no_records_found() => Ok(Vec::new()),
            Err(e) => Err(RouteError::Temporary(format!("{name}: {e}"))),
        }
    }

    async fn addresses(&self, host: &str, port: u16) -> Result<Vec<Hop>, RouteError> {
        let host = host.to_ascii_lowercase();
        let ips: Vec<IpAddr> =
            if let Some((_, ips)) = self.cfg.dns.hosts.iter().find(|(h, _)| *h == host) {
                ips.clone()
            } else if let Ok(ip) = host.parse::<IpAddr>() {
                vec![ip]
            } else if let Some(resolver) = &self.resolver {
                match resolver.lookup_ip(format!("{host}.")).await {
                    Ok(l) => l.iter().collect(),
                    Err(e) if e.is_nx_domain() => {
                        return Err(RouteError::NoSuchDomain(host.clone()));
                    }
                    Err(e) => return Err(RouteError::Temporary(format!("{host}: {e}"))),
                }
            } else {
                return Err(RouteError::NoEntry(host.clone()));
            };
        Ok(ips
            .into_iter()
            .map(|ip| Hop {
                name: host.clone(),
                addr: SocketAddr::new(ip, port),
            })
            .collect())
    }
}
