//! The file as written: serde structs that mirror the TOML layout.
//!
//! Values that validation checks are wrapped in [`Spanned`] so an error can
//! point at their line. Defaults here are the documented defaults; the
//! embedded default file spells most of them out as well.

use serde::Deserialize;
use toml::Spanned;

use crate::error::{ConfigError, ConfigErrors, line_of};

/// The whole file.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RawConfig {
    #[serde(default)]
    pub server: RawServer,
    #[serde(default)]
    pub spool: RawSpool,
    #[serde(default)]
    pub audit: RawAudit,
    #[serde(default)]
    pub metrics: RawMetrics,
    #[serde(default)]
    pub delivery: RawDelivery,
    #[serde(default)]
    pub detectors: RawDetectors,
    #[serde(default)]
    pub tls: RawTls,
    #[serde(default)]
    pub policy: RawPolicy,
    pub encryption: Option<RawEncryption>,
    pub dkim: Option<RawDkim>,
    pub smime: Option<RawSmime>,
    pub console: Option<RawConsole>,
    #[serde(default)]
    pub review: RawReview,
    #[serde(default)]
    pub log: RawLog,
}

/// `[console]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RawConsole {
    pub listen: Spanned<String>,
    #[serde(default = "yes")]
    pub tls: Spanned<bool>,
    pub cert: Option<Spanned<String>>,
    pub key: Option<Spanned<String>>,
    #[serde(default = "default_session_minutes")]
    pub session_minutes: Spanned<u64>,
    #[serde(default = "yes")]
    pub require_totp: Spanned<bool>,
    #[serde(default)]
    pub user: Vec<RawConsoleUser>,
}

fn yes() -> Spanned<bool> {
    sp(true)
}

fn default_session_minutes() -> Spanned<u64> {
    sp(30)
}

/// `[[console.user]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RawConsoleUser {
    pub name: Spanned<String>,
    pub password_hash: Spanned<String>,
    pub role: Spanned<String>,
    pub totp_secret: Option<Spanned<String>>,
}

/// `[review]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[allow(missing_docs)]
pub struct RawReview {
    pub officer: Option<Spanned<String>>,
    pub digest: Spanned<String>,
    pub baseline_days: Spanned<u64>,
    pub phi_jump_factor: f64,
    pub phi_jump_min: Spanned<u64>,
    pub opt_out_burst: Spanned<u64>,
    pub auth_failures: Spanned<u64>,
    pub releases: Spanned<u64>,
    pub downtime_secs: Spanned<u64>,
    pub free_mail_domains: Option<Vec<String>>,
}

impl Default for RawReview {
    fn default() -> Self {
        RawReview {
            officer: None,
            digest: sp("off".into()),
            baseline_days: sp(28),
            phi_jump_factor: 3.0,
            phi_jump_min: sp(5),
            opt_out_burst: sp(5),
            auth_failures: sp(20),
            releases: sp(5),
            downtime_secs: sp(3600),
            free_mail_domains: None,
        }
    }
}

/// `[smime]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[allow(missing_docs)]
pub struct RawSmime {
    pub enabled: bool,
    pub certs_dir: Option<Spanned<String>>,
    pub outer_subject: Spanned<String>,
    pub expiry_warning_days: Spanned<u64>,
    pub dns: bool,
    pub sign_cert: Option<Spanned<String>>,
    pub sign_key: Option<Spanned<String>>,
    pub domain: Vec<RawSmimeDomain>,
    pub ldap: Option<RawSmimeLdap>,
}

/// `[smime.ldap]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RawSmimeLdap {
    pub url: Spanned<String>,
    pub base: Spanned<String>,
    #[serde(default = "default_ldap_attribute")]
    pub attribute: Spanned<String>,
    pub bind_dn: Option<Spanned<String>>,
    pub bind_password_file: Option<Spanned<String>>,
    #[serde(default = "default_ldap_timeout")]
    pub timeout_secs: Spanned<u64>,
    #[serde(default = "default_ldap_cache")]
    pub cache_secs: Spanned<u64>,
}

fn default_ldap_attribute() -> Spanned<String> {
    sp("mail".into())
}

fn default_ldap_timeout() -> Spanned<u64> {
    sp(5)
}

fn default_ldap_cache() -> Spanned<u64> {
    sp(300)
}

/// `[[smime.domain]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RawSmimeDomain {
    pub domain: Spanned<String>,
    pub content: Option<Spanned<String>>,
    pub key_transport: Option<Spanned<String>>,
}

impl Default for RawSmime {
    fn default() -> Self {
        RawSmime {
            enabled: true,
            certs_dir: None,
            outer_subject: sp("Encrypted message".into()),
            expiry_warning_days: sp(30),
            dns: true,
            sign_cert: None,
            sign_key: None,
            domain: Vec::new(),
            ldap: None,
        }
    }
}

/// `[dkim]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RawDkim {
    pub domain: Spanned<String>,
    pub selector: Spanned<String>,
    pub key: Spanned<String>,
    pub headers: Option<Spanned<Vec<String>>>,
    pub sign: Option<Spanned<String>>,
}

/// `[log]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[allow(missing_docs)]
pub struct RawLog {
    pub format: Spanned<String>,
    pub level: Spanned<String>,
}

impl Default for RawLog {
    fn default() -> Self {
        RawLog {
            format: sp("text".into()),
            level: sp("info".into()),
        }
    }
}

/// `[server]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[allow(missing_docs)]
pub struct RawServer {
    pub listen: Vec<Spanned<String>>,
    pub hostname: Spanned<String>,
    pub relay_networks: Vec<Spanned<String>>,
    pub max_message_size: Spanned<u64>,
    pub content_memory: Spanned<u64>,
    pub max_recipients: Spanned<u64>,
    pub max_line_length: Spanned<u64>,
    pub max_connections: Spanned<u64>,
    pub max_connections_per_ip: Spanned<u64>,
    pub command_timeout_secs: Spanned<u64>,
    pub data_timeout_secs: Spanned<u64>,
    pub max_errors: Spanned<u64>,
    pub shutdown_grace_secs: Spanned<u64>,
    pub max_hops: Spanned<u64>,
    pub min_data_rate: Spanned<u64>,
    pub max_connections_untrusted: Option<Spanned<u64>>,
    pub auth_concurrency: Spanned<u64>,
    pub auth_max_failures: Spanned<u64>,
    pub auth_lockout_secs: Spanned<u64>,
    pub local_domains: Vec<Spanned<String>>,
    pub relay_client_names: Vec<Spanned<String>>,
    pub tls: Option<RawServerTls>,
    pub auth: RawAuth,
}

fn sp<T>(v: T) -> Spanned<T> {
    Spanned::new(0..0, v)
}

impl Default for RawServer {
    fn default() -> Self {
        RawServer {
            listen: vec![sp("127.0.0.1:2525".into())],
            hostname: sp("phigate.example".into()),
            relay_networks: vec![sp("127.0.0.0/8".into()), sp("::1/128".into())],
            max_message_size: sp(36_700_160),
            content_memory: sp(268_435_456),
            max_recipients: sp(100),
            max_line_length: sp(2048),
            max_connections: sp(1000),
            max_connections_per_ip: sp(100),
            command_timeout_secs: sp(300),
            data_timeout_secs: sp(600),
            max_errors: sp(20),
            shutdown_grace_secs: sp(30),
            max_hops: sp(50),
            min_data_rate: sp(500),
            max_connections_untrusted: None,
            auth_concurrency: sp(2),
            auth_max_failures: sp(5),
            auth_lockout_secs: sp(900),
            local_domains: Vec::new(),
            relay_client_names: Vec::new(),
            tls: None,
            auth: RawAuth::default(),
        }
    }
}

/// `[server.tls]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RawServerTls {
    pub cert: Spanned<String>,
    pub key: Spanned<String>,
    pub client_ca: Option<Spanned<String>>,
}

/// `[server.auth]`
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
#[allow(missing_docs)]
pub struct RawAuth {
    pub users: Vec<RawUser>,
}

/// `[[server.auth.users]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RawUser {
    pub name: Spanned<String>,
    pub password_hash: Spanned<String>,
}

/// `[spool]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[allow(missing_docs)]
pub struct RawSpool {
    pub dir: Spanned<String>,
    pub group_commit: bool,
    pub segment_size: Spanned<u64>,
}

impl Default for RawSpool {
    fn default() -> Self {
        RawSpool {
            dir: sp("./phigate-data/spool".into()),
            group_commit: true,
            segment_size: sp(64 << 20),
        }
    }
}

/// `[audit]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[allow(missing_docs)]
pub struct RawAudit {
    pub dir: Spanned<String>,
    pub signing_key: Spanned<String>,
    pub checkpoint_every: Spanned<u64>,
    pub checkpoint_interval_secs: Spanned<u64>,
    pub retention_days: Spanned<u64>,
    pub public_key: Option<Spanned<String>>,
    pub previous_signing_key: Option<Spanned<String>>,
    pub witness: RawWitness,
}

/// `[audit.witness]`
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
#[allow(missing_docs)]
pub struct RawWitness {
    pub file: Option<Spanned<String>>,
    pub syslog: Option<Spanned<String>>,
    pub syslog_ca: Option<Spanned<String>>,
    pub syslog_server_name: Option<Spanned<String>>,
}

impl Default for RawAudit {
    fn default() -> Self {
        RawAudit {
            dir: sp("./phigate-data/audit".into()),
            signing_key: sp("./phigate-data/audit-signing.key".into()),
            checkpoint_every: sp(1000),
            checkpoint_interval_secs: sp(60),
            retention_days: sp(2190),
            public_key: None,
            previous_signing_key: None,
            witness: RawWitness::default(),
        }
    }
}

/// `[policy]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[allow(missing_docs)]
pub struct RawPolicy {
    pub audit_only: bool,
    pub opt_in_keyword: Option<Spanned<String>>,
    pub opt_out_keyword: Option<Spanned<String>>,
    pub opt_out_domains: Vec<Spanned<String>>,
    pub inspection_timeout_secs: Spanned<u64>,
    pub rule: Vec<RawPolicyRule>,
}

impl Default for RawPolicy {
    fn default() -> Self {
        RawPolicy {
            audit_only: false,
            opt_in_keyword: Some(sp("[secure]".into())),
            opt_out_keyword: None,
            opt_out_domains: Vec::new(),
            inspection_timeout_secs: sp(60),
            rule: Vec::new(),
        }
    }
}

/// `[[policy.rule]]`: conditions (all given must hold), an action, modifiers.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RawPolicyRule {
    pub id: Spanned<String>,
    pub phi: Option<bool>,
    #[serde(default)]
    pub categories: Vec<Spanned<String>>,
    #[serde(default)]
    pub senders: Vec<Spanned<String>>,
    #[serde(default)]
    pub recipient_domains: Vec<Spanned<String>>,
    #[serde(default)]
    pub client_networks: Vec<Spanned<String>>,
    pub authenticated: Option<bool>,
    pub inbound_tls: Option<bool>,
    pub action: Spanned<String>,
    pub tag_subject: Option<Spanned<String>>,
    pub add_header: Option<Spanned<String>>,
    #[serde(default)]
    pub notify_sender: bool,
    #[serde(default)]
    pub audit_only: bool,
}

/// `[encryption]`: the secure-mail provider's relay used by `encrypt`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RawEncryption {
    #[serde(default = "default_encryption_kind")]
    pub kind: Spanned<String>,
    pub relay: Spanned<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub subject_tag: Option<Spanned<String>>,
    pub header: Option<Spanned<String>>,
}

fn default_encryption_kind() -> Spanned<String> {
    sp("relay".into())
}

/// `[metrics]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[allow(missing_docs)]
pub struct RawMetrics {
    pub listen: Spanned<String>,
}

impl Default for RawMetrics {
    fn default() -> Self {
        RawMetrics {
            listen: sp("127.0.0.1:9725".into()),
        }
    }
}

/// `[delivery]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[allow(missing_docs)]
pub struct RawDelivery {
    pub relay: Option<Spanned<String>>,
    pub relay_user: Option<String>,
    pub relay_password: Option<String>,
    pub route: Vec<RawRoute>,
    pub dns: RawDns,
    pub port: Spanned<u64>,
    pub retry_initial_secs: Spanned<u64>,
    pub retry_max_secs: Spanned<u64>,
    pub give_up_after_secs: Spanned<u64>,
    pub connect_timeout_secs: Spanned<u64>,
    pub command_timeout_secs: Spanned<u64>,
    pub concurrency: Spanned<u64>,
    pub per_destination: Spanned<u64>,
}

impl Default for RawDelivery {
    fn default() -> Self {
        RawDelivery {
            relay: None,
            relay_user: None,
            relay_password: None,
            route: Vec::new(),
            dns: RawDns::default(),
            port: sp(25),
            retry_initial_secs: sp(300),
            retry_max_secs: sp(4 * 3600),
            give_up_after_secs: sp(5 * 86_400),
            connect_timeout_secs: sp(30),
            command_timeout_secs: sp(300),
            concurrency: sp(32),
            per_destination: sp(4),
        }
    }
}

/// `[[delivery.route]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RawRoute {
    pub domains: Vec<Spanned<String>>,
    pub relay: Spanned<String>,
}

/// `[delivery.dns]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[allow(missing_docs)]
pub struct RawDns {
    /// "system" (resolv.conf), "servers" (the `servers` below instead of
    /// resolv.conf) or "static" (only the tables below: tests, labs).
    pub mode: Spanned<String>,
    /// `ip:port` of the name servers to ask in mode "servers".
    pub servers: Vec<Spanned<String>>,
    /// Validate DNSSEC for DANE (the MX and TLSA lookups).
    pub dnssec: bool,
    /// DNSKEY records to trust instead of the root's (labs, tests).
    pub trust_anchor: Option<Spanned<String>>,
    pub mx: std::collections::BTreeMap<String, Vec<String>>,
    pub hosts: std::collections::BTreeMap<String, Vec<Spanned<String>>>,
}

impl Default for RawDns {
    fn default() -> Self {
        RawDns {
            mode: sp("system".into()),
            servers: Vec::new(),
            dnssec: false,
            trust_anchor: None,
            mx: Default::default(),
            hosts: Default::default(),
        }
    }
}

/// `[tls]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[allow(missing_docs)]
pub struct RawTls {
    pub default: Spanned<String>,
    pub phi: Spanned<String>,
    pub ca_file: Option<Spanned<String>>,
    /// Port of MTA-STS policy hosts (443; labs and tests only).
    pub mta_sts_port: Spanned<u64>,
    /// Ask for REQUIRETLS (RFC 8689) on PHI when the next hop offers it.
    pub requiretls_for_phi: bool,
    pub policy: Vec<RawTlsPolicy>,
}

impl Default for RawTls {
    fn default() -> Self {
        RawTls {
            default: sp("may".into()),
            phi: sp("secure".into()),
            ca_file: None,
            mta_sts_port: sp(443),
            requiretls_for_phi: false,
            policy: Vec::new(),
        }
    }
}

/// `[[tls.policy]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RawTlsPolicy {
    pub domain: Spanned<String>,
    pub default: Option<Spanned<String>>,
    pub phi: Option<Spanned<String>>,
}

/// `[detectors]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[allow(missing_docs)]
pub struct RawDetectors {
    pub threshold: Spanned<f64>,
    pub thresholds: std::collections::BTreeMap<String, Spanned<f64>>,
    pub rules: Vec<RawRule>,
    pub pdf: Spanned<String>,
    pub pdf_timeout_secs: Spanned<u64>,
    pub pdf_workers: Spanned<u64>,
    pub pdf_memory_mib: Spanned<u64>,
    pub decorative_image_pixels: Spanned<u64>,
}

impl Default for RawDetectors {
    fn default() -> Self {
        RawDetectors {
            threshold: sp(0.5),
            thresholds: Default::default(),
            rules: Vec::new(),
            pdf: sp("pdftotext".into()),
            pdf_timeout_secs: sp(10),
            pdf_workers: sp(2),
            pdf_memory_mib: sp(512),
            decorative_image_pixels: sp(250_000),
        }
    }
}

/// `[[detectors.rules]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RawRule {
    pub id: Spanned<String>,
    pub category: Spanned<String>,
    pub pattern: Option<Spanned<String>>,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default = "default_weight")]
    pub weight: Spanned<f64>,
    #[serde(default)]
    pub context: Vec<String>,
    #[serde(default = "default_window")]
    pub window: u32,
}

fn default_weight() -> Spanned<f64> {
    sp(0.8)
}

fn default_window() -> u32 {
    60
}

/// Parses the TOML text into the raw structs. Syntax and shape errors (a
/// misspelt key, a string where a number belongs) stop at the first one, as
/// the parser cannot go on past them; they still carry file, line and key.
pub fn parse(origin: &str, text: &str) -> Result<RawConfig, ConfigErrors> {
    let de = toml::Deserializer::new(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        // Spanned<T> shows up in the path as a private segment: not a key.
        let key = e
            .path()
            .to_string()
            .split('.')
            .filter(|seg| !seg.starts_with("$__") && !seg.is_empty())
            .collect::<Vec<_>>()
            .join(".");
        let inner = e.into_inner();
        let line = inner.span().map(|s| line_of(text, s.start)).unwrap_or(0);
        ConfigErrors::single(ConfigError::new(origin, line, &key, inner.message().trim()))
    })
}
