//! # tallyboard-verify: the independent verifier
//!
//! Checks a tallyboard log without trusting the server that publishes it:
//! reads it from the origin, any number of mirrors or a local copy
//! ([`source`]), follows it incrementally from a trusted state to each new
//! checkpoint, recomputing every tile and the root ([`follow`]) and
//! comparing the tiles each source serves with them ([`tiles`]), and keeps
//! self-contained evidence of every fault that anyone can re-check with the
//! log's public key ([`evidence`]).
//!
//! This crate depends on `tallyboard-core` (the formats) and small
//! well-kept libraries only, never on the log store or the server, so that
//! an observer can audit it alone. `spec/verify.md` is the normative
//! description of the algorithm, the finding codes and the file formats.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod backup;
pub mod check;
pub mod codes;
pub mod evidence;
pub mod feed;
pub mod follow;
pub mod paper;
pub mod report;
pub mod source;
pub mod status;
pub mod tiles;
pub mod verify;

pub use codes::FindingCode;
pub use evidence::{Evidence, EvidenceError, Proven, check};
pub use follow::{FollowError, FollowOptions, Item, Trusted, check_consistency, follow};
pub use report::{Finding, Report, Severity, Verdict};
pub use source::{
    DirFetch, Fetch, FetchError, HttpFetch, Source, SourceError, TileCache, TilesError,
};
pub use tiles::{Recomputed, TileCheck, TileFault, check_served_tiles};
pub use verify::{Config, Round, WatchConfig, verify, verify_sources, watch, watch_rounds};
