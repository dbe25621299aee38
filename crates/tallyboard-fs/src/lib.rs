//! Files that survive a crash, written one way everywhere.
//!
//! - [`replace`] and [`replace_via`]: write a new file or replace an old one
//!   atomically and durably. The bytes go to a temporary file on the same
//!   file system, which is fsynced, then renamed over the destination, then
//!   the destination's directory is fsynced. A reader (or a restart after a
//!   crash) sees the old file or the new one, never a part; when the call
//!   returns, the new file is on disk. If a step fails, the old file is left
//!   as it was and the temporary file is removed.
//! - [`create_new`]: create a file that must not exist yet (private keys,
//!   receipts), write it, fsync it and its directory. Never overwrites.
//! - [`Access::OwnerOnly`] creates the file with mode 0600 (on Unix), set
//!   when the file is created, before any byte is written: a secret is never
//!   readable by others, not even for a moment.
//! - [`write_synced`] and [`sync_dir`]: the two halves, for a writer that
//!   stages many files first and renames them in an order of its own (the
//!   log store).
//! - [`create_dirs`], [`lock`] and [`clear_dir`]: the set-up of a data
//!   directory that one process owns at a time.
//!
//! Every error names the step that failed and the path it concerns.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A file system operation that failed: the step, the path and the
/// operating system's error.
#[derive(Debug, thiserror::Error)]
#[error("{op} {path}: {source}")]
pub struct FsError {
    /// What was being done ("create", "write", "fsync", "rename into",
    /// "fsync directory", ...).
    pub op: &'static str,
    /// The file or directory.
    pub path: PathBuf,
    /// The operating system's error.
    #[source]
    pub source: io::Error,
}

impl FsError {
    /// Whether the step failed because the file exists already (what
    /// [`create_new`] returns rather than overwrite a file).
    pub fn already_exists(&self) -> bool {
        self.source.kind() == io::ErrorKind::AlreadyExists
    }
}

/// For callers that report [`io::Error`]s: the kind is kept, the message
/// names the step and the path.
impl From<FsError> for io::Error {
    fn from(e: FsError) -> io::Error {
        io::Error::new(e.source.kind(), e)
    }
}

/// The mapping of an [`io::Error`] of step `op` on `path` to an [`FsError`],
/// for `map_err`.
pub fn io_err(op: &'static str, path: &Path) -> impl FnOnce(io::Error) -> FsError + use<> {
    let path = path.to_path_buf();
    move |source| FsError { op, path, source }
}

/// Who may read a file that is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Access {
    /// Readable by everyone, writable by the owner (mode 0644 on Unix,
    /// less what the umask removes).
    #[default]
    Shared,
    /// Readable and writable by the owner only (mode 0600 on Unix), set at
    /// creation, before any byte is written: for private keys.
    OwnerOnly,
}

/// A point between two steps of a write, shown to a probe (tests use it to
/// fail a write at any step and to look at the file before it is written).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// The file is created and empty.
    Created,
    /// The bytes are written and fsynced; nothing is renamed yet.
    Synced,
}

type Probe<'a> = &'a dyn Fn(Stage, &Path) -> io::Result<()>;

fn no_probe(_: Stage, _: &Path) -> io::Result<()> {
    Ok(())
}

/// Creates `path` (never an existing one: O_EXCL) with the mode of `access`.
fn create_exclusive(path: &Path, access: Access) -> Result<File, FsError> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(match access {
            Access::Shared => 0o644,
            Access::OwnerOnly => 0o600,
        });
    }
    #[cfg(not(unix))]
    let _ = access;
    opts.open(path).map_err(io_err("create", path))
}

/// `.<name>.tmp-<pid>.<n>` next to `path`.
fn temp_path_for(path: &Path) -> Result<PathBuf, FsError> {
    hidden_sibling(path, "replace", ".tmp-")
}

/// `.<name><tag><pid>.<n>` next to `path` (a temporary file, `.tmp-`, or
/// the kept old version of a replaced file, `.old-`); `op` names the
/// operation in the error when `path` names no file.
fn hidden_sibling(path: &Path, op: &'static str, tag: &str) -> Result<PathBuf, FsError> {
    let name = path.file_name().ok_or_else(|| FsError {
        op,
        path: path.to_path_buf(),
        source: io::Error::new(io::ErrorKind::InvalidInput, "not a file path"),
    })?;
    let mut sibling = OsString::from(".");
    sibling.push(name);
    sibling.push(tag);
    sibling.push(unique_temp_name());
    Ok(path.with_file_name(sibling))
}

/// How files are written: `probe` is shown every [`Stage`] (the functions
/// of this crate use [`PLAIN`], which lets every stage pass).
#[derive(Clone, Copy)]
struct Writer<'a> {
    probe: Probe<'a>,
}

const PLAIN: Writer<'static> = Writer { probe: &no_probe };

impl Writer<'_> {
    /// Writes `bytes` to the open file `f` at `path` and fsyncs it.
    fn write_and_sync(self, mut f: File, path: &Path, bytes: &[u8]) -> Result<(), FsError> {
        (self.probe)(Stage::Created, path).map_err(io_err("write", path))?;
        f.write_all(bytes).map_err(io_err("write", path))?;
        f.sync_all().map_err(io_err("fsync", path))?;
        (self.probe)(Stage::Synced, path).map_err(io_err("fsync", path))
    }

    /// See [`replace`].
    fn replace(self, path: &Path, bytes: &[u8], access: Access) -> Result<(), FsError> {
        let tmp = temp_path_for(path)?;
        // A temporary file left by an earlier process of the same id.
        let _ = fs::remove_file(&tmp);
        self.stage_and_rename(&tmp, path, bytes, access)
    }

    /// Writes and fsyncs `tmp` (a new file), renames it to `path`, fsyncs
    /// `path`'s directory; removes `tmp` if a step before the rename fails.
    fn stage_and_rename(
        self,
        tmp: &Path,
        path: &Path,
        bytes: &[u8],
        access: Access,
    ) -> Result<(), FsError> {
        let staged = create_exclusive(tmp, access)
            .and_then(|f| self.write_and_sync(f, tmp, bytes))
            .and_then(|()| fs::rename(tmp, path).map_err(io_err("rename into", path)));
        if let Err(e) = staged {
            let _ = fs::remove_file(tmp);
            return Err(e);
        }
        sync_dir(parent_of(path))
    }

    /// See [`create_new`].
    fn create_new(self, path: &Path, bytes: &[u8], access: Access) -> Result<(), FsError> {
        let f = create_exclusive(path, access)?;
        if let Err(e) = self.write_and_sync(f, path, bytes) {
            let _ = fs::remove_file(path);
            return Err(e);
        }
        sync_dir(parent_of(path))
    }
}

/// Creates or truncates `path`, writes `bytes` and fsyncs the file. Not
/// atomic by itself: for temporary files that are renamed into place
/// afterwards (then [`sync_dir`] the directories that gained an entry).
pub fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), FsError> {
    let f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(io_err("create", path))?;
    PLAIN.write_and_sync(f, path, bytes)
}

/// Fsyncs a directory, making the entries created or renamed in it durable.
/// (On systems other than Unix a directory cannot be opened as a file and
/// this does nothing.)
pub fn sync_dir(dir: &Path) -> Result<(), FsError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err("fsync directory", dir))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// The directory holding `path` (`.` for a bare file name).
fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A file name no other write of this process uses: `<pid>.<n>`.
pub fn unique_temp_name() -> String {
    format!(
        "{}.{}",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Writes `bytes` to `path` atomically and durably, the temporary file in
/// `path`'s own directory (`.<name>.tmp-<pid>.<n>`, removed if a step
/// fails). The new file has the mode of `access`.
pub fn replace(path: &Path, bytes: &[u8], access: Access) -> Result<(), FsError> {
    PLAIN.replace(path, bytes, access)
}

/// Writes `bytes` to `path` atomically but not durably: a temporary file in
/// `path`'s directory, renamed over `path`, with no fsync. For many small
/// files made durable together afterwards with [`sync_filesystem`] (one
/// flush instead of two fsyncs each); until then a crash may lose them,
/// never leave one half-written.
pub fn replace_unsynced(path: &Path, bytes: &[u8], access: Access) -> Result<(), FsError> {
    let tmp = temp_path_for(path)?;
    // A stale temporary file of the same name (another process with this
    // pid, before a crash) is removed only if it is there: not one more
    // lookup for every file.
    let created = match create_exclusive(&tmp, access) {
        Err(e) if e.already_exists() => {
            let _ = fs::remove_file(&tmp);
            create_exclusive(&tmp, access)
        }
        r => r,
    };
    let staged = created
        .and_then(|mut f| f.write_all(bytes).map_err(io_err("write", &tmp)))
        .and_then(|()| fs::rename(&tmp, path).map_err(io_err("rename into", path)));
    if staged.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    staged
}

/// Makes everything written to the file system that holds `dir` durable
/// (`syncfs(2)`): the end of a run of [`replace_unsynced`].
pub fn sync_filesystem(dir: &Path) -> Result<(), FsError> {
    let d = File::open(dir).map_err(io_err("open directory", dir))?;
    rustix::fs::syncfs(&d)
        .map_err(io::Error::from)
        .map_err(io_err("syncfs", dir))
}

/// Writes `bytes` to `path` atomically and durably, the temporary file in
/// `tmp_dir`, which must be on the same file system (a directory of
/// temporary files that the owner clears at start, see [`clear_dir`]).
pub fn replace_via(tmp_dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), FsError> {
    let tmp = tmp_dir.join(unique_temp_name());
    PLAIN.stage_and_rename(&tmp, path, bytes, Access::Shared)
}

/// Creates `path`, which must not exist (an existing file is never
/// overwritten: the error then says [`FsError::already_exists`]), writes
/// `bytes`, fsyncs the file and its directory. The mode of `access` is set
/// at creation, before any byte is written. If writing fails, the partial
/// file is removed.
pub fn create_new(path: &Path, bytes: &[u8], access: Access) -> Result<(), FsError> {
    PLAIN.create_new(path, bytes, access)
}

/// Many files replaced at once, each atomically, all made durable together
/// by [`Batch::commit`]: every file is first written as a temporary file
/// next to its target (`.<name>.tmp-<pid>.<n>`), then the file system is
/// flushed once (`syncfs(2)` on Linux; each file fsynced elsewhere), the
/// files are renamed into place, and the file system is flushed again (the
/// renames). A reader sees each file old or new, never in part; thousands
/// of files cost two flushes instead of two fsyncs each. Temporary files of
/// a batch dropped without commit are removed.
#[derive(Debug)]
pub struct Batch {
    /// A directory on the file system of every file of the batch.
    anchor: PathBuf,
    /// (temporary file, target), in the order staged.
    staged: Vec<(PathBuf, PathBuf)>,
    /// Bytes staged.
    bytes: u64,
    /// Whether [`Batch::commit`] keeps a link to each file it replaces.
    keep_replaced: bool,
    /// The links kept, for [`Batch::take_replaced`].
    replaced: Vec<PathBuf>,
}

impl Batch {
    /// An empty batch of files on the file system of the directory `anchor`.
    pub fn new(anchor: &Path) -> Batch {
        Batch {
            anchor: anchor.to_path_buf(),
            staged: Vec::new(),
            bytes: 0,
            keep_replaced: false,
            replaced: Vec::new(),
        }
    }

    /// Has [`Batch::commit`] keep, for each file it replaces, a link to the
    /// old file (`.<name>.old-<pid>.<n>` next to it) instead of freeing it
    /// in the rename: freeing a file's blocks is the slow step of replacing
    /// it on some file systems (ext4 mounted with `discard`: milliseconds a
    /// file), which the caller then does off its path with the links of
    /// [`Batch::take_replaced`]. Links not taken are removed on drop.
    pub fn keep_replaced(&mut self) {
        self.keep_replaced = true;
    }

    /// The links to the files replaced since the last call (see
    /// [`Batch::keep_replaced`]): the caller removes them.
    pub fn take_replaced(&mut self) -> Vec<PathBuf> {
        std::mem::take(&mut self.replaced)
    }

    /// Files staged and not committed yet.
    pub fn len(&self) -> usize {
        self.staged.len()
    }

    /// Whether nothing is staged.
    pub fn is_empty(&self) -> bool {
        self.staged.is_empty()
    }

    /// Bytes staged and not committed yet.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Writes `bytes` as the temporary file of `path` (whose directory must
    /// exist), to replace `path` at [`Batch::commit`].
    pub fn stage(&mut self, path: &Path, bytes: &[u8], access: Access) -> Result<(), FsError> {
        let tmp = hidden_sibling(path, "stage", ".tmp-")?;
        // A leftover of an earlier process with the same id is removed
        // only when found (not looked for first: a lookup per file).
        let created = match create_exclusive(&tmp, access) {
            Err(e) if e.source.kind() == io::ErrorKind::AlreadyExists => {
                let _ = fs::remove_file(&tmp);
                create_exclusive(&tmp, access)
            }
            other => other,
        };
        let written = created.and_then(|mut f| f.write_all(bytes).map_err(io_err("write", &tmp)));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        self.staged.push((tmp, path.to_path_buf()));
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    /// Makes the staged files durable, renames each into place, and makes
    /// the renames durable. On an error the files not renamed yet are
    /// removed and their targets keep their old contents.
    pub fn commit(&mut self) -> Result<(), FsError> {
        if self.staged.is_empty() {
            return Ok(());
        }
        self.flush()?;
        let staged = std::mem::take(&mut self.staged);
        self.bytes = 0;
        let mut renamed = Vec::with_capacity(staged.len());
        let mut rest = staged.into_iter();
        for (tmp, path) in rest.by_ref() {
            if self.keep_replaced
                && let Ok(old) = hidden_sibling(&path, "stage", ".old-")
                // No file yet (or no link possible): a plain rename.
                && fs::hard_link(&path, &old).is_ok()
            {
                self.replaced.push(old);
            }
            if let Err(e) = fs::rename(&tmp, &path) {
                let _ = fs::remove_file(&tmp);
                for (t, _) in rest {
                    let _ = fs::remove_file(&t);
                }
                return Err(FsError {
                    op: "rename into",
                    path,
                    source: e,
                });
            }
            renamed.push(path);
        }
        self.staged = Vec::new();
        let dirs: std::collections::BTreeSet<&Path> =
            renamed.iter().map(|p| parent_of(p)).collect();
        self.flush_dirs(&dirs)
    }

    /// Flushes the staged files' contents.
    fn flush(&self) -> Result<(), FsError> {
        #[cfg(target_os = "linux")]
        {
            syncfs(&self.anchor)
        }
        #[cfg(not(target_os = "linux"))]
        {
            for (tmp, _) in &self.staged {
                File::open(tmp)
                    .and_then(|f| f.sync_all())
                    .map_err(io_err("fsync", tmp))?;
            }
            Ok(())
        }
    }

    /// Flushes the directories that gained an entry.
    fn flush_dirs(&self, dirs: &std::collections::BTreeSet<&Path>) -> Result<(), FsError> {
        #[cfg(target_os = "linux")]
        {
            let _ = dirs;
            syncfs(&self.anchor)
        }
        #[cfg(not(target_os = "linux"))]
        {
            for d in dirs {
                sync_dir(d)?;
            }
            Ok(())
        }
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        for (tmp, _) in &self.staged {
            let _ = fs::remove_file(tmp);
        }
        for old in &self.replaced {
            let _ = fs::remove_file(old);
        }
    }
}

/// Flushes the file system holding `anchor` (`syncfs(2)`).
#[cfg(target_os = "linux")]
fn syncfs(anchor: &Path) -> Result<(), FsError> {
    let d = File::open(anchor).map_err(io_err("open", anchor))?;
    rustix::fs::syncfs(&d).map_err(|e| FsError {
        op: "syncfs",
        path: anchor.to_path_buf(),
        source: io::Error::from_raw_os_error(e.raw_os_error()),
    })
}

/// Creates each directory (and its parents) that does not exist yet.
pub fn create_dirs(dirs: &[&Path]) -> Result<(), FsError> {
    for d in dirs {
        fs::create_dir_all(d).map_err(io_err("create directory", d))?;
    }
    Ok(())
}

/// Sets up a data directory that one process owns at a time: creates
/// `dirs` (the directory and those below it) and takes the lock `lock_file`.
pub fn open_locked(dirs: &[&Path], lock_file: &Path) -> Result<Lock, LockError> {
    create_dirs(dirs)?;
    lock(lock_file)
}

/// Removes every file in `dir` (a directory of temporary files: what an
/// unfinished write left there is garbage).
pub fn clear_dir(dir: &Path) -> Result<(), FsError> {
    for e in fs::read_dir(dir).map_err(io_err("list", dir))? {
        let p = e.map_err(io_err("list", dir))?.path();
        fs::remove_file(&p).map_err(io_err("remove", &p))?;
    }
    Ok(())
}

/// Why [`lock`] failed.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds the lock.
    #[error("{path} is locked by another process")]
    Held {
        /// The lock file.
        path: PathBuf,
    },
    /// The lock file could not be opened or locked.
    #[error(transparent)]
    Io(#[from] FsError),
}

impl LockError {
    /// The caller's own error: `held(path)` when another process holds the
    /// lock, the [`FsError`] converted otherwise.
    pub fn or_held<E: From<FsError>>(self, held: impl FnOnce(PathBuf) -> E) -> E {
        match self {
            LockError::Held { path } => held(path),
            LockError::Io(e) => e.into(),
        }
    }
}

/// An exclusive lock on a data directory, held until dropped (or the
/// process ends, so a crash never leaves a stale lock).
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// Takes the exclusive lock of the file `path` (created if missing), without
/// waiting: [`LockError::Held`] if another process holds it.
pub fn lock(path: &Path) -> Result<Lock, LockError> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(io_err("open", path))?;
    match file.try_lock() {
        Ok(()) => Ok(Lock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(LockError::Held {
            path: path.to_path_buf(),
        }),
        Err(TryLockError::Error(e)) => Err(io_err("lock", path)(e).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_batch_replaces_every_file_at_commit_and_leaves_nothing_behind() {
        let d = tempfile::tempdir().unwrap();
        let sub = d.path().join("a");
        fs::create_dir(&sub).unwrap();
        fs::write(sub.join("x"), b"old").unwrap();
        let mut b = Batch::new(d.path());
        b.stage(&sub.join("x"), b"new", Access::Shared).unwrap();
        b.stage(&d.path().join("y"), b"why", Access::Shared)
            .unwrap();
        assert_eq!((b.len(), b.bytes()), (2, 6));
        // Before the commit the old contents are what a reader sees.
        assert_eq!(fs::read(sub.join("x")).unwrap(), b"old");
        assert!(!d.path().join("y").exists());
        b.commit().unwrap();
        assert!(b.is_empty());
        assert_eq!(fs::read(sub.join("x")).unwrap(), b"new");
        assert_eq!(fs::read(d.path().join("y")).unwrap(), b"why");
        assert_eq!(names(&sub), ["x"]);
        // Dropped without commit: the temporary files go, the targets stay.
        let mut b = Batch::new(d.path());
        b.stage(&sub.join("x"), b"never", Access::Shared).unwrap();
        drop(b);
        assert_eq!(names(&sub), ["x"]);
        assert_eq!(fs::read(sub.join("x")).unwrap(), b"new");
        // A target that cannot be replaced: the error names it, nothing is left.
        let mut b = Batch::new(d.path());
        fs::create_dir(d.path().join("dir")).unwrap();
        fs::write(d.path().join("dir/f"), b"").unwrap();
        b.stage(&d.path().join("dir"), b"not a dir", Access::Shared)
            .unwrap();
        b.stage(&d.path().join("z"), b"z", Access::Shared).unwrap();
        let e = b.commit().unwrap_err();
        assert!(e.to_string().contains("dir"), "{e}");
        assert_eq!(names(d.path()), ["a", "dir", "y"]);
    }

    fn fail_at(stage: Stage) -> impl Fn(Stage, &Path) -> io::Result<()> {
        move |s, _| {
            if s == stage {
                Err(io::Error::other("disk failed"))
            } else {
                Ok(())
            }
        }
    }

    #[test]
    fn replace_writes_new_and_replaces_old() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("file");
        replace(&p, b"one", Access::Shared).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"one");
        replace(&p, b"two", Access::Shared).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(names(d.path()), ["file"]);
    }

    #[test]
    fn failed_replace_keeps_old_file_and_leaves_no_temp() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("file");
        replace(&p, b"old", Access::Shared).unwrap();
        for stage in [Stage::Created, Stage::Synced] {
            let e = Writer {
                probe: &fail_at(stage),
            }
            .replace(&p, b"new", Access::Shared)
            .unwrap_err();
            assert!(e.to_string().contains("disk failed"), "{e}");
            assert_eq!(fs::read(&p).unwrap(), b"old");
            assert_eq!(names(d.path()), ["file"]);
        }
    }

    #[test]
    fn failed_rename_keeps_old_and_names_step() {
        let d = tempfile::tempdir().unwrap();
        // A non-empty directory cannot be replaced by a file.
        let p = d.path().join("taken");
        fs::create_dir(&p).unwrap();
        fs::write(p.join("inside"), b"x").unwrap();
        let e = replace(&p, b"new", Access::Shared).unwrap_err();
        assert_eq!(e.op, "rename into");
        assert_eq!(e.path, p);
        assert!(e.to_string().contains(&*p.to_string_lossy()), "{e}");
        assert_eq!(names(d.path()), ["taken"]);
        assert_eq!(fs::read(p.join("inside")).unwrap(), b"x");
    }

    #[test]
    fn replace_in_missing_directory_names_the_path() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("missing").join("file");
        let e = replace(&p, b"x", Access::Shared).unwrap_err();
        assert_eq!(e.op, "create");
        assert!(e.to_string().starts_with("create "), "{e}");
        assert_eq!(names(d.path()), Vec::<String>::new());
    }

    #[test]
    fn replace_via_stages_in_tmp_dir() {
        let d = tempfile::tempdir().unwrap();
        let tmp = d.path().join("tmp");
        let dest = d.path().join("state");
        create_dirs(&[&tmp, &dest]).unwrap();
        let p = dest.join("f");
        replace_via(&tmp, &p, b"a").unwrap();
        replace_via(&tmp, &p, b"b").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"b");
        assert!(names(&tmp).is_empty());
        assert_eq!(names(&dest), ["f"]);
    }

    #[test]
    fn create_new_never_overwrites() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("key");
        create_new(&p, b"first", Access::Shared).unwrap();
        let e = create_new(&p, b"second", Access::Shared).unwrap_err();
        assert!(e.already_exists());
        assert_eq!(e.op, "create");
        assert_eq!(fs::read(&p).unwrap(), b"first");
    }

    #[test]
    fn failed_create_new_removes_partial_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("receipt");
        let e = Writer {
            probe: &fail_at(Stage::Synced),
        }
        .create_new(&p, b"x", Access::Shared)
        .unwrap_err();
        assert_eq!(e.op, "fsync");
        assert!(names(d.path()).is_empty());
    }

    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt as _;
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    /// At the moment the file exists but holds no byte yet, it is already
    /// owner-only.
    #[cfg(unix)]
    #[test]
    fn owner_only_mode_is_set_before_any_byte() {
        let d = tempfile::tempdir().unwrap();
        let check = |s: Stage, p: &Path| {
            if s == Stage::Created {
                assert_eq!(mode(p), 0o600, "{}", p.display());
                assert_eq!(fs::metadata(p).unwrap().len(), 0);
            }
            Ok(())
        };
        let key = d.path().join("key");
        Writer { probe: &check }
            .create_new(&key, b"secret", Access::OwnerOnly)
            .unwrap();
        assert_eq!(mode(&key), 0o600);
        // Replacing a world-readable file yields an owner-only one.
        let other = d.path().join("other");
        fs::write(&other, b"public").unwrap();
        assert_ne!(mode(&other), 0o600);
        Writer { probe: &check }
            .replace(&other, b"secret", Access::OwnerOnly)
            .unwrap();
        assert_eq!(mode(&other), 0o600);
        assert_eq!(fs::read(&other).unwrap(), b"secret");
    }

    #[test]
    fn write_synced_truncates() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("t");
        write_synced(&p, b"longer").unwrap();
        write_synced(&p, b"s").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"s");
        sync_dir(d.path()).unwrap();
        let e = sync_dir(&d.path().join("none")).unwrap_err();
        assert!(e.to_string().starts_with("fsync directory"), "{e}");
    }

    #[test]
    fn lock_is_exclusive_until_dropped() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("lock");
        let held = lock(&p).unwrap();
        match lock(&p) {
            Err(LockError::Held { path }) => assert_eq!(path, p),
            other => panic!("expected Held, got {other:?}"),
        }
        drop(held);
        lock(&p).unwrap();
    }

    #[test]
    fn batch_keeps_the_replaced_files_for_the_caller() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("page.html");
        std::fs::write(&f, b"old").unwrap();
        let mut b = Batch::new(d.path());
        b.keep_replaced();
        b.stage(&f, b"new", Access::Shared).unwrap();
        b.stage(&d.path().join("other.html"), b"first", Access::Shared)
            .unwrap();
        b.commit().unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"new");
        let old = b.take_replaced();
        assert_eq!(old.len(), 1, "only the file that existed: {old:?}");
        assert_eq!(std::fs::read(&old[0]).unwrap(), b"old");
        assert!(b.take_replaced().is_empty());
        std::fs::remove_file(&old[0]).unwrap();
        // Links not taken are removed on drop.
        b.stage(&f, b"newer", Access::Shared).unwrap();
        b.commit().unwrap();
        drop(b);
        let names: Vec<_> = std::fs::read_dir(d.path()).unwrap().collect();
        assert_eq!(names.len(), 2);
    }

    #[test]
    fn clear_dir_removes_files() {
        let d = tempfile::tempdir().unwrap();
        let tmp = d.path().join("a").join("tmp");
        create_dirs(&[&tmp]).unwrap();
        fs::write(tmp.join("1.0"), b"x").unwrap();
        fs::write(tmp.join("1.1"), b"y").unwrap();
        clear_dir(&tmp).unwrap();
        assert!(names(&tmp).is_empty());
    }
}
