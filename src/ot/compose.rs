//! `compose` (apply one change after another) and `invert`, following quill-delta 5.1.0
//! `Delta.compose` and `Delta.invert` step by step, fast paths included.

use super::attributes::{self, Attributes};
use super::delta::Delta;
use super::error::OtError;
use super::iter::{INFINITY, Kind, OpIter};
use super::op::Op;

impl Delta {
    /// `self` followed by `other` as one change (quill-delta `a.compose(b)`).
    ///
    /// Never fails: if `other` cuts one of `self`'s inserts inside a surrogate pair (which
    /// quill-delta allows and turns into lone surrogates), each half becomes U+FFFD so that
    /// every length still matches quill-delta's. Use [`Delta::try_compose`] to reject that.
    #[must_use]
    pub fn compose(&self, other: &Delta) -> Delta {
        let res = compose_with(OpIter::lossy(&self.ops), OpIter::lossy(&other.ops));
        // A lossy iterator never reports a split, so the error arm is unreachable.
        res.unwrap_or_default()
    }

    /// `compose` that fails with `SplitSurrogate` instead of cutting a surrogate pair.
    pub fn try_compose(&self, other: &Delta) -> Result<Delta, OtError> {
        compose_with(OpIter::new(&self.ops), OpIter::new(&other.ops))
    }

    /// The change that undoes `self` applied to `base` (quill-delta `a.invert(base)`).
    /// Like [`Delta::compose`], a cut of `base` inside a surrogate pair writes U+FFFD halves.
    #[must_use]
    pub fn invert(&self, base: &Delta) -> Delta {
        invert_with(self, OpIter::lossy(&base.ops)).unwrap_or_default()
    }

    /// `invert` that fails with `SplitSurrogate` instead of cutting a surrogate pair.
    pub fn try_invert(&self, base: &Delta) -> Result<Delta, OtError> {
        invert_with(self, OpIter::new(&base.ops))
    }
}

fn compose_with(mut this: OpIter<'_>, mut other: OpIter<'_>) -> Result<Delta, OtError> {
    let mut res = Delta::new();
    // Fast path: whole inserts of `this` inside `other`'s leading plain retain are copied
    // as they are (quill-delta copies them without `push`).
    if let Some(Op::Retain {
        retain: first,
        attributes: None,
    }) = other.peek()
    {
        let mut left = *first;
        while this.peek_kind() == Kind::Insert && this.peek_len() <= left {
            left -= this.peek_len();
            res.ops.push(this.next(INFINITY)?);
        }
        if *first - left > 0 {
            other.next(*first - left)?;
        }
    }
    while this.has_next() || other.has_next() {
        if other.peek_kind() == Kind::Insert {
            res.push_op(other.next(INFINITY)?);
            continue;
        }
        if this.peek_kind() == Kind::Delete {
            res.push_op(this.next(INFINITY)?);
            continue;
        }
        let length = this.peek_len().min(other.peek_len());
        let this_op = this.next(length)?;
        match other.next(length)? {
            Op::Retain {
                attributes: other_attrs,
                ..
            } => {
                let Some(op) = composed_piece(this_op, length, other_attrs.as_ref()) else {
                    continue;
                };
                let appended = res.push_op(op);
                // When `other` has nothing left, the rest of `this` is copied unchanged.
                if !other.has_next() && appended {
                    let rest = this.rest()?;
                    res.extend_raw(rest);
                    res.chop();
                    return Ok(res);
                }
            }
            // An insert of `this` deleted by `other` cancels out; a retain becomes the delete.
            Op::Delete { .. } => {
                if this_op.is_retain() {
                    res.push_op(Op::delete(length));
                }
            }
            Op::Insert { .. } => {}
        }
    }
    res.chop();
    Ok(res)
}

/// A piece of `this` under a retain of `other`: formats are composed; nulls survive only on
/// a retain (they still have to remove something downstream).
fn composed_piece(this_op: Op, length: u64, other_attrs: Option<&Attributes>) -> Option<Op> {
    match this_op {
        Op::Retain { attributes, .. } => Some(Op::Retain {
            retain: length,
            attributes: attributes::compose(attributes.as_ref(), other_attrs, true),
        }),
        Op::Insert { insert, attributes } => Some(Op::Insert {
            insert,
            attributes: attributes::compose(attributes.as_ref(), other_attrs, false),
        }),
        // Deletes of `this` are emitted before the length step, so none arrives here.
        Op::Delete { .. } => None,
    }
}

fn invert_with(change: &Delta, mut base: OpIter<'_>) -> Result<Delta, OtError> {
    let mut res = Delta::new();
    let mut base_index = 0u64;
    for op in &change.ops {
        let (length, attrs) = match op {
            Op::Insert { .. } => {
                res.push_op(Op::delete(op.len()));
                continue;
            }
            Op::Retain {
                retain,
                attributes: None,
            } => {
                res.push_op(Op::retain(*retain, None));
                base_index = base_index.saturating_add(*retain);
                continue;
            }
            Op::Retain {
                retain,
                attributes: Some(attrs),
            } => (*retain, Some(attrs)),
            Op::Delete { delete } => (*delete, None),
        };
        // Equivalent to quill-delta's `base.slice(baseIndex, baseIndex + length)`, with one
        // iterator that only moves forward instead of a new slice per op.
        let end = base_index.saturating_add(length);
        while base.position() < base_index && base.has_next() {
            base.next(base_index - base.position())?;
        }
        while base.position() < end && base.has_next() {
            let base_op = base.next(end - base.position())?;
            match attrs {
                None => res.push_op(base_op),
                Some(attrs) => res.push_op(Op::retain(
                    base_op.len(),
                    Some(attributes::invert(Some(attrs), base_op.attributes())),
                )),
            };
        }
        base_index = end;
    }
    res.chop();
    Ok(res)
}
