//! `phigate audit ...`: check and search the audit log, on its files.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;

use crate::audit::search::Query;

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
    /// What in a period deserves a look: PHI volume jumps against a
    /// sender's own baseline, PHI to free-mail or first-seen domains,
    /// opt-out bursts, repeated AUTH failures, many releases by one
    /// administrator, downtime and unclean stops ([review] thresholds).
    Review {
        /// Configuration naming the audit log and the thresholds.
        #[arg(short, long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// From (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, UTC); default: a week ago.
        #[arg(long)]
        since: Option<String>,
        /// Until, exclusive; default: now.
        #[arg(long)]
        until: Option<String>,
        /// One JSON object per item.
        #[arg(long)]
        json: bool,
        /// Have the running gateway mail this review to `review.officer` now.
        #[arg(long)]
        mail: bool,
    },
    /// Print a new signing key (for `audit.signing_key`) on standard output.
    Keygen,
}

/// A `--since` / `--until` value.
fn parse_time(v: Option<String>, what: &str) -> Result<Option<u64>> {
    v.map(|t| {
        crate::date::parse(&t).ok_or_else(|| {
            anyhow::anyhow!("--{what} `{t}`: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ")
        })
    })
    .transpose()
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
        AuditCommand::Review {
            config,
            since,
            until,
            json,
            mail,
        } => (|| {
            let cfg = crate::cli::load(config.as_deref())?;
            let now = crate::date::now();
            // Until the end of the current second: records carry whole seconds.
            let until = parse_time(until, "until")?.unwrap_or(now + 1);
            let since = parse_time(since, "since")?.unwrap_or(until.saturating_sub(7 * 86_400));
            if mail {
                let r = crate::server::control::call(
                    &cfg.spool.dir,
                    &crate::server::control::Request::Review { since, until },
                )?;
                if !r.ok {
                    anyhow::bail!("{}", r.error.unwrap_or_default());
                }
                for line in &r.recipients {
                    println!("{line}");
                }
                return Ok(());
            }
            let items = crate::report::review::review(&cfg.audit.dir, since, until, &cfg.review)
                .with_context(|| format!("reading audit log {}", cfg.audit.dir.display()))?;
            for i in &items {
                if json {
                    println!("{}", serde_json::to_string(i)?);
                } else {
                    println!("[{}] {}", i.kind, i.what);
                    if !i.queue_ids.is_empty() {
                        println!("    queue IDs: {}", i.queue_ids.join(" "));
                    }
                }
            }
            if !json {
                println!(
                    "{} item(s) to look at, {} to {}",
                    items.len(),
                    crate::date::rfc3339(since),
                    crate::date::rfc3339(until)
                );
            }
            Ok(())
        })(),
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
            let q = Query {
                queue_id,
                sender,
                recipient,
                category,
                action,
                since: parse_time(since, "since")?,
                until: parse_time(until, "until")?,
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
    let setup = crate::cli::load(config.as_deref()).and_then(|cfg| {
        if public_key.is_none() && cfg.audit.public_key.is_none() {
            eprintln!(
                "warning: no pinned key (audit.public_key); verifying with the public half of {}",
                cfg.audit.signing_key.display()
            );
        }
        crate::report::build::verification_inputs(&cfg, dir, public_key, witness)
            .map_err(anyhow::Error::msg)
    });
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
