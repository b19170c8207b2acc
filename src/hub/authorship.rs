//! Who wrote each character of an open document (issue 14, "Authorship"): a run-length map of the document,
//! in UTF-16 units, from runs of text to the person whose op inserted them. Pure; the hub applies every committed
//! op with its author, and docs/protocol-notes.md ("Authorship") says how it is stored and served.

use std::{collections::HashMap, sync::Arc};

use crate::ot::{Delta, Op};

/// An interned author: an index into `Authorship::authors`; `UNKNOWN` is text whose author nobody knows (written
/// before authorship was kept, or while it was off).
pub type AuthorKey = u32;
pub const UNKNOWN: AuthorKey = 0;

/// `len` consecutive units by one author. Runs are never empty and two neighbours never share an author.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    len: u64,
    author: AuthorKey,
}

/// The document's runs in order; their lengths add up to the document's length.
#[derive(Debug, Clone, Default)]
pub struct Authorship {
    runs: Vec<Run>,
    /// `authors[key - 1]` is the user id of `key`.
    authors: Vec<Arc<str>>,
    keys: HashMap<Arc<str>, AuthorKey>,
}

/// Where an op's cursor stands: inside run `run` at `offset` (always `< len`), or at the end (`run == runs.len()`).
#[derive(Debug, Clone, Copy)]
struct Cursor {
    run: usize,
    offset: u64,
}

impl Authorship {
    /// A document of `len` units whose author is unknown.
    pub fn unknown(len: u64) -> Authorship {
        let mut map = Authorship::default();
        map.push(len, UNKNOWN);
        map
    }

    /// From stored spans `(len, author id)`, in order.
    pub fn from_spans<'a>(spans: impl IntoIterator<Item = (u64, Option<&'a str>)>) -> Authorship {
        let mut map = Authorship::default();
        for (len, author) in spans {
            let key = author.map_or(UNKNOWN, |id| map.key(id));
            map.push(len, key);
        }
        map
    }

    /// The key of `user_id`, interned on first sight.
    pub fn key(&mut self, user_id: &str) -> AuthorKey {
        if let Some(key) = self.keys.get(user_id) {
            return *key;
        }
        let id: Arc<str> = Arc::from(user_id);
        self.authors.push(id.clone());
        let key = AuthorKey::try_from(self.authors.len()).unwrap_or(UNKNOWN);
        self.keys.insert(id, key);
        key
    }

    /// The document's length in UTF-16 units.
    pub fn total_len(&self) -> u64 {
        self.runs.iter().map(|run| run.len).sum()
    }

    /// How many runs there are (what an answer's size grows with).
    pub fn run_count(&self) -> usize {
        self.runs.len()
    }

    /// The runs as `(len, user id)`, `None` for unknown.
    pub fn spans(&self) -> impl Iterator<Item = (u64, Option<&str>)> + '_ {
        self.runs
            .iter()
            .map(|run| (run.len, self.author_id(run.author)))
    }

    fn author_id(&self, key: AuthorKey) -> Option<&str> {
        let index = usize::try_from(key).ok()?.checked_sub(1)?;
        self.authors.get(index).map(|id| &**id)
    }

    /// Applies a committed op made by `author` (`UNKNOWN` allowed): retains keep, inserts are the author's,
    /// deletes remove. One pass over the op's components and the runs up to its last one; no allocation unless
    /// the run list grows past its capacity. An op longer than the map (never, for an op the hub committed) stops
    /// at the end.
    pub fn apply(&mut self, op: &Delta, author: AuthorKey) {
        let mut at = Cursor { run: 0, offset: 0 };
        for component in op.ops() {
            match component {
                Op::Retain { retain, .. } => at = self.advance(at, *retain),
                Op::Insert { .. } => at = self.insert(at, component.len(), author),
                Op::Delete { delete } => at = self.delete(at, *delete),
            }
        }
    }

    /// Appends a run at the end (merging with the last).
    fn push(&mut self, len: u64, author: AuthorKey) {
        if len == 0 {
            return;
        }
        match self.runs.last_mut() {
            Some(last) if last.author == author => last.len += len,
            _ => self.runs.push(Run { len, author }),
        }
    }

    fn advance(&self, mut at: Cursor, mut n: u64) -> Cursor {
        while n > 0 && at.run < self.runs.len() {
            let room = self.runs[at.run].len - at.offset;
            if n < room {
                at.offset += n;
                return at;
            }
            n -= room;
            at = Cursor {
                run: at.run + 1,
                offset: 0,
            };
        }
        at
    }

    /// Inserts `len` units by `author` at the cursor; returns the cursor after them.
    fn insert(&mut self, at: Cursor, len: u64, author: AuthorKey) -> Cursor {
        if len == 0 {
            return at;
        }
        let new = Run { len, author };
        if at.offset > 0 {
            let run = &mut self.runs[at.run];
            if run.author == author {
                run.len += len;
                return Cursor {
                    run: at.run,
                    offset: at.offset + len,
                };
            }
            // Split the run around the new text.
            let rest = Run {
                len: run.len - at.offset,
                author: run.author,
            };
            run.len = at.offset;
            self.runs.splice(at.run + 1..at.run + 1, [new, rest]);
            return Cursor {
                run: at.run + 2,
                offset: 0,
            };
        }
        if at.run > 0 && self.runs[at.run - 1].author == author {
            self.runs[at.run - 1].len += len;
            return at;
        }
        if let Some(next) = self.runs.get_mut(at.run)
            && next.author == author
        {
            next.len += len;
            return Cursor {
                run: at.run,
                offset: len,
            };
        }
        self.runs.insert(at.run, new);
        Cursor {
            run: at.run + 1,
            offset: 0,
        }
    }

    /// Deletes `n` units at the cursor; the cursor stays where they were.
    fn delete(&mut self, mut at: Cursor, mut n: u64) -> Cursor {
        if at.offset > 0 && n > 0 {
            let run = &mut self.runs[at.run];
            let take = n.min(run.len - at.offset);
            run.len -= take;
            n -= take;
            if at.offset < run.len {
                return at;
            }
            at = Cursor {
                run: at.run + 1,
                offset: 0,
            };
        }
        let mut end = at.run;
        while end < self.runs.len() && n >= self.runs[end].len {
            n -= self.runs[end].len;
            end += 1;
        }
        self.runs.drain(at.run..end);
        if n > 0
            && let Some(run) = self.runs.get_mut(at.run)
        {
            // Fewer than the run holds, or the loop above would have taken it.
            run.len -= n;
        }
        // The runs on both sides of the deleted text may now touch: one author's text is one run.
        if at.run > 0
            && at.run < self.runs.len()
            && self.runs[at.run - 1].author == self.runs[at.run].author
        {
            let merged = self.runs.remove(at.run);
            let left = &mut self.runs[at.run - 1];
            at = Cursor {
                run: at.run - 1,
                offset: left.len,
            };
            left.len += merged.len;
        }
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::model_ops::{canonical, delta_of};
    use proptest::prelude::*;

    fn authorship_of(map: &Authorship) -> Vec<Option<String>> {
        map.spans()
            .flat_map(|(len, author)| std::iter::repeat_n(author.map(str::to_string), len as usize))
            .collect()
    }

    #[test]
    fn typing_extends_a_run_and_typing_inside_another_splits_it() {
        let mut map = Authorship::unknown(3);
        let ann = map.key("ann");
        let bob = map.key("bob");
        map.apply(&Delta::new().retain(3, None).insert("ab", None), ann);
        map.apply(&Delta::new().retain(5, None).insert("c", None), ann);
        assert_eq!(
            map.spans().collect::<Vec<_>>(),
            [(3, None), (3, Some("ann"))]
        );
        map.apply(&Delta::new().retain(4, None).insert("xy", None), bob);
        assert_eq!(
            map.spans().collect::<Vec<_>>(),
            [
                (3, None),
                (1, Some("ann")),
                (2, Some("bob")),
                (2, Some("ann"))
            ]
        );
    }

    #[test]
    fn deleting_what_separates_two_runs_of_one_author_merges_them() {
        let mut map =
            Authorship::from_spans([(2, Some("ann")), (3, Some("bob")), (2, Some("ann"))]);
        map.apply(&Delta::new().retain(2, None).delete(3), UNKNOWN);
        assert_eq!(map.spans().collect::<Vec<_>>(), [(4, Some("ann"))]);
        assert_eq!(map.run_count(), 1);
    }

    #[test]
    fn formatting_changes_no_author() {
        let mut map = Authorship::from_spans([(2, Some("ann")), (3, Some("bob"))]);
        let bold =
            crate::ot::Attributes::from_iter([("bold".to_string(), serde_json::json!(true))]);
        map.apply(&Delta::new().retain(5, Some(bold)), UNKNOWN);
        assert_eq!(
            map.spans().collect::<Vec<_>>(),
            [(2, Some("ann")), (3, Some("bob"))]
        );
    }

    /// The cases the browser's map (web/src/authors/span-map.js) is tested on too: both give the same runs.
    #[test]
    fn the_cases_shared_with_the_browser() {
        let cases: serde_json::Value =
            serde_json::from_str(include_str!("../../web/test/unit/authorship-cases.json"))
                .unwrap();
        for case in cases.as_array().unwrap() {
            let start: Vec<(u64, Option<String>)> =
                serde_json::from_value(case["start"].clone()).unwrap();
            let mut map =
                Authorship::from_spans(start.iter().map(|(len, id)| (*len, id.as_deref())));
            for step in case["ops"].as_array().unwrap() {
                let op = Delta::from_json_unchecked(&step[0]).unwrap();
                let key = step[1].as_str().map_or(UNKNOWN, |id| map.key(id));
                map.apply(&op, key);
            }
            let expected: Vec<(u64, Option<String>)> =
                serde_json::from_value(case["spans"].clone()).unwrap();
            let got: Vec<(u64, Option<String>)> = map
                .spans()
                .map(|(len, id)| (len, id.map(str::to_string)))
                .collect();
            assert_eq!(got, expected, "{}", case["name"]);
        }
    }

    /// The independent model: one author per character.
    fn model_apply(chars: &mut Vec<u32>, op: &[(u8, usize)], author: u32) {
        let mut out = Vec::with_capacity(chars.len());
        let mut cursor = 0;
        for &(kind, n) in op {
            match kind {
                0 => {
                    let n = n.min(chars.len() - cursor);
                    out.extend_from_slice(&chars[cursor..cursor + n]);
                    cursor += n;
                }
                1 => out.extend(std::iter::repeat_n(author, n)),
                _ => cursor += n.min(chars.len() - cursor),
            }
        }
        out.extend_from_slice(&chars[cursor..]);
        *chars = out;
    }

    proptest! {
        #[test]
        fn the_span_map_matches_one_author_per_character(
            start in 0usize..6,
            ops in proptest::collection::vec(
                (0u32..4, proptest::collection::vec((0u8..3, 1usize..5), 0..6)),
                0..40,
            ),
        ) {
            let mut map = Authorship::unknown(start as u64);
            let mut chars = vec![0u32; start];
            let names = ["", "ann", "bob", "cy"];
            for (who, op) in ops {
                let delta = delta_of(chars.len(), &op);
                let key = if who == 0 { UNKNOWN } else { map.key(names[who as usize]) };
                map.apply(&delta, key);
                model_apply(&mut chars, &canonical(&delta), who);
                prop_assert_eq!(map.total_len(), chars.len() as u64);
                let expected: Vec<Option<String>> = chars
                    .iter()
                    .map(|who| (*who != 0).then(|| names[*who as usize].to_string()))
                    .collect();
                prop_assert_eq!(authorship_of(&map), expected);
                let runs: Vec<_> = map.spans().collect();
                prop_assert!(runs.iter().all(|(len, _)| *len > 0), "no empty run");
                prop_assert!(runs.windows(2).all(|pair| pair[0].1 != pair[1].1), "neighbours differ");
            }
        }
    }

    /// `cargo test --release authorship_cost -- --ignored --nocapture`: what one op costs the hub.
    #[test]
    #[ignore]
    fn authorship_cost() {
        let mut map = Authorship::unknown(5000);
        let keys: Vec<AuthorKey> = (0..200).map(|i| map.key(&format!("user-{i}"))).collect();
        let ops: Vec<Delta> = (0..100_000u64)
            .map(|i| Delta::new().retain(i * 7919 % 5000, None).insert("a", None))
            .collect();
        let started = std::time::Instant::now();
        for (i, op) in ops.iter().enumerate() {
            map.apply(op, keys[i % keys.len()]);
        }
        println!(
            "{:?} per op, {} runs at the end",
            started.elapsed() / ops.len() as u32,
            map.run_count()
        );
    }
}
