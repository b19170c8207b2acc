//! `quire-bench capacity DIR`: the reports of repeated runs (`LABEL.REP.json`, written by scripts/capacity) as one
//! table of medians with their range, generator-bound runs marked and left out of the medians, and the capacity
//! sentence the README quotes, taken only from runs that measured the server.

use std::{collections::BTreeMap, fs, path::Path};

use anyhow::{Context, Result};
use serde_json::Value;

/// The most a capacity figure's median p99 may be: a delay people notice as lag in a shared document.
const CAPACITY_P99_MS: f64 = 100.0;

pub fn report(dir: &Path, commit: &str) -> Result<String> {
    let runs = read_runs(dir)?;
    let mut out = format!(
        "Machine: {} ({} CPUs), server on CPU 0 and generator on CPU 1; commit {commit}; {}\n\n",
        cpu_model(),
        cpus(),
        dir.display()
    );
    out.push_str(
        "| scenario | runs (generator-bound) | remote p50 ms | remote p99 ms (range) | server CPU % | CPU µs per delivery (range) | deliveries/s | completeness (min) | generator CPU % | generator lag p99 ms | KB per connection |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (label, reports) in &runs {
        out.push_str(&row(label, reports));
    }
    out.push('\n');
    out.push_str(&sentence(&runs));
    out.push('\n');
    Ok(out)
}

fn read_runs(dir: &Path) -> Result<BTreeMap<String, Vec<Value>>> {
    let mut runs: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let entries = fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(label) = name
            .strip_suffix(".json")
            .and_then(|stem| stem.rsplit_once('.'))
        else {
            continue;
        };
        let text = fs::read_to_string(&path).with_context(|| format!("reading {name}"))?;
        let report: Value =
            serde_json::from_str(&text).with_context(|| format!("{name} is not a report"))?;
        runs.entry(label.0.to_string()).or_default().push(report);
    }
    Ok(runs)
}

fn bound(report: &Value) -> bool {
    report["verdict"]["generator_bound"] == true
}

/// The runs that measured the server; when every run was generator-bound, all of them, so that the row still
/// shows what happened (marked as not the server's figures).
fn counted(reports: &[Value]) -> Vec<&Value> {
    let server_bound: Vec<&Value> = reports.iter().filter(|r| !bound(r)).collect();
    if server_bound.is_empty() {
        reports.iter().collect()
    } else {
        server_bound
    }
}

/// Median and range of `field` (a JSON pointer) over the counted runs.
fn spread(reports: &[Value], pointer: &str) -> Option<(f64, f64, f64)> {
    let mut values: Vec<f64> = counted(reports)
        .into_iter()
        .filter_map(|r| r.pointer(pointer).and_then(Value::as_f64))
        .collect();
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    let median = if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    };
    Some((median, values[0], values[values.len() - 1]))
}

fn median(reports: &[Value], pointer: &str) -> String {
    spread(reports, pointer).map_or("–".into(), |(m, _, _)| round(m))
}

fn with_range(reports: &[Value], pointer: &str) -> String {
    spread(reports, pointer).map_or("–".into(), |(m, lo, hi)| {
        format!("{} ({}–{})", round(m), round(lo), round(hi))
    })
}

fn round(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn row(label: &str, reports: &[Value]) -> String {
    let n_bound = reports.iter().filter(|r| bound(r)).count();
    let min_completeness = counted(reports)
        .into_iter()
        .filter_map(|r| r["completeness"].as_f64())
        .fold(f64::INFINITY, f64::min);
    let completeness = if min_completeness.is_finite() {
        min_completeness.to_string()
    } else {
        "–".into()
    };
    let marked = if n_bound == reports.len() {
        format!("{label} (every run generator-bound: not the server's figures)")
    } else {
        label.to_string()
    };
    format!(
        "| {marked} | {} ({n_bound}) | {} | {} | {} | {} | {} | {completeness} | {} | {} | {} |\n",
        reports.len(),
        median(reports, "/remote_ms/p50"),
        with_range(reports, "/remote_ms/p99"),
        median(reports, "/server_cpu_pct"),
        with_range(reports, "/server_cpu_us_per_delivery"),
        median(reports, "/deliveries_per_s"),
        median(reports, "/loadgen_cpu_pct"),
        median(reports, "/loadgen_lag_ms/p99"),
        median(reports, "/rss_kb_per_connection"),
    )
}

/// One document's capacity: the largest `nN` measured by the server, not the generator, with its median p99
/// under `CAPACITY_P99_MS` and every delivery made.
fn sentence(runs: &BTreeMap<String, Vec<Value>>) -> String {
    let mut candidates: Vec<(u64, f64, f64, f64, usize)> = runs
        .iter()
        .filter_map(|(label, reports)| {
            let people: u64 = label.strip_prefix('n')?.parse().ok()?;
            let n_counted = reports.iter().filter(|r| !bound(r)).count();
            let complete = reports
                .iter()
                .filter(|r| !bound(r))
                .all(|r| r["completeness"].as_f64() == Some(1.0));
            let (p99, lo, hi) = spread(reports, "/remote_ms/p99")?;
            (n_counted > 0 && complete && p99 <= CAPACITY_P99_MS)
                .then_some((people, p99, lo, hi, n_counted))
        })
        .collect();
    candidates.sort_by_key(|c| c.0);
    let Some(&(people, p99, lo, hi, counted)) = candidates.last() else {
        return "No nN scenario had a run that was not generator-bound with p99 under 100 ms: no capacity figure.".into();
    };
    let idle = runs
        .iter()
        .filter(|(label, _)| label.starts_with("idle"))
        .find_map(|(_, reports)| spread(reports, "/rss_kb_per_connection"))
        .map(|(kb, _, _)| format!(", and an idle connection costs about {} KB", round(kb)))
        .unwrap_or_default();
    format!(
        "Capacity, measured with scripts/capacity on {} ({} CPUs) with the server pinned to one core: one document holds {people} people typing at 2 keystrokes/s each with p99 remote latency of {} ms (median of {counted} runs, {}–{} ms; the largest number measured, by runs the load generator kept up with){idle}.",
        cpu_model(),
        cpus(),
        round(p99),
        round(lo),
        round(hi)
    )
}

fn cpu_model() -> String {
    fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| "an unknown CPU".into())
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(p99: f64, bound: bool) -> Value {
        json!({"remote_ms": {"p50": 1.0, "p99": p99}, "completeness": 1.0, "server_cpu_pct": 50.0,
               "server_cpu_us_per_delivery": 1.5, "deliveries_per_s": 1000.0, "loadgen_cpu_pct": 40.0,
               "loadgen_lag_ms": {"p99": 2.0}, "rss_kb_per_connection": 10.0,
               "verdict": {"generator_bound": bound}})
    }

    #[test]
    fn capacity_comes_only_from_runs_the_generator_kept_up_with() {
        let mut runs = BTreeMap::new();
        runs.insert(
            "n200".to_string(),
            vec![run(2.0, false), run(3.0, false), run(9.0, false)],
        );
        // n500: fast enough, but every run generator-bound; n700: measured but too slow.
        runs.insert("n500".to_string(), vec![run(20.0, true), run(25.0, true)]);
        runs.insert("n700".to_string(), vec![run(300.0, false)]);
        let said = sentence(&runs);
        assert!(said.contains("holds 200 people"), "{said}");
        assert!(
            said.contains("p99 remote latency of 3.00 ms (median of 3 runs, 2.00–9.00 ms"),
            "{said}"
        );
        // A generator-bound run is marked and left out of the medians.
        runs.insert("n300".to_string(), vec![run(4.0, false), run(400.0, true)]);
        assert!(sentence(&runs).contains("holds 300 people"));
        assert!(row("n300", &runs["n300"]).contains("| n300 | 2 (1) | 1.00 | 4.00 (4.00–4.00) |"));
        assert!(
            row("n500", &runs["n500"])
                .starts_with("| n500 (every run generator-bound: not the server's figures) | 2 (2) | 1.00 | 22.5 (20.0–25.0) |")
        );
    }
}
