//! Reading key files written by `tallyboard keygen`.
//!
//! A private key file holds one line, the Go `sumdb/note` private key string
//! `PRIVATE+KEY+<name>+<key id>+<base64(type || seed)>`, and a newline. A
//! public key file (`FILE.pub`) holds the C2SP verifier key and a newline.

use std::path::Path;

use anyhow::{Context as _, Result, anyhow};
use tallyboard_core::note::{SignerKey, VerifierKey};
use zeroize::Zeroizing;

use crate::fsutil::read_capped;

/// Largest key file accepted, in bytes.
const MAX_KEY_FILE: usize = 4096;

/// Reads a private key file. The error never contains the key material.
pub(crate) fn read_signer(path: &Path) -> Result<SignerKey> {
    let bytes = Zeroizing::new(read_capped(path, MAX_KEY_FILE)?);
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| anyhow!("{}: not a private key file (not UTF-8)", path.display()))?;
    let line = text.strip_suffix('\n').unwrap_or(text);
    SignerKey::parse(line.trim_end_matches('\r'))
        .map_err(|e| anyhow!("{}: not a private key file: {e}", path.display()))
}

/// Parses a verifier key given on the command line: either the key string
/// itself or the path of a file holding it (such as `FILE.pub`).
pub(crate) fn verifier_arg(arg: &str) -> Result<VerifierKey> {
    if let Ok(vk) = VerifierKey::parse(arg) {
        return Ok(vk);
    }
    let path = Path::new(arg);
    if !path.exists() {
        // Report the parse error: the argument looked like a key string.
        let e = VerifierKey::parse(arg)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        return Err(anyhow!(
            "{arg:?} is neither a verifier key ({e}) nor a file"
        ));
    }
    let bytes = read_capped(path, MAX_KEY_FILE)?;
    let text = String::from_utf8(bytes)
        .with_context(|| format!("{}: not a verifier key file", path.display()))?;
    VerifierKey::parse(text.trim_end())
        .map_err(|e| anyhow!("{}: not a verifier key: {e}", path.display()))
}
