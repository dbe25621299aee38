//! Reading key files written by `tallyboard keygen`.
//!
//! A private key file holds one line, the Go `sumdb/note` private key string
//! `PRIVATE+KEY+<name>+<key id>+<base64(type || seed)>`, and a newline. A
//! public key file (`FILE.pub`) holds the C2SP verifier key and a newline.

use std::path::Path;

use anyhow::{Context as _, Result, anyhow};
use tallyboard_core::limits::MAX_SIGNED_MANIFEST;
use tallyboard_core::manifest::SignedManifest;
use tallyboard_core::note::{SignerKey, VerifierKey};
use zeroize::Zeroizing;

use crate::fsutil::read_capped;

/// Largest key file accepted, in bytes.
const MAX_KEY_FILE: usize = 4096;

/// Reads a private key file. The error never contains the key material.
pub(crate) fn read_signer(path: &Path) -> Result<SignerKey> {
    warn_if_shared(path);
    let bytes = Zeroizing::new(read_capped(path, MAX_KEY_FILE)?);
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| anyhow!("{}: not a private key file (not UTF-8)", path.display()))?;
    let line = text.strip_suffix('\n').unwrap_or(text);
    SignerKey::parse(line.trim_end_matches('\r'))
        .map_err(|e| anyhow!("{}: not a private key file: {e}", path.display()))
}

/// Warns when a private key file can be read by other users (as `keygen`
/// never creates it; a copy or a checkout may).
fn warn_if_shared(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                "private key file {} can be read by other users; restrict it with: chmod 600 {}",
                path.display(),
                path.display()
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
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

/// Reads the signed manifest at `path` (size-capped) and checks it against
/// the authority key given on the command line (`--authority`: a verifier
/// key string or file), or, without one, against the key it names itself.
pub(crate) fn read_manifest(path: &Path, authority: Option<&str>) -> Result<SignedManifest> {
    let bytes = read_capped(path, MAX_SIGNED_MANIFEST)?;
    let authority = authority
        .map(verifier_arg)
        .transpose()?
        .map(|v| *v.public_key());
    SignedManifest::from_bytes(&bytes, authority.as_ref())
        .with_context(|| format!("{}: not a valid signed manifest", path.display()))
}
