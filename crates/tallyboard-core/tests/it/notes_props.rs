#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Properties of the note, checkpoint and receipt parsers: they never panic,
//! every accepted input has exactly one encoding (re-encoding gives the same
//! bytes back), and no single-byte change to a valid receipt survives both
//! parsing and verification.

use proptest::prelude::*;
use tallyboard_core::checkpoint::{Checkpoint, add_cosignature, sign_checkpoint};
use tallyboard_core::hash::{Hash, leaf_hash};
use tallyboard_core::keys::SecretKey;
use tallyboard_core::merkle;
use tallyboard_core::note::{KeyKind, Note, SignerKey};
use tallyboard_core::receipt::Receipt;

const ORIGIN: &str = "vote.example/log";

fn log() -> SignerKey {
    SignerKey::new(ORIGIN, KeyKind::Ed25519, SecretKey::from_seed(&[0x11; 32])).unwrap()
}

fn witness() -> SignerKey {
    SignerKey::new(
        "witness.example/w0",
        KeyKind::CosignatureV1,
        SecretKey::from_seed(&[0x20; 32]),
    )
    .unwrap()
}

/// Verifies with the log key and the witness required (quorum 1), so that
/// every signature line on the receipt is checked.
fn verify(bytes: &[u8]) -> Result<(u64, u64), &'static str> {
    let r = Receipt::parse(bytes).map_err(|e| e.code())?;
    let v = r
        .verify_with_witnesses(
            &entry(6),
            log().verifier(),
            ORIGIN,
            &[witness().verifier().clone()],
            1,
        )
        .map_err(|e| e.code())?;
    Ok((v.index, v.checkpoint.checkpoint.size))
}

fn entry(i: usize) -> Vec<u8> {
    format!("entry {i}").into_bytes()
}

/// A valid receipt for entry 6 of 11, on a checkpoint with one cosignature.
fn valid_receipt() -> Vec<u8> {
    let leaves: Vec<Hash> = (0..11).map(|i| leaf_hash(&entry(i))).collect();
    let cp = Checkpoint::new(ORIGIN, 11, merkle::tree_hash(&leaves));
    let w = witness();
    let note = add_cosignature(&sign_checkpoint(&cp, &log()).unwrap(), &w, 1_700_000_000).unwrap();
    let proof = merkle::inclusion_proof(&leaves, 6).unwrap();
    Receipt::new(6, proof, note).unwrap().to_bytes()
}

proptest! {
    #[test]
    fn receipt_parser_accepts_only_canonical_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(r) = Receipt::parse(&bytes) {
            prop_assert_eq!(r.to_bytes(), bytes);
        }
    }

    #[test]
    fn note_parser_accepts_only_canonical_bytes(text in "[a-z0-9/ \n]{0,64}", tail in "[A-Za-z0-9+/=\u{2014} \n.]{0,200}") {
        let bytes = format!("{text}{tail}").into_bytes();
        if let Ok(n) = Note::parse(&bytes) {
            prop_assert_eq!(n.to_bytes().unwrap(), bytes);
        }
    }

    #[test]
    fn checkpoint_parser_accepts_only_canonical_text(text in "[a-z0-9+/=.\n]{0,120}") {
        if let Ok(cp) = Checkpoint::parse(&text) {
            prop_assert_eq!(cp.to_text().unwrap(), text);
        }
    }

    #[test]
    fn no_single_byte_change_to_a_receipt_still_verifies(pos in any::<prop::sample::Index>(), delta in 1u8..=255) {
        let good = valid_receipt();
        let mut bad = good.clone();
        let i = pos.index(bad.len());
        bad[i] = bad[i].wrapping_add(delta);
        prop_assert!(verify(&bad).is_err(), "byte {} changed and the receipt still verifies", i);
    }
}

#[test]
fn the_unchanged_receipt_verifies() {
    assert_eq!(verify(&valid_receipt()), Ok((6, 11)));
}
