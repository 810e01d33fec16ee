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
    let mut domains = Vec::new();
    for d in &raw.domain {
        let name = d.domain.get_ref().trim().to_ascii_lowercase();
        if !is_domain(&name) {
            c.error(
                &d.domain,
                "smime.domain.domain",
                format!("`{name}` is not a domain"),
            );
        }
        let gcm = match d.content.as_ref().map(|v| (v, v.get_ref().as_str())) {
            None | Some((_, "aes256-cbc")) => false,
            Some((_, "aes256-gcm")) => true,
            Some((v, other)) => {
                c.error(
                    v,
                    "smime.domain.content",
                    format!("`{other}` is not aes256-cbc or aes256-gcm"),
                );
                false
            }
        };
        let oaep = match d.key_transport.as_ref().map(|v| (v, v.get_ref().as_str())) {
            None | Some((_, "rsa")) => false,
            Some((_, "rsa-oaep")) => true,
            Some((v, other)) => {
                c.error(
                    v,
                    "smime.domain.key_transport",
                    format!("`{other}` is not rsa or rsa-oaep"),
                );
                false
            }
        };
        domains.push(SmimeDomain {
            domain: name,
            algorithms: SmimeAlgorithms { gcm, oaep },
        });
    }
    let sign = match (&raw.sign_cert, &raw.sign_key) {
        (Some(c_), Some(k)) => Some((c.path(c_, "smime.sign_cert"), c.path(k, "smime.sign_key"))),
        (None, None) => None,
        (Some(v), None) | (None, Some(v)) => {
            c.error(v, "smime.sign_cert", "sign_cert and sign_key go together");
            None
        }
    };
    SmimeConfig {
        sign,
        dns: raw.dns,
        domains,
        enabled: raw.enabled,
        certs_dir,
        outer_subject,
        expiry_warning_days,
        explicit,
    }
}
