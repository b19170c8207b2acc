//! Golden vectors from the real quill-delta 5.1.0 (`tools/ot-vectors`): for every committed
//! case, Rust must produce the same op structure for compose, transform (both priorities),
//! transformPosition (both priorities, every index), invert, eachLine and the AttributeMap
//! functions. Mismatches saved by the live differential run (`regressions/`) are checked too.

#[path = "../../examples/ot_driver.rs"]
mod driver;

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ot")
}

/// Compares one case; returns the names of the fields that differ.
fn mismatches(case: &Value) -> Vec<String> {
    let got = match driver::results(case) {
        Ok(got) => got,
        Err(err) => return vec![format!("error {err}")],
    };
    let expected = case["expected"].as_object().expect("expected results");
    expected
        .iter()
        .filter(|(field, want)| got.get(field.as_str()) != Some(*want))
        .map(|(field, want)| format!("{field}: quill {want} rust {}", got[field.as_str()]))
        .collect()
}

fn check_all(cases: impl Iterator<Item = Value>) -> usize {
    let mut n_cases = 0;
    let mut failures = Vec::new();
    for case in cases {
        n_cases += 1;
        let bad = mismatches(&case);
        if !bad.is_empty() && failures.len() < 10 {
            failures.push(format!(
                "case {} {}: {}",
                case["id"],
                case["doc"],
                bad.join("; ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    n_cases
}

#[test]
fn golden_vectors_match_quill_delta() {
    let file = std::fs::File::open(data_dir().join("vectors.jsonl.gz")).expect("vectors file");
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .expect("gunzip vectors");
    let mut lines = text.lines();
    let header: Value = serde_json::from_str(lines.next().expect("header")).expect("header json");
    assert_eq!(header["quill_delta"], "5.1.0");
    let n_cases = check_all(lines.map(|line| serde_json::from_str(line).expect("case json")));
    assert_eq!(n_cases as u64, header["count"].as_u64().unwrap());
    assert!(n_cases >= 10_000, "only {n_cases} golden vectors");
}

#[test]
fn saved_differential_mismatches_match_quill_delta() {
    let dir = data_dir().join("regressions");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let cases = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|entry| {
            serde_json::from_str(&std::fs::read_to_string(entry.path()).expect("read"))
                .expect("json")
        });
    check_all(cases);
}
