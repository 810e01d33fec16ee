//! Password checks for AUTH PLAIN/LOGIN against argon2 hashes from config,
//! and the [`Guard`] that keeps them from being turned against the gateway:
//! argon2 is slow and takes ~19 MiB on purpose, so checks in flight are
//! bounded, and clients and users that keep failing are locked out for a
//! while (doubling) before any more work is done for them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};

use phigate_config::AuthUser;

/// Checks `password` for `user`. Unknown users are checked against a fixed
/// hash as well, so the time taken does not tell which names exist. Slow on
/// purpose (argon2): call it from a blocking thread.
pub fn verify(users: &[AuthUser], user: &str, password: &str) -> bool {
    let hash = users
        .iter()
        .find(|u| u.name == user)
        .map(|u| u.password_hash.as_str());
    verify_hash(hash, password)
}

/// Checks `password` against `hash`; `None` (no such user) is checked
/// against a decoy and fails, taking the same time.
pub fn verify_hash(hash: Option<&str>, password: &str) -> bool {
    // A hash of a random string nobody knows, with default parameters.
    const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1v0pB4S7Jyq5r3z0iYpZ+1mH1qv7lq1m8bT0o6Qm4kA";
    let (hash, known) = match hash {
        Some(h) => (h, true),
        None => (DECOY, false),
    };
    let ok = PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false);
    ok && known
}

/// A PHC hash of `password` for the config file.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Who failures are counted against: a client network (an IPv4 address,
/// an IPv6 /64: one subscriber's block) and a user name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Net(IpAddr),
    User(String),
}

/// The network a client is counted in: the address itself for IPv4, its
/// /64 for IPv6 (a host there can use any of 2^64 addresses).
pub fn client_net(ip: IpAddr) -> IpAddr {
    match phigate_config::canonical_ip(ip) {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    locked_until: Option<Instant>,
    last: Instant,
}

/// Bounds AUTH work: a fixed number of password checks at once, and a
/// lockout for a client network or a user after repeated failures.
#[derive(Debug)]
pub struct Guard {
    permits: Arc<Semaphore>,
    failures: Mutex<HashMap<Key, Failures>>,
    max_failures: u32,
    max_lockout: Duration,
}

/// Why a check was not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The client network or the user is locked out after failures.
    LockedOut,
    /// Every check slot is busy.
    Busy,
}

/// Entries kept before old ones are dropped: the map cannot grow without
/// bound under a flood from many addresses.
const MAX_TRACKED: usize = 10_000;

impl Guard {
    /// A guard allowing `concurrency` checks at once and `max_failures`
    /// failures before a lockout of up to `max_lockout`.
    pub fn new(concurrency: usize, max_failures: u32, max_lockout: Duration) -> Guard {
        Guard {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            failures: Mutex::new(HashMap::new()),
            max_failures: max_failures.max(1),
            max_lockout,
        }
    }

    /// A slot to run one check in, unless the client or user is locked out
    /// or every slot is taken.
    pub fn admit(&self, ip: IpAddr, user: &str) -> Result<OwnedSemaphorePermit, Refused> {
        let now = Instant::now();
        {
            let map = self.failures.lock().expect("auth failures");
            for key in keys(ip, user) {
                if map
                    .get(&key)
                    .and_then(|f| f.locked_until)
                    .is_some_and(|t| t > now)
                {
                    return Err(Refused::LockedOut);
                }
            }
        }
        self.permits
            .clone()
            .try_acquire_owned()
            .map_err(|_| Refused::Busy)
    }

    /// Records a failed check; the lockout now in force, if any.
    pub fn failed(&self, ip: IpAddr, user: &str) -> Option<Duration> {
        let now = Instant::now();
        let mut map = self.failures.lock().expect("auth failures");
        if map.len() >= MAX_TRACKED {
            let keep = self.max_lockout;
            map.retain(|_, f| now.duration_since(f.last) < keep);
            if map.len() >= MAX_TRACKED {
                map.clear();
            }
        }
        let mut lockout = None;
        for key in keys(ip, user) {
            let f = map.entry(key).or_insert(Failures {
                count: 0,
                locked_until: None,
                last: now,
            });
            // Failures long ago are forgiven.
            if now.duration_since(f.last) > self.max_lockout {
                f.count = 0;
            }
            f.count += 1;
            f.last = now;
            if f.count >= self.max_failures {
                let doublings = (f.count - self.max_failures).min(16);
                let d = (Duration::from_secs(15) * (1u32 << doublings)).min(self.max_lockout);
                f.locked_until = Some(now + d);
                lockout = Some(lockout.map_or(d, |x: Duration| x.max(d)));
            }
        }
        lockout
    }

    /// A successful check clears the user's and the network's failures.
    pub fn succeeded(&self, ip: IpAddr, user: &str) {
        let mut map = self.failures.lock().expect("auth failures");
        for key in keys(ip, user) {
            map.remove(&key);
        }
    }
}

fn keys(ip: IpAddr, user: &str) -> [Key; 2] {
    [
        Key::Net(client_net(ip)),
        Key::User(user.to_ascii_lowercase()),
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn lockout_after_failures_and_bounded_slots() {
        use super::{Guard, Refused};
        use std::time::Duration;
        let g = Guard::new(1, 3, Duration::from_secs(900));
        let ip = "2001:db8::1".parse().unwrap();
        let other_in_64 = "2001:db8::ffff".parse().unwrap();
        let p = g.admit(ip, "u").unwrap();
        assert_eq!(g.admit(ip, "v").unwrap_err(), Refused::Busy);
        drop(p);
        assert_eq!(g.failed(ip, "u"), None);
        assert_eq!(g.failed(ip, "u"), None);
        assert_eq!(g.failed(ip, "u"), Some(Duration::from_secs(15)));
        // The whole /64 is locked out, and so is the user from anywhere.
        assert_eq!(g.admit(other_in_64, "x").unwrap_err(), Refused::LockedOut);
        assert_eq!(
            g.admit("192.0.2.1".parse().unwrap(), "U").unwrap_err(),
            Refused::LockedOut
        );
        assert!(g.admit("192.0.2.1".parse().unwrap(), "w").is_ok());
        assert_eq!(g.failed(ip, "u"), Some(Duration::from_secs(30)));
    }

    use super::*;

    #[test]
    fn hash_then_verify() {
        let cfg = phigate_config::Config::from_toml(
            "t.toml",
            &format!(
                "[[server.auth.users]]\nname = \"u@p.example\"\npassword_hash = \"{}\"\n",
                hash("correct horse").unwrap()
            ),
        )
        .unwrap();
        let users = &cfg.server.users;
        assert!(verify(users, "u@p.example", "correct horse"));
        assert!(!verify(users, "u@p.example", "wrong"));
        assert!(!verify(users, "nobody@p.example", "correct horse"));
    }
}
