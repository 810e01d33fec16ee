//! `phigate reload` and `phigate tls-report`: ask the running gateway,
//! over its control socket, to read its configuration again or to send
//! TLS reports now.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::server::control::{self, Request};

/// Runs `phigate reload`. The file may be the broken one being tried: only
/// its `spool.dir` is read here (to find the control socket); the gateway
/// validates the whole file, keeps its configuration if it is bad, reports
/// why, and audits the attempt either way.
pub fn reload(config: Option<PathBuf>) -> Result<()> {
    let spool_dir = match &config {
        None => crate::cli::load(None)?.spool.dir,
        Some(path) => spool_dir_of(path)?,
    };
    let r = control::call(&spool_dir, &Request::Reload)?;
    if !r.ok {
        anyhow::bail!(
            "reload refused, the running configuration stays:\n{}",
            r.error.unwrap_or_default()
        );
    }
    println!("reloaded: {}", r.config.unwrap_or_default());
    Ok(())
}

/// `spool.dir` of a configuration file, without validating the rest.
fn spool_dir_of(path: &std::path::Path) -> Result<PathBuf> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let value: toml::Table = text
        .parse()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let dir = value
        .get("spool")
        .and_then(|s| s.get("dir"))
        .and_then(|d| d.as_str())
        .map(PathBuf::from);
    Ok(dir.unwrap_or_else(|| {
        crate::cli::load(None)
            .map(|c| c.spool.dir)
            .unwrap_or_default()
    }))
}

/// Runs `phigate tls-report`: the running gateway sends the reports of
/// `day` (`today` for the current UTC day), or of every finished day.
pub fn tls_report(config: Option<PathBuf>, day: Option<String>) -> Result<()> {
    let cfg = crate::cli::load(config.as_deref())?;
    let day = day.map(|d| {
        if d == "today" {
            crate::date::day(crate::date::now())
        } else {
            d
        }
    });
    let r = control::call(&cfg.spool.dir, &Request::TlsReport { day })?;
    if !r.ok {
        anyhow::bail!("{}", r.error.unwrap_or_default());
    }
    for line in &r.recipients {
        println!("{line}");
    }
    println!("{} report(s) sent", r.recipients.len());
    Ok(())
}
