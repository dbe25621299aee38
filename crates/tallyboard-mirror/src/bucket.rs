//! A mirror's copy in object storage (`tallyboard mirror --storage
//! s3://BUCKET/PREFIX`): after every sync, what changed in the verified
//! copy (`public/` of the data directory: tiles, entry bundles, manifest,
//! totals, results exports, pages, search index, certification, evidence)
//! is written to the bucket, so that the bucket alone, behind any web
//! server or CDN, is a complete static copy of the log.
//!
//! Only the verified copy is written: `public/` holds nothing the mirror
//! has not checked, and the copy is taken while the mirror holds its sync
//! lock (no checkpoint is published meanwhile). Tiles, entry bundles and
//! evidence files never change: they are written create-only (an existing
//! object with other bytes stops the copy with an error naming it). Pages
//! and the other static files are overwritten. The checkpoint is read
//! first and written last, so that every object it covers is in the bucket
//! before a reader of the bucket can see it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use tallyboard_log::{LogError, ObjectStorage};

/// Files read and written at once (bounds memory).
const CHUNK: usize = 512;

/// Largest file copied (the results exports of a national election are the
/// largest files of a copy).
const MAX_FILE: u64 = 256 << 20;

/// What identifies a file's version on disk: its length and modification
/// time (every file of `public/` is replaced by rename, never edited).
type Stamp = (u64, SystemTime);

/// The bucket a mirror copies its verified copy to, and what it copied.
#[derive(Debug)]
pub(crate) struct Replica {
    storage: Arc<ObjectStorage>,
    copied: Mutex<HashMap<String, Stamp>>,
}

/// Why a copy to the bucket failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReplicaError {
    #[error("reading {path} of the verified copy: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} of the verified copy is larger than {MAX_FILE} bytes")]
    TooLarge { path: String },
    #[error(transparent)]
    Store(#[from] LogError),
}

/// What a copy wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Copied {
    /// Objects written create-only (tiles, bundles, evidence).
    pub(crate) created: usize,
    /// Objects overwritten (pages and the other static files).
    pub(crate) replaced: usize,
}

/// Whether `rel` never changes once written.
fn immutable(rel: &str) -> bool {
    rel.starts_with("tile/") || rel.starts_with("evidence/")
}

impl Replica {
    pub(crate) fn new(storage: Arc<ObjectStorage>) -> Replica {
        Replica {
            storage,
            copied: Mutex::new(HashMap::new()),
        }
    }

    /// The bucket's URL, for messages.
    pub(crate) fn url(&self) -> &str {
        self.storage.base_url()
    }

    /// Copies to the bucket every file of `public` that changed since the
    /// last copy (all of them at the first copy of a process), the
    /// checkpoint last. Blocking.
    pub(crate) fn copy(&self, public: &Path) -> Result<Copied, ReplicaError> {
        let mut copied = self.copied.lock().unwrap_or_else(PoisonError::into_inner);
        // The checkpoint first: everything it covers is on disk already
        // (tiles are durable before the checkpoint is replaced).
        let cp_path = public.join("checkpoint");
        let checkpoint = match std::fs::metadata(&cp_path) {
            Ok(m) => Some((stamp(&m), read(&cp_path, "checkpoint")?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(ReplicaError::Read {
                    path: "checkpoint".into(),
                    source,
                });
            }
        };
        let mut files = Vec::new();
        walk(public, "", &mut files)?;
        let changed: Vec<(String, Stamp)> = files
            .into_iter()
            .filter(|(rel, s)| rel != "checkpoint" && copied.get(rel) != Some(s))
            .collect();
        let mut out = Copied::default();
        for chunk in changed.chunks(CHUNK) {
            let (mut create, mut replace) = (Vec::new(), Vec::new());
            for (rel, _) in chunk {
                let bytes = read(&public.join(rel), rel)?;
                if immutable(rel) {
                    create.push((rel.clone(), bytes));
                } else {
                    replace.push((rel.clone(), bytes));
                }
            }
            out.created += create.len();
            out.replaced += replace.len();
            self.storage.create_all(&create)?;
            self.storage.put_all(replace)?;
            for (rel, s) in chunk {
                copied.insert(rel.clone(), *s);
            }
        }
        if let Some((s, bytes)) = checkpoint
            && copied.get("checkpoint") != Some(&s)
        {
            self.storage.put("checkpoint", bytes)?;
            copied.insert("checkpoint".into(), s);
            out.replaced += 1;
        }
        Ok(out)
    }
}

fn stamp(m: &std::fs::Metadata) -> Stamp {
    (m.len(), m.modified().unwrap_or(SystemTime::UNIX_EPOCH))
}

fn read(path: &Path, rel: &str) -> Result<Vec<u8>, ReplicaError> {
    use std::io::Read as _;
    let err = |source| ReplicaError::Read {
        path: rel.to_owned(),
        source,
    };
    let f = std::fs::File::open(path).map_err(err)?;
    let mut bytes = Vec::new();
    f.take(MAX_FILE + 1).read_to_end(&mut bytes).map_err(err)?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(ReplicaError::TooLarge {
            path: rel.to_owned(),
        });
    }
    Ok(bytes)
}

/// The files under `dir` (`prefix` their path so far), skipping hidden
/// names (temporary files of an atomic replace).
fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, Stamp)>) -> Result<(), ReplicaError> {
    let err = |source| ReplicaError::Read {
        path: if prefix.is_empty() {
            ".".to_owned()
        } else {
            prefix.to_owned()
        },
        source,
    };
    for e in std::fs::read_dir(dir).map_err(err)? {
        let e = e.map_err(err)?;
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with('.') {
            continue;
        }
        let rel = if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}/{name}")
        };
        let ty = e.file_type().map_err(err)?;
        if ty.is_dir() {
            walk(&e.path(), &rel, out)?;
        } else if ty.is_file() {
            let m = e.metadata().map_err(err)?;
            out.push((rel, stamp(&m)));
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn copies_what_changed_immutable_create_only_checkpoint_last() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        std::fs::create_dir_all(p.join("tile/0")).unwrap();
        std::fs::create_dir_all(p.join(".tmp")).unwrap();
        std::fs::write(p.join("tile/0/000"), b"tile").unwrap();
        std::fs::write(p.join("index.html"), b"<p>1").unwrap();
        std::fs::write(p.join("checkpoint"), b"cp 1").unwrap();
        std::fs::write(p.join(".tmp/x"), b"half").unwrap();
        let store = Arc::new(ObjectStorage::from_url("memory://m/copy").unwrap());
        let r = Replica::new(store.clone());
        assert_eq!(
            r.copy(p).unwrap(),
            Copied {
                created: 1,
                replaced: 2
            }
        );
        assert_eq!(r.copy(p).unwrap(), Copied::default());
        let storage = tallyboard_log::Storage::Object(store.clone());
        assert_eq!(storage.read("checkpoint", 100).unwrap().unwrap(), b"cp 1");
        assert!(storage.read(".tmp/x", 100).unwrap().is_none());
        // A page that changed is overwritten; a tile that changed is a
        // conflict, named.
        std::thread::sleep(std::time::Duration::from_millis(10));
        std::fs::write(p.join("index.html"), b"<p>22").unwrap();
        assert_eq!(r.copy(p).unwrap().replaced, 1);
        assert_eq!(storage.read("index.html", 100).unwrap().unwrap(), b"<p>22");
        let r2 = Replica::new(store);
        std::fs::write(p.join("tile/0/000"), b"other").unwrap();
        let e = r2.copy(p).unwrap_err().to_string();
        assert!(e.contains("tile/0/000"), "{e}");
    }
}
