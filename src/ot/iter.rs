//! `OpIter`: walks a slice of ops and hands out pieces of a requested UTF-16 length
//! (quill-delta's `OpIterator`). An exhausted iterator yields an endless plain retain.

use super::error::OtError;
use super::op::{InsertValue, Op};
use super::text::{Mark, Seek};

/// The length of the endless retain that an exhausted iterator yields (JS `Infinity`).
pub const INFINITY: u64 = u64::MAX;

/// The kind of the next op; an exhausted iterator reports `Retain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Insert,
    Retain,
    Delete,
}

/// quill-delta's `OpIterator`. Cutting text inside a surrogate pair is an error, or with
/// `lossy` a U+FFFD for each half (see `text.rs`).
#[derive(Debug, Clone)]
pub struct OpIter<'a> {
    ops: &'a [Op],
    index: usize,
    offset: u64,
    seek: Seek,
    pos: u64,
    lossy: bool,
}

const START: Seek = Seek {
    mark: Mark::ZERO,
    inside: false,
};

impl<'a> OpIter<'a> {
    pub fn new(ops: &'a [Op]) -> OpIter<'a> {
        OpIter {
            ops,
            index: 0,
            offset: 0,
            seek: START,
            pos: 0,
            lossy: false,
        }
    }

    /// An iterator whose text cuts never fail (see the module docs of `text.rs`).
    pub fn lossy(ops: &'a [Op]) -> OpIter<'a> {
        OpIter {
            lossy: true,
            ..OpIter::new(ops)
        }
    }

    pub fn has_next(&self) -> bool {
        self.index < self.ops.len()
    }

    pub fn peek(&self) -> Option<&'a Op> {
        self.ops.get(self.index)
    }

    /// Units left in the current op, or [`INFINITY`] when exhausted.
    pub fn peek_len(&self) -> u64 {
        match self.peek() {
            Some(op) => op.len() - self.offset,
            None => INFINITY,
        }
    }

    pub fn peek_kind(&self) -> Kind {
        match self.peek() {
            Some(Op::Insert { .. }) => Kind::Insert,
            Some(Op::Delete { .. }) => Kind::Delete,
            Some(Op::Retain { .. }) | None => Kind::Retain,
        }
    }

    /// Takes up to `length` units (0 or [`INFINITY`]: the rest of the current op).
    pub fn next(&mut self, length: u64) -> Result<Op, OtError> {
        let Some(op) = self.ops.get(self.index) else {
            return Ok(Op::Retain {
                retain: INFINITY,
                attributes: None,
            });
        };
        let length = if length == 0 { INFINITY } else { length };
        let offset = self.offset;
        let remaining = op.len() - offset;
        let whole = length >= remaining;
        let take = if whole { remaining } else { length };
        let mut end_seek = START;
        let piece = match op {
            Op::Delete { .. } => Op::Delete { delete: take },
            Op::Retain { attributes, .. } => Op::Retain {
                retain: take,
                attributes: attributes.clone(),
            },
            Op::Insert {
                insert: InsertValue::Text(text),
                attributes,
            } if offset > 0 || !whole => {
                let cut = text.cut(self.seek, offset, offset + take, self.lossy);
                let (piece, end) = cut.map_err(|at| OtError::SplitSurrogate {
                    index: self.pos - offset + at,
                })?;
                end_seek = end;
                Op::Insert {
                    insert: InsertValue::Text(piece),
                    attributes: attributes.clone(),
                }
            }
            Op::Insert { .. } => op.clone(),
        };
        self.pos = self.pos.saturating_add(take);
        if whole {
            self.index += 1;
            self.offset = 0;
            self.seek = START;
        } else {
            self.offset += take;
            self.seek = end_seek;
        }
        Ok(piece)
    }

    /// `next` that never fails: a cut inside a surrogate pair writes U+FFFD halves.
    pub fn next_lossy(&mut self, length: u64) -> Op {
        let lossy = std::mem::replace(&mut self.lossy, true);
        let res = self.next(length);
        self.lossy = lossy;
        // A lossy cut has no error path, so the fallback is never taken.
        res.unwrap_or(Op::Retain {
            retain: INFINITY,
            attributes: None,
        })
    }

    /// Moves past the rest of the current op without copying it.
    pub fn skip(&mut self) {
        if let Some(op) = self.peek() {
            self.pos = self.pos.saturating_add(op.len() - self.offset);
            self.index += 1;
            self.offset = 0;
            self.seek = START;
        }
    }

    /// Byte index inside the current text op that matches the current UTF-16 offset.
    pub(super) fn text_byte_offset(&self) -> usize {
        self.seek.mark.byte
    }

    /// Every remaining op, the current one cut at the current offset.
    pub fn rest(&mut self) -> Result<Vec<Op>, OtError> {
        if !self.has_next() {
            return Ok(Vec::new());
        }
        if self.offset == 0 {
            let rest = self.ops[self.index..].to_vec();
            self.index = self.ops.len();
            return Ok(rest);
        }
        let mut rest = vec![self.next(INFINITY)?];
        rest.extend_from_slice(&self.ops[self.index..]);
        self.index = self.ops.len();
        Ok(rest)
    }

    /// The absolute UTF-16 position of the iterator (units consumed so far).
    pub fn position(&self) -> u64 {
        self.pos
    }
}
