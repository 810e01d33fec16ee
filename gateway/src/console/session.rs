//! Who is signed in to the console: sessions behind an opaque cookie, each
//! with its own CSRF token, ended by sign-out or after `session_minutes`
//! without a request; and the TOTP second factor (RFC 6238).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use phigate_config::ConsoleRole;
use ring::rand::SecureRandom as _;

/// The most sessions kept at once; the oldest go first past this.
const MAX_SESSIONS: usize = 256;

/// A signed-in administrator.
#[derive(Debug, Clone)]
pub struct Session {
    /// Their name.
    pub user: String,
    /// What they may do (from the configuration at sign-in).
    pub role: ConsoleRole,
    /// The token every form they post must carry.
    pub csrf: String,
    last_seen: Instant,
}

/// The console's sessions, by cookie token.
#[derive(Debug, Default)]
pub struct Sessions {
    by_token: Mutex<HashMap<String, Session>>,
    /// The last TOTP time step each user signed in with: a code is taken
    /// once (RFC 6238 5.2).
    used_steps: Mutex<HashMap<String, u64>>,
}

impl Sessions {
    /// A new session for `user`; its cookie token.
    pub fn open(&self, user: &str, role: ConsoleRole) -> String {
        let token = random_hex(32);
        let mut map = self.by_token.lock().expect("sessions");
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(t, _)| t.clone())
        {
            map.remove(&oldest);
        }
        map.insert(
            token.clone(),
            Session {
                user: user.to_string(),
                role,
                csrf: random_hex(32),
                last_seen: Instant::now(),
            },
        );
        token
    }

    /// The session of `token` if it has not been idle longer than `idle`;
    /// it counts as a request.
    pub fn get(&self, token: &str, idle: Duration) -> Option<Session> {
        let mut map = self.by_token.lock().expect("sessions");
        let s = map.get_mut(token)?;
        if s.last_seen.elapsed() > idle {
            map.remove(token);
            return None;
        }
        s.last_seen = Instant::now();
        Some(s.clone())
    }

    /// Ends the session of `token`.
    pub fn close(&self, token: &str) {
        self.by_token.lock().expect("sessions").remove(token);
    }

    /// Whether `code` is `user`'s TOTP code now (the step before and after
    /// too, for clock drift) and was not used before; marks it used.
    pub fn totp_ok(&self, user: &str, key: &[u8], code: &str, unix: u64) -> bool {
        let code = code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        let step = unix / 30;
        let mut used = self.used_steps.lock().expect("totp steps");
        let last = used.get(user).copied();
        for s in [step.saturating_sub(1), step, step + 1] {
            // Constant-time compare; a step at or before the last one used
            // is spent.
            let want = totp(key, s);
            if same(want.as_bytes(), code.as_bytes()) && last.is_none_or(|l| s > l) {
                used.insert(user.to_string(), s);
                return true;
            }
        }
        false
    }
}

/// The 6-digit TOTP code of `key` for time step `step` (RFC 6238 with
/// HMAC-SHA-1, RFC 4226's dynamic truncation).
pub fn totp(key: &[u8], step: u64) -> String {
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key);
    let mac = ring::hmac::sign(&k, &step.to_be_bytes());
    let h = mac.as_ref();
    let off = (h[h.len() - 1] & 0x0f) as usize;
    let bin = u32::from_be_bytes([h[off] & 0x7f, h[off + 1], h[off + 2], h[off + 3]]);
    format!("{:06}", bin % 1_000_000)
}

/// Whether `a` and `b` are equal, in time that depends on their length
/// only (CSRF tokens, TOTP codes).
pub fn same(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// `n` random bytes, hex.
pub fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    ring::rand::SystemRandom::new()
        .fill(&mut b)
        .expect("the system RNG works");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// RFC 4648 base32 without padding, for a new TOTP key.
pub fn base32(bytes: &[u8]) -> String {
    const A: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut out, mut acc, mut bits) = (String::new(), 0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(A[((acc >> bits) & 31) as usize] as char);
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(A[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 key "12345678901234567890", last six
    /// digits of the eight-digit values.
    #[test]
    fn totp_matches_rfc_6238_vectors() {
        let key = b"12345678901234567890";
        for (t, code) in [
            (59u64, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(totp(key, t / 30), code, "T = {t}");
        }
    }

    #[test]
    fn a_code_is_taken_once_and_only_near_now() {
        let s = Sessions::default();
        let key = b"12345678901234567890";
        let now = 1_234_567_890;
        let code = totp(key, now / 30);
        assert!(!s.totp_ok("a", key, "12345", now));
        assert!(!s.totp_ok("a", key, &totp(key, now / 30 - 5), now));
        assert!(s.totp_ok("a", key, &code, now));
        assert!(!s.totp_ok("a", key, &code, now), "replayed");
        assert!(s.totp_ok("b", key, &code, now), "per user");
    }

    #[test]
    fn base32_round_trips_through_the_config_decoder() {
        let key = b"\x00\x01\x02phigate-secret\xff";
        let text = base32(key);
        let back = phigate_config::Config::from_toml(
            "t.toml",
            &format!(
                "[console]\nlisten = \"127.0.0.1:0\"\ntls = false\n[[console.user]]\nname = \"a\"\n\
                 password_hash = \"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1v0pB4S7Jyq5r3z0iYpZ+1mH1qv7lq1m8bT0o6Qm4kA\"\n\
                 role = \"admin\"\ntotp_secret = \"{}\"\n",
                text.to_lowercase()
            ),
        )
        .unwrap()
        .console
        .unwrap()
        .users[0]
            .totp_secret
            .clone()
            .unwrap();
        assert_eq!(back, key);
    }

    #[test]
    fn sessions_end_when_idle_or_closed() {
        let s = Sessions::default();
        let t = s.open("alice", ConsoleRole::Admin);
        assert_eq!(s.get(&t, Duration::from_secs(60)).unwrap().user, "alice");
        assert!(s.get(&t, Duration::ZERO).is_none(), "idle too long");
        let t = s.open("alice", ConsoleRole::Admin);
        s.close(&t);
        assert!(s.get(&t, Duration::from_secs(60)).is_none());
        assert!(s.get("forged", Duration::from_secs(60)).is_none());
    }
}
