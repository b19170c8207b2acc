//! Benchmarks of the OT core (divan): transform of one keystroke against another, compose
//! and `Document::apply` of one keystroke into documents of 10 KiB, 100 KiB and 1 MiB of
//! formatted text, transform_position, and the replay of a real editing trace.
//!
//! Run with `cargo bench --bench ot`.

#[allow(dead_code)]
#[path = "../tests/it/ot_trace.rs"]
mod trace;

use divan::{Bencher, black_box};
use quire::ot::{Attributes, Delta, Document};
use serde_json::json;

const SIZES: [usize; 3] = [10 * 1024, 100 * 1024, 1024 * 1024];

fn main() {
    divan::main();
}

fn format(value: serde_json::Value) -> Option<Attributes> {
    value.as_object().cloned()
}

/// About `bytes` of mixed text: plain, bold, italic and linked words, headers, lists, emoji.
fn formatted_doc(bytes: usize) -> Delta {
    let words = [
        "lorem ",
        "ipsum ",
        "dolor ",
        "sit ",
        "amet, ",
        "😀 ",
        "漢字 ",
        "consectetur ",
    ];
    let mut delta = Delta::new();
    let mut size = 0;
    let mut i = 0usize;
    while size < bytes {
        let word = words[i % words.len()];
        let attributes = match i % 7 {
            0 => format(json!({"bold": true})),
            3 => format(json!({"italic": true, "color": "#c00"})),
            5 => format(json!({"link": "https://quire.example/a"})),
            _ => None,
        };
        delta = delta.insert(word, attributes);
        if i % 40 == 39 {
            let line = if i % 80 == 79 {
                json!({"header": 2})
            } else {
                json!({"list": "bullet"})
            };
            delta = delta.insert("\n", format(line));
        }
        size += word.len();
        i += 1;
    }
    delta.insert("\n", None)
}

fn keystroke(at: u64) -> Delta {
    Delta::new().retain(at, None).insert("x", None)
}

#[divan::bench]
fn transform_keystroke(bencher: Bencher) {
    let a = keystroke(5000);
    let b = Delta::new().retain(7000, None).delete(1);
    bencher.bench(|| black_box(&a).transform(black_box(&b), true));
}

#[divan::bench]
fn transform_position(bencher: Bencher) {
    let a = Delta::new()
        .retain(120, None)
        .insert("abc", None)
        .retain(40, format(json!({"bold": true})))
        .delete(7)
        .retain(3000, None)
        .insert("d", None);
    bencher.bench(|| black_box(&a).transform_position(black_box(2000), false));
}

/// `Delta::compose` of a document with a keystroke: a new Delta, so linear in the document.
#[divan::bench(args = SIZES)]
fn compose_keystroke_delta(bencher: Bencher, bytes: usize) {
    let doc = formatted_doc(bytes);
    let change = keystroke(doc.length() / 2);
    bencher.bench(|| black_box(&doc).compose(black_box(&change)));
}

/// `Document::apply` of a keystroke: what the hub does for every committed op.
#[divan::bench(args = SIZES)]
fn apply_keystroke_document(bencher: Bencher, bytes: usize) {
    let delta = formatted_doc(bytes);
    let mut doc = Document::from_delta(&delta).expect("document");
    let mut at = 7u64;
    bencher.bench_local(|| {
        at = (at * 7919 + 13) % doc.len_utf16();
        // Retry the rare spot inside an emoji one unit further.
        if doc.apply(&keystroke(at), u64::MAX).is_err() {
            doc.apply(&keystroke(at + 1), u64::MAX).expect("keystroke");
        }
    });
}

/// 259,778 patches of the automerge-paper trace applied one by one to a `Document`.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn replay_automerge_paper(bencher: Bencher) {
    let (patches, end) = trace::load();
    bencher.bench(|| {
        let doc = trace::replay(&patches);
        assert_eq!(doc.len_utf16() as usize, end.len() + 1);
    });
}
