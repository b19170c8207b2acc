//! `Delta`: a canonical list of ops, its builder (quill-delta's `push` rules and `chop`),
//! lengths, slicing, concatenation and line iteration.

use serde_json::{Map, Value};

use super::attributes::{Attributes, attributes_equal};
use super::error::OtError;
use super::iter::{INFINITY, Kind, OpIter};
use super::op::{InsertValue, Op};
use super::text::Text;

/// A quill-delta Delta. Built only through [`Delta::push`] (and the builder methods on top of
/// it), so the ops are canonical: no empty ops, no empty attribute maps, mergeable neighbours
/// merged, inserts before deletes at the same place.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Delta {
    pub(super) ops: Vec<Op>,
}

impl Delta {
    pub fn new() -> Delta {
        Delta::default()
    }

    /// A Delta from ops, canonicalized by pushing them one by one (no `chop`).
    pub fn from_ops(ops: impl IntoIterator<Item = Op>) -> Delta {
        let mut delta = Delta::new();
        for op in ops {
            delta.push(op);
        }
        delta
    }

    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    pub fn into_ops(self) -> Vec<Op> {
        self.ops
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Appends text (skipped when empty).
    #[must_use]
    pub fn insert(mut self, text: impl Into<String>, attributes: Option<Attributes>) -> Delta {
        self.push(Op::insert_text(Text::new(text), attributes));
        self
    }

    /// Appends an embed such as `{"image": "a.png"}`.
    #[must_use]
    pub fn insert_embed(
        mut self,
        embed: Map<String, Value>,
        attributes: Option<Attributes>,
    ) -> Delta {
        self.push(Op::insert_embed(embed, attributes));
        self
    }

    /// Appends a retain (skipped when `count` is 0).
    #[must_use]
    pub fn retain(mut self, count: u64, attributes: Option<Attributes>) -> Delta {
        self.push(Op::retain(count, attributes));
        self
    }

    /// Appends a delete (skipped when `count` is 0).
    #[must_use]
    pub fn delete(mut self, count: u64) -> Delta {
        self.push(Op::delete(count));
        self
    }

    /// quill-delta's `push`: appends `op`, merging it with its neighbour where quill-delta does.
    /// Unlike quill-delta's own `push`, empty ops are dropped, since they mean nothing.
    pub fn push(&mut self, op: Op) -> &mut Delta {
        self.push_op(op);
        self
    }

    /// Removes a trailing retain without attributes (it changes nothing).
    pub fn chop(&mut self) -> &mut Delta {
        if let Some(Op::Retain {
            attributes: None, ..
        }) = self.ops.last()
        {
            self.ops.pop();
        }
        self
    }

    /// `push`, returning whether `op` became a new last op (neither merged nor moved before a
    /// delete). compose's fast path depends on exactly that.
    pub(super) fn push_op(&mut self, mut op: Op) -> bool {
        if op.is_empty() {
            return false;
        }
        drop_empty_attributes(&mut op);
        let mut index = self.ops.len();
        if index > 0 {
            if let (Op::Delete { delete: new }, Op::Delete { delete: last }) =
                (&op, &mut self.ops[index - 1])
            {
                *last = last.saturating_add(*new);
                return false;
            }
            // Inserting before or after a delete at the same place is the same change, and
            // quill-delta always puts the insert first.
            if self.ops[index - 1].is_delete() && op.is_insert() {
                index -= 1;
                if index == 0 {
                    self.ops.insert(0, op);
                    return false;
                }
            }
            if attributes_equal(op.attributes(), self.ops[index - 1].attributes()) {
                match (&mut self.ops[index - 1], op) {
                    (
                        Op::Insert {
                            insert: InsertValue::Text(last),
                            attributes: last_attrs,
                        },
                        Op::Insert {
                            insert: InsertValue::Text(new),
                            attributes,
                        },
                    ) => {
                        last.push_text(&new);
                        *last_attrs = attributes;
                        return false;
                    }
                    (
                        Op::Retain {
                            retain: last,
                            attributes: last_attrs,
                        },
                        Op::Retain {
                            retain: new,
                            attributes,
                        },
                    ) => {
                        *last = last.saturating_add(new);
                        *last_attrs = attributes;
                        return false;
                    }
                    (_, unmerged) => op = unmerged,
                }
            }
        }
        let appended = index == self.ops.len();
        self.ops.insert(index, op);
        appended
    }

    /// `chop` for builder chains.
    #[must_use]
    pub fn chopped(mut self) -> Delta {
        self.chop();
        self
    }

    /// Total length of all ops (`Delta.length`).
    pub fn length(&self) -> u64 {
        self.ops
            .iter()
            .fold(0u64, |n, op| n.saturating_add(op.len()))
    }

    /// Units inserted minus units deleted (`Delta.changeLength`).
    pub fn change_length(&self) -> i64 {
        self.ops.iter().fold(0i64, |n, op| match op {
            Op::Insert { .. } => n.saturating_add(op.len() as i64),
            Op::Delete { delete } => n.saturating_sub(*delete as i64),
            Op::Retain { .. } => n,
        })
    }

    /// The length of the document this change applies to: Σretain + Σdelete.
    pub fn base_length(&self) -> u64 {
        self.ops
            .iter()
            .filter(|op| !op.is_insert())
            .fold(0u64, |n, op| n.saturating_add(op.len()))
    }

    /// True when the Delta has only inserts (a document, or a piece of one).
    pub fn is_insert_only(&self) -> bool {
        self.ops.iter().all(Op::is_insert)
    }

    /// `Delta.slice(start, end)`; an error if a boundary splits a surrogate pair.
    pub fn slice(&self, start: u64, end: u64) -> Result<Delta, OtError> {
        self.slice_with(OpIter::new(&self.ops), start, end)
    }

    pub(super) fn slice_with(
        &self,
        mut iter: OpIter<'_>,
        start: u64,
        end: u64,
    ) -> Result<Delta, OtError> {
        let mut ops = Vec::new();
        let mut index = 0u64;
        while index < end && iter.has_next() {
            if index < start {
                let skipped = iter.next(start - index)?;
                index = index.saturating_add(skipped.len());
            } else {
                let op = iter.next(end - index)?;
                index = index.saturating_add(op.len());
                ops.push(op);
            }
        }
        Ok(Delta { ops })
    }

    /// `Delta.concat`: this Delta followed by `other`, merged at the seam.
    #[must_use]
    pub fn concat(&self, other: &Delta) -> Delta {
        let mut res = self.clone();
        res.extend_raw(other.ops.iter().cloned());
        res
    }

    /// Pushes the first op (so it can merge at the seam) and appends the rest as they are.
    pub(super) fn extend_raw(&mut self, ops: impl IntoIterator<Item = Op>) {
        let mut ops = ops.into_iter();
        if let Some(first) = ops.next() {
            self.push_op(first);
            self.ops.extend(ops);
        }
    }

    /// The plain text of the inserts, embeds left out (Quill's `getText`).
    pub fn text(&self) -> String {
        let mut res = String::new();
        for op in &self.ops {
            if let Some(text) = op.text() {
                res.push_str(text.as_str());
            }
        }
        res
    }

    /// `Delta.eachLine`: each line's content and the attributes of the `"\n"` that ends it.
    /// Stops at the first op that is not an insert; a last line without `"\n"` gets `{}`.
    pub fn lines(&self) -> Vec<(Delta, Attributes)> {
        let mut iter = OpIter::lossy(&self.ops);
        let mut res = Vec::new();
        let mut line = Delta::new();
        while let Some(op) = iter.peek() {
            if iter.peek_kind() != Kind::Insert {
                return res;
            }
            let newline = op.text().and_then(|text| {
                let from = iter.text_byte_offset();
                let at = text.as_str()[from..].find('\n')?;
                Some(super::text::utf16_len(&text.as_str()[from..from + at]))
            });
            match newline {
                None => {
                    line.push(iter.next_lossy(INFINITY));
                }
                Some(0) => {
                    let attributes = iter.next_lossy(1).attributes().cloned().unwrap_or_default();
                    res.push((std::mem::take(&mut line), attributes));
                }
                Some(n) => {
                    line.push(iter.next_lossy(n));
                }
            }
        }
        if line.length() > 0 {
            res.push((line, Attributes::new()));
        }
        res
    }
}

fn drop_empty_attributes(op: &mut Op) {
    if let Op::Insert { attributes, .. } | Op::Retain { attributes, .. } = op
        && attributes.as_ref().is_some_and(Map::is_empty)
    {
        *attributes = None;
    }
}
