//! The server's rules for suggestion marks (docs/protocol-notes.md, "Suggestion mode"): the browser marks its
//! own ops, and the hub checks each one, transformed to head, against the head document before applying it.

use crate::{
    ot::{
        Attributes, Delta, Document, Op,
        suggest::{SUGGEST_DELETE, SUGGEST_INSERT, is_mark, mark_by, touches_marks},
    },
    store::Role,
};

/// `Ok` when `user` with `role` may commit `op` (at head) on `doc`; otherwise why not, for a `forbidden` error.
pub fn check(role: Role, user: &str, op: &Delta, doc: &Document) -> Result<(), String> {
    match role {
        Role::Viewer => Err("a viewer cannot change this document".into()),
        Role::Commenter => check_commenter(user, op, doc),
        Role::Owner | Role::Editor => {
            // The hot path: an ordinary edit carries no mark and is not looked at further.
            if !touches_marks(op.ops().iter().filter_map(Op::attributes)) {
                return Ok(());
            }
            op.ops()
                .iter()
                .filter_map(Op::attributes)
                .try_for_each(|attributes| marks_set_by(user, attributes))
        }
    }
}

/// Every mark this map sets (not clears) names `user` as its author.
fn marks_set_by(user: &str, attributes: &Attributes) -> Result<(), String> {
    for (key, value) in attributes {
        if is_mark(key)
            && !value.is_null()
            && value.get("by").and_then(|v| v.as_str()) != Some(user)
        {
            return Err(format!("a {key} mark must name you as its author"));
        }
    }
    Ok(())
}

/// A commenter only suggests: inserts marked as theirs, retains that only mark text for deletion by them or
/// withdraw such marks of theirs (an undo), and deletes of nothing but their own pending insertions.
fn check_commenter(user: &str, op: &Delta, doc: &Document) -> Result<(), String> {
    const NOT_A_SUGGESTION: &str = "a commenter can only suggest changes (suggestion mode)";
    let mut pos = 0u64;
    for component in op.ops() {
        match component {
            Op::Insert { attributes, .. } => {
                let attributes = attributes.as_ref();
                if mark_by(attributes, SUGGEST_INSERT) != Some(user)
                    || attributes.is_some_and(|a| a.contains_key(SUGGEST_DELETE))
                {
                    return Err(NOT_A_SUGGESTION.into());
                }
            }
            Op::Retain {
                retain,
                attributes: Some(attributes),
            } => {
                let only_delete_mark = attributes.len() == 1
                    && mark_by(Some(attributes), SUGGEST_DELETE) == Some(user);
                let withdraws_own = attributes.len() == 1
                    && attributes.get(SUGGEST_DELETE).is_some_and(|v| v.is_null())
                    && all_runs(doc, pos, *retain, |run| {
                        mark_by(run.attributes(), SUGGEST_DELETE) == Some(user)
                    })?;
                if !(only_delete_mark || withdraws_own) {
                    return Err(NOT_A_SUGGESTION.into());
                }
                pos += retain;
            }
            Op::Retain { retain, .. } => pos += retain,
            Op::Delete { delete } => {
                let own = all_runs(doc, pos, *delete, |run| {
                    mark_by(run.attributes(), SUGGEST_INSERT) == Some(user)
                })?;
                if !own {
                    return Err("a commenter can only delete their own pending insertions".into());
                }
                pos += delete;
            }
        }
    }
    Ok(())
}

/// Whether every run of the document in `[pos, pos + len)` passes `test`.
fn all_runs(
    doc: &Document,
    pos: u64,
    len: u64,
    test: impl Fn(&Op) -> bool,
) -> Result<bool, String> {
    let runs = doc.slice(pos, pos + len).map_err(|err| err.to_string())?;
    Ok(runs.ops().iter().all(test))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn delta(value: Value) -> Delta {
        Delta::from_json_unchecked(&value).unwrap()
    }

    fn doc(value: Value) -> Document {
        Document::from_delta(&delta(value)).unwrap()
    }

    fn mark(by: &str) -> Value {
        json!({"id": "s1", "by": by})
    }

    #[test]
    fn editors_plain_ops_pass_and_forged_marks_do_not() {
        let d = doc(json!([{"insert": "hello\n"}]));
        let plain = delta(json!([{"retain": 2}, {"insert": "x", "attributes": {"bold": true}}]));
        assert!(check(Role::Editor, "ann", &plain, &d).is_ok());
        let own = delta(json!([{"insert": "x", "attributes": {"suggest-insert": mark("ann")}}]));
        assert!(check(Role::Editor, "ann", &own, &d).is_ok());
        assert!(check(Role::Owner, "bob", &own, &d).is_err());
        let clear = delta(json!([{"retain": 2, "attributes": {"suggest-delete": null}}]));
        assert!(check(Role::Editor, "ann", &clear, &d).is_ok());
        assert!(check(Role::Viewer, "ann", &plain, &d).is_err());
    }

    #[test]
    fn commenters_only_suggest() {
        let d = doc(json!([
            {"insert": "ab"},
            {"insert": "cd", "attributes": {"suggest-insert": mark("cat")}},
            {"insert": "ef", "attributes": {"suggest-insert": mark("dan")}},
            {"insert": "g", "attributes": {"suggest-delete": mark("cat")}},
            {"insert": "h", "attributes": {"suggest-delete": mark("dan")}},
            {"insert": "\n"}
        ]));
        let ok = [
            json!([{"insert": "x", "attributes": {"suggest-insert": mark("cat")}}]),
            json!([{"retain": 1, "attributes": {"suggest-delete": mark("cat")}}]),
            json!([{"retain": 2}, {"delete": 2}]),
            json!([{"retain": 6}, {"retain": 1, "attributes": {"suggest-delete": null}}]),
        ];
        for op in ok {
            assert!(
                check(Role::Commenter, "cat", &delta(op.clone()), &d).is_ok(),
                "{op}"
            );
        }
        let refused = [
            json!([{"insert": "x"}]),
            json!([{"insert": "x", "attributes": {"suggest-insert": mark("dan")}}]),
            json!([{"delete": 1}]),
            json!([{"retain": 2}, {"delete": 3}]),
            json!([{"retain": 4}, {"delete": 1}]),
            json!([{"retain": 1, "attributes": {"bold": true}}]),
            json!([{"retain": 1, "attributes": {"suggest-delete": mark("cat"), "bold": true}}]),
            json!([{"retain": 2, "attributes": {"suggest-insert": null}}]),
            json!([{"retain": 5}, {"retain": 2, "attributes": {"suggest-delete": null}}]),
            json!([{"retain": 7}, {"retain": 1, "attributes": {"suggest-delete": null}}]),
        ];
        for op in refused {
            assert!(
                check(Role::Commenter, "cat", &delta(op.clone()), &d).is_err(),
                "{op}"
            );
        }
    }
}
