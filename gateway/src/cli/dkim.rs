//! `phigate dkim ...`: make a signing key and say what to publish.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;

/// `phigate dkim ...`
#[derive(Subcommand, Debug)]
pub enum DkimCommand {
    /// Writes a new private key (0600; RSA-2048 unless --ed25519) and prints
    /// the DNS TXT record to publish for it.
    Keygen {
        /// Where to write the key (PEM); refused if it exists.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Signing domain, for the record's name.
        #[arg(long)]
        domain: String,
        /// Selector, for the record's name.
        #[arg(long, default_value = "phigate")]
        selector: String,
        /// An Ed25519 key (RFC 8463) instead of RSA-2048; not every
        /// receiver verifies Ed25519 yet.
        #[arg(long)]
        ed25519: bool,
    },
    /// Prints the DNS TXT record for the key `[dkim]` configures.
    Record {
        /// Configuration with the `[dkim]` section.
        #[arg(short, long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

pub(crate) fn dkim(command: DkimCommand) -> Result<()> {
    let signer = match command {
        DkimCommand::Keygen {
            out,
            domain,
            selector,
            ed25519,
        } => {
            let pem = crate::delivery::dkim::generate(ed25519)?;
            let mut f = crate::fsmode::private_options()
                .write(true)
                .create_new(true)
                .open(&out)
                .with_context(|| format!("creating {}", out.display()))?;
            f.write_all(pem.as_bytes())
                .and_then(|()| f.sync_all())
                .with_context(|| format!("writing {}", out.display()))?;
            eprintln!("wrote {}", out.display());
            let toml = format!(
                "[dkim]\ndomain = \"{domain}\"\nselector = \"{selector}\"\nkey = \"{}\"\n",
                out.display()
            );
            let cfg = phigate_config::Config::from_toml("<keygen>", &toml)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            crate::app::dkim(&cfg)?.expect("[dkim] given")
        }
        DkimCommand::Record { config } => {
            let cfg = super::load(config.as_deref())?;
            crate::app::dkim(&cfg)?
                .ok_or_else(|| anyhow::anyhow!("the configuration has no [dkim] section"))?
        }
    };
    let (name, value) = signer.dns_record();
    println!("{name}. IN TXT \"{value}\"");
    Ok(())
}
