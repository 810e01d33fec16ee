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
    let ldap = raw.ldap.as_ref().and_then(|l| ldap(c, l));
    SmimeConfig {
        ldap,
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

fn ldap(c: &mut Checker<'_>, raw: &crate::raw::RawSmimeLdap) -> Option<SmimeLdap> {
    let url = raw.url.get_ref().trim();
    let (starttls, rest, default_port) = if let Some(r) = url.strip_prefix("ldaps://") {
        (false, r, 636)
    } else if let Some(r) = url.strip_prefix("ldap://") {
        (true, r, 389)
    } else {
        c.error(
            &raw.url,
            "smime.ldap.url",
            format!("`{url}` is not ldaps://HOST[:PORT] or ldap://HOST[:PORT] (StartTLS)"),
        );
        return None;
    };
    let authority = rest.trim_end_matches('/');
    // `host`, `host:port`, `[v6]`, `[v6]:port`.
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((h, "")) => (h, None),
            Some((h, p)) => (h, p.strip_prefix(':').or(Some("x"))),
            None => ("", None),
        },
        None => match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    let port = match port.map(str::parse::<u16>) {
        None => default_port,
        Some(Ok(p)) if p > 0 => p,
        Some(_) => {
            c.error(&raw.url, "smime.ldap.url", format!("`{url}`: not a port"));
            return None;
        }
    };
    if host.is_empty() || host.contains(['/', '?', '@', ':']) && !authority.starts_with('[') {
        c.error(
            &raw.url,
            "smime.ldap.url",
            format!("`{url}`: only a scheme, a host and a port are taken"),
        );
        return None;
    }
    let base = one_line(c, &raw.base, "smime.ldap.base")?;
    let attribute = raw.attribute.get_ref().trim().to_string();
    if attribute.is_empty()
        || !attribute
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == ';')
    {
        c.error(
            &raw.attribute,
            "smime.ldap.attribute",
            format!("`{attribute}` is not an attribute name"),
        );
    }
    let bind = match (&raw.bind_dn, &raw.bind_password_file) {
        (Some(dn), Some(f)) => Some((
            one_line(c, dn, "smime.ldap.bind_dn").unwrap_or_default(),
            c.path(f, "smime.ldap.bind_password_file"),
        )),
        (None, None) => None,
        (Some(v), None) | (None, Some(v)) => {
            c.error(
                v,
                "smime.ldap.bind_dn",
                "bind_dn and bind_password_file go together",
            );
            None
        }
    };
    Some(SmimeLdap {
        url: url.to_string(),
        host: host.to_ascii_lowercase(),
        port,
        starttls,
        base,
        attribute,
        bind,
        timeout_secs: c.positive(&raw.timeout_secs, "smime.ldap.timeout_secs", 60),
        cache_secs: c.at_most(&raw.cache_secs, "smime.ldap.cache_secs", 86_400),
    })
}
