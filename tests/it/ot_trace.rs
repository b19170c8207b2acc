//! Replays a real editing trace (Martin Kleppmann writing the automerge paper: 259,778
//! keystrokes, from Joseph Gentle's editing-traces, CC BY 4.0) into a `Document`, one patch
//! at a time as a Delta, and checks the final text. `benches/ot.rs` times the same replay.

use std::io::Read;
use std::path::Path;

use quire::ot::{Delta, Document};

/// Every patch of the trace as a Delta, and the expected final text.
pub fn load() -> (Vec<Delta>, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ot/automerge-paper.json.gz");
    let file = std::fs::File::open(path).expect("trace file");
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .expect("gunzip trace");
    let trace: serde_json::Value = serde_json::from_str(&text).expect("trace json");
    assert_eq!(
        trace["startContent"], "",
        "the replay starts from an empty document"
    );
    let mut patches = Vec::new();
    for txn in trace["txns"].as_array().expect("txns") {
        for patch in txn["patches"].as_array().expect("patches") {
            let pos = patch[0].as_u64().expect("pos");
            let delete = patch[1].as_u64().expect("delete");
            let insert = patch[2].as_str().expect("insert");
            patches.push(
                Delta::new()
                    .retain(pos, None)
                    .delete(delete)
                    .insert(insert, None)
                    .chopped(),
            );
        }
    }
    let end = trace["endContent"].as_str().expect("endContent").to_owned();
    (patches, end)
}

/// Applies every patch; the document keeps its own final "\n" after the trace's text.
pub fn replay(patches: &[Delta]) -> Document {
    let mut doc = Document::new();
    for patch in patches {
        doc.apply(patch, u64::MAX).expect("trace patch applies");
    }
    doc
}

#[test]
fn automerge_paper_trace_replays_to_its_end_content() {
    let (patches, end) = load();
    assert_eq!(patches.len(), 259_778);
    let doc = replay(&patches);
    assert_eq!(doc.text(), end + "\n");
    assert_eq!(doc.len_utf16(), doc.to_delta().length());
}
