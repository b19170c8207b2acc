//! The strict decoder for changes from clients (PROTOCOL.md "Server handling of op", step 2)
//! and the limits it enforces. quill-delta itself validates nothing (research/ot.md 3.9).

use std::collections::BTreeSet;
use std::sync::LazyLock;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::delta::Delta;
use super::error::OtError;
use super::json::MAX_SAFE_INTEGER;
use super::op::{InsertValue, Op};
use super::suggest;
use super::text::Text;

/// Limits and allow-lists for client changes. `Default` is PROTOCOL.md's defaults and the
/// formats the editor registers (`web/src/formats.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtLimits {
    pub max_components: usize,
    pub max_doc_len: u64,
    /// Serialized JSON size of one embed's value.
    pub max_embed_bytes: usize,
    pub max_attribute_keys: usize,
    /// Serialized JSON size of one attribute value.
    pub max_attribute_bytes: usize,
    /// Nesting depth of one attribute value (a scalar is 0, `{"a":1}` is 1).
    pub max_attribute_depth: usize,
    pub allowed_formats: BTreeSet<String>,
    pub allowed_embeds: BTreeSet<String>,
}

impl Default for OtLimits {
    fn default() -> OtLimits {
        OtLimits {
            max_components: 10_000,
            max_doc_len: 2_000_000,
            max_embed_bytes: 64 * 1024,
            max_attribute_keys: 32,
            max_attribute_bytes: 2 * 1024,
            max_attribute_depth: 3,
            allowed_formats: EDITOR_FORMATS.formats(),
            allowed_embeds: EDITOR_FORMATS.embeds.iter().cloned().collect(),
        }
    }
}

/// `web/src/formats.json`: the formats and embeds the browser editor registers.
#[derive(Debug, Default, Deserialize)]
struct EditorFormats {
    #[serde(default)]
    inline: Vec<String>,
    #[serde(default)]
    line: Vec<String>,
    #[serde(default)]
    embeds: Vec<String>,
    /// Attributes of embeds (an image's width and alt text): formats on the wire, but not formats Quill registers.
    #[serde(default)]
    embed_attributes: Vec<String>,
    /// Suggestion marks (`ot::suggest`): formats the editor registers, whose value the decoder checks.
    #[serde(default)]
    suggestions: Vec<String>,
}

impl EditorFormats {
    fn formats(&self) -> BTreeSet<String> {
        self.inline
            .iter()
            .chain(&self.line)
            .chain(&self.embed_attributes)
            .chain(&self.suggestions)
            .cloned()
            .collect()
    }
}

// The file is compiled in; a unit test checks that it parses, and an unparsable file would
// mean "allow nothing", which fails closed.
static EDITOR_FORMATS: LazyLock<EditorFormats> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../web/src/formats.json")).unwrap_or_default()
});

/// Validates and canonicalizes a change from a client: exactly one action per component,
/// counts in 1..=2^53-1, non-empty insert text without `\r`, allowed embeds of bounded size,
/// no embed-change retains, non-empty bounded attributes on the allow-list with `null` only on
/// retain, safe links, well-formed table row ids. The result is rebuilt with `push` and `chop` and is never empty.
///
/// Lone surrogates cannot reach this point: a Rust `String` cannot hold them, and serde_json
/// refuses `"\ud83d"` when parsing the message.
pub fn decode_change(value: &Value, limits: &OtLimits) -> Result<Delta, OtError> {
    let Value::Array(components) = value else {
        return Err(OtError::NotAnArray);
    };
    if components.len() > limits.max_components {
        return Err(OtError::TooManyComponents {
            count: components.len(),
            max: limits.max_components,
        });
    }
    let mut delta = Delta::new();
    let mut total = 0u64;
    for (index, component) in components.iter().enumerate() {
        let op = decode_component(index, component, limits)?;
        if !op.is_insert() {
            // Keeps every later sum of counts exact and within what JS can represent.
            total = total.saturating_add(op.len());
            if total > MAX_SAFE_INTEGER {
                return Err(OtError::BadCount { index });
            }
        }
        delta.push(op);
    }
    delta.chop();
    if delta.is_empty() {
        return Err(OtError::EmptyChange);
    }
    Ok(delta)
}

fn decode_component(index: usize, component: &Value, limits: &OtLimits) -> Result<Op, OtError> {
    let Value::Object(obj) = component else {
        return Err(OtError::ComponentNotObject { index });
    };
    if let Some(key) = obj
        .keys()
        .find(|k| !matches!(k.as_str(), "insert" | "retain" | "delete" | "attributes"))
    {
        return Err(OtError::UnknownKey {
            index,
            key: key.clone(),
        });
    }
    let attributes = obj.get("attributes");
    match (obj.get("insert"), obj.get("retain"), obj.get("delete")) {
        (Some(insert), None, None) => Ok(Op::Insert {
            insert: decode_insert(index, insert, limits)?,
            attributes: decode_attributes(index, attributes, false, limits)?,
        }),
        (None, Some(Value::Object(_)), None) => Err(OtError::RetainObject { index }),
        (None, Some(retain), None) => Ok(Op::Retain {
            retain: decode_count(index, retain)?,
            attributes: decode_attributes(index, attributes, true, limits)?,
        }),
        (None, None, Some(delete)) => match attributes {
            Some(_) => Err(OtError::BadAttributes { index }),
            None => Ok(Op::Delete {
                delete: decode_count(index, delete)?,
            }),
        },
        _ => Err(OtError::ActionCount { index }),
    }
}

/// A count is a JSON integer (not `3.0`) in 1..=2^53-1.
fn decode_count(index: usize, value: &Value) -> Result<u64, OtError> {
    match value.as_u64() {
        Some(n) if (1..=MAX_SAFE_INTEGER).contains(&n) => Ok(n),
        _ => Err(OtError::BadCount { index }),
    }
}

fn decode_insert(index: usize, value: &Value, limits: &OtLimits) -> Result<InsertValue, OtError> {
    match value {
        Value::String(text) if text.is_empty() => Err(OtError::EmptyInsert { index }),
        // Quill rewrites "\r" locally, which would shift every later position.
        Value::String(text) if text.contains('\r') => Err(OtError::CarriageReturn { index }),
        Value::String(text) => Ok(InsertValue::Text(Text::new(text.as_str()))),
        Value::Object(embed) => decode_embed(index, embed, limits).map(InsertValue::Embed),
        _ => Err(OtError::BadInsert { index }),
    }
}

fn decode_embed(
    index: usize,
    embed: &Map<String, Value>,
    limits: &OtLimits,
) -> Result<Map<String, Value>, OtError> {
    let mut entries = embed.iter();
    let (Some((kind, value)), None) = (entries.next(), entries.next()) else {
        return Err(OtError::BadEmbed { index });
    };
    if !limits.allowed_embeds.contains(kind) {
        return Err(OtError::EmbedNotAllowed {
            index,
            kind: kind.clone(),
        });
    }
    let size = json_size(value);
    if size > limits.max_embed_bytes {
        return Err(OtError::EmbedTooLarge {
            index,
            size,
            max: limits.max_embed_bytes,
        });
    }
    if kind == "image" && !value.as_str().is_some_and(is_image_url) {
        return Err(OtError::BadImage { index });
    }
    let mut res = Map::new();
    res.insert(kind.clone(), normalized_numbers(value));
    Ok(res)
}

/// An image is one stored here, named by its path: `/api/docs/{id}/images/{sha256}`. Anything else (another
/// site, `data:`, `javascript:`) would fetch from elsewhere in every reader's browser or run script.
pub fn is_image_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("/api/docs/") else {
        return false;
    };
    let Some((doc, hash)) = rest.split_once("/images/") else {
        return false;
    };
    let id_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    (1..=64).contains(&doc.len())
        && doc.chars().all(id_char)
        && hash.len() == 64
        && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The values the attributes of an image may take: a width in pixels, and alt text.
fn check_embed_attribute(index: usize, key: &str, value: &Value) -> Result<(), OtError> {
    let bad = |expected| {
        Err(OtError::BadFormatValue {
            index,
            key: key.to_string(),
            expected,
        })
    };
    match (key, value) {
        (_, Value::Null) => Ok(()),
        ("width", Value::String(width))
            if (1..=4).contains(&width.len()) && width.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Ok(())
        }
        ("width", _) => bad("a width in pixels, such as \"320\""),
        ("alt", Value::String(_)) => Ok(()),
        ("alt", _) => bad("text"),
        _ => Ok(()),
    }
}

fn decode_attributes(
    index: usize,
    value: Option<&Value>,
    on_retain: bool,
    limits: &OtLimits,
) -> Result<Option<Map<String, Value>>, OtError> {
    let attributes = match value {
        None => return Ok(None),
        Some(Value::Object(attributes)) if !attributes.is_empty() => attributes,
        Some(_) => return Err(OtError::BadAttributes { index }),
    };
    if attributes.len() > limits.max_attribute_keys {
        return Err(OtError::TooManyAttributes {
            index,
            count: attributes.len(),
            max: limits.max_attribute_keys,
        });
    }
    let mut res = Map::new();
    for (key, value) in attributes {
        if !limits.allowed_formats.contains(key) {
            return Err(OtError::FormatNotAllowed {
                index,
                key: key.clone(),
            });
        }
        if value.is_null() && !on_retain {
            // quill-delta would keep `{"bold": null}` inside the document as noise.
            return Err(OtError::NullOnInsert {
                index,
                key: key.clone(),
            });
        }
        if json_size(value) > limits.max_attribute_bytes
            || depth(value) > limits.max_attribute_depth
        {
            return Err(OtError::AttributeTooLarge {
                index,
                key: key.clone(),
            });
        }
        if key == "link" && !value.is_null() && !is_safe_link(value) {
            return Err(OtError::BadLink { index });
        }
        if key == "table" && !value.is_null() && !is_table_row_id(value) {
            return Err(OtError::BadTableRow { index });
        }
        check_embed_attribute(index, key, value)?;
        if suggest::is_mark(key) && !value.is_null() && !suggest::is_mark_value(value) {
            return Err(OtError::BadFormatValue {
                index,
                key: key.clone(),
                expected: "{\"id\": up to 32 letters, digits, - or _, \"by\": a user id}",
            });
        }
        res.insert(key.clone(), normalized_numbers(value));
    }
    Ok(Some(res))
}

/// Only http, https and mailto links: anything else (`javascript:`, `data:`, relative URLs
/// that a browser resolves oddly) is a way to run script in another user's browser.
fn is_safe_link(value: &Value) -> bool {
    let Value::String(url) = value else {
        return false;
    };
    let Some((scheme, _)) = url.split_once(':') else {
        return false;
    };
    ["http", "https", "mailto"]
        .iter()
        .any(|allowed| scheme.eq_ignore_ascii_case(allowed))
}

/// The longest row id a `table` line may carry; Quill makes `row-` and four characters.
const MAX_TABLE_ROW_ID: usize = 32;

/// A table cell's line carries its row's id, which Quill writes into the page as the cell's
/// `data-row` attribute and compares to group cells into rows: a short string of letters,
/// digits and dashes keeps anything else (markup, huge values, `true`) out of that attribute.
fn is_table_row_id(value: &Value) -> bool {
    let Value::String(id) = value else {
        return false;
    };
    (1..=MAX_TABLE_ROW_ID).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Size of `value` serialized as compact JSON, without building the string.
fn json_size(value: &Value) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    match serde_json::to_writer(&mut counter, value) {
        Ok(()) => counter.0,
        // Serializing a `Value` cannot fail; treat the impossible as too large.
        Err(_) => usize::MAX,
    }
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// JS cannot tell `1.0` from `1`, but serde_json can; integral floats become integers so that
/// equal formats compare equal and merge.
fn normalized_numbers(value: &Value) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() <= MAX_SAFE_INTEGER as f64 => {
                Value::from(f as i64)
            }
            _ => value.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(normalized_numbers).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), normalized_numbers(v)))
                .collect(),
        ),
        _ => value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editor_formats_parse() {
        let limits = OtLimits::default();
        for format in [
            "bold",
            "italic",
            "link",
            "header",
            "list",
            "code-block",
            "table",
            "suggest-insert",
            "suggest-delete",
        ] {
            assert!(limits.allowed_formats.contains(format), "{format}");
        }
    }

    #[test]
    fn integral_floats_become_integers() {
        assert_eq!(
            normalized_numbers(&serde_json::json!({"a": [1.0, 1.5]})),
            serde_json::json!({"a": [1, 1.5]})
        );
    }
}
