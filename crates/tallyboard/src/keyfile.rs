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

/// What is said instead of a private key given where a public one is
/// expected (the key itself is never repeated).
pub(crate) const PRIVATE_NOT_PUBLIC: &str =
    "this is a private key; give the public key (the .pub file)";

/// Whether `s` looks like a private key string (`PRIVATE+KEY+...`, in any
/// case, anywhere in it): such text is never repeated in a message.
pub(crate) fn looks_private(s: &str) -> bool {
    s.to_ascii_uppercase().contains("PRIVATE+KEY")
}

/// Reads a private key file. The error never contains the key material,
/// nor the argument itself when it is a private key string instead of a
/// file name.
pub(crate) fn read_signer(path: &Path) -> Result<SignerKey> {
    if looks_private(&path.to_string_lossy()) {
        return Err(anyhow!(
            "this is a private key itself, not the name of a key file; give the path of the file holding it (and keep private keys off command lines)"
        ));
    }
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
/// itself or the path of a file holding it (such as `FILE.pub`). The
/// argument is repeated in an error only as the name of an existing file,
/// and neither it nor the file's content when it is a private key.
pub(crate) fn verifier_arg(arg: &str) -> Result<VerifierKey> {
    if looks_private(arg) {
        return Err(anyhow!(PRIVATE_NOT_PUBLIC));
    }
    let parsed = VerifierKey::parse(arg);
    let e = match parsed {
        Ok(vk) => return Ok(vk),
        Err(e) => e,
    };
    let path = Path::new(arg);
    if !path.is_file() {
        // Not repeated: a mistyped key could be (part of) a private key.
        return Err(anyhow!(
            "not a verifier key ({e}), nor the name of a file holding one"
        ));
    }
    let bytes = Zeroizing::new(read_capped(path, MAX_KEY_FILE)?);
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| anyhow!("{}: not a verifier key file (not UTF-8)", path.display()))?;
    if looks_private(text) {
        return Err(anyhow!("{}: {PRIVATE_NOT_PUBLIC}", path.display()));
    }
    VerifierKey::parse(text.trim_end())
        .map_err(|e| anyhow!("{}: not a verifier key: {e}", path.display()))
}

/// Reads the signed manifest at `path` (size-capped) and checks it against
/// the authority key given on the command line (`--authority`: a verifier
/// key string or file), or, without one, against the key it names itself.
pub(crate) fn read_manifest(path: &Path, authority: Option<&str>) -> Result<SignedManifest> {
    let bytes = read_capped(path, MAX_SIGNED_MANIFEST)?;
    let authority = authority
        .map(|a| verifier_arg(a).context("--authority"))
        .transpose()?
        .map(|v| *v.public_key());
    SignedManifest::from_bytes(&bytes, authority.as_ref())
        .with_context(|| format!("{}: not a valid signed manifest", path.display()))
}
