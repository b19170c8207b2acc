//! Fuzzes what the hub does with a client's change: strict decode, then transform, compose,
//! transform_position, invert and `Document::apply`. Input: JSON, either one change or
//! `[document_ops, change_a, change_b]`. Nothing may panic, and where both changes apply
//! cleanly the results must agree (TP1, `Document::apply` equals `compose`, invert undoes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use quire_ot_fuzz::ot::{Delta, Document, OtLimits, decode_change};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let mut limits = OtLimits::default();
    limits
        .allowed_embeds
        .extend(["image".to_owned(), "formula".to_owned()]);
    let (doc, a, b) = match &value {
        Value::Array(parts) if parts.len() == 3 && parts.iter().all(Value::is_array) => (
            // Documents pass the strict decoder too, as every stored document did.
            decode_change(&parts[0], &limits).ok(),
            decode_change(&parts[1], &limits),
            decode_change(&parts[2], &limits),
        ),
        change => (
            None,
            decode_change(change, &limits),
            decode_change(change, &limits),
        ),
    };
    let (Ok(a), Ok(b)) = (a, b) else {
        return;
    };
    check_algebra(&a, &b);
    if let Some(doc) = doc {
        check_on_document(&doc, &a, &b);
    }
});

fn check_algebra(a: &Delta, b: &Delta) {
    let json = serde_json::to_value(a).expect("serialize");
    assert_eq!(&Delta::from_json_unchecked(&json).expect("round trip"), a);
    for priority in [true, false] {
        let _ = a.transform(b, priority);
        for index in [0, 1, a.base_length(), u64::MAX] {
            let _ = a.transform_position(index, priority);
        }
    }
    let _ = a.compose(b);
    let _ = a.try_compose(b);
    let _ = a.invert(b);
    let _ = a.try_invert(b);
}

fn check_on_document(doc: &Delta, a: &Delta, b: &Delta) {
    let Ok(mut document) = Document::from_delta(doc) else {
        return;
    };
    let mut other = document.clone();
    let (Ok(()), Ok(())) = (document.apply(a, u64::MAX), other.apply(b, u64::MAX)) else {
        return;
    };
    assert_eq!(document.to_delta(), doc.compose(a));
    assert_eq!(doc.compose(a).compose(&a.invert(doc)), *doc);
    let left = doc.compose(a).compose(&a.transform(b, true));
    let right = doc.compose(b).compose(&b.transform(a, false));
    assert_eq!(left, right, "TP1");
    if document.apply(&a.transform(b, true), u64::MAX).is_ok() {
        assert_eq!(document.to_delta(), left);
    }
}
