//! `Document`: the chunked head document agrees with `Delta::compose` (also with tiny chunks,
//! so that chunk splits and merges happen), and its range checks (PROTOCOL.md step 6) refuse
//! bad changes without touching the document.

use proptest::prelude::*;
use quire::ot::{Delta, Document, OtError};
use serde_json::json;

use crate::ot_support::{arb_doc, arb_recipe, attrs, change_for, d};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn apply_agrees_with_compose(
        doc in arb_doc(),
        recipes in prop::collection::vec(arb_recipe(), 1..12),
        piece_bytes in 4usize..16,
        chunk_ops in 2usize..6,
    ) {
        let mut document = Document::from_delta_with_chunking(&doc, piece_bytes, chunk_ops).unwrap();
        let mut expected = doc;
        for recipe in &recipes {
            let change = change_for(&expected, recipe);
            let composed = expected.compose(&change);
            let valid = composed
                .ops()
                .last()
                .and_then(|op| op.text())
                .is_some_and(|t| t.as_str().ends_with('\n'));
            let res = document.apply(&change, u64::MAX);
            prop_assert_eq!(res.is_ok(), valid, "{:?} on {:?}: {:?}", change, expected, res);
            if valid {
                expected = composed;
            }
            prop_assert_eq!(document.to_delta(), expected.clone());
            prop_assert_eq!(document.len_utf16(), expected.length());
            prop_assert_eq!(document.text(), expected.text());
        }
        let len = expected.length();
        for (start, end) in [(0, len), (1, len / 2), (len / 3, len)] {
            if let Ok(want) = expected.slice(start, end) {
                prop_assert_eq!(document.slice(start, end).unwrap(), want);
            }
        }
    }
}

#[test]
fn new_document_is_one_newline() {
    let doc = Document::new();
    assert_eq!(doc.len_utf16(), 1);
    assert_eq!(doc.to_delta(), d(json!([{"insert": "\n"}])));
    assert_eq!(Document::default(), doc);
}

#[test]
fn from_delta_requires_a_document() {
    assert_eq!(
        Document::from_delta(&Delta::new()).unwrap_err(),
        OtError::MissingFinalNewline
    );
    assert_eq!(
        Document::from_delta(&d(json!([{"insert": "Hi"}]))).unwrap_err(),
        OtError::MissingFinalNewline
    );
    assert_eq!(
        Document::from_delta(&d(json!([{"insert": "Hi\n"}, {"retain": 1}]))).unwrap_err(),
        OtError::NotADocument
    );
    assert_eq!(
        Document::from_delta(&d(json!([{"insert": "\n"}, {"insert": {"image": "x"}}])))
            .unwrap_err(),
        OtError::MissingFinalNewline
    );
}

/// Every rejected change leaves the document exactly as it was.
fn refuse(doc: &mut Document, change: serde_json::Value, max: u64) -> OtError {
    let before = doc.to_delta();
    let err = doc.apply(&d(change), max).unwrap_err();
    assert_eq!(doc.to_delta(), before);
    err
}

#[test]
fn apply_range_checks() {
    let mut doc = Document::from_delta(&d(json!([{"insert": "a😀b\n"}]))).unwrap();
    // Base length past the end: delete and format (quill-delta would corrupt the document).
    assert_eq!(
        refuse(&mut doc, json!([{"retain": 5}, {"delete": 1}]), 100),
        OtError::BaseTooLong { base: 6, doc: 5 }
    );
    assert_eq!(
        refuse(
            &mut doc,
            json!([{"retain": 10, "attributes": {"bold": true}}]),
            100
        )
        .code(),
        "base_too_long"
    );
    assert_eq!(
        refuse(&mut doc, json!([{"delete": 10}]), 100).wire_code(),
        "bad_op"
    );
    // Split surrogate pairs: inserting, deleting or formatting at offset 2.
    assert_eq!(
        refuse(&mut doc, json!([{"retain": 2}, {"insert": "X"}]), 100),
        OtError::SplitSurrogate { index: 2 }
    );
    assert_eq!(
        refuse(&mut doc, json!([{"retain": 2}, {"delete": 1}]), 100).code(),
        "split_surrogate"
    );
    assert_eq!(
        refuse(&mut doc, json!([{"retain": 1}, {"delete": 1}]), 100).code(),
        "split_surrogate"
    );
    assert_eq!(
        refuse(
            &mut doc,
            json!([{"retain": 2, "attributes": {"bold": true}}]),
            100
        )
        .code(),
        "split_surrogate"
    );
    // The final newline: deleted, or text inserted after it.
    assert_eq!(
        refuse(&mut doc, json!([{"retain": 4}, {"delete": 1}]), 100),
        OtError::MissingFinalNewline
    );
    assert_eq!(
        refuse(&mut doc, json!([{"retain": 5}, {"insert": "X"}]), 100),
        OtError::MissingFinalNewline
    );
    assert_eq!(
        refuse(&mut doc, json!([{"delete": 5}]), 100),
        OtError::MissingFinalNewline
    );
    assert_eq!(
        refuse(
            &mut doc,
            json!([{"retain": 5}, {"insert": {"image": "x"}}]),
            100
        ),
        OtError::MissingFinalNewline
    );
    // Too long.
    let err = refuse(&mut doc, json!([{"insert": "123456"}]), 10);
    assert_eq!(err, OtError::DocTooLarge { len: 11, max: 10 });
    assert_eq!(err.wire_code(), "too_large");
    // And the valid neighbours of all of that.
    doc.apply(&d(json!([{"retain": 3}, {"insert": "X"}])), 100)
        .unwrap();
    doc.apply(&d(json!([{"retain": 1}, {"delete": 2}])), 100)
        .unwrap();
    doc.apply(&d(json!([{"retain": 4}, {"insert": "Y\n"}])), 100)
        .unwrap();
    doc.apply(&d(json!([{"retain": 3}, {"delete": 1}])), 100)
        .unwrap();
    assert_eq!(doc.text(), "aXbY\n");
}

#[test]
fn lines_slices_and_text_for_export() {
    let doc = d(json!([
        {"insert": "Title"}, {"insert": "\n", "attributes": {"header": 1}},
        {"insert": "bold", "attributes": {"bold": true}}, {"insert": {"image": "a.png"}}, {"insert": " 😀\n"}
    ]));
    let document = Document::from_delta_with_chunking(&doc, 4, 2).unwrap();
    let lines: Vec<_> = document.lines().collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[0],
        (d(json!([{"insert": "Title"}])), attrs(json!({"header": 1})))
    );
    assert_eq!(
        lines[1].0,
        d(
            json!([{"insert": "bold", "attributes": {"bold": true}}, {"insert": {"image": "a.png"}}, {"insert": " 😀"}])
        )
    );
    assert_eq!(document.text(), "Title\nbold 😀\n");
    assert_eq!(
        document.slice(3, 8).unwrap(),
        d(
            json!([{"insert": "le"}, {"insert": "\n", "attributes": {"header": 1}}, {"insert": "bo", "attributes": {"bold": true}}])
        )
    );
    assert_eq!(
        document.slice(12, 14).unwrap(),
        d(json!([{"insert": "😀"}]))
    );
    assert_eq!(
        document.slice(13, 14).unwrap_err(),
        OtError::SplitSurrogate { index: 13 }
    );
}

/// A thousand keystrokes scattered over half a megabyte of alternating formats apply without error and keep the
/// length right. (It does not measure copying: that is `benches/ot.rs`, which times a keystroke against document
/// size; the name used to promise more than the test checked.)
#[test]
fn keystrokes_all_over_a_large_formatted_document_apply() {
    let mut delta = Delta::new();
    for i in 0..40_000u64 {
        let bold = (i % 3 == 0).then(|| attrs(json!({"bold": true})));
        delta = delta.insert("lorem ipsum ", bold);
    }
    let mut document = Document::from_delta(&delta.insert("\n", None)).unwrap();
    let len = document.len_utf16();
    for i in 0..1000 {
        document
            .apply(
                &Delta::new()
                    .retain((i * 7919) % len, None)
                    .insert("x", None),
                u64::MAX,
            )
            .unwrap();
    }
    assert_eq!(document.len_utf16(), len + 1000);
}
