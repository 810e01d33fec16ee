//! The `phigate` command line. Errors here carry their context and are
//! printed as a chain; exit codes are documented per command.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use phigate_config::Config;

/// phigate: an SMTP relay that keeps protected health information off plaintext email.
#[derive(Parser, Debug)]
#[command(name = "phigate", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the gateway (the embedded default configuration unless --config is given).
    Serve {
        /// Configuration file.
        #[arg(short, long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Validate a configuration file: exit 0 if good, 1 naming each problem.
    CheckConfig {
        /// Configuration file.
        file: PathBuf,
    },
    /// Inspect the spool.
    Queue {
        #[command(subcommand)]
        command: QueueCommand,
    },
    /// Read a password on standard input and print its argon2 hash for
    /// `[[server.auth.users]] password_hash`.
    HashPassword,
    /// Dry-run the PHI detectors over message files and explain each finding.
    /// Exit 0 whatever the verdict; 2 if an input cannot be read.
    Scan {
        /// Configuration file whose [detectors] section to use.
        #[arg(short, long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// One JSON object per input, on its own line.
        #[arg(long)]
        json: bool,
        /// Message files (.eml); `-` reads standard input.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<String>,
    },
    /// Run rule test cases (NAME.eml + NAME.expect.toml) through the detectors
    /// and policy; print a table; exit 1 on any mismatch, 2 on a bad case.
    TestRules {
        /// Configuration whose [detectors] and [policy] to test.
        #[arg(short, long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Directory of cases.
        dir: PathBuf,
    },
    /// Make the running gateway read its configuration file again (as SIGHUP does).
    /// Exit 0 when the new configuration is in force, 1 naming what is wrong.
    Reload {
        /// Configuration naming the spool (where the control socket is).
        #[arg(short, long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Check and search the audit log.
    Audit {
        #[command(subcommand)]
        command: crate::admin::AuditCommand,
    },
    /// Held messages: list, show, release, delete.
    Quarantine {
        #[command(subcommand)]
        command: crate::admin::QuarantineCommand,
    },
}

#[derive(Subcommand, Debug)]
enum QueueCommand {
    /// List messages waiting in the spool.
    List {
        /// Configuration file naming the spool.
        #[arg(short, long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// One JSON object per message.
        #[arg(long)]
        json: bool,
    },
}

/// Runs the command line; what `main` calls.
pub fn main() -> ExitCode {
    quiet_panics();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { config } => serve(config.as_deref()),
        Command::CheckConfig { file } => return check_config(&file),
        Command::Queue {
            command: QueueCommand::List { config, json },
        } => queue_list(config.as_deref(), json),
        Command::HashPassword => hash_password(),
        Command::Scan {
            config,
            json,
            files,
        } => return scan(config.as_deref(), json, &files),
        Command::Audit { command } => return crate::admin::audit(command),
        Command::Reload { config } => crate::admin::reload(config),
        Command::TestRules { config, dir } => return test_rules(config.as_deref(), &dir),
        Command::Quarantine { command } => crate::admin::quarantine(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("phigate: {e:#}");
            ExitCode::FAILURE
        }
    }
}

pub(crate) fn load(path: Option<&Path>) -> Result<Config> {
    match path {
        Some(p) => Config::load(p).map_err(|e| anyhow::anyhow!("invalid configuration:\n{e}")),
        None => Ok(Config::embedded_default()),
    }
}

/// Operational logs on stderr: `[log] level` (or PHIGATE_LOG, which wins),
/// text or JSON lines per `[log] format`.
fn init_logging(cfg: &phigate_config::LogConfig) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PHIGATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cfg.level));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if cfg.json {
        builder.json().flatten_event(true).init();
    } else {
        builder.with_ansi(std::io::stderr().is_terminal()).init();
    }
}

fn serve(path: Option<&Path>) -> Result<()> {
    let config = load(path)?;
    init_logging(&config.log);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let origin = config.origin.clone();
        let server = crate::Server::bind_from(config, path.map(Path::to_path_buf))
            .await
            .context("starting phigate")?;
        for addr in server.local_addrs() {
            tracing::info!(%addr, config = %origin, waiting = server.waiting, "listening");
        }
        server.run(termination()).await;
        tracing::info!("stopped");
        Ok(())
    })
}

/// Resolves on SIGTERM or SIGINT.
async fn termination() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot watch SIGTERM; stop with SIGINT");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// A panic's message can quote the data it was handling (a slice of a
/// message, say), and stderr goes to the logs: only where it happened is
/// printed. Inspection catches its panics and treats the message as
/// uninspectable; anything else that panics is a bug to report by place.
fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_else(|| "an unknown place".into());
        eprintln!(
            "phigate: internal error at {at} (details withheld: they may quote message content)"
        );
    }));
}

fn scan(config: Option<&Path>, json: bool, files: &[String]) -> ExitCode {
    // JSON lists what the gateway acts on; the text form also shows, for
    // tuning, what scored below threshold.
    let engine = match load(config).and_then(|c| {
        if json {
            crate::inspect::engine(&c.detectors)
        } else {
            crate::inspect::explaining_engine(&c.detectors)
        }
        .map_err(|e| anyhow::anyhow!("detectors: {e}"))
    }) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("phigate: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let mut status = ExitCode::SUCCESS;
    for name in files {
        let raw = match crate::scan::read_input(name) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("phigate: {e}");
                status = ExitCode::from(2);
                continue;
            }
        };
        let report = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| engine.scan(&raw)))
            .unwrap_or_else(|_| {
                phigate_detectors::Report::not_inspected("inspection failed with an internal error")
            });
        if json {
            println!("{}", crate::scan::json_line(&engine, name, &report));
        } else {
            print!("{}", crate::scan::text_block(&engine, name, &report));
        }
    }
    status
}

fn test_rules(config: Option<&Path>, dir: &Path) -> ExitCode {
    let built = load(config).and_then(|c| {
        let engine =
            crate::inspect::engine(&c.detectors).map_err(|e| anyhow::anyhow!("detectors: {e}"))?;
        let policy = crate::policy::Policy::new(c.policy.clone(), c.encryption.is_some());
        Ok((engine, policy))
    });
    let (engine, policy) = match built {
        Ok(x) => x,
        Err(e) => {
            eprintln!("phigate: {e:#}");
            return ExitCode::from(2);
        }
    };
    match crate::ruletest::run(dir, &engine, &policy) {
        Ok(rows) => {
            print!("{}", crate::ruletest::table(&rows));
            if rows.iter().all(crate::ruletest::Row::pass) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("phigate: {e}");
            ExitCode::from(2)
        }
    }
}

fn check_config(file: &Path) -> ExitCode {
    let cfg = match Config::load(file) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let problems = files_in_use(&cfg);
    for w in cfg.warnings() {
        eprintln!("{}: warning: {w}", file.display());
    }
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("{p}");
        }
        return ExitCode::FAILURE;
    }
    println!("{}: ok", file.display());
    ExitCode::SUCCESS
}

/// Everything `serve` loads from files named in the configuration (and
/// builds from it), tried the same way: every problem, each located at the
/// key that names the file.
pub(crate) fn files_in_use(cfg: &Config) -> Vec<phigate_config::ConfigError> {
    let mut out = Vec::new();
    if let Err(e) = crate::inspect::engine(&cfg.detectors) {
        out.push(cfg.error_at("detectors.rules", e.to_string()));
    }
    if let Some(tls) = &cfg.server.tls {
        for (key, path) in [
            ("server.tls.cert", Some(&tls.cert)),
            ("server.tls.key", Some(&tls.key)),
            ("server.tls.client_ca", tls.client_ca.as_ref()),
        ] {
            if let Some(p) = path
                && let Err(e) = std::fs::metadata(p)
            {
                out.push(cfg.error_at(key, format!("{}: {e}", p.display())));
            }
        }
        if out.is_empty()
            && let Err(e) = crate::tls::acceptor(tls)
        {
            let key = match &e {
                crate::tls::TlsError::Cert { key, .. } => *key,
                crate::tls::TlsError::Key { .. } => "server.tls.key",
                _ => "server.tls",
            };
            out.push(cfg.error_at(key, e.to_string()));
        }
    }
    if let Some(ca) = &cfg.tls.ca_file
        && let Err(e) = crate::delivery::tls::Trust::load(Some(ca))
    {
        out.push(cfg.error_at("tls.ca_file", e));
    }
    if let Some(ca) = &cfg.audit.witness.syslog_ca
        && let Err(e) = crate::delivery::tls::Trust::load(Some(ca))
    {
        out.push(cfg.error_at("audit.witness.syslog_ca", e));
    }
    // The signing key is made at first start when missing; one that is
    // there must be a key, and must be the pinned one.
    let key = &cfg.audit.signing_key;
    if key.exists() {
        match crate::audit::SigningKey::load(key) {
            Err(e) => out.push(cfg.error_at("audit.signing_key", e.to_string())),
            Ok(k) => {
                let rotating = cfg.audit.previous_signing_key.is_some();
                if let Some(pin) = &cfg.audit.public_key
                    && *pin != k.public_hex()
                    && !rotating
                {
                    out.push(cfg.error_at(
                        "audit.signing_key",
                        format!("key {} is not the pinned audit.public_key", k.key_id()),
                    ));
                }
            }
        }
    } else if let Some(parent) = key.parent().filter(|p| !p.as_os_str().is_empty())
        && parent.exists()
        && std::fs::metadata(parent).is_ok_and(|m| m.permissions().readonly())
    {
        out.push(cfg.error_at(
            "audit.signing_key",
            format!("{} is missing and cannot be created", key.display()),
        ));
    }
    if let Some(prev) = &cfg.audit.previous_signing_key
        && let Err(e) = crate::audit::SigningKey::load(prev)
    {
        out.push(cfg.error_at("audit.previous_signing_key", e.to_string()));
    }
    out
}

fn queue_list(config: Option<&Path>, json: bool) -> Result<()> {
    let cfg = load(config)?;
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

fn hash_password() -> Result<()> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']);
    anyhow::ensure!(!password.is_empty(), "empty password");
    let hash = crate::auth::hash(password).map_err(|e| anyhow::anyhow!("hashing: {e}"))?;
    println!("{hash}");
    Ok(())
}
