//! A published results JSON (`results.json`, spec/results.md) checked
//! against computed results, as the browser checks a site's download
//! (`tallyboard_results::compare_json`).
//!
//! Asserts: the computed results' own JSON (pretty or compact) is accepted
//! with every figure compared; any input is accepted only when it is, as
//! JSON, exactly the computed results (agreement with a plain comparison of
//! values); a refusal lists at most the cap of differences, at least one,
//! and each names its figure, or the whole file exactly when the input is
//! not a JSON object (not JSON, too large, a number or a list); the same
//! input gives the same verdict twice.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tallyboard_core::hash::Hash;
use tallyboard_core::manifest::SignedManifest;
use tallyboard_core::totals::TotalsBuilder;
use tallyboard_results::{MAX_LISTED, Results, Status, WHOLE_FILE, compare_json};

/// The example election's results with no tally counted yet (every
/// figure, region and choice is still there).
fn expected() -> &'static (Results, serde_json::Value) {
    static R: OnceLock<(Results, serde_json::Value)> = OnceLock::new();
    R.get_or_init(|| {
        let bytes = include_bytes!("../../keys-example/manifest.signed");
        let m = SignedManifest::from_bytes(bytes, None)
            .expect("example manifest")
            .into_manifest();
        let t = TotalsBuilder::new(&m).finish(&m.log.origin, 0, Hash::EMPTY_TREE);
        let r = Results::compute(&m, &t, Status::Provisional).expect("results");
        let v = serde_json::to_value(&r).expect("json");
        (r, v)
    })
}

fuzz_target!(|data: &[u8]| {
    let (r, v) = expected();
    let own = compare_json(r, &r.to_json());
    assert!(own.ok && own.figures > 0 && own.differences.is_empty());
    let c = compare_json(r, data);
    let same = serde_json::from_slice::<serde_json::Value>(data).is_ok_and(|d| &d == v);
    assert_eq!(c.ok, same, "{c:?}");
    if !c.ok {
        assert!(c.count >= 1 && !c.differences.is_empty());
        assert!(c.differences.len() <= MAX_LISTED.min(c.count));
        // Every difference is named: a figure, or the whole file (not
        // JSON, too large, or JSON whose top level is not the results).
        assert!(c.differences.iter().all(|d| !d.figure.is_empty()));
        let object = serde_json::from_slice::<serde_json::Value>(data).is_ok_and(|d| d.is_object());
        assert_eq!(
            c.differences.iter().any(|d| d.figure == WHOLE_FILE),
            !object,
            "{c:?}"
        );
    }
    assert_eq!(compare_json(r, data), c);
});
