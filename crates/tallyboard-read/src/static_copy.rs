//! The files of a static copy (`public/`) besides the log's own: the
//! signed manifest (`public/manifest`) and the signed totals
//! (`public/totals`), the same bytes the read API serves at `/manifest`
//! and `/totals`, so that any static web server can serve `public/` as a
//! complete copy.

use std::path::Path;

use tallyboard_fs::{Access, FsError};
use tallyboard_http::path;

/// Writes `bytes` as `public/<name>` atomically and durably: a reader sees
/// the old file or the new one, and the new one survives a crash once this
/// returns.
fn write_atomic(public: &Path, name: &str, bytes: &[u8]) -> Result<(), FsError> {
    tallyboard_fs::replace(&public.join(name), bytes, Access::Shared)
}

/// Writes the signed manifest as `public/manifest`, unless it holds these
/// bytes already.
pub fn write_manifest(public: &Path, signed: &[u8]) -> Result<(), FsError> {
    let name = path::relative(path::MANIFEST);
    if std::fs::read(public.join(name)).ok().as_deref() == Some(signed) {
        return Ok(());
    }
    write_atomic(public, name, signed)
}

/// Writes signed totals as `public/totals`.
pub fn write_totals(public: &Path, signed: &[u8]) -> Result<(), FsError> {
    write_atomic(public, path::relative(path::TOTALS), signed)
}

/// Writes the authority's signed certification as `public/certification`.
pub fn write_certification(public: &Path, signed: &[u8]) -> Result<(), FsError> {
    write_atomic(public, path::relative(path::CERTIFICATION), signed)
}

/// The bytes of `public/certification`, if the file is there (at most
/// `MAX_SIGNED_CERTIFICATION` bytes; the caller checks them).
pub fn read_certification(public: &Path) -> Option<Vec<u8>> {
    use std::io::Read as _;
    let cap = tallyboard_core::limits::MAX_SIGNED_CERTIFICATION;
    let f = std::fs::File::open(public.join(path::relative(path::CERTIFICATION))).ok()?;
    let mut bytes = Vec::new();
    f.take(cap as u64 + 1).read_to_end(&mut bytes).ok()?;
    (bytes.len() <= cap).then_some(bytes)
}

/// The signed totals of `public/totals`, if the file is there.
pub fn read_totals(public: &Path) -> Option<Vec<u8>> {
    use std::io::Read as _;
    let cap = tallyboard_core::limits::MAX_SIGNED_TOTALS;
    let f = std::fs::File::open(public.join(path::relative(path::TOTALS))).ok()?;
    let mut bytes = Vec::new();
    f.take(cap as u64 + 1).read_to_end(&mut bytes).ok()?;
    (bytes.len() <= cap).then_some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_replaced_whole() {
        let d = tempfile::tempdir().unwrap();
        write_manifest(d.path(), b"m1").unwrap();
        write_totals(d.path(), b"t1").unwrap();
        write_totals(d.path(), b"t2").unwrap();
        assert_eq!(std::fs::read(d.path().join("manifest")).unwrap(), b"m1");
        assert_eq!(read_totals(d.path()).unwrap(), b"t2");
        let names: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
    }
}
