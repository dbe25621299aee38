//! The witness state directory: durable, atomic replacement of small files.

use std::fs::{self, File};
use std::io::{self, Read as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tallyboard_core::checkpoint::open_checkpoint;
use tallyboard_core::limits::MAX_NOTE;
use tallyboard_core::note::VerifierKey;

use crate::Cosigned;

/// Errors of the state directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A file system operation failed.
    #[error(transparent)]
    Io(#[from] tallyboard_fs::FsError),
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
    let f = tallyboard_fs::io_err(op, path);
    move |source| StoreError::Io(f(source))
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
    _lock: tallyboard_fs::Lock,
}

impl Store {
    pub(crate) fn open(dir: &Path) -> Result<Store, StoreError> {
        let state = dir.join("state");
        let refused = dir.join("refused");
        let tmp = dir.join("tmp");
        let lock = tallyboard_fs::open_locked(&[dir, &state, &refused, &tmp], &dir.join("lock"))
            .map_err(|e| e.or_held(|path| StoreError::Locked { path }))?;
        tallyboard_fs::clear_dir(&tmp)?;
        Ok(Store {
            inner: Arc::new(Inner {
                state,
                refused,
                tmp,
                _lock: lock,
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
        Ok(tallyboard_fs::replace_via(
            &self.inner.tmp,
            &dir.join(name),
            bytes,
        )?)
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
