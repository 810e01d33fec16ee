//! `[log]`: level and format of the operational log.

use super::*;

pub(super) fn log(c: &mut Checker<'_>, raw: &crate::raw::RawLog) -> LogConfig {
    let json = match raw.format.get_ref().as_str() {
        "text" => false,
        "json" => true,
        other => {
            c.error(
                &raw.format,
                "log.format",
                format!("`{other}` is not text or json"),
            );
            false
        }
    };
    let level = raw.level.get_ref().clone();
    let known = ["error", "warn", "info", "debug", "trace"];
    let ok = level.split(',').all(|d| {
        let lvl = d.rsplit('=').next().unwrap_or("").trim();
        known.contains(&lvl)
    });
    if !ok {
        c.error(
            &raw.level,
            "log.level",
            format!(
                "`{level}` is not a level (error, warn, info, debug, trace) or target=level list"
            ),
        );
    }
    LogConfig { json, level }
}
