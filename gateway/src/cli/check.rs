//! `phigate check-config`: what `serve` would build from a file, built.

use std::path::Path;
use std::process::ExitCode;

use phigate_config::Config;

pub(crate) fn check_config(file: &Path) -> ExitCode {
    let cfg = match Config::load(file) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let problems = crate::app::check(&cfg);
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
