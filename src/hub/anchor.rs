//! How a comment's anchor moves through a committed op: pure, so the hub, the loader and the tests share one rule
//! (written down in docs/protocol-notes.md, "How an anchor moves").

use crate::ot::Delta;

/// A comment's range `[start, end)` in UTF-16 units. `orphaned`: every character of it was deleted, and it is
/// now a point kept only to show the thread near where its text was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    pub start: u64,
    pub end: u64,
    pub orphaned: bool,
}

impl Anchor {
    pub fn new(start: u64, end: u64) -> Anchor {
        Anchor {
            start,
            end,
            orphaned: start >= end,
        }
    }
}

/// Moves `anchor` through `op`. An insert exactly at either boundary stays outside (a comment is about the words
/// it was put on, not about what someone writes next to them); an insert strictly inside joins it. When the range
/// becomes empty, its text was deleted: the anchor is orphaned, for good.
pub fn move_anchor(op: &Delta, anchor: Anchor) -> Anchor {
    let end = op.transform_position(anchor.end, true);
    if anchor.orphaned {
        return Anchor {
            start: end,
            end,
            orphaned: true,
        };
    }
    let start = op.transform_position(anchor.start, false);
    if end <= start {
        return Anchor {
            start: end,
            end,
            orphaned: true,
        };
    }
    Anchor {
        start,
        end,
        orphaned: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::model_ops::{canonical, delta_of};
    use proptest::prelude::*;

    fn range(start: u64, end: u64) -> Anchor {
        Anchor::new(start, end)
    }

    #[test]
    fn inserts_at_the_boundaries_stay_outside() {
        let at_start = Delta::new().retain(2, None).insert("xy", None);
        assert_eq!(move_anchor(&at_start, range(2, 4)), range(4, 6));
        let at_end = Delta::new().retain(4, None).insert("xy", None);
        assert_eq!(move_anchor(&at_end, range(2, 4)), range(2, 4));
    }

    #[test]
    fn inserts_inside_join_the_anchor() {
        let inside = Delta::new().retain(3, None).insert("xy", None);
        assert_eq!(move_anchor(&inside, range(2, 4)), range(2, 6));
    }

    #[test]
    fn deletes_shrink_it_and_formats_do_not_move_it() {
        let partly = Delta::new().retain(1, None).delete(2);
        assert_eq!(move_anchor(&partly, range(2, 5)), range(1, 3));
        let bold = Delta::new().retain(
            6,
            Some(crate::ot::Attributes::from_iter([(
                "bold".to_string(),
                serde_json::Value::Bool(true),
            )])),
        );
        assert_eq!(move_anchor(&bold, range(2, 5)), range(2, 5));
    }

    #[test]
    fn a_range_whose_text_is_deleted_is_orphaned_for_good() {
        let gone = Delta::new().retain(1, None).delete(4);
        let orphan = move_anchor(&gone, range(2, 4));
        assert_eq!(
            orphan,
            Anchor {
                start: 1,
                end: 1,
                orphaned: true
            }
        );
        let typed_back = Delta::new().retain(1, None).insert("abc", None);
        assert!(move_anchor(&typed_back, orphan).orphaned);
        assert_eq!(move_anchor(&typed_back, orphan).start, 1);
    }

    #[test]
    fn a_replacement_keeps_what_was_typed_inside() {
        // "abcd", anchor on "bc"; c is replaced by Z (canonical: insert before delete): Z was typed inside.
        let replace_c = Delta::new().retain(2, None).insert("Z", None).delete(1);
        assert_eq!(move_anchor(&replace_c, range(1, 3)), range(1, 3));
        // b replaced by Y: Y lands at the start boundary, outside.
        let replace_b = Delta::new().retain(1, None).insert("Y", None).delete(1);
        assert_eq!(move_anchor(&replace_b, range(1, 3)), range(2, 3));
    }

    /// The cases the browser's copy of the rule (web/src/comments/anchor.js) is tested on too: both must agree.
    #[test]
    fn the_browser_rule_agrees_on_the_shared_vectors() {
        let file: serde_json::Value = serde_json::from_str(include_str!(
            "../../tests/data/comments/anchor-vectors.json"
        ))
        .unwrap();
        let cases = file["cases"].as_array().unwrap();
        assert!(cases.len() >= 40);
        let triple = |v: &serde_json::Value| Anchor {
            start: v[0].as_u64().unwrap(),
            end: v[1].as_u64().unwrap(),
            orphaned: v[2].as_bool().unwrap(),
        };
        for case in cases {
            let op = Delta::from_json_unchecked(&case["op"]).unwrap();
            let moved = move_anchor(&op, triple(&case["anchor"]));
            assert_eq!(moved, triple(&case["expect"]), "{}", case["why"]);
        }
    }

    /// What every committed op costs the hub per open thread: run with `cargo test --lib anchor_cost -- --ignored
    /// --nocapture` (a debug build: an optimized one is several times faster).
    #[test]
    #[ignore = "a measurement, not a check"]
    fn anchor_cost() {
        let anchors: Vec<Anchor> = (0..100).map(|i| range(i * 50, i * 50 + 20)).collect();
        let ops: Vec<Delta> = (0..1000u64)
            .map(|i| Delta::new().retain(i * 5 % 5000, None).insert("a", None))
            .collect();
        let started = std::time::Instant::now();
        let mut moved = anchors.clone();
        for op in &ops {
            for anchor in &mut moved {
                *anchor = move_anchor(op, *anchor);
            }
        }
        let per_op = started.elapsed() / ops.len() as u32;
        let mut document =
            crate::ot::Document::from_delta(&Delta::new().insert("x".repeat(5000) + "\n", None))
                .unwrap();
        let started = std::time::Instant::now();
        for op in &ops {
            document.apply(op, u64::MAX).unwrap();
        }
        let apply = started.elapsed() / ops.len() as u32;
        println!(
            "moving 100 anchors: {per_op:?} per op; applying the op to a 5,000-unit document: {apply:?}"
        );
    }

    /// The independent model: each character is an id; an insert into a gap of the base document joins the
    /// anchor when the characters on both sides of the gap are in it; deleted characters leave it.
    fn model(len: usize, anchor: (usize, usize), op: &[(u8, usize)]) -> Option<(u64, u64)> {
        let mut covered: Vec<bool> = (0..len).map(|i| i >= anchor.0 && i < anchor.1).collect();
        let mut out: Vec<bool> = Vec::new();
        let mut cursor = 0;
        for &(kind, n) in op {
            match kind {
                0 => {
                    let n = n.min(len - cursor);
                    out.extend(&covered[cursor..cursor + n]);
                    cursor += n;
                }
                1 => {
                    let inside =
                        cursor > 0 && cursor < len && covered[cursor - 1] && covered[cursor];
                    out.extend(std::iter::repeat_n(inside, n));
                }
                _ => cursor += n.min(len - cursor),
            }
        }
        out.extend(&covered[cursor..]);
        covered = out;
        let first = covered.iter().position(|c| *c)?;
        let last = covered.iter().rposition(|c| *c)?;
        Some((first as u64, last as u64 + 1))
    }

    proptest! {
        #[test]
        fn the_formula_matches_the_character_model(
            len in 1usize..12,
            a in 0usize..12,
            b in 0usize..12,
            op in proptest::collection::vec((0u8..3, 1usize..4), 0..6),
        ) {
            let (start, end) = (a.min(b).min(len - 1), (a.max(b) + 1).min(len));
            // Canonical: the model reads the op as Delta's push rules leave it (inserts before deletes).
            let delta = delta_of(len, &op);
            let canonical = canonical(&delta);
            let moved = move_anchor(&delta, range(start as u64, end as u64));
            match model(len, (start, end), &canonical) {
                Some((s, e)) => prop_assert_eq!(moved, range(s, e)),
                None => prop_assert!(moved.orphaned),
            }
        }
    }
}
