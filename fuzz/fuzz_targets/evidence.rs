//! `Evidence::from_json` and `evidence::check` on arbitrary bytes (the
//! evidence files of spec/verify.md §3, which anyone may be handed).
//!
//! Asserts: parsing never panics and respects the size cap; an accepted
//! file re-encodes to JSON that parses back to the same evidence, with the
//! same file name; checking it against the example log key never panics,
//! gives the same answer twice, and a proof names the evidence's own code.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tallyboard_core::note::VerifierKey;
use tallyboard_verify::evidence::{Evidence, MAX_EVIDENCE, check};

/// The example log key of keys-example/ (the evidence vectors use it).
const LOG_KEY: &str = "log.example.invalid/EXAMPLE-ONLY-2026-municipal+bc191952+AaPCE0R5dEWbNtCc3r6eW/yJ0b4NCZpKKKie/ROCFCqb";

fuzz_target!(|data: &[u8]| {
    let Ok(ev) = Evidence::from_json(data) else {
        return;
    };
    assert!(data.len() <= MAX_EVIDENCE);
    let again = Evidence::from_json(&ev.to_json()).expect("re-encoded evidence parses");
    assert_eq!(again, ev);
    assert_eq!(again.file_name(), ev.file_name());
    let key = VerifierKey::parse(LOG_KEY).expect("example log key");
    let first = check(&ev, &key);
    assert_eq!(first, check(&again, &key));
    if let Ok(p) = first {
        assert_eq!(p.code, ev.code());
    }
});
