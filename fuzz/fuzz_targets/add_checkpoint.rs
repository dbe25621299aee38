//! C2SP tlog-witness `add-checkpoint` bodies: the request (old size, proof
//! lines, blank line, signed checkpoint), the cosignature response and the
//! 409 size body.
//!
//! Asserts: parsing never panics; an accepted request re-encodes to exactly
//! the input bytes (canonical: one encoding per request), has at most 63
//! proof hashes and an old size written without leading zeros, and its
//! checkpoint part is a note whose text is a checkpoint; an accepted
//! response re-encodes to the same bytes and has 1 to 64 lines; an accepted
//! size body is `<decimal>\n` and writes back to the same bytes. A request
//! built from arbitrary parts either encodes and parses back to the same
//! parts, or is refused for a stated reason.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use tallyboard_core::Hash;
use tallyboard_core::checkpoint::Checkpoint;
use tallyboard_core::limits::{MAX_ADD_CHECKPOINT_PROOF_LINES, MAX_NOTE_SIGNATURES};
use tallyboard_core::note::Note;
use tallyboard_core::witness::{
    AddCheckpointRequest, parse_cosignature_response, parse_size_body, write_cosignature_response,
    write_size_body,
};

fuzz_target!(|data: &[u8]| {
    parse_all(data);
    let _ = build(&mut Unstructured::new(data));
});

fn parse_all(data: &[u8]) {
    if let Ok(req) = AddCheckpointRequest::parse(data) {
        assert_eq!(req.to_bytes().expect("an accepted request encodes"), data);
        assert!(req.proof.len() <= MAX_ADD_CHECKPOINT_PROOF_LINES);
        let old_line = format!("old {}\n", req.old_size);
        assert!(data.starts_with(old_line.as_bytes()));
        let n = Note::parse(&req.checkpoint).expect("checkpoint part is a note");
        Checkpoint::parse(n.text()).expect("its text is a checkpoint");
        assert!(data.ends_with(&req.checkpoint));
    }
    if let Ok(lines) = parse_cosignature_response(data) {
        assert!(!lines.is_empty() && lines.len() <= MAX_NOTE_SIGNATURES);
        assert_eq!(
            write_cosignature_response(&lines).expect("an accepted response encodes"),
            data
        );
    }
    if let Ok(size) = parse_size_body(data) {
        assert_eq!(write_size_body(size).as_bytes(), data);
    }
}

fn build(u: &mut Unstructured) -> Result<()> {
    let old_size: u64 = u.arbitrary()?;
    let n: usize = u.int_in_range(0..=70)?;
    let mut proof = Vec::with_capacity(n);
    for _ in 0..n {
        proof.push(Hash(u.arbitrary()?));
    }
    let checkpoint: Vec<u8> = u.arbitrary()?;
    let req = AddCheckpointRequest {
        old_size,
        proof,
        checkpoint,
    };
    match req.to_bytes() {
        Ok(bytes) => {
            assert!(req.proof.len() <= MAX_ADD_CHECKPOINT_PROOF_LINES);
            assert_eq!(
                AddCheckpointRequest::parse(&bytes).expect("ours parses"),
                req
            );
        }
        Err(_) => {
            let checkpoint_ok = Note::parse(&req.checkpoint)
                .ok()
                .is_some_and(|n| Checkpoint::parse(n.text()).is_ok());
            assert!(
                req.proof.len() > MAX_ADD_CHECKPOINT_PROOF_LINES || !checkpoint_ok,
                "a valid request was refused"
            );
        }
    }
    Ok(())
}
