//! Administrators' commands on a gateway's data: `phigate audit ...` and
//! `phigate quarantine ...`. Reading works on the files directly; changing
//! a held message goes through the running gateway's control socket, since
//! the gateway owns the spool.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;

use crate::audit::search::Query;
use crate::control::{self, Request};
use crate::spool::{QueueId, RcptState};

/// `phigate audit ...`
#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the whole log: exit 0 when intact, 1 naming the first bad file and record.
    Verify {
        /// Configuration naming the audit directory (and its key).
        #[arg(short, long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Audit directory (overrides the configuration's).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// File with the public key (hex) to verify with, kept off the
        /// host; default: the configuration's pinned `audit.public_key`.
        /// A key found in the audit directory is never trusted.
        #[arg(long, value_name = "FILE")]
        public_key: Option<PathBuf>,
        /// A checkpoint witness to check the log against: the
        /// `audit.witness.file`, or a syslog collector's log file
        /// (repeatable; the configured witness file is always checked).
        #[arg(long, value_name = "FILE")]
        witness: Vec<PathBuf>,
    },
    /// Who sent what to whom, and how it was protected.
    Search {
        /// Configuration naming the audit directory.
        #[arg(short, long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Audit directory (overrides the configuration's).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Queue ID.
        #[arg(long)]
        queue_id: Option<String>,
        /// Sender address, or @domain.
        #[arg(long)]
        sender: Option<String>,
        /// Recipient address, or @domain.
        #[arg(long)]
        recipient: Option<String>,
        /// PHI category (ssn, icd10cm, name_date, ...).
        #[arg(long)]
        category: Option<String>,
        /// Action (deliver, require_tls, encrypt, quarantine, reject).
        #[arg(long)]
        action: Option<String>,
        /// From this time (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, UTC).
        #[arg(long)]
        since: Option<String>,
        /// Until this time, exclusive.
        #[arg(long)]
        until: Option<String>,
        /// One JSON object per message.
        #[arg(long)]
        json: bool,
    },
    /// Print a new signing key (for `audit.signing_key`) on standard output.
    Keygen,
}

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

/// Runs `phigate audit ...`.
pub fn audit(cmd: AuditCommand) -> ExitCode {
    let result = match cmd {
        AuditCommand::Verify {
            config,
            dir,
            public_key,
            witness,
        } => return verify(config, dir, public_key, witness),
        AuditCommand::Keygen => {
            let text = crate::audit::generate_key();
            print!("{text}");
            match crate::audit::public_of(&text) {
                Some(public) => eprintln!(
                    "public key (pin it as audit.public_key, and keep a copy off this host):\n  {}\nfingerprint (key id): {}",
                    public.to_hex(),
                    public.key_id()
                ),
                None => eprintln!("phigate: the new key could not be read back"),
            }
            Ok(())
        }
        AuditCommand::Search {
            config,
            dir,
            queue_id,
            sender,
            recipient,
            category,
            action,
            since,
            until,
            json,
        } => (|| {
            let time = |v: Option<String>, what: &str| -> Result<Option<u64>> {
                v.map(|t| {
                    crate::date::parse(&t).ok_or_else(|| {
                        anyhow::anyhow!("--{what} `{t}`: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ")
                    })
                })
                .transpose()
            };
            let q = Query {
                queue_id,
                sender,
                recipient,
                category,
                action,
                since: time(since, "since")?,
                until: time(until, "until")?,
            };
            let dir = audit_dir(config, dir)?;
            let trails = crate::audit::search::search(&dir, &q)
                .with_context(|| format!("reading audit log {}", dir.display()))?;
            for t in &trails {
                if json {
                    println!("{}", serde_json::to_string(t)?);
                } else {
                    println!("{t}");
                }
            }
            if !json {
                println!("{} message(s)", trails.len());
            }
            Ok(())
        })(),
    };
    finish(result)
}

fn finish(result: Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("phigate: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn audit_dir(config: Option<PathBuf>, dir: Option<PathBuf>) -> Result<PathBuf> {
    match dir {
        Some(d) => Ok(d),
        None => Ok(crate::cli::load(config.as_deref())?.audit.dir),
    }
}

fn verify(
    config: Option<PathBuf>,
    dir: Option<PathBuf>,
    public_key: Option<PathBuf>,
    witness: Vec<PathBuf>,
) -> ExitCode {
    let setup = (|| -> Result<_> {
        let cfg = crate::cli::load(config.as_deref())?;
        let dir = dir.unwrap_or(cfg.audit.dir.clone());
        let (key, from) = match (&public_key, &cfg.audit.public_key) {
            (Some(p), _) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading public key {}", p.display()))?;
                let key = crate::audit::PublicKey::from_hex(&text).ok_or_else(|| {
                    anyhow::anyhow!("{}: not an Ed25519 public key in hex", p.display())
                })?;
                (key, p.display().to_string())
            }
            (None, Some(pinned)) => (
                crate::audit::PublicKey::from_hex(pinned)
                    .ok_or_else(|| anyhow::anyhow!("audit.public_key is not a key"))?,
                format!("audit.public_key in {}", cfg.origin),
            ),
            (None, None) => {
                // Not pinned: the public half of the configured signing key
                // (outside the audit directory). Said loudly: a pinned key
                // is what stops a replaced key.
                let k = crate::audit::SigningKey::load(&cfg.audit.signing_key).map_err(|e| {
                    anyhow::anyhow!("{e}; or give --public-key, or pin audit.public_key")
                })?;
                eprintln!(
                    "warning: no pinned key (audit.public_key); verifying with the public half of {}",
                    cfg.audit.signing_key.display()
                );
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
            entries.extend(
                crate::audit::witness::read_entries(f)
                    .map_err(|e| anyhow::anyhow!("witness {e}"))?,
            );
        }
        Ok((
            dir,
            key,
            from,
            cfg.audit.retention_days,
            entries,
            files.len(),
        ))
    })();
    let (dir, key, from, retention, entries, witness_files) = match setup {
        Ok(x) => x,
        Err(e) => {
            eprintln!("phigate: {e:#}");
            return ExitCode::from(2);
        }
    };
    match crate::audit::verify::verify_with(&dir, &key, retention, &entries) {
        Ok(s) => {
            println!(
                "{}: intact: {} file(s), {} record(s), {} signed checkpoint(s) (key {} from {from}{}); {} witnessed checkpoint(s) found in {} witness(es)",
                dir.display(),
                s.files,
                s.records,
                s.checkpoints,
                key.key_id(),
                if s.keys > 1 {
                    format!(", {} keys through rotation", s.keys)
                } else {
                    String::new()
                },
                s.witnessed,
                witness_files
            );
            if s.unsigned_tail > 0 {
                println!(
                    "{} record(s) after the last checkpoint are not yet sealed: a signature covers them at the next checkpoint (audit.checkpoint_interval_secs)",
                    s.unsigned_tail
                );
            }
            if witness_files == 0 {
                println!(
                    "no witness checked: a rollback of the whole log cannot be seen without one ([audit.witness])"
                );
            }
            ExitCode::SUCCESS
        }
        Err(p) => {
            eprintln!("{}: TAMPERED OR DAMAGED: {p}", dir.display());
            ExitCode::FAILURE
        }
    }
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
                    e.decision(first).rule,
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
                let d = e.decision(i);
                println!(
                    "recipient:  <{r}>  action {} (rule {})  now {}  state {}",
                    d.action,
                    d.rule,
                    m.actions[i],
                    state_word(&m.rcpts[i])
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

fn state_word(s: &RcptState) -> String {
    match s {
        RcptState::Pending => "pending".into(),
        RcptState::Deferred { attempts, .. } => format!("deferred ({attempts} attempts)"),
        RcptState::Delivered { .. } => "delivered".into(),
        RcptState::Bounced { .. } => "bounced".into(),
        RcptState::Held { reason, .. } => format!("held: {reason}"),
        RcptState::Deleted { .. } => "deleted".into(),
    }
}

fn change(config: Option<PathBuf>, req: Request, done: &str) -> Result<()> {
    let cfg = crate::cli::load(config.as_deref())?;
    let r = control::call(&cfg.spool.dir, &req).map_err(|e| anyhow::anyhow!(e))?;
    if !r.ok {
        anyhow::bail!("{}", r.error.unwrap_or_else(|| "refused".into()));
    }
    println!("{done}: {}", r.recipients.join(", "));
    Ok(())
}

/// Runs `phigate reload`. The file may be the broken one being tried: only
/// its `spool.dir` is read here (to find the control socket); the gateway
/// validates the whole file, keeps its configuration if it is bad, reports
/// why, and audits the attempt either way.
pub fn reload(config: Option<PathBuf>) -> Result<()> {
    let spool_dir = match &config {
        None => crate::cli::load(None)?.spool.dir,
        Some(path) => spool_dir_of(path)?,
    };
    let r = control::call(&spool_dir, &Request::Reload).map_err(|e| anyhow::anyhow!(e))?;
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
