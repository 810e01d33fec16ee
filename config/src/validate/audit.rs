//! `[audit]`: the audit log, its keys, retention and witnesses.

use super::*;

pub(super) fn audit(c: &mut Checker<'_>, raw: &crate::raw::RawAudit) -> AuditConfig {
    let retention_days = *raw.retention_days.get_ref();
    if retention_days < 2190 {
        // HIPAA: documentation of safeguards is kept six years (45 CFR 164.316(b)(2)).
        c.error(
            &raw.retention_days,
            "audit.retention_days",
            format!("must be at least 2190 (six years), not {retention_days}"),
        );
    }
    let public_key = raw.public_key.as_ref().and_then(|k| {
        let hex = k.get_ref().trim().to_ascii_lowercase();
        let hex = hex.strip_prefix("ed25519:").unwrap_or(&hex).to_string();
        if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            Some(hex)
        } else {
            c.error(
                k,
                "audit.public_key",
                "must be the 64 hex digits `phigate audit keygen` prints as the public key",
            );
            None
        }
    });
    let w = &raw.witness;
    let witness = WitnessConfig {
        file: w.file.as_ref().map(|p| c.path(p, "audit.witness.file")),
        syslog: w.syslog.as_ref().and_then(|v| {
            let ok = v
                .get_ref()
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
            if !ok {
                c.error(
                    v,
                    "audit.witness.syslog",
                    "must be host:port of a syslog-over-TLS collector",
                );
            }
            ok.then(|| v.get_ref().clone())
        }),
        syslog_ca: w
            .syslog_ca
            .as_ref()
            .map(|p| c.path(p, "audit.witness.syslog_ca")),
        syslog_server_name: w.syslog_server_name.as_ref().map(|v| v.get_ref().clone()),
    };
    let dir = c.path(&raw.dir, "audit.dir");
    if let Some(f) = &witness.file
        && f.starts_with(&dir)
    {
        c.error(
            w.file.as_ref().expect("set"),
            "audit.witness.file",
            "must be outside audit.dir: a witness the log's writer can rewrite witnesses nothing",
        );
    }
    AuditConfig {
        dir,
        signing_key: c.path(&raw.signing_key, "audit.signing_key"),
        public_key,
        previous_signing_key: raw
            .previous_signing_key
            .as_ref()
            .map(|p| c.path(p, "audit.previous_signing_key")),
        witness,
        checkpoint_every: c.positive(&raw.checkpoint_every, "audit.checkpoint_every", 1_000_000),
        checkpoint_interval: Duration::from_secs(c.positive(
            &raw.checkpoint_interval_secs,
            "audit.checkpoint_interval_secs",
            60,
        )),
        retention_days,
    }
}
