//! Issue 13: the history checker run after every fault. From what each client recorded (its id, the seqs the
//! server acknowledged, the markers it typed, its final document) and from the operation log itself, it reports:
//! an acknowledged op missing from the log or in it twice, a client's ops logged out of its seq order, a log with a
//! gap, a final content that is not the replay of the log, a client whose document differs, and a typed marker that
//! is not in the document exactly once.

use std::collections::{BTreeMap, BTreeSet};

use quire::{
    config::{DatabaseUrl, SyncMode},
    ot::Delta,
    store::{LoggedOp, Store},
};

use crate::cluster_client::{Typist, check_markers, text_of};

/// What the checker found, with counts for the fault table.
#[derive(Debug, Default)]
pub struct Verdict {
    pub acked: usize,
    pub lost: usize,
    pub duplicates: usize,
    pub divergent: usize,
    pub problems: Vec<String>,
}

impl Verdict {
    pub fn assert_clean(&self, what: &str) {
        assert!(
            self.problems.is_empty(),
            "{what}: {} acked, {} lost, {} duplicated, {} divergent:\n{:#?}",
            self.acked,
            self.lost,
            self.duplicates,
            self.divergent,
            self.problems
        );
    }
}

/// Reads the document's whole log from the database and checks the typists' history against it and `content`
/// (the document as the server serves it now).
pub async fn check(
    database: &DatabaseUrl,
    doc: &str,
    content: &Delta,
    typists: &[Typist],
) -> Verdict {
    let store = Store::open(database, 2, SyncMode::Normal)
        .await
        .expect("open the database to check");
    let log = store
        .ops_since(doc, 0)
        .await
        .expect("read the operation log");
    store.close().await;
    check_log(&log, content, typists)
}

pub fn check_log(log: &[LoggedOp], content: &Delta, typists: &[Typist]) -> Verdict {
    let mut verdict = Verdict::default();
    for (expected, op) in log.iter().enumerate() {
        if op.rev != expected as i64 {
            verdict.problems.push(format!(
                "the log has a gap: revision {} where {expected} belongs",
                op.rev
            ));
            break;
        }
    }
    // (client, seq) -> the revisions that logged it, in order.
    let mut logged: BTreeMap<(&str, i64), Vec<i64>> = BTreeMap::new();
    for op in log {
        logged
            .entry((op.client.as_str(), op.seq))
            .or_default()
            .push(op.rev);
    }
    for typist in typists {
        let client = typist.sim.client.as_str();
        let mut last_rev = -1;
        let acked: &BTreeSet<u64> = &typist.sim.acked;
        verdict.acked += acked.len();
        for seq in acked {
            match logged.get(&(client, *seq as i64)).map(Vec::as_slice) {
                None | Some([]) => {
                    verdict.lost += 1;
                    verdict
                        .problems
                        .push(format!("{}: acked seq {seq} is not in the log", typist.tag));
                }
                Some([rev]) => {
                    if *rev < last_rev {
                        verdict.problems.push(format!(
                            "{}: seq {seq} logged at {rev}, before an earlier seq at {last_rev}",
                            typist.tag
                        ));
                    }
                    last_rev = *rev;
                }
                Some(revs) => {
                    verdict.duplicates += 1;
                    verdict.problems.push(format!(
                        "{}: seq {seq} logged {} times: {revs:?}",
                        typist.tag,
                        revs.len()
                    ));
                }
            }
        }
    }
    let replayed = replay(log);
    if &replayed != content {
        verdict
            .problems
            .push("the content served is not the replay of the log".into());
    }
    let text = text_of(content);
    for typist in typists {
        if text_of(&typist.sim.doc) != text {
            verdict.divergent += 1;
        }
    }
    verdict.problems.extend(check_markers(&text, typists));
    verdict
}

/// The document the whole log makes from the empty document.
fn replay(log: &[LoggedOp]) -> Delta {
    let mut doc = Delta::new().insert("\n", None);
    for op in log {
        let value: serde_json::Value = serde_json::from_str(&op.op_json).expect("logged op JSON");
        let delta = Delta::from_json_unchecked(&value).expect("logged op");
        doc = doc.compose(&delta);
    }
    doc
}
