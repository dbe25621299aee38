//! The files of a static copy (`public/`) besides the log's own: the
//! signed manifest (`public/manifest`) and the signed totals
//! (`public/totals`), the same bytes the read API serves at `/manifest`
//! and `/totals`, so that any static web server can serve `public/` as a
//! complete copy; and the results derived from the totals
//! (`spec/results.md`): `results.json`, `results.csv`, `results.err.json`
//! and `totals.json`.

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

/// Writes `bytes` as `public/<name>` unless the file holds them already.
fn write_if_changed(public: &Path, name: &str, bytes: &[u8]) -> Result<bool, FsError> {
    if std::fs::read(public.join(name)).ok().as_deref() == Some(bytes) {
        return Ok(false);
    }
    write_atomic(public, name, bytes).map(|()| true)
}

/// The results files of a static copy, derived from the signed totals.
pub const RESULTS_FILES: [&str; 4] = [
    "results.json",
    "results.csv",
    "results.err.json",
    "totals.json",
];

/// The bytes of the results files ([`RESULTS_FILES`], in that order) of
/// `signed` totals (already verified: the server's own, or a mirror's
/// checked copy) under `manifest`: the results JSON, the region-level CSV,
/// the summary-level NIST ERR JSON and the JSON rendering of the signed
/// totals. `checkpoint_note` is the signed checkpoint the totals are bound
/// to; `as_of` the latest time of count. `None` when the totals do not fit
/// the manifest.
pub fn results_files(
    manifest: &tallyboard_core::manifest::Manifest,
    signed: &tallyboard_core::totals::SignedTotals,
    checkpoint_note: &[u8],
    as_of: u64,
) -> Option<[Vec<u8>; 4]> {
    use tallyboard_results::{ExportHeader, Results, Status};
    let results = Results::compute(manifest, signed.totals(), Status::Provisional).ok()?;
    let header = ExportHeader {
        generator: format!("tallyboard {}", env!("CARGO_PKG_VERSION")),
        checkpoint_note: String::from_utf8_lossy(checkpoint_note).into_owned(),
        as_of,
        findings: std::collections::BTreeMap::new(),
    };
    Some([
        results.to_json(),
        tallyboard_results::regions_csv(&results, &header),
        tallyboard_results::err_json(manifest, &results, None, &header),
        tallyboard_results::totals_json(signed, Some(checkpoint_note)),
    ])
}

/// Writes the results files ([`results_files`]) into `public/`, each
/// atomically and durably, leaving those that did not change untouched.
/// Returns how many files were written.
pub fn write_results(public: &Path, files: &[Vec<u8>; 4]) -> Result<usize, FsError> {
    let mut n = 0;
    for (name, bytes) in RESULTS_FILES.iter().zip(files) {
        n += usize::from(write_if_changed(public, name, bytes)?);
    }
    Ok(n)
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
