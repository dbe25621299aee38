#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cloned_ref_to_slice_refs
)]
//! Test vectors for signed tallies, manifests, the tally rules and signed
//! totals (`spec/vectors/tally/`, `spec/vectors/manifest/`,
//! `spec/vectors/rules/`, `spec/vectors/totals/`).
//!
//! 1. Every vector is regenerated here from fixed seeds and fixed times and
//!    compared with the file: any drift fails. `TALLYBOARD_BLESS=1` rewrites
//!    the files (and removes stale ones) instead.
//! 2. Every file in the four directories is run through the parser, the
//!    rules or the totals computation, and the outcome must be the one the
//!    file states.
//!
//! The expected outcome of each case is written by hand below, never derived
//! from the implementation under test.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tallyboard_core::cbor::{Encoder, encode_envelope};
use tallyboard_core::certification::{CertificationBody, SignedCertification};
use tallyboard_core::hash::Hash;
use tallyboard_core::keys::{Context, PublicKey, SecretKey};
use tallyboard_core::limits::MAX_SIGNED_TALLY;
use tallyboard_core::manifest::{
    Centre, CentreKey, Choice, Contest, LogInfo, ManifestBody, ManifestError, Region,
    SignedManifest, Unit, Witness,
};
use tallyboard_core::rules::{RevisionIndex, check_tally};
use tallyboard_core::tally::{SignedTally, Tally};
use tallyboard_core::totals::{
    CheckpointRef, SignedTotals, TotalsBody, TotalsBuilder, TotalsDifference, TotalsError, diff,
};

// ---------------------------------------------------------------------------
// Fixed keys and times.

/// 2026-09-21T23:06:40Z: the count.
const T: u64 = 1_790_000_000;
const ORIGIN: &str = "tallyboard.example/general-2026";

fn sk(seed: u8) -> SecretKey {
    SecretKey::from_seed(&[seed; 32])
}
fn pk(seed: u8) -> PublicKey {
    sk(seed).public_key()
}

const AUTHORITY: u8 = 0xa0;
const LOG: u8 = 0xa1;
const WITNESS: u8 = 0xa2;
/// Centre C1's current key, valid [T - 86400, T + 86400).
const C1: u8 = 0xc1;
/// Centre C1's old key, valid [T - 10 days, T - 5 days).
const C1_OLD: u8 = 0xc3;
/// Centre C2's key, valid [T - 86400, T + 86400), revoked at T + 3600.
const C2: u8 = 0xc2;
/// A key no manifest lists.
const STRANGER: u8 = 0x66;

fn manifest_body() -> ManifestBody {
    let key = |seed, valid_from, valid_until, revoked_at| CentreKey {
        key: pk(seed),
        valid_from,
        valid_until,
        revoked_at,
    };
    let choice = |id: &str, name: &str| Choice {
        id: id.into(),
        name: name.into(),
    };
    let region = |id: &str, name: &str, parent: Option<&str>| Region {
        id: id.into(),
        name: name.into(),
        parent: parent.map(Into::into),
    };
    let unit = |id: &str, region: &str, registered, contests: &[&str], centre: &str| Unit {
        id: id.into(),
        name: format!("Polling station {id}"),
        region: region.into(),
        registered,
        contests: contests.iter().map(|c| c.to_string()).collect(),
        centre: centre.into(),
    };
    ManifestBody {
        election: "general-2026".into(),
        title: "General election 2026 (EXAMPLE, not a real election)".into(),
        authority: pk(AUTHORITY),
        log: LogInfo {
            origin: ORIGIN.into(),
            key: pk(LOG),
        },
        witnesses: vec![Witness {
            name: "witness.example/w1".into(),
            key: pk(WITNESS),
        }],
        quorum: 1,
        mirrors: vec!["https://mirror.example/general-2026/".into()],
        contests: vec![
            Contest {
                id: "mayor".into(),
                title: "Mayor".into(),
                choices: vec![choice("alice", "Alice A."), choice("bob", "Bob B.")],
            },
            Contest {
                id: "council".into(),
                title: "Town council".into(),
                choices: vec![
                    choice("green", "Green list"),
                    choice("red", "Red list"),
                    choice("blue", "Blue list"),
                ],
            },
        ],
        regions: vec![
            region("north", "North", None),
            region("north-1", "North, district 1", Some("north")),
            region("south", "South", None),
        ],
        centres: vec![
            Centre {
                id: "C1".into(),
                name: "Count centre 1".into(),
                keys: vec![
                    key(C1, T - 86_400, T + 86_400, None),
                    key(C1_OLD, T - 864_000, T - 432_000, None),
                ],
            },
            Centre {
                id: "C2".into(),
                name: "Count centre 2".into(),
                keys: vec![key(C2, T - 86_400, T + 86_400, Some(T + 3_600))],
            },
        ],
        units: vec![
            unit("P-017", "north-1", 1_000, &["mayor", "council"], "C1"),
            unit("P-001", "north", 800, &["mayor"], "C1"),
            unit("S-001", "south", 500, &["mayor", "council"], "C2"),
        ],
        polls_close: None,
        results_due: None,
    }
}

fn signed_manifest() -> Vec<u8> {
    manifest_body()
        .validate()
        .unwrap()
        .sign(&sk(AUTHORITY))
        .as_bytes()
        .to_vec()
}

/// A mayor tally for `unit` that adds up, signed by `signer`.
fn mayor(unit: &str, alice: u64, bob: u64, signer: u8) -> Tally {
    Tally::new(
        "general-2026",
        "mayor",
        unit,
        [("alice", alice), ("bob", bob)],
        3,
        2,
        alice + bob + 5,
        T,
        pk(signer),
    )
}

fn signed(t: &Tally, signer: u8) -> Vec<u8> {
    t.sign(&sk(signer)).as_bytes().to_vec()
}

fn leaf(bytes: &[u8]) -> Hash {
    tallyboard_core::hash::leaf_hash(bytes)
}

// ---------------------------------------------------------------------------
// Raw body surgery.

/// The tally body as (key, encoded value) pairs.
fn fields(t: &Tally) -> Vec<(u64, Vec<u8>)> {
    let enc = |f: &dyn Fn(&mut Encoder)| {
        let mut e = Encoder::new();
        f(&mut e);
        e.into_bytes()
    };
    let mut v = vec![
        (0, enc(&|e| e.uint(1))),
        (1, enc(&|e| e.text(&t.election))),
        (2, enc(&|e| e.text(&t.contest))),
        (3, enc(&|e| e.text(&t.unit))),
        (4, enc(&|e| e.text_uint_map(&t.choices))),
        (5, enc(&|e| e.uint(t.blank))),
        (6, enc(&|e| e.uint(t.invalid))),
        (7, enc(&|e| e.uint(t.ballots_cast))),
        (8, enc(&|e| e.uint(t.counted_at))),
        (9, enc(&|e| e.uint(t.revision))),
    ];
    if let Some(h) = t.supersedes {
        v.push((10, enc(&|e| e.bytes(&h.0))));
    }
    if let Some(r) = &t.reason {
        v.push((11, enc(&|e| e.text(r))));
    }
    v.push((12, enc(&|e| e.bytes(t.signer.as_bytes()))));
    v
}

fn assemble(fields: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut e = Encoder::new();
    e.map(fields.len());
    let mut out = e.into_bytes();
    for (k, v) in fields {
        let mut e = Encoder::new();
        e.uint(*k);
        out.extend(e.into_bytes());
        out.extend_from_slice(v);
    }
    out
}

fn envelope(body: &[u8], signer: u8) -> Vec<u8> {
    encode_envelope(body, &sk(signer).sign(Context::Tally, body))
}

/// `mayor("P-017", 500, 312, C1)` with field `key` replaced by `value`.
fn with_field(key: u64, value: Vec<u8>) -> Vec<u8> {
    let mut f = fields(&mayor("P-017", 500, 312, C1));
    let slot = f.iter_mut().find(|(k, _)| *k == key).unwrap();
    slot.1 = value;
    envelope(&assemble(&f), C1)
}

// ---------------------------------------------------------------------------
// Cases.

struct Case {
    area: &'static str,
    name: String,
    json: Value,
}

fn case(area: &'static str, name: &str, description: &str, expect: &str, fields: Value) -> Case {
    let mut obj = match fields {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    obj.insert("description".into(), json!(description));
    obj.insert("expect".into(), json!(expect));
    Case {
        area,
        name: name.to_owned(),
        json: Value::Object(obj),
    }
}

fn tally_case(name: &str, description: &str, expect: &str, bytes: &[u8]) -> Case {
    let mut f = json!({ "signed_tally_hex": hex::encode(bytes) });
    if expect == "ok" {
        f["leaf_hash_hex"] = json!(leaf(bytes).to_hex());
    }
    case("tally", name, description, expect, f)
}

fn tally_cases() -> Vec<Case> {
    let good = mayor("P-017", 500, 312, C1);
    let good_bytes = signed(&good, C1);
    let r2 = good.correction(
        leaf(&good_bytes),
        "Recount of ballot box 2\nordered by the district board",
    );
    let mut wide = good.clone();
    wide.choices.clear();
    wide.ballots_cast = 5;
    let mut v = vec![
        tally_case(
            "ok-first-publication",
            "A first publication (revision 1) signed by its signer key.",
            "ok",
            &good_bytes,
        ),
        tally_case(
            "ok-correction",
            "A correction: revision 2, supersedes (leaf hash of the first publication) and a reason with a line feed.",
            "ok",
            &signed(&r2, C1),
        ),
        tally_case(
            "ok-empty-choices-map",
            "An empty choices map decodes (the rules, not the decoder, require every choice).",
            "ok",
            &signed(&wide, C1),
        ),
    ];
    let mut trailing = good_bytes.clone();
    trailing.push(0x00);
    v.push(tally_case(
        "trailing-bytes",
        "One byte follows the signed envelope.",
        "trailing-bytes",
        &trailing,
    ));
    let mut body = good.to_body_bytes();
    body.push(0x00);
    v.push(tally_case(
        "trailing-bytes-in-body",
        "One byte follows the body map inside the body byte string (the signature covers it).",
        "trailing-bytes",
        &envelope(&body, C1),
    ));
    v.push(tally_case(
        "non-canonical-integer",
        "blank = 3 encoded in two bytes (0x18 0x03) instead of one.",
        "non-canonical",
        &with_field(5, vec![0x18, 0x03]),
    ));
    let mut long_text = vec![0x78, 5];
    long_text.extend_from_slice(b"P-017");
    v.push(tally_case(
        "non-canonical-length",
        "The unit id's length (5) encoded with a one-byte argument (0x78 0x05).",
        "non-canonical",
        &with_field(3, long_text),
    ));
    let mut indefinite = vec![0xbf];
    indefinite.extend_from_slice(&good.to_body_bytes()[1..]);
    indefinite.push(0xff);
    v.push(tally_case(
        "indefinite-length-map",
        "The body map has indefinite length (0xbf ... 0xff).",
        "non-canonical",
        &envelope(&indefinite, C1),
    ));
    let mut f = fields(&good);
    f.swap(5, 6);
    v.push(tally_case(
        "unsorted-map-keys",
        "Keys 6 (invalid) and 5 (blank) in the wrong order.",
        "non-canonical",
        &envelope(&assemble(&f), C1),
    ));
    let mut f = fields(&good);
    f[4].1 = vec![
        0xa2, 0x63, b'b', b'o', b'b', 0x19, 0x01, 0x38, 0x65, b'a', b'l', b'i', b'c', b'e', 0x19,
        0x01, 0xf4,
    ];
    // "bob" (3 bytes) before "alice" (5 bytes) is canonical: shorter first.
    v.push(tally_case(
        "ok-choice-keys-shorter-first",
        "Choice keys ordered by encoded bytes: \"bob\" (0x63...) before \"alice\" (0x65...).",
        "ok",
        &envelope(&assemble(&f), C1),
    ));
    let mut f = fields(&good);
    f[4].1 = vec![
        0xa2, 0x65, b'a', b'l', b'i', b'c', b'e', 0x19, 0x01, 0xf4, 0x63, b'b', b'o', b'b', 0x19,
        0x01, 0x38,
    ];
    v.push(tally_case(
        "unsorted-choice-keys",
        "Choice keys in plain alphabetical order (\"alice\" before \"bob\"), not in the order of their encodings.",
        "non-canonical",
        &envelope(&assemble(&f), C1),
    ));
    let mut f = fields(&good);
    let dup = f[5].clone();
    f.insert(6, dup);
    v.push(tally_case(
        "duplicate-key",
        "Key 5 (blank) appears twice.",
        "duplicate-key",
        &envelope(&assemble(&f), C1),
    ));
    v.push(tally_case(
        "duplicate-choice",
        "Choice \"bob\" appears twice in the choices map.",
        "duplicate-key",
        &with_field(
            4,
            vec![
                0xa2, 0x63, b'b', b'o', b'b', 0x01, 0x63, b'b', b'o', b'b', 0x02,
            ],
        ),
    ));
    let mut f = fields(&good);
    f.push((13, vec![0x00]));
    v.push(tally_case(
        "unknown-key",
        "Key 13, which version 1 does not define.",
        "unknown-field",
        &envelope(&assemble(&f), C1),
    ));
    // Struct-map keys of another major type than 0: `unknown-field`, decided
    // from the key's first byte (tally-and-manifest.md §2.3).
    for (name, description, key) in [
        (
            "negative-key",
            "A 13th key -1 (major type 1, 0x20) after key 12.",
            &[0x20][..],
        ),
        (
            "tagged-key",
            "A 13th key 0 wrapped in tag 0 (0xc0 0x00) after key 12.",
            &[0xc0, 0x00][..],
        ),
        (
            "simple-value-key",
            "A 13th key false (major type 7, 0xf4) after key 12.",
            &[0xf4][..],
        ),
        (
            "text-key",
            "A 13th key \"x\" (a text string) after key 12.",
            &[0x61, b'x'][..],
        ),
    ] {
        let mut body = good.to_body_bytes();
        body[0] += 1;
        body.extend_from_slice(key);
        body.push(0x00);
        v.push(tally_case(
            name,
            description,
            "unknown-field",
            &envelope(&body, C1),
        ));
    }
    let mut f = fields(&good);
    f.retain(|(k, _)| *k != 7);
    v.push(tally_case(
        "missing-key",
        "Key 7 (ballots_cast) is absent.",
        "missing-field",
        &envelope(&assemble(&f), C1),
    ));
    v.push(tally_case(
        "negative-count",
        "blank = -1 (major type 1).",
        "wrong-type",
        &with_field(5, vec![0x20]),
    ));
    v.push(tally_case(
        "count-as-text",
        "blank = \"3\" (a text string).",
        "wrong-type",
        &with_field(5, vec![0x61, b'3']),
    ));
    v.push(tally_case(
        "float-count",
        "blank = 3.0 as a half-precision float.",
        "wrong-type",
        &with_field(5, vec![0xf9, 0x42, 0x00]),
    ));
    v.push(tally_case(
        "tagged-count",
        "blank = bignum tag 2 around h'03'.",
        "wrong-type",
        &with_field(5, vec![0xc2, 0x41, 0x03]),
    ));
    v.push(tally_case(
        "unsupported-version",
        "version = 2.",
        "unsupported-version",
        &with_field(0, vec![0x02]),
    ));
    let mut bad = good_bytes.clone();
    let n = bad.len();
    bad[n - 1] ^= 0x01;
    v.push(tally_case(
        "bad-signature",
        "The last signature byte is altered.",
        "bad-signature",
        &bad,
    ));
    let mut altered = good_bytes.clone();
    let pos = altered.windows(5).position(|w| w == b"P-017").unwrap();
    altered[pos + 4] = b'8';
    v.push(tally_case(
        "altered-body",
        "The unit id is changed to P-018 after signing; the body is still canonical.",
        "bad-signature",
        &altered,
    ));
    v.push(tally_case(
        "signature-by-another-key",
        "The body names C1's key as signer but the stranger key (seed 0x66) signed it.",
        "bad-signature",
        &envelope(&good.to_body_bytes(), STRANGER),
    ));
    let body = good.to_body_bytes();
    v.push(tally_case(
        "signature-with-manifest-context",
        "The signer key signed \"tallyboard/v1/manifest\\n\" || body instead of the tally label.",
        "bad-signature",
        &encode_envelope(&body, &sk(C1).sign(Context::Manifest, &body)),
    ));
    let mut big = good.clone();
    let mut i = 0;
    while signed(&big, C1).len() <= MAX_SIGNED_TALLY {
        big.choices.insert(format!("choice-{i:05}"), 0);
        i += 1;
    }
    v.push(tally_case(
        "oversized",
        "A signed tally one choice longer than MAX_SIGNED_TALLY (16384 bytes) allows.",
        "oversized",
        &signed(&big, C1),
    ));
    let mut bad_id = good.clone();
    bad_id.unit = "P/017".into();
    v.push(tally_case(
        "invalid-id-slash",
        "The unit id contains '/'.",
        "invalid-id",
        &signed(&bad_id, C1),
    ));
    bad_id.unit = ".P-017".into();
    v.push(tally_case(
        "invalid-id-leading-dot",
        "The unit id starts with '.'.",
        "invalid-id",
        &signed(&bad_id, C1),
    ));
    bad_id.unit = "P".repeat(65);
    v.push(tally_case(
        "invalid-id-too-long",
        "The unit id is 65 bytes long.",
        "invalid-id",
        &signed(&bad_id, C1),
    ));
    let bell = good.correction(leaf(&good_bytes), "recount\u{7}");
    v.push(tally_case(
        "invalid-reason-control-character",
        "The reason contains U+0007.",
        "invalid-text",
        &signed(&bell, C1),
    ));
    v.push(tally_case(
        "signer-wrong-length",
        "The signer is a 31-byte string.",
        "bad-length",
        &with_field(12, {
            let mut b = vec![0x58, 31];
            b.extend_from_slice(&pk(C1).as_bytes()[..31]);
            b
        }),
    ));
    let mut identity = vec![0x58, 32, 1];
    identity.extend_from_slice(&[0; 31]);
    v.push(tally_case(
        "signer-small-order-key",
        "The signer is the identity point (a small-order key).",
        "invalid-key",
        &with_field(12, identity),
    ));
    let mut short_sig = good_bytes[..good_bytes.len() - 66].to_vec();
    short_sig.extend_from_slice(&[0x58, 63]);
    short_sig.extend_from_slice(&good_bytes[good_bytes.len() - 64..good_bytes.len() - 1]);
    v.push(tally_case(
        "signature-wrong-length",
        "The signature is 63 bytes.",
        "bad-length",
        &short_sig,
    ));
    v.push(tally_case(
        "not-an-envelope",
        "A bare body map, without the [body, signature] array.",
        "wrong-type",
        &good.to_body_bytes(),
    ));
    v.push(tally_case(
        "truncated",
        "The signed tally without its last 10 bytes.",
        "malformed",
        &good_bytes[..good_bytes.len() - 10],
    ));
    let mut bad_utf8 = vec![0x65];
    bad_utf8.extend_from_slice(b"P-0\xff7");
    v.push(tally_case(
        "invalid-utf8",
        "The unit id is not UTF-8.",
        "malformed",
        &with_field(3, bad_utf8),
    ));
    v
}

// ---------------------------------------------------------------------------
// Manifests: input `signed_manifest_hex` and optional
// `expected_authority_hex`.

fn manifest_case(
    name: &str,
    description: &str,
    expect: &str,
    bytes: &[u8],
    expected_authority: Option<u8>,
    problems: &[&str],
) -> Case {
    let mut f = json!({ "signed_manifest_hex": hex::encode(bytes) });
    if let Some(a) = expected_authority {
        f["expected_authority_hex"] = json!(pk(a).to_hex());
    }
    if !problems.is_empty() {
        f["problems"] = json!(problems);
    }
    case("manifest", name, description, expect, f)
}

/// The example body changed by `f`, signed by the authority without
/// validation (the signer does not check structure; verifiers do).
fn manifest_variant(f: impl FnOnce(&mut ManifestBody)) -> Vec<u8> {
    let mut b = manifest_body();
    f(&mut b);
    let body = b.to_body_bytes();
    encode_envelope(&body, &sk(AUTHORITY).sign(Context::Manifest, &body))
}

/// A change to the example manifest body.
type Edit = Box<dyn FnOnce(&mut ManifestBody)>;

fn manifest_cases() -> Vec<Case> {
    let good = signed_manifest();
    let mut v = vec![
        manifest_case(
            "ok-example",
            "The example manifest, checked against the expected authority key.",
            "ok",
            &good,
            Some(AUTHORITY),
            &[],
        ),
        manifest_case(
            "ok-without-expected-authority",
            "The example manifest; the caller does not pin the authority key.",
            "ok",
            &good,
            None,
            &[],
        ),
        manifest_case(
            "ok-revoked-key-listed",
            "A manifest listing a key with a revocation time is valid (the revocation matters to the tally rules).",
            "ok",
            &manifest_variant(|b| b.centres[0].keys[1].revoked_at = Some(T - 500_000)),
            Some(AUTHORITY),
            &[],
        ),
    ];
    v.push(manifest_case(
        "ok-with-times",
        "The example manifest with polls_close (key 12) and results_due (key 13).",
        "ok",
        &manifest_variant(|b| {
            b.polls_close = Some(T);
            b.results_due = Some(T + 43_200);
        }),
        Some(AUTHORITY),
        &[],
    ));
    v.push(manifest_case(
        "ok-with-results-due-only",
        "results_due without polls_close: each time is optional on its own.",
        "ok",
        &manifest_variant(|b| b.results_due = Some(T + 43_200)),
        Some(AUTHORITY),
        &[],
    ));
    {
        // Keys 13 then 12: the decoder reads both, the re-encoding puts
        // 12 first.
        let mut b = manifest_body();
        b.polls_close = Some(T);
        b.results_due = Some(T + 1);
        let body = b.to_body_bytes();
        let tail = [0x0c, 0x1a];
        let at = body.windows(2).rposition(|w| w == tail).unwrap();
        let (head, times) = body.split_at(at);
        let (close, due) = times.split_at(times.len() / 2);
        let mut swapped = head.to_vec();
        swapped.extend_from_slice(due);
        swapped.extend_from_slice(close);
        v.push(manifest_case(
            "times-out-of-order",
            "results_due (key 13) written before polls_close (key 12).",
            "non-canonical",
            &encode_envelope(&swapped, &sk(AUTHORITY).sign(Context::Manifest, &swapped)),
            None,
            &[],
        ));
    }
    v.push(manifest_case(
        "unexpected-authority",
        "A valid manifest signed by another authority than the one expected.",
        "unexpected-authority",
        &manifest_body()
            .validate()
            .unwrap()
            .sign(&sk(STRANGER))
            .to_bytes(),
        Some(AUTHORITY),
        &[],
    ));
    let mut bad = good.clone();
    let n = bad.len();
    bad[n - 1] ^= 0x80;
    v.push(manifest_case(
        "bad-signature",
        "The last signature byte is altered.",
        "bad-signature",
        &bad,
        None,
        &[],
    ));
    let body = manifest_body().to_body_bytes();
    v.push(manifest_case(
        "signature-by-another-key",
        "The body names the authority key but the stranger key signed it.",
        "bad-signature",
        &encode_envelope(&body, &sk(STRANGER).sign(Context::Manifest, &body)),
        None,
        &[],
    ));
    v.push(manifest_case(
        "signature-with-tally-context",
        "The authority key signed with the tally label.",
        "bad-signature",
        &encode_envelope(&body, &sk(AUTHORITY).sign(Context::Tally, &body)),
        None,
        &[],
    ));
    let mut trailing = good.clone();
    trailing.push(0x00);
    v.push(manifest_case(
        "trailing-bytes",
        "One byte follows the signed envelope.",
        "trailing-bytes",
        &trailing,
        None,
        &[],
    ));
    // quorum (key 6) = 1 written as 0x18 0x01.
    let pos = body.windows(2).position(|w| w == [0x06, 0x01]).unwrap();
    let mut nc = body[..=pos].to_vec();
    nc.extend_from_slice(&[0x18, 0x01]);
    nc.extend_from_slice(&body[pos + 2..]);
    v.push(manifest_case(
        "non-canonical-integer",
        "quorum = 1 encoded in two bytes.",
        "non-canonical",
        &encode_envelope(&nc, &sk(AUTHORITY).sign(Context::Manifest, &nc)),
        None,
        &[],
    ));
    let structural: Vec<(&str, &str, &str, Edit)> = vec![
        (
            "duplicate-unit-id",
            "Two units share the id P-017.",
            "duplicate-id",
            Box::new(|b: &mut ManifestBody| b.units[1].id = "P-017".into()),
        ),
        (
            "unit-unknown-region",
            "Unit P-001 names region east, which is not listed.",
            "unit-unknown-region",
            Box::new(|b: &mut ManifestBody| b.units[1].region = "east".into()),
        ),
        (
            "unit-unknown-centre",
            "Unit P-001 names count centre C9, which is not listed.",
            "unit-unknown-centre",
            Box::new(|b: &mut ManifestBody| b.units[1].centre = "C9".into()),
        ),
        (
            "unit-unknown-contest",
            "Unit P-001 takes part in contest senate, which is not listed.",
            "unit-unknown-contest",
            Box::new(|b: &mut ManifestBody| b.units[1].contests.push("senate".into())),
        ),
        (
            "unit-duplicate-contest",
            "Unit P-001 lists contest mayor twice.",
            "unit-duplicate-contest",
            Box::new(|b: &mut ManifestBody| b.units[1].contests.push("mayor".into())),
        ),
        (
            "region-unknown-parent",
            "Region south names parent region east, which is not listed.",
            "region-unknown-parent",
            Box::new(|b: &mut ManifestBody| b.regions[2].parent = Some("east".into())),
        ),
        (
            "region-cycle",
            "Region north's parent is north-1, whose parent is north.",
            "region-cycle",
            Box::new(|b: &mut ManifestBody| b.regions[0].parent = Some("north-1".into())),
        ),
        (
            "quorum-too-large",
            "Quorum 2 with one witness.",
            "quorum-too-large",
            Box::new(|b: &mut ManifestBody| b.quorum = 2),
        ),
        (
            "empty-key-window",
            "A key valid from T until T.",
            "empty-key-window",
            Box::new(|b: &mut ManifestBody| {
                b.centres[1].keys[0].valid_from = T;
                b.centres[1].keys[0].valid_until = T;
            }),
        ),
        (
            "key-in-two-centres",
            "C1's current key is also listed for C2.",
            "key-in-two-centres",
            Box::new(|b: &mut ManifestBody| {
                let k = b.centres[0].keys[0].clone();
                b.centres[1].keys.push(k);
            }),
        ),
        (
            "duplicate-centre-key",
            "C1 lists its current key twice.",
            "duplicate-centre-key",
            Box::new(|b: &mut ManifestBody| {
                let k = b.centres[0].keys[0].clone();
                b.centres[0].keys.push(k);
            }),
        ),
        (
            "contest-without-choices",
            "Contest council has no choices.",
            "contest-without-choices",
            Box::new(|b: &mut ManifestBody| b.contests[1].choices.clear()),
        ),
        (
            "duplicate-choice-id",
            "Contest mayor lists choice alice twice.",
            "duplicate-choice-id",
            Box::new(|b: &mut ManifestBody| b.contests[0].choices[1].id = "alice".into()),
        ),
        (
            "no-units",
            "The manifest lists no reporting units.",
            "no-units",
            Box::new(|b: &mut ManifestBody| b.units.clear()),
        ),
        (
            "due-before-close",
            "The results are due one second before the polls close.",
            "due-before-close",
            Box::new(|b: &mut ManifestBody| {
                b.polls_close = Some(T);
                b.results_due = Some(T - 1);
            }),
        ),
        (
            "origin-is-context-label",
            "The log origin is \"tallyboard/v1/tally\".",
            "origin-is-context-label",
            Box::new(|b: &mut ManifestBody| b.log.origin = "tallyboard/v1/tally".into()),
        ),
    ];
    for (name, description, code, f) in structural {
        v.push(manifest_case(
            name,
            description,
            code,
            &manifest_variant(f),
            Some(AUTHORITY),
            &[],
        ));
    }
    v.push(manifest_case(
        "two-problems-one-code",
        "Two units in an unknown region: two problems with one code, so expect is that code.",
        "unit-unknown-region",
        &manifest_variant(|b| {
            b.units[1].region = "east".into();
            b.units[2].region = "west".into();
        }),
        Some(AUTHORITY),
        &[],
    ));
    v.push(manifest_case(
        "several-problems",
        "Three problems with three codes; a verifier reports all of them (expect is \"invalid-manifest\", problems lists every distinct code, sorted).",
        "invalid-manifest",
        &manifest_variant(|b| {
            b.quorum = 5;
            b.units[2].region = "east".into();
            b.contests[1].choices.clear();
        }),
        Some(AUTHORITY),
        &["contest-without-choices", "quorum-too-large", "unit-unknown-region"],
    ));
    v.push(manifest_case(
        "invalid-origin",
        "The log origin contains a space.",
        "invalid-text",
        &manifest_variant(|b| b.log.origin = "tallyboard example".into()),
        None,
        &[],
    ));
    v
}

// ---------------------------------------------------------------------------
// Rules: inputs `signed_manifest_hex`, `log_hex` (the entries already in the
// log, in order, each valid) and `signed_tally_hex`. Outcome: every
// violation of check_tally and the log rules; `violations` lists their
// codes, sorted; `expect` is "ok" or, for one violation, its code.

fn rules_case(
    name: &str,
    description: &str,
    log: &[Vec<u8>],
    tally: &[u8],
    violations: &[&str],
) -> Case {
    let mut sorted: Vec<&str> = violations.to_vec();
    sorted.sort_unstable();
    let expect = match sorted.as_slice() {
        [] => "ok",
        [one] => one,
        _ => "several",
    };
    let f = json!({
        "signed_manifest_hex": hex::encode(signed_manifest()),
        "log_hex": log.iter().map(hex::encode).collect::<Vec<_>>(),
        "signed_tally_hex": hex::encode(tally),
        "violations": sorted,
    });
    case("rules", name, description, expect, f)
}

fn rules_cases() -> Vec<Case> {
    let r1 = mayor("P-017", 500, 312, C1);
    let r1b = signed(&r1, C1);
    let h1 = leaf(&r1b);
    let r2 = r1.correction(h1, "Recount of ballot box 2");
    let r2b = signed(&r2, C1);
    let other = mayor("P-001", 400, 300, C1);
    let otherb = signed(&other, C1);
    let council = Tally::new(
        "general-2026",
        "council",
        "P-017",
        [("green", 300u64), ("red", 200), ("blue", 100)],
        1,
        1,
        602,
        T,
        pk(C1),
    );
    let councilb = signed(&council, C1);
    let with = |f: &dyn Fn(&mut Tally)| {
        let mut t = r1.clone();
        f(&mut t);
        signed(&t, C1)
    };
    let mut v = vec![
        rules_case(
            "ok-first-publication",
            "A first publication that adds up, by the responsible centre's valid key.",
            &[],
            &r1b,
            &[],
        ),
        rules_case(
            "ok-correction",
            "Revision 2 superseding the latest entry (revision 1), with a reason.",
            &[r1b.clone()],
            &r2b,
            &[],
        ),
        rules_case(
            "ok-key-window-start",
            "counted_at equals the key's valid_from (the window includes its start).",
            &[],
            &with(&|t| t.counted_at = T - 86_400),
            &[],
        ),
        rules_case(
            "ok-other-contest-same-unit",
            "The unit's council tally after its mayor tally.",
            &[r1b.clone()],
            &councilb,
            &[],
        ),
        rules_case(
            "wrong-election",
            "The tally names election general-2025.",
            &[],
            &with(&|t| t.election = "general-2025".into()),
            &["wrong-election"],
        ),
        rules_case(
            "unknown-unit",
            "Unit P-999 is not in the manifest.",
            &[],
            &with(&|t| t.unit = "P-999".into()),
            &["unknown-unit"],
        ),
        rules_case(
            "unknown-contest",
            "Contest senate is not in the manifest.",
            &[],
            &with(&|t| t.contest = "senate".into()),
            &["unknown-contest"],
        ),
        rules_case(
            "contest-not-in-unit",
            "Unit P-001 does not take part in contest council.",
            &[],
            &signed(
                &Tally {
                    unit: "P-001".into(),
                    ..council.clone()
                },
                C1,
            ),
            &["contest-not-in-unit"],
        ),
        rules_case(
            "unknown-choice",
            "A vote count for choice carol, who is not on the mayor ballot (ballots cast includes them).",
            &[],
            &with(&|t| {
                t.choices.insert("carol".into(), 10);
                t.ballots_cast += 10;
            }),
            &["unknown-choice"],
        ),
        rules_case(
            "missing-choice",
            "No count for choice bob (0 must be written).",
            &[],
            &with(&|t| {
                t.choices.remove("bob");
                t.ballots_cast -= 312;
            }),
            &["missing-choice"],
        ),
        rules_case(
            "arithmetic-mismatch",
            "500 + 312 + blank 3 + invalid 2 = 817, but ballots cast says 820.",
            &[],
            &with(&|t| t.ballots_cast = 820),
            &["arithmetic-mismatch"],
        ),
        rules_case(
            "count-overflow",
            "Choice votes whose sum exceeds 2^64 - 1.",
            &[],
            &with(&|t| {
                t.choices.insert("alice".into(), u64::MAX);
            }),
            &["count-overflow"],
        ),
        rules_case(
            "ballots-exceed-registered",
            "1,005 ballots cast where 1,000 voters are registered.",
            &[],
            &with(&|t| {
                t.choices.insert("alice".into(), 688);
                t.ballots_cast = 1_005;
            }),
            &["ballots-exceed-registered"],
        ),
        rules_case(
            "unknown-signer",
            "Signed by a key the manifest does not list.",
            &[],
            &signed(&mayor("P-017", 500, 312, STRANGER), STRANGER),
            &["unknown-signer"],
        ),
        rules_case(
            "signer-not-responsible",
            "P-017 is C1's unit, but C2's key signed (before its revocation).",
            &[],
            &signed(&mayor("P-017", 500, 312, C2), C2),
            &["signer-not-responsible"],
        ),
        rules_case(
            "key-not-yet-valid",
            "Counted one second before the key's window opens.",
            &[],
            &with(&|t| t.counted_at = T - 86_401),
            &["key-not-yet-valid"],
        ),
        rules_case(
            "key-expired",
            "Signed with C1's old key, whose window closed five days before the count.",
            &[],
            &signed(&mayor("P-017", 500, 312, C1_OLD), C1_OLD),
            &["key-expired"],
        ),
        rules_case(
            "key-expired-at-window-end",
            "counted_at equals valid_until (the window excludes its end).",
            &[],
            &with(&|t| t.counted_at = T + 86_400),
            &["key-expired"],
        ),
        rules_case(
            "key-revoked",
            "C2's key signed a tally counted at its revocation time.",
            &[],
            &signed(
                &Tally {
                    counted_at: T + 3_600,
                    ..mayor("S-001", 200, 100, C2)
                },
                C2,
            ),
            &["key-revoked"],
        ),
        rules_case(
            "revision-zero",
            "revision = 0.",
            &[],
            &with(&|t| t.revision = 0),
            &["revision-zero"],
        ),
        rules_case(
            "correction-without-reason",
            "Revision 2 superseding revision 1 without a reason.",
            &[r1b.clone()],
            &signed(
                &Tally {
                    reason: None,
                    ..r2.clone()
                },
                C1,
            ),
            &["correction-without-reason"],
        ),
        rules_case(
            "reason-without-correction",
            "A first publication with a reason.",
            &[],
            &with(&|t| t.reason = Some("early count".into())),
            &["reason-without-correction"],
        ),
        rules_case(
            "correction-without-supersedes",
            "Revision 2 with a reason but no supersedes, on an empty log.",
            &[],
            &signed(
                &Tally {
                    supersedes: None,
                    ..r2.clone()
                },
                C1,
            ),
            &["correction-without-supersedes"],
        ),
        rules_case(
            "supersedes-without-correction",
            "Revision 1 naming the existing revision 1 as superseded: also not the next revision.",
            &[r1b.clone()],
            &signed(
                &Tally {
                    revision: 1,
                    reason: None,
                    ..r2.clone()
                },
                C1,
            ),
            &["supersedes-without-correction", "revision-not-next"],
        ),
        rules_case(
            "supersedes-unknown-entry",
            "The superseded leaf hash is not in the log.",
            &[r1b.clone()],
            &signed(&r1.correction(Hash([0x42; 32]), "typo"), C1),
            &["supersedes-unknown-entry"],
        ),
        rules_case(
            "supersedes-other-unit",
            "P-017's correction supersedes P-001's entry.",
            &[r1b.clone(), otherb.clone()],
            &signed(&r1.correction(leaf(&otherb), "typo"), C1),
            &["supersedes-other-unit"],
        ),
        rules_case(
            "supersedes-other-contest",
            "P-017's mayor correction supersedes its council entry.",
            &[r1b.clone(), councilb.clone()],
            &signed(&r1.correction(leaf(&councilb), "typo"), C1),
            &["supersedes-other-contest"],
        ),
        rules_case(
            "revision-not-next",
            "Revision 3 superseding revision 1.",
            &[r1b.clone()],
            &signed(
                &Tally {
                    revision: 3,
                    ..r2.clone()
                },
                C1,
            ),
            &["revision-not-next"],
        ),
        rules_case(
            "supersedes-stale-revision",
            "A second correction of revision 1 after revision 2 was published.",
            &[r1b.clone(), r2b.clone()],
            &signed(
                &Tally {
                    blank: 2,
                    invalid: 3,
                    ..r1.correction(h1, "second recount")
                },
                C1,
            ),
            &["supersedes-stale-revision"],
        ),
        rules_case(
            "first-revision-exists",
            "A second first publication for P-017 mayor.",
            &[r1b.clone()],
            &with(&|t| {
                t.blank = 4;
                t.ballots_cast += 1;
            }),
            &["first-revision-exists"],
        ),
        rules_case(
            "duplicate-entry",
            "The very same signed tally again.",
            &[r1b.clone(), r2b.clone()],
            &r2b,
            &["duplicate-entry"],
        ),
    ];
    v.push(rules_case(
        "several-violations",
        "Wrong election, a missing choice and bad arithmetic at once: every violation is reported.",
        &[],
        &with(&|t| {
            t.election = "general-2025".into();
            t.choices.remove("bob");
        }),
        &["wrong-election", "missing-choice", "arithmetic-mismatch"],
    ));
    v
}

// ---------------------------------------------------------------------------
// Totals: inputs `signed_manifest_hex`, `log_hex` (valid entries in log
// order), `checkpoint` (origin, size, root_hex) and `signed_totals_hex`.
// Verify the totals under the manifest's log key, require their checkpoint
// to equal the given one, recompute the totals from the log and compare.

/// One differing figure as the vectors write it (tally-and-manifest.md
/// §8.4): `region` null for the whole-election row, values as decimal
/// strings, null when absent.
fn difference_json(d: &TotalsDifference) -> Value {
    let n = |v: Option<u64>| v.map(|v| v.to_string());
    json!({
        "contest": d.contest,
        "region": d.region,
        "figure": d.figure,
        "published": n(d.published),
        "recomputed": n(d.recomputed),
    })
}

fn totals_case(
    name: &str,
    description: &str,
    expect: &str,
    log: &[Vec<u8>],
    root: Hash,
    totals: &[u8],
    differences: &[Value],
) -> Case {
    let mut f = json!({
        "signed_manifest_hex": hex::encode(signed_manifest()),
        "log_hex": log.iter().map(hex::encode).collect::<Vec<_>>(),
        "checkpoint": { "origin": ORIGIN, "size": log.len(), "root_hex": root.to_hex() },
        "signed_totals_hex": hex::encode(totals),
    });
    if !differences.is_empty() {
        f["differences"] = json!(differences);
    }
    case("totals", name, description, expect, f)
}

fn compute(log: &[Vec<u8>], root: Hash) -> TotalsBody {
    let m = SignedManifest::from_bytes(&signed_manifest(), None)
        .unwrap()
        .into_manifest();
    let mut b = TotalsBuilder::new(&m);
    for e in log {
        b.add(SignedTally::from_bytes(e).unwrap().tally()).unwrap();
    }
    b.finish(ORIGIN, log.len() as u64, root)
}

fn totals_cases() -> Vec<Case> {
    let root = Hash([0x5a; 32]);
    let sign = |t: &TotalsBody| t.sign(&sk(LOG)).to_bytes();
    let p017 = mayor("P-017", 500, 312, C1);
    let p017b = signed(&p017, C1);
    let p001b = signed(&mayor("P-001", 400, 300, C1), C1);
    let s001b = signed(&mayor("S-001", 200, 100, C2), C2);
    let r2 = Tally {
        choices: [("alice".to_string(), 490u64), ("bob".to_string(), 322)]
            .into_iter()
            .collect(),
        ..p017.correction(leaf(&p017b), "Recount of ballot box 2")
    };
    let r2b = signed(&r2, C1);
    let log3 = vec![p017b.clone(), p001b.clone(), s001b.clone()];
    let log4 = vec![p017b.clone(), p001b.clone(), s001b.clone(), r2b.clone()];
    let good3 = compute(&log3, root);
    let good4 = compute(&log4, root);
    let mut v = vec![
        totals_case(
            "ok-empty-log",
            "No tally yet: every row is zero, units_expected filled in.",
            "ok",
            &[],
            root,
            &sign(&compute(&[], root)),
            &[],
        ),
        totals_case(
            "ok-three-units",
            "Three units of two top-level regions; P-017 also counts in north-1's parent north.",
            "ok",
            &log3,
            root,
            &sign(&good3),
            &[],
        ),
        totals_case(
            "ok-latest-revision-only",
            "P-017's correction replaces its first publication's figures.",
            "ok",
            &log4,
            root,
            &sign(&good4),
            &[],
        ),
    ];
    // Counting both revisions of P-017.
    let mut both = good4.clone();
    for row in both
        .rows
        .iter_mut()
        .filter(|r| r.contest == "mayor" && r.region.as_deref() != Some("south"))
    {
        *row.choices.get_mut("alice").unwrap() += 500;
        *row.choices.get_mut("bob").unwrap() += 312;
        row.blank += 3;
        row.invalid += 2;
        row.ballots_cast += 817;
    }
    let diffs = |published: &TotalsBody, recomputed: &TotalsBody| -> Vec<Value> {
        diff(published, recomputed)
            .iter()
            .map(difference_json)
            .collect()
    };
    v.push(totals_case(
        "counts-superseded-revision",
        "The published totals add both revisions of P-017 mayor.",
        "totals-mismatch",
        &log4,
        root,
        &sign(&both),
        &diffs(&both, &good4),
    ));
    let mut altered = good3.clone();
    let row = altered
        .rows
        .iter_mut()
        .find(|r| r.contest == "mayor" && r.region.as_deref() == Some("north"))
        .unwrap();
    *row.choices.get_mut("bob").unwrap() += 100;
    row.ballots_cast += 100;
    v.push(totals_case(
        "altered-figure",
        "Bob's votes in region north are 100 too many (ballots cast adjusted to match).",
        "totals-mismatch",
        &log3,
        root,
        &sign(&altered),
        &diffs(&altered, &good3),
    ));
    let mut missing = good3.clone();
    missing
        .rows
        .retain(|r| !(r.contest == "council" && r.region.as_deref() == Some("south")));
    v.push(totals_case(
        "missing-row",
        "The council row of region south is absent.",
        "totals-mismatch",
        &log3,
        root,
        &sign(&missing),
        &diffs(&missing, &good3),
    ));
    let mut extra = good3.clone();
    let mut west = extra
        .rows
        .iter()
        .find(|r| r.contest == "mayor" && r.region.as_deref() == Some("south"))
        .unwrap()
        .clone();
    west.region = Some("west".into());
    let at = extra
        .rows
        .iter()
        .rposition(|r| r.contest == "mayor")
        .unwrap();
    extra.rows.insert(at + 1, west);
    v.push(totals_case(
        "extra-row",
        "A mayor row for region west, which the manifest does not have: figure row, published its ballots_cast, recomputed absent.",
        "totals-mismatch",
        &log3,
        root,
        &sign(&extra),
        &diffs(&extra, &good3),
    ));
    let mut choices = good3.clone();
    let row = choices
        .rows
        .iter_mut()
        .find(|r| r.contest == "mayor" && r.region.is_none())
        .unwrap();
    let bob = row.choices.remove("bob").unwrap();
    row.choices.insert("bobby".into(), bob);
    row.choices.insert("zed".into(), 0);
    v.push(totals_case(
        "choice-ids-differ",
        "The whole-election mayor row names choices bobby and zed instead of bob: one difference per choice id, in id order (bob, bobby, zed; not the encoding order bob, zed, bobby), absent where a side lacks the choice.",
        "totals-mismatch",
        &log3,
        root,
        &sign(&choices),
        &diffs(&choices, &good3),
    ));
    let mut expected = good3.clone();
    for r in expected.rows.iter_mut().filter(|r| r.region.is_none()) {
        r.units_expected += 1;
    }
    v.push(totals_case(
        "wrong-units-expected",
        "units_expected of every whole-election row is one too many.",
        "totals-mismatch",
        &log3,
        root,
        &sign(&expected),
        &diffs(&expected, &good3),
    ));
    v.push(totals_case(
        "signed-by-another-key",
        "Correct totals signed by a count-centre key instead of the log key.",
        "bad-signature",
        &log3,
        root,
        &good3.sign(&sk(C1)).to_bytes(),
        &[],
    ));
    let body = good3.to_body_bytes();
    v.push(totals_case(
        "signature-with-tally-context",
        "The log key signed the totals with the tally label.",
        "bad-signature",
        &log3,
        root,
        &encode_envelope(&body, &sk(LOG).sign(Context::Tally, &body)),
        &[],
    ));
    let mut at_other = good3.clone();
    at_other.checkpoint.size = 2;
    v.push(totals_case(
        "checkpoint-mismatch",
        "The totals claim tree size 2 while the checkpoint has 3 entries.",
        "checkpoint-mismatch",
        &log3,
        root,
        &sign(&at_other),
        &[],
    ));
    let mut unsorted = good3.clone();
    unsorted.rows.swap(0, 1);
    v.push(totals_case(
        "rows-not-sorted",
        "The first two rows are swapped.",
        "rows-not-sorted",
        &log3,
        root,
        &sign(&unsorted),
        &[],
    ));
    let mut trailing = sign(&good3);
    trailing.push(0);
    v.push(totals_case(
        "trailing-bytes",
        "One byte follows the signed envelope.",
        "trailing-bytes",
        &log3,
        root,
        &trailing,
        &[],
    ));
    v
}

// ---------------------------------------------------------------------------
// Files.

const AREAS: [&str; 5] = ["tally", "manifest", "rules", "totals", "certification"];

fn all_cases() -> Vec<Case> {
    let mut v = tally_cases();
    v.extend(manifest_cases());
    v.extend(rules_cases());
    v.extend(totals_cases());
    v.extend(certification_cases());
    v
}

// ---------------------------------------------------------------------------
// Certifications: inputs `signed_manifest_hex`, `signed_totals_hex`,
// `checkpoint` and `signed_certification_hex`.

fn certification_cases() -> Vec<Case> {
    let manifest = signed_manifest();
    let root = Hash([0x5a; 32]);
    let log = vec![
        signed(&mayor("P-017", 500, 312, C1), C1),
        signed(&mayor("P-001", 400, 300, C1), C1),
    ];
    let totals = compute(&log, root).sign(&sk(LOG)).to_bytes();
    let body = CertificationBody {
        election: "general-2026".into(),
        checkpoint: CheckpointRef {
            origin: ORIGIN.into(),
            size: 2,
            root,
        },
        totals: Hash::sha256(&totals),
        manifest: Hash::sha256(&manifest),
        certified_at: T + 86_400,
    };
    let cert_case = |name: &str, description: &str, expect: &str, bytes: &[u8]| {
        case(
            "certification",
            name,
            description,
            expect,
            json!({
                "signed_manifest_hex": hex::encode(&manifest),
                "signed_totals_hex": hex::encode(&totals),
                "checkpoint": {"origin": ORIGIN, "size": 2, "root_hex": root.to_hex()},
                "signed_certification_hex": hex::encode(bytes),
            }),
        )
    };
    let variant = |f: &dyn Fn(&mut CertificationBody)| {
        let mut b = body.clone();
        f(&mut b);
        b.sign(&sk(AUTHORITY)).as_bytes().to_vec()
    };
    let good = body.sign(&sk(AUTHORITY)).as_bytes().to_vec();
    let raw = body.to_body_bytes();
    let mut bad_sig = good.clone();
    let n = bad_sig.len();
    bad_sig[n - 1] ^= 0x01;
    let mut oversized = good.clone();
    oversized.resize(4097, 0);
    // certified_at (key 5) written in a longer head than needed.
    let mut long = raw.clone();
    let at = long.len() - 5;
    assert_eq!(long[at - 1..at + 1], [0x05, 0x1a]);
    long.splice(at..at + 1, [0x1b, 0, 0, 0, 0]);
    vec![
        cert_case(
            "ok",
            "The authority certifies the checkpoint of size 2 and the totals at it.",
            "ok",
            &good,
        ),
        cert_case(
            "ok-largest-time",
            "certified_at = 2^64 - 1, in its 9-byte canonical head (the time is a plain uint: nothing compares it).",
            "ok",
            &variant(&|b| b.certified_at = u64::MAX),
        ),
        cert_case(
            "ok-time-zero",
            "certified_at = 0, one byte.",
            "ok",
            &variant(&|b| b.certified_at = 0),
        ),
        cert_case(
            "signed-by-log-key",
            "The log key signed the statement instead of the authority key.",
            "bad-signature",
            body.sign(&sk(LOG)).as_bytes(),
        ),
        cert_case(
            "signed-with-totals-label",
            "The authority key signed the body with the totals label.",
            "bad-signature",
            &encode_envelope(&raw, &sk(AUTHORITY).sign(Context::Totals, &raw)),
        ),
        cert_case(
            "bad-signature",
            "The last signature byte is altered.",
            "bad-signature",
            &bad_sig,
        ),
        cert_case(
            "oversized",
            "4097 bytes, one over the limit (checked before decoding).",
            "oversized",
            &oversized,
        ),
        cert_case(
            "non-canonical-time",
            "certified_at written with an 8-byte argument.",
            "non-canonical",
            &encode_envelope(&long, &sk(AUTHORITY).sign(Context::Certification, &long)),
        ),
        cert_case(
            "wrong-checkpoint",
            "A valid statement about the tree of size 1: not the checkpoint verified.",
            "checkpoint-mismatch",
            &variant(&|b| b.checkpoint.size = 1),
        ),
        cert_case(
            "wrong-totals",
            "A valid statement naming other totals than those at the checkpoint.",
            "totals-mismatch",
            &variant(&|b| b.totals = Hash([0x77; 32])),
        ),
        cert_case(
            "wrong-manifest",
            "A valid statement naming another manifest.",
            "manifest-mismatch",
            &variant(&|b| b.manifest = Hash([0x66; 32])),
        ),
        cert_case(
            "wrong-election",
            "A valid statement for another election.",
            "wrong-election",
            &variant(&|b| b.election = "general-2030".into()),
        ),
    ]
}

fn run_certification(v: &Value) -> String {
    let manifest = hex_field(v, "signed_manifest_hex");
    let m = SignedManifest::from_bytes(&manifest, None)
        .unwrap()
        .into_manifest();
    let totals = hex_field(v, "signed_totals_hex");
    let c = match SignedCertification::from_bytes(
        &hex_field(v, "signed_certification_hex"),
        &m.authority,
    ) {
        Ok(c) => c,
        Err(e) => return e.code().into(),
    };
    let c = c.certification();
    let cp = &v["checkpoint"];
    if c.election != m.election {
        return "wrong-election".into();
    }
    if c.manifest != Hash::sha256(&manifest) {
        return "manifest-mismatch".into();
    }
    if c.checkpoint.origin != cp["origin"].as_str().unwrap()
        || c.checkpoint.size != cp["size"].as_u64().unwrap()
        || c.checkpoint.root.to_hex() != cp["root_hex"].as_str().unwrap()
    {
        return "checkpoint-mismatch".into();
    }
    if c.totals != Hash::sha256(&totals) {
        return "totals-mismatch".into();
    }
    "ok".into()
}

fn hex_field(v: &Value, field: &str) -> Vec<u8> {
    hex::decode(v[field].as_str().unwrap()).unwrap()
}

fn hex_list(v: &Value, field: &str) -> Vec<Vec<u8>> {
    v[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| hex::decode(s.as_str().unwrap()).unwrap())
        .collect()
}

fn run_tally(v: &Value) -> String {
    match SignedTally::from_bytes(&hex_field(v, "signed_tally_hex")) {
        Ok(t) => {
            assert_eq!(t.leaf_hash().to_hex(), v["leaf_hash_hex"].as_str().unwrap());
            "ok".into()
        }
        Err(e) => e.code().into(),
    }
}

fn run_manifest(v: &Value) -> String {
    let expected = v
        .get("expected_authority_hex")
        .map(|_| PublicKey::from_slice(&hex_field(v, "expected_authority_hex")).unwrap());
    match SignedManifest::from_bytes(&hex_field(v, "signed_manifest_hex"), expected.as_ref()) {
        Ok(_) => "ok".into(),
        Err(e) => {
            // The distinct codes of the problems, sorted, are what two
            // implementations agree on (not how many problems each lists).
            if let ManifestError::Invalid(p) = &e {
                let mut codes: Vec<&str> = p.iter().map(|p| p.code()).collect();
                codes.sort_unstable();
                codes.dedup();
                let want: Vec<&str> = v
                    .get("problems")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().map(|s| s.as_str().unwrap()).collect())
                    .unwrap_or_else(|| vec![v["expect"].as_str().unwrap()]);
                assert_eq!(codes, want);
            }
            e.code().into()
        }
    }
}

fn run_rules(v: &Value) -> String {
    let m = SignedManifest::from_bytes(&hex_field(v, "signed_manifest_hex"), None)
        .unwrap()
        .into_manifest();
    let mut ix = RevisionIndex::new();
    for e in hex_list(v, "log_hex") {
        let t = SignedTally::from_bytes(&e).unwrap();
        assert_eq!(check_tally(&m, t.tally()), []);
        ix.apply(t.tally(), t.leaf_hash()).unwrap();
    }
    let t = SignedTally::from_bytes(&hex_field(v, "signed_tally_hex")).unwrap();
    let mut codes: Vec<&str> = check_tally(&m, t.tally())
        .iter()
        .chain(ix.check(t.tally(), &t.leaf_hash()).iter())
        .map(|x| x.code())
        .collect();
    codes.sort_unstable();
    let want: Vec<&str> = v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(codes, want);
    match codes.as_slice() {
        [] => "ok".into(),
        [one] => (*one).into(),
        _ => "several".into(),
    }
}

fn run_totals(v: &Value) -> String {
    let m = SignedManifest::from_bytes(&hex_field(v, "signed_manifest_hex"), None)
        .unwrap()
        .into_manifest();
    let published = match SignedTotals::from_bytes(&hex_field(v, "signed_totals_hex"), &m.log.key) {
        Ok(t) => t,
        Err(e) => {
            assert!(
                matches!(
                    e,
                    TotalsError::Decode(_) | TotalsError::BadSignature | TotalsError::RowsNotSorted
                ),
                "{e}"
            );
            return e.code().into();
        }
    };
    let cp = &v["checkpoint"];
    let c = &published.totals().checkpoint;
    if c.origin != cp["origin"].as_str().unwrap()
        || c.size != cp["size"].as_u64().unwrap()
        || c.root.to_hex() != cp["root_hex"].as_str().unwrap()
        || published.totals().election != m.election
    {
        return "checkpoint-mismatch".into();
    }
    let mut b = TotalsBuilder::new(&m);
    for e in hex_list(v, "log_hex") {
        b.add(SignedTally::from_bytes(&e).unwrap().tally()).unwrap();
    }
    let recomputed = b.finish(&c.origin, c.size, c.root);
    let d: Vec<Value> = diff(published.totals(), &recomputed)
        .iter()
        .map(difference_json)
        .collect();
    if d.is_empty() {
        // Deterministic: the published bytes are exactly what the log would sign.
        assert_eq!(recomputed.sign(&sk(LOG)).as_bytes(), published.as_bytes());
        return "ok".into();
    }
    assert_eq!(&d, v["differences"].as_array().unwrap());
    "totals-mismatch".into()
}

#[test]
fn the_example_manifest_and_tallies_are_valid() {
    let m = SignedManifest::from_bytes(&signed_manifest(), Some(&pk(AUTHORITY))).unwrap();
    let by_kind: BTreeMap<&str, usize> = [
        ("contests", m.manifest().contests.len()),
        ("regions", m.manifest().regions.len()),
        ("units", m.manifest().units.len()),
    ]
    .into_iter()
    .collect();
    assert_eq!(by_kind["units"], 3);
    for (unit, signer) in [("P-017", C1), ("P-001", C1), ("S-001", C2)] {
        let t = SignedTally::from_bytes(&signed(&mayor(unit, 10, 20, signer), signer)).unwrap();
        assert_eq!(check_tally(m.manifest(), t.tally()), [], "{unit}");
    }
}

/// The outcome of one vector file: `ok` or the error code.
fn outcome(area: &str, v: &Value) -> String {
    match area {
        "tally" => run_tally(v),
        "manifest" => run_manifest(v),
        "rules" => run_rules(v),
        "certification" => run_certification(v),
        _ => run_totals(v),
    }
}

tallyboard_testkit::spec_vector_tests! {
    areas: AREAS,
    cases: all_cases,
    run: outcome,
}
