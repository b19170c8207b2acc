//! Image uploads and downloads: `POST /api/docs/{id}/images` (editors and owners; the type is told by the bytes,
//! never by the name or the header) and `GET /api/docs/{id}/images/{sha256}` (whoever may see the document).

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, Path, State, rejection::BytesRejection},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use bytes::Bytes;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{AppState, docs_api::require_role, error::ApiError, session::ApiUser};
use crate::store::{NewImage, Role, User};

/// The types an image may have. SVG is not among them: it is a document that can carry scripts.
const ACCEPTED: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/// An image's bytes never change under its URL, but who may see it can: the browser may keep it, shared caches
/// may not.
const CACHE_CONTROL: &str = "private, max-age=31536000, immutable";
/// Opened on its own, an image is a picture and nothing else: no scripts, no styles, no frames.
const IMAGE_CSP: &str = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox";

pub fn routes(max_image_bytes: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/api/docs/{id}/images",
            // The request may carry a whole image: more than the general body limit, which stays for the rest.
            post(upload).layer(DefaultBodyLimit::max(max_image_bytes.saturating_add(1))),
        )
        .route("/api/docs/{id}/images/{hash}", get(download))
}

/// The path an image is served at; the editor's embeds and the exports name it.
pub fn image_path(doc_id: &str, hash: &str) -> String {
    format!("/api/docs/{doc_id}/images/{hash}")
}

async fn upload(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require_role(&state, &authed.user, &id, Role::Editor).await?;
    let max = state.config.limits.max_image_bytes;
    let bytes = body.map_err(|_| too_large(max))?;
    let hash = accept_image(&state, &authed.user, &id, &bytes).await?;
    let content_type = image_type(&bytes)?;
    let body = json!({
        "hash": hash,
        "url": image_path(&id, &hash),
        "content_type": content_type,
        "bytes": bytes.len(),
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn download(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path((id, hash)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    require_role(&state, &authed.user, &id, Role::Viewer).await?;
    if !is_image_hash(&hash) {
        return Err(ApiError::not_found());
    }
    let image = state
        .store
        .document_image(&id, &hash)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let mut response = image.bytes.into_response();
    let headers = response.headers_mut();
    let content_type = HeaderValue::from_str(&image.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(IMAGE_CSP),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("inline"),
    );
    Ok(response)
}

/// Checks an image's size, type and the uploader's quota, stores it and links it to the document; returns its
/// hash. The caller has checked that `user` may edit `doc_id`.
pub async fn accept_image(
    state: &AppState,
    user: &User,
    doc_id: &str,
    bytes: &[u8],
) -> Result<String, ApiError> {
    let limits = &state.config.limits;
    if bytes.len() > limits.max_image_bytes {
        return Err(too_large(limits.max_image_bytes));
    }
    let content_type = image_type(bytes)?;
    let hash = hex_sha256(bytes);
    let used = u64::try_from(state.store.image_bytes_uploaded_by(&user.id).await?).unwrap_or(0);
    let counted_already = state.store.uploaded_image(&user.id, &hash).await?;
    if !counted_already && used.saturating_add(bytes.len() as u64) > limits.image_quota_bytes {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "quota_exceeded",
            format!(
                "your images take {} of the {} you may upload; remove some from your documents first",
                size_text(used),
                size_text(limits.image_quota_bytes)
            ),
        ));
    }
    state
        .store
        .put_image(NewImage {
            hash: &hash,
            content_type,
            bytes,
            doc_id,
            uploaded_by: &user.id,
        })
        .await?;
    Ok(hash)
}

/// The media type the bytes say they are, when it is one of `ACCEPTED`.
fn image_type(bytes: &[u8]) -> Result<&'static str, ApiError> {
    let sniffed = infer::get(bytes).map(|kind| kind.mime_type());
    if let Some(accepted) = ACCEPTED.iter().find(|t| Some(**t) == sniffed) {
        return Ok(accepted);
    }
    let message = if looks_like_svg(bytes) {
        "SVG images are not accepted (they can carry scripts): export the picture as PNG"
            .to_string()
    } else {
        let what = sniffed.map_or("not an image".to_string(), |t| format!("a {t} file"));
        format!("this is {what}: images must be PNG, JPEG, GIF or WebP")
    };
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        message,
    ))
}

fn looks_like_svg(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_ascii_lowercase();
    head.contains("<svg")
}

pub fn is_image_hash(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Bytes as people read them: `850 bytes`, `12 KB`, `10 MB`.
fn size_text(bytes: u64) -> String {
    match bytes {
        0..1_000 => format!("{bytes} bytes"),
        1_000..1_000_000 => format!("{} KB", bytes / 1_000),
        _ => format!("{} MB", bytes / 1_000_000),
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn too_large(max: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("images may be at most {} here", size_text(max as u64)),
    )
}
