//! `[encryption]`: the encrypted-delivery route.

use super::*;

pub(super) fn encryption(
    c: &mut Checker<'_>,
    raw: &crate::raw::RawEncryption,
) -> Option<EncryptionConfig> {
    match raw.kind.get_ref().as_str() {
        "relay" => {}
        "smime" => {
            c.error(
                &raw.kind,
                "encryption.kind",
                "S/MIME is configured in [smime] (certs_dir, outer_subject) and tried \
                 for every PHI recipient with a certificate; [encryption] names a relay",
            );
            return None;
        }
        other => {
            c.error(
                &raw.kind,
                "encryption.kind",
                format!("`{other}` is not one of relay, smime"),
            );
            return None;
        }
    }
    let hop = next_hop(c, &raw.relay, "encryption.relay");
    let auth = match (&raw.user, &raw.password) {
        (Some(u), Some(p)) => Some((u.clone(), p.clone())),
        (None, None) => None,
        _ => {
            c.error(
                &raw.relay,
                "encryption.user",
                "user and password go together",
            );
            None
        }
    };
    let subject_tag = raw
        .subject_tag
        .as_ref()
        .and_then(|t| one_line(c, t, "encryption.subject_tag"));
    let header = raw
        .header
        .as_ref()
        .and_then(|h| header_line(c, h, "encryption.header"));
    if raw.subject_tag.is_none() && raw.header.is_none() {
        c.error(
            &raw.relay,
            "encryption",
            "needs subject_tag or header: the trigger the provider encrypts on",
        );
    }
    Some(EncryptionConfig::Relay(EncryptionRelay {
        hop: hop?,
        auth,
        subject_tag,
        header,
    }))
}
