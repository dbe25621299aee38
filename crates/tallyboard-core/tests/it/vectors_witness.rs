#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Test vectors for the C2SP tlog-witness `add-checkpoint` bodies
//! (`spec/vectors/witness/`, specified in `spec/witness.md` §2).
//!
//! 1. Every vector is regenerated here deterministically and compared with
//!    its file; `TALLYBOARD_BLESS=1` rewrites the files (and removes stale
//!    ones) instead.
//! 2. Every file is run through the parser and the outcome must be the one
//!    the file states (written by hand below, not derived from the parser).

use serde_json::{Value, json};
use tallyboard_core::checkpoint::{Checkpoint, sign_checkpoint};
use tallyboard_core::cosignature;
use tallyboard_core::hash::Hash;
use tallyboard_core::keys::SecretKey;
use tallyboard_core::note::{KeyKind, Note, SignerKey};
use tallyboard_core::witness::{
    AddCheckpointRequest, parse_cosignature_response, parse_size_body, write_cosignature_response,
};
use tallyboard_testkit::vectors;

fn key(name: &str, kind: KeyKind, seed: u8) -> SignerKey {
    SignerKey::new(name, kind, SecretKey::from_seed(&[seed; 32])).unwrap()
}

fn log_note(size: u64) -> String {
    let k = key("vote.example/log", KeyKind::Ed25519, 0x11);
    let root = Hash::sha256(format!("root {size}").as_bytes());
    String::from_utf8(sign_checkpoint(&Checkpoint::new(k.name(), size, root), &k).unwrap()).unwrap()
}

fn b64(h: &Hash) -> String {
    use std::fmt::Write as _;
    // Standard base64 with padding of 32 bytes, written out here so the
    // vectors do not depend on the encoder under test.
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = h.as_bytes();
    let mut s = String::new();
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                let _ = write!(s, "{}", A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

fn h(i: u8) -> Hash {
    Hash::sha256(&[i])
}

struct Case {
    name: &'static str,
    json: Value,
}

fn case(name: &'static str, kind: &str, d: &str, expect: &str, body: String, extra: Value) -> Case {
    let mut m = serde_json::Map::new();
    m.insert("description".into(), json!(d));
    m.insert("expect".into(), json!(expect));
    m.insert("kind".into(), json!(kind));
    m.insert("body".into(), json!(body));
    if let Value::Object(e) = extra {
        m.extend(e);
    }
    Case {
        name,
        json: Value::Object(m),
    }
}

fn ok_request(name: &'static str, d: &str, old: u64, proof: &[Hash], cp: &str) -> Case {
    let mut body = format!("old {old}\n");
    for p in proof {
        body.push_str(&b64(p));
        body.push('\n');
    }
    body.push('\n');
    body.push_str(cp);
    case(
        name,
        "request",
        d,
        "ok",
        body,
        json!({
            "old_size": old.to_string(),
            "proof_hex": proof.iter().map(Hash::to_hex).collect::<Vec<_>>(),
            "checkpoint": cp,
        }),
    )
}

fn bad(name: &'static str, kind: &str, d: &str, code: &str, body: String) -> Case {
    case(name, kind, d, code, body, json!({}))
}

fn cases() -> Vec<Case> {
    let cp = log_note(20852163);
    let empty = log_note(0);
    let p = [h(1), h(2), h(3)];
    let w1 = key("witness.example/w1", KeyKind::CosignatureV1, 0x21);
    let w2 = key("witness.example/w2", KeyKind::CosignatureV1, 0x22);
    let text = Note::parse(cp.as_bytes()).unwrap().text().to_owned();
    let line1 = cosignature::cosign(&text, &w1, 1_700_000_000)
        .unwrap()
        .to_line();
    let line2 = cosignature::cosign(&text, &w2, 1_700_000_001)
        .unwrap()
        .to_line();
    let sixty_three: Vec<Hash> = (0..63).map(h).collect();
    let sixty_four: String = (0..64).map(|i| b64(&h(i)) + "\n").collect();
    let sixty_three_lines: String = (0..63).map(|i| b64(&h(i)) + "\n").collect();
    let short_line = "\u{2014} w AAAAAAA=\n";
    vec![
        ok_request(
            "request-ok-first-contact",
            "Old size 0, no proof: the first request to a witness.",
            0,
            &[],
            &cp,
        ),
        ok_request(
            "request-ok-with-proof",
            "Old size 20852014 and a three-hash consistency proof.",
            20852014,
            &p,
            &cp,
        ),
        ok_request(
            "request-ok-empty-tree",
            "A checkpoint of size 0 from old size 0.",
            0,
            &[],
            &empty,
        ),
        ok_request(
            "request-ok-63-proof-lines",
            "The most proof lines allowed: 63.",
            1,
            &sixty_three,
            &cp,
        ),
        bad(
            "request-old-leading-zero",
            "request",
            "The old size has a leading zero.",
            "bad-old-line",
            format!("old 07\n\n{cp}"),
        ),
        bad(
            "request-old-two-spaces",
            "request",
            "Two spaces after `old`.",
            "bad-old-line",
            format!("old  7\n\n{cp}"),
        ),
        bad(
            "request-old-capitalised",
            "request",
            "`Old` instead of `old`.",
            "bad-old-line",
            format!("Old 7\n\n{cp}"),
        ),
        bad(
            "request-old-overflow",
            "request",
            "The old size does not fit 64 bits.",
            "bad-old-line",
            format!("old 18446744073709551616\n\n{cp}"),
        ),
        bad(
            "request-old-missing",
            "request",
            "No old size line: the body starts with the checkpoint.",
            "bad-old-line",
            cp.clone(),
        ),
        bad(
            "request-proof-hex",
            "request",
            "A proof line in hex, not base64.",
            "bad-proof-line",
            format!("old 7\n{}\n\n{cp}", h(1).to_hex()),
        ),
        bad(
            "request-proof-unpadded",
            "request",
            "A proof line without its `=` padding.",
            "bad-proof-line",
            format!("old 7\n{}\n\n{cp}", b64(&h(1)).trim_end_matches('=')),
        ),
        bad(
            "request-proof-trailing-space",
            "request",
            "A proof line with a trailing space.",
            "bad-proof-line",
            format!("old 7\n{} \n\n{cp}", b64(&h(1))),
        ),
        bad(
            "request-64-proof-lines",
            "request",
            "64 proof lines, one more than allowed.",
            "too-many-proof-lines",
            format!("old 7\n{sixty_four}\n{cp}"),
        ),
        bad(
            "request-64th-line-not-base64",
            "request",
            "63 proof lines and a 64th that is not base64: the line count is checked before the line.",
            "too-many-proof-lines",
            format!("old 7\n{sixty_three_lines}not base64\n\n{cp}"),
        ),
        bad(
            "request-old-without-newline",
            "request",
            "The body is `old 7` without a newline.",
            "bad-old-line",
            "old 7".to_owned(),
        ),
        bad(
            "request-too-large",
            "request",
            "19,246 bytes, one more than the cap; nothing else is looked at.",
            "too-large",
            "x".repeat(19_246),
        ),
        bad(
            "request-no-blank-line",
            "request",
            "The proof runs into the checkpoint without an empty line.",
            "bad-proof-line",
            format!("old 7\n{}\n{cp}", b64(&h(1))),
        ),
        bad(
            "request-truncated",
            "request",
            "The body ends after the proof.",
            "missing-blank-line",
            format!("old 7\n{}\n", b64(&h(1))),
        ),
        bad(
            "request-checkpoint-unsigned",
            "request",
            "The checkpoint part has no signature lines.",
            "no-signatures",
            "old 0\n\nvote.example/log\n1\nAAAA\n\n".to_owned(),
        ),
        bad(
            "request-checkpoint-missing-newline",
            "request",
            "The checkpoint note does not end with a newline.",
            "missing-final-newline",
            format!("old 0\n\n{}", cp.trim_end()),
        ),
        bad(
            "request-checkpoint-not-a-checkpoint",
            "request",
            "The note's text is not a checkpoint (no root line).",
            "missing-lines",
            format!("old 0\n\nvote.example/log\n1\n\n{line1}"),
        ),
        case(
            "response-ok-one-line",
            "response",
            "One cosignature line.",
            "ok",
            line1.clone(),
            json!({"lines": 1}),
        ),
        case(
            "response-ok-two-lines",
            "response",
            "Two cosignature lines (a witness with two keys).",
            "ok",
            format!("{line1}{line2}"),
            json!({"lines": 2}),
        ),
        bad(
            "response-empty",
            "response",
            "An empty body.",
            "no-signatures",
            String::new(),
        ),
        bad(
            "response-missing-newline",
            "response",
            "The last line has no newline.",
            "bad-signature-line",
            line1.trim_end().to_owned(),
        ),
        bad(
            "response-blank-line",
            "response",
            "An empty line after the cosignature.",
            "bad-signature-line",
            format!("{line1}\n"),
        ),
        bad(
            "response-65-lines",
            "response",
            "65 signature lines, one more than MAX_NOTE_SIGNATURES.",
            "too-many-signatures",
            short_line.repeat(65),
        ),
        bad(
            "response-too-large",
            "response",
            "8,193 bytes, one more than the cap.",
            "too-large",
            "x".repeat(8_193),
        ),
        bad(
            "response-tab",
            "response",
            "A tab instead of the space after the key name.",
            "bad-signature-line",
            line1.replacen(" ", "\t", 2).replacen("\t", " ", 1),
        ),
        bad(
            "response-hyphen",
            "response",
            "A line starting with `-` instead of the em dash.",
            "bad-signature-line",
            line1.replacen('\u{2014}', "-", 1),
        ),
        case(
            "size-ok",
            "size",
            "The 409 body: the size the witness holds.",
            "ok",
            "20852014\n".to_owned(),
            json!({"size": "20852014"}),
        ),
        case(
            "size-ok-zero",
            "size",
            "The 409 body for a witness that holds nothing.",
            "ok",
            "0\n".to_owned(),
            json!({"size": "0"}),
        ),
        bad(
            "size-leading-zero",
            "size",
            "A size with a leading zero.",
            "bad-size-body",
            "020852014\n".to_owned(),
        ),
        bad(
            "size-no-newline",
            "size",
            "A size without its newline.",
            "bad-size-body",
            "20852014".to_owned(),
        ),
    ]
}

fn run(v: &Value) -> Result<(), String> {
    let body = v["body"].as_str().unwrap().as_bytes();
    match v["kind"].as_str().unwrap() {
        "request" => {
            let r = AddCheckpointRequest::parse(body).map_err(|e| e.code().to_owned())?;
            assert_eq!(r.old_size.to_string(), v["old_size"].as_str().unwrap());
            let proof: Vec<String> = r.proof.iter().map(Hash::to_hex).collect();
            assert_eq!(json!(proof), v["proof_hex"]);
            assert_eq!(r.checkpoint, v["checkpoint"].as_str().unwrap().as_bytes());
            assert_eq!(r.to_bytes().unwrap(), body, "canonical");
            Ok(())
        }
        "response" => {
            let lines = parse_cosignature_response(body).map_err(|e| e.code().to_owned())?;
            assert_eq!(json!(lines.len()), v["lines"]);
            assert_eq!(write_cosignature_response(&lines).unwrap(), body);
            Ok(())
        }
        "size" => {
            let s = parse_size_body(body).map_err(|e| e.code().to_owned())?;
            assert_eq!(s.to_string(), v["size"].as_str().unwrap());
            Ok(())
        }
        k => panic!("unknown kind {k}"),
    }
}

#[test]
fn vector_files_match_their_generator() {
    let cases = cases();
    vectors::assert_no_drift(&vectors::sync(
        &["witness"],
        cases.iter().map(|c| ("witness", c.name, &c.json)),
    ));
}

#[test]
fn every_vector_file_has_the_stated_outcome() {
    vectors::check_files("witness", |v| vectors::outcome_of(run(v)));
}
