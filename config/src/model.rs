//! The validated configuration the gateway runs on.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;

/// A validated configuration. Build it with [`Config::from_toml`] or
/// [`Config::load`]; every value in it has passed validation.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Where it came from: a path or `<embedded default>`.
    pub origin: String,
    /// `[server]`
    pub server: ServerConfig,
    /// `[spool]`
    pub spool: SpoolConfig,
    /// `[audit]`
    pub audit: AuditConfig,
    /// `[metrics]`
    pub metrics: MetricsConfig,
    /// `[delivery]`
    pub delivery: DeliveryConfig,
    /// `[detectors]`
    pub detectors: DetectorsConfig,
    /// `[tls]`: outbound TLS policy.
    pub tls: TlsConfig,
    /// `[policy]`: what happens to each recipient of a message.
    pub policy: PolicyConfig,
    /// `[encryption]`: the encrypted-delivery route, when configured.
    pub encryption: Option<EncryptionConfig>,
    /// `[dkim]`: signing what leaves, when configured.
    pub dkim: Option<DkimConfig>,
    /// `[smime]`: encryption to recipients' own certificates.
    pub smime: SmimeConfig,
    /// `[console]`: the administrators' web console, off when absent.
    pub console: Option<ConsoleConfig>,
    /// `[review]`: the audit review and its digest.
    pub review: ReviewConfig,
    /// `[log]`: operational logs.
    pub log: LogConfig,
    /// The line each key naming a file is on, so that a problem with the
    /// file (missing, unreadable) can be reported as `file:line: key`.
    pub key_lines: Vec<(String, usize)>,
}

impl Config {
    /// Whether an `encrypt` action has a method to use: the provider relay,
    /// or S/MIME configured in its own section.
    pub fn encrypts(&self) -> bool {
        self.encryption.is_some() || (self.smime.explicit && self.smime.enabled)
    }

    /// The line of `key` in the file (0 when unknown, e.g. a default).
    pub fn line_of(&self, key: &str) -> usize {
        self.key_lines
            .iter()
            .find(|(k, _)| k == key)
            .map_or(0, |(_, l)| *l)
    }

    /// A problem with the file or value named by `key`, located in the
    /// configuration file like any validation error.
    pub fn error_at(&self, key: &str, message: impl Into<String>) -> crate::ConfigError {
        crate::ConfigError::new(&self.origin, self.line_of(key), key, message)
    }

    /// Things that are valid but probably unwise, in words for an
    /// administrator (`check-config` prints them; `serve` logs them).
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for n in &self.server.relay_networks {
            // Loopback is this host. Otherwise: anything as large as a /8,
            // and public networks larger than a /24 (IPv6: /48), which is
            // what a cloud provider's shared sending ranges look like.
            let wide = match n {
                ipnet::IpNet::V4(v4) => {
                    let a = v4.network();
                    !a.is_loopback()
                        && (v4.prefix_len() < 8
                            || (v4.prefix_len() < 24 && !a.is_private() && !a.is_link_local()))
                }
                ipnet::IpNet::V6(v6) => {
                    let a = v6.network();
                    let local = a.is_loopback()
                        || (a.segments()[0] & 0xfe00) == 0xfc00
                        || (a.segments()[0] & 0xffc0) == 0xfe80;
                    !a.is_loopback() && (v6.prefix_len() < 8 || (v6.prefix_len() < 48 && !local))
                }
            };
            if wide {
                out.push(format!(
                    "server.relay_networks: {n} is very wide: every client in it may relay without \
                     AUTH (shared provider ranges let other tenants relay through this gateway; \
                     identify the provider's connector by its certificate with \
                     server.relay_client_names instead)"
                ));
            }
        }
        if self.audit.signing_key.starts_with(&self.audit.dir) {
            out.push(
                "audit.signing_key is inside audit.dir: keep it elsewhere (and pin its public key \
                 with audit.public_key)"
                    .to_string(),
            );
        }
        if self.dkim.is_none() {
            let modifies = self
                .policy
                .rules
                .iter()
                .any(|r| r.modifiers.tag_subject.is_some() || r.modifiers.add_header.is_some())
                || self.encryption.is_some();
            if modifies {
                out.push(
                    "[dkim] is not set, but a rule (tag_subject, add_header) or the encrypted \
                     route changes messages: a DKIM signature made before the gateway then \
                     fails, and recipients enforcing DMARC reject or junk the mail. Configure \
                     [dkim] (phigate dkim keygen) so the gateway signs what it changed"
                        .to_string(),
                );
            }
        }
        if self.audit.public_key.is_none() {
            out.push(
                "audit.public_key is not set: pin the audit verification key (the public key \
                 `phigate audit keygen` prints) so that a replaced key is refused"
                    .to_string(),
            );
        }
        if self.audit.witness.file.is_none() && self.audit.witness.syslog.is_none() {
            out.push(
                "[audit.witness] is not set: without a witness outside the audit directory, \
                 a rollback of the whole log by someone who can write it is not detectable"
                    .to_string(),
            );
        }
        out
    }
}

/// Operational logs (stderr).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogConfig {
    /// JSON lines instead of text.
    pub json: bool,
    /// Level or tracing filter, e.g. `info` or `phigate=debug,info`.
    pub level: String,
}

/// PHI detection settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DetectorsConfig {
    /// Score a category must reach to count, unless listed in `thresholds`.
    pub threshold: f32,
    /// Per-category thresholds (`ssn`, `name_date`, a custom category...).
    pub thresholds: Vec<(String, f32)>,
    /// Administrators' rules, in file order.
    pub rules: Vec<CustomRule>,
    /// Read PDF text out of process with poppler's `pdftotext` (`true`), or
    /// leave PDFs uninspectable (`false`).
    pub pdf: bool,
    /// Longest one PDF extraction may take (and CPU seconds it may use).
    pub pdf_timeout: Duration,
    /// PDF extractions at once.
    pub pdf_workers: usize,
    /// Address space one extraction may use, MiB.
    pub pdf_memory_mib: u64,
    /// Images up to this many pixels are decoration (logos, icons); larger
    /// ones may show a document and are uninspectable. 0: every image is.
    pub decorative_image_pixels: u64,
}

/// A custom detection rule.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CustomRule {
    /// Unique id; appears in findings and the audit log.
    pub id: String,
    /// Category reported: a built-in one or a new name.
    pub category: String,
    /// Regular expression (validated).
    pub pattern: Option<String>,
    /// Keywords that are findings themselves.
    pub keywords: Vec<String>,
    /// Confidence of a match (with context, when context words are given).
    pub weight: f32,
    /// Words that must appear near a match for full weight.
    pub context: Vec<String>,
    /// Bytes either side searched for context.
    pub window: usize,
}

/// The inbound SMTP service.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Listening addresses (at least one).
    pub listen: Vec<SocketAddr>,
    /// Greeting, EHLO and `Received:` name.
    pub hostname: String,
    /// Clients that may relay without authenticating.
    pub relay_networks: Vec<IpNet>,
    /// Largest message in bytes, advertised with SIZE.
    pub max_message_size: u64,
    /// Bytes of message content all sessions together may hold in memory
    /// while it arrives and until it is spooled: what many clients sending
    /// large messages at once can make the gateway allocate. A session
    /// that would go over waits (and stops reading, so TCP slows its
    /// client), then gets `452 4.3.1`. At least `max_message_size`.
    pub content_memory: u64,
    /// Recipients per transaction.
    pub max_recipients: usize,
    /// Longest command line in bytes, CRLF included.
    pub max_line_length: usize,
    /// Concurrent sessions in total.
    pub max_connections: usize,
    /// Concurrent sessions from one client IP.
    pub max_connections_per_ip: usize,
    /// Idle time allowed while waiting for a command.
    pub command_timeout: Duration,
    /// Idle time allowed inside DATA or between BDAT chunks.
    pub data_timeout: Duration,
    /// Protocol errors tolerated before the session is closed.
    pub max_errors: u32,
    /// How long sessions get to finish after SIGTERM.
    pub shutdown_grace: Duration,
    /// Inbound STARTTLS certificate and key, when configured.
    pub tls: Option<TlsFiles>,
    /// Users who may authenticate.
    pub users: Vec<AuthUser>,
    /// `Received:` headers beyond this make a message a loop (554 5.4.6).
    pub max_hops: usize,
    /// Slowest DATA a client may send, bytes per second, after the first
    /// `data_timeout`'s grace: DATA must end by `data_timeout + size / rate`.
    /// 0 turns the rate off (the idle timeout still holds).
    pub min_data_rate: u64,
    /// Sessions at once from clients that may not relay without AUTH, so
    /// that the practice's own servers always find a free slot.
    pub max_connections_untrusted: usize,
    /// Password checks (argon2, ~19 MiB each) running at once; more get
    /// `454 4.7.0` at once instead of memory.
    pub auth_concurrency: usize,
    /// Failed AUTH attempts from one client network or for one user before
    /// it is locked out for a while (doubling up to `auth_lockout`).
    pub auth_max_failures: u32,
    /// Longest AUTH lockout.
    pub auth_lockout: Duration,
    /// The practice's own mail domains: notices and DSNs about PHI go only
    /// to senders there or to authenticated senders.
    pub local_domains: Vec<String>,
    /// Clients presenting a TLS certificate (verified against
    /// `server.tls.client_ca`) for one of these names may relay, as a
    /// Microsoft 365 or Google Workspace outbound connector does; `*.` at
    /// the start matches one label.
    pub relay_client_names: Vec<String>,
}

impl ServerConfig {
    /// Whether `ip` may relay without authenticating.
    pub fn is_relay_client(&self, ip: IpAddr) -> bool {
        let ip = canonical_ip(ip);
        self.relay_networks.iter().any(|n| n.contains(&ip))
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:127.0.0.1`, what a dual-stack socket
/// reports) is the IPv4 client it stands for.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// PEM files for a TLS identity.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsFiles {
    /// Certificate chain, leaf first.
    pub cert: PathBuf,
    /// Private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// CA certificates that client certificates are verified against; when
    /// set, clients are asked for a certificate (optional for them).
    pub client_ca: Option<PathBuf>,
}

/// A user allowed to AUTH.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthUser {
    /// Login name as the client sends it.
    pub name: String,
    /// PHC-format argon2 hash of the password.
    pub password_hash: String,
}

impl std::fmt::Debug for AuthUser {
    // The hash stays out of debug output and logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthUser")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The durable spool.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SpoolConfig {
    /// Directory holding the spool segments.
    pub dir: PathBuf,
    /// Share fsyncs between concurrent sessions.
    pub group_commit: bool,
    /// Size at which a segment is closed and the next one started.
    pub segment_size: u64,
}

/// The audit log.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuditConfig {
    /// Directory holding audit files.
    pub dir: PathBuf,
    /// Ed25519 signing key (PKCS#8, base64); made at first start if missing.
    pub signing_key: PathBuf,
    /// A signed checkpoint follows every this many records...
    pub checkpoint_every: u64,
    /// ...and at least this often while records are written.
    pub checkpoint_interval: Duration,
    /// Audit files are kept at least this many days (HIPAA: six years).
    pub retention_days: u64,
    /// The pinned verification key (Ed25519 public key, hex): `audit
    /// verify` checks against it, never against a key found in the audit
    /// directory, and the writer refuses a signing key that does not match
    /// it or a rotation from it.
    pub public_key: Option<String>,
    /// The key that signed the log so far, when `signing_key` is a new one:
    /// at start the writer records a rotation signed by both.
    pub previous_signing_key: Option<PathBuf>,
    /// Where checkpoints are witnessed outside the audit directory.
    pub witness: WitnessConfig,
}

/// Checkpoint witnesses: copies of each signed checkpoint kept where an
/// insider who can rewrite the audit directory cannot (another disk or
/// host), so that a rolled-back or replaced log is caught.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WitnessConfig {
    /// An append-only file on another path (ideally another filesystem,
    /// `chattr +a`).
    pub file: Option<PathBuf>,
    /// A syslog collector, RFC 5424 over TLS (RFC 5425), `host:port`.
    pub syslog: Option<String>,
    /// CA certificates for the collector (beside the public roots).
    pub syslog_ca: Option<PathBuf>,
    /// The name the collector's certificate must carry (default: the host).
    pub syslog_server_name: Option<String>,
}

/// The metrics endpoint.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MetricsConfig {
    /// Address of the HTTP listener serving `/metrics`.
    pub listen: SocketAddr,
}

/// Outbound delivery.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DeliveryConfig {
    /// Smarthost; `None` means MX lookup.
    pub relay: Option<NextHop>,
    /// AUTH credentials for the smarthost (sent only over TLS).
    pub relay_auth: Option<(String, String)>,
    /// Per-domain next hops, checked before the smarthost.
    pub routes: Vec<Route>,
    /// How names are resolved.
    pub dns: DnsConfig,
    /// Port used for hosts found by MX or A/AAAA lookup.
    pub port: u16,
    /// Retry schedule.
    pub retry: RetryConfig,
    /// Time allowed to connect to a next hop.
    pub connect_timeout: Duration,
    /// Time allowed for each reply from a next hop.
    pub command_timeout: Duration,
    /// Deliveries in progress at once.
    pub concurrency: usize,
    /// Deliveries in progress at once to one next hop.
    pub per_destination: usize,
}

/// A per-domain route.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Route {
    /// Recipient domains (lower case) this route serves.
    pub domains: Vec<String>,
    /// Where their mail goes.
    pub hop: NextHop,
}

/// Name resolution for delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DnsConfig {
    /// Use only the tables below, never the network (tests, labs).
    pub static_only: bool,
    /// Ask these name servers instead of the system's (mode "servers").
    pub servers: Vec<std::net::SocketAddr>,
    /// Validate DNSSEC (for DANE): the MX and TLSA answers DANE relies on.
    pub dnssec: bool,
    /// DNSKEY or DS records trusted instead of the root zone's keys.
    pub trust_anchor: Option<PathBuf>,
    /// MX table: domain -> exchanger host names, in preference order.
    pub mx: Vec<(String, Vec<String>)>,
    /// Address table: host name -> addresses.
    pub hosts: Vec<(String, Vec<IpAddr>)>,
}

/// When to try again.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryConfig {
    /// Wait after the first failed attempt; doubled after each one.
    pub initial: Duration,
    /// Longest wait between attempts.
    pub max: Duration,
    /// Age at which a message still undelivered is bounced.
    pub give_up_after: Duration,
}

/// How much TLS a delivery needs, Postfix-style, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TlsLevel {
    /// Never TLS.
    None,
    /// TLS when offered, any certificate; plaintext otherwise.
    May,
    /// TLS required, any certificate.
    Encrypt,
    /// TLS required, certificate valid for the host name (or IP).
    Verify,
    /// The strongest the recipient domain publishes: DANE (RFC 7672) when
    /// DNSSEC is on and its MX host has usable TLSA records, else an
    /// MTA-STS policy in enforce mode (RFC 8461), else `verify`.
    Secure,
    /// The recipient domain must publish an MTA-STS policy in enforce
    /// mode, and the next hop must be one of its MX hosts, verified.
    MtaSts,
    /// The MX answer must be DNSSEC-secure and the next hop's certificate
    /// match its DNSSEC-secure TLSA records (RFC 7672).
    Dane,
}

impl TlsLevel {
    /// Whether the certificate must be valid for the next hop's name.
    pub fn verifies(self) -> bool {
        self >= TlsLevel::Verify
    }

    /// The level's name as written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsLevel::None => "none",
            TlsLevel::May => "may",
            TlsLevel::Encrypt => "encrypt",
            TlsLevel::Verify => "verify",
            TlsLevel::Secure => "secure",
            TlsLevel::MtaSts => "mta-sts",
            TlsLevel::Dane => "dane",
        }
    }
}

/// Outbound TLS policy.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsConfig {
    /// Floor for messages without PHI.
    pub default: TlsLevel,
    /// Floor for messages with PHI (never below `encrypt`).
    pub phi: TlsLevel,
    /// Extra trust anchors (PEM).
    pub ca_file: Option<PathBuf>,
    /// Port MTA-STS policies are fetched from (443 but in labs and tests).
    pub mta_sts_port: u16,
    /// Set REQUIRETLS (RFC 8689) on PHI relayed to an authenticated next
    /// hop that offers it, so the hops after it keep to verified TLS too.
    pub requiretls_for_phi: bool,
    /// Per-destination entries.
    pub policies: Vec<TlsPolicy>,
}

/// A destination's own TLS requirements.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsPolicy {
    /// Recipient domain (lower case).
    pub domain: String,
    /// Raises the floor for messages without PHI.
    pub default: Option<TlsLevel>,
    /// Sets the floor for PHI (never below `encrypt`).
    pub phi: Option<TlsLevel>,
}

/// A next hop as Postfix writes it: `host:port` looks up MX records for
/// `host`; `[host]:port` (or an IP literal) connects to `host` directly.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NextHop {
    /// Host name or IP address.
    pub host: Host,
    /// TCP port.
    pub port: u16,
    /// Whether to look up MX records for `host`.
    pub mx_lookup: bool,
}

/// A host by name or by address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A DNS name.
    Name(String),
    /// An IP literal.
    Ip(IpAddr),
}

impl std::fmt::Display for NextHop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = match &self.host {
            Host::Name(n) => n.clone(),
            Host::Ip(ip) => ip.to_string(),
        };
        if self.mx_lookup {
            write!(f, "{host}:{}", self.port)
        } else {
            write!(f, "[{host}]:{}", self.port)
        }
    }
}

/// What the policy does with one recipient of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Deliver under the TLS floor the content needs (`tls.phi` for PHI,
    /// `tls.default` otherwise).
    Deliver,
    /// Deliver under `tls.phi` whatever the content.
    RequireTls,
    /// Hand to the encrypted-delivery route.
    Encrypt,
    /// Hold until an administrator releases or deletes it.
    Quarantine,
    /// Refuse the message with a 5.7.1 reply.
    Reject,
}

impl Action {
    /// The action's name as written in the config and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Deliver => "deliver",
            Action::RequireTls => "require_tls",
            Action::Encrypt => "encrypt",
            Action::Quarantine => "quarantine",
            Action::Reject => "reject",
        }
    }

    /// An action by its name.
    pub fn from_name(name: &str) -> Option<Action> {
        Some(match name {
            "deliver" => Action::Deliver,
            "require_tls" => Action::RequireTls,
            "encrypt" => Action::Encrypt,
            "quarantine" => Action::Quarantine,
            "reject" => Action::Reject,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `[policy]`
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PolicyConfig {
    /// Every rule only records what it would do; mail flows as the
    /// built-in default decides.
    pub audit_only: bool,
    /// A sender's subject keyword that forces the encrypted route.
    pub opt_in_keyword: Option<String>,
    /// A sender's subject keyword that asks for PHI without encryption;
    /// honoured only for `opt_out_domains`.
    pub opt_out_keyword: Option<String>,
    /// Recipient domains an administrator allows the opt-out for.
    pub opt_out_domains: Vec<String>,
    /// Longest an inspection may take before the message is refused with 451.
    pub inspection_timeout: Duration,
    /// Administrators' rules, in file order; the first that matches wins.
    pub rules: Vec<PolicyRule>,
}

/// One `[[policy.rule]]`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PolicyRule {
    /// Unique id, recorded in the audit log with each decision it makes.
    pub id: String,
    /// When it applies: every condition given must hold.
    pub when: Conditions,
    /// What it does.
    pub action: Action,
    /// What it adds to the action.
    pub modifiers: Modifiers,
    /// Only record what it would do.
    pub audit_only: bool,
}

/// A rule's conditions; an empty list or `None` does not constrain.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Conditions {
    /// Whether the message carries PHI (uninspectable counts as PHI).
    pub phi: Option<bool>,
    /// Any of these categories was found.
    pub categories: Vec<String>,
    /// The sender is one of these: `user@domain`, `@domain` or `domain`.
    pub senders: Vec<String>,
    /// The recipient's domain is one of these, or a subdomain of one.
    pub recipient_domains: Vec<String>,
    /// The client is in one of these networks.
    pub client_networks: Vec<IpNet>,
    /// The client authenticated (true) or did not (false).
    pub authenticated: Option<bool>,
    /// The message came over inbound TLS (true) or not (false).
    pub inbound_tls: Option<bool>,
}

/// `[dkim]`: the gateway's DKIM signature (RFC 6376) on what it delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DkimConfig {
    /// Signing domain (`d=`): the practice's domain, aligned with From.
    pub domain: String,
    /// Selector (`s=`): the key is published at `SELECTOR._domainkey.DOMAIN`.
    pub selector: String,
    /// Private key, PEM: PKCS#8 RSA (2048 bits or more) or Ed25519, or
    /// PKCS#1 RSA.
    pub key: PathBuf,
    /// Header fields signed, in order.
    pub headers: Vec<String>,
    /// Sign every message delivered (true), or only those the gateway
    /// changed (false, the default: unchanged mail keeps the signature
    /// the practice's own server made).
    pub sign_all: bool,
}

/// `[smime]`: S/MIME encryption to the recipient's own certificate, the
/// step of the PHI delivery chain after authenticated TLS and before the
/// provider relay.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SmimeConfig {
    /// Whether the chain tries S/MIME at all.
    pub enabled: bool,
    /// The recipient certificate store (`phigate certs import` fills it).
    pub certs_dir: PathBuf,
    /// The Subject the encrypted message shows outside (the real one is
    /// inside, encrypted).
    pub outer_subject: String,
    /// Certificates expiring within this many days are flagged.
    pub expiry_warning_days: u64,
    /// Whether `[smime]` was written in the file (then `encrypt` rules
    /// need no `[encryption]` relay).
    pub explicit: bool,
    /// Stronger algorithms for domains known to read them.
    pub domains: Vec<SmimeDomain>,
    /// Also use certificates recipients' domains publish in DNSSEC-secure
    /// SMIMEA records (RFC 8162), when `[delivery.dns] dnssec` is on.
    pub dns: bool,
    /// Sign before encrypting with this certificate and key (PEM), when
    /// both are given: the practice's own S/MIME identity.
    pub sign: Option<(PathBuf, PathBuf)>,
    /// A directory asked for recipients' certificates the store lacks.
    pub ldap: Option<SmimeLdap>,
}

/// `[smime.ldap]`: an LDAP directory holding recipients' certificates
/// (`userCertificate;binary`), always reached over TLS: `ldaps://`, or
/// `ldap://` upgraded with StartTLS before anything else is said.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SmimeLdap {
    /// The URL as written, for people.
    pub url: String,
    /// The host, also the name its certificate must carry.
    pub host: String,
    /// The port (636 for ldaps, 389 for ldap).
    pub port: u16,
    /// `ldap://`: StartTLS first (RFC 4511 4.14); `ldaps://`: TLS at once.
    pub starttls: bool,
    /// Where the search starts.
    pub base: String,
    /// The attribute that holds a recipient's address (`mail`).
    pub attribute: String,
    /// Simple bind as this DN, with the password in `bind_password_file`;
    /// anonymous without.
    pub bind: Option<(String, PathBuf)>,
    /// One lookup's budget, connection to last entry.
    pub timeout_secs: u64,
    /// How long an answer (found or not) is reused.
    pub cache_secs: u64,
}

impl SmimeConfig {
    /// The algorithms for recipients at `domain` (subdomains included).
    pub fn algorithms(&self, domain: &str) -> SmimeAlgorithms {
        let domain = domain.to_ascii_lowercase();
        self.domains
            .iter()
            .find(|d| {
                domain == d.domain
                    || domain
                        .strip_suffix(d.domain.as_str())
                        .is_some_and(|p| p.ends_with('.'))
            })
            .map_or_else(SmimeAlgorithms::default, |d| d.algorithms)
    }
}

/// `[[smime.domain]]`: the algorithms one domain's recipients read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SmimeDomain {
    /// The domain (lower case; subdomains too).
    pub domain: String,
    /// What to use for it.
    pub algorithms: SmimeAlgorithms,
}

/// Content encryption and key transport of an S/MIME message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SmimeAlgorithms {
    /// `aes256-gcm` gives AuthEnvelopedData (RFC 5083/5084).
    pub gcm: bool,
    /// `rsa-oaep` (SHA-256, RFC 8017) instead of RSA PKCS#1 v1.5.
    pub oaep: bool,
}

impl SmimeAlgorithms {
    /// Their names: `aes256-cbc rsa` (the default) ... `aes256-gcm rsa-oaep`.
    pub fn as_str(self) -> &'static str {
        match (self.gcm, self.oaep) {
            (false, false) => "aes256-cbc rsa",
            (false, true) => "aes256-cbc rsa-oaep",
            (true, false) => "aes256-gcm rsa",
            (true, true) => "aes256-gcm rsa-oaep",
        }
    }
}

/// `[review]`: what `phigate audit review` and the digest call unusual.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReviewConfig {
    /// Who gets the digest (the practice's security officer).
    pub officer: Option<String>,
    /// How often: `None` (off), `Some(1)` daily, `Some(7)` weekly.
    pub digest_days: Option<u64>,
    /// Days before a period that make each sender's baseline.
    pub baseline_days: u64,
    /// A sender's PHI volume is a jump above this many times its baseline...
    pub phi_jump_factor: f64,
    /// ...and at least this many messages.
    pub phi_jump_min: u64,
    /// Opt-out keyword uses in one day that make a burst.
    pub opt_out_burst: u64,
    /// Failed AUTH attempts from one client in a day worth a look.
    pub auth_failures: u64,
    /// Releases from quarantine by one administrator in a period.
    pub releases: u64,
    /// Time without a running gateway worth a look.
    pub downtime_secs: u64,
    /// Free-mail domains (PHI sent there deserves a look).
    pub free_mail_domains: Vec<String>,
}

/// Free-mail services whose domains PHI is worth a look at, when
/// `[review] free_mail_domains` is not given.
pub const FREE_MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "ymail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mail.com",
    "gmx.com",
    "proton.me",
    "protonmail.com",
    "zoho.com",
    "yandex.com",
];

/// Header fields signed when `[dkim] headers` is not given: those RFC 6376
/// section 5.4.1 recommends that a message commonly has.
pub const DKIM_DEFAULT_HEADERS: &[&str] = &[
    "From",
    "Reply-To",
    "Subject",
    "Date",
    "To",
    "Cc",
    "Message-ID",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
];

/// What a rule adds to its action.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Modifiers {
    /// Put in front of the subject on delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_subject: Option<String>,
    /// A header (name, value) added on delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_header: Option<(String, String)>,
    /// Tell the sender when the message was held, rerouted or refused.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub notify_sender: bool,
}

/// The encrypted-delivery route: a secure-mail provider's relay. S/MIME to
/// the recipient's own certificate is configured apart, in `[smime]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncryptionConfig {
    /// Relay to a secure-mail provider, which encrypts and notifies the recipient.
    Relay(EncryptionRelay),
}

/// A secure-mail provider's relay.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EncryptionRelay {
    /// Where to send (always over verified TLS).
    pub hop: NextHop,
    /// AUTH credentials.
    pub auth: Option<(String, String)>,
    /// The provider's trigger: a subject tag...
    pub subject_tag: Option<String>,
    /// ...and/or a header (name, value).
    pub header: Option<(String, String)>,
}

/// `[console]`: the web console for administrators, on its own listener.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConsoleConfig {
    /// Where it listens.
    pub listen: SocketAddr,
    /// Certificate and key it serves HTTPS with (its own, else
    /// `[server.tls]`); `None` only on a loopback address (`tls = false`).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// A session ends after this long without a request.
    pub session_idle: std::time::Duration,
    /// Who may sign in.
    pub users: Vec<ConsoleUser>,
}

/// `[[console.user]]`: a named administrator.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConsoleUser {
    /// Sign-in name.
    pub name: String,
    /// argon2 PHC hash of the password (`phigate hash-password`).
    pub password_hash: String,
    /// What they may do.
    pub role: ConsoleRole,
    /// The TOTP key (RFC 6238, SHA-1, 30 s, 6 digits), decoded from base32.
    pub totp_secret: Option<Vec<u8>>,
}

impl std::fmt::Debug for ConsoleUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleUser")
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// A console user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleRole {
    /// Reads everything, changes nothing.
    Viewer,
    /// Also releases and deletes quarantined messages.
    Admin,
}

impl ConsoleRole {
    /// Its name in the file and on pages.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsoleRole::Viewer => "viewer",
            ConsoleRole::Admin => "admin",
        }
    }
}
