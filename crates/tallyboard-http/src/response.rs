//! Answers with a body, a content type and a `Cache-Control` value.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;

use crate::{CSP, cache, media};

/// `body` as `content_type`, cached as `cache_control`.
pub fn bytes(
    body: impl Into<Body>,
    content_type: &'static str,
    cache_control: &'static str,
) -> Response {
    let mut r = Response::new(body.into());
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    r
}

/// An HTML page: short-cached, with the pages' `Content-Security-Policy`.
pub fn page(html: impl Into<Body>) -> Response {
    let mut r = bytes(html, media::HTML, cache::SHORT);
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    r
}
