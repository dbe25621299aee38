#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Cross-checks of signed notes and key strings against the Go reference
//! implementation's published example, the C2SP spec example, and the
//! independent `signed_note` crate.

use signed_note::{StandardSigner, StandardVerifier, Verifier as _, VerifierList};
use tallyboard_core::checkpoint::{Checkpoint, add_cosignature, open_checkpoint, sign_checkpoint};
use tallyboard_core::hash::Hash;
use tallyboard_core::keys::SecretKey;
use tallyboard_core::note::{self, KeyKind, SignerKey, VerifierKey};

// golang.org/x/mod/sumdb/note documentation example (key, text, signed note).
const GO_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const GO_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_NOTE: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

// c2sp.org/signed-note "Verifier keys" example.
const SPEC_VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
const SPEC_NOTE: &str = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

#[test]
fn go_reference_note_is_reproduced_byte_for_byte() {
    let signer = SignerKey::parse(GO_SKEY).unwrap();
    assert_eq!(signer.key_id(), 0xc74f20a3);
    assert_eq!(signer.verifier().to_string(), GO_VKEY);
    assert_eq!(signer.to_secret_string().as_str(), GO_SKEY);
    let signed = note::sign(GO_TEXT, &[&signer]).unwrap();
    assert_eq!(String::from_utf8(signed).unwrap(), GO_NOTE);
    let vk = VerifierKey::parse(GO_VKEY).unwrap();
    let opened = note::open(GO_NOTE.as_bytes(), &[vk]).unwrap();
    assert_eq!(opened.text(), GO_TEXT);
    assert_eq!(opened.signed_by.len(), 1);
}

#[test]
fn c2sp_spec_example_opens() {
    let vk = VerifierKey::parse(SPEC_VKEY).unwrap();
    assert_eq!(vk.key_id(), 0x530d903a);
    assert_eq!(vk.to_string(), SPEC_VKEY);
    let opened = note::open(SPEC_NOTE.as_bytes(), &[vk]).unwrap();
    assert_eq!(opened.text(), "This is an example message.\n");
}

#[test]
fn go_note_with_altered_text_is_rejected() {
    let vk = VerifierKey::parse(GO_VKEY).unwrap();
    let altered = GO_NOTE.replace("answer", "answers");
    assert_eq!(
        note::open(altered.as_bytes(), &[vk]).unwrap_err().code(),
        "bad-signature"
    );
}

fn log_signer() -> SignerKey {
    SignerKey::new(
        "vote.example/log",
        KeyKind::Ed25519,
        SecretKey::from_seed(&[0x11; 32]),
    )
    .unwrap()
}

#[test]
fn our_notes_open_with_signed_note_crate() {
    let signer = log_signer();
    let cp = Checkpoint::new("vote.example/log", 42, Hash::sha256(b"root"));
    let bytes = sign_checkpoint(&cp, &signer).unwrap();
    let theirs = signed_note::Note::from_bytes(&bytes).unwrap();
    let v = StandardVerifier::new(&signer.verifier().to_string()).unwrap();
    assert_eq!(v.key_id(), signer.key_id());
    let list = VerifierList::new(vec![Box::new(v)]);
    let (verified, unverified) = theirs.verify(&list).unwrap();
    assert_eq!(verified.len(), 1);
    assert!(unverified.is_empty());
    assert_eq!(theirs.text(), cp.to_text().unwrap().as_bytes());

    // A cosigned checkpoint still opens there: the cosignature is unknown to it.
    let w = SignerKey::new(
        "witness.example/w1",
        KeyKind::CosignatureV1,
        SecretKey::from_seed(&[0x22; 32]),
    )
    .unwrap();
    let cosigned = add_cosignature(&bytes, &w, 1_700_000_000).unwrap();
    let theirs = signed_note::Note::from_bytes(&cosigned).unwrap();
    let (verified, unverified) = theirs.verify(&list).unwrap();
    assert_eq!((verified.len(), unverified.len()), (1, 1));
}

#[test]
fn signed_note_crate_notes_open_with_ours() {
    let signer = log_signer();
    let secret = signer.to_secret_string();
    let theirs = StandardSigner::new(&secret).unwrap();
    let cp = Checkpoint::new("vote.example/log", 7, Hash::sha256(b"r"));
    let text = cp.to_text().unwrap();
    let mut n = signed_note::Note::new(text.as_bytes(), &[]).unwrap();
    n.add_sigs(&[&theirs]).unwrap();
    let bytes = n.to_bytes();
    let opened = open_checkpoint(&bytes, signer.verifier(), &[], 0).unwrap();
    assert_eq!(opened.checkpoint, cp);
    assert_eq!(opened.note, bytes);
    // Same key, same text: Ed25519 is deterministic, so both encodings agree.
    assert_eq!(bytes, sign_checkpoint(&cp, &signer).unwrap());
}
