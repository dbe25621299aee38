//! The files of a static copy (`public/`) besides the log's own: the
//! signed manifest (`public/manifest`) and the signed totals
//! (`public/totals`), the same bytes the read API serves at `/manifest`
//! and `/totals`, so that any static web server can serve `public/` as a
//! complete copy.

use std::io::Write as _;
use std::path::Path;

use tallyboard_http::path;

/// Writes `bytes` as `public/<name>` atomically (temporary file, `fsync`,
/// rename, `fsync` of the directory): a reader sees the old file or the
/// new one, and the new one survives a crash once this returns.
fn write_atomic(public: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let file = public.join(name);
    let tmp = public.join(format!(".{name}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, &file)?;
    std::fs::File::open(public)?.sync_all()
}

/// Writes the signed manifest as `public/manifest`, unless it holds these
/// bytes already.
pub fn write_manifest(public: &Path, signed: &[u8]) -> std::io::Result<()> {
    let name = path::relative(path::MANIFEST);
    if std::fs::read(public.join(name)).ok().as_deref() == Some(signed) {
        return Ok(());
    }
    write_atomic(public, name, signed)
}

/// Writes signed totals as `public/totals`.
pub fn write_totals(public: &Path, signed: &[u8]) -> std::io::Result<()> {
    write_atomic(public, path::relative(path::TOTALS), signed)
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
