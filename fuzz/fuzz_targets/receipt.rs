//! `Receipt::parse` and `Receipt::verify` (C2SP tlog-proof) on arbitrary
//! bytes.
//!
//! Asserts: an accepted receipt re-encodes to exactly the input bytes and
//! its checkpoint note parses; verification with the vectors' log key and
//! the entry the vectors use for that index succeeds exactly when the
//! checkpoint opens and `tlog_tiles`' independent `check_record` accepts
//! the proof.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tallyboard_core::checkpoint::open_checkpoint;
use tallyboard_core::hash::leaf_hash;
use tallyboard_core::note::KeyKind;
use tallyboard_core::receipt::Receipt;
use tallyboard_fuzz::known_verifiers;

fuzz_target!(|data: &[u8]| {
    let Ok(r) = Receipt::parse(data) else {
        return;
    };
    assert_eq!(r.to_bytes(), data, "re-encoding differs");
    assert_eq!(Receipt::parse(&r.to_bytes()).as_ref(), Ok(&r));

    let entry = format!("tallyboard receipt vector entry {}", r.index);
    let leaf = leaf_hash(entry.as_bytes());
    for log in known_verifiers()
        .iter()
        .filter(|k| k.kind() == KeyKind::Ed25519)
    {
        let ours = r.verify(entry.as_bytes(), log, log.name());
        let independent = open_checkpoint(&r.checkpoint_note, log, &[], 0).is_ok_and(|o| {
            let cp = o.checkpoint;
            r.index < cp.size
                && tlog_tiles::check_record(
                    &r.proof.iter().map(|h| tlog_tiles::Hash(h.0)).collect(),
                    cp.size,
                    tlog_tiles::Hash(cp.root.0),
                    r.index,
                    tlog_tiles::Hash(leaf.0),
                )
                .is_ok()
        });
        assert_eq!(ours.is_ok(), independent, "verdicts differ: {ours:?}");
        if let Ok(v) = ours {
            assert_eq!(v.index, r.index);
            assert_eq!(v.leaf_hash, leaf);
        }
    }
});
