//! File helpers: capped reads, owner-only exclusive creation for private
//! keys, and atomic writes (temporary file, fsync, rename).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};

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

/// Writes `contents` to `path` atomically: a temporary file in the same
/// directory is written and synced, then renamed over `path`. A reader sees
/// the old file or the new one, never a part. `private` creates the
/// temporary file owner-only (0600), so the key is never readable by others.
pub(crate) fn write_atomic(path: &Path, contents: &[u8], private: bool) -> Result<()> {
    let tmp = temp_path(path)?;
    let _ = fs::remove_file(&tmp);
    let result = (|| -> Result<()> {
        let mut f = create_exclusive(&tmp, private)?;
        f.write_all(contents)
            .and_then(|()| f.sync_all())
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        fs::rename(&tmp, path)
            .with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    sync_parent(path);
    Ok(())
}

/// `dir/.name.tmp-<pid>` next to `path`.
fn temp_path(path: &Path) -> Result<PathBuf> {
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    Ok(path.with_file_name(tmp_name))
}

/// Syncs the directory holding `path` so that a rename survives a crash
/// (best effort: not every platform can open a directory).
fn sync_parent(path: &Path) {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(parent) {
        let _ = d.sync_all();
    }
}

/// `FILE.pub` for a key file `FILE`.
pub(crate) fn pub_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".pub");
    PathBuf::from(s)
}
