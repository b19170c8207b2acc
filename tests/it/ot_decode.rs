//! The strict decoder for client changes (PROTOCOL.md step 2): every malformed input of
//! research/ot.md 3.9 and more is an error with a stable code, and nothing panics.

use quire::ot::{Delta, OtError, OtLimits, decode_change};
use serde_json::{Value, json};

fn decode(value: Value) -> Result<Delta, OtError> {
    decode_change(&value, &OtLimits::default())
}

fn code(value: Value) -> &'static str {
    match decode(value.clone()) {
        Ok(delta) => panic!("accepted {value}: {delta:?}"),
        Err(err) => err.code(),
    }
}

#[test]
fn malformed_changes_from_research_3_9() {
    assert_eq!(code(json!([{"retain": -1}, {"insert": "X"}])), "bad_count");
    assert_eq!(code(json!([{"retain": 1.5}, {"insert": "X"}])), "bad_count");
    assert_eq!(code(json!([{"delete": -2}])), "bad_count");
    assert_eq!(code(json!([{"retain": "2"}, {"insert": "X"}])), "bad_count");
    assert_eq!(code(json!([{"insert": "X", "delete": 1}])), "action_count");
    assert_eq!(code(json!([{"insert": 7}])), "bad_insert");
    assert_eq!(code(json!([{"insert": null}])), "bad_insert");
    assert_eq!(
        code(json!([{"retain": 1, "attributes": ["x"]}])),
        "bad_attributes"
    );
    assert_eq!(
        code(json!([{"retain": 1e300}, {"insert": "X"}])),
        "bad_count"
    );
}

#[test]
fn malformed_components() {
    assert_eq!(code(json!({"ops": []})), "not_an_array");
    assert_eq!(code(json!("insert")), "not_an_array");
    assert_eq!(code(json!([1])), "component_not_object");
    assert_eq!(code(json!([{}])), "action_count");
    assert_eq!(code(json!([{"retain": 1, "delete": 1}])), "action_count");
    assert_eq!(code(json!([{"insert": "x", "foo": 1}])), "unknown_key");
    assert_eq!(code(json!([{"retain": 0}, {"insert": "x"}])), "bad_count");
    assert_eq!(code(json!([{"retain": 3.0}, {"insert": "x"}])), "bad_count");
    assert_eq!(
        code(json!([{"retain": 9_007_199_254_740_992u64}])),
        "bad_count"
    );
    assert_eq!(
        code(
            json!([{"retain": 9_007_199_254_740_991u64}, {"retain": 9_007_199_254_740_991u64}, {"insert": "x"}])
        ),
        "bad_count"
    );
    assert_eq!(code(json!([{"retain": {"image": "x"}}])), "retain_object");
    assert_eq!(code(json!([{"insert": ""}])), "empty_insert");
    assert_eq!(code(json!([{"insert": "a\r\nb"}])), "carriage_return");
    assert_eq!(code(json!([{"insert": []}])), "bad_insert");
    assert_eq!(
        code(json!([{"delete": 1, "attributes": {"bold": true}}])),
        "bad_attributes"
    );
    assert_eq!(code(json!([])), "empty_change");
    assert_eq!(code(json!([{"retain": 5}])), "empty_change");
}

#[test]
fn embeds_are_checked() {
    let image = format!("/api/docs/doc_-1/images/{}", "0f".repeat(32));
    // Images are the one embed, and only as an image stored here.
    assert!(decode_change(&json!([{"insert": {"image": image}}]), &OtLimits::default()).is_ok());
    for src in [
        json!("a.png"),
        json!("https://elsewhere.example/cat.png"),
        json!("data:image/png;base64,AAAA"),
        json!(format!("javascript:{image}")),
        json!(format!("{image}?x")),
        json!(format!("/api/docs/../images/{}", "0f".repeat(32))),
        json!(format!("/api/docs/d/images/{}", "0F".repeat(32))),
        json!(7),
    ] {
        assert_eq!(
            code(json!([{"insert": {"image": src}}])),
            "bad_image",
            "{src}"
        );
    }
    assert_eq!(
        code(json!([{"insert": {"video": "b"}}])),
        "embed_not_allowed"
    );
    let limits = OtLimits {
        max_embed_bytes: 16,
        ..OtLimits::default()
    };
    let decode = |v: Value| decode_change(&v, &limits);
    assert_eq!(
        decode(json!([{"insert": {}}])).unwrap_err().code(),
        "bad_embed"
    );
    assert_eq!(
        decode(json!([{"insert": {"image": "a", "video": "b"}}]))
            .unwrap_err()
            .code(),
        "bad_embed"
    );
    let err = decode(json!([{"insert": {"image": image}}])).unwrap_err();
    assert_eq!(
        (err.code(), err.wire_code()),
        ("embed_too_large", "too_large")
    );
}

#[test]
fn an_image_takes_a_width_in_pixels_and_alt_text() {
    let image = json!({"image": format!("/api/docs/d/images/{}", "ab".repeat(32))});
    let ok = |attributes: Value| {
        decode_change(
            &json!([{"insert": image, "attributes": attributes}]),
            &OtLimits::default(),
        )
    };
    assert!(ok(json!({"width": "320", "alt": "A cat on a mat"})).is_ok());
    assert!(ok(json!({"width": "9999"})).is_ok());
    for width in [
        json!("10000"),
        json!("50%"),
        json!("320px"),
        json!(""),
        json!(320),
        json!("1e3"),
    ] {
        assert_eq!(
            ok(json!({"width": width})).unwrap_err().code(),
            "bad_format_value",
            "{width}"
        );
    }
    assert_eq!(
        ok(json!({"alt": {"x": 1}})).unwrap_err().code(),
        "bad_format_value"
    );
    assert_eq!(
        ok(json!({"height": "10"})).unwrap_err().code(),
        "format_not_allowed"
    );
    // Removing a width is a retain with null, as Quill sends it.
    assert!(
        decode_change(
            &json!([{"retain": 1, "attributes": {"width": null}}]),
            &OtLimits::default()
        )
        .is_ok()
    );
}

#[test]
fn attributes_are_checked() {
    assert_eq!(
        code(json!([{"insert": "x", "attributes": {}}])),
        "bad_attributes"
    );
    assert_eq!(
        code(json!([{"insert": "x", "attributes": null}])),
        "bad_attributes"
    );
    assert_eq!(
        code(json!([{"insert": "x", "attributes": {"onclick": "x"}}])),
        "format_not_allowed"
    );
    assert_eq!(
        code(json!([{"insert": "x", "attributes": {"bold": null}}])),
        "null_on_insert"
    );
    assert!(decode(json!([{"retain": 1, "attributes": {"bold": null}}])).is_ok());
    assert_eq!(
        code(json!([{"insert": "x", "attributes": {"bold": {"a": {"b": {"c": {"d": 1}}}}}}])),
        "attribute_too_large"
    );
    let long = "x".repeat(3000);
    assert_eq!(
        code(json!([{"insert": "x", "attributes": {"bold": long}}])),
        "attribute_too_large"
    );
    let mut limits = OtLimits {
        max_attribute_keys: 1,
        ..OtLimits::default()
    };
    limits.allowed_formats.insert("italic".into());
    let err = decode_change(
        &json!([{"retain": 1, "attributes": {"bold": true, "italic": true}}]),
        &limits,
    )
    .unwrap_err();
    assert_eq!(
        (err.code(), err.wire_code()),
        ("too_many_attributes", "too_large")
    );
}

#[test]
fn links_must_be_http_https_or_mailto() {
    for bad in [
        json!("javascript:alert(1)"),
        json!("JavaScript:x"),
        json!(" javascript:x"),
        json!("data:text/html,x"),
        json!("/relative"),
        json!("vbscript:x"),
        json!(1),
        json!(true),
        json!({"href": "https://x"}),
    ] {
        assert_eq!(
            code(json!([{"insert": "x", "attributes": {"link": bad}}])),
            "bad_link"
        );
    }
    for good in ["https://quire.example/a", "HTTP://x", "mailto:a@b.c"] {
        assert!(
            decode(json!([{"insert": "x", "attributes": {"link": good}}])).is_ok(),
            "{good}"
        );
    }
    assert!(decode(json!([{"retain": 1, "attributes": {"link": null}}])).is_ok());
}

#[test]
fn table_rows_are_short_ids_of_letters_digits_and_dashes() {
    for bad in [
        json!("row 1"),
        json!("row-<b>"),
        json!("\"><script>"),
        json!(""),
        json!("r".repeat(33)),
        json!("row-é"),
        json!(7),
        json!(true),
        json!({"id": "row-1"}),
    ] {
        assert_eq!(
            code(json!([{"insert": "\n", "attributes": {"table": bad}}])),
            "bad_table_row"
        );
        assert_eq!(
            code(json!([{"retain": 1, "attributes": {"table": bad}}])),
            "bad_table_row"
        );
    }
    for good in ["row-ab12", "row-1", "Row-X-9", &"r".repeat(32)] {
        assert!(
            decode(json!([{"insert": "\n", "attributes": {"table": good}}])).is_ok(),
            "{good}"
        );
    }
    // Taking a line out of its table.
    assert!(decode(json!([{"retain": 1, "attributes": {"table": null}}])).is_ok());
}

#[test]
fn limits_on_size() {
    let too_many: Vec<Value> = (0..10_001).map(|_| json!({"insert": "x"})).collect();
    let err = decode(Value::Array(too_many)).unwrap_err();
    assert_eq!(
        (err.code(), err.wire_code()),
        ("too_many_components", "too_large")
    );
}

#[test]
fn valid_changes_are_canonicalized() {
    let delta = decode(json!([
        {"retain": 2}, {"retain": 3}, {"delete": 1}, {"insert": "a"}, {"insert": "b"},
        {"retain": 1, "attributes": {"header": 1.0}}, {"retain": 4}
    ]))
    .unwrap();
    assert_eq!(
        serde_json::to_value(&delta).unwrap(),
        json!([{"retain": 5}, {"insert": "ab"}, {"delete": 1}, {"retain": 1, "attributes": {"header": 1}}])
    );
}

#[test]
fn lone_surrogates_never_reach_the_decoder() {
    // serde_json refuses them while parsing, so the hub has to reject such an op before decoding.
    assert!(serde_json::from_str::<Value>(r#"[{"insert": "\ud83d"}]"#).is_err());
    assert!(serde_json::from_str::<Value>(r#"[{"insert": "\ud83d\ude00"}]"#).is_ok());
}

#[test]
fn every_error_has_a_stable_code() {
    let samples = [
        OtError::NotAnArray,
        OtError::EmptyChange,
        OtError::MissingFinalNewline,
        OtError::NotADocument,
        OtError::SplitSurrogate { index: 1 },
        OtError::BaseTooLong { base: 2, doc: 1 },
        OtError::DocTooLarge { len: 2, max: 1 },
        OtError::Malformed("x".into()),
        OtError::BadTableRow { index: 0 },
    ];
    for err in samples {
        assert!(!err.code().is_empty());
        assert!(matches!(err.wire_code(), "bad_op" | "too_large"));
        assert!(!err.to_string().is_empty());
    }
}

/// Arbitrary JSON (within reason) never panics the decoder or the pipeline after it.
#[test]
fn garbage_never_panics() {
    let samples = [
        json!(null),
        json!([null]),
        json!([[]]),
        json!([{"insert": {"image": null}}]),
        json!([{"retain": u64::MAX}]),
        json!([{"delete": 1e20}]),
        json!([{"attributes": {}}]),
        json!([{"insert": "x", "attributes": {"bold": [[[[[[]]]]]]}}]),
    ];
    let mut doc = quire::ot::Document::new();
    for sample in samples {
        if let Ok(delta) = decode(sample) {
            let _ = doc.apply(&delta, 100);
        }
    }
}
