//! `phigate queue list`: what waits in the spool.

use std::path::Path;

use anyhow::{Context, Result};

pub(crate) fn queue_list(config: Option<&Path>, json: bool) -> Result<()> {
    let cfg = super::load(config)?;
    let scan = crate::spool::scan(&cfg.spool.dir, false)
        .with_context(|| format!("reading spool {}", cfg.spool.dir.display()))?;
    if json {
        for m in &scan.messages {
            println!("{}", serde_json::to_string(&m.envelope)?);
        }
        return Ok(());
    }
    println!(
        "{:<16}  {:<31}  {:>10}  {:>5}  SENDER",
        "QUEUE ID", "RECEIVED", "SIZE", "RCPTS"
    );
    for m in &scan.messages {
        let e = &m.envelope;
        let from = if e.mail_from.is_empty() {
            "<>"
        } else {
            &e.mail_from
        };
        println!(
            "{:<16}  {:<31}  {:>10}  {:>5}  {}",
            e.id,
            crate::date::rfc5322_date(e.received_at),
            e.size,
            e.rcpt_to.len(),
            from
        );
    }
    println!("{} message(s) waiting", scan.messages.len());
    Ok(())
}
