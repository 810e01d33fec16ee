//! `phigate report`: the monthly compliance report, from the audit log.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::report::html::{Setup, Verification, render};

/// Runs `phigate report`: verifies the log (the result goes into the
/// report, failure included), folds the month's records, writes the HTML.
pub(crate) fn report(config: Option<PathBuf>, month: &str, out: &std::path::Path) -> Result<()> {
    let ok = month.len() == 7
        && month.as_bytes()[4] == b'-'
        && crate::date::parse(&format!("{month}-01T00:00:00Z")).is_some();
    if !ok {
        anyhow::bail!("--month {month}: expected YYYY-MM");
    }
    let cfg = crate::cli::load(config.as_deref())?;
    let verified = match super::audit::verification_inputs(&cfg, None, None, Vec::new()) {
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
                    eprintln!("phigate: the audit log does not verify: {p}");
                    Verification::Failed(p.to_string())
                }
            }
        }
    };
    let month_figures = crate::report::collect(&cfg.audit.dir, month)
        .with_context(|| format!("reading audit log {}", cfg.audit.dir.display()))?;
    let html = render(
        &month_figures,
        &verified,
        &setup(&cfg),
        &crate::date::rfc3339(crate::date::now()),
    );
    std::fs::write(out, html).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "{}: {} message(s), {} with PHI, {} PHI exception(s) to review",
        out.display(),
        month_figures.messages,
        month_figures.phi_messages,
        month_figures.exceptions.len()
    );
    Ok(())
}

/// The configuration as the report shows it: floors, rules, safeguards;
/// never a password, key or hash.
fn setup(cfg: &phigate_config::Config) -> Setup {
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
