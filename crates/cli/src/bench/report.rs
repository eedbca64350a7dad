//! The report: throughput, latency percentiles, errors and the status histogram, as text or
//! as one JSON object.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{json, Map, Value};

use super::scenarios::Outcome;

/// The figures of one run.
#[derive(Debug)]
pub struct Summary {
    pub scenario: String,
    pub url: String,
    pub duration_secs: f64,
    pub concurrency: u32,
    pub requests: u64,
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    /// Non-2xx answers plus requests without an answer.
    pub errors: u64,
    pub transport_errors: u64,
    pub statuses: BTreeMap<u16, u64>,
    pub first_error: Option<String>,
}

impl Summary {
    /// Computes the figures from what the workers measured.
    pub fn from_outcome(scenario: &str, url: &str, concurrency: u32, outcome: Outcome) -> Self {
        let answered = outcome.latencies_micros.len() as u64;
        let requests = answered + outcome.transport_errors;
        let duration_secs = outcome.elapsed.as_secs_f64();
        let failed_answers: u64 = outcome
            .statuses
            .iter()
            .filter(|(status, _)| !(200..300).contains(*status))
            .map(|(_, count)| count)
            .sum();
        let sorted = &outcome.latencies_micros;
        Self {
            scenario: scenario.to_owned(),
            url: url.to_owned(),
            duration_secs,
            concurrency,
            requests,
            requests_per_sec: if duration_secs > 0.0 {
                requests as f64 / duration_secs
            } else {
                0.0
            },
            p50_ms: percentile_ms(sorted, 0.50),
            p90_ms: percentile_ms(sorted, 0.90),
            p99_ms: percentile_ms(sorted, 0.99),
            p999_ms: percentile_ms(sorted, 0.999),
            max_ms: sorted
                .last()
                .map_or(0.0, |&micros| f64::from(micros) / 1000.0),
            errors: failed_answers + outcome.transport_errors,
            transport_errors: outcome.transport_errors,
            statuses: outcome.statuses,
            first_error: outcome.first_error,
        }
    }

    /// One JSON object with every figure.
    pub fn to_json(&self) -> Value {
        let statuses: Map<String, Value> = self
            .statuses
            .iter()
            .map(|(status, count)| (status.to_string(), Value::from(*count)))
            .collect();
        json!({
            "scenario": self.scenario,
            "url": self.url,
            "duration_secs": round3(self.duration_secs),
            "concurrency": self.concurrency,
            "requests": self.requests,
            "requests_per_sec": round3(self.requests_per_sec),
            "p50_ms": self.p50_ms,
            "p90_ms": self.p90_ms,
            "p99_ms": self.p99_ms,
            "p999_ms": self.p999_ms,
            "max_ms": self.max_ms,
            "errors": self.errors,
            "transport_errors": self.transport_errors,
            "statuses": statuses,
            "first_error": self.first_error,
        })
    }

    /// The human-readable report.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        let _ = writeln!(text, "scenario:      {}", self.scenario);
        let _ = writeln!(text, "url:           {}", self.url);
        let _ = writeln!(text, "duration:      {:.2} s", self.duration_secs);
        let _ = writeln!(text, "concurrency:   {}", self.concurrency);
        let _ = writeln!(text, "requests:      {}", self.requests);
        let _ = writeln!(text, "requests/s:    {:.1}", self.requests_per_sec);
        let _ = writeln!(
            text,
            "latency (ms):  p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}",
            self.p50_ms, self.p90_ms, self.p99_ms, self.p999_ms, self.max_ms
        );
        let _ = writeln!(
            text,
            "errors:        {} ({} without an answer)",
            self.errors, self.transport_errors
        );
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(status, count)| format!("{status}: {count}"))
            .collect();
        let _ = writeln!(text, "statuses:      {}", statuses.join(", "));
        if let Some(error) = &self.first_error {
            let _ = writeln!(text, "first error:   {error}");
        }
        text
    }
}

/// The nearest-rank percentile of sorted microseconds, in milliseconds.
fn percentile_ms(sorted_micros: &[u32], quantile: f64) -> f64 {
    if sorted_micros.is_empty() {
        return 0.0;
    }
    let rank = (quantile * sorted_micros.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted_micros.len()) - 1;
    sorted_micros
        .get(index)
        .map_or(0.0, |&micros| f64::from(micros) / 1000.0)
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let micros: Vec<u32> = (1..=1000).collect();
        assert_eq!(percentile_ms(&micros, 0.50), 0.5);
        assert_eq!(percentile_ms(&micros, 0.99), 0.99);
        assert_eq!(percentile_ms(&micros, 0.999), 0.999);
        assert_eq!(percentile_ms(&[7000], 0.5), 7.0);
        assert_eq!(percentile_ms(&[], 0.5), 0.0);
    }

    #[test]
    fn errors_count_failed_answers_and_missing_ones() {
        let outcome = Outcome {
            latencies_micros: vec![100, 200, 300],
            statuses: BTreeMap::from([(200, 2), (503, 1)]),
            transport_errors: 2,
            elapsed: std::time::Duration::from_secs(1),
            first_error: Some("503: busy".to_owned()),
        };
        let summary = Summary::from_outcome("healthz", "http://x", 4, outcome);
        assert_eq!(summary.requests, 5);
        assert_eq!(summary.errors, 3);
        let object = summary.to_json();
        assert_eq!(object["statuses"]["503"], 1);
        assert_eq!(object["requests_per_sec"], 5.0);
    }
}
