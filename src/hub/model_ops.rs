//! Test-only: random ops for the property tests that check a hub rule against a character-by-character model.

use crate::ot::{Delta, Op};

/// A Delta over a document of `len` characters from `(kind, n)` pairs: 0 retains, 1 inserts `n` "x", 2 deletes;
/// retains and deletes are cut to what is left of the document.
pub fn delta_of(len: usize, op: &[(u8, usize)]) -> Delta {
    let mut delta = Delta::new();
    let mut cursor = 0;
    for &(kind, n) in op {
        delta = match kind {
            0 => {
                let n = n.min(len - cursor);
                cursor += n;
                delta.retain(n as u64, None)
            }
            1 => delta.insert("x".repeat(n), None),
            _ => {
                let n = n.min(len - cursor);
                cursor += n;
                delta.delete(n as u64)
            }
        };
    }
    delta
}

/// The op as Delta's push rules leave it (inserts before deletes), in the same `(kind, n)` pairs, for the model.
pub fn canonical(delta: &Delta) -> Vec<(u8, usize)> {
    delta
        .ops()
        .iter()
        .map(|op| match op {
            Op::Retain { .. } => (0, op.len() as usize),
            Op::Insert { .. } => (1, op.len() as usize),
            Op::Delete { .. } => (2, op.len() as usize),
        })
        .collect()
}
