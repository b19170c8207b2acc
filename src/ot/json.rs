//! The quill-delta JSON shape: `[{"insert":"Hi"},{"retain":3,"attributes":{"bold":true}}]`.
//! Serialization, and the lenient decoder for trusted data (our own store, test vectors).
//! Untrusted client input goes through `decode.rs` instead.

use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

use super::delta::Delta;
use super::error::OtError;
use super::op::{InsertValue, Op};
use super::text::Text;

/// The largest integer JS represents exactly; every count must fit.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

impl Serialize for Op {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let attributes = self.attributes();
        let mut map = serializer.serialize_map(Some(1 + usize::from(attributes.is_some())))?;
        match self {
            Op::Insert {
                insert: InsertValue::Text(text),
                ..
            } => map.serialize_entry("insert", text.as_str())?,
            Op::Insert {
                insert: InsertValue::Embed(embed),
                ..
            } => map.serialize_entry("insert", embed)?,
            Op::Retain { retain, .. } => map.serialize_entry("retain", retain)?,
            Op::Delete { delete } => map.serialize_entry("delete", delete)?,
        }
        if let Some(attributes) = attributes {
            map.serialize_entry("attributes", attributes)?;
        }
        map.end()
    }
}

impl Serialize for Delta {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.ops.len()))?;
        for op in &self.ops {
            seq.serialize_element(op)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Delta {
    /// Lenient: see [`Delta::from_json_unchecked`].
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Delta, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Delta::from_json_unchecked(&value).map_err(serde::de::Error::custom)
    }
}

impl Delta {
    /// Reads a Delta from trusted JSON (an array of ops, or `{"ops": [...]}`), canonicalizing
    /// it with `push`. No limits or allow-lists apply; the structure must still make sense
    /// (one action per op, counts that are integers up to 2^53-1, no embed-change retains).
    pub fn from_json_unchecked(value: &Value) -> Result<Delta, OtError> {
        let ops = match value {
            Value::Array(ops) => ops,
            Value::Object(obj) => match obj.get("ops") {
                Some(Value::Array(ops)) => ops,
                _ => return Err(OtError::NotAnArray),
            },
            _ => return Err(OtError::NotAnArray),
        };
        let mut delta = Delta::new();
        for (index, op) in ops.iter().enumerate() {
            delta.push(op_from_json(index, op)?);
        }
        Ok(delta)
    }

    /// The JSON value of this Delta (an array of ops).
    pub fn to_json(&self) -> Value {
        Value::Array(self.ops.iter().map(op_to_json).collect())
    }
}

fn op_to_json(op: &Op) -> Value {
    let mut map = serde_json::Map::new();
    match op {
        Op::Insert {
            insert: InsertValue::Text(text),
            ..
        } => {
            map.insert("insert".into(), Value::String(text.as_str().to_owned()));
        }
        Op::Insert {
            insert: InsertValue::Embed(embed),
            ..
        } => {
            map.insert("insert".into(), Value::Object(embed.clone()));
        }
        Op::Retain { retain, .. } => {
            map.insert("retain".into(), Value::from(*retain));
        }
        Op::Delete { delete } => {
            map.insert("delete".into(), Value::from(*delete));
        }
    }
    if let Some(attributes) = op.attributes() {
        map.insert("attributes".into(), Value::Object(attributes.clone()));
    }
    Value::Object(map)
}

fn op_from_json(index: usize, value: &Value) -> Result<Op, OtError> {
    let malformed = |what: &str| OtError::Malformed(format!("op {index}: {what}"));
    let Value::Object(obj) = value else {
        return Err(malformed("not an object"));
    };
    let attributes = match obj.get("attributes") {
        None | Some(Value::Null) => None,
        Some(Value::Object(attributes)) => Some(attributes.clone()),
        Some(_) => return Err(malformed("attributes is not an object")),
    };
    let count = |value: &Value| match value.as_u64() {
        Some(n) if n <= MAX_SAFE_INTEGER => Ok(n),
        _ => Err(malformed("count is not an integer in 0..=2^53-1")),
    };
    match (obj.get("insert"), obj.get("retain"), obj.get("delete")) {
        (Some(Value::String(text)), None, None) => Ok(Op::Insert {
            insert: InsertValue::Text(Text::new(text.as_str())),
            attributes,
        }),
        (Some(Value::Object(embed)), None, None) => Ok(Op::Insert {
            insert: InsertValue::Embed(embed.clone()),
            attributes,
        }),
        (None, Some(retain), None) => Ok(Op::Retain {
            retain: count(retain)?,
            attributes,
        }),
        (None, None, Some(delete)) => Ok(Op::Delete {
            delete: count(delete)?,
        }),
        _ => Err(malformed(
            "needs exactly one insert (text or object), retain or delete",
        )),
    }
}
