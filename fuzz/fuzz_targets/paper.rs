//! The printed sheet's QR payload (`tallyboard_core::paper`): parsing of
//! arbitrary code texts, reassembly of arbitrary sets of them, and
//! split-then-reassemble round trips of arbitrary bytes.
//!
//! Asserts: a part that parses writes back to exactly its text (one
//! canonical form); a reassembly that succeeds gives bytes whose leaf hash
//! is the fingerprint every part names, of at most the signed tally's cap,
//! and splitting them again reassembles to the same bytes; splitting any
//! bytes gives parts that each parse and, in any order with repeats,
//! reassemble to the input; dropping one part of several is refused as
//! `missing-parts`.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use tallyboard_core::hash::leaf_hash;
use tallyboard_core::limits::MAX_SIGNED_TALLY;
use tallyboard_core::paper::{Part, encode, reassemble};

fuzz_target!(|data: &[u8]| {
    parse(data);
    let _ = round_trip(&mut Unstructured::new(data));
});

fn parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines: Vec<&str> = text.split('\n').collect();
    for l in &lines {
        if let Ok(p) = Part::parse(l) {
            assert_eq!(&p.to_text(), l, "a part has one text");
        }
    }
    if let Ok(bytes) = reassemble(lines.iter().copied()) {
        assert!(bytes.len() <= MAX_SIGNED_TALLY);
        let named = Part::parse(lines[0]).expect("parsed above").leaf;
        assert_eq!(leaf_hash(&bytes), named);
        let again = encode(&bytes);
        assert_eq!(reassemble(again.iter().map(String::as_str)), Ok(bytes));
    }
}

fn round_trip(u: &mut Unstructured) -> Result<()> {
    let len = u.int_in_range(1..=MAX_SIGNED_TALLY)?;
    let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8 ^ 0x5a).collect();
    let mut parts = encode(&bytes);
    for p in &parts {
        assert!(Part::parse(p).is_ok());
    }
    let n = parts.len();
    for _ in 0..u.int_in_range(0..=3)? {
        let (a, b) = (u.choose_index(n)?, u.choose_index(n)?);
        parts.swap(a, b);
    }
    let dup = parts[u.choose_index(n)?].clone();
    parts.push(dup);
    assert_eq!(
        reassemble(parts.iter().map(String::as_str)).as_ref(),
        Ok(&bytes)
    );
    if n > 1 {
        let gone = Part::parse(&parts[0]).expect("parses").index;
        let rest: Vec<&str> = parts
            .iter()
            .filter(|p| Part::parse(p).is_ok_and(|q| q.index != gone))
            .map(String::as_str)
            .collect();
        let e = reassemble(rest).expect_err("a part is missing");
        assert_eq!(e.code(), "missing-parts");
    }
    Ok(())
}
