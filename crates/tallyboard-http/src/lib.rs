//! # tallyboard-http: the HTTP contract every role shares
//!
//! What the publication server, mirrors, witnesses, the verifier and the
//! CLI would otherwise each repeat: the read API's paths and their parsing
//! ([`path`]), content types ([`media`]), `Cache-Control` values
//! ([`cache`]), the `Content-Security-Policy` of the pages ([`CSP`]), the
//! JSON error body ([`error`]) and one size-capped body reader ([`body`]),
//! for request bodies on the server side and response bodies on the client
//! side. No election logic lives here. [`serve`] serves a role's router
//! on a socket open to anyone: a cap on open connections, a header read
//! timeout that is also the idle timeout of kept-alive connections, a
//! deadline on request bodies, the soft descriptor limit raised at
//! start-up, graceful shutdown, and the connection metrics.
//!
//! Features: `server` (axum: error answers, byte responses, request
//! bodies), `client` (reqwest: response bodies).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod body;
pub mod cache;
pub mod error;
#[cfg(feature = "server")]
pub mod hot;
pub mod media;
pub mod path;
#[cfg(feature = "server")]
pub mod response;
mod security;
#[cfg(feature = "server")]
pub mod serve;

pub use security::{CORS_ALLOW_ORIGIN, CSP};
