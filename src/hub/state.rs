//! `DocState`: one document's head, recent ops, dedup table and the transform-to-head rule, with no I/O,
//! so the hub task stays a thin loop around it and this logic is unit-tested without tokio.

use std::{
    collections::{HashMap, VecDeque},
    sync::Arc,
};

use super::Frame;
use crate::{
    ot::{Delta, Document},
    protocol::{self, ErrorCode, Selection},
};

/// A committed op kept in memory for transforming late ops and for resume catch-up. The window holds up to
/// `limits.max_catchup_ops` of these per open document, so it keeps the op as its canonical JSON, the text its log
/// row and broadcast frame hold: a `Delta` costs several times more (a bold op's attribute map alone is a
/// 600-byte B-tree node), and only a late op, a stale selection or a resuming client needs it decoded again.
#[derive(Debug, Clone)]
pub struct Committed {
    /// Base revision: this op turned `rev` into `rev + 1`.
    pub rev: u64,
    op_json: Box<str>,
    pub client: Arc<str>,
    pub seq: u64,
    /// The author as JSON text, shared with the session that sent it.
    pub user_json: Arc<str>,
}

impl Committed {
    /// `op_json` is the op's canonical JSON (`serde_json::to_string` of its `Delta`).
    pub fn new(
        rev: u64,
        op_json: &str,
        client: Arc<str>,
        seq: u64,
        user_json: Arc<str>,
    ) -> Committed {
        Committed {
            rev,
            op_json: op_json.into(),
            client,
            seq,
            user_json,
        }
    }

    /// The op, decoded again from its JSON (which only fails if the JSON was not what `new` asks for).
    pub fn op(&self) -> Result<Delta, serde_json::Error> {
        serde_json::from_str(&self.op_json)
    }

    /// The size of the op's JSON, what the window is bounded by.
    pub fn json_len(&self) -> usize {
        self.op_json.len()
    }

    /// The `op` frame that was broadcast when this op committed.
    pub fn frame(&self) -> Frame {
        Frame::from(protocol::op_frame(
            self.rev,
            &self.op_json,
            &self.client,
            self.seq,
            &self.user_json,
        ))
    }
}

/// How far behind head a selection may be and still be moved to head and relayed.
const MAX_PRESENCE_LAG: u64 = 100;

#[derive(Debug)]
pub enum SubmitOutcome {
    /// Applied in memory at base `rev`; it must be written durably before anyone hears of it.
    Commit {
        rev: u64,
        op: Delta,
        len_after: u64,
    },
    /// Already committed at `rev`: ack again, write nothing.
    Dup {
        rev: u64,
    },
    Reject(ErrorCode, String),
}

/// What dedup knows of one client id. The id is bound to the user who wrote with it, so nobody else can take it
/// over and poison its seq (`None`: a logged op with no author, bound to nobody).
#[derive(Debug, Clone)]
struct ClientSeq {
    seq: u64,
    rev: u64,
    user: Option<Arc<str>>,
}

#[derive(Debug)]
pub struct DocState {
    head: u64,
    document: Document,
    recent: VecDeque<Committed>,
    /// The bytes of the ops' JSON in `recent`: the window is bounded by bytes as well as by count, or alternating
    /// large pastes and deletes would keep gigabytes per document.
    recent_bytes: usize,
    /// Per client: the last committed seq and its base revision, and the user it belongs to.
    last_seq: HashMap<Arc<str>, ClientSeq>,
    max_recent: usize,
    max_recent_bytes: usize,
    max_doc_len: u64,
    /// The most committed ops an incoming op is transformed through (`limits.max_transform_ops`).
    max_transform_ops: u64,
    /// The committed op wins ties on the server (PROTOCOL.md section 2): `true`, except in the negative control test.
    committed_priority: bool,
}

/// How much of the recent history a hub keeps in memory: at most `ops` ops holding at most `bytes` of JSON.
#[derive(Debug, Clone, Copy)]
pub struct WindowLimit {
    pub ops: usize,
    pub bytes: usize,
}

impl DocState {
    pub fn new(head: u64, document: Document, window: WindowLimit, max_doc_len: u64) -> DocState {
        DocState {
            head,
            document,
            recent: VecDeque::new(),
            recent_bytes: 0,
            last_seq: HashMap::new(),
            max_recent: window.ops.max(1),
            max_recent_bytes: window.bytes,
            max_doc_len,
            max_transform_ops: u64::MAX,
            committed_priority: true,
        }
    }

    /// Ops based more than `max` revisions behind head are refused with `rev_too_old` (the client resumes).
    pub fn limit_transforms(&mut self, max: u64) {
        self.max_transform_ops = max;
    }

    /// Test-only: make the server transform with the wrong priority, which convergence tests must detect.
    pub fn use_wrong_priority(&mut self) {
        self.committed_priority = false;
    }

    pub fn head(&self) -> u64 {
        self.head
    }

    pub fn document(&self) -> &Document {
        &self.document
    }

    /// The oldest base revision we can still transform from or catch a client up from.
    pub fn oldest_rev(&self) -> u64 {
        self.head - self.recent.len() as u64
    }

    /// Installs ops loaded from the log as the recent window: contiguous, ending at head.
    pub fn remember_window(&mut self, ops: Vec<Committed>) {
        self.recent_bytes = ops.iter().map(Committed::json_len).sum();
        self.recent = ops.into_iter().collect();
        self.trim_window();
    }

    /// Forgets the oldest ops until the window is within its limits. Clients based before it get `rev_too_old`,
    /// or the snapshot when they resume.
    fn trim_window(&mut self) {
        while self.recent.len() > self.max_recent || self.recent_bytes > self.max_recent_bytes {
            let Some(oldest) = self.recent.pop_front() else {
                break;
            };
            self.recent_bytes -= oldest.json_len();
        }
    }

    pub fn remember_seq(&mut self, client: Arc<str>, user: Option<Arc<str>>, seq: u64, rev: u64) {
        let record = ClientSeq { seq, rev, user };
        let entry = self.last_seq.entry(client).or_insert(record.clone());
        if seq >= entry.seq {
            *entry = record;
        }
    }

    /// True when `client` has committed ops in the window as someone other than `user`.
    pub fn client_belongs_to_other(&self, client: &str, user: &str) -> bool {
        self.last_seq
            .get(client)
            .and_then(|known| known.user.as_deref())
            .is_some_and(|owner| owner != user)
    }

    /// PROTOCOL.md "Server handling of op", steps 3 to 6, applied in memory.
    pub fn submit(
        &mut self,
        client: &str,
        user: &Arc<str>,
        rev: u64,
        seq: u64,
        op: &Delta,
    ) -> SubmitOutcome {
        self.submit_checked(client, user, rev, seq, op, |_, _| Ok(()))
    }

    /// `submit`, with `check` run on the op transformed to head against the head document before it is
    /// applied (the suggestion rules): an `Err` is a `forbidden` refusal that changes nothing.
    pub fn submit_checked(
        &mut self,
        client: &str,
        user: &Arc<str>,
        rev: u64,
        seq: u64,
        op: &Delta,
        check: impl FnOnce(&Document, &Delta) -> Result<(), String>,
    ) -> SubmitOutcome {
        if rev > self.head {
            return SubmitOutcome::Reject(
                ErrorCode::RevInFuture,
                format!("rev {rev} is ahead of head {}", self.head),
            );
        }
        if rev < self.oldest_rev() {
            return SubmitOutcome::Reject(
                ErrorCode::RevTooOld,
                format!("rev {rev} is older than the retained log"),
            );
        }
        if self.client_belongs_to_other(client, user) {
            // The hub refuses such a client at `hello`; this only guards the rule here too.
            return SubmitOutcome::Reject(
                ErrorCode::Forbidden,
                "this client id belongs to another user".into(),
            );
        }
        match self.last_seq.get(client) {
            Some(known) if seq == known.seq => return SubmitOutcome::Dup { rev: known.rev },
            Some(known) if seq < known.seq => {
                return SubmitOutcome::Reject(
                    ErrorCode::StaleSeq,
                    format!("seq {seq} is below the last committed {}", known.seq),
                );
            }
            _ => {}
        }
        if self.head - rev > self.max_transform_ops {
            // Transforming costs one decode and one transform per op crossed, all on the document's task; a
            // client this far behind resumes instead and rebases on its side.
            return SubmitOutcome::Reject(
                ErrorCode::RevTooOld,
                format!(
                    "rev {rev} is more than {} ops behind head {}; resume to catch up",
                    self.max_transform_ops, self.head
                ),
            );
        }
        let op = match self.transform_to_head(rev, op) {
            Ok(op) => op,
            Err(err) => {
                let msg = format!("a committed op in the window does not decode: {err}");
                return SubmitOutcome::Reject(ErrorCode::Internal, msg);
            }
        };
        if let Err(msg) = check(&self.document, &op) {
            return SubmitOutcome::Reject(ErrorCode::Forbidden, msg);
        }
        if let Err(err) = self.document.apply(&op, self.max_doc_len) {
            return SubmitOutcome::Reject(ErrorCode::from_wire(err.wire_code()), err.to_string());
        }
        let base = self.head;
        self.head += 1;
        let record = ClientSeq {
            seq,
            rev: base,
            user: Some(user.clone()),
        };
        match self.last_seq.get_mut(client) {
            Some(entry) => *entry = record,
            None => {
                self.last_seq.insert(Arc::from(client), record);
            }
        }
        SubmitOutcome::Commit {
            rev: base,
            len_after: self.document.len_utf16(),
            op,
        }
    }

    /// Stepwise, one committed op at a time, committed op first: `x = committed.transform(x, true)`.
    /// Never against a composed range: transform does not distribute over compose.
    fn transform_to_head(&self, rev: u64, op: &Delta) -> Result<Delta, serde_json::Error> {
        let skip = usize::try_from(rev - self.oldest_rev()).unwrap_or(usize::MAX);
        let mut op = op.clone();
        for committed in self.recent.iter().skip(skip) {
            op = committed.op()?.transform(&op, self.committed_priority);
        }
        Ok(op)
    }

    /// Adds the op `submit` just applied, with its broadcast frame, to the recent window.
    pub fn push_committed(&mut self, committed: Committed) {
        self.recent_bytes += committed.json_len();
        self.recent.push_back(committed);
        self.trim_window();
    }

    /// The committed ops after `rev`, or `None` when `rev` is older than the window (or in the future).
    pub fn ops_after(&self, rev: u64) -> Option<impl Iterator<Item = &Committed>> {
        if rev > self.head || rev < self.oldest_rev() {
            return None;
        }
        let skip = usize::try_from(rev - self.oldest_rev()).unwrap_or(usize::MAX);
        Some(self.recent.iter().skip(skip))
    }

    /// Moves a selection made at `rev` by `client` up to head, then clamps it to the document.
    /// A selection more than `MAX_PRESENCE_LAG` ops old is dropped: a client sends its selection at its synced
    /// revision, which is close to head, and moving an old one costs a decode per op crossed.
    pub fn selection_at_head(&self, rev: u64, sel: Selection, client: &str) -> Option<Selection> {
        if self.head.saturating_sub(rev) > MAX_PRESENCE_LAG {
            return None;
        }
        let ops = self.ops_after(rev)?;
        let mut sel = sel;
        for committed in ops {
            sel = move_selection(&committed.op().ok()?, sel, *committed.client == *client);
        }
        Some(clamp_selection(sel, self.document.len_utf16()))
    }
}

/// Moves a selection through one op (`transformPosition(pos, !own_op)`): an insert at a caret moves it only
/// when the op is the caret owner's own. A range's end always moves past an insert at it, so a selection
/// grows when someone types at its end, as in Google Docs.
pub fn move_selection(op: &Delta, sel: Selection, own_op: bool) -> Selection {
    let start = op.transform_position(sel.index, !own_op);
    if sel.length == 0 {
        return Selection {
            index: start,
            length: 0,
        };
    }
    let end = op.transform_position(sel.index + sel.length, false);
    Selection {
        index: start,
        length: end.saturating_sub(start),
    }
}

/// Keeps a selection inside a document of `len` units (the final newline can be selected, not passed).
pub fn clamp_selection(sel: Selection, len: u64) -> Selection {
    let last = len.saturating_sub(1);
    let index = sel.index.min(last);
    let end = (sel.index.saturating_add(sel.length)).min(len).max(index);
    Selection {
        index,
        length: end - index,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> DocState {
        let delta = Delta::new().insert(text, None);
        DocState::new(0, Document::from_delta(&delta).unwrap(), window(100), 1000)
    }

    fn window(ops: usize) -> WindowLimit {
        WindowLimit {
            ops,
            bytes: usize::MAX,
        }
    }

    #[test]
    fn the_window_is_bounded_by_bytes_too() {
        let mut state = DocState::new(
            0,
            Document::new(),
            WindowLimit {
                ops: 100,
                bytes: 100,
            },
            10_000,
        );
        let big = "x".repeat(60);
        for seq in 1..=3 {
            let rev = state.head();
            commit(&mut state, "a", rev, seq, Delta::new().insert(&big, None));
        }
        assert_eq!(state.head(), 3);
        assert_eq!(
            state.oldest_rev(),
            2,
            "only the newest op fits in 100 bytes"
        );
        assert!(state.recent_bytes <= 100);
        assert!(matches!(
            state.submit("b", &Arc::from("b"), 1, 1, &Delta::new().insert("y", None)),
            SubmitOutcome::Reject(ErrorCode::RevTooOld, _)
        ));
    }

    fn commit(state: &mut DocState, client: &str, rev: u64, seq: u64, op: Delta) -> SubmitOutcome {
        let outcome = state.submit(
            client,
            &Arc::from(format!("user-of-{client}")),
            rev,
            seq,
            &op,
        );
        if let SubmitOutcome::Commit { rev, op, .. } = &outcome {
            let op_json = serde_json::to_string(op).unwrap();
            let client = Arc::from(client);
            state.push_committed(Committed::new(
                *rev,
                &op_json,
                client,
                seq,
                Arc::from("null"),
            ));
        }
        outcome
    }

    #[test]
    fn concurrent_ops_are_transformed_stepwise_to_head() {
        let mut state = doc("ac\n");
        commit(
            &mut state,
            "a",
            0,
            1,
            Delta::new().retain(1, None).insert("b", None),
        );
        let late = commit(
            &mut state,
            "b",
            0,
            1,
            Delta::new().retain(2, None).insert("d", None),
        );
        assert!(matches!(late, SubmitOutcome::Commit { rev: 1, .. }));
        assert_eq!(state.document().text(), "abcd\n");
        assert_eq!(state.head(), 2);
    }

    #[test]
    fn resent_seq_is_a_dup_and_older_seq_is_stale() {
        let mut state = doc("\n");
        commit(&mut state, "a", 0, 5, Delta::new().insert("x", None));
        assert!(matches!(
            commit(&mut state, "a", 0, 5, Delta::new().insert("x", None)),
            SubmitOutcome::Dup { rev: 0 }
        ));
        assert!(matches!(
            commit(&mut state, "a", 1, 4, Delta::new().insert("y", None)),
            SubmitOutcome::Reject(ErrorCode::StaleSeq, _)
        ));
        assert_eq!(state.document().text(), "x\n");
    }

    #[test]
    fn work_per_message_is_bounded() {
        let mut state = doc("\n");
        state.limit_transforms(3);
        for seq in 1..=5 {
            let rev = state.head();
            commit(&mut state, "a", rev, seq, Delta::new().insert("x", None));
        }
        let late = commit(&mut state, "b", 1, 1, Delta::new().insert("y", None));
        assert!(matches!(
            late,
            SubmitOutcome::Reject(ErrorCode::RevTooOld, _)
        ));
        assert!(matches!(
            commit(&mut state, "b", 2, 1, Delta::new().insert("y", None)),
            SubmitOutcome::Commit { .. }
        ));
        assert!(
            matches!(
                commit(&mut state, "a", 0, 5, Delta::new().insert("x", None)),
                SubmitOutcome::Dup { rev: 4 }
            ),
            "a resent op is still recognised, however old its base"
        );
        let sel = Selection {
            index: 0,
            length: 0,
        };
        let mut long = doc("\n");
        for seq in 1..=MAX_PRESENCE_LAG + 1 {
            let rev = long.head();
            commit(&mut long, "a", rev, seq, Delta::new().insert("x", None));
        }
        assert!(long.selection_at_head(0, sel, "b").is_none());
        assert!(long.selection_at_head(1, sel, "b").is_some());
    }

    #[test]
    fn a_client_id_is_bound_to_the_user_who_committed_with_it() {
        let mut state = doc("\n");
        let (ann, bob): (Arc<str>, Arc<str>) = (Arc::from("ann"), Arc::from("bob"));
        let op = Delta::new().insert("x", None);
        assert!(matches!(
            state.submit("c", &ann, 0, 1, &op),
            SubmitOutcome::Commit { .. }
        ));
        assert!(state.client_belongs_to_other("c", "bob"));
        assert!(!state.client_belongs_to_other("c", "ann"));
        assert!(matches!(
            state.submit("c", &bob, 1, 9, &op),
            SubmitOutcome::Reject(ErrorCode::Forbidden, _)
        ));
        assert!(
            matches!(
                state.submit("c", &ann, 1, 2, &op),
                SubmitOutcome::Commit { .. }
            ),
            "bob's attempt did not move ann's seq"
        );
    }

    /// The window keeps ops as JSON: every shape an op can take must decode to the same op, or a late op would be
    /// transformed against something else than what committed.
    #[test]
    fn window_entries_decode_to_the_committed_op() {
        let bold = serde_json::json!({ "bold": true }).as_object().cloned();
        let unbold = serde_json::json!({ "bold": null, "link": "https://example.com/?a=\"b\"" });
        let image = serde_json::json!({ "image": "https://example.com/a.png" });
        let op = Delta::new()
            .retain(3, unbold.as_object().cloned())
            .insert("é😀\t\"x\"", bold.clone())
            .insert_embed(image.as_object().cloned().unwrap(), bold)
            .delete(2);
        let op_json = serde_json::to_string(&op).unwrap();
        let committed = Committed::new(7, &op_json, Arc::from("c"), 1, Arc::from("null"));
        assert_eq!(committed.op().unwrap(), op);
    }

    #[test]
    fn revisions_outside_the_window_are_refused() {
        let mut state = doc("\n");
        let future = commit(&mut state, "a", 1, 1, Delta::new().insert("x", None));
        assert!(matches!(
            future,
            SubmitOutcome::Reject(ErrorCode::RevInFuture, _)
        ));
        let mut small = DocState::new(0, Document::new(), window(1), 1000);
        commit(&mut small, "a", 0, 1, Delta::new().insert("x", None));
        commit(&mut small, "a", 1, 2, Delta::new().insert("y", None));
        let old = commit(&mut small, "b", 0, 1, Delta::new().insert("z", None));
        assert!(matches!(
            old,
            SubmitOutcome::Reject(ErrorCode::RevTooOld, _)
        ));
    }

    #[test]
    fn an_op_that_deletes_the_final_newline_is_bad_and_changes_nothing() {
        let mut state = doc("ab\n");
        let bad = commit(
            &mut state,
            "a",
            0,
            1,
            Delta::new().retain(2, None).delete(1),
        );
        assert!(matches!(bad, SubmitOutcome::Reject(ErrorCode::BadOp, _)));
        assert_eq!(state.document().text(), "ab\n");
        assert_eq!(state.head(), 0);
    }

    #[test]
    fn carets_move_for_own_inserts_only() {
        let op = Delta::new().retain(2, None).insert("xy", None);
        let caret = Selection {
            index: 2,
            length: 0,
        };
        assert_eq!(move_selection(&op, caret, false), caret);
        assert_eq!(
            move_selection(&op, caret, true),
            Selection {
                index: 4,
                length: 0
            }
        );
        let selection = Selection {
            index: 0,
            length: 2,
        };
        assert_eq!(
            move_selection(&op, selection, false),
            Selection {
                index: 0,
                length: 4
            },
            "grows at its end"
        );
        let inside = Delta::new().retain(1, None).insert("z", None);
        assert_eq!(
            move_selection(&inside, selection, false),
            Selection {
                index: 0,
                length: 3
            }
        );
    }

    #[test]
    fn selections_are_clamped_to_the_document() {
        assert_eq!(
            clamp_selection(
                Selection {
                    index: 9,
                    length: 4
                },
                3
            ),
            Selection {
                index: 2,
                length: 1
            }
        );
        assert_eq!(
            clamp_selection(
                Selection {
                    index: 0,
                    length: 9
                },
                3
            ),
            Selection {
                index: 0,
                length: 3
            }
        );
    }
}
