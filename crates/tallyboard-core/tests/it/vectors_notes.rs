#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Test vectors for signed notes, checkpoints, receipts and verifier key
//! strings (`spec/vectors/notes/`, `spec/vectors/checkpoints/`,
//! `spec/vectors/receipts/`, `spec/vectors/keys/`).
//!
//! 1. Every vector is regenerated here from fixed seeds and fixed times and
//!    compared with the file: any drift fails. `TALLYBOARD_BLESS=1` rewrites
//!    the files (and removes stale ones) instead.
//! 2. Every file in the four directories is run through the parser and
//!    verifier, and the outcome must be the one the file states.
//!
//! The expected outcome of each case is written by hand below, never derived
//! from the implementation under test.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use tallyboard_core::checkpoint::{Checkpoint, open_checkpoint};
use tallyboard_core::cosignature;
use tallyboard_core::hash::{Hash, leaf_hash};
use tallyboard_core::keys::SecretKey;
use tallyboard_core::limits::{MAX_NOTE, MAX_NOTE_SIGNATURES, MAX_PROOF_HASHES, MAX_RECEIPT};
use tallyboard_core::merkle;
use tallyboard_core::note::{self, KeyKind, SignerKey, VerifierKey};
use tallyboard_core::receipt::Receipt;

// ---------------------------------------------------------------------------
// Fixed keys and times.

const ORIGIN: &str = "vote.example/log";
/// Cosignature times: 2023-11-14T22:13:20Z and following seconds.
const T0: u64 = 1_700_000_000;

fn ed(name: &str, seed: u8) -> SignerKey {
    SignerKey::new(name, KeyKind::Ed25519, SecretKey::from_seed(&[seed; 32])).unwrap()
}

/// The log key: seed 32 bytes of 0x11.
fn log() -> SignerKey {
    ed(ORIGIN, 0x11)
}

/// Another key with the log's name (seed 0x12): a different key id.
fn impostor() -> SignerKey {
    ed(ORIGIN, 0x12)
}

/// A key nobody configured (seed 0x66).
fn stranger() -> SignerKey {
    ed("stranger.example/key", 0x66)
}

/// Witness `i`: `witness.example/w<i>`, cosignature/v1, seed 0x20 + i.
fn witness(i: usize) -> SignerKey {
    SignerKey::new(
        &format!("witness.example/w{i}"),
        KeyKind::CosignatureV1,
        SecretKey::from_seed(&[0x20 + i as u8; 32]),
    )
    .unwrap()
}

fn vkey(k: &SignerKey) -> String {
    k.verifier().to_string()
}

// ---------------------------------------------------------------------------
// Building blocks, written from the C2SP text rather than with the encoders
// under test where a malformed variant is needed.

fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// `— <name> base64(key id || sig)\n`
fn raw_line(name: &str, key_id: u32, sig: &[u8]) -> String {
    let mut raw = key_id.to_be_bytes().to_vec();
    raw.extend_from_slice(sig);
    format!("\u{2014} {name} {}\n", b64(&raw))
}

/// A plain Ed25519 signature line by `k` over `text`.
fn sig_line(k: &SignerKey, text: &str) -> String {
    let sig = k.secret().sign_raw(text.as_bytes());
    raw_line(k.name(), k.key_id(), &sig.0)
}

/// A cosignature/v1 line by witness `w` over `text` at `time`.
fn cosig_line(w: &SignerKey, text: &str, time: u64) -> String {
    let msg = format!("cosignature/v1\ntime {time}\n{text}");
    let sig = w.secret().sign_raw(msg.as_bytes());
    let mut raw = time.to_be_bytes().to_vec();
    raw.extend_from_slice(&sig.0);
    raw_line(w.name(), w.key_id(), &raw)
}

fn note_of(text: &str, lines: &[String]) -> String {
    format!("{text}\n{}", lines.concat())
}

fn cp_text(size: &str, root: &str, ext: &[&str]) -> String {
    let mut s = format!("{ORIGIN}\n{size}\n{root}\n");
    for e in ext {
        s.push_str(e);
        s.push('\n');
    }
    s
}

fn root_b64(h: &Hash) -> String {
    b64(h.as_bytes())
}

/// Puts the note either as text or, when it is not UTF-8, as hex.
fn put_bytes(obj: &mut BTreeMap<String, Value>, field: &str, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(s) => obj.insert(field.to_owned(), json!(s)),
        Err(_) => obj.insert(format!("{field}_hex"), json!(hex::encode(bytes))),
    };
}

fn get_bytes(v: &Value, field: &str) -> Vec<u8> {
    if let Some(s) = v.get(field).and_then(Value::as_str) {
        return s.as_bytes().to_vec();
    }
    hex::decode(v[format!("{field}_hex")].as_str().unwrap()).unwrap()
}

struct Case {
    area: &'static str,
    name: String,
    json: Value,
}

fn case(
    area: &'static str,
    name: &str,
    description: &str,
    expect: &str,
    fields: BTreeMap<String, Value>,
) -> Case {
    let mut obj = fields;
    obj.insert("description".into(), json!(description));
    obj.insert("expect".into(), json!(expect));
    Case {
        area,
        name: name.to_owned(),
        json: Value::Object(obj.into_iter().collect()),
    }
}

// ---------------------------------------------------------------------------
// Notes: input `verifier_keys` (vkeys) and `note`; on success the note `text`
// and the names in `signed_by` (known signers, in signature-line order).

const NOTE_TEXT: &str = "Reporting unit 0001 tally published.\nSecond line.\n";

fn note_vector(
    name: &str,
    description: &str,
    expect: &str,
    vkeys: &[&SignerKey],
    bytes: &[u8],
    ok: Option<(&str, &[&str])>,
) -> Case {
    let mut f = BTreeMap::new();
    f.insert(
        "verifier_keys".into(),
        json!(vkeys.iter().map(|k| vkey(k)).collect::<Vec<_>>()),
    );
    put_bytes(&mut f, "note", bytes);
    if let Some((text, signed_by)) = ok {
        f.insert("text".into(), json!(text));
        f.insert("signed_by".into(), json!(signed_by));
    }
    case("notes", name, description, expect, f)
}

fn note_cases() -> Vec<Case> {
    let a = log();
    let s = stranger();
    let t = NOTE_TEXT;
    let good = sig_line(&a, t);
    let mut v = Vec::new();

    v.push(note_vector(
        "ok-one-signature",
        "A note signed by the one configured key opens.",
        "ok",
        &[&a],
        note_of(t, std::slice::from_ref(&good)).as_bytes(),
        Some((t, &[ORIGIN])),
    ));
    v.push(note_vector(
        "ok-unknown-signature-ignored",
        "A signature line from a key that is not configured is ignored.",
        "ok",
        &[&a],
        note_of(t, &[sig_line(&s, t), good.clone()]).as_bytes(),
        Some((t, &[ORIGIN])),
    ));
    let text_blank = "First paragraph.\n\nSecond paragraph.\n";
    v.push(note_vector(
        "ok-text-with-empty-line",
        "The text may contain empty lines; the last empty line separates the signatures.",
        "ok",
        &[&a],
        note_of(text_blank, &[sig_line(&a, text_blank)]).as_bytes(),
        Some((text_blank, &[ORIGIN])),
    ));
    let sixteen: Vec<SignerKey> = (0..15)
        .map(|i| ed(&format!("k{i:02}.example"), 0x80 + i as u8))
        .collect();
    let mut lines: Vec<String> = sixteen.iter().map(|k| sig_line(k, t)).collect();
    lines.push(good.clone());
    v.push(note_vector(
        "ok-sixteen-signatures",
        "Sixteen signature lines (the C2SP minimum a verifier must accept), one known.",
        "ok",
        &[&a],
        note_of(t, &lines).as_bytes(),
        Some((t, &[ORIGIN])),
    ));
    v.push(note_vector(
        "unknown-key-only",
        "The only signature is from a key that is not configured.",
        "no-known-signature",
        &[&a],
        note_of(t, &[sig_line(&s, t)]).as_bytes(),
        None,
    ));
    v.push(note_vector(
        "wrong-key-same-name",
        "Signed by another key with the configured key's name: a different key id, so unknown.",
        "no-known-signature",
        &[&a],
        note_of(t, &[sig_line(&impostor(), t)]).as_bytes(),
        None,
    ));
    let mut sig = a.secret().sign_raw(t.as_bytes()).0;
    sig[10] ^= 0x01;
    v.push(note_vector(
        "bad-signature",
        "The configured key's signature has one bit flipped.",
        "bad-signature",
        &[&a],
        note_of(t, &[raw_line(a.name(), a.key_id(), &sig)]).as_bytes(),
        None,
    ));
    v.push(note_vector(
        "altered-text",
        "The text was changed after signing.",
        "bad-signature",
        &[&a],
        note_of(&t.replace("0001", "0002"), std::slice::from_ref(&good)).as_bytes(),
        None,
    ));
    v.push(note_vector(
        "known-signature-bad-among-good",
        "One known signature verifies and another known one does not: the whole note is rejected.",
        "bad-signature",
        &[&a, &s],
        note_of(
            t,
            &[good.clone(), raw_line(s.name(), s.key_id(), &[0u8; 64])],
        )
        .as_bytes(),
        None,
    ));
    v.push(note_vector(
        "signature-wrong-length",
        "A known key's signature is 63 bytes instead of 64.",
        "bad-signature",
        &[&a],
        note_of(
            t,
            &[raw_line(
                a.name(),
                a.key_id(),
                &a.secret().sign_raw(t.as_bytes()).0[..63],
            )],
        )
        .as_bytes(),
        None,
    ));
    v.push(note_vector(
        "duplicate-signature",
        "The same known signature line appears twice.",
        "duplicate-signature",
        &[&a],
        note_of(t, &[good.clone(), good.clone()]).as_bytes(),
        None,
    ));
    let full = note_of(t, std::slice::from_ref(&good));
    v.push(note_vector(
        "missing-final-newline",
        "The last signature line has no newline.",
        "missing-final-newline",
        &[&a],
        full.trim_end_matches('\n').as_bytes(),
        None,
    ));
    v.push(note_vector(
        "missing-blank-line",
        "No empty line separates text and signatures.",
        "missing-blank-line",
        &[&a],
        format!("{t}{good}").as_bytes(),
        None,
    ));
    v.push(note_vector(
        "no-signatures",
        "Text and the empty line, but no signature line.",
        "no-signatures",
        &[&a],
        format!("{t}\n").as_bytes(),
        None,
    ));
    v.push(note_vector(
        "trailing-empty-line",
        "An empty line after the signatures: the signature block is then empty.",
        "no-signatures",
        &[&a],
        format!("{full}\n").as_bytes(),
        None,
    ));
    v.push(note_vector(
        "trailing-data",
        "A line that is not a signature line follows the signatures.",
        "malformed-signature-line",
        &[&a],
        format!("{full}trailing\n").as_bytes(),
        None,
    ));
    v.push(note_vector(
        "hyphen-instead-of-em-dash",
        "A signature line starting with '-' (U+002D) instead of U+2014.",
        "malformed-signature-line",
        &[&a],
        note_of(t, &[good.replacen('\u{2014}', "-", 1)]).as_bytes(),
        None,
    ));
    v.push(note_vector(
        "two-spaces-before-signature",
        "Two spaces between key name and signature.",
        "malformed-signature-line",
        &[&a],
        note_of(
            t,
            &[good.replacen(&format!("{ORIGIN} "), &format!("{ORIGIN}  "), 1)],
        )
        .as_bytes(),
        None,
    ));
    v.push(note_vector(
        "key-name-with-plus",
        "A key name in a signature line contains '+'.",
        "invalid-key-name",
        &[&a],
        note_of(t, &[good.replacen("vote.example", "vote+example", 1)]).as_bytes(),
        None,
    ));
    let good_b64 = good.rsplit(' ').next().unwrap().trim_end().to_owned();
    v.push(note_vector(
        "bad-base64",
        "The signature contains a character outside the base64 alphabet.",
        "non-canonical-base64",
        &[&a],
        note_of(t, &[good.replacen(&good_b64[..4], "A*AA", 1)]).as_bytes(),
        None,
    ));
    v.push(note_vector(
        "base64-without-padding",
        "The signature's base64 lacks its '=' padding.",
        "non-canonical-base64",
        &[&a],
        note_of(t, &[good.replacen('=', "", 1)]).as_bytes(),
        None,
    ));
    v.push(note_vector(
        "base64-nonzero-trailing-bits",
        "The signature's base64 has non-zero unused bits in its last character.",
        "non-canonical-base64",
        &[&a],
        // 68 bytes encode to 92 characters ending in "=": the character
        // before it carries 2 unused bits, which must be zero.
        note_of(
            t,
            &[{
                let chars: Vec<char> = good_b64.chars().collect();
                let last = chars[chars.len() - 2];
                let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
                let pos = alphabet.find(last).unwrap();
                let bumped = alphabet.chars().nth(pos | 1).unwrap();
                let mut s: String = chars[..chars.len() - 2].iter().collect();
                s.push(bumped);
                s.push('=');
                assert_ne!(s, good_b64);
                good.replacen(&good_b64, &s, 1)
            }],
        )
        .as_bytes(),
        None,
    ));
    v.push(note_vector(
        "signature-too-short",
        "A signature of only 4 bytes (a key id and nothing else).",
        "signature-too-short",
        &[&a],
        note_of(t, &[raw_line(a.name(), a.key_id(), &[])]).as_bytes(),
        None,
    ));
    let keys: Vec<SignerKey> = (0..MAX_NOTE_SIGNATURES)
        .map(|i| ed(&format!("k{i:02}.example"), 0x80 + i as u8))
        .collect();
    let mut lines: Vec<String> = keys.iter().map(|k| sig_line(k, t)).collect();
    lines.push(good.clone());
    v.push(note_vector(
        "too-many-signatures",
        "One signature line more than MAX_NOTE_SIGNATURES (64).",
        "too-many-signatures",
        &[&a],
        note_of(t, &lines).as_bytes(),
        None,
    ));
    let tab_text = "Reporting unit\t0001\n";
    v.push(note_vector(
        "control-character-tab",
        "The text contains a tab (U+0009).",
        "control-character",
        &[&a],
        note_of(tab_text, &[sig_line(&a, tab_text)]).as_bytes(),
        None,
    ));
    v.push(note_vector(
        "crlf-line-endings",
        "Lines end in CR LF.",
        "control-character",
        &[&a],
        full.replace('\n', "\r\n").as_bytes(),
        None,
    ));
    let mut not_utf8 = full.clone().into_bytes();
    not_utf8[3] = 0xff;
    v.push(note_vector(
        "not-utf8",
        "The text is not valid UTF-8.",
        "not-utf8",
        &[&a],
        &not_utf8,
        None,
    ));
    let big_text = format!("{}\n", "x".repeat(MAX_NOTE));
    v.push(note_vector(
        "too-large",
        "The note is larger than MAX_NOTE (16384 bytes).",
        "too-large",
        &[&a],
        note_of(&big_text, &[sig_line(&a, &big_text)]).as_bytes(),
        None,
    ));
    v
}

// ---------------------------------------------------------------------------
// Checkpoints: input `log_key`, `witness_keys`, `quorum`, `note`; on success
// `origin`, `size` (decimal string), `root_hex` and `cosignatures`
// ([{name, timestamp}] in note order).

struct CpOk<'a> {
    size: u64,
    root: Hash,
    extensions: &'a [&'a str],
    cosignatures: &'a [(usize, u64)],
}

fn cp_vector(
    name: &str,
    description: &str,
    expect: &str,
    witnesses: &[SignerKey],
    quorum: usize,
    bytes: &[u8],
    ok: Option<CpOk<'_>>,
) -> Case {
    let mut f = BTreeMap::new();
    f.insert("log_key".into(), json!(vkey(&log())));
    f.insert(
        "witness_keys".into(),
        json!(witnesses.iter().map(vkey).collect::<Vec<_>>()),
    );
    f.insert("quorum".into(), json!(quorum));
    put_bytes(&mut f, "note", bytes);
    if let Some(ok) = ok {
        f.insert("origin".into(), json!(ORIGIN));
        f.insert("size".into(), json!(ok.size.to_string()));
        f.insert("root_hex".into(), json!(ok.root.to_hex()));
        f.insert("extensions".into(), json!(ok.extensions));
        f.insert(
            "cosignatures".into(),
            json!(
                ok.cosignatures
                    .iter()
                    .map(|(i, t)| json!({"name": witness(*i).name(), "timestamp": t}))
                    .collect::<Vec<_>>()
            ),
        );
    }
    case("checkpoints", name, description, expect, f)
}

fn checkpoint_cases() -> Vec<Case> {
    let l = log();
    let w: Vec<SignerKey> = (0..3).map(witness).collect();
    let root = Hash::sha256(b"tallyboard checkpoint vector root");
    let rb = root_b64(&root);
    let text = cp_text("4194304", &rb, &[]);
    let log_line = sig_line(&l, &text);
    let cos = |i: usize| cosig_line(&w[i], &text, T0 + i as u64);
    let mut v = Vec::new();

    v.push(cp_vector(
        "ok-log-signature-only",
        "Signed by the log; no witness required (quorum 0).",
        "ok",
        &[],
        0,
        note_of(&text, std::slice::from_ref(&log_line)).as_bytes(),
        Some(CpOk {
            size: 4194304,
            root,
            extensions: &[],
            cosignatures: &[],
        }),
    ));
    v.push(cp_vector(
        "ok-quorum-2-of-3",
        "Signed by the log and cosigned by two of three configured witnesses, quorum 2.",
        "ok",
        &w,
        2,
        note_of(&text, &[log_line.clone(), cos(0), cos(2)]).as_bytes(),
        Some(CpOk {
            size: 4194304,
            root,
            extensions: &[],
            cosignatures: &[(0, T0), (2, T0 + 2)],
        }),
    ));
    v.push(cp_vector(
        "ok-unknown-cosignature-ignored",
        "A cosignature from a witness that is not configured is ignored.",
        "ok",
        &w[..1],
        1,
        note_of(&text, &[log_line.clone(), cos(1), cos(0)]).as_bytes(),
        Some(CpOk {
            size: 4194304,
            root,
            extensions: &[],
            cosignatures: &[(0, T0)],
        }),
    ));
    let ext_text = cp_text("12", &rb, &["extension line one", "x"]);
    v.push(cp_vector(
        "ok-extension-lines",
        "Two extension lines after the root hash.",
        "ok",
        &[],
        0,
        note_of(&ext_text, &[sig_line(&l, &ext_text)]).as_bytes(),
        Some(CpOk {
            size: 12,
            root,
            extensions: &["extension line one", "x"],
            cosignatures: &[],
        }),
    ));
    let empty_text = cp_text("0", &root_b64(&Hash::EMPTY_TREE), &[]);
    v.push(cp_vector(
        "ok-empty-tree",
        "Tree size 0 (written `0`) with the empty-tree root SHA-256(\"\").",
        "ok",
        &[],
        0,
        note_of(&empty_text, &[sig_line(&l, &empty_text)]).as_bytes(),
        Some(CpOk {
            size: 0,
            root: Hash::EMPTY_TREE,
            extensions: &[],
            cosignatures: &[],
        }),
    ));
    let many: Vec<SignerKey> = (0..15).map(witness).collect();
    let mut lines = vec![log_line.clone()];
    lines.extend(
        many.iter()
            .enumerate()
            .map(|(i, k)| cosig_line(k, &text, T0 + i as u64)),
    );
    let all: Vec<(usize, u64)> = (0..15).map(|i| (i, T0 + i as u64)).collect();
    v.push(cp_vector(
        "ok-sixteen-signatures",
        "The log signature and fifteen witness cosignatures, quorum 15.",
        "ok",
        &many,
        15,
        note_of(&text, &lines).as_bytes(),
        Some(CpOk {
            size: 4194304,
            root,
            extensions: &[],
            cosignatures: &all,
        }),
    ));
    v.push(cp_vector(
        "missing-log-signature",
        "Cosigned by witnesses but not signed by the log.",
        "missing-log-signature",
        &w,
        2,
        note_of(&text, &[cos(0), cos(1)]).as_bytes(),
        None,
    ));
    v.push(cp_vector(
        "unknown-key-only",
        "Signed only by a key that is not configured.",
        "missing-log-signature",
        &w,
        0,
        note_of(&text, &[sig_line(&stranger(), &text)]).as_bytes(),
        None,
    ));
    v.push(cp_vector(
        "wrong-log-key",
        "Signed by another key under the log's name.",
        "missing-log-signature",
        &[],
        0,
        note_of(&text, &[sig_line(&impostor(), &text)]).as_bytes(),
        None,
    ));
    let mut bad = l.secret().sign_raw(text.as_bytes()).0;
    bad[40] ^= 0x80;
    v.push(cp_vector(
        "bad-log-signature",
        "The log's signature has one bit flipped.",
        "bad-signature",
        &[],
        0,
        note_of(&text, &[raw_line(l.name(), l.key_id(), &bad)]).as_bytes(),
        None,
    ));
    v.push(cp_vector(
        "quorum-not-met",
        "One valid cosignature where the quorum is 2.",
        "quorum-not-met",
        &w,
        2,
        note_of(&text, &[log_line.clone(), cos(1)]).as_bytes(),
        None,
    ));
    let mut ts_raw = (T0 + 1).to_be_bytes().to_vec();
    ts_raw.extend_from_slice(&w[0].secret().sign_raw(&cosignature::message(&text, T0)).0);
    v.push(cp_vector(
        "cosignature-timestamp-altered",
        "A cosignature whose timestamp was changed after signing.",
        "bad-signature",
        &w,
        1,
        note_of(
            &text,
            &[
                log_line.clone(),
                raw_line(w[0].name(), w[0].key_id(), &ts_raw),
            ],
        )
        .as_bytes(),
        None,
    ));
    let big_t = 1u64 << 63;
    let mut big_raw = big_t.to_be_bytes().to_vec();
    big_raw.extend_from_slice(
        &w[0]
            .secret()
            .sign_raw(&cosignature::message(&text, big_t))
            .0,
    );
    v.push(cp_vector(
        "cosignature-timestamp-out-of-range",
        "A cosignature with timestamp 2^63, above the 2^63-1 limit.",
        "timestamp-out-of-range",
        &w,
        1,
        note_of(
            &text,
            &[
                log_line.clone(),
                raw_line(w[0].name(), w[0].key_id(), &big_raw),
            ],
        )
        .as_bytes(),
        None,
    ));
    v.push(cp_vector(
        "duplicate-cosignature",
        "The same witness cosignature line appears twice (it must not count twice).",
        "duplicate-signature",
        &w,
        2,
        note_of(&text, &[log_line.clone(), cos(0), cos(0)]).as_bytes(),
        None,
    ));
    let plain = SignerKey::new(w[0].name(), KeyKind::Ed25519, w[0].secret().clone()).unwrap();
    v.push(cp_vector(
        "witness-plain-signature",
        "The witness key signed with type 0x01 instead of cosignature/v1: a different key id, ignored.",
        "quorum-not-met",
        &w,
        1,
        note_of(&text, &[log_line.clone(), sig_line(&plain, &text)]).as_bytes(),
        None,
    ));
    let too_many: Vec<SignerKey> = (0..MAX_NOTE_SIGNATURES).map(witness).collect();
    let mut lines = vec![log_line.clone()];
    lines.extend(
        too_many
            .iter()
            .enumerate()
            .map(|(i, k)| cosig_line(k, &text, T0 + i as u64)),
    );
    v.push(cp_vector(
        "too-many-signatures",
        "The log signature plus 64 cosignatures: 65 lines, one more than MAX_NOTE_SIGNATURES.",
        "too-many-signatures",
        &w,
        0,
        note_of(&text, &lines).as_bytes(),
        None,
    ));
    // Malformed bodies, correctly signed by the log so that the body rule is
    // what fails.
    let signed = |t: &str| note_of(t, &[sig_line(&l, t)]);
    let body_cases: &[(&str, &str, String, &str)] = &[
        (
            "size-leading-zero",
            "Tree size written with a leading zero (`012`).",
            cp_text("012", &rb, &[]),
            "bad-size",
        ),
        (
            "size-plus-sign",
            "Tree size with a '+' sign.",
            cp_text("+12", &rb, &[]),
            "bad-size",
        ),
        (
            "size-overflow",
            "Tree size 2^64, above the u64 range.",
            cp_text("18446744073709551616", &rb, &[]),
            "bad-size",
        ),
        (
            "size-hex",
            "Tree size in hex.",
            cp_text("0x10", &rb, &[]),
            "bad-size",
        ),
        (
            "root-31-bytes",
            "The root hash is 31 bytes.",
            cp_text("12", &b64(&root.0[..31]), &[]),
            "bad-root-hash",
        ),
        (
            "root-hex-not-base64",
            "The root hash is written in hex.",
            cp_text("12", &root.to_hex(), &[]),
            "bad-root-hash",
        ),
        (
            "root-nonzero-trailing-bits",
            "The root's base64 has non-zero unused bits (non-canonical).",
            cp_text("12", &format!("{}B=", &rb[..42]), &[]),
            "bad-root-hash",
        ),
        (
            "missing-root-line",
            "Only origin and size lines.",
            format!("{ORIGIN}\n12\n"),
            "missing-lines",
        ),
        (
            "empty-extension-line",
            "An empty line between the root and an extension line.",
            cp_text("12", &rb, &["", "ext"]),
            "bad-extension",
        ),
    ];
    for (name, description, body, code) in body_cases {
        v.push(cp_vector(
            name,
            description,
            code,
            &[],
            0,
            signed(body).as_bytes(),
            None,
        ));
    }
    let other = "vote.example/other\n12\n".to_string() + &rb + "\n";
    v.push(cp_vector(
        "origin-mismatch",
        "Signed by the log key, but the origin line names another log.",
        "origin-mismatch",
        &[],
        0,
        signed(&other).as_bytes(),
        None,
    ));
    v.push(cp_vector(
        "missing-final-newline",
        "The last signature line has no newline.",
        "missing-final-newline",
        &[],
        0,
        note_of(&text, &[log_line.trim_end().to_owned()]).as_bytes(),
        None,
    ));
    v
}

// ---------------------------------------------------------------------------
// Receipts: input `log_key`, `origin`, `entry_hex`, `receipt`; on success
// `index`, `tree_size` (decimal strings), `leaf_hash_hex`, `root_hex`.

fn entry(i: usize) -> Vec<u8> {
    format!("tallyboard receipt vector entry {i}").into_bytes()
}

struct Tree {
    leaves: Vec<Hash>,
    root: Hash,
    note: String,
}

fn tree(n: usize, signer: &SignerKey) -> Tree {
    let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&entry(i))).collect();
    let root = merkle::tree_hash(&leaves);
    let text = cp_text(&n.to_string(), &root_b64(&root), &[]);
    let note = note_of(&text, &[sig_line(signer, &text)]);
    Tree { leaves, root, note }
}

fn receipt_text(extra: Option<&str>, index: &str, proof: &[String], note: &str) -> String {
    let mut s = String::from("c2sp.org/tlog-proof@v1\n");
    if let Some(e) = extra {
        s.push_str(&format!("extra {e}\n"));
    }
    s.push_str(&format!("index {index}\n"));
    for p in proof {
        s.push_str(p);
        s.push('\n');
    }
    s.push('\n');
    s.push_str(note);
    s
}

fn proof_b64(t: &Tree, index: usize) -> Vec<String> {
    merkle::inclusion_proof(&t.leaves, index as u64)
        .unwrap()
        .iter()
        .map(root_b64)
        .collect()
}

fn receipt_vector(
    name: &str,
    description: &str,
    expect: &str,
    origin: &str,
    entry_index: usize,
    bytes: &[u8],
    ok: Option<(usize, &Tree)>,
) -> Case {
    let mut f = BTreeMap::new();
    f.insert("log_key".into(), json!(vkey(&log())));
    f.insert("origin".into(), json!(origin));
    f.insert("entry_hex".into(), json!(hex::encode(entry(entry_index))));
    put_bytes(&mut f, "receipt", bytes);
    if let Some((index, t)) = ok {
        f.insert("index".into(), json!(index.to_string()));
        f.insert("tree_size".into(), json!(t.leaves.len().to_string()));
        f.insert(
            "leaf_hash_hex".into(),
            json!(leaf_hash(&entry(index)).to_hex()),
        );
        f.insert("root_hex".into(), json!(t.root.to_hex()));
    }
    case("receipts", name, description, expect, f)
}

// One `push` per case keeps each case readable on its own.
#[allow(clippy::vec_init_then_push)]
fn receipt_cases() -> Vec<Case> {
    let l = log();
    let t13 = tree(13, &l);
    let t1 = tree(1, &l);
    let p5 = proof_b64(&t13, 5);
    let good5 = receipt_text(None, "5", &p5, &t13.note);
    let mut v = Vec::new();

    v.push(receipt_vector(
        "ok-single-entry-tree",
        "Entry 0 of a one-entry tree: no proof lines.",
        "ok",
        ORIGIN,
        0,
        receipt_text(None, "0", &[], &t1.note).as_bytes(),
        Some((0, &t1)),
    ));
    v.push(receipt_vector(
        "ok-middle-entry",
        "Entry 5 of 13.",
        "ok",
        ORIGIN,
        5,
        good5.as_bytes(),
        Some((5, &t13)),
    ));
    v.push(receipt_vector(
        "ok-last-entry",
        "Entry 12 of 13 (the last, on the tree's right edge).",
        "ok",
        ORIGIN,
        12,
        receipt_text(None, "12", &proof_b64(&t13, 12), &t13.note).as_bytes(),
        Some((12, &t13)),
    ));
    v.push(receipt_vector(
        "ok-with-extra",
        "An `extra` line (opaque, unauthenticated) before the index.",
        "ok",
        ORIGIN,
        5,
        receipt_text(Some(&b64(b"submission 42")), "5", &p5, &t13.note).as_bytes(),
        Some((5, &t13)),
    ));
    let mut p = p5.clone();
    p[1] = root_b64(&Hash::sha256(b"not the sibling"));
    v.push(receipt_vector(
        "bad-proof-hash-value",
        "One proof hash replaced: the recomputed root differs.",
        "root-mismatch",
        ORIGIN,
        5,
        receipt_text(None, "5", &p, &t13.note).as_bytes(),
        None,
    ));
    v.push(receipt_vector(
        "receipt-for-another-entry",
        "A valid receipt for entry 5, checked against entry 6's bytes.",
        "root-mismatch",
        ORIGIN,
        6,
        good5.as_bytes(),
        None,
    ));
    v.push(receipt_vector(
        "wrong-index",
        "Entry 5's proof under index 4.",
        "root-mismatch",
        ORIGIN,
        5,
        receipt_text(None, "4", &p5, &t13.note).as_bytes(),
        None,
    ));
    v.push(receipt_vector(
        "proof-hash-missing",
        "The last proof hash is missing.",
        "wrong-proof-length",
        ORIGIN,
        5,
        receipt_text(None, "5", &p5[..p5.len() - 1], &t13.note).as_bytes(),
        None,
    ));
    let mut long = p5.clone();
    long.push(p5[0].clone());
    v.push(receipt_vector(
        "proof-hash-extra",
        "One proof hash too many.",
        "wrong-proof-length",
        ORIGIN,
        5,
        receipt_text(None, "5", &long, &t13.note).as_bytes(),
        None,
    ));
    let too_many: Vec<String> = (0..=MAX_PROOF_HASHES).map(|_| p5[0].clone()).collect();
    v.push(receipt_vector(
        "too-many-proof-hashes",
        "129 proof lines, above MAX_PROOF_HASHES (128).",
        "too-many-proof-hashes",
        ORIGIN,
        5,
        receipt_text(None, "5", &too_many, &t13.note).as_bytes(),
        None,
    ));
    v.push(receipt_vector(
        "index-out-of-range",
        "Index 13 in a tree of 13 entries.",
        "index-out-of-range",
        ORIGIN,
        5,
        receipt_text(None, "13", &p5, &t13.note).as_bytes(),
        None,
    ));
    v.push(receipt_vector(
        "index-leading-zero",
        "Index written `05`.",
        "bad-index",
        ORIGIN,
        5,
        receipt_text(None, "05", &p5, &t13.note).as_bytes(),
        None,
    ));
    v.push(receipt_vector(
        "missing-index-line",
        "No index line.",
        "bad-index",
        ORIGIN,
        5,
        good5.replacen("index 5\n", "", 1).as_bytes(),
        None,
    ));
    v.push(receipt_vector(
        "bad-header",
        "First line `c2sp.org/tlog-proof@v2`.",
        "bad-header",
        ORIGIN,
        5,
        good5.replacen("@v1", "@v2", 1).as_bytes(),
        None,
    ));
    v.push(receipt_vector(
        "crlf-line-endings",
        "Lines end in CR LF.",
        "bad-header",
        ORIGIN,
        5,
        good5.replace('\n', "\r\n").as_bytes(),
        None,
    ));
    v.push(receipt_vector(
        "empty-extra",
        "An `extra` line with no data (the line must then be omitted).",
        "bad-extra",
        ORIGIN,
        5,
        receipt_text(Some(""), "5", &p5, &t13.note).as_bytes(),
        None,
    ));
    let mut p = p5.clone();
    p[0] = p[0].replacen(&p[0][..2], "!!", 1);
    v.push(receipt_vector(
        "bad-base64-proof-line",
        "A proof line with characters outside the base64 alphabet.",
        "bad-proof-hash",
        ORIGIN,
        5,
        receipt_text(None, "5", &p, &t13.note).as_bytes(),
        None,
    ));
    let mut p = p5.clone();
    p[0] = b64(&[7u8; 31]);
    v.push(receipt_vector(
        "proof-hash-31-bytes",
        "A proof line encoding 31 bytes.",
        "bad-proof-hash",
        ORIGIN,
        5,
        receipt_text(None, "5", &p, &t13.note).as_bytes(),
        None,
    ));
    v.push(receipt_vector(
        "missing-blank-line",
        "The receipt ends after the proof lines: no empty line, no checkpoint.",
        "missing-blank-line",
        ORIGIN,
        5,
        format!("c2sp.org/tlog-proof@v1\nindex 5\n{}\n", p5.join("\n")).as_bytes(),
        None,
    ));
    v.push(receipt_vector(
        "trailing-data",
        "A line of text after the checkpoint's signature line.",
        "malformed-signature-line",
        ORIGIN,
        5,
        format!("{good5}trailing\n").as_bytes(),
        None,
    ));
    v.push(receipt_vector(
        "trailing-empty-line",
        "An empty line after the checkpoint's signature line.",
        "no-signatures",
        ORIGIN,
        5,
        format!("{good5}\n").as_bytes(),
        None,
    ));
    let forged = tree(13, &impostor());
    v.push(receipt_vector(
        "checkpoint-wrong-key",
        "The checkpoint is signed by another key under the log's name.",
        "missing-log-signature",
        ORIGIN,
        5,
        receipt_text(None, "5", &p5, &forged.note).as_bytes(),
        None,
    ));
    let tampered = t13.note.replacen("\n13\n", "\n14\n", 1);
    v.push(receipt_vector(
        "checkpoint-altered",
        "The checkpoint's size line was changed after signing.",
        "bad-signature",
        ORIGIN,
        5,
        receipt_text(None, "5", &p5, &tampered).as_bytes(),
        None,
    ));
    v.push(receipt_vector(
        "origin-not-expected",
        "A valid receipt checked against another expected origin.",
        "origin-mismatch",
        "vote.example/other-log",
        5,
        good5.as_bytes(),
        None,
    ));
    let pad = "A".repeat(MAX_RECEIPT);
    v.push(receipt_vector(
        "too-large",
        "Larger than MAX_RECEIPT (32768 bytes).",
        "receipt-too-large",
        ORIGIN,
        5,
        receipt_text(Some(&pad), "5", &p5, &t13.note).as_bytes(),
        None,
    ));
    v
}

// ---------------------------------------------------------------------------
// Verifier key strings: input `verifier_key`; on success the `name`, the
// `key_id` (8 hex digits), the `type` byte and the `public_key_hex`, and
// the string is the one the key writes.

fn key_vector(name: &str, description: &str, expect: &str, s: &str) -> Case {
    let mut f = BTreeMap::new();
    f.insert("verifier_key".into(), json!(s));
    if expect == "ok" {
        let k = VerifierKey::parse(s).unwrap();
        f.insert("name".into(), json!(k.name()));
        f.insert("key_id".into(), json!(format!("{:08x}", k.key_id())));
        f.insert("type".into(), json!(k.kind().type_byte()));
        f.insert(
            "public_key_hex".into(),
            json!(hex::encode(k.public_key().as_bytes())),
        );
    }
    case("keys", name, description, expect, f)
}

/// `<name>+<id>+base64(type || key)` from parts, the key id computed as
/// `notes-and-checkpoints.md` §3 says (not with the code under test).
fn key_string(name: &str, ty: u8, key: &[u8]) -> String {
    let mut m = name.as_bytes().to_vec();
    m.push(b'\n');
    m.push(ty);
    m.extend_from_slice(key);
    let id = &Hash::sha256(&m).0[..4];
    let mut material = vec![ty];
    material.extend_from_slice(key);
    format!("{name}+{}+{}", hex::encode(id), b64(&material))
}

fn key_cases() -> Vec<Case> {
    let lk = vkey(&log());
    let log_pk = *log().verifier().public_key().as_bytes();
    let (name, rest) = lk.split_once('+').unwrap();
    let (id, material) = rest.split_once('+').unwrap();
    // A seed whose key material contains a `+` in base64.
    let plus = (1u8..=255)
        .map(|seed| vkey(&ed("plus.example/key", seed)))
        .find(|s| s.splitn(3, '+').nth(2).is_some_and(|m| m.contains('+')))
        .unwrap();
    // y = 1: the identity point, of small order.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    // y = p + 3 (not reduced): 2^255 - 19 + 3 = 0x7fff...fff0.
    let mut unreduced = [0xffu8; 32];
    unreduced[0] = 0xf0;
    unreduced[31] = 0x7f;
    let mut short_material = vec![0x01];
    short_material.extend_from_slice(&log_pk[..31]);
    vec![
        key_vector(
            "ok-log-key",
            "The log's Ed25519 (type 0x01) key.",
            "ok",
            &lk,
        ),
        key_vector(
            "ok-witness-key",
            "A cosignature/v1 (type 0x04) witness key.",
            "ok",
            &vkey(&witness(1)),
        ),
        key_vector(
            "ok-material-with-plus",
            "Key material whose base64 contains `+`: the string splits at its first two `+` only.",
            "ok",
            &plus,
        ),
        key_vector(
            "no-plus",
            "No `+` at all.",
            "malformed-key-string",
            &lk.replace('+', ""),
        ),
        key_vector(
            "one-plus",
            "Only one `+`: no key material.",
            "malformed-key-string",
            &format!("{name}+{id}"),
        ),
        key_vector(
            "too-long",
            "321 bytes, one more than MAX_KEY_NAME_LEN + 64.",
            "malformed-key-string",
            &format!(
                "{}+{id}+{material}",
                "a".repeat(321 - 2 - id.len() - material.len())
            ),
        ),
        key_vector(
            "empty-name",
            "An empty key name.",
            "invalid-key-name",
            &format!("+{id}+{material}"),
        ),
        key_vector(
            "name-with-space",
            "A key name with a space.",
            "invalid-key-name",
            &format!("vote example/log+{id}+{material}"),
        ),
        key_vector(
            "key-id-upper-case",
            "The key id in upper-case hex.",
            "bad-key-id",
            &format!("{name}+{}+{material}", id.to_uppercase()),
        ),
        key_vector(
            "key-id-seven-digits",
            "A key id of 7 hex digits.",
            "bad-key-id",
            &format!("{name}+{}+{material}", &id[1..]),
        ),
        key_vector(
            "material-one-character-short",
            "Key material of 43 base64 characters (33 bytes take 44, without padding).",
            "non-canonical-base64",
            &format!("{name}+{id}+{}", &material[..material.len() - 1]),
        ),
        key_vector(
            "material-with-padding-added",
            "Key material with an `=` appended.",
            "non-canonical-base64",
            &format!("{name}+{id}+{material}="),
        ),
        key_vector(
            "material-empty",
            "Empty key material.",
            "bad-key-length",
            &format!("{name}+{id}+"),
        ),
        key_vector(
            "key-31-bytes",
            "A type byte and a 31-byte key.",
            "bad-key-length",
            &format!("{name}+{id}+{}", b64(&short_material)),
        ),
        key_vector(
            "type-0x02",
            "Signature type 0x02, which tallyboard does not support.",
            "unsupported-key-type",
            &key_string(name, 0x02, &log_pk),
        ),
        key_vector(
            "small-order-key",
            "The identity point (y = 1) as the key, with its own key id.",
            "invalid-public-key",
            &key_string(name, 0x01, &identity),
        ),
        key_vector(
            "unreduced-key",
            "y = p + 3, not reduced modulo p (crypto.md §3 check 3), with its own key id.",
            "invalid-public-key",
            &key_string(name, 0x01, &unreduced),
        ),
        key_vector(
            "key-id-of-another-key",
            "The key id of another key with the same name.",
            "key-id-mismatch",
            &format!("{name}+{}+{material}", {
                let other = vkey(&impostor());
                other.split('+').nth(1).unwrap().to_owned()
            }),
        ),
        key_vector(
            "key-id-of-type-0x04",
            "The key id the same key has as a type 0x04 key.",
            "key-id-mismatch",
            &format!("{name}+{}+{material}", {
                let cos = key_string(name, 0x04, &log_pk);
                cos.split('+').nth(1).unwrap().to_owned()
            }),
        ),
    ]
}

// ---------------------------------------------------------------------------
// Files.

const AREAS: [&str; 4] = ["notes", "checkpoints", "receipts", "keys"];

fn all_cases() -> Vec<Case> {
    let mut v = note_cases();
    v.extend(checkpoint_cases());
    v.extend(receipt_cases());
    v.extend(key_cases());
    v
}

fn vkeys(v: &Value, field: &str) -> Vec<VerifierKey> {
    v[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| VerifierKey::parse(s.as_str().unwrap()).unwrap())
        .collect()
}

fn run_note(v: &Value) -> Result<(), String> {
    let keys = vkeys(v, "verifier_keys");
    let opened = note::open(&get_bytes(v, "note"), &keys).map_err(|e| e.code().to_owned())?;
    assert_eq!(opened.text(), v["text"].as_str().unwrap());
    let names: Vec<&str> = opened.signed_by.iter().map(|s| s.name.as_str()).collect();
    let want: Vec<&str> = v["signed_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(names, want);
    Ok(())
}

fn run_checkpoint(v: &Value) -> Result<(), String> {
    let log_key = VerifierKey::parse(v["log_key"].as_str().unwrap()).unwrap();
    let witnesses = vkeys(v, "witness_keys");
    let quorum = v["quorum"].as_u64().unwrap() as usize;
    let opened = open_checkpoint(&get_bytes(v, "note"), &log_key, &witnesses, quorum)
        .map_err(|e| e.code().to_owned())?;
    let cp: &Checkpoint = &opened.checkpoint;
    assert_eq!(cp.origin, v["origin"].as_str().unwrap());
    assert_eq!(cp.size.to_string(), v["size"].as_str().unwrap());
    assert_eq!(cp.root.to_hex(), v["root_hex"].as_str().unwrap());
    let ext: Vec<&str> = v["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(cp.extensions, ext);
    let cos: Vec<(String, u64)> = opened
        .cosignatures
        .iter()
        .map(|c| (c.name.clone(), c.timestamp))
        .collect();
    let want: Vec<(String, u64)> = v["cosignatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["timestamp"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(cos, want);
    Ok(())
}

fn run_key(v: &Value) -> Result<(), String> {
    let s = v["verifier_key"].as_str().unwrap();
    let k = VerifierKey::parse(s).map_err(|e| e.code().to_owned())?;
    if v["expect"] != "ok" {
        // Parsed although an error is expected: the caller reports it.
        return Ok(());
    }
    assert_eq!(k.name(), v["name"].as_str().unwrap());
    assert_eq!(format!("{:08x}", k.key_id()), v["key_id"].as_str().unwrap());
    assert_eq!(u64::from(k.kind().type_byte()), v["type"].as_u64().unwrap());
    assert_eq!(
        hex::encode(k.public_key().as_bytes()),
        v["public_key_hex"].as_str().unwrap()
    );
    assert_eq!(k.to_string(), s);
    Ok(())
}

fn run_receipt(v: &Value) -> Result<(), String> {
    let log_key = VerifierKey::parse(v["log_key"].as_str().unwrap()).unwrap();
    let entry = hex::decode(v["entry_hex"].as_str().unwrap()).unwrap();
    let bytes = get_bytes(v, "receipt");
    let r = Receipt::parse(&bytes).map_err(|e| e.code().to_owned())?;
    // Whatever parses re-encodes to the same bytes (one encoding per receipt).
    assert_eq!(r.to_bytes(), bytes);
    let verified = r
        .verify(&entry, &log_key, v["origin"].as_str().unwrap())
        .map_err(|e| e.code().to_owned())?;
    assert_eq!(verified.index.to_string(), v["index"].as_str().unwrap());
    assert_eq!(
        verified.checkpoint.checkpoint.size.to_string(),
        v["tree_size"].as_str().unwrap()
    );
    assert_eq!(
        verified.leaf_hash.to_hex(),
        v["leaf_hash_hex"].as_str().unwrap()
    );
    assert_eq!(
        verified.checkpoint.checkpoint.root.to_hex(),
        v["root_hex"].as_str().unwrap()
    );
    Ok(())
}

/// The outcome of one vector file: `ok` or the error code.
fn outcome(area: &str, v: &Value) -> String {
    tallyboard_testkit::vectors::outcome_of(match area {
        "notes" => run_note(v),
        "checkpoints" => run_checkpoint(v),
        "keys" => run_key(v),
        _ => run_receipt(v),
    })
}

tallyboard_testkit::spec_vector_tests! {
    areas: AREAS,
    cases: all_cases,
    run: outcome,
}
