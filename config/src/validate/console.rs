//! `[console]`: the administrators' web console.

use super::*;

pub(super) fn console(
    c: &mut Checker<'_>,
    raw: &crate::raw::RawConsole,
    server_tls: Option<&TlsFiles>,
) -> Option<ConsoleConfig> {
    let listen = c.socket_addr(&raw.listen, "console.listen");
    let tls = match (*raw.tls.get_ref(), &raw.cert, &raw.key) {
        (true, Some(cert), Some(key)) => {
            Some((c.path(cert, "console.cert"), c.path(key, "console.key")))
        }
        (true, None, None) => match server_tls {
            Some(t) => Some((t.cert.clone(), t.key.clone())),
            None => {
                // `tls` is usually left to its default: the line named is
                // the listener's.
                c.error(
                    &raw.listen,
                    "console.tls",
                    "HTTPS needs a certificate: set console.cert and console.key, or [server.tls]",
                );
                None
            }
        },
        (true, Some(v), None) | (true, None, Some(v)) => {
            c.error(v, "console.cert", "cert and key go together");
            None
        }
        (false, _, _) => {
            // Passwords and session cookies in clear: only where nothing
            // but this host can listen.
            if listen.is_some_and(|a| !a.ip().is_loopback()) {
                c.error(
                    &raw.tls,
                    "console.tls",
                    "false is allowed only on a loopback address (127.0.0.1, ::1)",
                );
            }
            None
        }
    };
    let minutes = c.positive(&raw.session_minutes, "console.session_minutes", 24 * 60);
    let mut users: Vec<ConsoleUser> = Vec::new();
    for u in &raw.user {
        let name = u.name.get_ref().trim().to_string();
        if name.is_empty() || name.len() > 64 || name.chars().any(|ch| ch.is_control()) {
            c.error(&u.name, "console.user.name", "must be a non-empty name");
        }
        if users.iter().any(|x| x.name == name) {
            c.error(
                &u.name,
                "console.user.name",
                format!("`{name}` is listed twice"),
            );
        }
        let hash = u.password_hash.get_ref().clone();
        if let Err(why) = server::check_argon2(&hash) {
            c.error(&u.password_hash, "console.user.password_hash", why);
        }
        let role = match u.role.get_ref().as_str() {
            "viewer" => ConsoleRole::Viewer,
            "admin" => ConsoleRole::Admin,
            other => {
                c.error(
                    &u.role,
                    "console.user.role",
                    format!("`{other}` is not viewer or admin"),
                );
                ConsoleRole::Viewer
            }
        };
        let totp_secret = match &u.totp_secret {
            Some(v) => match base32(v.get_ref()) {
                Some(k) if k.len() >= 16 => Some(k),
                Some(_) => {
                    c.error(
                        v,
                        "console.user.totp_secret",
                        "must hold at least 128 bits (26 base32 characters); \
                         make one with `phigate totp-secret NAME`",
                    );
                    None
                }
                None => {
                    c.error(v, "console.user.totp_secret", "is not base32 (RFC 4648)");
                    None
                }
            },
            None => {
                if *raw.require_totp.get_ref() {
                    c.error(
                        &u.name,
                        "console.user.totp_secret",
                        format!(
                            "`{name}` has no second factor; add totp_secret \
                             (`phigate totp-secret NAME`) or set require_totp = false"
                        ),
                    );
                }
                None
            }
        };
        users.push(ConsoleUser {
            name,
            password_hash: hash,
            role,
            totp_secret,
        });
    }
    Some(ConsoleConfig {
        listen: listen?,
        tls,
        session_idle: std::time::Duration::from_secs(minutes * 60),
        users,
    })
}

/// RFC 4648 base32 (upper or lower case, padding and spaces ignored).
pub fn base32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for ch in text.chars().filter(|ch| *ch != '=' && !ch.is_whitespace()) {
        let v = match ch.to_ascii_uppercase() {
            c @ 'A'..='Z' => c as u32 - 'A' as u32,
            c @ '2'..='7' => c as u32 - '2' as u32 + 26,
            _ => return None,
        };
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}
