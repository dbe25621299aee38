//! Security headers of the pages.

/// `Content-Security-Policy` of the HTML pages: only the site's own
/// stylesheet, nothing else (no scripts, no inline styles, no frames, no
/// form targets).
pub const CSP: &str = "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
