//! `/metrics` on the admin server: PostgREST's metric names, in the
//! Prometheus text format.

use std::fmt::Write as _;
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
    out
}
