//! The image URLs in exported and imported documents: an HTML export carries its images inside it (data URLs, so
//! the file shows them anywhere), a Markdown export links them at `server.public_url`; an import keeps the images
//! stored here that the importer may see, stores the ones it carries as data URLs, and fetches nothing from the
//! network: an image elsewhere becomes a link to it.

use std::collections::HashMap;

use base64::Engine;
use serde_json::{Value, json};

use super::{AppState, docs_api::visible_document, error::ApiError, images_api};
use crate::ot::{Attributes, Delta, InsertValue, Op, is_image_url};
use crate::store::User;

/// What an image embed becomes.
enum Replacement {
    /// The embed, with another URL.
    Image(String),
    /// Its alt text (or "image"), linked to `Some(url)`.
    Text(Option<String>),
}

/// The most image bytes one HTML export carries inside it; later images are linked, so a document of many large
/// images cannot make one download hold gigabytes in memory.
const MAX_INLINED_BYTES: usize = 64 << 20;

/// The document with its images inside (HTML export): each image this document links becomes a data URL, up to
/// `MAX_INLINED_BYTES`; the rest link to this server.
pub async fn inline_images(
    state: &AppState,
    doc_id: &str,
    delta: &Delta,
) -> Result<Delta, ApiError> {
    let mut found = HashMap::new();
    let mut inlined = 0usize;
    for src in image_sources(delta) {
        let Some(hash) = own_image(&src).map(|(_, hash)| hash.to_string()) else {
            continue;
        };
        if let Some(image) = state.store.document_image(doc_id, &hash).await? {
            inlined += image.bytes.len();
            if inlined > MAX_INLINED_BYTES {
                let url = format!("{}{src}", state.config.public_url.trim_end_matches('/'));
                found.insert(src, Replacement::Image(url));
                continue;
            }
            let data = base64::engine::general_purpose::STANDARD.encode(&image.bytes);
            let url = format!("data:{};base64,{data}", image.content_type);
            found.insert(src, Replacement::Image(url));
        }
    }
    Ok(replace_images(delta, &found))
}

/// The document with its images' URLs made absolute (Markdown export), so the file links to this server.
pub fn absolute_images(public_url: &str, delta: &Delta) -> Delta {
    let found = image_sources(delta)
        .into_iter()
        .filter(|src| src.starts_with('/'))
        .map(|src| {
            let url = format!("{}{src}", public_url.trim_end_matches('/'));
            (src, Replacement::Image(url))
        })
        .collect();
    replace_images(delta, &found)
}

/// An imported document's images made into images of `doc_id`: those stored here that `user` may see are linked
/// to it, data URLs are stored (as an upload by `user` would be), and the rest become links (http and https) or
/// their alt text. Nothing is fetched. A data URL that is not an acceptable image refuses the import.
pub async fn import_images(
    state: &AppState,
    user: &User,
    doc_id: &str,
    delta: &Delta,
) -> Result<Delta, ApiError> {
    let mut found = HashMap::new();
    for src in image_sources(delta) {
        let replacement = if let Some(data) = src.strip_prefix("data:") {
            store_data_url(state, user, doc_id, data).await?
        } else if let Some((from_doc, hash)) =
            own_image(relative_to(&state.config.public_url, &src))
        {
            link_visible_image(state, user, doc_id, from_doc, hash).await?
        } else if crate::convert::model::safe_link(&src) {
            Replacement::Text(Some(src.clone()))
        } else {
            Replacement::Text(None)
        };
        found.insert(src, replacement);
    }
    Ok(replace_images(delta, &found))
}

async fn link_visible_image(
    state: &AppState,
    user: &User,
    doc_id: &str,
    from_doc: &str,
    hash: &str,
) -> Result<Replacement, ApiError> {
    let visible = visible_document(state, user, from_doc).await?.is_some();
    if !visible || !state.store.document_links_image(from_doc, hash).await? {
        // Not the importer's to see: the text stays, the picture does not, and nothing says whether it exists.
        return Ok(Replacement::Text(None));
    }
    state.store.link_image(doc_id, hash, &user.id).await?;
    Ok(Replacement::Image(images_api::image_path(doc_id, hash)))
}

async fn store_data_url(
    state: &AppState,
    user: &User,
    doc_id: &str,
    data: &str,
) -> Result<Replacement, ApiError> {
    let bytes = data
        .split_once(";base64,")
        .and_then(|(_, encoded)| {
            base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()
        })
        .ok_or_else(|| {
            ApiError::bad_request("an image in the file is a data URL that is not base64")
        })?;
    let stored = images_api::accept_image(state, user, doc_id, &bytes).await?;
    Ok(Replacement::Image(images_api::image_path(doc_id, &stored)))
}

/// `/api/docs/{id}/images/{hash}` as its document id and hash.
fn own_image(src: &str) -> Option<(&str, &str)> {
    if !is_image_url(src) {
        return None;
    }
    let rest = src.strip_prefix("/api/docs/")?;
    rest.split_once("/images/")
}

/// A URL at this server (`server.public_url`) as a path; anything else as it is.
fn relative_to<'a>(public_url: &str, src: &'a str) -> &'a str {
    let base = public_url.trim_end_matches('/');
    match src.strip_prefix(base) {
        Some(path) if !base.is_empty() && path.starts_with('/') => path,
        _ => src,
    }
}

/// Every distinct image URL in the document, in order.
fn image_sources(delta: &Delta) -> Vec<String> {
    let mut sources: Vec<String> = Vec::new();
    for op in delta.ops() {
        if let Some(src) = image_src(op)
            && !sources.iter().any(|known| known == src)
        {
            sources.push(src.to_string());
        }
    }
    sources
}

fn image_src(op: &Op) -> Option<&str> {
    match op {
        Op::Insert {
            insert: InsertValue::Embed(embed),
            ..
        } => embed.get("image")?.as_str(),
        _ => None,
    }
}

fn replace_images(delta: &Delta, found: &HashMap<String, Replacement>) -> Delta {
    let mut res = Delta::new();
    for op in delta.ops() {
        let (Some(replacement), Op::Insert { attributes, .. }) =
            (image_src(op).and_then(|src| found.get(src)), op)
        else {
            res.push(op.clone());
            continue;
        };
        match replacement {
            Replacement::Image(url) => {
                let mut embed = serde_json::Map::new();
                embed.insert("image".into(), json!(url));
                res.push(Op::insert_embed(embed, attributes.clone()));
            }
            Replacement::Text(link) => {
                let text = alt_text(attributes.as_ref());
                let attributes = link.as_ref().map(|url| {
                    let mut attributes = Attributes::new();
                    attributes.insert("link".into(), Value::String(url.clone()));
                    attributes
                });
                res.push(Op::insert_text(text, attributes));
            }
        }
    }
    res
}

fn alt_text(attributes: Option<&Attributes>) -> String {
    attributes
        .and_then(|a| a.get("alt"))
        .and_then(Value::as_str)
        .map(|alt| alt.replace(['\n', '\r'], " "))
        .filter(|alt| !alt.trim().is_empty())
        .unwrap_or_else(|| "image".to_string())
}
