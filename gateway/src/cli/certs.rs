//! `phigate certs ...`: the recipient certificate store S/MIME encrypts to.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;

use crate::date;
use crate::delivery::certs::{CertStore, RecipientCert};

/// `phigate certs ...`
#[derive(Subcommand, Debug)]
pub enum CertsCommand {
    /// Adds recipient certificates (PEM or DER; a certificate or a PKCS#7
    /// bundle). Each must name an e-mail address or domain, hold an RSA key
    /// (2048 bits or more) or an EC key on P-256/P-384, and allow e-mail
    /// protection; a running gateway uses them from its next delivery.
    Import {
        /// Configuration naming `[smime] certs_dir`.
        #[arg(short, long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Certificate files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Lists the store: hash, state, expiry, addresses, subject.
    List {
        /// Configuration naming `[smime] certs_dir`.
        #[arg(short, long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// The delivery chain PHI to ADDRESS goes down, from this configuration
    /// and the store: the TLS floor, the S/MIME certificate (or why none),
    /// the encrypted route, then hold. DNS (DANE, MTA-STS, SMIMEA) is asked
    /// at delivery, not here.
    Chain {
        /// Configuration naming `[tls]`, `[smime]` and `[encryption]`.
        #[arg(short, long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The recipient.
        address: String,
    },
    /// Removes certificates by hash prefix (8+ hex digits) or address: how
    /// one that must no longer be used (revoked, replaced) is withdrawn.
    Remove {
        /// Configuration naming `[smime] certs_dir`.
        #[arg(short, long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Hash prefix or e-mail address.
        what: String,
    },
}

pub(crate) fn certs(command: CertsCommand) -> Result<()> {
    match command {
        CertsCommand::Import { config, files } => {
            let cfg = super::load(config.as_deref())?;
            let store = CertStore::new(&cfg.smime.certs_dir);
            let now = date::now() as i64;
            for file in &files {
                for c in store.import(file, now)? {
                    println!("imported {}", line(&c, now, cfg.smime.expiry_warning_days));
                }
            }
            if !cfg.smime.enabled {
                eprintln!("note: [smime] enabled = false: the gateway does not use the store");
            }
            Ok(())
        }
        CertsCommand::List { config, json } => {
            let cfg = super::load(config.as_deref())?;
            let store = CertStore::new(&cfg.smime.certs_dir);
            let now = date::now() as i64;
            for c in store.all() {
                if json {
                    let v = serde_json::json!({
                        "sha256": c.sha256,
                        "state": state(&c, now, cfg.smime.expiry_warning_days),
                        "not_before": date::rfc3339(c.not_before.max(0) as u64),
                        "not_after": date::rfc3339(c.not_after.max(0) as u64),
                        "addresses": c.addresses,
                        "domains": c.domains,
                        "subject": c.subject,
                    });
                    println!("{v}");
                } else {
                    println!("{}", line(&c, now, cfg.smime.expiry_warning_days));
                }
            }
            Ok(())
        }
        CertsCommand::Chain { config, address } => {
            let cfg = super::load(config.as_deref())?;
            print!("{}", chain(&cfg, &address, date::now() as i64));
            Ok(())
        }
        CertsCommand::Remove { config, what } => {
            let cfg = super::load(config.as_deref())?;
            let store = CertStore::new(&cfg.smime.certs_dir);
            let gone = store.remove(&what)?;
            if gone.is_empty() {
                anyhow::bail!(
                    "no certificate in {} matches `{what}`",
                    store.dir().display()
                );
            }
            let now = date::now() as i64;
            for c in gone {
                println!("removed {}", line(&c, now, cfg.smime.expiry_warning_days));
            }
            Ok(())
        }
    }
}

/// `valid`, `expiring` (within the warning days), or why it is not used.
fn state(c: &RecipientCert, now: i64, warn_days: u64) -> String {
    match c.check(now) {
        Ok(()) if c.not_after - now <= warn_days as i64 * 86_400 => "expiring".into(),
        Ok(()) => "valid".into(),
        Err(u) => u.as_str().into(),
    }
}

fn line(c: &RecipientCert, now: i64, warn_days: u64) -> String {
    let names: Vec<&str> = c
        .addresses
        .iter()
        .chain(c.domains.iter())
        .map(String::as_str)
        .collect();
    format!(
        "{}  {}  until {}  {}  {}",
        c.short(),
        state(c, now, warn_days),
        date::day(c.not_after.max(0) as u64),
        names.join(","),
        c.subject
    )
}

/// The PHI chain for `address`, one numbered step per line.
fn chain(cfg: &phigate_config::Config, address: &str, now: i64) -> String {
    use crate::policy::transport::{Destination, required};
    let domain = crate::policy::domain_of(address);
    let tls = required(
        phigate_config::Action::Deliver,
        false,
        true,
        &cfg.tls,
        Destination::Domain(&domain),
    )
    .level();
    let mut out = format!(
        "1. TLS at `{}` to {domain}'s next hop (decided at delivery)\n",
        tls.as_str()
    );
    let algorithms = cfg.smime.algorithms(&domain);
    let smime = if !cfg.smime.enabled {
        "off ([smime] enabled = false)".to_string()
    } else {
        let store = CertStore::new(&cfg.smime.certs_dir);
        match store.find(address, now) {
            Ok(c) => format!(
                "certificate {} (until {}), {}",
                c.short(),
                date::day(c.not_after.max(0) as u64),
                crate::delivery::smime::method(&c, algorithms)
            ),
            Err(skip) if cfg.smime.ldap.is_some() => format!(
                "{skip} in the store; the directory {} is asked at delivery",
                cfg.smime.ldap.as_ref().map_or("", |l| l.url.as_str())
            ),
            Err(skip) if cfg.smime.dns && cfg.delivery.dns.dnssec => {
                format!("{skip} in the store; a DNSSEC-secure SMIMEA record is asked at delivery")
            }
            Err(skip) => format!("skipped: {skip}"),
        }
    };
    out += &format!("2. S/MIME: {smime}\n");
    out += &match &cfg.encryption {
        Some(phigate_config::EncryptionConfig::Relay(r)) => {
            format!("3. encrypted route: {} (verified TLS)\n", r.hop)
        }
        None => "3. encrypted route: not configured\n".to_string(),
    };
    out += "4. held, the sender told\n";
    out
}
