//! The key pair sqld checks tokens against and a token it accepts, made
//! with the `mint-token` script beside sqld (openssl and python3); shared
//! by the tests and the benches, which include this file by path.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `SEEDBAKE_SQLD_MINT_TOKEN`, else `../shared/tools/sqld/mint-token`
/// beside the repository, into a folder named for `purpose` and this
/// process: the public key's path and the token.
pub fn mint_token(purpose: &str) -> (PathBuf, String) {
    let script = std::env::var_os("SEEDBAKE_SQLD_MINT_TOKEN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/sqld/mint-token")
        });
    let dir = std::env::temp_dir().join(format!("seedbake-{purpose}-auth-{}", std::process::id()));
    let out = Command::new(&script)
        .arg(&dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{} failed (it needs openssl and python3): {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(token.split('.').count() == 3, "not a JWT: {token:?}");
    (dir.join("jwt.pub"), token)
}
