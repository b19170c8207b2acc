//! Errors at the HTTP edge: JSON `{"error":{"code","message"}}` for /api routes, an HTML page elsewhere.
//! Internal details are logged here once and never sent to the client.

use axum::{
    Json,
    extract::rejection::JsonRejection,
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use serde_json::json;

use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds for a `Retry-After` header (throttling).
    pub retry_after: Option<u64>,
    /// More fields for the error object, such as an invitation link.
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
            details: serde_json::Map::new(),
        }
    }

    pub fn with_detail(mut self, key: &str, value: impl Into<serde_json::Value>) -> ApiError {
        self.details.insert(key.to_string(), value.into());
        self
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "sign in first")
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// A configured quota (`limits.*`) is used up; waiting does not help.
    pub fn limit_reached(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "limit_reached", message)
    }

    /// Too many requests of a kind; `retry_after` says when one more will be taken.
    pub fn rate_limited(message: impl Into<String>, retry_after: std::time::Duration) -> ApiError {
        let mut error = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message);
        // Rounded up: a client that waits exactly this long must not be refused again.
        error.retry_after = Some(retry_after.as_secs_f64().ceil().max(1.0) as u64);
        error
    }

    /// Also used for documents the caller may not see, so that existence is not leaked.
    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
    }

    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        tracing::error!(%detail, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error, nothing was changed",
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> ApiError {
        ApiError::internal(err)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> ApiError {
        let status = match rejection {
            JsonRejection::MissingJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            _ => rejection.status(),
        };
        ApiError::new(status, "bad_request", rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = self.details;
        error.insert("code".into(), self.code.into());
        error.insert("message".into(), self.message.into());
        let body = json!({ "error": error });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// An error shown as a page.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub message: String,
}

impl PageError {
    pub fn not_found() -> PageError {
        PageError {
            status: StatusCode::NOT_FOUND,
            message: "This page does not exist, or you do not have access to it.".into(),
        }
    }

    /// Over a rate limit: the page says when to try again (and the response carries `Retry-After`).
    pub fn too_many(retry_after_secs: u64) -> Response {
        let page = PageError {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: format!(
                "Too many attempts from your network. Try again in {retry_after_secs} seconds."
            ),
        };
        let mut response = page.into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        response
    }

    pub fn internal(detail: impl std::fmt::Display) -> PageError {
        tracing::error!(%detail, "internal error");
        PageError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: "Something went wrong on our side. Nothing was changed.".into(),
        }
    }
}

impl From<StoreError> for PageError {
    fn from(err: StoreError) -> PageError {
        PageError::internal(err)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        use askama::Template;
        let page = super::pages::ErrorPage {
            status: self.status.as_u16(),
            reason: self.status.canonical_reason().unwrap_or("Error"),
            message: &self.message,
        };
        match page.render() {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(_) => (self.status, self.message).into_response(),
        }
    }
}
