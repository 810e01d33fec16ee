//! `[tls]`: outbound TLS levels, per domain, and trust anchors.

use super::*;

pub(super) fn tls_level(c: &mut Checker<'_>, v: &Spanned<String>, key: &str) -> Option<TlsLevel> {
    match v.get_ref().as_str() {
        "none" => Some(TlsLevel::None),
        "may" => Some(TlsLevel::May),
        "encrypt" => Some(TlsLevel::Encrypt),
        "verify" => Some(TlsLevel::Verify),
        "secure" => Some(TlsLevel::Secure),
        "mta-sts" => Some(TlsLevel::MtaSts),
        "dane" => Some(TlsLevel::Dane),
        other => {
            c.error(
                v,
                key,
                format!(
                    "`{other}` is not one of none, may, encrypt, verify, secure, mta-sts, dane"
                ),
            );
            None
        }
    }
}

pub(super) fn outbound_tls(c: &mut Checker<'_>, raw: &crate::raw::RawTls) -> TlsConfig {
    let default = tls_level(c, &raw.default, "tls.default").unwrap_or(TlsLevel::May);
    let phi = tls_level(c, &raw.phi, "tls.phi").unwrap_or(TlsLevel::Secure);
    let mta_sts_port = c.positive(&raw.mta_sts_port, "tls.mta_sts_port", 65_535) as u16;
    if phi < TlsLevel::Encrypt {
        c.error(&raw.phi, "tls.phi", "PHI is never sent below \"encrypt\"");
    }
    let ca_file = raw.ca_file.as_ref().map(|f| c.path(f, "tls.ca_file"));
    let mut policies = Vec::new();
    for p in &raw.policy {
        let domain = p.domain.get_ref().to_ascii_lowercase();
        if !is_domain(&domain) {
            c.error(
                &p.domain,
                "tls.policy.domain",
                format!("`{domain}` is not a domain"),
            );
        }
        let d = p
            .default
            .as_ref()
            .and_then(|v| tls_level(c, v, "tls.policy.default"));
        let ph = p
            .phi
            .as_ref()
            .and_then(|v| tls_level(c, v, "tls.policy.phi"));
        if let (Some(v), Some(level)) = (&p.phi, ph)
            && level < TlsLevel::Encrypt
        {
            c.error(v, "tls.policy.phi", "PHI is never sent below \"encrypt\"");
        }
        policies.push(TlsPolicy {
            domain,
            default: d,
            phi: ph,
        });
    }
    TlsConfig {
        default,
        phi,
        ca_file,
        mta_sts_port,
        requiretls_for_phi: raw.requiretls_for_phi,
        policies,
    }
}
