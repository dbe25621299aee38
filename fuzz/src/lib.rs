//! Helpers shared by the fuzz targets: the fixed keys that signed the seed
//! corpus, so that mutated seeds exercise signature checking and not only
//! parsing.

use std::sync::LazyLock;

use tallyboard_core::keys::SecretKey;
use tallyboard_core::manifest::{Manifest, SignedManifest};
use tallyboard_core::note::{KeyKind, SignerKey, VerifierKey};

/// Verifier keys of published examples (Go `sumdb/note` documentation and
/// the C2SP signed-note specification).
pub const EXAMPLE_VKEYS: &[&str] = &[
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
];

/// Fixed (name, kind, seed byte) of the keys the vectors sign with
/// (`spec/vectors/README.md`).
pub const FIXED_KEYS: &[(&str, KeyKind, u8)] = &[
    ("vote.example/log", KeyKind::Ed25519, 0x11),
    ("vote.example/log", KeyKind::Ed25519, 0x12),
    ("stranger.example/key", KeyKind::Ed25519, 0x66),
    ("witness.example/w0", KeyKind::CosignatureV1, 0x20),
    ("witness.example/w1", KeyKind::CosignatureV1, 0x21),
    ("witness.example/w2", KeyKind::CosignatureV1, 0x22),
    ("witness.example/w3", KeyKind::CosignatureV1, 0x23),
];

/// A signer with the seed `[seed; 32]`.
pub fn signer(name: &str, kind: KeyKind, seed: u8) -> Option<SignerKey> {
    SignerKey::new(name, kind, SecretKey::from_seed(&[seed; 32])).ok()
}

/// Every known verifier key: the examples and the fixed keys.
pub fn known_verifiers() -> &'static [VerifierKey] {
    static KEYS: LazyLock<Vec<VerifierKey>> = LazyLock::new(make_known_verifiers);
    &KEYS
}

fn make_known_verifiers() -> Vec<VerifierKey> {
    let mut v: Vec<VerifierKey> = EXAMPLE_VKEYS
        .iter()
        .filter_map(|s| VerifierKey::parse(s).ok())
        .collect();
    v.extend(
        FIXED_KEYS
            .iter()
            .filter_map(|(n, k, s)| signer(n, *k, *s).map(|s| s.verifier().clone())),
    );
    v
}

/// The known plain Ed25519 verifier keys (the ones `signed_note` supports).
pub fn known_ed25519_verifiers() -> &'static [VerifierKey] {
    static KEYS: LazyLock<Vec<VerifierKey>> = LazyLock::new(|| {
        known_verifiers()
            .iter()
            .filter(|v| v.kind() == KeyKind::Ed25519)
            .cloned()
            .collect()
    });
    &KEYS
}

/// The same keys as `signed_note` verifiers.
pub fn signed_note_verifiers(keys: &[VerifierKey]) -> signed_note::VerifierList {
    let list: Vec<Box<dyn signed_note::Verifier>> = keys
        .iter()
        .filter_map(|k| signed_note::StandardVerifier::new(&k.to_string()).ok())
        .map(|v| Box::new(v) as Box<dyn signed_note::Verifier>)
        .collect();
    signed_note::VerifierList::new(list)
}

/// The signed manifest of the rules vectors: the tally seeds are signed by
/// its count-centre keys.
pub fn vector_manifest() -> Option<&'static Manifest> {
    static M: LazyLock<Option<Manifest>> = LazyLock::new(|| {
        let json = include_str!("../../spec/vectors/rules/ok-first-publication.json");
        let v: serde_json::Value = serde_json::from_str(json).ok()?;
        let bytes = hex::decode(v.get("signed_manifest_hex")?.as_str()?).ok()?;
        Some(
            SignedManifest::from_bytes(&bytes, None)
                .ok()?
                .into_manifest(),
        )
    });
    M.as_ref()
}
