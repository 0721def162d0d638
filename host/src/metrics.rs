//! `/metrics` on the admin server: PostgREST 16's metric names (schema
//! cache, pool, JWT cache), in the Prometheus text format (0.0.4), encoded by
//! `prometheus-client`. PostgREST has no request metrics; pgrest adds one
//! Prometheus-conventional histogram of its own,
//! `pgrst_request_duration_seconds{status="…"}` (its `_count` is the number
//! of requests answered with that status), and
//! `pgrest_component_instances_retired_total`.
//!
//! The format is the crate's Prometheus text encoder, not its OpenMetrics
//! one: PostgREST serves the Prometheus text format, so its users' scrapers
//! and dashboards see the same lines as from PostgREST — a counter's `# HELP`
//! and `# TYPE` name it with its `_total` (OpenMetrics names the family
//! without it), there is no `# EOF` and no `# UNIT` line, and the content
//! type stays `text/plain; version=0.0.4`. Each metric is encoded through
//! [`Described`] so that its help text is PostgREST's word for word
//! (`Registry::register` appends a full stop). What differs from the text
//! pgrest wrote by hand before: a float sample is written in the shortest
//! form that reads back exactly, with a decimal point (`0.0`, where `0` was
//! written), and a family's series (statuses) come in no fixed order.
//!
//! Answering a request takes no global lock: the status's histogram is found
//! in a [`Family`], whose read-write lock is taken for reading except when a
//! status is seen for the first time, and observed with atomic adds
//! ([`Durations`]; the crate's `Histogram` takes a mutex per observation).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet, prometheus_text,
};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::{Registry, Unit};

use crate::server::AppState;

/// The `Content-Type` of [`render`]'s text.
pub(crate) const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// The metrics the server updates as it goes; the pool, JWT cache and
/// component figures are read when scraped.
pub struct Metrics {
    /// Of the last successful schema cache load.
    query_time: Gauge<f64, AtomicU64>,
    loads: Family<LoadStatus, Counter>,
    pool_timeouts: Counter,
    requests: Family<Status, Durations>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LoadStatus {
    status: &'static str,
}

const LOAD_SUCCESS: LoadStatus = LoadStatus { status: "SUCCESS" };
const LOAD_FAIL: LoadStatus = LoadStatus { status: "FAIL" };

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Status {
    status: u16,
}

impl Default for Metrics {
    fn default() -> Self {
        let loads = Family::default();
        // Both series from the start, at 0, as PostgREST has them.
        for status in [LOAD_FAIL, LOAD_SUCCESS] {
            drop(loads.get_or_create(&status));
        }
        Metrics {
            query_time: Gauge::default(),
            loads,
            pool_timeouts: Counter::default(),
            requests: Family::default(),
        }
    }
}

impl Metrics {
    pub fn schema_cache_loaded(&self, took: Duration) {
        self.loads.get_or_create(&LOAD_SUCCESS).inc();
        self.query_time.set(took.as_secs_f64());
    }

    pub fn schema_cache_failed(&self) {
        self.loads.get_or_create(&LOAD_FAIL).inc();
    }

    pub fn pool_timed_out(&self) {
        self.pool_timeouts.inc();
    }

    /// One request answered, from its arrival to its response's head.
    pub fn request_served(&self, status: u16, took: Duration) {
        self.requests
            .get_or_create(&Status { status })
            .observe(took);
    }

    /// The metrics kept here, in `registry`.
    fn register(&self, registry: &mut Registry) {
        register(
            registry,
            "pgrst_schema_cache_query_time",
            Some(Unit::Seconds),
            "The query time in seconds of the last schema cache load",
            self.query_time.clone(),
        );
        register(
            registry,
            "pgrst_schema_cache_loads",
            None,
            "The total number of times the schema cache was loaded",
            self.loads.clone(),
        );
        register(
            registry,
            "pgrst_db_pool_timeouts",
            None,
            "The total number of pool connection timeouts",
            self.pool_timeouts.clone(),
        );
        register(
            registry,
            "pgrst_request_duration",
            Some(Unit::Seconds),
            "Time to answer a request, by response status",
            self.requests.clone(),
        );
    }
}

pub fn render(state: &AppState) -> String {
    // Built per scrape: the pool, the JWT cache and the component belong to
    // the server state, read here rather than held by the metrics.
    let mut registry = Registry::default();
    state.metrics.register(&mut registry);
    let pool = state.db.status();
    for (name, help, value) in [
        (
            "pgrst_db_pool_available",
            "Available connections in the pool",
            pool.available,
        ),
        (
            "pgrst_db_pool_waiting",
            "Requests waiting to acquire a pool connection",
            pool.waiting,
        ),
        ("pgrst_db_pool_max", "Max pool connections", pool.max_size),
    ] {
        register(&mut registry, name, None, help, ConstGauge::new(value));
    }
    let jwt = state.tokens.stats();
    for (name, help, counter) in [
        (
            "pgrst_jwt_cache_requests",
            "The total number of JWT cache lookups",
            &jwt.lookups,
        ),
        (
            "pgrst_jwt_cache_hits",
            "The total number of JWT cache hits",
            &jwt.hits,
        ),
        (
            "pgrst_jwt_cache_evictions",
            "The total number of JWT cache evictions",
            &jwt.evictions,
        ),
    ] {
        let value = ConstCounter::new(counter.load(Ordering::Relaxed));
        register(&mut registry, name, None, help, value);
    }
    let retired = state
        .generation
        .read()
        .expect("generation lock")
        .compiled()
        .instances_retired();
    register(
        &mut registry,
        "pgrest_component_instances_retired",
        None,
        "Translator instances dropped because a request grew their memory",
        ConstCounter::new(retired),
    );
    encode(&registry)
}

fn encode(registry: &Registry) -> String {
    let mut out = String::new();
    prometheus_text::encode(&mut out, registry).expect("writing to a String");
    out
}

/// `metric` under `name` (without the `_total` a counter's samples get, nor
/// the unit's suffix).
fn register<M>(
    registry: &mut Registry,
    name: &'static str,
    unit: Option<Unit>,
    help: &'static str,
    metric: M,
) where
    M: EncodeMetric + fmt::Debug + Send + Sync + 'static,
{
    registry.register_collector(Box::new(Described {
        name,
        unit,
        help,
        metric,
    }));
}

/// A metric with its help text as given.
#[derive(Debug)]
struct Described<M> {
    name: &'static str,
    unit: Option<Unit>,
    help: &'static str,
    metric: M,
}

impl<M> Collector for Described<M>
where
    M: EncodeMetric + fmt::Debug + Send + Sync + 'static,
{
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let metric = encoder.encode_descriptor(
            self.name,
            self.help,
            self.unit.as_ref(),
            self.metric.metric_type(),
        )?;
        self.metric.encode(metric)
    }
}

/// Upper bounds of the request-duration buckets, in seconds (Prometheus'
/// default buckets, from 5 ms to 10 s), then the `+Inf` bucket.
const BOUNDS: [f64; 12] = [
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    f64::INFINITY,
];

/// The request durations of one status.
#[derive(Debug, Default)]
struct Durations {
    /// Per bound, the observations not above it and above the bound before
    /// (not cumulative); the count is their total, so a scrape never sees a
    /// bucket above the count.
    buckets: [AtomicU64; BOUNDS.len()],
    sum_nanos: AtomicU64,
}

impl Durations {
    fn observe(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        let bucket = BOUNDS
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(BOUNDS.len() - 1);
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

impl TypedMetric for Durations {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for Durations {
    fn encode(&self, mut encoder: MetricEncoder) -> fmt::Result {
        let buckets: Vec<(f64, u64)> = BOUNDS
            .iter()
            .zip(&self.buckets)
            .map(|(&bound, n)| (bound, n.load(Ordering::Relaxed)))
            .collect();
        let count = buckets.iter().map(|(_, n)| n).sum();
        let sum = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
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
        let mut registry = Registry::default();
        m.register(&mut registry);
        let text = encode(&registry);
        let value = |series: &str| {
            let prefix = format!("pgrst_request_duration_seconds{series} ");
            text.lines().find_map(|l| l.strip_prefix(prefix.as_str()))
        };
        assert_eq!(value("_bucket{status=\"200\",le=\"0.005\"}"), Some("1"));
        assert_eq!(value("_bucket{status=\"200\",le=\"0.025\"}"), Some("1"));
        assert_eq!(value("_bucket{status=\"200\",le=\"0.05\"}"), Some("2"));
        assert_eq!(value("_bucket{status=\"200\",le=\"+Inf\"}"), Some("2"));
        assert_eq!(value("_count{status=\"200\"}"), Some("2"));
        assert_eq!(value("_sum{status=\"200\"}"), Some("0.033"));
        assert_eq!(value("_bucket{status=\"404\",le=\"10\"}"), Some("0"));
        assert_eq!(value("_bucket{status=\"404\",le=\"+Inf\"}"), Some("1"));
        assert_eq!(value("_count{status=\"404\"}"), Some("1"));
        // One +Inf bucket per status, however the bounds end.
        assert_eq!(text.matches("le=\"+Inf\"").count(), 2);
        assert!(
            text.contains(
                "# HELP pgrst_request_duration_seconds Time to answer a request, by response status\n\
                 # TYPE pgrst_request_duration_seconds histogram\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn counters_keep_their_total_and_postgrest_help() {
        let m = Metrics::default();
        m.schema_cache_loaded(Duration::from_millis(12));
        m.pool_timed_out();
        let mut registry = Registry::default();
        m.register(&mut registry);
        let text = encode(&registry);
        for line in [
            "# HELP pgrst_schema_cache_query_time_seconds The query time in seconds of the last schema cache load",
            "# TYPE pgrst_schema_cache_query_time_seconds gauge",
            "pgrst_schema_cache_query_time_seconds 0.012",
            "# HELP pgrst_schema_cache_loads_total The total number of times the schema cache was loaded",
            "# TYPE pgrst_schema_cache_loads_total counter",
            "pgrst_schema_cache_loads_total{status=\"SUCCESS\"} 1",
            "pgrst_schema_cache_loads_total{status=\"FAIL\"} 0",
            "# TYPE pgrst_db_pool_timeouts_total counter",
            "pgrst_db_pool_timeouts_total 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in {text}");
        }
        assert!(
            !text.contains("# EOF") && !text.contains("# UNIT"),
            "{text}"
        );
    }
}
