//! Password hashes the app's passlib verifies (bcrypt `$2b$`, cost 12): a
//! fixed salt for the seed's published development passwords at build time,
//! a random one for real passwords at run time.

use sha2::{Digest, Sha256};

/// bcrypt cost, as the app's passlib default.
pub const BCRYPT_COST: u32 = 12;

/// A bcrypt hash of a real password, with a random salt. Refuses a password
/// longer than bcrypt reads (72 bytes) rather than cut it silently.
pub fn hash_password(password: &str) -> Result<String, String> {
    if password.len() > 72 {
        return Err("bcrypt uses at most 72 bytes of a password; choose a shorter one".into());
    }
    bcrypt::hash_with_result(password, BCRYPT_COST)
        .map(|h| h.format_for_version(bcrypt::Version::TwoB))
        .map_err(|e| e.to_string())
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
