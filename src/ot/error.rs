//! `OtError`: every way an op, a change or a document can be rejected, with stable codes.

/// Why the OT core refused a value. Every variant has a stable [`OtError::code`]; the hub
/// sends [`OtError::wire_code`] to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OtError {
    #[error("a change must be a JSON array of components")]
    NotAnArray,
    #[error("too many components: {count} > {max}")]
    TooManyComponents { count: usize, max: usize },
    #[error("component {index} is not an object")]
    ComponentNotObject { index: usize },
    #[error("component {index} needs exactly one of insert, retain and delete")]
    ActionCount { index: usize },
    #[error("component {index} has an unknown key {key:?}")]
    UnknownKey { index: usize, key: String },
    #[error("component {index}: counts are integers in 1..=2^53-1")]
    BadCount { index: usize },
    #[error("component {index}: retain of an embed (an object) is not supported")]
    RetainObject { index: usize },
    #[error("component {index}: insert is neither a string nor an embed object")]
    BadInsert { index: usize },
    #[error("component {index}: insert text is empty")]
    EmptyInsert { index: usize },
    #[error("component {index}: insert text contains a carriage return")]
    CarriageReturn { index: usize },
    #[error("component {index}: an embed is an object with exactly one key")]
    BadEmbed { index: usize },
    #[error("component {index}: embed type {kind:?} is not allowed")]
    EmbedNotAllowed { index: usize, kind: String },
    #[error("component {index}: embed value of {size} bytes > {max}")]
    EmbedTooLarge {
        index: usize,
        size: usize,
        max: usize,
    },
    #[error("component {index}: attributes must be a non-empty object on insert or retain")]
    BadAttributes { index: usize },
    #[error("component {index}: format {key:?} is not allowed")]
    FormatNotAllowed { index: usize, key: String },
    #[error("component {index}: {count} attribute keys > {max}")]
    TooManyAttributes {
        index: usize,
        count: usize,
        max: usize,
    },
    #[error("component {index}: value of format {key:?} is too large or too deep")]
    AttributeTooLarge { index: usize, key: String },
    #[error("component {index}: null attribute {key:?} on an insert")]
    NullOnInsert { index: usize, key: String },
    #[error("component {index}: link must be an http, https or mailto URL")]
    BadLink { index: usize },
    #[error("component {index}: an image must be a URL /api/docs/ID/images/SHA256 of this server")]
    BadImage { index: usize },
    #[error("component {index}: {key:?} must be {expected}")]
    BadFormatValue {
        index: usize,
        key: String,
        expected: &'static str,
    },
    #[error("component {index}: a table row id is up to 32 letters, digits and dashes")]
    BadTableRow { index: usize },
    #[error("the change is empty")]
    EmptyChange,
    #[error("the change spans {base} units but the document has {doc}")]
    BaseTooLong { base: u64, doc: u64 },
    #[error("a boundary at UTF-16 offset {index} splits a surrogate pair")]
    SplitSurrogate { index: u64 },
    #[error("the document must end with a newline")]
    MissingFinalNewline,
    #[error("the document would be {len} units long, over the limit of {max}")]
    DocTooLarge { len: u64, max: u64 },
    #[error("a document contains only inserts")]
    NotADocument,
    #[error("malformed delta JSON: {0}")]
    Malformed(String),
}

impl OtError {
    /// A stable machine-readable name for this rejection, for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            OtError::NotAnArray => "not_an_array",
            OtError::TooManyComponents { .. } => "too_many_components",
            OtError::ComponentNotObject { .. } => "component_not_object",
            OtError::ActionCount { .. } => "action_count",
            OtError::UnknownKey { .. } => "unknown_key",
            OtError::BadCount { .. } => "bad_count",
            OtError::RetainObject { .. } => "retain_object",
            OtError::BadInsert { .. } => "bad_insert",
            OtError::EmptyInsert { .. } => "empty_insert",
            OtError::CarriageReturn { .. } => "carriage_return",
            OtError::BadEmbed { .. } => "bad_embed",
            OtError::EmbedNotAllowed { .. } => "embed_not_allowed",
            OtError::EmbedTooLarge { .. } => "embed_too_large",
            OtError::BadAttributes { .. } => "bad_attributes",
            OtError::FormatNotAllowed { .. } => "format_not_allowed",
            OtError::TooManyAttributes { .. } => "too_many_attributes",
            OtError::AttributeTooLarge { .. } => "attribute_too_large",
            OtError::NullOnInsert { .. } => "null_on_insert",
            OtError::BadLink { .. } => "bad_link",
            OtError::BadImage { .. } => "bad_image",
            OtError::BadFormatValue { .. } => "bad_format_value",
            OtError::BadTableRow { .. } => "bad_table_row",
            OtError::EmptyChange => "empty_change",
            OtError::BaseTooLong { .. } => "base_too_long",
            OtError::SplitSurrogate { .. } => "split_surrogate",
            OtError::MissingFinalNewline => "missing_final_newline",
            OtError::DocTooLarge { .. } => "doc_too_large",
            OtError::NotADocument => "not_a_document",
            OtError::Malformed(_) => "malformed",
        }
    }

    /// The PROTOCOL.md error code: sizes over a limit are `too_large`, everything else `bad_op`.
    pub fn wire_code(&self) -> &'static str {
        match self {
            OtError::TooManyComponents { .. }
            | OtError::EmbedTooLarge { .. }
            | OtError::TooManyAttributes { .. }
            | OtError::AttributeTooLarge { .. }
            | OtError::DocTooLarge { .. } => "too_large",
            _ => "bad_op",
        }
    }
}
