//! Password hashes the app's passlib verifies (bcrypt `$2b$`, cost 12): a
//! fixed salt for the seed's published development passwords at build time,
//! a random one for real passwords at run time.

use sha2::{Digest, Sha256};

/// bcrypt cost, as the app's passlib default.
pub const BCRYPT_COST: u32 = 12;

/// A bcrypt hash of a real password, with a random salt. Refuses a password
/// longer than bcrypt reads (72 bytes) rather than cut it silently.
pub fn hash_password(password: &str) -> Result<String, String> {
    Ok(Salted::new(password)?.hash())
}

/// A real password checked and given its random salt: what can fail about
/// hashing it has failed or not, so the hashing itself (the slow part) can
/// run on a thread of its own and be waited for when the hash is needed.
pub struct Salted {
    password: String,
    salt: [u8; 16],
}

impl Salted {
    /// Refuses a password longer than bcrypt reads (72 bytes) rather than
    /// cut it silently, and a system that gives no randomness.
    pub fn new(password: &str) -> Result<Salted, String> {
        if password.len() > 72 {
            return Err("bcrypt uses at most 72 bytes of a password; choose a shorter one".into());
        }
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| format!("no randomness for the salt: {e}"))?;
        Ok(Salted {
            password: password.to_owned(),
            salt,
        })
    }

    /// The `$2b$` hash (about 70–250 ms of one core at cost 12).
    pub fn hash(&self) -> String {
        bcrypt::hash_with_salt(&self.password, BCRYPT_COST, self.salt)
            .expect("the cost is valid and the length was checked")
            .format_for_version(bcrypt::Version::TwoB)
    }
}

/// A deterministic bcrypt hash: the salt is derived from where the password
/// sits in the seed, so every build of the same seed yields the same rows.
/// These are published development passwords, so a fixed salt gives away
/// nothing a random one would protect.
pub fn hash_seed_password(table: &str, column: &str, index: usize, plain: &str) -> String {
    let mut h = Sha256::new();
    h.update(format!(
        "seedbake-bcrypt-salt\0{table}\0{column}\0{index}\0{plain}"
    ));
    let digest = h.finalize();
    let mut salt = [0u8; 16];
    salt.copy_from_slice(&digest[..16]);
    bcrypt::hash_with_salt(plain, BCRYPT_COST, salt)
        .expect("bcrypt accepts any password up to 72 bytes")
        .format_for_version(bcrypt::Version::TwoB)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_hashes_are_reproducible_and_verify() {
        let a = hash_seed_password("users", "hashed_password", 0, "admin");
        assert_eq!(
            a,
            hash_seed_password("users", "hashed_password", 0, "admin")
        );
        assert_ne!(
            a,
            hash_seed_password("users", "hashed_password", 1, "admin")
        );
        assert!(a.starts_with("$2b$12$"), "{a}");
        assert!(bcrypt::verify("admin", &a).unwrap());
    }

    #[test]
    fn real_passwords_get_a_fresh_salt_and_a_length_limit() {
        let a = hash_password("correct horse").unwrap();
        assert_ne!(a, hash_password("correct horse").unwrap());
        assert!(bcrypt::verify("correct horse", &a).unwrap());
        assert!(hash_password(&"x".repeat(73)).is_err());
    }
}
