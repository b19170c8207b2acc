//! The Rust side of the live differential run against quill-delta: reads one JSON case per
//! line on stdin, writes `{"id", "results"}` per line on stdout. `tests/it/ot_vectors.rs`
//! uses `results` to check the committed golden vectors.

use std::io::{BufRead, BufWriter, Write};

use quire::ot::{Attributes, Delta, attributes as am};
use serde_json::{Value, json};

/// Everything `tools/ot-vectors/cases.js` `results()` computes with quill-delta, for one case.
pub fn results(case: &Value) -> Result<Value, String> {
    let delta =
        |key: &str| Delta::from_json_unchecked(&case[key]).map_err(|err| format!("{key}: {err}"));
    let (doc, a, b, c) = (delta("doc")?, delta("a")?, delta("b")?, delta("c")?);
    let map = |key: &str| -> Option<Attributes> { case[key].as_object().cloned() };
    let (x, y) = (map("x"), map("y"));
    let (x, y) = (x.as_ref(), y.as_ref());
    let after = doc.compose(&a);
    let positions: Vec<Value> = (0..=doc.length() + 1)
        .map(|i| {
            json!([
                a.transform_position(i, true),
                a.transform_position(i, false)
            ])
        })
        .collect();
    let lines: Vec<Value> = after
        .lines()
        .into_iter()
        .map(|(line, attributes)| json!([line, attributes]))
        .collect();
    Ok(json!({
        "compose_doc_a": after,
        "compose_a_c": a.compose(&c),
        "transform_true": a.transform(&b, true),
        "transform_false": a.transform(&b, false),
        "transform_position": positions,
        "invert": a.invert(&doc),
        "lengths": [a.length(), a.change_length()],
        "lines": lines,
        "attr_compose_keep": am::compose(x, y, true),
        "attr_compose": am::compose(x, y, false),
        "attr_transform_true": am::transform(x, y, true),
        "attr_transform_false": am::transform(x, y, false),
        "attr_diff": am::diff(x, y),
        "attr_invert": am::invert(x, y),
    }))
}

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let stdin = std::io::stdin().lock();
    let mut out = BufWriter::new(std::io::stdout().lock());
    for line in stdin.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let case: Value = serde_json::from_str(&line)?;
        let reply = match results(&case) {
            Ok(results) => json!({"id": case["id"], "results": results}),
            Err(err) => json!({"id": case["id"], "error": err}),
        };
        serde_json::to_writer(&mut out, &reply)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}
