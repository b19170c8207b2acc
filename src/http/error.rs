//! Errors at the HTTP edge: JSON `{"error":{"code","message"}}` for /api routes, an HTML page elsewhere.
//! Internal details are logged here once and never sent to the client.

use askama::Template;
use axum::{
    Json,
    body::Body,
    extract::{Request, State, rejection::JsonRejection},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{Html, IntoResponse, Response},
};
use serde_json::json;

use super::session::{Authed, Csrf};

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

/// An error shown as a page. `with_header` (a layer inside the session layer) renders it with the app's header for
/// the caller, signed in or not.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    /// The page's heading in plain words; `None` says it from the status.
    pub heading: Option<&'static str>,
    pub message: String,
}

/// What `PageError` leaves on its response for `with_header`, which knows the caller.
#[derive(Debug, Clone)]
struct ErrorParts {
    heading: String,
    message: String,
}

impl PageError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> PageError {
        PageError {
            status,
            heading: None,
            message: message.into(),
        }
    }

    /// A document that does not exist and one the caller may not see get the same page, so that existence is not
    /// leaked.
    pub fn not_found() -> PageError {
        PageError {
            status: StatusCode::NOT_FOUND,
            heading: Some("Document not found, or you don’t have access"),
            message: "Check the link, or ask the person who shared it to share it with you. If they shared it \
                      with another of your accounts, switch to that account."
                .into(),
        }
    }

    /// Any other address that leads nowhere.
    pub fn page_not_found() -> PageError {
        PageError {
            status: StatusCode::NOT_FOUND,
            heading: Some("Page not found"),
            message:
                "There is nothing at this address. Check the link, or go back to your documents."
                    .into(),
        }
    }

    /// Over a rate limit: the page says when to try again (and the response carries `Retry-After`).
    pub fn too_many(retry_after_secs: u64) -> Response {
        let page = PageError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many attempts from your network. Try again in {retry_after_secs} seconds."
            ),
        );
        let mut response = page.into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        response
    }

    pub fn internal(detail: impl std::fmt::Display) -> PageError {
        tracing::error!(%detail, "internal error");
        PageError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong on our side. Nothing was changed.",
        )
    }

    fn heading(&self) -> &'static str {
        self.heading.unwrap_or(match self.status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::TOO_MANY_REQUESTS => "Too many attempts",
            status if status.is_server_error() => "Something went wrong",
            _ => "That did not work",
        })
    }
}

impl From<StoreError> for PageError {
    fn from(err: StoreError) -> PageError {
        PageError::internal(err)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    csrf: &'a str,
    /// Empty when nobody is signed in: the header then offers to log in.
    user_name: &'a str,
    user_email: &'a str,
    /// Whether the header links to the admin page.
    is_admin: bool,
    heading: &'a str,
    message: &'a str,
    /// Where to come back to after switching account (a log-out, then a log-in as someone else).
    here: &'a str,
    offer_switch: bool,
}

impl IntoResponse for PageError {
    /// The page without a header: `with_header` replaces it with one that has it.
    fn into_response(self) -> Response {
        let parts = ErrorParts {
            heading: self.heading().to_string(),
            message: self.message,
        };
        let page = ErrorPage {
            csrf: "",
            user_name: "",
            user_email: "",
            is_admin: false,
            heading: &parts.heading,
            message: &parts.message,
            here: "/",
            offer_switch: false,
        };
        let mut response = match page.render() {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(_) => (self.status, parts.message.clone()).into_response(),
        };
        response.extensions_mut().insert(parts);
        response
    }
}

/// Renders every error page with the app's header for whoever asked: their name and the log-out form, or a
/// log-in link; a signed-in person who finds nothing (or nothing they may see) is offered to switch account (log out, log in
/// as someone else, and come back here).
pub async fn with_header(
    State(state): State<super::AppState>,
    request: Request,
    next: Next,
) -> Response {
    let authed = request
        .extensions()
        .get::<Authed>()
        .map(|authed| authed.user.clone());
    let csrf = request
        .extensions()
        .get::<Csrf>()
        .map(|csrf| csrf.0.clone());
    let here = request.uri().path().to_string();
    let response = next.run(request).await;
    let Some(parts) = response.extensions().get::<ErrorParts>().cloned() else {
        return response;
    };
    let status = response.status();
    let page = ErrorPage {
        csrf: csrf.as_deref().unwrap_or_default(),
        user_name: authed.as_ref().map_or("", |user| user.name.as_str()),
        user_email: authed.as_ref().map_or("", |user| user.email.as_str()),
        is_admin: authed
            .as_ref()
            .is_some_and(|user| super::accounts::is_admin(&state, user)),
        heading: &parts.heading,
        message: &parts.message,
        here: &here,
        offer_switch: authed.is_some() && status == StatusCode::NOT_FOUND,
    };
    let Ok(html) = page.render() else {
        return response;
    };
    let (mut head, _) = response.into_parts();
    head.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(head, Body::from(html))
}
