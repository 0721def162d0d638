//! A request cannot take the server down through the translator: nesting
//! past the grammar's bound is a 400, a guest stack overflow is a trap that
//! costs one call (on any native stack the caller has), and a call past
//! `server-translator-timeout` is a 500 for that request only.

use std::sync::Arc;

use pgrest_host::component::{Compiled, Generation, wit};
use pgrest_translator::api_request::query_params::MAX_DEPTH;

use crate::harness::{Server, base_env, get, request_on, shared};

/// `or=(and(or(…(id.eq.1)…)))`, `depth` logic operators deep.
fn nested_logic(depth: usize) -> String {
    let mut tree = "id.eq.1".to_string();
    for level in (0..depth).rev() {
        let op = if level % 2 == 0 { "or" } else { "and" };
        tree = format!("{op}({tree})");
    }
    format!("or={}", &tree[2..])
}

/// `select=a(a(…(id)…))`, `depth` embeds deep.
fn nested_select(depth: usize) -> String {
    format!("select={}id{}", "items(".repeat(depth), ")".repeat(depth))
}

#[tokio::test]
async fn nesting_past_the_bound_is_a_400_and_the_server_keeps_serving() {
    for query in [nested_logic(MAX_DEPTH + 1), nested_select(MAX_DEPTH + 1)] {
        let reply = get(&format!("/items?{query}")).await;
        assert_eq!(reply.status, 400, "{query}: {}", reply.text);
        assert_eq!(reply.body["code"], "PGRST100", "{}", reply.text);
    }
    // At the bound the logic tree plans (and runs).
    let reply = get(&format!("/items?{}", nested_logic(MAX_DEPTH))).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(get("/items?id=eq.1").await.status, 200);
}

/// A generation of `compiled` over the plan parity test's schema (its
/// `test.items`), with `server-translator-timeout` off.
fn generation(compiled: Arc<Compiled>) -> Generation {
    let env: Vec<(String, String)> = [
        ("PGRST_DB_SCHEMAS", "test"),
        ("PGRST_DB_ANON_ROLE", "Web Anon"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .to_vec();
    let config =
        pgrest_host::settings::resolve_config(&compiled, None, &env, &[]).expect("configuration");
    let text = std::fs::read_to_string("tests/parity/introspection.json").expect("introspection");
    let results: Vec<serde_json::Value> = serde_json::from_str(&text).expect("JSON array");
    let results = results
        .into_iter()
        .map(|v| match v {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        })
        .collect();
    Generation::new(compiled, config, results).expect("engine loads")
}

/// Plans `GET /items?query` on `generation`: `Ok(true)` when it planned
/// statements, `Err` when the call trapped.
fn plans(generation: &Generation, query: String) -> wasmtime::Result<bool> {
    let request = wit::HttpRequest {
        method: "GET".into(),
        path: "/items".into(),
        query,
        headers: vec![],
        body: vec![],
    };
    generation
        .with_instance(|i| i.plan(&request, None, 0))
        .map(|outcome| matches!(outcome, wit::Outcome::Run(_)))
}

#[test]
fn the_deepest_requests_accepted_fit_a_tenth_of_the_guest_stack() {
    let tenth = generation(Compiled::with_wasm_stack(100 << 10).expect("component"));
    assert!(plans(&tenth, nested_logic(MAX_DEPTH)).expect("no trap"));
    // No relationship items -> items: a 400, answered after parsing all 64 levels.
    assert!(!plans(&tenth, nested_select(MAX_DEPTH)).expect("no trap"));
}

#[test]
fn a_guest_stack_overflow_traps_and_costs_one_call() {
    // 12 KiB: enough for a plain read, too little for 64 nested logic trees
    // (they need between 16 and 24 KiB).
    let small = generation(Compiled::with_wasm_stack(12 << 10).expect("component"));
    let err = plans(&small, nested_logic(MAX_DEPTH)).expect_err("the deep tree overflows");
    assert!(
        format!("{err:#}").contains("overflowed its stack"),
        "{err:#}"
    );
    // The trapped instance was dropped: the next call gets a fresh one.
    assert!(plans(&small, "id=eq.1".into()).expect("no trap"));
}

/// Runs `f` with about `left` bytes of the current thread's stack left.
fn with_stack_left<R>(left: usize, f: impl FnOnce() -> R) -> R {
    if stacker::remaining_stack().expect("stack bounds known") > left + 4096 {
        let frame = std::hint::black_box([0u8; 2048]);
        let result = with_stack_left(left, f);
        std::hint::black_box(frame);
        result
    } else {
        f()
    }
}

#[test]
fn a_call_runs_whatever_native_stack_its_thread_has_left() {
    // The deep tree needs more than 16 KiB of guest stack alone: run into the
    // thread's guard page, it would abort the process; the call moves to a
    // stack segment of its own instead.
    let generation = generation(Compiled::new().expect("component"));
    let planned = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            with_stack_left(16 << 10, || {
                plans(&generation, nested_logic(MAX_DEPTH)).ok()
            })
        })
        .expect("thread")
        .join()
        .expect("the thread did not crash");
    assert_eq!(planned, Some(true));
}

#[tokio::test]
async fn a_call_past_the_translator_timeout_is_a_500_and_the_server_keeps_serving() {
    let mut env = base_env();
    env.push(("PGRST_SERVER_TRANSLATOR_TIMEOUT".into(), "1".into()));
    let server = Server::start(env);
    // Converting 16 MB of CSV to JSON takes the translator far longer than
    // the 10 to 20 ms a 1 ms timeout allows (the epoch ticks every 10 ms).
    let csv = format!("name\n{}", "some name\n".repeat(1_600_000));
    let reply = request_on(
        &server,
        reqwest::Method::POST,
        "/items",
        &[("content-type", "text/csv")],
        &csv,
    )
    .await;
    assert_eq!(reply.status, 500, "{}", reply.text);
    assert_eq!(reply.body["code"], "PGRSTX00");
    assert!(
        reply.body["details"]
            .as_str()
            .is_some_and(|d| d.contains("server-translator-timeout")),
        "{}",
        reply.text
    );
    let reply = request_on(&server, reqwest::Method::GET, "/items?id=eq.1", &[], "").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

/// The deadline grows with the body: a 4 MB CSV bulk insert (400,000 rows,
/// over a second of planning here) passes with the default timeout.
#[tokio::test]
async fn a_large_csv_bulk_insert_passes_with_the_default_timeout() {
    let csv = format!("note\n{}", "some note\n".repeat(400_000));
    let reply = request_on(
        shared(),
        reqwest::Method::POST,
        "/r_log",
        &[("content-type", "text/csv"), ("prefer", "return=minimal")],
        &csv,
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
}
