//! `tallyboard_results::totals_json`: the JSON form of signed totals that
//! browsers and scripts read (`public/totals.json`, `/totals.json`;
//! spec/results.md). The project only writes it, so the target checks what
//! it writes against the signed CBOR totals it was written from.
//!
//! Input: the first byte chooses the recipe. Even: the rest is a totals
//! body (CBOR, as the log signs it). Odd: the rest is a structured recipe
//! for a totals body (ids from a small pool or arbitrary text, rows sorted
//! or not, figures up to 2^64 - 1) and for the checkpoint note beside it.
//!
//! Asserts, for the totals signed with the vectors' log key: the JSON
//! parses with `serde_json`; its election, checkpoint, every row and every
//! figure are exactly the body's (no figure rounded, lost or added); its
//! base64 fields decode to exactly the signed bytes, the body and the
//! signature, and the signed bytes verify under the log key with the
//! JSON's figures (agreement of the JSON with the CBOR it carries); the
//! signature context and the checkpoint note are the ones given.
#![no_main]

use std::collections::BTreeMap;

use base64::Engine as _;
use libfuzzer_sys::arbitrary::{Result as ArbResult, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tallyboard_core::Hash;
use tallyboard_core::keys::{Context, SecretKey};
use tallyboard_core::totals::{CheckpointRef, SignedTotals, TotalsBody, TotalsRow};

const IDS: [&str; 6] = ["mayor", "council", "R-north", "P-017", "a.b", "ada"];

fn id(u: &mut Unstructured<'_>) -> ArbResult<String> {
    let k: u8 = u.arbitrary()?;
    Ok(match IDS.get(usize::from(k % 8)) {
        Some(s) => (*s).to_string(),
        None => u.arbitrary()?,
    })
}

fn figure(u: &mut Unstructured<'_>) -> ArbResult<u64> {
    // Small, near 2^53 (where JavaScript numbers stop being exact), or any.
    Ok(match u.int_in_range(0u8..=3)? {
        0 => u.int_in_range(0..=100_000)?,
        1 => (1u64 << 53) + u64::from(u.arbitrary::<u8>()?) - 128,
        _ => u.arbitrary()?,
    })
}

fn recipe(u: &mut Unstructured<'_>) -> ArbResult<(TotalsBody, Option<Vec<u8>>)> {
    let election = id(u)?;
    let origin = if u.arbitrary()? {
        "tallyboard.example/log".to_string()
    } else {
        u.arbitrary()?
    };
    let checkpoint = CheckpointRef {
        origin,
        size: u.arbitrary()?,
        root: Hash(u.arbitrary()?),
    };
    let mut rows = Vec::new();
    for _ in 0..u.int_in_range(0u8..=6)? {
        let mut choices = BTreeMap::new();
        for _ in 0..u.int_in_range(0u8..=4)? {
            choices.insert(id(u)?, figure(u)?);
        }
        rows.push(TotalsRow {
            contest: id(u)?,
            region: if u.arbitrary()? { Some(id(u)?) } else { None },
            choices,
            blank: figure(u)?,
            invalid: figure(u)?,
            ballots_cast: figure(u)?,
            registered: figure(u)?,
            units_reporting: figure(u)?,
            units_expected: figure(u)?,
        });
    }
    if u.arbitrary()? {
        // The log's order: by contest, the whole-election row first.
        rows.sort_by(|a, b| (&a.contest, &a.region).cmp(&(&b.contest, &b.region)));
        rows.dedup_by(|a, b| (&a.contest, &a.region) == (&b.contest, &b.region));
    }
    let note = if u.arbitrary()? {
        Some(u.arbitrary::<Vec<u8>>()?)
    } else {
        None
    };
    Ok((
        TotalsBody {
            election,
            checkpoint,
            rows,
        },
        note,
    ))
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (body, note) = if mode % 2 == 0 {
        let Ok(t) = TotalsBody::from_body_bytes(rest) else {
            return;
        };
        (t, None)
    } else {
        let Ok(r) = recipe(&mut Unstructured::new(rest)) else {
            return;
        };
        r
    };
    check(&body, note.as_deref());
});

fn b64(v: &Value, key: &str) -> Vec<u8> {
    let s = v[key].as_str().expect("a base64 string");
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("valid base64")
}

fn u(v: &Value) -> u64 {
    v.as_u64().expect("a whole number, exactly")
}

fn s(v: &Value) -> String {
    v.as_str().expect("a string").to_string()
}

/// The totals body the JSON's figures describe.
fn body_of(v: &Value) -> TotalsBody {
    let cp = &v["checkpoint"];
    let root = Hash::from_hex(cp["root"].as_str().expect("root")).expect("root hex");
    let rows = v["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            let obj = r.as_object().expect("a row object");
            assert_eq!(obj.len(), 9, "{obj:?}");
            TotalsRow {
                contest: s(&r["contest"]),
                region: match &r["region"] {
                    Value::Null => None,
                    x => Some(s(x)),
                },
                choices: r["choices"]
                    .as_object()
                    .expect("choices")
                    .iter()
                    .map(|(k, n)| (k.clone(), u(n)))
                    .collect(),
                blank: u(&r["blank"]),
                invalid: u(&r["invalid"]),
                ballots_cast: u(&r["ballots_cast"]),
                registered: u(&r["registered"]),
                units_reporting: u(&r["units_reporting"]),
                units_expected: u(&r["units_expected"]),
            }
        })
        .collect();
    TotalsBody {
        election: s(&v["election"]),
        checkpoint: CheckpointRef {
            origin: s(&cp["origin"]),
            size: u(&cp["size"]),
            root,
        },
        rows,
    }
}

fn check(body: &TotalsBody, note: Option<&[u8]>) {
    let key = SecretKey::from_seed(&[0x11; 32]);
    let signed = body.sign(&key);
    let json = tallyboard_results::totals_json(&signed, note);
    let v: Value = serde_json::from_slice(&json).expect("the JSON parses");
    assert_eq!(v["format"], "tallyboard-signed-totals");
    assert_eq!(v["version"], 1);
    assert_eq!(
        v["signature_context"].as_str(),
        Some(String::from_utf8_lossy(Context::Totals.label()).as_ref())
    );
    match note {
        None => assert!(v["checkpoint"]["signed"].is_null()),
        Some(n) => assert_eq!(
            v["checkpoint"]["signed"].as_str(),
            Some(String::from_utf8_lossy(n).as_ref())
        ),
    }

    // Exactly the figures of the body signed.
    let from_json = body_of(&v);
    assert_eq!(&from_json, body);
    assert_eq!(&from_json, signed.totals());

    // The bytes it carries are the signed ones, and they say the same.
    let bytes = b64(&v, "signed_base64");
    assert_eq!(bytes, signed.as_bytes());
    assert_eq!(b64(&v, "body_base64"), signed.body_bytes());
    assert_eq!(b64(&v, "signature_base64"), signed.signature().0);
    let decoded = TotalsBody::from_body_bytes(&b64(&v, "body_base64"));
    let verified = SignedTotals::from_bytes(&bytes, &key.public_key());
    assert_eq!(decoded.is_ok(), verified.is_ok());
    if let (Ok(d), Ok(s)) = (decoded, verified) {
        assert_eq!(d, from_json);
        assert_eq!(s.totals(), &from_json);
    }
}
