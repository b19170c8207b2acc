//! Pure Delta operational transformation with quill-delta 5.1.0 semantics; no I/O.
//!
//! Every length, count and index is in UTF-16 code units (JS `String.length`); text is stored
//! as `String` with its UTF-16 length cached. The JSON shape is quill-delta's:
//! `[{"insert":"Hi"},{"retain":3,"attributes":{"bold":true}}]` (see `json.rs`).
//!
//! - [`Delta`]: canonical ops, builder, `compose`, `transform`, `transform_position`, `invert`.
//! - [`attributes`]: quill-delta's `AttributeMap` functions.
//! - [`decode_change`] and [`OtLimits`]: validation of untrusted client changes.
//! - [`suggest`]: the names and value shape of suggestion marks.
//! - [`Document`]: the server's head document, cheap to edit in place.
//!
//! This module imports nothing from the rest of the crate (paths are `super::`-relative), so
//! the fuzz crate compiles it on its own.

pub mod attributes;
mod compose;
mod decode;
mod delta;
mod document;
mod error;
mod iter;
mod json;
mod op;
pub mod suggest;
mod text;
mod transform;

pub use attributes::Attributes;
pub use decode::{OtLimits, decode_change, is_image_url};
pub use delta::Delta;
pub use document::Document;
pub use error::OtError;
pub use iter::{INFINITY, Kind, OpIter};
pub use json::MAX_SAFE_INTEGER;
pub use op::{InsertValue, Op};
pub use text::{Text, utf16_len};
