//! Test vectors of the printed sheet's QR payload (`spec/paper.md`,
//! `spec/vectors/paper/`): regenerated and compared with the files, then
//! every file is run through the reassembly and, for `split` cases, the
//! splitting. Expected outcomes are written by hand below.

use serde_json::{Value, json};
use tallyboard_core::keys::SecretKey;
use tallyboard_core::paper::{Part, base45_encode, encode, reassemble};
use tallyboard_core::tally::Tally;

const AREAS: [&str; 1] = ["paper"];

/// 2026-09-21T23:06:40Z, as in the tally vectors.
const T: u64 = 1_790_000_000;

struct Case {
    area: &'static str,
    name: String,
    json: Value,
}

/// A signed tally of `n` choices (more choices, more parts), key seed 0xc1.
fn entry(unit: &str, n: usize) -> Vec<u8> {
    let key = SecretKey::from_seed(&[0xc1; 32]);
    let choices: Vec<(String, u64)> = (0..n).map(|i| (format!("choice-{i:02}"), 10)).collect();
    let total = 10 * n as u64 + 3;
    Tally::new(
        "general-2026",
        "mayor",
        unit,
        choices,
        2,
        1,
        total,
        T,
        key.public_key(),
    )
    .sign(&key)
    .as_bytes()
    .to_vec()
}

fn case(name: &str, description: &str, expect: &str, parts: &[String], extra: Value) -> Case {
    let mut obj = serde_json::Map::new();
    obj.insert("description".into(), json!(description));
    obj.insert("parts".into(), json!(parts));
    obj.insert("expect".into(), json!(expect));
    if let Value::Object(m) = extra {
        obj.extend(m);
    }
    Case {
        area: "paper",
        name: name.to_owned(),
        json: Value::Object(obj),
    }
}

fn ok(name: &str, description: &str, bytes: &[u8], parts: &[String], split: bool) -> Case {
    case(
        name,
        description,
        "ok",
        parts,
        json!({ "entry_hex": hex::encode(bytes), "split": split }),
    )
}

/// Part `p` with its data replaced.
fn with_data(p: &str, data: &[u8]) -> String {
    let mut part = Part::parse(p).unwrap();
    part.data = data.to_vec();
    part.to_text()
}

fn all_cases() -> Vec<Case> {
    let one = entry("P-017", 1);
    let two = entry("P-018", 8);
    let three = entry("P-019", 30);
    let p1 = encode(&one);
    let p2 = encode(&two);
    let p3 = encode(&three);
    assert_eq!((p1.len(), p2.len(), p3.len()), (1, 2, 3));
    let other = encode(&entry("P-020", 8));
    let header = |p: &str| p.rsplit_once(':').unwrap().0.to_owned();
    let mut cases = vec![
        ok(
            "one-part",
            "a small signed tally fits one code",
            &one,
            &p1,
            true,
        ),
        ok(
            "two-parts",
            "a tally of eight choices needs two codes",
            &two,
            &p2,
            true,
        ),
        ok(
            "three-parts",
            "a tally of thirty choices needs three codes",
            &three,
            &p3,
            true,
        ),
        ok(
            "any-order-with-repeats",
            "codes read in any order, one of them twice, reassemble the same tally",
            &three,
            &[p3[2].clone(), p3[0].clone(), p3[2].clone(), p3[1].clone()],
            false,
        ),
        ok(
            "uneven-split",
            "a reader accepts any split into non-empty parts",
            &one,
            &{
                let leaf = Part::parse(&p1[0]).unwrap().leaf;
                let cut = [&one[..1], &one[1..]];
                cut.iter()
                    .zip(1u32..)
                    .map(|(d, i)| {
                        Part {
                            index: i,
                            count: 2,
                            leaf,
                            data: d.to_vec(),
                        }
                        .to_text()
                    })
                    .collect::<Vec<_>>()
            },
            false,
        ),
    ];
    let bad = |name: &str, description: &str, expect: &str, parts: Vec<String>| {
        case(name, description, expect, &parts, json!({}))
    };
    let h1 = header(&p1[0]);
    let d1 = p1[0].rsplit_once(':').unwrap().1.to_owned();
    cases.extend([
        bad(
            "not-a-code-of-ours",
            "a web address is not a sheet code",
            "not-a-sheet-code",
            vec!["https://example.invalid/".into()],
        ),
        bad(
            "lower-case-prefix",
            "the prefix is upper case",
            "not-a-sheet-code",
            vec![p1[0].replacen("TBT1", "tbt1", 1)],
        ),
        bad(
            "too-long",
            "a text over 2,048 bytes is refused before parsing",
            "code-too-long",
            vec![format!("{h1}:{}", "0".repeat(2100))],
        ),
        bad(
            "index-leading-zero",
            "part numbers have no leading zeros",
            "bad-code-header",
            vec![p1[0].replacen("TBT1:1/1", "TBT1:01/1", 1)],
        ),
        bad(
            "index-zero",
            "parts are numbered from 1",
            "bad-code-header",
            vec![p1[0].replacen("TBT1:1/1", "TBT1:0/1", 1)],
        ),
        bad(
            "index-over-count",
            "the index is at most the count",
            "bad-code-header",
            vec![p1[0].replacen("TBT1:1/1", "TBT1:2/1", 1)],
        ),
        bad(
            "count-over-100",
            "a sheet has at most 100 parts",
            "bad-code-header",
            vec![p1[0].replacen("TBT1:1/1", "TBT1:1/101", 1)],
        ),
        bad(
            "lower-case-fingerprint",
            "the fingerprint is upper-case hex",
            "bad-code-header",
            vec![format!(
                "{}:{d1}",
                h1.to_ascii_lowercase().replacen("tbt1", "TBT1", 1)
            )],
        ),
        bad(
            "short-fingerprint",
            "the fingerprint has 64 digits",
            "bad-code-header",
            vec![format!("TBT1:1/1:{}:{d1}", &h1[9..9 + 63])],
        ),
        bad(
            "base45-lower-case",
            "base45 has no lower-case letters",
            "bad-base45",
            vec![format!("{h1}:{}", d1.to_ascii_lowercase())],
        ),
        bad(
            "base45-length",
            "a base45 text of length 1 modulo 3 is refused",
            "bad-base45",
            vec![format!("{h1}:{d1}0")],
        ),
        bad(
            "base45-overflow",
            "a group of three over 65535 is refused (GGW is 65536)",
            "bad-base45",
            vec![format!("{h1}:GGW")],
        ),
        bad(
            "empty-data",
            "a part carries at least one byte",
            "bad-base45",
            vec![format!("{h1}:")],
        ),
        bad("no-codes", "nothing to reassemble", "no-sheet-code", vec![]),
        bad(
            "mixed-tallies",
            "parts of two tallies are not one sheet",
            "mixed-tallies",
            vec![p2[0].clone(), other[1].clone()],
        ),
        bad(
            "count-differs",
            "two parts of one fingerprint disagree on the count",
            "part-count-differs",
            vec![
                p3[0].clone(),
                p3[1].replacen("TBT1:2/3", "TBT1:2/4", 1),
                p3[2].clone(),
            ],
        ),
        bad(
            "conflicting-duplicate",
            "part 2 read twice with different data",
            "conflicting-duplicate",
            vec![p2[0].clone(), p2[1].clone(), with_data(&p2[1], b"forged")],
        ),
        bad(
            "missing-part",
            "part 2 of 3 was not read",
            "missing-parts",
            vec![p3[0].clone(), p3[2].clone()],
        ),
        bad(
            "altered-data",
            "one part's bytes altered: the fingerprint does not match",
            "fingerprint-mismatch",
            vec![p2[0].clone(), {
                let mut d = Part::parse(&p2[1]).unwrap().data;
                d[0] ^= 1;
                with_data(&p2[1], &d)
            }],
        ),
        bad(
            "oversized",
            "100 parts of 200 bytes exceed the 16,384-byte cap",
            "oversized",
            (1..=100)
                .map(|i| {
                    Part {
                        index: i,
                        count: 100,
                        leaf: Part::parse(&p1[0]).unwrap().leaf,
                        data: vec![0; 200],
                    }
                    .to_text()
                })
                .collect(),
        ),
    ]);
    // Base45 itself, from RFC 9285 §4.3: "AB" is "BB8".
    assert_eq!(base45_encode(b"AB"), "BB8");
    cases
}

fn outcome(_area: &str, v: &Value) -> String {
    let parts: Vec<&str> = v["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    match reassemble(parts.iter().copied()) {
        Err(e) => e.code().to_owned(),
        Ok(bytes) => {
            assert_eq!(hex::encode(&bytes), v["entry_hex"].as_str().unwrap());
            if v["split"] == true {
                assert_eq!(encode(&bytes), parts);
            }
            "ok".to_owned()
        }
    }
}

tallyboard_testkit::spec_vector_tests! {
    areas: AREAS,
    cases: all_cases,
    run: outcome,
}
