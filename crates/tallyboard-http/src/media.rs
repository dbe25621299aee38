//! Content types of the answers.

/// Signed notes (checkpoint), receipts, plain-text errors.
pub const TEXT: &str = "text/plain; charset=utf-8";
/// Tiles and entry bundles.
pub const OCTETS: &str = "application/octet-stream";
/// Signed manifest, signed totals, signed tallies.
pub const CBOR: &str = "application/cbor";
/// Unit views, error bodies, a mirror's status and evidence.
pub const JSON: &str = "application/json";
/// The pages.
pub const HTML: &str = "text/html; charset=utf-8";
/// The stylesheet of the pages.
pub const CSS: &str = "text/css; charset=utf-8";
/// Prometheus text exposition format.
pub const METRICS: &str = "text/plain; version=0.0.4; charset=utf-8";
