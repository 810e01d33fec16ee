//! `[dkim]`: the gateway's signature on what it delivers.

use super::*;

pub(super) fn dkim(c: &mut Checker<'_>, raw: &crate::raw::RawDkim) -> Option<DkimConfig> {
    let domain = raw.domain.get_ref().trim().to_ascii_lowercase();
    if !is_domain(&domain) {
        c.error(
            &raw.domain,
            "dkim.domain",
            format!("`{}` is not a domain", raw.domain.get_ref()),
        );
    }
    let selector = raw.selector.get_ref().trim().to_ascii_lowercase();
    // A selector is one or more DNS labels (RFC 6376 section 3.1).
    if !is_domain(&format!("{selector}.x")) {
        c.error(
            &raw.selector,
            "dkim.selector",
            format!(
                "`{}` is not a selector (DNS labels)",
                raw.selector.get_ref()
            ),
        );
    }
    let key = c.path(&raw.key, "dkim.key");
    let headers: Vec<String> = match &raw.headers {
        None => DKIM_DEFAULT_HEADERS.iter().map(|h| h.to_string()).collect(),
        Some(h) => {
            let list = h.get_ref().clone();
            if !list.iter().any(|x| x.eq_ignore_ascii_case("from")) {
                c.error(
                    h,
                    "dkim.headers",
                    "must include From (RFC 6376 section 5.4)",
                );
            }
            if let Some(bad) = list
                .iter()
                .find(|x| x.is_empty() || !x.bytes().all(|b| b.is_ascii_graphic() && b != b':'))
            {
                c.error(h, "dkim.headers", format!("`{bad}` is not a header name"));
            }
            list
        }
    };
    let sign_all = match raw.sign.as_ref().map(|s| s.get_ref().as_str()) {
        None | Some("modified") => false,
        Some("all") => true,
        Some(other) => {
            let s = raw.sign.as_ref().expect("matched Some");
            c.error(
                s,
                "dkim.sign",
                format!("`{other}` is not \"modified\" or \"all\""),
            );
            false
        }
    };
    Some(DkimConfig {
        domain,
        selector,
        key,
        headers,
        sign_all,
    })
}
