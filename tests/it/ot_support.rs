//! Shared helpers for the OT tests: JSON literals to Deltas, and random documents and changes
//! (Unicode, embeds, formats, nulls) for property tests.

use proptest::prelude::*;
use quire::ot::{Attributes, Delta};
use serde_json::{Value, json};

/// A Delta from a JSON literal (trusted path).
pub fn d(value: Value) -> Delta {
    Delta::from_json_unchecked(&value).expect("test delta literal")
}

/// Attributes from a JSON object literal.
pub fn attrs(value: Value) -> Attributes {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

pub fn embed(value: Value) -> serde_json::Map<String, Value> {
    attrs(value)
}

/// Text pieces that exercise UTF-16: astral characters, ZWJ sequences, combining marks, CJK.
const WORDS: &[&str] = &[
    "a",
    "Hello",
    " ",
    "\n",
    "😀",
    "e\u{301}",
    "o\u{30b}",
    "👨‍👩‍👧‍👦",
    "漢字",
    "ab\ncd",
    "x😀y",
    "\n\n",
];

fn word() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(WORDS), 1..3).prop_map(|w| w.concat())
}

fn format(allow_null: bool) -> impl Strategy<Value = Option<Attributes>> {
    let value = prop_oneof![
        Just(json!(true)),
        Just(json!("red")),
        Just(json!(2)),
        Just(json!({"family": "serif", "size": [1, 2]})),
    ];
    let value = if allow_null {
        prop_oneof![4 => value, 1 => Just(Value::Null)].boxed()
    } else {
        value.boxed()
    };
    prop::option::weighted(
        0.5,
        prop::collection::btree_map(
            prop::sample::select(&["bold", "color", "header", "font"][..]),
            value,
            1..3,
        ),
    )
    .prop_map(|m| m.map(|m| m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

#[derive(Debug, Clone)]
enum Piece {
    Text(String, Option<Attributes>),
    Embed(bool, Option<Attributes>),
}

fn piece(allow_null: bool) -> impl Strategy<Value = Piece> {
    prop_oneof![
        4 => (word(), format(allow_null)).prop_map(|(w, f)| Piece::Text(w, f)),
        1 => (any::<bool>(), format(allow_null)).prop_map(|(i, f)| Piece::Embed(i, f)),
    ]
}

fn push_piece(delta: Delta, piece: Piece) -> Delta {
    match piece {
        Piece::Text(text, f) => delta.insert(text, f),
        Piece::Embed(image, f) => {
            let e = if image {
                json!({"image": "i.png"})
            } else {
                json!({"formula": "x^2"})
            };
            delta.insert_embed(embed(e), f)
        }
    }
}

/// A canonical document: inserts only, ending with "\n".
pub fn arb_doc() -> impl Strategy<Value = Delta> {
    prop::collection::vec(piece(false), 0..6).prop_map(|pieces| {
        let doc = pieces.into_iter().fold(Delta::new(), push_piece);
        doc.insert("\n", None)
    })
}

/// Every offset of `doc` that is a code-point boundary (embeds count 1).
pub fn boundaries(doc: &Delta) -> Vec<u64> {
    let mut res = vec![0];
    let mut at = 0;
    for op in doc.ops() {
        match op.text() {
            Some(text) => {
                for c in text.as_str().chars() {
                    at += c.len_utf16() as u64;
                    res.push(at);
                }
            }
            None => {
                at += 1;
                res.push(at);
            }
        }
    }
    res
}

/// Steps of a random change: (skip cuts, action, payload).
#[derive(Debug, Clone)]
pub struct Recipe(Vec<(usize, u8, usize, Piece, Option<Attributes>)>);

pub fn arb_recipe() -> impl Strategy<Value = Recipe> {
    prop::collection::vec(
        (0usize..4, 0u8..5, 1usize..4, piece(true), format(true)),
        1..6,
    )
    .prop_map(Recipe)
}

/// A change on `doc` that only cuts at code-point boundaries, like Appendix B's `randomOp`.
pub fn change_for(doc: &Delta, recipe: &Recipe) -> Delta {
    let cuts = boundaries(doc);
    let last = cuts.len() - 1;
    let mut ci = 0;
    let mut res = Delta::new();
    for (skip, action, n, piece, fmt) in &recipe.0 {
        let skip = (*skip).min(last - ci);
        res = res.retain(cuts[ci + skip] - cuts[ci], None);
        ci += skip;
        let n = (*n).min(last - ci);
        match action {
            0 | 1 => res = push_piece(res, piece.clone()),
            2 if n > 0 => {
                res = res.retain(cuts[ci + n] - cuts[ci], fmt.clone());
                ci += n;
            }
            _ if n > 0 => {
                res = res.delete(cuts[ci + n] - cuts[ci]);
                ci += n;
            }
            _ => {}
        }
    }
    res.chopped()
}

/// A document and two concurrent changes on it.
pub fn arb_case() -> impl Strategy<Value = (Delta, Delta, Delta)> {
    (arb_doc(), arb_recipe(), arb_recipe()).prop_map(|(doc, ra, rb)| {
        let a = change_for(&doc, &ra);
        let b = change_for(&doc, &rb);
        (doc, a, b)
    })
}

/// True when no op could be merged into its neighbour, none is empty, inserts come before
/// deletes, and there is no trailing plain retain.
pub fn is_canonical(delta: &Delta) -> bool {
    let ops = delta.ops();
    let no_trailing_retain = !matches!(
        ops.last(),
        Some(quire::ot::Op::Retain {
            attributes: None,
            ..
        })
    );
    let pairs_ok = ops.windows(2).all(|w| {
        let (x, y) = (&w[0], &w[1]);
        let same = quire::ot::attributes::attributes_equal(x.attributes(), y.attributes());
        let mergeable = same
            && ((x.text().is_some() && y.text().is_some()) || (x.is_retain() && y.is_retain()));
        !(mergeable || (x.is_delete() && (y.is_delete() || y.is_insert())))
    });
    no_trailing_retain
        && pairs_ok
        && ops
            .iter()
            .all(|op| !op.is_empty() && op.attributes().is_none_or(|a| !a.is_empty()))
}
