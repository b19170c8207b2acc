//! quill-delta 5.1.0's own test suite (compose, transform, transformPosition, AttributeMap,
//! invert, builder and push, helpers, OpIterator) and rich-text's presence cases, as data.
//! Embed-change retains (`retain: {...}`) are rejected by design (research/ot.md 3.5), so the
//! "custom embed handler" cases become rejection checks.

use quire::ot::{Delta, Kind, Op, OpIter, attributes as am};
use serde_json::{Value, json};

use crate::ot_support::{attrs, d, embed};

fn check_compose(a: Value, b: Value, expected: Value) {
    let (a, b) = (d(a), d(b));
    assert_eq!(a.compose(&b), d(expected.clone()), "compose {a:?} {b:?}");
    assert_eq!(a.try_compose(&b).unwrap(), d(expected));
}

#[test]
fn compose_cases() {
    let bold_red = json!({"bold": true, "color": "red"});
    let cases = [
        (
            json!([{"insert":"A"}]),
            json!([{"insert":"B"}]),
            json!([{"insert":"BA"}]),
        ),
        (
            json!([{"insert":"A"}]),
            json!([{"retain":1,"attributes":{"bold":true,"color":"red","font":null}}]),
            json!([{"insert":"A","attributes":bold_red}]),
        ),
        (json!([{"insert":"A"}]), json!([{"delete":1}]), json!([])),
        (
            json!([{"delete":1}]),
            json!([{"insert":"B"}]),
            json!([{"insert":"B"},{"delete":1}]),
        ),
        (
            json!([{"delete":1}]),
            json!([{"retain":1,"attributes":bold_red}]),
            json!([{"delete":1},{"retain":1,"attributes":bold_red}]),
        ),
        (
            json!([{"delete":1}]),
            json!([{"delete":1}]),
            json!([{"delete":2}]),
        ),
        (
            json!([{"retain":1,"attributes":{"color":"blue"}}]),
            json!([{"insert":"B"}]),
            json!([{"insert":"B"},{"retain":1,"attributes":{"color":"blue"}}]),
        ),
        (
            json!([{"retain":1,"attributes":{"color":"blue"}}]),
            json!([{"retain":1,"attributes":{"bold":true,"color":"red","font":null}}]),
            json!([{"retain":1,"attributes":{"bold":true,"color":"red","font":null}}]),
        ),
        (
            json!([{"retain":1,"attributes":{"color":"blue"}}]),
            json!([{"delete":1}]),
            json!([{"delete":1}]),
        ),
        (
            json!([{"insert":"Hello"}]),
            json!([{"retain":3},{"insert":"X"}]),
            json!([{"insert":"HelXlo"}]),
        ),
        (
            json!([{"insert":"Hello"}]),
            json!([{"retain":3},{"insert":"X"},{"delete":1}]),
            json!([{"insert":"HelXo"}]),
        ),
        (
            json!([{"insert":"Hello"}]),
            json!([{"retain":3},{"delete":1},{"insert":"X"}]),
            json!([{"insert":"HelXo"}]),
        ),
        (
            json!([{"insert":{"embed":1},"attributes":{"src":"http://quilljs.com/image.png"}}]),
            json!([{"retain":1,"attributes":{"alt":"logo"}}]),
            json!([{"insert":{"embed":1},"attributes":{"src":"http://quilljs.com/image.png","alt":"logo"}}]),
        ),
        (
            json!([{"retain":4},{"insert":"Hello"}]),
            json!([{"delete":9}]),
            json!([{"delete":4}]),
        ),
        (
            json!([{"insert":"Hello"}]),
            json!([{"retain":10}]),
            json!([{"insert":"Hello"}]),
        ),
        (
            json!([{"insert":{"embed":1}}]),
            json!([{"retain":1}]),
            json!([{"insert":{"embed":1}}]),
        ),
        (
            json!([{"insert":"A","attributes":{"bold":true}}]),
            json!([{"retain":1,"attributes":{"bold":null}}]),
            json!([{"insert":"A"}]),
        ),
        (
            json!([{"insert":{"embed":2},"attributes":{"bold":true}}]),
            json!([{"retain":1,"attributes":{"bold":null}}]),
            json!([{"insert":{"embed":2}}]),
        ),
        (
            json!([{"insert":"Test","attributes":{"bold":true}}]),
            json!([{"retain":1,"attributes":{"color":"red"}},{"delete":2}]),
            json!([{"insert":"T","attributes":{"color":"red","bold":true}},{"insert":"t","attributes":{"bold":true}}]),
        ),
        // Retain start optimization.
        (
            json!([{"insert":"A","attributes":{"bold":true}},{"insert":"B"},{"insert":"C","attributes":{"bold":true}},{"delete":1}]),
            json!([{"retain":3},{"insert":"D"}]),
            json!([{"insert":"A","attributes":{"bold":true}},{"insert":"B"},{"insert":"C","attributes":{"bold":true}},{"insert":"D"},{"delete":1}]),
        ),
        // Retain start optimization split.
        (
            json!([{"insert":"A","attributes":{"bold":true}},{"insert":"B"},{"insert":"C","attributes":{"bold":true}},{"retain":5},{"delete":1}]),
            json!([{"retain":4},{"insert":"D"}]),
            json!([{"insert":"A","attributes":{"bold":true}},{"insert":"B"},{"insert":"C","attributes":{"bold":true}},{"retain":1},{"insert":"D"},{"retain":4},{"delete":1}]),
        ),
        // Retain end optimization.
        (
            json!([{"insert":"A","attributes":{"bold":true}},{"insert":"B"},{"insert":"C","attributes":{"bold":true}}]),
            json!([{"delete":1}]),
            json!([{"insert":"B"},{"insert":"C","attributes":{"bold":true}}]),
        ),
        // Retain end optimization join.
        (
            json!([{"insert":"A","attributes":{"bold":true}},{"insert":"B"},{"insert":"C","attributes":{"bold":true}},{"insert":"D"},{"insert":"E","attributes":{"bold":true}},{"insert":"F"}]),
            json!([{"retain":1},{"delete":1}]),
            json!([{"insert":"AC","attributes":{"bold":true}},{"insert":"D"},{"insert":"E","attributes":{"bold":true}},{"insert":"F"}]),
        ),
        // An embed whose value is a Delta, retained with a number (no handler needed).
        (
            json!([{"insert":{"delta":[{"insert":"a"}]}}]),
            json!([{"retain":1,"attributes":{"bold":true}}]),
            json!([{"insert":{"delta":[{"insert":"a"}]},"attributes":{"bold":true}}]),
        ),
    ];
    for (a, b, expected) in cases {
        check_compose(a, b, expected);
    }
}

#[test]
fn compose_does_not_mutate_inputs() {
    let a = d(json!([{"insert":"Test","attributes":{"bold":true}}]));
    let b = d(json!([{"retain":1,"attributes":{"color":"red"}},{"delete":2}]));
    let (a2, b2) = (a.clone(), b.clone());
    let _ = a.compose(&b);
    assert_eq!((a, b), (a2, b2));
}

#[test]
fn embed_change_retains_are_rejected() {
    // quill-delta needs a registered handler for these; we support none (v1).
    for ops in [
        json!([{"retain":{"figure":true},"attributes":{"src":"x"}}]),
        json!([{"retain":{"delta":[{"insert":"b"}]}}]),
    ] {
        assert!(Delta::from_json_unchecked(&ops).is_err(), "{ops}");
    }
}

fn check_transform(a: Value, b: Value, priority: bool, expected: Value) {
    let (a, b) = (d(a), d(b));
    assert_eq!(
        a.transform(&b, priority),
        d(expected),
        "transform {a:?} {b:?} {priority}"
    );
}

#[test]
fn transform_cases() {
    let bold_red = json!({"bold": true, "color": "red"});
    let blue = json!({"color": "blue"});
    check_transform(
        json!([{"insert":"A"}]),
        json!([{"insert":"B"}]),
        true,
        json!([{"retain":1},{"insert":"B"}]),
    );
    check_transform(
        json!([{"insert":"A"}]),
        json!([{"insert":"B"}]),
        false,
        json!([{"insert":"B"}]),
    );
    check_transform(
        json!([{"insert":"A"}]),
        json!([{"retain":1,"attributes":bold_red}]),
        true,
        json!([{"retain":1},{"retain":1,"attributes":bold_red}]),
    );
    check_transform(
        json!([{"insert":"A"}]),
        json!([{"delete":1}]),
        true,
        json!([{"retain":1},{"delete":1}]),
    );
    check_transform(
        json!([{"delete":1}]),
        json!([{"insert":"B"}]),
        true,
        json!([{"insert":"B"}]),
    );
    check_transform(
        json!([{"delete":1}]),
        json!([{"retain":1,"attributes":bold_red}]),
        true,
        json!([]),
    );
    check_transform(
        json!([{"delete":1}]),
        json!([{"delete":1}]),
        true,
        json!([]),
    );
    check_transform(
        json!([{"retain":1,"attributes":blue}]),
        json!([{"insert":"B"}]),
        true,
        json!([{"insert":"B"}]),
    );
    check_transform(
        json!([{"retain":1,"attributes":blue}]),
        json!([{"retain":1,"attributes":bold_red}]),
        true,
        json!([{"retain":1,"attributes":{"bold":true}}]),
    );
    check_transform(
        json!([{"retain":1,"attributes":bold_red}]),
        json!([{"retain":1,"attributes":blue}]),
        true,
        json!([]),
    );
    check_transform(
        json!([{"retain":1,"attributes":blue}]),
        json!([{"retain":1,"attributes":bold_red}]),
        false,
        json!([{"retain":1,"attributes":bold_red}]),
    );
    check_transform(
        json!([{"retain":1,"attributes":bold_red}]),
        json!([{"retain":1,"attributes":blue}]),
        false,
        json!([{"retain":1,"attributes":blue}]),
    );
    check_transform(
        json!([{"retain":1,"attributes":blue}]),
        json!([{"delete":1}]),
        true,
        json!([{"delete":1}]),
    );
    // Alternating edits.
    let a = json!([{"retain":2},{"insert":"si"},{"delete":5}]);
    let b = json!([{"retain":1},{"insert":"e"},{"delete":5},{"retain":1},{"insert":"ow"}]);
    check_transform(
        a.clone(),
        b.clone(),
        false,
        json!([{"retain":1},{"insert":"e"},{"delete":1},{"retain":2},{"insert":"ow"}]),
    );
    check_transform(
        b,
        a,
        false,
        json!([{"retain":2},{"insert":"si"},{"delete":1}]),
    );
    // Conflicting appends.
    let (a, b) = (
        json!([{"retain":3},{"insert":"aa"}]),
        json!([{"retain":3},{"insert":"bb"}]),
    );
    check_transform(
        a.clone(),
        b.clone(),
        true,
        json!([{"retain":5},{"insert":"bb"}]),
    );
    check_transform(b, a, false, json!([{"retain":3},{"insert":"aa"}]));
    // Prepend and append.
    let (a, b) = (
        json!([{"insert":"aa"}]),
        json!([{"retain":3},{"insert":"bb"}]),
    );
    check_transform(
        a.clone(),
        b.clone(),
        false,
        json!([{"retain":5},{"insert":"bb"}]),
    );
    check_transform(b, a, false, json!([{"insert":"aa"}]));
    // Trailing deletes with differing lengths.
    let (a, b) = (json!([{"retain":2},{"delete":1}]), json!([{"delete":3}]));
    check_transform(a.clone(), b.clone(), false, json!([{"delete":2}]));
    check_transform(b, a, false, json!([]));
    // An embed change meeting a plain retain is not representable; a plain one passes through.
    check_transform(
        json!([{"retain":1}]),
        json!([{"insert":{"image":"x"}}]),
        true,
        json!([{"insert":{"image":"x"}}]),
    );
}

#[test]
fn transform_position_cases() {
    let cases: [(Value, u64, bool, u64); 10] = [
        (json!([{"insert":"A"}]), 2, false, 3),
        (json!([{"retain":2},{"insert":"A"}]), 1, false, 1),
        (json!([{"retain":2},{"insert":"A"}]), 2, true, 2),
        (json!([{"retain":2},{"insert":"A"}]), 2, false, 3),
        (json!([{"delete":2}]), 4, false, 2),
        (json!([{"retain":4},{"delete":2}]), 2, false, 2),
        (json!([{"retain":1},{"delete":4}]), 2, false, 1),
        (
            json!([{"retain":2},{"insert":"A"},{"delete":2}]),
            4,
            false,
            3,
        ),
        (
            json!([{"retain":2},{"insert":"A"},{"delete":4}]),
            4,
            false,
            3,
        ),
        (json!([{"delete":1},{"retain":1},{"delete":4}]), 4, false, 1),
    ];
    for (delta, index, priority, expected) in cases {
        assert_eq!(
            d(delta.clone()).transform_position(index, priority),
            expected,
            "{delta} {index}"
        );
    }
}

/// rich-text's `transformPresence`: both ends mapped with `priority = !isOwnOp`.
fn presence(index: u64, length: u64, op: &Delta, own: bool) -> (u64, u64) {
    let start = op.transform_position(index, !own);
    let end = op.transform_position(index + length, !own);
    (start, end - start)
}

#[test]
fn rich_text_presence_cases() {
    let foo = d(json!([{"insert":"foo"}]));
    assert_eq!(presence(10, 0, &foo, false), (13, 0));
    assert_eq!(
        presence(10, 0, &d(json!([{"retain":20},{"insert":"foo"}])), false),
        (10, 0)
    );
    assert_eq!(presence(10, 3, &foo, false), (13, 3));
    assert_eq!(
        presence(10, 3, &d(json!([{"retain":9},{"delete":3}])), false),
        (9, 1)
    );
    assert_eq!(
        presence(10, 3, &d(json!([{"retain":9},{"delete":5}])), false),
        (9, 0)
    );
    let at_cursor = d(json!([{"retain":10},{"insert":"foo"}]));
    assert_eq!(presence(10, 2, &at_cursor, true), (13, 2));
    assert_eq!(presence(10, 2, &at_cursor, false), (10, 5));
    assert_eq!(presence(10, 0, &Delta::new(), false), (10, 0));
}

fn check_invert(delta: Value, base: Value, expected: Value) {
    let (delta, base) = (d(delta), d(base));
    let inverted = delta.invert(&base);
    assert_eq!(inverted, d(expected), "invert {delta:?} on {base:?}");
    assert_eq!(base.compose(&delta).compose(&inverted), base);
}

#[test]
fn invert_cases() {
    check_invert(
        json!([{"retain":2},{"insert":"A"}]),
        json!([{"insert":"123456"}]),
        json!([{"retain":2},{"delete":1}]),
    );
    check_invert(
        json!([{"retain":2},{"delete":3}]),
        json!([{"insert":"123456"}]),
        json!([{"retain":2},{"insert":"345"}]),
    );
    check_invert(
        json!([{"retain":2},{"retain":3,"attributes":{"bold":true}}]),
        json!([{"insert":"123456"}]),
        json!([{"retain":2},{"retain":3,"attributes":{"bold":null}}]),
    );
    check_invert(
        json!([{"retain":4,"attributes":{"italic":true}}]),
        json!([{"insert":"123"},{"insert":"4","attributes":{"bold":true}}]),
        json!([{"retain":4,"attributes":{"italic":null}}]),
    );
    check_invert(
        json!([{"retain":2},{"delete":2},{"insert":"AB","attributes":{"italic":true}},
            {"retain":2,"attributes":{"italic":null,"bold":true}},{"retain":2,"attributes":{"color":"red"}},{"delete":1}]),
        json!([{"insert":"123","attributes":{"bold":true}},{"insert":"456","attributes":{"italic":true}},
            {"insert":"789","attributes":{"color":"red","bold":true}}]),
        json!([{"retain":2},{"insert":"3","attributes":{"bold":true}},{"insert":"4","attributes":{"italic":true}},
            {"delete":2},{"retain":2,"attributes":{"italic":true,"bold":null}},{"retain":2},
            {"insert":"9","attributes":{"color":"red","bold":true}}]),
    );
    check_invert(
        json!([{"retain":1,"attributes":{"bold":true}}]),
        json!([{"insert":{"delta":[{"insert":"a"}]}}]),
        json!([{"retain":1,"attributes":{"bold":null}}]),
    );
}

#[test]
fn attribute_compose_cases() {
    let a = attrs(json!({"bold": true, "color": "red"}));
    let c = |x: Option<Value>, y: Option<Value>| {
        am::compose(x.map(attrs).as_ref(), y.map(attrs).as_ref(), false)
    };
    let base = Some(json!({"bold": true, "color": "red"}));
    assert_eq!(c(None, base.clone()), Some(a.clone()));
    assert_eq!(c(base.clone(), None), Some(a.clone()));
    assert_eq!(c(None, None), None);
    assert_eq!(
        c(base.clone(), Some(json!({"italic": true}))),
        Some(attrs(json!({"bold": true, "italic": true, "color": "red"})))
    );
    assert_eq!(
        c(base.clone(), Some(json!({"bold": false, "color": "blue"}))),
        Some(attrs(json!({"bold": false, "color": "blue"})))
    );
    assert_eq!(
        c(base.clone(), Some(json!({"bold": null}))),
        Some(attrs(json!({"color": "red"})))
    );
    assert_eq!(
        c(base.clone(), Some(json!({"bold": null, "color": null}))),
        None
    );
    assert_eq!(c(base, Some(json!({"italic": null}))), Some(a));
}

#[test]
fn attribute_diff_cases() {
    let f = || Some(attrs(json!({"bold": true, "color": "red"})));
    let diff = |x: Option<serde_json::Map<String, Value>>, y: Option<Value>| {
        am::diff(x.as_ref(), y.map(attrs).as_ref())
    };
    assert_eq!(diff(None, Some(json!({"bold": true, "color": "red"}))), f());
    assert_eq!(
        diff(f(), None),
        Some(attrs(json!({"bold": null, "color": null})))
    );
    assert_eq!(diff(f(), Some(json!({"bold": true, "color": "red"}))), None);
    assert_eq!(
        diff(
            f(),
            Some(json!({"bold": true, "italic": true, "color": "red"}))
        ),
        Some(attrs(json!({"italic": true})))
    );
    assert_eq!(
        diff(f(), Some(json!({"bold": true}))),
        Some(attrs(json!({"color": null})))
    );
    assert_eq!(
        diff(f(), Some(json!({"bold": true, "color": "blue"}))),
        Some(attrs(json!({"color": "blue"})))
    );
}

#[test]
fn attribute_invert_cases() {
    let inv = |x: Option<Value>, y: Option<Value>| {
        am::invert(x.map(attrs).as_ref(), y.map(attrs).as_ref())
    };
    assert_eq!(inv(None, Some(json!({"bold": true}))), attrs(json!({})));
    assert_eq!(
        inv(Some(json!({"bold": true})), None),
        attrs(json!({"bold": null}))
    );
    assert_eq!(inv(None, None), attrs(json!({})));
    assert_eq!(
        inv(Some(json!({"bold": true})), Some(json!({"italic": true}))),
        attrs(json!({"bold": null}))
    );
    assert_eq!(
        inv(Some(json!({"bold": null})), Some(json!({"bold": true}))),
        attrs(json!({"bold": true}))
    );
    assert_eq!(
        inv(
            Some(json!({"color": "red"})),
            Some(json!({"color": "blue"}))
        ),
        attrs(json!({"color": "blue"}))
    );
    assert_eq!(
        inv(Some(json!({"color": "red"})), Some(json!({"color": "red"}))),
        attrs(json!({}))
    );
    assert_eq!(
        inv(
            Some(json!({"bold": true, "italic": null, "color": "red", "size": "12px"})),
            Some(json!({"font": "serif", "italic": true, "color": "blue", "size": "12px"}))
        ),
        attrs(json!({"bold": null, "italic": true, "color": "blue"}))
    );
    // `===` never holds between two objects, so an equal nested value is still restored.
    assert_eq!(
        inv(
            Some(json!({"font": {"a": 1}})),
            Some(json!({"font": {"a": 1}}))
        ),
        attrs(json!({"font": {"a": 1}}))
    );
}

#[test]
fn attribute_transform_cases() {
    let left = json!({"bold": true, "color": "red", "font": null});
    let right = json!({"color": "blue", "font": "serif", "italic": true});
    let t = |x: Option<&Value>, y: Option<&Value>, p| {
        am::transform(
            x.cloned().map(attrs).as_ref(),
            y.cloned().map(attrs).as_ref(),
            p,
        )
    };
    assert_eq!(t(None, Some(&left), false), Some(attrs(left.clone())));
    assert_eq!(t(Some(&left), None, false), None);
    assert_eq!(t(None, None, false), None);
    assert_eq!(
        t(Some(&left), Some(&right), true),
        Some(attrs(json!({"italic": true})))
    );
    assert_eq!(t(Some(&left), Some(&right), false), Some(attrs(right)));
}

#[test]
fn builder_cases() {
    assert!(Delta::new().is_empty());
    assert!(
        Delta::new()
            .insert("", None)
            .delete(0)
            .retain(0, None)
            .is_empty()
    );
    // Trusted JSON is canonicalized on the way in (quill's constructor keeps ops as given).
    let ops = json!([{"insert":"abc"},{"retain":1,"attributes":{"color":"red"}},{"delete":4},
        {"insert":"def","attributes":{"bold":true}},{"retain":6}]);
    assert_eq!(
        serde_json::to_value(d(ops.clone())).unwrap(),
        json!([{"insert":"abc"},{"retain":1,"attributes":{"color":"red"}},
            {"insert":"def","attributes":{"bold":true}},{"delete":4},{"retain":6}])
    );
    assert_eq!(
        d(json!({"ops": [{"insert": "x"}]})),
        Delta::new().insert("x", None)
    );
    let json_of = |delta: Delta| serde_json::to_value(delta).unwrap();
    assert_eq!(
        json_of(Delta::new().insert("test", None)),
        json!([{"insert":"test"}])
    );
    assert_eq!(
        json_of(Delta::new().insert_embed(embed(json!({"embed":1})), None)),
        json!([{"insert":{"embed":1}}])
    );
    let obj = attrs(json!({"url": "http://quilljs.com", "alt": "Quill"}));
    assert_eq!(
        json_of(Delta::new().insert_embed(embed(json!({"embed":1})), Some(obj.clone()))),
        json!([{"insert":{"embed":1},"attributes":obj}])
    );
    assert_eq!(
        json_of(Delta::new().insert("test", Some(attrs(json!({"bold":true}))))),
        json!([{"insert":"test","attributes":{"bold":true}}])
    );
    assert_eq!(
        Delta::new().delete(1).insert("a", None),
        d(json!([{"insert":"a"},{"delete":1}]))
    );
    assert_eq!(
        Delta::new().insert("a", None).delete(1).insert("b", None),
        d(json!([{"insert":"ab"},{"delete":1}]))
    );
    assert_eq!(
        json_of(
            Delta::new()
                .insert_embed(embed(json!({"embed":1})), None)
                .delete(1)
                .insert("a", None)
        ),
        json!([{"insert":{"embed":1}},{"insert":"a"},{"delete":1}])
    );
    assert_eq!(
        Delta::new().insert("a", Some(attrs(json!({})))),
        Delta::new().insert("a", None)
    );
    assert!(Delta::new().delete(0).is_empty());
    assert_eq!(json_of(Delta::new().delete(1)), json!([{"delete":1}]));
    assert!(Delta::new().retain(0, None).is_empty());
    assert_eq!(json_of(Delta::new().retain(2, None)), json!([{"retain":2}]));
    assert_eq!(
        json_of(Delta::new().retain(1, Some(attrs(json!({"bold":true}))))),
        json!([{"retain":1,"attributes":{"bold":true}}])
    );
    assert_eq!(
        json_of(Delta::new().retain(2, Some(attrs(json!({})))).delete(1)),
        json!([{"retain":2},{"delete":1}])
    );
}

#[test]
fn push_cases() {
    let bold = || Some(attrs(json!({"bold": true})));
    let mut delta = Delta::new();
    delta.push(Op::insert_text("test", None));
    assert_eq!(delta.ops().len(), 1);
    let mut delta = Delta::new().delete(2);
    delta.push(Op::delete(3));
    assert_eq!(delta, d(json!([{"delete":5}])));
    let mut delta = Delta::new().insert("a", None);
    delta.push(Op::insert_text("b", None));
    assert_eq!(delta, d(json!([{"insert":"ab"}])));
    let mut delta = Delta::new().insert("a", bold());
    delta.push(Op::insert_text("b", bold()));
    assert_eq!(
        serde_json::to_value(&delta).unwrap(),
        json!([{"insert":"ab","attributes":{"bold":true}}])
    );
    let mut delta = Delta::new().retain(1, bold());
    delta.push(Op::retain(3, bold()));
    assert_eq!(
        serde_json::to_value(&delta).unwrap(),
        json!([{"retain":4,"attributes":{"bold":true}}])
    );
    let mut delta = Delta::new().insert("a", bold());
    delta.push(Op::insert_text("b", None));
    assert_eq!(delta.ops().len(), 2);
    let mut delta = Delta::new().retain(1, bold());
    delta.push(Op::retain(3, None));
    assert_eq!(delta.ops().len(), 2);
    let alt = || Some(attrs(json!({"alt": "Description"})));
    let mut delta = Delta::new().insert_embed(embed(json!({"embed":1})), alt());
    delta.push(Op::insert_embed(
        embed(json!({"url":"http://quilljs.com"})),
        alt(),
    ));
    assert_eq!(delta.ops().len(), 2);
}

#[test]
fn helper_cases() {
    let bold = || Some(attrs(json!({"bold": true})));
    // concat
    let test = Delta::new().insert("Test", None);
    assert_eq!(test.concat(&Delta::new()), test);
    assert_eq!(
        test.concat(&Delta::new().insert("!", bold())),
        Delta::new().insert("Test", None).insert("!", bold())
    );
    let mergeable = Delta::new().insert("Test", bold());
    assert_eq!(
        mergeable.concat(&Delta::new().insert("!", bold()).insert("\n", None)),
        Delta::new().insert("Test!", bold()).insert("\n", None)
    );
    assert_eq!(mergeable, Delta::new().insert("Test", bold()));
    // chop
    assert_eq!(
        Delta::new().insert("Test", None).retain(4, None).chopped(),
        test
    );
    assert_eq!(Delta::new().insert("Test", None).chopped(), test);
    let formatted = Delta::new().insert("Test", None).retain(4, bold());
    assert_eq!(formatted.clone().chopped(), formatted);
    // length and changeLength
    let doc = Delta::new()
        .insert("AB", bold())
        .insert_embed(embed(json!({"embed":1})), None);
    assert_eq!(doc.length(), 3);
    let mixed = doc.retain(2, Some(attrs(json!({"bold": null})))).delete(1);
    assert_eq!(mixed.length(), 6);
    let change = Delta::new()
        .insert("AB", bold())
        .retain(2, Some(attrs(json!({"bold": null}))))
        .delete(1);
    assert_eq!(change.change_length(), 1);
    assert_eq!(change.base_length(), 3);
}

#[test]
fn slice_cases() {
    let bold = || Some(attrs(json!({"bold": true})));
    let slice = |delta: Delta, start, end| delta.slice(start, end).unwrap();
    assert_eq!(
        slice(Delta::new().retain(2, None).insert("A", None), 2, u64::MAX),
        Delta::new().insert("A", None)
    );
    assert_eq!(
        slice(Delta::new().insert("0123456789", None), 2, 7),
        Delta::new().insert("23456", None)
    );
    assert_eq!(
        slice(
            Delta::new().insert("0123", bold()).insert("4567", None),
            3,
            5
        ),
        Delta::new().insert("3", bold()).insert("4", None)
    );
    assert_eq!(
        slice(
            Delta::new()
                .retain(2, None)
                .insert("A", bold())
                .insert("B", None),
            2,
            3
        ),
        Delta::new().insert("A", bold())
    );
    let whole = Delta::new()
        .retain(2, None)
        .insert("A", bold())
        .insert("B", None);
    assert_eq!(slice(whole.clone(), 0, u64::MAX), whole);
    assert_eq!(
        slice(Delta::new().insert("AB", bold()).insert("C", None), 1, 2),
        Delta::new().insert("B", bold())
    );
    assert_eq!(
        slice(Delta::new().insert("ABC", bold()).insert("D", None), 1, 2),
        Delta::new().insert("B", bold())
    );
    // UTF-16 offsets, and a refusal to cut a surrogate pair.
    assert_eq!(
        slice(Delta::new().insert("a😀b", None), 1, 3),
        Delta::new().insert("😀", None)
    );
    assert!(Delta::new().insert("a😀b", None).slice(2, 4).is_err());
}

#[test]
fn each_line_cases() {
    let doc = Delta::new()
        .insert("Hello\n\n", None)
        .insert("World", Some(attrs(json!({"bold": true}))))
        .insert_embed(embed(json!({"image": "octocat.png"})), None)
        .insert("\n", Some(attrs(json!({"align": "right"}))))
        .insert("!", None);
    let lines = doc.lines();
    assert_eq!(lines.len(), 4);
    assert_eq!(
        lines[0],
        (Delta::new().insert("Hello", None), attrs(json!({})))
    );
    assert_eq!(lines[1], (Delta::new(), attrs(json!({}))));
    assert_eq!(
        lines[2],
        (
            Delta::new()
                .insert("World", Some(attrs(json!({"bold": true}))))
                .insert_embed(embed(json!({"image": "octocat.png"})), None),
            attrs(json!({"align": "right"}))
        )
    );
    assert_eq!(lines[3], (Delta::new().insert("!", None), attrs(json!({}))));
    let lines = Delta::new().insert("Hello\nWorld!\n", None).lines();
    assert_eq!(
        lines,
        vec![
            (Delta::new().insert("Hello", None), attrs(json!({}))),
            (Delta::new().insert("World!", None), attrs(json!({}))),
        ]
    );
    assert!(Delta::new().retain(1, None).delete(2).lines().is_empty());
    // Lines after astral characters are found at the right UTF-16 offsets.
    let lines = Delta::new().insert("😀a\n👨‍👩‍👧b\nc", None).lines();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[1].0, Delta::new().insert("👨‍👩‍👧b", None));
}

#[test]
fn op_iterator_cases() {
    let delta = Delta::new()
        .insert("Hello", Some(attrs(json!({"bold": true}))))
        .retain(3, None)
        .insert_embed(
            embed(json!({"embed": 2})),
            Some(attrs(json!({"src": "http://quilljs.com/"}))),
        )
        .delete(4);
    assert!(OpIter::new(delta.ops()).has_next());
    assert!(!OpIter::new(&[]).has_next());
    let mut iter = OpIter::new(delta.ops());
    let mut lengths = vec![];
    let mut kinds = vec![];
    for _ in 0..4 {
        lengths.push(iter.peek_len());
        kinds.push(iter.peek_kind());
        iter.next(0).unwrap();
    }
    assert_eq!(lengths, [5, 3, 1, 4]);
    assert_eq!(
        kinds,
        [Kind::Insert, Kind::Retain, Kind::Insert, Kind::Delete]
    );
    assert_eq!(iter.peek_kind(), Kind::Retain);
    assert_eq!(iter.peek_len(), quire::ot::INFINITY);
    assert_eq!(iter.next(4).unwrap(), Op::retain(quire::ot::INFINITY, None));
    let mut iter = OpIter::new(delta.ops());
    iter.next(2).unwrap();
    assert_eq!(iter.peek_len(), 3);
    let mut iter = OpIter::new(delta.ops());
    for (i, op) in delta.ops().iter().enumerate() {
        assert_eq!(&iter.next(0).unwrap(), op, "op {i}");
    }
    let mut iter = OpIter::new(delta.ops());
    assert_eq!(
        iter.next(2).unwrap(),
        Op::insert_text("He", Some(attrs(json!({"bold": true}))))
    );
    assert_eq!(
        iter.next(10).unwrap(),
        Op::insert_text("llo", Some(attrs(json!({"bold": true}))))
    );
    assert_eq!(iter.next(1).unwrap(), Op::retain(1, None));
    assert_eq!(iter.next(2).unwrap(), Op::retain(2, None));
    let mut iter = OpIter::new(delta.ops());
    iter.next(2).unwrap();
    assert_eq!(
        iter.clone().rest().unwrap()[0],
        Op::insert_text("llo", Some(attrs(json!({"bold": true}))))
    );
    assert_eq!(iter.clone().rest().unwrap()[1..], delta.ops()[1..]);
    iter.next(3).unwrap();
    assert_eq!(iter.clone().rest().unwrap(), delta.ops()[1..]);
    iter.next(3).unwrap();
    iter.next(2).unwrap();
    iter.next(4).unwrap();
    assert!(iter.rest().unwrap().is_empty());
}
