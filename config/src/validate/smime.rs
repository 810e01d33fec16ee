//! `[smime]`: encryption to recipients' own certificates.

use std::path::Path;

use super::*;

pub(super) fn smime(
    c: &mut Checker<'_>,
    raw: Option<&crate::raw::RawSmime>,
    spool_dir: &Path,
) -> SmimeConfig {
    let default = crate::raw::RawSmime::default();
    let explicit = raw.is_some();
    let raw = raw.unwrap_or(&default);
    // Beside the spool by default: the data directory's `certs/`.
    let certs_dir = match &raw.certs_dir {
        Some(d) => c.path(d, "smime.certs_dir"),
        None => spool_dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join("certs"),
    };
    let outer_subject = one_line(c, &raw.outer_subject, "smime.outer_subject").unwrap_or_default();
    if !outer_subject.is_ascii() {
        // Written as is into the outer header: no encoded words.
        c.error(
            &raw.outer_subject,
            "smime.outer_subject",
            "must be ASCII text",
        );
    }
    let expiry_warning_days =
        c.at_most(&raw.expiry_warning_days, "smime.expiry_warning_days", 3650);
    SmimeConfig {
        enabled: raw.enabled,
        certs_dir,
        outer_subject,
        expiry_warning_days,
        explicit,
    }
}
