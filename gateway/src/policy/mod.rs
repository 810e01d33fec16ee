//! The policy: what happens to each recipient of a message, decided at end
//! of data from the scan, the sender, the recipient's domain and the
//! session. Pure: no I/O, so every rule can be tested as a table.
//!
//! Order of evaluation, per recipient:
//! 1. `[[policy.rule]]` in file order; the first whose conditions all hold
//!    decides. An audit-only rule (or every rule, in global audit-only mode)
//!    is recorded as what it *would* have done, and evaluation goes on to
//!    the built-in default, which is what the mail gets.
//! 2. The built-in default: PHI (or content that could not be inspected) ->
//!    `require_tls` (verified TLS; the queue manager falls back to the
//!    encrypted route when the next hop cannot do it, or holds the message
//!    and tells the sender); no PHI -> `deliver` (TLS per `tls.default`).
//! 3. The sender's opt-in keyword in the subject turns `deliver` and
//!    `require_tls` into `encrypt` (or `require_tls` with no encrypted route).
//!    The opt-out keyword lets PHI go under `tls.default` only to domains
//!    an administrator listed in `opt_out_domains`, and only when the
//!    sender authenticated and wrote the keyword themselves: a keyword
//!    after `Re:` or `Fwd:` was quoted from someone else's subject.

pub mod transport;

use std::net::IpAddr;

use phigate_config::{Action, Conditions, Modifiers, PolicyConfig, PolicyRule};
use serde::{Deserialize, Serialize};

/// What the policy knows about a message.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// Reverse-path (`""`: null sender).
    pub sender: &'a str,
    /// The client.
    pub client_ip: IpAddr,
    /// Whether the client authenticated.
    pub authenticated: bool,
    /// Whether the message came over TLS.
    pub inbound_tls: bool,
    /// Decoded subject, for the senders' keywords.
    pub subject: Option<&'a str>,
    /// PHI found, or part of the message could not be inspected.
    pub phi: bool,
    /// Categories found over threshold.
    pub categories: &'a [String],
}

/// The decision for one recipient, stored with the message in the spool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// What is done.
    pub action: Action,
    /// The rule that decided: a rule id, `default.phi`, `default.clean`,
    /// `opt_in`, `opt_out`.
    pub rule: String,
    /// What the deciding rule adds.
    #[serde(default)]
    pub modifiers: Modifiers,
    /// The sender opted out of encryption for a domain that allows it:
    /// PHI goes under `tls.default`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub opt_out: bool,
    /// An audit-only rule that matched, and what it would have done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub would: Option<(String, Action)>,
}

/// The compiled policy.
#[derive(Debug, Clone)]
pub struct Policy {
    cfg: PolicyConfig,
    encryption: bool,
}

/// Rule id of the built-in default for PHI.
pub const DEFAULT_PHI: &str = "default.phi";
/// Rule id of the built-in default for mail without PHI.
pub const DEFAULT_CLEAN: &str = "default.clean";

impl Policy {
    /// The policy of `cfg`; `encryption` says whether an encrypted route exists.
    pub fn new(cfg: PolicyConfig, encryption: bool) -> Policy {
        Policy { cfg, encryption }
    }

    /// Decides for `recipient`.
    pub fn decide(&self, facts: &Facts<'_>, recipient: &str) -> Decision {
        let domain = domain_of(recipient);
        let mut would = None;
        let mut decided = None;
        if let Some(rule) = self
            .cfg
            .rules
            .iter()
            .find(|r| matches(&r.when, facts, &domain))
        {
            if rule.audit_only || self.cfg.audit_only {
                would = Some((rule.id.clone(), rule.action));
            } else {
                decided = Some(from_rule(rule));
            }
        }
        let mut d = decided.unwrap_or_else(|| default(facts.phi));
        d.would = would;
        let subject = facts.subject.unwrap_or("");
        if matches!(d.action, Action::Deliver | Action::RequireTls) {
            if has_keyword(subject, self.cfg.opt_in_keyword.as_deref()) {
                d.action = if self.encryption {
                    Action::Encrypt
                } else {
                    Action::RequireTls
                };
                d.rule = "opt_in".into();
            } else if facts.phi
                && facts.authenticated
                && has_keyword(own_words(subject), self.cfg.opt_out_keyword.as_deref())
                && self
                    .cfg
                    .opt_out_domains
                    .iter()
                    .any(|d| in_domain(&domain, d))
            {
                d.action = Action::Deliver;
                d.rule = "opt_out".into();
                d.opt_out = true;
            }
        }
        d
    }

    /// Longest an inspection may take.
    pub fn inspection_timeout(&self) -> std::time::Duration {
        self.cfg.inspection_timeout
    }
}

fn from_rule(rule: &PolicyRule) -> Decision {
    Decision {
        action: rule.action,
        rule: rule.id.clone(),
        modifiers: rule.modifiers.clone(),
        opt_out: false,
        would: None,
    }
}

/// The built-in default decision.
pub fn default(phi: bool) -> Decision {
    if phi {
        Decision {
            action: Action::RequireTls,
            rule: DEFAULT_PHI.into(),
            // Held when neither verified TLS nor an encrypted route is possible: say so.
            modifiers: Modifiers {
                notify_sender: true,
                ..Modifiers::default()
            },
            opt_out: false,
            would: None,
        }
    } else {
        Decision {
            action: Action::Deliver,
            rule: DEFAULT_CLEAN.into(),
            modifiers: Modifiers::default(),
            opt_out: false,
            would: None,
        }
    }
}

/// The part of a subject the sender wrote: what comes before the first
/// reply or forward marker (`Re:`, `Fwd:`, `AW:`...); after it, the words
/// are quoted from the message being answered.
fn own_words(subject: &str) -> &str {
    const MARKERS: &[&str] = &[
        "re", "fw", "fwd", "aw", "wg", "sv", "vs", "antw", "tr", "rv", "enc",
    ];
    let lower = subject.to_ascii_lowercase();
    let b = lower.as_bytes();
    for (i, _) in lower.match_indices(':') {
        let start = lower[..i]
            .rfind(|c: char| !c.is_ascii_alphabetic())
            .map_or(0, |p| p + 1);
        if MARKERS.contains(&&lower[start..i])
            && (start == 0 || !b[start - 1].is_ascii_alphanumeric())
        {
            return &subject[..start];
        }
    }
    subject
}

fn has_keyword(subject: &str, keyword: Option<&str>) -> bool {
    keyword.is_some_and(|k| subject.to_lowercase().contains(&k.to_lowercase()))
}

/// The lower-case domain of an address.
pub fn domain_of(addr: &str) -> String {
    addr.rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .unwrap_or_default()
}

/// `domain` is `parent` or one of its subdomains.
fn in_domain(domain: &str, parent: &str) -> bool {
    domain == parent
        || domain
            .strip_suffix(parent)
            .is_some_and(|head| head.ends_with('.'))
}

fn sender_matches(pattern: &str, sender: &str) -> bool {
    let sender = sender.to_ascii_lowercase();
    if let Some(domain) = pattern.strip_prefix('@') {
        domain_of(&sender) == domain
    } else if pattern.contains('@') {
        sender == pattern
    } else {
        in_domain(&domain_of(&sender), pattern)
    }
}

fn matches(c: &Conditions, f: &Facts<'_>, domain: &str) -> bool {
    c.phi.is_none_or(|p| p == f.phi)
        && (c.categories.is_empty() || c.categories.iter().any(|x| f.categories.contains(x)))
        && (c.senders.is_empty() || c.senders.iter().any(|s| sender_matches(s, f.sender)))
        && (c.recipient_domains.is_empty()
            || c.recipient_domains.iter().any(|d| in_domain(domain, d)))
        && (c.client_networks.is_empty()
            || c.client_networks.iter().any(|n| n.contains(&f.client_ip)))
        && c.authenticated.is_none_or(|a| a == f.authenticated)
        && c.inbound_tls.is_none_or(|t| t == f.inbound_tls)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(rules: &str, encryption: bool) -> Policy {
        let enc = if encryption {
            "[encryption]\nrelay = \"[127.0.0.1]:2600\"\nsubject_tag = \"[encrypt]\"\n"
        } else {
            ""
        };
        let cfg = phigate_config::Config::from_toml("t.toml", &format!("{enc}{rules}")).unwrap();
        Policy::new(cfg.policy, encryption)
    }

    fn facts<'a>(phi: bool, categories: &'a [String], subject: &'a str) -> Facts<'a> {
        Facts {
            sender: "desk@clinic.example",
            client_ip: "10.0.0.5".parse().unwrap(),
            authenticated: false,
            inbound_tls: false,
            subject: Some(subject),
            phi,
            categories,
        }
    }

    #[test]
    fn built_in_default_needs_verified_tls_for_phi_only() {
        let p = policy("", false);
        let ssn = vec!["ssn".to_string()];
        let d = p.decide(&facts(true, &ssn, "claim"), "a@payer.example");
        assert_eq!(
            (d.action, d.rule.as_str()),
            (Action::RequireTls, DEFAULT_PHI)
        );
        assert!(d.modifiers.notify_sender);
        let d = p.decide(&facts(false, &[], "lunch"), "a@payer.example");
        assert_eq!(
            (d.action, d.rule.as_str()),
            (Action::Deliver, DEFAULT_CLEAN)
        );
    }

    #[test]
    fn first_matching_rule_wins_and_conditions_all_hold() {
        let p = policy(
            r#"
[[policy.rule]]
id = "no-phi-to-marketing"
phi = true
recipient_domains = ["marketing.example"]
action = "reject"
[[policy.rule]]
id = "payer-ssn"
categories = ["ssn", "mbi"]
recipient_domains = ["payer.example"]
senders = ["@clinic.example"]
action = "encrypt"
tag_subject = "[PHI]"
add_header = "X-PHI: yes"
[[policy.rule]]
id = "payer-any"
recipient_domains = ["payer.example"]
action = "quarantine"
"#,
            true,
        );
        let ssn = vec!["ssn".to_string()];
        let d = p.decide(&facts(true, &ssn, "x"), "a@eu.marketing.example");
        assert_eq!(
            (d.action, d.rule.as_str()),
            (Action::Reject, "no-phi-to-marketing")
        );
        let d = p.decide(&facts(true, &ssn, "x"), "a@payer.example");
        assert_eq!((d.action, d.rule.as_str()), (Action::Encrypt, "payer-ssn"));
        assert_eq!(d.modifiers.tag_subject.as_deref(), Some("[PHI]"));
        assert_eq!(
            d.modifiers.add_header,
            Some(("X-PHI".to_string(), "yes".to_string()))
        );
        let icd = vec!["icd10cm".to_string()];
        let d = p.decide(&facts(true, &icd, "x"), "a@payer.example");
        assert_eq!(
            (d.action, d.rule.as_str()),
            (Action::Quarantine, "payer-any")
        );
        // "notpayer.example" is not a subdomain of payer.example.
        let d = p.decide(&facts(true, &icd, "x"), "a@notpayer.example");
        assert_eq!(d.rule, DEFAULT_PHI);
    }

    #[test]
    fn audit_only_rules_record_what_they_would_do() {
        let p = policy(
            "[[policy.rule]]\nid = \"trial\"\nphi = true\naction = \"quarantine\"\naudit_only = true\n",
            false,
        );
        let ssn = vec!["ssn".to_string()];
        let d = p.decide(&facts(true, &ssn, "x"), "a@payer.example");
        assert_eq!(d.action, Action::RequireTls);
        assert_eq!(d.rule, DEFAULT_PHI);
        assert_eq!(d.would, Some(("trial".to_string(), Action::Quarantine)));
        let global = policy(
            "[policy]\naudit_only = true\n[[policy.rule]]\nid = \"r\"\naction = \"reject\"\n",
            false,
        );
        let d = global.decide(&facts(false, &[], "x"), "a@payer.example");
        assert_eq!(
            (d.action, d.would),
            (Action::Deliver, Some(("r".into(), Action::Reject)))
        );
    }

    #[test]
    fn senders_keywords_opt_in_and_a_limited_opt_out() {
        let p = policy(
            "[policy]\nopt_out_keyword = \"[unencrypted]\"\nopt_out_domains = [\"patient-mail.example\"]\n",
            true,
        );
        let ssn = vec!["ssn".to_string()];
        let d = p.decide(
            &facts(false, &[], "Re: [SECURE] results"),
            "a@payer.example",
        );
        assert_eq!((d.action, d.rule.as_str()), (Action::Encrypt, "opt_in"));
        let mut own = facts(true, &ssn, "[unencrypted] as you asked");
        own.authenticated = true;
        let d = p.decide(&own, "me@patient-mail.example");
        assert_eq!((d.action, d.opt_out), (Action::Deliver, true));
        // Regression (security review): the keyword counted anywhere in the
        // subject, from any sender. Not from a sender who did not
        // authenticate, and not quoted behind Re:/Fwd: from someone else.
        let d = p.decide(
            &facts(true, &ssn, "[unencrypted] as you asked"),
            "me@patient-mail.example",
        );
        assert_eq!((d.action, d.opt_out), (Action::RequireTls, false));
        for quoted in [
            "Re: [unencrypted] results",
            "RE: Fwd: [Unencrypted] x",
            "AW: [unencrypted]",
        ] {
            let mut f = facts(true, &ssn, quoted);
            f.authenticated = true;
            let d = p.decide(&f, "me@patient-mail.example");
            assert_eq!(
                (d.action, d.opt_out),
                (Action::RequireTls, false),
                "{quoted}"
            );
        }
        let mut f = facts(true, &ssn, "[unencrypted] Re: your results");
        f.authenticated = true;
        assert!(p.decide(&f, "me@patient-mail.example").opt_out);
        // Not a domain the administrator allowed: the PHI default stands.
        let d = p.decide(&facts(true, &ssn, "[unencrypted]"), "a@payer.example");
        assert_eq!((d.action, d.opt_out), (Action::RequireTls, false));
        // Without an encrypted route, opting in means verified TLS.
        let p = policy("", false);
        let d = p.decide(&facts(false, &[], "[secure]"), "a@payer.example");
        assert_eq!(d.action, Action::RequireTls);
    }

    #[test]
    fn session_conditions() {
        let p = policy(
            "[[policy.rule]]\nid = \"remote-users\"\nauthenticated = true\ninbound_tls = true\nclient_networks = [\"192.0.2.0/24\"]\naction = \"require_tls\"\n",
            false,
        );
        let mut f = facts(false, &[], "x");
        assert_eq!(p.decide(&f, "a@b.example").rule, DEFAULT_CLEAN);
        f.authenticated = true;
        f.inbound_tls = true;
        assert_eq!(
            p.decide(&f, "a@b.example").rule,
            DEFAULT_CLEAN,
            "network differs"
        );
        f.client_ip = "192.0.2.9".parse().unwrap();
        assert_eq!(p.decide(&f, "a@b.example").rule, "remote-users");
    }
}
