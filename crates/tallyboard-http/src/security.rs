//! Security headers of the pages and of the read API.

/// `Content-Security-Policy` of the HTML pages: the site's own stylesheet,
/// its own scripts and their WebAssembly (`'wasm-unsafe-eval'` allows
/// compiling the verifier's module, not `eval`), fetches from this site and,
/// for the split-view check a reader starts, from another mirror
/// (`connect-src *`: a reader types the mirror's address); no inline
/// scripts or styles, no frames, no form targets, no plugins.
pub const CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src *; img-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `Access-Control-Allow-Origin` of the read API: any page may read the
/// log, the manifest and the totals (a results page on one mirror compares
/// its checkpoint with another mirror's). Static mirrors send the same
/// (README, "Serving a static copy").
pub const CORS_ALLOW_ORIGIN: &str = "*";
