//! The document as it reads without pending suggestions, which is what every export shows: text suggested for
//! insertion is left out, text suggested for deletion stays, unmarked (docs/protocol-notes.md, "Suggestion mode").

use crate::ot::{
    Delta, Op,
    suggest::{SUGGEST_DELETE, SUGGEST_INSERT, touches_marks},
};

/// `document` without its `suggest-insert` runs and with the `suggest-delete` marks removed.
pub fn without_suggestions(document: &Delta) -> Delta {
    if !touches_marks(document.ops().iter().filter_map(Op::attributes)) {
        return document.clone();
    }
    let mut res = Delta::new();
    for op in document.ops() {
        let Op::Insert { insert, attributes } = op else {
            continue;
        };
        let Some(attributes) = attributes else {
            res.push(op.clone());
            continue;
        };
        if attributes.contains_key(SUGGEST_INSERT) {
            // A suggested line break is dropped too, so the suggested line joins the next one; its line format
            // (on that "\n") goes with it, as it would if the suggestion were rejected.
            continue;
        }
        let mut attributes = attributes.clone();
        attributes.remove(SUGGEST_DELETE);
        res.push(Op::Insert {
            insert: insert.clone(),
            attributes: (!attributes.is_empty()).then_some(attributes),
        });
    }
    // A document ends with "\n"; a suggested final line break (which Quill never makes) must not take it away.
    if !res.text().ends_with('\n') {
        res.push(Op::insert_text("\n", None));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn drops_insertions_and_keeps_deletions() {
        let mark = json!({"id": "s1", "by": "u"});
        let doc = Delta::from_json_unchecked(&json!([
            {"insert": "keep "},
            {"insert": "new ", "attributes": {"suggest-insert": mark, "bold": true}},
            {"insert": "old", "attributes": {"suggest-delete": mark, "italic": true}},
            {"insert": "\n"}
        ]))
        .unwrap();
        let expected = Delta::from_json_unchecked(&json!([
            {"insert": "keep "},
            {"insert": "old", "attributes": {"italic": true}},
            {"insert": "\n"}
        ]))
        .unwrap();
        assert_eq!(without_suggestions(&doc), expected);
    }
}
