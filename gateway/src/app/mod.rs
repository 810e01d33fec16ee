//! The composition root: everything built from a configuration is built
//! here, the same way for `serve`, a reload, `check-config`, `scan` and
//! `test-rules`, so that `check-config` fails exactly where `serve` would.

pub mod engine;
pub mod shutdown;

use std::sync::Arc;

use phigate_config::{Config, ConfigError};

use crate::smtp::session::Limits;

/// Why something could not be built from the configuration. Each names the
/// key responsible, so `check-config` can point at file, line and key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The detectors could not be built from `[detectors]`.
    #[error("detectors: {0}")]
    Detectors(#[from] phigate_detectors::BuildError),
    /// A file named at `key` is missing, unreadable or wrong.
    #[error("{message}")]
    File {
        /// The configuration key naming the file.
        key: &'static str,
        /// What is wrong, with the file's path.
        message: String,
    },
}

impl BuildError {
    /// The configuration key responsible.
    pub fn key(&self) -> &'static str {
        match self {
            BuildError::Detectors(_) => "detectors.rules",
            BuildError::File { key, .. } => key,
        }
    }
}

/// Everything built from the configuration that a reload replaces.
pub struct Live {
    /// The configuration itself.
    pub config: Arc<Config>,
    /// What the SMTP session needs to know.
    pub limits: Limits,
    /// PHI detectors, run on every message before it is spooled.
    pub engine: Arc<phigate_detectors::Engine>,
    /// Decides what happens to each recipient.
    pub policy: crate::policy::Policy,
    /// What delivery rounds use: routing, trust anchors, the encrypted route.
    pub delivery: Arc<crate::queue::Live>,
}

impl Live {
    /// Builds it all from `config`; `tls_available` says whether the
    /// listeners can offer STARTTLS (the acceptor is built once, at start).
    pub fn build(config: Config, tls_available: bool) -> Result<Live, BuildError> {
        let engine = Arc::new(engine::relay(&config.detectors)?);
        let policy = crate::policy::Policy::new(config.policy.clone(), config.encrypts());
        let limits = Limits {
            hostname: config.server.hostname.clone(),
            max_message_size: config.server.max_message_size,
            max_recipients: config.server.max_recipients,
            max_errors: config.server.max_errors,
            tls_available,
            auth_available: !config.server.users.is_empty(),
            max_hops: config.server.max_hops,
            local_domains: config.server.local_domains.clone(),
        };
        let config = Arc::new(config);
        let trust = trust(config.tls.ca_file.as_deref(), "tls.ca_file")?;
        let dkim = dkim(&config)?;
        let dane = dane(&config)?;
        let smime_signer = smime_signer(&config)?;
        let directory = directory(&config, &trust)?;
        let delivery = Arc::new(crate::queue::Live::new(
            config.clone(),
            engine.clone(),
            trust,
            dkim,
            dane,
            smime_signer,
            directory,
        ));
        Ok(Live {
            config,
            limits,
            engine,
            policy,
            delivery,
        })
    }
}

/// The inbound STARTTLS acceptor `[server.tls]` asks for, if any.
pub fn acceptor(config: &Config) -> Result<Option<tokio_rustls::TlsAcceptor>, BuildError> {
    let Some(tls) = &config.server.tls else {
        return Ok(None);
    };
    crate::tls::acceptor(tls).map(Some).map_err(|e| {
        let key = match &e {
            crate::tls::TlsError::Cert { key, .. } => *key,
            crate::tls::TlsError::Key { .. } => "server.tls.key",
            _ => "server.tls",
        };
        BuildError::File {
            key,
            message: e.to_string(),
        }
    })
}

/// The DKIM signer `[dkim]` asks for, if any.
pub fn dkim(config: &Config) -> Result<Option<crate::delivery::dkim::Signer>, BuildError> {
    config
        .dkim
        .as_ref()
        .map(crate::delivery::dkim::Signer::load)
        .transpose()
        .map_err(|e| BuildError::File {
            key: "dkim.key",
            message: e.to_string(),
        })
}

/// The practice's S/MIME signing identity, when `[smime] sign_cert` and
/// `sign_key` name one.
pub fn smime_signer(
    config: &Config,
) -> Result<Option<crate::delivery::smime::SmimeSigner>, BuildError> {
    config
        .smime
        .sign
        .as_ref()
        .map(|(cert, key)| crate::delivery::smime::SmimeSigner::load(cert, key))
        .transpose()
        .map_err(|message| BuildError::File {
            key: "smime.sign_cert",
            message,
        })
}

/// The certificate directory `[smime.ldap]` names, its password read.
pub fn directory(
    config: &Config,
    trust: &crate::tls::Trust,
) -> Result<Option<crate::delivery::ldap::Directory>, BuildError> {
    let Some(ldap) = config.smime.ldap.as_ref().filter(|_| config.smime.enabled) else {
        return Ok(None);
    };
    crate::delivery::ldap::Directory::new(ldap, trust.clone())
        .map(Some)
        .map_err(|e| BuildError::File {
            key: "smime.ldap.bind_password_file",
            message: e.to_string(),
        })
}

/// The DNSSEC-validating resolver DANE uses, when `[delivery.dns]` asks.
pub fn dane(config: &Config) -> Result<Option<crate::delivery::dane::Dane>, BuildError> {
    crate::delivery::dane::Dane::new(&config.delivery.dns).map_err(|e| BuildError::File {
        key: "delivery.dns.trust_anchor",
        message: e.to_string(),
    })
}

/// Trust anchors: the public roots and the CA file at `key`.
pub fn trust(
    ca_file: Option<&std::path::Path>,
    key: &'static str,
) -> Result<crate::tls::Trust, BuildError> {
    crate::tls::Trust::load(ca_file).map_err(|e| BuildError::File {
        key,
        message: format!("{key} {e}"),
    })
}

/// What `check-config` reports: everything `serve` builds from the
/// configuration and the files it names, tried the same way (the same
/// functions), each problem located at its key. Only binding the listeners
/// and opening the spool and the audit log for writing are left to
/// `serve`; their keys are checked for what can be known without doing it.
pub fn check(cfg: &Config) -> Vec<ConfigError> {
    let mut out = Vec::new();
    let mut push = |e: BuildError| out.push(cfg.error_at(e.key(), e.to_string()));
    let tls = match acceptor(cfg) {
        Ok(a) => a.is_some(),
        Err(e) => {
            let reported = e.key();
            push(e);
            // The acceptor stops at its first bad file; name the others too.
            if let Some(files) = &cfg.server.tls {
                let named = [
                    ("server.tls.cert", Some(&files.cert)),
                    ("server.tls.key", Some(&files.key)),
                    ("server.tls.client_ca", files.client_ca.as_ref()),
                ];
                for (key, path) in named {
                    if let Some(path) = path
                        && key != reported
                        && !path.is_file()
                    {
                        push(BuildError::File {
                            key,
                            message: format!("{key} {}: no such file", path.display()),
                        });
                    }
                }
            }
            cfg.server.tls.is_some()
        }
    };
    // Each part on its own, so that every bad file is reported, not only
    // the first (Live::build stops at the first).
    let parts = [
        engine::relay(&cfg.detectors)
            .map(drop)
            .map_err(BuildError::from),
        trust(cfg.tls.ca_file.as_deref(), "tls.ca_file").map(drop),
        dkim(cfg).map(drop),
        dane(cfg).map(drop),
    ];
    let mut whole = true;
    for e in parts.into_iter().filter_map(Result::err) {
        whole = false;
        push(e);
    }
    if whole && let Err(e) = Live::build(cfg.clone(), tls) {
        push(e);
    }
    if let Some(ca) = &cfg.audit.witness.syslog_ca
        && let Err(e) = trust(Some(ca), "audit.witness.syslog_ca")
    {
        push(e);
    }
    for e in crate::audit::check_keys(&cfg.audit) {
        push(BuildError::File {
            key: e.0,
            message: e.1,
        });
    }
    out
}
