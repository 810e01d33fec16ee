//! The `phigate` command line. Errors here carry their context and are
//! printed as a chain; exit codes are documented per command.

pub mod audit;
mod certs;
mod check;
mod dkim;
mod password;
pub mod quarantine;
mod queue;
mod reload;
mod report;
pub mod ruletest;
pub mod scan;
mod serve;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
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
    /// `[[server.auth.users]]` or `[[console.user]]` password_hash.
    HashPassword,
    /// Print a new TOTP key for `[[console.user]] totp_secret`, and the
    /// otpauth:// URI an authenticator app takes (as a QR code or typed).
    TotpSecret {
        /// The console user it is for (shown in the authenticator).
        name: String,
    },
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
        command: audit::AuditCommand,
    },
    /// Held messages: list, show, release, delete.
    Quarantine {
        #[command(subcommand)]
        command: quarantine::QuarantineCommand,
    },
    /// Send the TLS reports (RFC 8460) of a day now, through the running
    /// gateway (it sends each finished day's by itself).
    TlsReport {
        /// Configuration naming the spool (where the control socket is).
        #[arg(short, long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The day, `YYYY-MM-DD` (UTC), or `today`; default: every
        /// finished day not yet reported.
        #[arg(long)]
        day: Option<String>,
    },
    /// The monthly compliance report (HTML with inline SVG charts), from
    /// the audit log alone, after verifying it.
    Report {
        /// Configuration naming the audit log.
        #[arg(short, long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The month, `YYYY-MM` (UTC).
        #[arg(long)]
        month: String,
        /// Where to write the HTML.
        #[arg(long, value_name = "FILE", required_unless_present = "pdf")]
        out: Option<PathBuf>,
        /// Also (or only) a PDF, printed from the HTML by a headless
        /// Chromium (Debian: `chromium`).
        #[arg(long, value_name = "FILE")]
        pdf: Option<PathBuf>,
    },
    /// DKIM: make a signing key, print the DNS record to publish.
    Dkim {
        #[command(subcommand)]
        command: dkim::DkimCommand,
    },
    /// Recipients' S/MIME certificates: import, list, remove.
    Certs {
        #[command(subcommand)]
        command: certs::CertsCommand,
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
    if cli.command.prints_only() {
        reader_may_leave();
    }
    let result = match cli.command {
        Command::Serve { config } => serve::serve(config.as_deref()),
        Command::CheckConfig { file } => return check::check_config(&file),
        Command::Queue {
            command: QueueCommand::List { config, json },
        } => queue::queue_list(config.as_deref(), json),
        Command::HashPassword => password::hash_password(),
        Command::TotpSecret { name } => (|| {
            let mut key = [0u8; 20];
            ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key)
                .map_err(|_| anyhow::anyhow!("the system random generator failed"))?;
            let secret = crate::console::session::base32(&key);
            println!("totp_secret = \"{secret}\"");
            println!(
                "otpauth://totp/phigate:{name}?secret={secret}&issuer=phigate&algorithm=SHA1&digits=6&period=30"
            );
            Ok(())
        })(),
        Command::Scan {
            config,
            json,
            files,
        } => return scan::scan_files(config.as_deref(), json, &files),
        Command::Audit { command } => return audit::audit(command),
        Command::Reload { config } => reload::reload(config),
        Command::TestRules { config, dir } => return scan::test_rules(config.as_deref(), &dir),
        Command::Quarantine { command } => quarantine::quarantine(command),
        Command::Dkim { command } => dkim::dkim(command),
        Command::Certs { command } => certs::certs(command),
        Command::Report {
            config,
            month,
            out,
            pdf,
        } => report::report(config, &month, out.as_deref(), pdf.as_deref()),
        Command::TlsReport { config, day } => reload::tls_report(config, day),
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

impl Command {
    /// Whether the command only reads files and prints: no socket (the
    /// gateway's SMTP and HTTP, the control socket) and no pipe into a
    /// child, where a peer that goes away is an error to report, not a
    /// reason to stop.
    fn prints_only(&self) -> bool {
        !matches!(
            self,
            Command::Serve { .. } | Command::Reload { .. } | Command::TlsReport { .. }
        )
    }
}

/// `phigate scan *.eml | head`: when the reader of standard output goes
/// away, stop quietly as other Unix tools do. Rust ignores SIGPIPE, so the
/// next `println!` would fail and panic, and the panic hook would report
/// an "internal error" that is none.
#[allow(unsafe_code)]
fn reader_may_leave() {
    // SAFETY: setting a signal's disposition to its default before any
    // thread is started; no handler runs Rust code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
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
