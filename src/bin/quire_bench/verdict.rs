//! Whether a run measured the server or the load generator: a generator that is late on its own timer or has no
//! CPU left sends and reads late, so its latencies and throughput are partly its own.

use serde_json::{Value, json};

/// The generator's 5 ms ticker was more than this late at p99, while it stamped frames with the time its loop read
/// them: a frame that arrived meanwhile was stamped up to that much late, the size of the latencies measured at
/// n10 to n100 (1 to 10 ms), so they would be the generator's as much as the server's.
pub const MAX_LAG_P99_MS: f64 = 10.0;

/// The same when the kernel stamped (nearly) every frame with its arrival (`stamped.rs`): a late loop no longer
/// makes a frame look late, but past the server's longest hold (25 ms) two held rounds can wait in one socket,
/// and one read then stamps the older with the newer's arrival, and the generator's own ops leave a round late.
pub const MAX_LAG_P99_MS_STAMPED: f64 = 25.0;

/// The share of received frames the kernel must have stamped for the looser limit.
pub const STAMPED_SHARE: f64 = 0.99;

/// The generator used more than this share of its core: reading sockets then waits behind its own work, which
/// the ticker does not always see (it runs between reads), so CPU is checked as well.
pub const MAX_CPU_PCT: f64 = 90.0;

/// `{"generator_bound": bool, "reasons": [...]}` for a report that has `loadgen_lag_ms` and `loadgen_cpu_pct`.
pub fn of(report: &Value) -> Value {
    let lag_p99 = report["loadgen_lag_ms"]["p99"].as_f64();
    let cpu = report["loadgen_cpu_pct"].as_f64();
    let stamped = report["arrivals_stamped"]
        .as_f64()
        .is_some_and(|share| share >= STAMPED_SHARE);
    let max_lag = if stamped {
        MAX_LAG_P99_MS_STAMPED
    } else {
        MAX_LAG_P99_MS
    };
    let mut reasons = Vec::new();
    if let Some(lag) = lag_p99.filter(|&lag| lag > max_lag) {
        reasons.push(format!("loop lag p99 {lag} ms > {max_lag} ms"));
    }
    if let Some(cpu) = cpu.filter(|&cpu| cpu > MAX_CPU_PCT) {
        reasons.push(format!("CPU {cpu} % > {MAX_CPU_PCT} %"));
    }
    json!({ "generator_bound": !reasons.is_empty(), "reasons": reasons })
}

/// Server CPU time per delivered op, in µs: the cost the hub pays to get one op to one other person.
pub fn cpu_us_per_delivery(report: &Value) -> Option<f64> {
    let cpu_pct = report["server_cpu_pct"].as_f64()?;
    let deliveries = report["deliveries_per_s"].as_f64().filter(|&d| d > 0.0)?;
    Some((cpu_pct / 100.0 / deliveries * 1e6 * 1000.0).round() / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(lag_p99: f64, cpu: f64) -> Value {
        json!({"loadgen_lag_ms": {"p99": lag_p99}, "loadgen_cpu_pct": cpu,
               "server_cpu_pct": 99.0, "deliveries_per_s": 500_000.0})
    }

    #[test]
    fn a_late_or_busy_generator_is_named() {
        assert_eq!(of(&report(2.0, 40.0))["generator_bound"], false);
        let late = of(&report(83.0, 40.0));
        assert_eq!(late["generator_bound"], true);
        assert_eq!(late["reasons"][0], "loop lag p99 83 ms > 10 ms");
        let busy = of(&report(2.0, 97.5));
        assert_eq!(busy["reasons"], json!(["CPU 97.5 % > 90 %"]));
        assert_eq!(
            of(&report(83.0, 97.5))["reasons"].as_array().map(Vec::len),
            Some(2)
        );
    }

    #[test]
    fn a_late_loop_is_forgiven_up_to_a_hold_only_when_the_kernel_stamped_the_arrivals() {
        let stamped = |lag: f64, share: f64| {
            let mut r = report(lag, 40.0);
            r["arrivals_stamped"] = json!(share);
            of(&r)
        };
        assert_eq!(stamped(20.0, 1.0)["generator_bound"], false);
        assert_eq!(
            stamped(20.0, 0.5)["generator_bound"],
            true,
            "most frames stamped by the loop"
        );
        assert_eq!(
            of(&report(20.0, 40.0))["generator_bound"],
            true,
            "no stamps reported"
        );
        assert_eq!(
            stamped(30.0, 1.0)["reasons"],
            json!(["loop lag p99 30 ms > 25 ms"])
        );
    }

    #[test]
    fn cost_per_delivery_is_cpu_seconds_over_deliveries() {
        assert_eq!(cpu_us_per_delivery(&report(1.0, 1.0)), Some(1.98));
        assert_eq!(
            cpu_us_per_delivery(&json!({"server_cpu_pct": 5.0, "deliveries_per_s": 0.0})),
            None
        );
    }
}
