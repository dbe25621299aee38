//! What a log in object storage reads back from its own store
//! (`tallyboard_core::store_objects`, spec/server.md §5a): the sequencer
//! state object (holder, beat, checkpoint note) and a batch's staging
//! object (length-prefixed entries). Both come from a bucket another
//! party may have written to.
//!
//! Asserts: an accepted state is within the cap, has a holder that may be
//! written, and encodes back to exactly the input; no strict prefix of an
//! accepted state that cuts its header is accepted; a state built from
//! arbitrary fields parses back to the same fields exactly when its holder
//! is valid, its note is not empty and it fits the cap. An accepted
//! staging object encodes back to exactly the input, no prefix of it that
//! cuts an entry is accepted, and arbitrary non-empty entries round-trip.
//!
//! The listings and conditional-write answers of the store (S3's XML, the
//! 412 of a failed `If-Match`) are parsed by the `object_store` crate, not
//! by tallyboard: they have no target here.
#![no_main]

use libfuzzer_sys::arbitrary::{Arbitrary, Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use tallyboard_core::store_objects::{
    MAX_STATE, StateRecord, decode_staging, encode_staging,
};

fuzz_target!(|data: &[u8]| {
    state(data);
    staging(data);
    let mut u = Unstructured::new(data);
    let _ = built_state(&mut u);
    let _ = built_staging(&mut u);
});

fn state(data: &[u8]) {
    let Ok(r) = StateRecord::parse(data) else {
        return;
    };
    assert!(data.len() <= MAX_STATE);
    assert!(StateRecord::valid_holder(&r.holder));
    assert!(!r.note.is_empty());
    assert_eq!(r.to_bytes(), data, "one encoding per state");
    let header = data.len() - r.note.len();
    for cut in 0..header {
        assert!(
            StateRecord::parse(&data[..cut]).is_err(),
            "a state cut at {cut} of its {header}-byte header was accepted"
        );
    }
}

fn staging(data: &[u8]) {
    let Some(entries) = decode_staging(data) else {
        return;
    };
    let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
    assert_eq!(
        encode_staging(&refs).as_deref(),
        Some(data),
        "one encoding per staging object"
    );
    // Every cut inside an entry (not at an entry boundary) is refused.
    let mut boundaries = vec![0usize];
    for e in &entries {
        boundaries.push(boundaries[boundaries.len() - 1] + 2 + e.len());
    }
    for cut in 0..data.len() {
        if !boundaries.contains(&cut) {
            assert!(
                decode_staging(&data[..cut]).is_none(),
                "a staging object cut at {cut} was accepted"
            );
        }
    }
}

fn built_state(u: &mut Unstructured<'_>) -> Result<()> {
    let r = StateRecord {
        holder: String::arbitrary(u)?,
        beat: u64::arbitrary(u)?,
        note: Vec::<u8>::arbitrary(u)?,
    };
    let bytes = r.to_bytes();
    let fits = StateRecord::valid_holder(&r.holder)
        && !r.note.is_empty()
        && bytes.len() <= MAX_STATE;
    match StateRecord::parse(&bytes) {
        Ok(back) => {
            assert!(fits, "accepted a state that breaks a rule: {r:?}");
            assert_eq!(back, r);
        }
        Err(e) => assert!(!fits, "refused a valid state ({e}): {r:?}"),
    }
    Ok(())
}

fn built_staging(u: &mut Unstructured<'_>) -> Result<()> {
    let entries = Vec::<Vec<u8>>::arbitrary(u)?;
    let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
    let valid = entries.iter().all(|e| !e.is_empty() && e.len() <= 65_535);
    match encode_staging(&refs) {
        Some(b) => {
            assert!(valid);
            assert_eq!(decode_staging(&b), Some(entries));
        }
        None => assert!(!valid),
    }
    Ok(())
}
