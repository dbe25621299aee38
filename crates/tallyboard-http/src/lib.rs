//! # tallyboard-http: the HTTP contract every role shares
//!
//! What the publication server, mirrors, witnesses, the verifier and the
//! CLI would otherwise each repeat: the read API's paths and their parsing
//! ([`path`]), content types ([`media`]), `Cache-Control` values
//! ([`cache`]), the `Content-Security-Policy` of the pages ([`CSP`]), the
//! JSON error body ([`error`]) and one size-capped body reader ([`body`]),
//! for request bodies on the server side and response bodies on the client
//! side. No election logic lives here.
//!
//! Features: `server` (axum: error answers, byte responses, request
//! bodies), `client` (reqwest: response bodies).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod body;
pub mod cache;
pub mod error;
pub mod media;
pub mod path;
#[cfg(feature = "server")]
pub mod response;
mod security;

pub use security::CSP;
