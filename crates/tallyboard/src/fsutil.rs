//! File helpers: capped reads, and the CLI's side of durable writes
//! (owner-only exclusive creation for private keys, atomic replacement).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use tallyboard_fs::Access;

/// Reads at most `max` bytes of `path`; a larger file is an error naming the
/// cap (checked before the content is parsed).
pub(crate) fn read_capped(path: &Path, max: usize) -> Result<Vec<u8>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    let mut buf = Vec::new();
    file.take(limit)
        .read_to_end(&mut buf)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if buf.len() > max {
        bail!("{} is larger than the limit of {max} bytes", path.display());
    }
    Ok(buf)
}

fn access(private: bool) -> Access {
    if private {
        Access::OwnerOnly
    } else {
        Access::Shared
    }
}

/// Creates a new file (never overwrites) with `contents`, durably (the file
/// and its directory are fsynced). `private` makes it owner-only (0600, set
/// before any byte is written).
pub(crate) fn write_new(path: &Path, contents: &[u8], private: bool) -> Result<()> {
    tallyboard_fs::create_new(path, contents, access(private)).map_err(|e| {
        if e.already_exists() {
            anyhow::anyhow!(
                "{} already exists; refusing to overwrite it",
                path.display()
            )
        } else {
            anyhow::Error::new(e)
        }
    })
}

/// Writes `contents` to `path` atomically and durably: a temporary file in
/// the same directory is written and fsynced, renamed over `path`, and the
/// directory is fsynced. A reader sees the old file or the new one, never a
/// part. `private` creates the temporary file owner-only (0600), so the key
/// is never readable by others.
pub(crate) fn write_atomic(path: &Path, contents: &[u8], private: bool) -> Result<()> {
    Ok(tallyboard_fs::replace(path, contents, access(private))?)
}

/// `FILE.pub` for a key file `FILE`.
pub(crate) fn pub_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".pub");
    PathBuf::from(s)
}
