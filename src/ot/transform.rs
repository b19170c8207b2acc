//! `transform` (rebase a concurrent change) and `transform_position` (map a cursor), following
//! quill-delta 5.1.0. Neither ever cuts insert text, so neither can split a surrogate pair.

use super::attributes;
use super::delta::Delta;
use super::iter::{INFINITY, Kind, OpIter};
use super::op::Op;

impl Delta {
    /// `other` rebased onto `self`, both made on the same document (quill-delta
    /// `a.transform(b, priority)`). With `priority`, `self` is considered first: its inserts
    /// go left of `other`'s at the same place and its formats win.
    #[must_use]
    pub fn transform(&self, other: &Delta, priority: bool) -> Delta {
        let mut this = OpIter::lossy(&self.ops);
        let mut that = OpIter::lossy(&other.ops);
        let mut res = Delta::new();
        while this.has_next() || that.has_next() {
            if this.peek_kind() == Kind::Insert && (priority || that.peek_kind() != Kind::Insert) {
                res.push_op(Op::retain(this.peek_len(), None));
                this.skip();
                continue;
            }
            if that.peek_kind() == Kind::Insert {
                res.push_op(that.next_lossy(INFINITY));
                continue;
            }
            let length = this.peek_len().min(that.peek_len());
            let this_op = this.next_lossy(length);
            let that_op = that.next_lossy(length);
            if this_op.is_delete() {
                // Our delete removed what they retained, or already deleted what they delete.
                continue;
            }
            if that_op.is_delete() {
                res.push_op(that_op);
                continue;
            }
            let attrs = attributes::transform(this_op.attributes(), that_op.attributes(), priority);
            res.push_op(Op::retain(length, attrs));
        }
        res.chop();
        res
    }

    /// Where `index` moves to when `self` is applied (quill-delta `transformPosition`).
    /// Without `priority`, an insert exactly at `index` pushes it right.
    pub fn transform_position(&self, index: u64, priority: bool) -> u64 {
        let mut index = index;
        let mut offset = 0u64;
        for op in &self.ops {
            if offset > index {
                break;
            }
            let length = op.len();
            match op {
                Op::Delete { .. } => {
                    index -= length.min(index - offset);
                    continue;
                }
                Op::Insert { .. } if offset < index || !priority => {
                    index = index.saturating_add(length);
                }
                _ => {}
            }
            offset = offset.saturating_add(length);
        }
        index
    }
}
