//! Typed configuration for phigate.
//!
//! Loading is two steps, so that `phigate check-config` can run the whole of
//! validation without binding a socket:
//!
//! 1. [`raw`]: serde structs that mirror the TOML file exactly
//!    (`deny_unknown_fields`), keeping the source position of every value that
//!    validation may complain about;
//! 2. [`Config`]: the validated runtime view (parsed networks, socket
//!    addresses, durations), built by [`Config::from_toml`], which reports
//!    *every* semantic problem in the file at once, each with file, line and key.
//!
//! ```
//! let cfg = phigate_config::Config::embedded_default();
//! assert_eq!(cfg.server.listen[0].port(), 2525);
//! ```
#![deny(missing_docs)]

mod error;
mod model;
pub mod raw;
mod validate;

pub use error::{ConfigError, ConfigErrors};
pub use model::*;

/// The configuration `phigate serve` runs on when no `--config` is given.
pub const EMBEDDED_DEFAULT: &str = include_str!("../phigate.default.toml");

/// Name used in error messages for the embedded default.
pub const EMBEDDED_NAME: &str = "<embedded default>";

impl Config {
    /// Parses and validates `text`; `origin` (a path, usually) names the file in errors.
    pub fn from_toml(origin: &str, text: &str) -> Result<Config, ConfigErrors> {
        let raw = raw::parse(origin, text)?;
        validate::validate(origin, text, raw)
    }

    /// Reads, parses and validates the file at `path`.
    pub fn load(path: &std::path::Path) -> Result<Config, ConfigErrors> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigErrors::single(ConfigError::new(
                &origin,
                0,
                "",
                format!("cannot read: {e}"),
            ))
        })?;
        Config::from_toml(&origin, &text)
    }

    /// The embedded default configuration, validated.
    ///
    /// # Panics
    /// Never in a released build: a test checks the embedded file validates.
    pub fn embedded_default() -> Config {
        Config::from_toml(EMBEDDED_NAME, EMBEDDED_DEFAULT)
            .expect("the embedded default configuration is valid")
    }
}

#[cfg(test)]
mod tests;
