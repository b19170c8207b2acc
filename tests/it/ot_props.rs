//! Property tests of the OT core on random documents and changes with Unicode, embeds,
//! formats and nulls: TP1 under the ShareDB convention, compose is application, canonical
//! outputs, documents stay documents, monotonic transform_position; and the counterexample
//! that shows transform does not distribute over compose (research/ot.md 3.7).

use proptest::prelude::*;
use quire::ot::{Delta, Document};
use serde_json::json;

use crate::ot_support::{arb_case, arb_recipe, change_for, d, is_canonical};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The server commits `a` first, then `a.transform(b, true)`; a client that applied `b`
    /// first applies `b.transform(a, false)`. Both must reach the same document.
    #[test]
    fn tp1_under_the_sharedb_convention((doc, a, b) in arb_case()) {
        let left = doc.compose(&a).compose(&a.transform(&b, true));
        let right = doc.compose(&b).compose(&b.transform(&a, false));
        prop_assert_eq!(left, right);
    }

    #[test]
    fn compose_is_sequential_application((doc, a, _b) in arb_case(), recipe in arb_recipe()) {
        let after_a = doc.compose(&a);
        let c = change_for(&after_a, &recipe);
        prop_assert_eq!(doc.compose(&a.compose(&c)), after_a.compose(&c));
    }

    #[test]
    fn outputs_are_canonical((doc, a, b) in arb_case()) {
        for out in [
            doc.compose(&a), a.compose(&b), a.transform(&b, true), a.transform(&b, false), a.invert(&doc),
        ] {
            prop_assert!(is_canonical(&out), "{:?}", out);
        }
    }

    #[test]
    fn invert_undoes((doc, a, _b) in arb_case()) {
        prop_assert_eq!(doc.compose(&a).compose(&a.invert(&doc)), doc);
    }

    /// A change either keeps the document a document (inserts only, ending with "\n") or is
    /// refused and leaves it untouched.
    #[test]
    fn documents_stay_documents((doc, a, b) in arb_case()) {
        let mut document = Document::from_delta(&doc).unwrap();
        for change in [a, b] {
            let before = document.to_delta();
            match document.apply(&change, u64::MAX) {
                Ok(()) => {
                    let now = document.to_delta();
                    prop_assert!(now.is_insert_only());
                    prop_assert!(now.text().ends_with('\n'));
                    prop_assert_eq!(now, before.compose(&change));
                }
                Err(_) => prop_assert_eq!(document.to_delta(), before),
            }
        }
    }

    #[test]
    fn transform_position_is_monotonic((doc, a, _b) in arb_case()) {
        for priority in [true, false] {
            let mapped: Vec<u64> = (0..=doc.length() + 2).map(|i| a.transform_position(i, priority)).collect();
            prop_assert!(mapped.windows(2).all(|w| w[0] <= w[1]), "{:?}", mapped);
        }
    }
}

/// Transforming against a composed range is not the same as transforming stepwise: here
/// `x` lands on the other side of A's insert. Clients transform one server op at a time, so
/// the server must too (PROTOCOL.md section 2).
#[test]
fn transform_does_not_distribute_over_compose() {
    let doc = d(json!([{"insert": "Hello\n"}]));
    let a = d(json!([{"retain": 3}, {"insert": "X"}]));
    let c = d(json!([{"delete": 3}]));
    let x = d(json!([{"insert": "Y"}]));
    let composed = a.compose(&c).transform(&x, true);
    let stepwise = c.transform(&a.transform(&x, true), true);
    assert_eq!(composed, d(json!([{"retain": 1}, {"insert": "Y"}])));
    assert_eq!(stepwise, d(json!([{"insert": "Y"}])));
    let head = doc.compose(&a).compose(&c);
    assert_eq!(head.compose(&composed).text(), "XYlo\n");
    assert_eq!(head.compose(&stepwise).text(), "YXlo\n");
    // The stepwise result is what a client that saw A and C one at a time converges to.
    let client = doc.compose(&x);
    let client = client.compose(&x.transform(&a, false));
    let a_then = a.transform(&x, true);
    let client = client.compose(&a_then.transform(&c, false));
    assert_eq!(client, head.compose(&stepwise));
}

#[test]
fn compose_into_a_document_never_panics_on_split_surrogates() {
    let doc = Delta::new().insert("a😀b\n", None);
    let split = Delta::new().retain(2, None).insert("X", None);
    // quill-delta yields lone surrogates here; we keep every length and write U+FFFD.
    let res = doc.compose(&split);
    assert_eq!(res.length(), doc.length() + 1);
    assert_eq!(res.text(), "a\u{FFFD}X\u{FFFD}b\n");
    assert!(doc.try_compose(&split).is_err());
    let inverse = Delta::new().retain(2, None).delete(1);
    assert_eq!(inverse.invert(&doc).length(), 3);
    assert!(inverse.try_invert(&doc).is_err());
}
