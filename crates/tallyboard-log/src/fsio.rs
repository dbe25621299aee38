//! Durable file writes: temp file, fsync, atomic rename, directory fsync.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A point between two durability steps of a batch commit, reported to the
/// [`FaultHook`] (see [`crate::Options::fault_hook`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// The new tiles and entry bundles are written to temporary files and
    /// fsynced; none is renamed yet.
    TilesWritten,
    /// One tile or bundle has been renamed into `public/` (reported once per
    /// file, in write order).
    TileRenamed,
    /// Every new tile and bundle is renamed and the directories holding them
    /// are fsynced: the tiles are durable.
    TilesDurable,
    /// The new signed checkpoint is written to a temporary file and fsynced.
    CheckpointWritten,
    /// The checkpoint has been renamed over `public/checkpoint`; its
    /// directory is not yet fsynced.
    CheckpointRenamed,
    /// The checkpoint's directory is fsynced: the batch is published and
    /// durable. Submitters have not been answered yet.
    CheckpointDurable,
}

/// Called at every [`Step`] of a commit. Returning an error aborts the
/// commit there, exactly as if the disk had failed at that point; tests use
/// it to simulate crashes between any two steps.
pub type FaultHook = Arc<dyn Fn(Step) -> io::Result<()> + Send + Sync>;

/// An I/O error with the step and the path it concerns.
pub use tallyboard_fs::FsError as IoError;
pub(crate) use tallyboard_fs::{io_err, sync_dir};

/// Writes files under `root` durably, as one group:
/// every file goes to a temporary file in `tmp` (same file system), which is
/// fsynced; then every temporary file is renamed to its final path; then
/// every directory that gained an entry (a renamed file or a created
/// directory) is fsynced. On return, all files are durable.
pub(crate) struct DurableWriter<'a> {
    pub(crate) root: &'a Path,
    pub(crate) tmp: &'a Path,
    pub(crate) hook: Option<&'a FaultHook>,
}

impl DurableWriter<'_> {
    fn hook(&self, step: Step) -> Result<(), IoError> {
        match self.hook {
            Some(h) => h(step).map_err(io_err("fault injected at", Path::new(step_name(step)))),
            None => Ok(()),
        }
    }

    /// Creates the directories from `root` down to `dir`, recording the
    /// parent of every directory created (its entry must be fsynced).
    fn ensure_dir(&self, dir: &Path, sync: &mut BTreeSet<PathBuf>) -> Result<(), IoError> {
        if dir.is_dir() {
            return Ok(());
        }
        if let Some(parent) = dir.parent() {
            if parent.starts_with(self.root) && parent != dir {
                self.ensure_dir(parent, sync)?;
            }
            match fs::create_dir(dir) {
                Ok(()) => {
                    sync.insert(parent.to_path_buf());
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_err("create directory", dir)(e)),
            }
        }
        Ok(())
    }

    /// Writes `files` (paths relative to `root`) durably. `first` and
    /// `last` are the [`Step`]s reported after the temporary files are
    /// written and after the directories are fsynced; `each` after every
    /// rename.
    pub(crate) fn write_all(
        &self,
        files: &[(String, Vec<u8>)],
        first: Step,
        each: Step,
        last: Step,
    ) -> Result<(), IoError> {
        let mut sync = BTreeSet::new();
        let mut staged = Vec::with_capacity(files.len());
        for (rel, bytes) in files {
            let dest = self.root.join(rel);
            let tmp = self.tmp.join(tallyboard_fs::unique_temp_name());
            tallyboard_fs::write_synced(&tmp, bytes)?;
            staged.push((tmp, dest));
        }
        self.hook(first)?;
        for (tmp, dest) in &staged {
            if let Some(parent) = dest.parent() {
                self.ensure_dir(parent, &mut sync)?;
                sync.insert(parent.to_path_buf());
            }
            fs::rename(tmp, dest).map_err(io_err("rename into", dest))?;
            self.hook(each)?;
        }
        for dir in &sync {
            sync_dir(dir)?;
        }
        self.hook(last)
    }
}

fn step_name(step: Step) -> &'static str {
    match step {
        Step::TilesWritten => "tiles-written",
        Step::TileRenamed => "tile-renamed",
        Step::TilesDurable => "tiles-durable",
        Step::CheckpointWritten => "checkpoint-written",
        Step::CheckpointRenamed => "checkpoint-renamed",
        Step::CheckpointDurable => "checkpoint-durable",
    }
}

/// Reads a whole file, with `None` if it does not exist.
pub(crate) fn read_optional(path: &Path, cap: usize) -> Result<Option<Vec<u8>>, IoError> {
    use std::io::Read;
    let f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err("open", path)(e)),
    };
    let mut buf = Vec::new();
    // Read one byte more than the cap to detect an oversized file.
    f.take(cap as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(io_err("read", path))?;
    Ok(Some(buf))
}
