//! The monthly report as one HTML document, from the configuration in
//! force and the audit log alone: `phigate report` writes it, the console
//! serves it.

use std::path::PathBuf;

use super::html::{Setup, Verification, render};

/// Whether `month` is a month a report can be built for: `YYYY-MM`.
pub fn valid_month(month: &str) -> bool {
    month.len() == 7
        && month.as_bytes()[4] == b'-'
        && crate::date::parse(&format!("{month}-01T00:00:00Z")).is_some()
}

/// What verifying the log needs: the directory, the key (pinned, given, or
/// the public half of the signing key, said loudly), where the key came
/// from, the retention, the witness entries and how many witness files.
pub type Inputs = (
    PathBuf,
    crate::audit::PublicKey,
    String,
    u64,
    Vec<crate::audit::witness::Entry>,
    usize,
);

/// The inputs of a verification of `cfg`'s log, as `audit verify` and the
/// report make it.
pub fn verification_inputs(
    cfg: &phigate_config::Config,
    dir: Option<PathBuf>,
    public_key: Option<PathBuf>,
    witness: Vec<PathBuf>,
) -> Result<Inputs, String> {
    let dir = dir.unwrap_or(cfg.audit.dir.clone());
    let (key, from) = match (&public_key, &cfg.audit.public_key) {
        (Some(p), _) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("reading public key {}: {e}", p.display()))?;
            let key = crate::audit::PublicKey::from_hex(&text)
                .ok_or_else(|| format!("{}: not an Ed25519 public key in hex", p.display()))?;
            (key, p.display().to_string())
        }
        (None, Some(pinned)) => (
            crate::audit::PublicKey::from_hex(pinned).ok_or("audit.public_key is not a key")?,
            format!("audit.public_key in {}", cfg.origin),
        ),
        (None, None) => {
            // Not pinned: the public half of the configured signing key
            // (outside the audit directory). `audit verify` says so
            // loudly: a pinned key is what stops a replaced key.
            let k = crate::audit::SigningKey::load(&cfg.audit.signing_key)
                .map_err(|e| format!("{e}; or give --public-key, or pin audit.public_key"))?;
            (k.public(), cfg.audit.signing_key.display().to_string())
        }
    };
    let mut files = witness;
    if let Some(f) = &cfg.audit.witness.file
        && !files.contains(f)
    {
        files.push(f.clone());
    }
    let mut entries = Vec::new();
    for f in &files {
        entries.extend(crate::audit::witness::read_entries(f).map_err(|e| format!("witness {e}"))?);
    }
    Ok((
        dir,
        key,
        from,
        cfg.audit.retention_days,
        entries,
        files.len(),
    ))
}

/// The report of `month` (`YYYY-MM`) as HTML, its figures, and why the log
/// does not verify if it does not: the log verified first (the result,
/// failure included, goes into the report), then the month's records
/// folded. The console serves the same.
pub fn build(
    cfg: &phigate_config::Config,
    month: &str,
) -> std::io::Result<(String, super::Month, Option<String>)> {
    let mut problem = None;
    let verified = match verification_inputs(cfg, None, None, Vec::new()) {
        Err(e) => Verification::Failed(format!("cannot verify: {e:#}")),
        Ok((dir, key, from, retention, entries, witnesses)) => {
            match crate::audit::verify::verify_with(&dir, &key, retention, &entries) {
                Ok(s) => Verification::Intact(format!(
                    "{} file(s), {} record(s), {} signed checkpoint(s), key {} from {from}; \
                     {} witnessed checkpoint(s) in {witnesses} witness(es); {} record(s) not \
                     yet sealed by a checkpoint",
                    s.files,
                    s.records,
                    s.checkpoints,
                    key.key_id(),
                    s.witnessed,
                    s.unsigned_tail
                )),
                Err(p) => {
                    problem = Some(p.to_string());
                    Verification::Failed(p.to_string())
                }
            }
        }
    };
    let month_figures = super::collect(&cfg.audit.dir, month).map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("reading audit log {}: {e}", cfg.audit.dir.display()),
        )
    })?;
    let html = render(
        &month_figures,
        &verified,
        &setup(cfg),
        &crate::date::rfc3339(crate::date::now()),
    );
    Ok((html, month_figures, problem))
}

/// The configuration as the report shows it: floors, rules, safeguards;
/// never a password, key or hash.
pub fn setup(cfg: &phigate_config::Config) -> Setup {
    let t = &cfg.tls;
    let mut tls = vec![
        format!("mail without PHI: {}", t.default.as_str()),
        format!("mail with PHI: {} (never below encrypt)", t.phi.as_str()),
    ];
    for p in &t.policies {
        tls.push(format!(
            "{}: without PHI {}, with PHI {}",
            p.domain,
            p.default.map_or("(global)", |l| l.as_str()),
            p.phi.map_or("(global)", |l| l.as_str())
        ));
    }
    let mut rules: Vec<String> = cfg
        .policy
        .rules
        .iter()
        .map(|r| {
            format!(
                "{}: {}{}",
                r.id,
                r.action.as_str(),
                if r.audit_only { " (audit only)" } else { "" }
            )
        })
        .collect();
    rules.push("built-in default: PHI -> verified TLS (or the encrypted route, else held); no PHI -> [tls] default".into());
    let mut other = vec![format!(
        "audit log kept {} days, checkpoints every {} records",
        cfg.audit.retention_days, cfg.audit.checkpoint_every
    )];
    if cfg.encryption.is_some() {
        other.push("encrypted-delivery route configured".into());
    }
    if let Some(d) = &cfg.dkim {
        other.push(format!(
            "DKIM signing as {} (selector {})",
            d.domain, d.selector
        ));
    }
    other.push(format!(
        "DNSSEC for DANE: {}",
        if cfg.delivery.dns.dnssec { "on" } else { "off" }
    ));
    Setup {
        origin: cfg.origin.clone(),
        tls,
        rules,
        other,
    }
}
