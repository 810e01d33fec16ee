//! Password checks for AUTH PLAIN/LOGIN against argon2 hashes from config.

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};

use phigate_config::AuthUser;

/// Checks `password` for `user`. Unknown users are checked against a fixed
/// hash as well, so the time taken does not tell which names exist. Slow on
/// purpose (argon2): call it from a blocking thread.
pub fn verify(users: &[AuthUser], user: &str, password: &str) -> bool {
    // A hash of a random string nobody knows, with default parameters.
    const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1v0pB4S7Jyq5r3z0iYpZ+1mH1qv7lq1m8bT0o6Qm4kA";
    let (hash, known) = match users.iter().find(|u| u.name == user) {
        Some(u) => (u.password_hash.as_str(), true),
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

#[cfg(test)]
mod tests {
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
