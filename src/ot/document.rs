//! `Document`: the server's head document, stored so that one keystroke costs microseconds.
//!
//! Representation: a two-level B-tree of ops. The document is a list of chunks; each chunk
//! holds at most `chunk_ops` insert ops and caches its UTF-16 length, and no text piece is
//! longer than `piece_bytes`. A change touches a region of the document: from the op before
//! its first non-retained position to the op holding its last retained or deleted unit. Only
//! that region is composed (with the ordinary `Delta::compose`) and spliced back, so a
//! keystroke into 1 MiB copies about one chunk of ops, not the document.
//!
//! Why not a rope of characters: formats live on ops, so ops are the natural leaves, and
//! composing the region with `Delta::compose` reuses code that is tested against quill-delta.
//! Why not a deeper tree: at 2,000,000 units the chunk list has at most a few thousand
//! entries, and a linear scan of their lengths costs about a microsecond.
//!
//! Pieces need not be canonical inside (a long text is split across pieces); `to_delta`
//! merges them back with `push`, which yields exactly quill-delta's `doc.compose(change)`.

use super::attributes::Attributes;
use super::delta::Delta;
use super::error::OtError;
use super::op::Op;

const PIECE_BYTES: usize = 1024;
const CHUNK_OPS: usize = 64;

/// An insert-only Delta that always ends with `"\n"`, kept in chunks (see the module docs).
#[derive(Debug, Clone)]
pub struct Document {
    chunks: Vec<Chunk>,
    len: u64,
    piece_bytes: usize,
    chunk_ops: usize,
}

#[derive(Debug, Clone)]
struct Chunk {
    ops: Vec<Op>,
    len: u64,
}

impl Chunk {
    fn new(ops: Vec<Op>) -> Chunk {
        let len = ops.iter().map(Op::len).sum();
        Chunk { ops, len }
    }
}

/// Where an op is: chunk index, op index in the chunk, and its first unit in the document.
#[derive(Debug, Clone, Copy)]
struct Place {
    chunk: usize,
    op: usize,
    start: u64,
}

impl Default for Document {
    fn default() -> Document {
        Document::new()
    }
}

impl PartialEq for Document {
    fn eq(&self, other: &Document) -> bool {
        self.len == other.len && self.to_delta() == other.to_delta()
    }
}

impl Document {
    /// The empty document, `[{"insert":"\n"}]`.
    pub fn new() -> Document {
        let delta = Delta::new().insert("\n", None);
        Document::build(&delta, PIECE_BYTES, CHUNK_OPS)
    }

    /// A document from an insert-only Delta that ends with `"\n"`.
    pub fn from_delta(delta: &Delta) -> Result<Document, OtError> {
        Document::from_delta_with_chunking(delta, PIECE_BYTES, CHUNK_OPS)
    }

    /// `from_delta` with other chunk sizes, so tests can exercise chunk splits on small
    /// documents.
    #[doc(hidden)]
    pub fn from_delta_with_chunking(
        delta: &Delta,
        piece_bytes: usize,
        chunk_ops: usize,
    ) -> Result<Document, OtError> {
        if !delta.is_insert_only() {
            return Err(OtError::NotADocument);
        }
        if !ends_with_newline(delta.ops().last()) {
            return Err(OtError::MissingFinalNewline);
        }
        Ok(Document::build(delta, piece_bytes.max(4), chunk_ops.max(2)))
    }

    fn build(delta: &Delta, piece_bytes: usize, chunk_ops: usize) -> Document {
        let pieces = split_pieces(delta.ops().iter().cloned(), piece_bytes);
        let chunks: Vec<Chunk> = pieces
            .chunks(chunk_ops.div_ceil(2))
            .map(|ops| Chunk::new(ops.to_vec()))
            .collect();
        let len = chunks.iter().map(|c| c.len).sum();
        Document {
            chunks,
            len,
            piece_bytes,
            chunk_ops,
        }
    }

    /// Length in UTF-16 code units.
    pub fn len_utf16(&self) -> u64 {
        self.len
    }

    /// The document as a canonical Delta.
    pub fn to_delta(&self) -> Delta {
        Delta::from_ops(self.chunks.iter().flat_map(|c| c.ops.iter().cloned()))
    }

    /// The plain text, embeds left out (Quill's `getText`).
    pub fn text(&self) -> String {
        let mut res = String::with_capacity(self.len as usize);
        for op in self.chunks.iter().flat_map(|c| &c.ops) {
            if let Some(text) = op.text() {
                res.push_str(text.as_str());
            }
        }
        res
    }

    /// Each line's content and the attributes of its `"\n"` (line formats), for export.
    pub fn lines(&self) -> impl Iterator<Item = (Delta, Attributes)> {
        self.to_delta().lines().into_iter()
    }

    /// The content between UTF-16 offsets `start` and `end`; an error if a boundary splits a
    /// surrogate pair.
    pub fn slice(&self, start: u64, end: u64) -> Result<Delta, OtError> {
        let end = end.min(self.len);
        if start >= end {
            return Ok(Delta::new());
        }
        let first = self.locate(start);
        let last = self.locate(end - 1);
        let region = Delta::from_ops(self.region_ops(first, last));
        region
            .slice(start - first.start, end - first.start)
            .map_err(|err| absolute(err, first.start))
    }

    /// Applies `change` (PROTOCOL.md step 6): its base length must fit, no boundary may split
    /// a surrogate pair, the result must end with `"\n"` and be at most `max_doc_len` long.
    /// On error the document is unchanged. The result equals `to_delta().compose(change)`.
    pub fn apply(&mut self, change: &Delta, max_doc_len: u64) -> Result<(), OtError> {
        let base = change.base_length();
        if base > self.len {
            return Err(OtError::BaseTooLong {
                base,
                doc: self.len,
            });
        }
        let (inserted, deleted) = change
            .ops()
            .iter()
            .fold((0u64, 0u64), |(i, d), op| match op {
                Op::Insert { .. } => (i.saturating_add(op.len()), d),
                Op::Delete { delete } => (i, d.saturating_add(*delete)),
                Op::Retain { .. } => (i, d),
            });
        let new_len = (self.len - deleted).saturating_add(inserted);
        if new_len > max_doc_len {
            return Err(OtError::DocTooLarge {
                len: new_len,
                max: max_doc_len,
            });
        }
        let (lead, rest) = match change.ops() {
            [
                Op::Retain {
                    retain,
                    attributes: None,
                },
                rest @ ..,
            ] => (*retain, rest),
            ops => (0, ops),
        };
        if rest.is_empty() {
            return Ok(());
        }
        // The region starts one op early when the change starts at an op boundary, so that
        // typed text merges into the op before it instead of fragmenting the document.
        let first = self.locate(lead.saturating_sub(1));
        let last = self.locate(base.saturating_sub(1).max(lead.saturating_sub(1)));
        let region = Delta::from_ops(self.region_ops(first, last));
        let local = Delta::from_ops(
            std::iter::once(Op::retain(lead - first.start, None)).chain(rest.iter().cloned()),
        );
        let composed = region
            .try_compose(&local)
            .map_err(|err| absolute(err, first.start))?;
        if !composed.is_insert_only() {
            // The region covers the whole base of the change, so this cannot happen.
            return Err(OtError::BaseTooLong {
                base,
                doc: self.len,
            });
        }
        if self.is_last(last) {
            let final_op = match composed.ops().last() {
                Some(op) => Some(op),
                None => self.op_before(first),
            };
            if !ends_with_newline(final_op) {
                return Err(OtError::MissingFinalNewline);
            }
        }
        self.splice(first, last, composed.into_ops());
        self.len = new_len;
        Ok(())
    }

    /// The op holding unit `pos` (which must be below `len`; the last op otherwise).
    fn locate(&self, pos: u64) -> Place {
        let mut start = 0u64;
        for (chunk_idx, chunk) in self.chunks.iter().enumerate() {
            if pos < start + chunk.len {
                for (op_idx, op) in chunk.ops.iter().enumerate() {
                    if pos < start + op.len() {
                        return Place {
                            chunk: chunk_idx,
                            op: op_idx,
                            start,
                        };
                    }
                    start += op.len();
                }
            }
            start += chunk.len;
        }
        self.last_place()
    }

    fn last_place(&self) -> Place {
        let chunk = self.chunks.len().saturating_sub(1);
        let ops = self.chunks.get(chunk).map_or(&[][..], |c| &c.ops[..]);
        let last_len = ops.last().map_or(0, Op::len);
        Place {
            chunk,
            op: ops.len().saturating_sub(1),
            start: self.len - last_len,
        }
    }

    fn is_last(&self, place: Place) -> bool {
        place.chunk + 1 == self.chunks.len() && place.op + 1 == self.chunks[place.chunk].ops.len()
    }

    fn op_before(&self, place: Place) -> Option<&Op> {
        match place.op {
            0 => self.chunks[..place.chunk].last().and_then(|c| c.ops.last()),
            n => self.chunks[place.chunk].ops.get(n - 1),
        }
    }

    /// Clones of the ops from `first` to `last`, both included.
    fn region_ops(&self, first: Place, last: Place) -> Vec<Op> {
        let mut res = Vec::new();
        for chunk_idx in first.chunk..=last.chunk {
            let ops = &self.chunks[chunk_idx].ops;
            let from = if chunk_idx == first.chunk {
                first.op
            } else {
                0
            };
            let to = if chunk_idx == last.chunk {
                last.op + 1
            } else {
                ops.len()
            };
            res.extend_from_slice(&ops[from..to]);
        }
        res
    }

    /// Replaces the ops from `first` to `last` (both included) with `ops`.
    fn splice(&mut self, first: Place, last: Place, ops: Vec<Op>) {
        let pieces = split_pieces(ops, self.piece_bytes);
        if first.chunk == last.chunk {
            self.chunks[first.chunk]
                .ops
                .splice(first.op..=last.op, pieces);
        } else {
            let tail: Vec<Op> = self.chunks[last.chunk].ops.drain(last.op + 1..).collect();
            let chunk = &mut self.chunks[first.chunk].ops;
            chunk.truncate(first.op);
            chunk.extend(pieces);
            chunk.extend(tail);
            self.chunks.drain(first.chunk + 1..=last.chunk);
        }
        self.rebalance(first.chunk);
    }

    /// Keeps chunk `idx` between a quarter and all of `chunk_ops` ops when it can.
    fn rebalance(&mut self, idx: usize) {
        let ops = &self.chunks[idx].ops;
        if ops.len() > self.chunk_ops {
            let parts: Vec<Chunk> = ops
                .chunks(self.chunk_ops.div_ceil(2))
                .map(|ops| Chunk::new(ops.to_vec()))
                .collect();
            self.chunks.splice(idx..=idx, parts);
            return;
        }
        if ops.len() >= self.chunk_ops / 4 || self.chunks.len() == 1 {
            self.chunks[idx] = Chunk::new(std::mem::take(&mut self.chunks[idx].ops));
            return;
        }
        // A small chunk joins a neighbour; the result is split again if too large.
        let (left, right) = if idx + 1 < self.chunks.len() {
            (idx, idx + 1)
        } else {
            (idx - 1, idx)
        };
        let moved = std::mem::take(&mut self.chunks[right].ops);
        self.chunks[left].ops.extend(moved);
        self.chunks.remove(right);
        if self.chunks[left].ops.len() > self.chunk_ops {
            self.rebalance(left);
        } else {
            self.chunks[left] = Chunk::new(std::mem::take(&mut self.chunks[left].ops));
        }
    }
}

/// Region-relative error offsets made document-relative.
fn absolute(err: OtError, region_start: u64) -> OtError {
    match err {
        OtError::SplitSurrogate { index } => OtError::SplitSurrogate {
            index: index + region_start,
        },
        other => other,
    }
}

fn ends_with_newline(op: Option<&Op>) -> bool {
    op.and_then(Op::text)
        .is_some_and(|text| text.as_str().ends_with('\n'))
}

/// Splits text inserts longer than `max_bytes` into near-equal pieces at character boundaries.
fn split_pieces(ops: impl IntoIterator<Item = Op>, max_bytes: usize) -> Vec<Op> {
    let mut res = Vec::new();
    for op in ops {
        let Some(text) = op.text().filter(|t| t.as_str().len() > max_bytes) else {
            res.push(op);
            continue;
        };
        let s = text.as_str();
        let n_pieces = s.len().div_ceil(max_bytes);
        let target = s.len().div_ceil(n_pieces);
        let mut from = 0;
        while from < s.len() {
            let mut to = (from + target).min(s.len());
            while !s.is_char_boundary(to) {
                to += 1;
            }
            res.push(Op::insert_text(&s[from..to], op.attributes().cloned()));
            from = to;
        }
    }
    res
}
