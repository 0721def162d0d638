//! `/metrics` on the admin server: PostgREST 16's metric names (schema
//! cache, pool, JWT cache), in the Prometheus text format. PostgREST has no
//! request metrics; pgrest adds
//! one Prometheus-conventional histogram of its own,
//! `pgrst_request_duration_seconds{status="…"}` (its `_count` is the number
//! of requests answered with that status), and
//! `pgrest_component_instances_retired_total`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::server::AppState;

#[derive(Default)]
pub struct Metrics {
    loads_ok: AtomicU64,
    loads_failed: AtomicU64,
    /// Of the last successful schema cache load.
    query_time_micros: AtomicU64,
    pool_timeouts: AtomicU64,
    /// By status, in status order.
    requests: Mutex<BTreeMap<u16, Histogram>>,
}

/// Upper bounds of the request-duration buckets, in seconds (Prometheus'
/// default buckets, from 5 ms to 10 s).
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
struct Histogram {
    /// Per bucket, the observations not above its bound (not cumulative).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

impl Metrics {
    pub fn schema_cache_loaded(&self, took: Duration) {
        self.loads_ok.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.query_time_micros.store(micros, Ordering::Relaxed);
    }

    pub fn schema_cache_failed(&self) {
        self.loads_failed.fetch_add(1, Ordering::Relaxed);
    }

    pub fn pool_timed_out(&self) {
        self.pool_timeouts.fetch_add(1, Ordering::Relaxed);
    }

    /// One request answered, from its arrival to its response's head.
    pub fn request_served(&self, status: u16, took: Duration) {
        let seconds = took.as_secs_f64();
        let mut requests = self.requests.lock().expect("metrics lock");
        let h = requests.entry(status).or_default();
        if let Some(i) = BUCKETS.iter().position(|&bound| seconds <= bound) {
            h.buckets[i] += 1;
        }
        h.count += 1;
        h.sum_seconds += seconds;
    }

    /// The request histogram's sample lines.
    fn request_samples(&self) -> Vec<(String, String)> {
        let requests = self.requests.lock().expect("metrics lock");
        let mut samples = Vec::new();
        for (status, h) in requests.iter() {
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(h.buckets) {
                cumulative += n;
                samples.push((
                    format!("_bucket{{status=\"{status}\",le=\"{bound}\"}}"),
                    cumulative.to_string(),
                ));
            }
            samples.push((
                format!("_bucket{{status=\"{status}\",le=\"+Inf\"}}"),
                h.count.to_string(),
            ));
            samples.push((
                format!("_sum{{status=\"{status}\"}}"),
                h.sum_seconds.to_string(),
            ));
            samples.push((
                format!("_count{{status=\"{status}\"}}"),
                h.count.to_string(),
            ));
        }
        samples
    }
}

pub fn render(state: &AppState) -> String {
    let m = &state.metrics;
    let pool = state.db.status();
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(&str, String)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let load = |c: &AtomicU64| c.load(Ordering::Relaxed).to_string();
    metric(
        "pgrst_schema_cache_query_time_seconds",
        "gauge",
        "The query time in seconds of the last schema cache load",
        &[(
            "",
            (m.query_time_micros.load(Ordering::Relaxed) as f64 / 1e6).to_string(),
        )],
    );
    metric(
        "pgrst_schema_cache_loads_total",
        "counter",
        "The total number of times the schema cache was loaded",
        &[
            ("{status=\"FAIL\"}", load(&m.loads_failed)),
            ("{status=\"SUCCESS\"}", load(&m.loads_ok)),
        ],
    );
    metric(
        "pgrst_db_pool_timeouts_total",
        "counter",
        "The total number of pool connection timeouts",
        &[("", load(&m.pool_timeouts))],
    );
    metric(
        "pgrst_db_pool_available",
        "gauge",
        "Available connections in the pool",
        &[("", pool.available.to_string())],
    );
    metric(
        "pgrst_db_pool_waiting",
        "gauge",
        "Requests waiting to acquire a pool connection",
        &[("", pool.waiting.to_string())],
    );
    metric(
        "pgrst_db_pool_max",
        "gauge",
        "Max pool connections",
        &[("", pool.max_size.to_string())],
    );
    let jwt = state.tokens.stats();
    for (name, help, counter) in [
        (
            "pgrst_jwt_cache_requests_total",
            "The total number of JWT cache lookups",
            &jwt.lookups,
        ),
        (
            "pgrst_jwt_cache_hits_total",
            "The total number of JWT cache hits",
            &jwt.hits,
        ),
        (
            "pgrst_jwt_cache_evictions_total",
            "The total number of JWT cache evictions",
            &jwt.evictions,
        ),
    ] {
        metric(name, "counter", help, &[("", load(counter))]);
    }
    let retired = state
        .generation
        .read()
        .expect("generation lock")
        .compiled()
        .instances_retired();
    metric(
        "pgrest_component_instances_retired_total",
        "counter",
        "Translator instances dropped because a request grew their memory",
        &[("", retired.to_string())],
    );
    let requests = m.request_samples();
    let requests: Vec<(&str, String)> = requests
        .iter()
        .map(|(suffix, value)| (suffix.as_str(), value.clone()))
        .collect();
    metric(
        "pgrst_request_duration_seconds",
        "histogram",
        "Time to answer a request, by response status",
        &requests,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_histogram_is_cumulative_by_status() {
        let m = Metrics::default();
        m.request_served(200, Duration::from_millis(3));
        m.request_served(200, Duration::from_millis(30));
        m.request_served(404, Duration::from_secs(20));
        let samples = m.request_samples();
        let value = |name: &str| {
            samples
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(value("_bucket{status=\"200\",le=\"0.005\"}"), Some("1"));
        assert_eq!(value("_bucket{status=\"200\",le=\"0.025\"}"), Some("1"));
        assert_eq!(value("_bucket{status=\"200\",le=\"0.05\"}"), Some("2"));
        assert_eq!(value("_bucket{status=\"200\",le=\"+Inf\"}"), Some("2"));
        assert_eq!(value("_count{status=\"200\"}"), Some("2"));
        assert_eq!(value("_bucket{status=\"404\",le=\"10\"}"), Some("0"));
        assert_eq!(value("_count{status=\"404\"}"), Some("1"));
        // Statuses in order, 200's lines first.
        assert!(samples[0].0.contains("\"200\""));
    }
}
