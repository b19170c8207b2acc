//! The op that turns one document into another (for restoring a version): keep the common start and end,
//! replace the middle. Pure, so restores are ordinary ops that transform, broadcast and log like any edit.

use serde_json::Value;

use crate::ot::{Attributes, Delta, InsertValue, Op};

/// One character (or embed) of an insert-only document, with its formats.
#[derive(Debug, PartialEq)]
struct Unit<'a> {
    text: Option<char>,
    embed: Option<&'a serde_json::Map<String, Value>>,
    attributes: Option<&'a Attributes>,
}

impl Unit<'_> {
    fn len_utf16(&self) -> u64 {
        self.text.map_or(1, |ch| ch.len_utf16() as u64)
    }
}

fn units(doc: &Delta) -> Vec<Unit<'_>> {
    let mut units = Vec::new();
    for op in doc.ops() {
        if let Op::Insert { insert, attributes } = op {
            let attributes = attributes.as_ref();
            match insert {
                InsertValue::Text(text) => units.extend(text.as_str().chars().map(|ch| Unit {
                    text: Some(ch),
                    embed: None,
                    attributes,
                })),
                InsertValue::Embed(embed) => units.push(Unit {
                    text: None,
                    embed: Some(embed),
                    attributes,
                }),
            }
        }
    }
    units
}

/// A change that turns `from` into `to` (both insert-only documents).
pub fn replace_op(from: &Delta, to: &Delta) -> Delta {
    let (old, new) = (units(from), units(to));
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let max_suffix = old.len().min(new.len()) - prefix;
    let suffix = old
        .iter()
        .rev()
        .zip(new.iter().rev())
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();
    let prefix_units: u64 = old[..prefix].iter().map(Unit::len_utf16).sum();
    let old_middle: u64 = old[prefix..old.len() - suffix]
        .iter()
        .map(Unit::len_utf16)
        .sum();
    let new_middle: u64 = new[prefix..new.len() - suffix]
        .iter()
        .map(Unit::len_utf16)
        .sum();
    let mut change = Delta::new().retain(prefix_units, None);
    // Both bounds fall on unit (code point) boundaries, so the slice cannot split a surrogate pair.
    if let Ok(middle) = to.slice(prefix_units, prefix_units + new_middle) {
        for op in middle.into_ops() {
            change.push(op);
        }
    }
    change.delete(old_middle).chopped()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(value: serde_json::Value) -> Delta {
        Delta::from_json_unchecked(&value).unwrap()
    }

    #[test]
    fn turns_one_document_into_the_other() {
        let cases = [
            (
                json!([{"insert": "Hello world\n"}]),
                json!([{"insert": "Hello brave world\n"}]),
            ),
            (json!([{"insert": "a😀b\n"}]), json!([{"insert": "a😃b\n"}])),
            (json!([{"insert": "same\n"}]), json!([{"insert": "same\n"}])),
            (
                json!([{"insert": "Title"}, {"insert": "\n", "attributes": {"header": 1}}]),
                json!([{"insert": "Title\n"}]),
            ),
            (
                json!([{"insert": "bold", "attributes": {"bold": true}}, {"insert": "\n"}]),
                json!([{"insert": "bold\n"}]),
            ),
            (json!([{"insert": "x\n"}]), json!([{"insert": "\n"}])),
        ];
        for (from, to) in cases {
            let (from, to) = (doc(from), doc(to));
            let change = replace_op(&from, &to);
            assert_eq!(from.compose(&change), to, "{change:?}");
        }
    }
}
