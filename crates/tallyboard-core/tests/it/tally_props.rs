#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Property tests of the signed tally: anything we sign parses back
//! identically, and no alteration of a valid encoding is both accepted and
//! different from its canonical re-encoding.

use proptest::prelude::*;
use tallyboard_core::cbor::encode_envelope;
use tallyboard_core::keys::SecretKey;
use tallyboard_core::tally::{SignedTally, Tally, UnverifiedTally};

fn id() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-][A-Za-z0-9._-]{0,20}"
}

prop_compose! {
    fn tally()(
        election in id(),
        contest in id(),
        unit in id(),
        choices in proptest::collection::btree_map(id(), any::<u64>(), 0..8),
        blank in any::<u64>(),
        invalid in any::<u64>(),
        cast in any::<u64>(),
        counted_at in any::<u64>(),
        correction in proptest::option::of((any::<[u8; 32]>(), "[a-z \n\t]{1,40}", 2u64..1000)),
        seed in any::<[u8; 32]>(),
    ) -> (Tally, SecretKey) {
        let key = SecretKey::from_seed(&seed);
        let mut t = Tally::new(&election, &contest, &unit, choices, blank, invalid, cast, counted_at, key.public_key());
        if let Some((h, reason, revision)) = correction {
            t = t.correction(tallyboard_core::Hash(h), &reason);
            t.revision = revision;
        }
        (t, key)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn signed_tallies_round_trip((t, key) in tally()) {
        let s = t.sign(&key);
        let p = SignedTally::from_bytes(s.as_bytes()).unwrap();
        prop_assert_eq!(p.tally(), &t);
        prop_assert_eq!(p.as_bytes(), s.as_bytes());
        prop_assert_eq!(p.leaf_hash(), tallyboard_core::leaf_hash(s.as_bytes()));
        prop_assert_eq!(Tally::from_body_bytes(p.body_bytes()).unwrap(), t);
    }

    #[test]
    fn altered_tallies_are_rejected_or_canonical(
        (t, key) in tally(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut b = t.sign(&key).into_bytes();
        for (i, v) in &edits {
            let i = i.index(b.len());
            b[i] = *v;
        }
        if truncate {
            b.truncate(cut.index(b.len()));
        }
        // Never panics; whatever decodes is canonical.
        if let Ok(u) = UnverifiedTally::from_bytes(&b) {
            let (_, body, sig) = u.signature_parts();
            prop_assert_eq!(encode_envelope(body, sig), b.clone());
            prop_assert_eq!(u.tally().to_body_bytes(), body.to_vec());
        }
        if let Ok(s) = SignedTally::from_bytes(&b) {
            prop_assert_eq!(s.as_bytes(), b.as_slice());
        }
    }
}
