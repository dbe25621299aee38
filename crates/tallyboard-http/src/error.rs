//! The JSON error body every tallyboard server answers with:
//! `{"error": code, "message": ..., "violations": [...]}`. Clients parse it
//! with [`ErrorBody::parse`].

use serde::{Deserialize, Serialize};
use tallyboard_core::rules::Violation;

/// The body of an error answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A stable code (`"not-found"`, `"too-large"`, a rule's code, ...).
    pub error: String,
    /// What went wrong, in words.
    pub message: String,
    /// The tally rules a refused submission breaks (empty otherwise).
    #[serde(default)]
    pub violations: Vec<ViolationBody>,
}

/// One broken tally rule of an error body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViolationBody {
    /// The rule's code.
    pub code: String,
    /// The reporting unit concerned (may be empty).
    pub unit: String,
    /// The contest concerned (may be empty).
    pub contest: String,
    /// The violation in words.
    pub message: String,
}

impl From<&Violation> for ViolationBody {
    fn from(v: &Violation) -> ViolationBody {
        let (unit, contest) = v.unit_and_contest();
        ViolationBody {
            code: v.code().to_owned(),
            unit: unit.to_owned(),
            contest: contest.to_owned(),
            message: v.to_string(),
        }
    }
}

impl ErrorBody {
    /// An error body without violations.
    pub fn new(code: &str, message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            error: code.to_owned(),
            message: message.into(),
            violations: Vec::new(),
        }
    }

    /// The body refusing a tally that breaks `violations`: the code is the
    /// first violation's, the message all of them.
    pub fn rules(violations: &[Violation]) -> ErrorBody {
        let code = violations.first().map_or("rule-violation", Violation::code);
        let list: Vec<ViolationBody> = violations.iter().map(ViolationBody::from).collect();
        let message = list
            .iter()
            .map(|v| v.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        ErrorBody {
            violations: list,
            ..ErrorBody::new(code, message)
        }
    }

    /// Parses an error body (`None` if `bytes` is not one).
    pub fn parse(bytes: &[u8]) -> Option<ErrorBody> {
        serde_json::from_slice(bytes).ok()
    }

    /// The body, encoded.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[cfg(feature = "server")]
pub use answer::ApiError;

#[cfg(feature = "server")]
mod answer {
    use axum::http::{HeaderValue, StatusCode, header};
    use axum::response::{IntoResponse, Response};
    use tallyboard_core::rules::Violation;

    use super::ErrorBody;
    use crate::{cache, media};

    /// An error answer: a status, an [`ErrorBody`] and, for temporary
    /// refusals, `Retry-After`.
    #[derive(Debug)]
    pub struct ApiError {
        status: StatusCode,
        retry_after: Option<u64>,
        body: ErrorBody,
    }

    impl ApiError {
        /// An error answer with status `status`, code `code` and `message`.
        pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
            ApiError {
                status,
                retry_after: None,
                body: ErrorBody::new(code, message),
            }
        }

        /// 422 refusing a tally that breaks `violations`.
        pub fn rules(violations: &[Violation]) -> ApiError {
            ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                retry_after: None,
                body: ErrorBody::rules(violations),
            }
        }

        /// 404 `not-found` with `message`.
        pub fn not_found(message: impl Into<String>) -> ApiError {
            ApiError::new(StatusCode::NOT_FOUND, "not-found", message)
        }

        /// 500 `internal`; `e` is logged, not shown.
        pub fn internal(e: impl std::fmt::Display) -> ApiError {
            tracing::error!(error = %e, "internal error");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal server error",
            )
        }

        /// Asks the client to retry after `secs` seconds.
        pub fn retry_after(mut self, secs: u64) -> ApiError {
            self.retry_after = Some(secs);
            self
        }

        /// The error's code.
        pub fn code(&self) -> &str {
            &self.body.error
        }

        /// The answer's status.
        pub fn status(&self) -> StatusCode {
            self.status
        }
    }

    impl IntoResponse for ApiError {
        fn into_response(self) -> Response {
            let mut r = (self.status, self.body.to_json()).into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media::JSON));
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static(cache::NO_STORE),
            );
            if let Some(s) = self.retry_after {
                h.insert(header::RETRY_AFTER, HeaderValue::from(s));
            }
            r
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_round_trip() {
        let b = ErrorBody::new("not-found", "no such tile");
        let json = b.to_json();
        assert_eq!(
            String::from_utf8(json.clone()).unwrap(),
            r#"{"error":"not-found","message":"no such tile","violations":[]}"#
        );
        assert_eq!(ErrorBody::parse(&json), Some(b));
        assert_eq!(
            ErrorBody::parse(br#"{"error":"x","message":"y"}"#).map(|b| b.error),
            Some("x".to_owned())
        );
        assert_eq!(ErrorBody::parse(b"not json"), None);
    }
}
