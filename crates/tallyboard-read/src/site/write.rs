//! Writing the site's files into `public/`: each file atomically (a reader
//! sees the old page or the new one, never half of one) and only when its
//! contents changed; durably in batches (`tallyboard-fs`'s [`Batch`]: one
//! flush of the file system for up to [`BATCH_FILES`] files, not an fsync
//! per file). [`SiteWriter::flush`] commits what is staged; dropping the
//! writer commits too. A log in object storage gets its pages in the same
//! bucket ([`SiteWriter::for_storage`]): each object overwritten whole (a
//! reader sees the old page or the new one), several at a time.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tallyboard_core::hash::Hash;
use tallyboard_fs::{Access, Batch, FsError};
use tallyboard_log::{ObjectStorage, Storage};

/// Files staged before a batch is committed on its own.
pub const BATCH_FILES: usize = 4096;

/// What a round of writing did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Files written (new or changed).
    pub written: usize,
    /// Files left as they were (same contents).
    pub unchanged: usize,
    /// Bytes written.
    pub bytes: u64,
}

impl Written {
    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: Written) {
        self.written += other.written;
        self.unchanged += other.unchanged;
        self.bytes += other.bytes;
    }
}

/// Writes files under `public/`, skipping those whose contents are
/// already there.
#[derive(Debug)]
pub struct SiteWriter {
    public: PathBuf,
    /// SHA-256 of what the pages rewritten at every round (front, regions,
    /// search, assets) last held: they are compared here, not re-read.
    memo: HashMap<String, Hash>,
    /// Directories known to exist (created or found by this writer): not
    /// looked up again for every file.
    dirs: HashSet<PathBuf>,
    written: Written,
    target: Target,
    /// The thread removing the old versions of the files replaced (see
    /// [`Batch::keep_replaced`]), and the channel to it.
    remover: Option<(
        std::sync::mpsc::Sender<Vec<PathBuf>>,
        std::thread::JoinHandle<()>,
    )>,
}

/// Where the files go.
#[derive(Debug)]
enum Target {
    /// `public/` on disk, in durable batches.
    Dir(Batch),
    /// A prefix in object storage: the objects staged, written at flush.
    /// Every file's hash is kept in the memo (objects are not re-read).
    Object(Arc<ObjectStorage>, Vec<(String, Vec<u8>)>),
}

impl SiteWriter {
    /// A writer into `public`.
    pub fn new(public: &Path) -> SiteWriter {
        let mut batch = Batch::new(public);
        // The old versions of replaced pages are freed on another thread.
        let (tx, rx) = std::sync::mpsc::channel::<Vec<PathBuf>>();
        let swept = public.to_path_buf();
        let remover = std::thread::Builder::new()
            .name("site-remover".into())
            .spawn(move || {
                super::run_in_background();
                // Old versions a crashed writer left behind first.
                remove_stale_replaced(&swept, 0);
                for list in rx {
                    for p in list {
                        let _ = std::fs::remove_file(p);
                    }
                }
            })
            .ok();
        if remover.is_some() {
            batch.keep_replaced();
        }
        SiteWriter {
            public: public.to_path_buf(),
            memo: HashMap::new(),
            dirs: HashSet::new(),
            written: Written::default(),
            target: Target::Dir(batch),
            remover: remover.map(|h| (tx, h)),
        }
    }

    /// A writer into where `storage` keeps the log's public files: its
    /// `public/` directory, or its prefix in object storage.
    pub fn for_storage(storage: &Storage) -> SiteWriter {
        match storage {
            Storage::Dir(d) => SiteWriter::new(d),
            Storage::Object(o) => SiteWriter {
                public: PathBuf::new(),
                memo: HashMap::new(),
                dirs: HashSet::new(),
                written: Written::default(),
                remover: None,
                target: Target::Object(o.clone(), Vec::new()),
            },
        }
    }

    /// Commits the files staged: durable and in place once this returns.
    pub fn flush(&mut self) -> Result<(), FsError> {
        let r = match &mut self.target {
            Target::Dir(batch) => {
                let r = batch.commit();
                let old = batch.take_replaced();
                if let Some((tx, _)) = &self.remover
                    && !old.is_empty()
                    && let Err(e) = tx.send(old)
                {
                    for p in e.0 {
                        let _ = std::fs::remove_file(p);
                    }
                }
                r
            }
            Target::Object(store, staged) => {
                store.put_all(std::mem::take(staged)).map_err(|e| FsError {
                    op: "write to object storage",
                    path: PathBuf::from(store.base_url()),
                    source: std::io::Error::other(e.to_string()),
                })
            }
        };
        if r.is_err() {
            // What the memo says was written may not be: compare anew
            // (and look for the directories again).
            self.memo.clear();
            self.dirs.clear();
        }
        r
    }

    /// What was written since the last [`SiteWriter::take_counts`].
    pub fn take_counts(&mut self) -> Written {
        std::mem::take(&mut self.written)
    }

    /// Writes `bytes` as `public/<rel>` unless it holds them already.
    /// With `memo` the contents' hash is kept (for the few files rewritten
    /// at every round); otherwise the file on disk is compared (a unit's
    /// files, rendered only when the unit changed).
    pub fn put(&mut self, rel: &str, bytes: &[u8], memo: bool) -> Result<bool, FsError> {
        let path = self.public.join(rel);
        let object = matches!(self.target, Target::Object(..));
        let hash = (memo || object).then(|| Hash::sha256(bytes));
        let same = match (&hash, self.memo.get(rel)) {
            (Some(h), Some(old)) => h == old,
            _ if object => false,
            _ => file_holds(&path, bytes),
        };
        if same {
            if let Some(h) = hash {
                self.memo.insert(rel.to_owned(), h);
            }
            self.written.unchanged += 1;
            return Ok(false);
        }
        let staged = match &mut self.target {
            Target::Dir(batch) => {
                if let Some(dir) = path.parent()
                    && !self.dirs.contains(dir)
                {
                    tallyboard_fs::create_dirs(&[dir])?;
                    self.dirs.insert(dir.to_path_buf());
                }
                if let Err(e) = batch.stage(&path, bytes, Access::Shared) {
                    self.dirs.clear();
                    return Err(e);
                }
                batch.len()
            }
            Target::Object(_, staged) => {
                staged.push((rel.to_owned(), bytes.to_vec()));
                staged.len()
            }
        };
        if let Some(h) = hash {
            self.memo.insert(rel.to_owned(), h);
        }
        self.written.written += 1;
        self.written.bytes += bytes.len() as u64;
        if staged >= BATCH_FILES {
            self.flush()?;
        }
        Ok(true)
    }
}

impl Drop for SiteWriter {
    fn drop(&mut self) {
        let _ = self.flush();
        // Every old version removed before the writer is gone.
        if let Some((tx, h)) = self.remover.take() {
            drop(tx);
            let _ = h.join();
        }
    }
}

/// Removes, under `dir`, the old versions of replaced pages
/// (`.<name>.old-<pid>.<n>`, kept by [`Batch::keep_replaced`]) that a writer
/// of another process left when it stopped before freeing them: they would
/// otherwise stay in `public/` and be served. The log's tiles (`tile/` at
/// the top) hold no pages and are not walked; this process's own are left
/// to it. Errors are ignored: what cannot be removed stays, as before.
fn remove_stale_replaced(dir: &Path, depth: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let own = format!(".old-{}.", std::process::id());
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let Ok(kind) = e.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if !(depth == 0 && name == "tile") && depth < 8 {
                remove_stale_replaced(&e.path(), depth + 1);
            }
        } else if kind.is_file()
            && name.starts_with('.')
            && name.contains(".old-")
            && !name.contains(&own)
        {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Whether the file at `path` holds exactly `bytes`.
fn file_holds(path: &Path, bytes: &[u8]) -> bool {
    match std::fs::metadata(path) {
        Ok(m) if m.len() == bytes.len() as u64 => {}
        _ => return false,
    }
    std::fs::read(path).is_ok_and(|old| old == bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_versions_left_by_a_stopped_writer_are_removed_at_start() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        std::fs::create_dir_all(p.join("units/U1")).unwrap();
        std::fs::create_dir_all(p.join("tile/0")).unwrap();
        let other = "old-4194305.7";
        let own = format!("old-{}.9", std::process::id());
        let stale = [
            format!(".index.html.{other}"),
            format!("units/U1/.index.html.{other}"),
        ];
        let kept = [
            "units/U1/index.html".to_owned(),
            format!("tile/0/.000.{other}"),
            format!("units/U1/.index.html.{own}"),
            format!("units/U1/index.html.{other}"),
        ];
        for f in stale.iter().chain(&kept) {
            std::fs::write(p.join(f), b"x").unwrap();
        }
        drop(SiteWriter::new(p));
        for f in &stale {
            assert!(!p.join(f).exists(), "{f} left");
        }
        for f in &kept {
            assert!(p.join(f).exists(), "{f} removed");
        }
    }

    #[test]
    fn writes_only_what_changed() {
        let d = tempfile::tempdir().unwrap();
        let mut w = SiteWriter::new(d.path());
        assert!(w.put("a/b/index.html", b"one", false).unwrap());
        w.flush().unwrap();
        assert!(!w.put("a/b/index.html", b"one", false).unwrap());
        assert!(w.put("a/b/index.html", b"two", false).unwrap());
        assert!(w.put("index.html", b"x", true).unwrap());
        assert!(!w.put("index.html", b"x", true).unwrap());
        w.flush().unwrap();
        assert_eq!(
            std::fs::read(d.path().join("a/b/index.html")).unwrap(),
            b"two"
        );
        let c = w.take_counts();
        assert_eq!((c.written, c.unchanged), (3, 2));
        drop(w);
        // A second writer (a restart) finds the files as they are.
        let mut w2 = SiteWriter::new(d.path());
        assert!(!w2.put("index.html", b"x", true).unwrap());
        let names: Vec<_> = std::fs::read_dir(d.path().join("a/b"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
    }
}
