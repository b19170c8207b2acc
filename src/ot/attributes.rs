//! Attribute maps and quill-delta's `AttributeMap` functions: compose, transform, diff, invert.
//!
//! JSON has no `undefined`, so "absent" is a missing key and `null` is a present key whose
//! value removes a format. Equality follows JS: `lodash.isEqual` compares numbers by value
//! (`1 == 1.0`), and `===` (used by `invert`) never holds between two objects or arrays.

use serde_json::Value;

/// A format map such as `{"bold": true}`. In a change, `null` removes a format.
pub type Attributes = serde_json::Map<String, Value>;

/// `lodash.isEqual` on JSON values.
pub fn js_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| js_equal(x, y))
        }
        (Value::Object(x), Value::Object(y)) => maps_equal(x, y),
        _ => a == b,
    }
}

/// `lodash.isEqual` on two maps: same keys, equal values, in any order.
pub fn maps_equal(a: &Attributes, b: &Attributes) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(k, v)| b.get(k).is_some_and(|w| js_equal(v, w)))
}

/// `lodash.isEqual` on optional attributes, where a missing map is `undefined`.
pub fn attributes_equal(a: Option<&Attributes>, b: Option<&Attributes>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => maps_equal(a, b),
        _ => false,
    }
}

/// JS `===` on JSON values parsed separately: objects and arrays are distinct references.
fn js_strict_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(_) | Value::Array(_), _) | (_, Value::Object(_) | Value::Array(_)) => false,
        _ => js_equal(a, b),
    }
}

/// `AttributeMap.compose(a, b, keepNull)`: `b` wins per key; `a`'s keys fill the rest.
/// Without `keep_null`, `b`'s nulls are dropped (they removed the format from `a`).
pub fn compose(
    a: Option<&Attributes>,
    b: Option<&Attributes>,
    keep_null: bool,
) -> Option<Attributes> {
    let mut res = Attributes::new();
    if let Some(b) = b {
        for (k, v) in b {
            if keep_null || !v.is_null() {
                res.insert(k.clone(), v.clone());
            }
        }
    }
    if let Some(a) = a {
        for (k, v) in a {
            if b.is_none_or(|b| !b.contains_key(k)) {
                res.insert(k.clone(), v.clone());
            }
        }
    }
    non_empty(res)
}

/// `AttributeMap.diff(a, b)`: the formats that turn `a` into `b` (`null` removes).
pub fn diff(a: Option<&Attributes>, b: Option<&Attributes>) -> Option<Attributes> {
    let empty = Attributes::new();
    let (a, b) = (a.unwrap_or(&empty), b.unwrap_or(&empty));
    let mut res = Attributes::new();
    for k in a.keys().chain(b.keys()) {
        let same = match (a.get(k), b.get(k)) {
            (Some(x), Some(y)) => js_equal(x, y),
            (None, None) => true,
            _ => false,
        };
        if !same {
            res.insert(k.clone(), b.get(k).cloned().unwrap_or(Value::Null));
        }
    }
    non_empty(res)
}

/// `AttributeMap.invert(attr, base)`: the formats that undo `attr` applied over `base`.
/// Returns a possibly empty map, as quill-delta does.
pub fn invert(attr: Option<&Attributes>, base: Option<&Attributes>) -> Attributes {
    let empty = Attributes::new();
    let (attr, base) = (attr.unwrap_or(&empty), base.unwrap_or(&empty));
    let mut res = Attributes::new();
    for (k, v) in base {
        if attr.get(k).is_some_and(|a| !js_strict_equal(v, a)) {
            res.insert(k.clone(), v.clone());
        }
    }
    for k in attr.keys() {
        if !base.contains_key(k) {
            res.insert(k.clone(), Value::Null);
        }
    }
    res
}

/// `AttributeMap.transform(a, b, priority)`: `b` rebased over a concurrent `a`. With priority,
/// `a` already set the keys it names (a `null` in `a` counts as set).
pub fn transform(
    a: Option<&Attributes>,
    b: Option<&Attributes>,
    priority: bool,
) -> Option<Attributes> {
    let Some(a) = a else {
        return b.cloned();
    };
    let b = b?;
    if !priority {
        return Some(b.clone());
    }
    let res: Attributes = b
        .iter()
        .filter(|(k, _)| !a.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    non_empty(res)
}

fn non_empty(map: Attributes) -> Option<Attributes> {
    if map.is_empty() { None } else { Some(map) }
}
