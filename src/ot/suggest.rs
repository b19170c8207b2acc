//! The two suggestion marks (`suggest-insert`, `suggest-delete`) of suggestion mode: their names and the
//! shape of their value, `{"id": S, "by": USER_ID}` (docs/protocol-notes.md, "Suggestion mode").

use serde_json::Value;

use super::attributes::Attributes;

pub const SUGGEST_INSERT: &str = "suggest-insert";
pub const SUGGEST_DELETE: &str = "suggest-delete";

/// The longest suggestion id; the browser makes 16 characters.
const MAX_ID: usize = 32;
/// The longest `by`: a user id.
const MAX_BY: usize = 64;

pub fn is_mark(key: &str) -> bool {
    key == SUGGEST_INSERT || key == SUGGEST_DELETE
}

/// `{"id": S, "by": USER}` and nothing else: S of 1 to 32 letters, digits, `-` and `_`, USER a non-empty string.
/// The id goes into the page as an attribute and is compared to group runs, so it is kept short and plain.
pub fn is_mark_value(value: &Value) -> bool {
    let Value::Object(map) = value else {
        return false;
    };
    let id_ok = map.get("id").and_then(Value::as_str).is_some_and(|id| {
        (1..=MAX_ID).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    let by_ok = map
        .get("by")
        .and_then(Value::as_str)
        .is_some_and(|by| (1..=MAX_BY).contains(&by.len()));
    map.len() == 2 && id_ok && by_ok
}

/// Who made the mark `key` on a run with these attributes, if it carries one.
pub fn mark_by<'a>(attributes: Option<&'a Attributes>, key: &str) -> Option<&'a str> {
    attributes?.get(key)?.get("by")?.as_str()
}

/// Whether any attribute of these maps is a suggestion mark (set or cleared): the cheap test that lets
/// ordinary ops skip every suggestion rule.
pub fn touches_marks<'a>(mut attributes: impl Iterator<Item = &'a Attributes>) -> bool {
    attributes.any(|map| map.keys().any(|key| is_mark(key)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mark_values() {
        assert!(is_mark_value(&json!({"id": "a1_-Z", "by": "u1"})));
        assert!(!is_mark_value(&json!({"id": "a1", "by": "u1", "x": 1})));
        assert!(!is_mark_value(&json!({"id": "", "by": "u1"})));
        assert!(!is_mark_value(&json!({"id": "a b", "by": "u1"})));
        assert!(!is_mark_value(&json!({"id": "a", "by": ""})));
        assert!(!is_mark_value(&json!({"id": "a", "by": 3})));
        assert!(!is_mark_value(&json!("a:u1")));
        assert!(!is_mark_value(&json!({"id": "x".repeat(33), "by": "u"})));
    }
}
