//! Immutable files kept in memory: the full tiles and entry bundles of a
//! log never change once published, so a server answers repeated reads of
//! them from memory instead of the disk (a thread hand-off, an open, a read
//! and a close each time). Bounded: when the cap would be passed, the
//! kept files are dropped and the cache fills again with what is read.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use axum::body::Bytes;

/// Default cap on the bytes kept: 64 MiB.
pub const DEFAULT_HOT_BYTES: usize = 64 << 20;

/// Immutable files by path, at most a capped number of bytes in all.
#[derive(Debug)]
pub struct HotFiles {
    cap: usize,
    kept: RwLock<Kept>,
}

#[derive(Debug, Default)]
struct Kept {
    files: HashMap<String, Bytes>,
    bytes: usize,
}

impl Default for HotFiles {
    fn default() -> HotFiles {
        HotFiles::new(DEFAULT_HOT_BYTES)
    }
}

impl HotFiles {
    /// An empty cache keeping at most `cap` bytes.
    pub fn new(cap: usize) -> HotFiles {
        HotFiles {
            cap,
            kept: RwLock::new(Kept::default()),
        }
    }

    /// The bytes kept for `path`, if any.
    pub fn get(&self, path: &str) -> Option<Bytes> {
        self.kept
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .files
            .get(path)
            .cloned()
    }

    /// Keeps `bytes` as the content of `path`, which must never change.
    /// A file larger than the cap is not kept.
    pub fn insert(&self, path: &str, bytes: Bytes) {
        if bytes.len() > self.cap {
            return;
        }
        let mut k = self.kept.write().unwrap_or_else(PoisonError::into_inner);
        if k.files.contains_key(path) {
            return;
        }
        if k.bytes + bytes.len() > self.cap {
            k.files.clear();
            k.bytes = 0;
        }
        k.bytes += bytes.len();
        k.files.insert(path.to_owned(), bytes);
    }

    /// Bytes kept now.
    pub fn len_bytes(&self) -> usize {
        self.kept
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_kept_up_to_the_cap() {
        let h = HotFiles::new(10);
        assert_eq!(h.get("a"), None);
        h.insert("a", Bytes::from_static(b"12345"));
        h.insert("b", Bytes::from_static(b"1234"));
        assert_eq!(h.get("a").as_deref(), Some(&b"12345"[..]));
        assert_eq!(h.len_bytes(), 9);
        // Over the cap: what was kept goes, the new file stays.
        h.insert("c", Bytes::from_static(b"123"));
        assert_eq!(h.get("a"), None);
        assert_eq!(h.get("c").as_deref(), Some(&b"123"[..]));
        assert_eq!(h.len_bytes(), 3);
        // Larger than the cap: never kept.
        h.insert("d", Bytes::from_static(b"12345678901"));
        assert_eq!(h.get("d"), None);
        assert_eq!(h.len_bytes(), 3);
    }
}
