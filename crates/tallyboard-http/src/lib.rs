//! # tallyboard-http: HTTP plumbing shared by every serving role
//!
//! The publication server, the mirror and the witness all serve an axum
//! application on a TCP socket open to anyone. [`serve`] is how they do it:
//! a cap on open connections, a header read timeout that is also the idle
//! timeout of kept-alive connections, a deadline on request bodies, the
//! soft descriptor limit raised at start-up, graceful shutdown, and the
//! connection metrics each role shows in its `/metrics`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod serve;
