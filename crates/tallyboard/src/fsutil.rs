//! File helpers: owner-only exclusive creation for private keys.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

/// Opens `path` for writing, failing if it exists (O_EXCL), readable and
/// writable by its owner only (mode 0600 on Unix, set at creation, so there
/// is no moment when others could open it).
fn create_exclusive(path: &Path, private: bool) -> Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    opts.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!(
                "{} already exists; refusing to overwrite it",
                path.display()
            )
        } else {
            anyhow::Error::new(e).context(format!("cannot create {}", path.display()))
        }
    })
}

/// Creates a new file (never overwrites) with `contents` and syncs it.
/// `private` makes it owner-only (0600).
pub(crate) fn write_new(path: &Path, contents: &[u8], private: bool) -> Result<()> {
    let mut f = create_exclusive(path, private)?;
    f.write_all(contents)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// `FILE.pub` for a key file `FILE`.
pub(crate) fn pub_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".pub");
    PathBuf::from(s)
}
