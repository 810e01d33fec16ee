//! `[review]`: the audit review's thresholds and its digest.

use super::*;

pub(super) fn review(c: &mut Checker<'_>, raw: &crate::raw::RawReview) -> ReviewConfig {
    let digest_days = match raw.digest.get_ref().as_str() {
        "off" => None,
        "daily" => Some(1),
        "weekly" => Some(7),
        other => {
            c.error(
                &raw.digest,
                "review.digest",
                format!("`{other}` is not off, daily or weekly"),
            );
            None
        }
    };
    let officer = raw.officer.as_ref().and_then(|o| {
        let v = o.get_ref().trim();
        let ok = v
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && is_domain(d))
            && !v.contains(['<', '>', ' ', '\r', '\n']);
        if !ok {
            c.error(o, "review.officer", format!("`{v}` is not an address"));
        }
        ok.then(|| v.to_string())
    });
    if digest_days.is_some() && officer.is_none() && raw.officer.is_none() {
        c.error(
            &raw.digest,
            "review.digest",
            "a digest needs review.officer (who gets it)",
        );
    }
    if !(raw.phi_jump_factor.is_finite() && raw.phi_jump_factor >= 1.0) {
        c.errors.push(ConfigError::new(
            c.origin,
            0,
            "review.phi_jump_factor",
            "must be a number of at least 1",
        ));
    }
    let year = 366 * 86_400;
    ReviewConfig {
        officer,
        digest_days,
        baseline_days: c.positive(&raw.baseline_days, "review.baseline_days", 366),
        phi_jump_factor: raw.phi_jump_factor,
        phi_jump_min: c.positive(&raw.phi_jump_min, "review.phi_jump_min", 1_000_000),
        opt_out_burst: c.positive(&raw.opt_out_burst, "review.opt_out_burst", 1_000_000),
        auth_failures: c.positive(&raw.auth_failures, "review.auth_failures", 1_000_000),
        releases: c.positive(&raw.releases, "review.releases", 1_000_000),
        downtime_secs: c.positive(&raw.downtime_secs, "review.downtime_secs", year),
        free_mail_domains: raw
            .free_mail_domains
            .clone()
            .unwrap_or_else(|| FREE_MAIL_DOMAINS.iter().map(|d| d.to_string()).collect())
            .into_iter()
            .map(|d| d.to_ascii_lowercase())
            .collect(),
    }
}
