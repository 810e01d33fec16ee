//! The PHI transport rule, in one place: from a recipient's decision, the
//! message's PHI flag, the `[tls]` configuration and the destination, the
//! protection its delivery requires. The outbound `Permit` (delivery's TLS
//! policy) is issued only against a [`Requirement`] made here, so holding a
//! permit proves the channel meets what PHI requires, not merely what a job
//! asked for.
//!
//! New levels (DANE, MTA-STS) and methods (S/MIME) belong here.

use phigate_config::{Action, TlsConfig, TlsLevel};

/// Where a recipient's message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination<'a> {
    /// The recipient's domain (its MX hosts, or a configured route).
    Domain(&'a str),
    /// The encrypted-delivery route (a secure-mail provider's relay).
    EncryptedRoute,
    /// The recipient's domain, the message S/MIME-encrypted to the
    /// recipient's certificate: the content is protected end to end, so
    /// the hop needs what mail without PHI needs.
    Smime(&'a str),
}

/// What a delivery must have on the wire. Only [`required`] makes one.
///
/// ```compile_fail
/// // A requirement cannot be written down below the rule.
/// let r = phigate::policy::transport::Requirement { level: phigate_config::TlsLevel::None, phi: true };
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirement {
    level: TlsLevel,
    phi: bool,
}

impl Requirement {
    /// The TLS level the channel must reach.
    pub fn level(self) -> TlsLevel {
        self.level
    }

    /// Whether the level comes from PHI (`require_tls`, or `deliver` of
    /// PHI): a next hop that cannot meet it sends the recipient to the
    /// encrypted route or to quarantine, never to a plainer channel and not
    /// merely to the retry queue.
    pub fn protects_phi(self) -> bool {
        self.phi
    }
}

/// The protection recipient delivery requires.
///
/// - The encrypted route is always reached over verified TLS.
/// - `deliver`: the domain's level for PHI, or for mail without PHI (or
///   PHI whose sender opted out for a domain that allows it) the domain's
///   default.
/// - `require_tls`, and anything else that reaches delivery (`encrypt`
///   with the route gone from the configuration, a released quarantine):
///   the domain's PHI level.
///
/// - S/MIME: the domain's level for mail without PHI (the content is
///   encrypted to the recipient's certificate).
///
/// PHI is never delivered in clear below `encrypt`, whatever the
/// configuration says, unless its sender opted out where an administrator
/// allowed it.
pub fn required(
    action: Action,
    opt_out: bool,
    phi: bool,
    tls: &TlsConfig,
    destination: Destination<'_>,
) -> Requirement {
    // Whose need it is: PHI's (the recipient goes to the encrypted route or
    // to quarantine when a next hop cannot meet it) or the message's own
    // (it waits for a better moment, like any deferral).
    let protects = match action {
        Action::RequireTls => true,
        Action::Deliver => phi && !opt_out,
        _ => false,
    };
    let domain = match destination {
        Destination::EncryptedRoute => {
            return Requirement {
                level: TlsLevel::Verify,
                phi: protects,
            };
        }
        Destination::Smime(d) => {
            return Requirement {
                level: domain_level(tls, d, false),
                phi: false,
            };
        }
        Destination::Domain(d) => d,
    };
    // `encrypt` with no encryption method for this recipient (no
    // certificate, no relay) falls back to the domain's PHI level, and a
    // hop below it holds the recipient as PHI would.
    let protects = protects || action == Action::Encrypt;
    let phi_level = match action {
        Action::Deliver => phi && !opt_out,
        _ => true,
    };
    Requirement {
        level: domain_level(tls, domain, phi_level),
        phi: protects,
    }
}

/// The level `[tls]` asks for mail to `domain`: the domain's own entry
/// over the global default; for PHI, the PHI level, never below the default
/// nor below `encrypt`.
fn domain_level(tls: &TlsConfig, domain: &str, phi: bool) -> TlsLevel {
    let entry = tls
        .policies
        .iter()
        .find(|p| p.domain.eq_ignore_ascii_case(domain));
    let default = entry
        .and_then(|e| e.default)
        .map_or(tls.default, |d| d.max(tls.default));
    if !phi {
        return default;
    }
    let phi_level = entry.and_then(|e| e.phi).unwrap_or(tls.phi);
    phi_level.max(default).max(TlsLevel::Encrypt)
}

/// A sender's `TLS-Required: No` (RFC 8689 section 5): mail that no
/// rule or PHI floor protects may go as `may` (TLS when offered, delivered
/// without); a requirement that protects PHI, or that a rule set, stands.
pub fn waived_by_sender(r: Requirement) -> Requirement {
    if r.phi {
        return r;
    }
    Requirement {
        level: r.level.min(TlsLevel::May),
        phi: false,
    }
}

/// The action a recipient released from quarantine gets: the PHI floor for
/// PHI (or uninspectable) mail, plain delivery otherwise.
pub fn released(phi: bool) -> Action {
    if phi {
        Action::RequireTls
    } else {
        Action::Deliver
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls(toml: &str) -> TlsConfig {
        phigate_config::Config::from_toml("t.toml", toml)
            .unwrap()
            .tls
    }

    #[test]
    fn domain_entries_and_the_phi_floor() {
        let t = tls(r#"
[tls]
default = "may"
phi = "verify"
[[tls.policy]]
domain = "partner.example"
phi = "encrypt"
[[tls.policy]]
domain = "strict.example"
default = "verify"
"#);
        let level =
            |action, phi, d| required(action, false, phi, &t, Destination::Domain(d)).level();
        assert_eq!(
            level(Action::Deliver, false, "payer.example"),
            TlsLevel::May
        );
        assert_eq!(
            level(Action::Deliver, true, "payer.example"),
            TlsLevel::Verify
        );
        assert_eq!(
            level(Action::Deliver, true, "partner.example"),
            TlsLevel::Encrypt
        );
        assert_eq!(
            level(Action::Deliver, false, "strict.example"),
            TlsLevel::Verify
        );
        assert_eq!(
            level(Action::Deliver, true, "STRICT.example"),
            TlsLevel::Verify
        );
        assert_eq!(
            level(Action::RequireTls, false, "payer.example"),
            TlsLevel::Verify
        );
    }

    /// Whatever `[tls]` says, PHI goes no lower than `encrypt`; the one
    /// exception is a sender's opt-out an administrator allowed.
    #[test]
    fn phi_never_below_encrypt() {
        let t = tls("[tls]\ndefault = \"none\"\n");
        for action in [
            Action::Deliver,
            Action::RequireTls,
            Action::Encrypt,
            Action::Quarantine,
        ] {
            let r = required(
                action,
                false,
                true,
                &t,
                Destination::Domain("payer.example"),
            );
            assert!(
                r.level() >= TlsLevel::Encrypt,
                "{action:?}: {:?}",
                r.level()
            );
            // `encrypt` reaching a domain has no encryption method left
            // for the recipient: it is held like PHI when a hop falls short.
            assert_eq!(
                r.protects_phi(),
                matches!(
                    action,
                    Action::Deliver | Action::RequireTls | Action::Encrypt
                )
            );
        }
        let opted = required(
            Action::Deliver,
            true,
            true,
            &t,
            Destination::Domain("payer.example"),
        );
        assert_eq!(opted.level(), TlsLevel::None);
        assert!(!opted.protects_phi());
        let route = required(
            Action::Encrypt,
            false,
            true,
            &t,
            Destination::EncryptedRoute,
        );
        assert_eq!(route.level(), TlsLevel::Verify);
        assert!(
            !route.protects_phi(),
            "a relay failure must not reroute to itself"
        );
        // S/MIME content is protected end to end: the hop needs what mail
        // without PHI needs, and a hop that falls short only defers it.
        let smime = required(
            Action::Encrypt,
            false,
            true,
            &t,
            Destination::Smime("payer.example"),
        );
        assert_eq!(smime.level(), TlsLevel::None);
        assert!(!smime.protects_phi());
    }

    /// A released PHI recipient is held to the floor: with `[tls]` levels
    /// at their lowest, its requirement is still at least `encrypt`, and a
    /// channel without TLS gets no permit.
    #[test]
    fn a_release_below_the_phi_floor_gets_no_permit() {
        let t = tls("[tls]\ndefault = \"none\"\n");
        let r = required(
            released(true),
            false,
            true,
            &t,
            Destination::Domain("payer.example"),
        );
        assert!(r.level() >= TlsLevel::Encrypt);
        assert!(crate::delivery::tls::permit(r, None, &Default::default()).is_err());
        let clean = required(
            released(false),
            false,
            false,
            &t,
            Destination::Domain("payer.example"),
        );
        assert!(crate::delivery::tls::permit(clean, None, &Default::default()).is_ok());
    }

    /// `TLS-Required: No` lowers what no rule and no PHI floor protects.
    #[test]
    fn a_senders_waiver_never_touches_phi() {
        let t = tls("[tls]\ndefault = \"verify\"\n");
        let clean = required(
            Action::Deliver,
            false,
            false,
            &t,
            Destination::Domain("x.example"),
        );
        assert_eq!(waived_by_sender(clean).level(), TlsLevel::May);
        let phi = required(
            Action::Deliver,
            false,
            true,
            &t,
            Destination::Domain("x.example"),
        );
        assert_eq!(waived_by_sender(phi), phi);
        let ruled = required(
            Action::RequireTls,
            false,
            false,
            &t,
            Destination::Domain("x.example"),
        );
        assert_eq!(waived_by_sender(ruled), ruled);
    }
}
