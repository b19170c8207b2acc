//! `Op`: one component of a Delta (insert, retain or delete) and its UTF-16 length.

use serde_json::{Map, Value};

use super::attributes::Attributes;
use super::text::Text;

/// What an insert adds: text, or an embed (an object with one key such as `{"image": url}`)
/// that counts as one unit.
#[derive(Debug, Clone, PartialEq)]
pub enum InsertValue {
    Text(Text),
    Embed(Map<String, Value>),
}

/// One Delta component. Counts and lengths are UTF-16 code units; `attributes` is never an
/// empty map (the builder drops empty maps, as quill-delta's does).
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Insert {
        insert: InsertValue,
        attributes: Option<Attributes>,
    },
    Retain {
        retain: u64,
        attributes: Option<Attributes>,
    },
    Delete {
        delete: u64,
    },
}

impl Op {
    pub fn insert_text(text: impl Into<Text>, attributes: Option<Attributes>) -> Op {
        Op::Insert {
            insert: InsertValue::Text(text.into()),
            attributes,
        }
    }

    pub fn insert_embed(embed: Map<String, Value>, attributes: Option<Attributes>) -> Op {
        Op::Insert {
            insert: InsertValue::Embed(embed),
            attributes,
        }
    }

    pub fn retain(retain: u64, attributes: Option<Attributes>) -> Op {
        Op::Retain { retain, attributes }
    }

    pub fn delete(delete: u64) -> Op {
        Op::Delete { delete }
    }

    /// `Op.length`: UTF-16 units of text, 1 for an embed, the count for retain and delete.
    pub fn len(&self) -> u64 {
        match self {
            Op::Insert {
                insert: InsertValue::Text(t),
                ..
            } => t.len_utf16(),
            Op::Insert {
                insert: InsertValue::Embed(_),
                ..
            } => 1,
            Op::Retain { retain, .. } => *retain,
            Op::Delete { delete } => *delete,
        }
    }

    /// True for the zero-length ops that quill-delta's builder refuses to add.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn attributes(&self) -> Option<&Attributes> {
        match self {
            Op::Insert { attributes, .. } | Op::Retain { attributes, .. } => attributes.as_ref(),
            Op::Delete { .. } => None,
        }
    }

    pub fn is_insert(&self) -> bool {
        matches!(self, Op::Insert { .. })
    }

    pub fn is_delete(&self) -> bool {
        matches!(self, Op::Delete { .. })
    }

    pub fn is_retain(&self) -> bool {
        matches!(self, Op::Retain { .. })
    }

    /// The insert's text, if it is a text insert.
    pub fn text(&self) -> Option<&Text> {
        match self {
            Op::Insert {
                insert: InsertValue::Text(t),
                ..
            } => Some(t),
            _ => None,
        }
    }
}
