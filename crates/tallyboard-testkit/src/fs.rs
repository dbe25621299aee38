//! Directories: copy a tree, list its files.

use std::collections::BTreeMap;
use std::path::Path;

/// Copies a directory tree (a log's or a mirror's data, to alter the copy;
/// a data directory's copy is unlocked).
pub fn copy_dir(from: &Path, to: &Path) {
    tallyboard_exercise::procs::copy_tree(from, to)
        .unwrap_or_else(|e| panic!("copying {} to {}: {e}", from.display(), to.display()));
}

/// Replaces the contents of `dir` with a copy of `from`.
pub fn replace_dir(from: &Path, dir: &Path) {
    if dir.exists() {
        std::fs::remove_dir_all(dir).unwrap();
    }
    copy_dir(from, dir);
}

/// Every file under `dir`: relative path (with `/`) → bytes.
pub fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let paths = tallyboard_exercise::procs::files_under(dir)
        .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()));
    paths
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let bytes = std::fs::read(&p).unwrap();
            (rel, bytes)
        })
        .collect()
}
