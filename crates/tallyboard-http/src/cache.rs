//! `Cache-Control` values.

/// Resources that change as the log grows: checkpoint, totals, unit views,
/// partial tiles, the pages.
pub const SHORT: &str = "public, max-age=2";
/// Full tiles and bundles, evidence files: never change.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The signed manifest and the stylesheet: fixed for a server's life.
pub const MANIFEST: &str = "public, max-age=60";
/// Answers to one request (receipts, errors, metrics, status).
pub const NO_STORE: &str = "no-store";
