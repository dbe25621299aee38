//! Answers with a body, a content type and a `Cache-Control` value.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;

use crate::security::CSP;
use crate::{cache, media};

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

/// Adds `Access-Control-Allow-Origin: *` (see [`crate::CORS_ALLOW_ORIGIN`])
/// to a read API answer; a router applies it to every read route with
/// `axum::middleware::map_response(response::allow_any_origin)`.
pub async fn allow_any_origin(mut r: Response) -> Response {
    r.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static(crate::CORS_ALLOW_ORIGIN),
    );
    r
}
