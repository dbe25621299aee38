//! # tallyboard-core: the wire formats of tallyboard
//!
//! Everything that is signed, hashed or served by tallyboard is defined here,
//! byte for byte, with no I/O and no clock (time is always a parameter), so
//! that the same code runs in the publication server, the mirrors, the
//! independent verifier and a browser (`wasm32-unknown-unknown`).
//!
//! The normative text is `spec/` at the repository root; this crate is its
//! reference implementation.
//!
//! ## What's in scope
//!
//! - [`hash`]: SHA-256 and the RFC 6962 leaf and node hashes.
//! - [`merkle`]: RFC 6962 tree hashes, inclusion and consistency proofs.
//! - [`tile`]: C2SP tlog-tiles coordinates, paths and entry bundles.
//! - [`keys`]: Ed25519 keys, domain-separated signatures, strict verification.
//! - [`note`], [`checkpoint`], [`cosignature`], [`receipt`]: C2SP signed-note,
//!   tlog-checkpoint, tlog-cosignature and tlog-proof.
//! - [`witness`]: the C2SP tlog-witness `add-checkpoint` request and
//!   response bodies.
//! - [`cbor`]: the canonical CBOR subset every tallyboard object uses.
//! - [`manifest`], [`tally`], [`rules`], [`totals`]: the election manifest,
//!   signed tallies, the rules a tally must satisfy, and signed totals.
//! - [`paper`]: the QR payload of a printed sheet (a signed tally split
//!   into numbered, self-checking parts).
//! - [`limits`]: the size cap of every input, checked before parsing.
//! - [`store_objects`]: the sequencer state and staging objects of a log
//!   kept in object storage.
//!
//! ## What's out of scope
//!
//! Storage, networking, HTTP, clocks and randomness. Callers supply key seeds
//! and timestamps.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cbor;
pub mod certification;
pub mod checkpoint;
pub mod cosignature;
mod cosignature_v1;
pub mod hash;
pub mod keys;
pub mod limits;
pub mod manifest;
pub mod merkle;
pub mod note;
pub mod paper;
pub mod receipt;
pub mod rules;
pub mod store_objects;
pub mod tally;
pub mod tile;
pub mod time;
pub mod totals;
pub mod witness;

pub use hash::{Hash, leaf_hash, node_hash};
pub use keys::{BatchFailure, BatchVerifier, Context, KeyError, PublicKey, SecretKey, Signature};
pub use manifest::{Manifest, ManifestBody, ManifestError, ManifestProblem, SignedManifest};
pub use rules::{RevisionIndex, Violation, check_all, check_correction, check_tally};
pub use tally::{SignedTally, Tally, TallyError, UnverifiedTally};
pub use totals::{SignedTotals, TotalsBody, TotalsBuilder, TotalsDifference, TotalsError};
