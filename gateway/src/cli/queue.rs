//! `phigate queue list`: what waits in the spool.

use std::path::Path;

use anyhow::{Context, Result};

pub(crate) fn queue_list(config: Option<&Path>, json: bool) -> Result<()> {
    let cfg = super::load(config)?;
    let scan = crate::spool::scan(&cfg.spool.dir, false)
        .with_context(|| format!("reading spool {}", cfg.spool.dir.display()))?;
    if json {
        for m in &scan.messages {
            // The envelope, and each recipient's state beside it.
            let mut v = serde_json::to_value(&m.envelope)?;
            v["states"] = serde_json::to_value(&m.rcpts)?;
            println!("{v}");
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
        for (rcpt, state) in e.rcpt_to.iter().zip(&m.rcpts) {
            if !state.is_final() {
                println!("    <{rcpt}> {}", crate::queue::describe(state));
            }
        }
    }
    println!("{} message(s) waiting", scan.messages.len());
    Ok(())
}
