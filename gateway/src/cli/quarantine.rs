//! `phigate quarantine ...`: held messages. Reading works on the spool's
//! files; changing a held message goes through the running gateway's
//! control socket, since the gateway owns the spool.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;

use crate::server::control::{self, Request};
use crate::spool::{QueueId, RcptState};

/// `phigate quarantine ...`
#[derive(Subcommand, Debug)]
pub enum QuarantineCommand {
    /// Messages with held recipients.
    List {
        /// Configuration naming the spool.
        #[arg(short, long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// A held message's envelope, findings and decisions (`--raw` adds the message).
    Show {
        /// Configuration naming the spool.
        #[arg(short, long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Print the message itself too (it holds PHI: mind your terminal).
        #[arg(long)]
        raw: bool,
        /// Queue ID.
        id: String,
    },
    /// Deliver a held message (under verified TLS if it carries PHI).
    Release {
        /// Configuration naming the spool.
        #[arg(short, long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Queue ID.
        id: String,
    },
    /// Delete a held message.
    Delete {
        /// Configuration naming the spool.
        #[arg(short, long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Queue ID.
        id: String,
    },
}

/// Runs `phigate quarantine ...`.
pub fn quarantine(cmd: QuarantineCommand) -> Result<()> {
    match cmd {
        QuarantineCommand::List { config } => {
            let cfg = crate::cli::load(config.as_deref())?;
            let scan = crate::spool::scan(&cfg.spool.dir, false)
                .with_context(|| format!("reading spool {}", cfg.spool.dir.display()))?;
            println!(
                "{:<16}  {:<31}  {:<24}  {:<14}  SENDER -> HELD RECIPIENTS",
                "QUEUE ID", "RECEIVED", "RULE", "PHI"
            );
            let mut n = 0;
            for m in &scan.messages {
                let held: Vec<usize> = (0..m.rcpts.len())
                    .filter(|&i| matches!(m.rcpts[i], RcptState::Held { .. }))
                    .collect();
                let Some(&first) = held.first() else { continue };
                n += 1;
                let e = &m.envelope;
                println!(
                    "{:<16}  {:<31}  {:<24}  {:<14}  {} -> {}",
                    e.id,
                    crate::date::rfc5322_date(e.received_at),
                    crate::queue::decision(e, first).rule,
                    e.categories.join(","),
                    if e.mail_from.is_empty() {
                        "<>"
                    } else {
                        &e.mail_from
                    },
                    held.iter()
                        .map(|&i| e.rcpt_to[i].as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            println!("{n} message(s) held");
            Ok(())
        }
        QuarantineCommand::Show { config, raw, id } => {
            let cfg = crate::cli::load(config.as_deref())?;
            let id: QueueId = id
                .parse()
                .map_err(|_| anyhow::anyhow!("`{id}` is not a queue ID"))?;
            let scan = crate::spool::scan(&cfg.spool.dir, raw)
                .with_context(|| format!("reading spool {}", cfg.spool.dir.display()))?;
            let m = scan
                .messages
                .iter()
                .find(|m| m.envelope.id == id)
                .ok_or_else(|| anyhow::anyhow!("no message {id} is waiting"))?;
            let e = &m.envelope;
            println!("queue id:   {}", e.id);
            println!(
                "received:   {} from {}",
                crate::date::rfc5322_date(e.received_at),
                e.client_ip
            );
            println!("sender:     <{}>", e.mail_from);
            println!(
                "phi:        {}",
                if e.categories.is_empty() {
                    "uninspectable or none".to_string()
                } else {
                    e.categories.join(", ")
                }
            );
            for (i, r) in e.rcpt_to.iter().enumerate() {
                let d = crate::queue::decision(e, i);
                println!(
                    "recipient:  <{r}>  action {} (rule {})  now {}  state {}",
                    d.action,
                    d.rule,
                    m.actions[i].unwrap_or(d.action),
                    crate::queue::describe(&m.rcpts[i])
                );
            }
            if let Some(body) = &m.message {
                println!();
                print!("{}", String::from_utf8_lossy(body));
            }
            Ok(())
        }
        QuarantineCommand::Release { config, id } => {
            change(config, Request::Release { id }, "released")
        }
        QuarantineCommand::Delete { config, id } => {
            change(config, Request::Delete { id }, "deleted")
        }
    }
}

fn change(config: Option<PathBuf>, req: Request, done: &str) -> Result<()> {
    let cfg = crate::cli::load(config.as_deref())?;
    let r = control::call(&cfg.spool.dir, &req)?;
    if !r.ok {
        anyhow::bail!("{}", r.error.unwrap_or_else(|| "refused".into()));
    }
    println!("{done}: {}", r.recipients.join(", "));
    Ok(())
}
