//! `[policy]`: rules, keywords, inspection time.

use super::*;

pub(super) fn policy(
    c: &mut Checker<'_>,
    raw: &crate::raw::RawPolicy,
    encryption: bool,
) -> PolicyConfig {
    let mut rules: Vec<PolicyRule> = Vec::new();
    for r in &raw.rule {
        let id = r.id.get_ref().clone();
        let key = |field: &str| format!("policy.rule.{field} (rule `{id}`)");
        if id.is_empty() || id.contains(char::is_whitespace) {
            c.error(
                &r.id,
                "policy.rule.id",
                "must be a non-empty id without spaces",
            );
        }
        if rules.iter().any(|x| x.id == id) {
            c.error(&r.id, &key("id"), format!("rule id `{id}` is used twice"));
        }
        let action = match Action::from_name(r.action.get_ref()) {
            Some(a) => a,
            None => {
                c.error(
                    &r.action,
                    &key("action"),
                    format!(
                        "`{}` is not one of deliver, require_tls, encrypt, quarantine, reject",
                        r.action.get_ref()
                    ),
                );
                Action::Deliver
            }
        };
        if action == Action::Encrypt && !encryption {
            c.error(
                &r.action,
                &key("action"),
                "\"encrypt\" needs an [encryption] relay or an [smime] section",
            );
        }
        let categories = r
            .categories
            .iter()
            .filter_map(|cat| {
                if is_category_name(cat.get_ref()) {
                    Some(cat.get_ref().clone())
                } else {
                    c.error(
                        cat,
                        &key("categories"),
                        "must be lower-case letters, digits and _",
                    );
                    None
                }
            })
            .collect();
        let senders = r
            .senders
            .iter()
            .filter_map(|s| {
                let v = s.get_ref().to_ascii_lowercase();
                let domain = v.rsplit_once('@').map_or(v.as_str(), |(_, d)| d);
                if is_domain(domain) {
                    Some(v)
                } else {
                    c.error(
                        s,
                        &key("senders"),
                        format!("`{v}` is not an address, @domain or domain"),
                    );
                    None
                }
            })
            .collect();
        let recipient_domains = domain_list(c, &r.recipient_domains, &key("recipient_domains"));
        let client_networks = r
            .client_networks
            .iter()
            .filter_map(|n| match parse_net(n.get_ref()) {
                Some(net) => Some(net),
                None => {
                    c.error(
                        n,
                        &key("client_networks"),
                        format!("`{}` is not a network", n.get_ref()),
                    );
                    None
                }
            })
            .collect();
        let modifiers = Modifiers {
            tag_subject: r
                .tag_subject
                .as_ref()
                .and_then(|t| one_line(c, t, &key("tag_subject"))),
            add_header: r
                .add_header
                .as_ref()
                .and_then(|h| header_line(c, h, &key("add_header"))),
            notify_sender: r.notify_sender,
        };
        rules.push(PolicyRule {
            id,
            when: Conditions {
                phi: r.phi,
                categories,
                senders,
                recipient_domains,
                client_networks,
                authenticated: r.authenticated,
                inbound_tls: r.inbound_tls,
            },
            action,
            modifiers,
            audit_only: r.audit_only,
        });
    }
    PolicyConfig {
        audit_only: raw.audit_only,
        opt_in_keyword: raw
            .opt_in_keyword
            .as_ref()
            .and_then(|k| one_line(c, k, "policy.opt_in_keyword")),
        opt_out_keyword: raw
            .opt_out_keyword
            .as_ref()
            .and_then(|k| one_line(c, k, "policy.opt_out_keyword")),
        opt_out_domains: domain_list(c, &raw.opt_out_domains, "policy.opt_out_domains"),
        inspection_timeout: Duration::from_secs(c.positive(
            &raw.inspection_timeout_secs,
            "policy.inspection_timeout_secs",
            3600,
        )),
        rules,
    }
}
