//! `phigate queue list`: what waits in the spool.

use std::path::Path;

use anyhow::{Context, Result};

use crate::date::rfc3339;
use crate::spool::RcptState;

/// Where a recipient stands, in one line: for a deferral the attempts, the
/// last and next attempt and why; for a hold or bounce why. The reason is
/// ours (stage, codes, class), never the remote server's text.
pub(crate) fn describe(s: &RcptState) -> String {
    let why = |w: Option<&crate::smtp::status::Failure>, fallback: &str| match w {
        Some(f) => format!("{f} [{}]", f.class.as_str()),
        None => fallback.to_string(),
    };
    match s {
        RcptState::Pending => "pending".into(),
        RcptState::Deferred {
            attempts,
            next_attempt,
            tried_at,
            last,
            why: w,
        } => {
            let mut out = format!("deferred after {attempts} attempt(s)");
            if *tried_at > 0 {
                out.push_str(&format!(", last {}", rfc3339(*tried_at)));
            }
            out.push_str(&format!(
                ", next {}: {}",
                rfc3339(*next_attempt),
                why(w.as_ref(), last)
            ));
            out
        }
        RcptState::Delivered { .. } => "delivered".into(),
        RcptState::Bounced { reason, why: w, .. } => {
            format!("bounced: {}", why(w.as_ref(), reason))
        }
        RcptState::Held { reason, why: w, .. } => match w {
            Some(f) => format!("held: {reason} [{}]", f.class.as_str()),
            None => format!("held: {reason}"),
        },
        RcptState::Deleted { .. } => "deleted".into(),
    }
}

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
                println!("    <{rcpt}> {}", describe(state));
            }
        }
    }
    println!("{} message(s) waiting", scan.messages.len());
    Ok(())
}
