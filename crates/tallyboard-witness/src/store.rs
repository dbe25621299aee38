//! The witness state directory: durable, atomic replacement of small files.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tallyboard_core::checkpoint::open_checkpoint;
use tallyboard_core::limits::MAX_NOTE;
use tallyboard_core::note::VerifierKey;

use crate::Cosigned;

/// Errors of the state directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A file system operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// Another process holds the state directory.
    #[error("the witness state directory is in use by another process (lock {path})")]
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// A state file is not a checkpoint signed by its log.
    #[error(
        "{path} is not a checkpoint signed by the log {origin} ({reason}); the witness refuses to start rather than forget what it cosigned: restore the file from a backup"
    )]
    BadState {
        /// The state file.
        path: PathBuf,
        /// The log's origin.
        origin: String,
        /// What is wrong.
        reason: String,
    },
}

fn io_err(op: &'static str, path: &Path) -> impl FnOnce(io::Error) -> StoreError + use<> {
    let path = path.to_path_buf();
    move |source| StoreError::Io { op, path, source }
}

#[derive(Clone, Debug)]
pub(crate) struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    state: PathBuf,
    refused: PathBuf,
    tmp: PathBuf,
    _lock: File,
    counter: AtomicU64,
}

impl Store {
    pub(crate) fn open(dir: &Path) -> Result<Store, StoreError> {
        let state = dir.join("state");
        let refused = dir.join("refused");
        let tmp = dir.join("tmp");
        for d in [dir, &state, &refused, &tmp] {
            fs::create_dir_all(d).map_err(io_err("create directory", d))?;
        }
        let lock_path = dir.join("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err("open", &lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(StoreError::Locked { path: lock_path }),
            Err(TryLockError::Error(e)) => return Err(io_err("lock", &lock_path)(e)),
        }
        for e in fs::read_dir(&tmp).map_err(io_err("list", &tmp))? {
            let p = e.map_err(io_err("list", &tmp))?.path();
            fs::remove_file(&p).map_err(io_err("remove", &p))?;
        }
        Ok(Store {
            inner: Arc::new(Inner {
                state,
                refused,
                tmp,
                _lock: lock,
                counter: AtomicU64::new(0),
            }),
        })
    }

    /// Reads the state of the log `key` from `state/<file>`.
    pub(crate) fn load(
        &self,
        file: &str,
        key: &VerifierKey,
    ) -> Result<Option<Cosigned>, StoreError> {
        let path = self.inner.state.join(file);
        let f = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err("open", &path)(e)),
        };
        let mut buf = Vec::new();
        f.take(MAX_NOTE as u64 + 1)
            .read_to_end(&mut buf)
            .map_err(io_err("read", &path))?;
        let opened = open_checkpoint(&buf, key, &[], 0).map_err(|e| StoreError::BadState {
            path: path.clone(),
            origin: key.name().to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Some(Cosigned {
            size: opened.checkpoint.size,
            root: opened.checkpoint.root,
            note: buf,
        }))
    }

    fn write_durably(&self, dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let tmp = self.inner.tmp.join(format!(
            "{}.{}",
            std::process::id(),
            self.inner.counter.fetch_add(1, Ordering::Relaxed)
        ));
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(io_err("create", &tmp))?;
        f.write_all(bytes).map_err(io_err("write", &tmp))?;
        f.sync_all().map_err(io_err("fsync", &tmp))?;
        drop(f);
        let dest = dir.join(name);
        fs::rename(&tmp, &dest).map_err(io_err("rename into", &dest))?;
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err("fsync directory", dir))
    }

    /// Replaces `state/<file>` with `note`, durably.
    pub(crate) fn save(&self, file: &str, note: &[u8]) -> Result<(), StoreError> {
        self.write_durably(&self.inner.state, file, note)
    }

    /// Keeps a refused request as `refused/<prefix>-<n>` unless `max`
    /// files are kept already; returns the file name.
    pub(crate) fn keep_refused(&self, prefix: &str, content: &[u8], max: usize) -> Option<String> {
        let kept = fs::read_dir(&self.inner.refused).ok()?.count();
        if kept >= max {
            return None;
        }
        let name = format!("{prefix}-{kept}");
        match self.write_durably(&self.inner.refused, &name, content) {
            Ok(()) => Some(self.inner.refused.join(&name).display().to_string()),
            Err(e) => {
                tracing::error!(error = %e, "could not keep the refused checkpoint");
                None
            }
        }
    }
}
