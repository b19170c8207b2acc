//! Export and import of documents as plain text, Markdown and HTML. Pure functions from a document Delta to
//! text and back, no I/O; the HTTP routes and the dashboard's import call [`export`] and [`import`].
//!
//! Every converter goes through one model ([`model::Line`]: formatted spans plus the line's block format), so
//! exporting and importing agree on what each format of `web/src/formats.json` becomes. What the formats cannot
//! say is left out: indent on lines that are not list items, and embeds other than images. Images keep their URL as
//! written; the HTTP layer (`http::image_refs`) decides what an image URL becomes on the way out and in.

pub mod footnotes;
mod html;
mod html_tokens;
mod import_html;
mod import_markdown;
mod inline;
mod markdown;
pub mod model;
mod suggestions;
mod text;

use crate::ot::Delta;

pub use import_html::title as html_title;
pub use suggestions::without_suggestions;

/// A text format documents convert to and from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
    Html,
}

impl Format {
    /// `text`, `markdown` (or `md`) and `html`, as in `?format=`.
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "text" | "txt" => Some(Format::Text),
            "markdown" | "md" => Some(Format::Markdown),
            "html" => Some(Format::Html),
            _ => None,
        }
    }

    /// The format of a `Content-Type` such as `text/markdown; charset=utf-8`.
    pub fn from_media_type(content_type: &str) -> Option<Format> {
        let essence = content_type.split(';').next()?.trim().to_ascii_lowercase();
        match essence.as_str() {
            "text/plain" => Some(Format::Text),
            "text/markdown" | "text/x-markdown" => Some(Format::Markdown),
            "text/html" => Some(Format::Html),
            _ => None,
        }
    }

    /// The `Content-Type` of an export.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; charset=utf-8",
            Format::Markdown => "text/markdown; charset=utf-8",
            Format::Html => "text/html; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Text => "txt",
            Format::Markdown => "md",
            Format::Html => "html",
        }
    }
}

/// The document as text in `format`; `title` names the HTML page.
/// Pending suggestions are left out (`without_suggestions`).
pub fn export(document: &Delta, format: Format, title: &str) -> String {
    let document = &without_suggestions(document);
    match format {
        Format::Text => text::export(document),
        Format::Markdown => markdown::export(document),
        Format::Html => html::export(document, title),
    }
}

/// The document's HTML blocks without a page around them (escaped like the export), to show inside a page.
pub fn html_fragment(document: &Delta) -> String {
    html::fragment(&without_suggestions(document))
}

/// The text of the document's first line when that line is a heading: what a Markdown file's `# Title` names.
pub fn first_line_heading(document: &Delta) -> Option<String> {
    let lines = model::lines_of(document);
    let first = lines.first()?;
    let text = first.text();
    let text = text.trim();
    (matches!(first.block, model::Block::Header(_)) && !text.is_empty()).then(|| text.to_string())
}

/// The document a text in `format` describes: an insert-only Delta ending with `"\n"`, whose text holds no
/// `\r` (PROTOCOL.md), whatever line endings the input has.
pub fn import(input: &str, format: Format) -> Delta {
    // CRLF and CR mean the same as LF to every format here, so they are settled once, before parsing; the
    // readers settle the `\r` that character references like `&#13;` produce.
    let input = model::normalize_line_endings(input);
    match format {
        Format::Text => text::import(&input),
        Format::Markdown => import_markdown::import(&input),
        Format::Html => import_html::import(&input),
    }
}
