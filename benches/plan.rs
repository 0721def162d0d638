//! Planning each shape of the load benchmark (`benches/load.rs`: one row by
//! primary key, a 100-row page, one row with a to-one embed, one inserted
//! row, a call with 2 arguments), a representative read (3 columns, 3
//! filters including an `or`, order, limit), a 3-level embed (films → directors, films → actors through
//! a junction, filters on two levels) and a 100-row bulk insert (the JSON
//! body's keys are checked by the translator; PostgreSQL expands it):
//! natively with the translator crate, and through the wasm component with a
//! reused instance (the host's per-request cost of crossing the component
//! boundary, which for the insert includes copying the body in). Also a
//! `POST /rpc/f` with 5 named arguments (a function returning the items'
//! rows, so the call is read like a table).
//!
//! After each shape's two benches it prints component / native measured in
//! alternating batches, the figure to read for the "≤ 2× native" target.
//!
//! cargo bench --bench plan

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use pgrest_host::component::{Compiled, Generation, wit};
use pgrest_host::settings::resolve_config;
use pgrest_translator::contract::{HttpRequest, Outcome};
use pgrest_translator::engine::Engine;

mod common;

/// The introspection result of one table `public.items(a int, b text, c int)`.
const TABLES: &str = r#"[{"schema":"public","name":"items","is_view":false,"insertable":true,
  "updatable":true,"deletable":true,"description":null,"primary_key":["a"],
  "columns":[{"name":"a","data_type":"integer","nullable":false,"default":null,"description":null},
             {"name":"b","data_type":"text","nullable":true,"default":null,"description":null},
             {"name":"c","data_type":"integer","nullable":true,"default":null,"description":null}]}]"#;

/// `public.f(a int, b text, c int, d boolean, e date) RETURNS SETOF items`
/// and `public.add_them(a int, b int) RETURNS int`.
const FUNCTIONS: &str = r#"[{"oid":1,"schema":"public","name":"f","description":null,
  "args":[{"name":"a","data_type":"integer","has_default":false,"variadic":false},
          {"name":"b","data_type":"text","has_default":false,"variadic":false},
          {"name":"c","data_type":"integer","has_default":false,"variadic":false},
          {"name":"d","data_type":"boolean","has_default":true,"variadic":false},
          {"name":"e","data_type":"date","has_default":true,"variadic":false}],
  "return_type":"items","returns_set":true,"returns_void":false,"return_columns":null,
  "return_table":{"schema":"public","name":"items"},"media_type":null,"volatility":"s","settings":[]},
 {"oid":2,"schema":"public","name":"add_them","description":null,
  "args":[{"name":"a","data_type":"integer","has_default":false,"variadic":false},
          {"name":"b","data_type":"integer","has_default":false,"variadic":false}],
  "return_type":"integer","returns_set":false,"returns_void":false,"return_columns":null,
  "return_table":null,"media_type":null,"volatility":"v","settings":[]}]"#;

const QUERY: &str = "select=a,b,c&a=gte.1&b=like.*x*&or=(c.is.null,c.lt.10)&order=a.desc&limit=20";

/// `directors`, `films` (→ directors) and `actors`, joined by `roles`: the
/// introspection results the translator's embed tests use too.
const EMBED_TABLES: &str = include_str!("../translator/testdata/films_tables.json");
const EMBED_KEYS: &str = include_str!("../translator/testdata/films_keys.json");

const EMBED_QUERY: &str = "select=name,films(title,year,actors(name))\
    &films.year=gte.2000&films.actors.name=like.A*&films.order=year.desc&limit=20";

fn headers() -> Vec<(String, String)> {
    [
        ("host", "localhost:3000"),
        ("accept", "*/*"),
        ("user-agent", "bench"),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect()
}

fn planning(c: &mut Criterion) {
    let items: &[&str] = &[TABLES];
    let films: &[&str] = &[EMBED_TABLES, EMBED_KEYS];
    bench_case(c, "pk", items, "/items", "a=eq.4242");
    bench_case(
        c,
        "page-100",
        items,
        "/items",
        "order=a&limit=100&offset=1000",
    );
    bench_case(
        c,
        "embed-to-one",
        films,
        "/films",
        "select=title,directors(name)&id=eq.42",
    );
    bench_case(c, "read", items, "/items", QUERY);
    bench_case(c, "embed3", films, "/directors", EMBED_QUERY);
}

/// Benches planning `GET path?query` natively (`plan/<name>/native`) and
/// through the component (`plan/<name>/component`).
fn bench_case(c: &mut Criterion, name: &str, results: &[&str], path: &str, query: &str) {
    let env = vec![("PGRST_DB_ANON_ROLE".to_string(), "anon".to_string())];
    let compiled = Compiled::new().expect("component");
    let resolved = resolve_config(&compiled, None, &env, &[]).expect("config");
    let introspection = common::introspection(&resolved.config, results);

    let native = Engine::load(&resolved.config, &introspection).expect("native engine");
    let request = HttpRequest {
        method: "GET".into(),
        path: path.into(),
        query: query.into(),
        headers: headers(),
        body: Vec::new(),
    };

    let generation = Generation::new(compiled, resolved, introspection).expect("component engine");
    let wit_request = wit::HttpRequest {
        method: "GET".into(),
        path: path.into(),
        query: query.into(),
        headers: headers(),
        body: Vec::new(),
    };

    // Both must plan the same SQL, or the comparison means nothing.
    let Outcome::Run(native_plan) = native.plan(&request, None, 0) else {
        panic!("native planning failed")
    };
    let Ok(wit::Outcome::Run(component_plan)) =
        generation.with_instance(|i| i.plan(&wit_request, None, 0))
    else {
        panic!("component planning failed")
    };
    let sql = |plan: &[String]| plan.join(";\n");
    assert_eq!(
        sql(&native_plan
            .statements
            .iter()
            .map(|s| s.sql.clone())
            .collect::<Vec<_>>()),
        sql(&component_plan
            .statements
            .iter()
            .map(|s| s.sql.clone())
            .collect::<Vec<_>>()),
    );

    bench_both(
        c,
        name,
        || native.plan(black_box(&request), None, 0),
        || {
            generation
                .with_instance(|i| i.plan(black_box(&wit_request), None, 0))
                .expect("component plans")
        },
    );
}

/// POST of 100 rows as one JSON array, `return=minimal`.
fn bulk_insert_planning(c: &mut Criterion) {
    let rows: Vec<String> = (0..100)
        .map(|i| format!(r#"{{"a": {i}, "b": "row number {i}", "c": {}}}"#, i * 7))
        .collect();
    let body = format!("[{}]", rows.join(", "));
    let mut headers = headers();
    headers.push(("prefer".into(), "return=minimal".into()));
    bench_post(
        c,
        "bulk-insert-100",
        "/items",
        headers.clone(),
        body,
        "INSERT INTO",
    );
    let one = r#"{"a": 4242, "b": "one row", "c": 7}"#.to_string();
    bench_post(c, "insert-one", "/items", headers, one, "INSERT INTO");
}

/// `POST /rpc/f` with a JSON object of 5 named arguments.
fn rpc_planning(c: &mut Criterion) {
    let body = r#"{"a": 1, "b": "some text", "c": 42, "d": true, "e": "2024-01-31"}"#;
    bench_post(
        c,
        "rpc-5-args",
        "/rpc/f",
        headers(),
        body.to_string(),
        "json_to_record",
    );
    bench_post(
        c,
        "rpc-2-args",
        "/rpc/add_them",
        headers(),
        r#"{"a": 1, "b": 2}"#.to_string(),
        "json_to_record",
    );
}

/// Benches planning a JSON `POST` (`plan/<name>/native|component`); the
/// main statement must contain `expect`.
fn bench_post(
    c: &mut Criterion,
    name: &str,
    path: &str,
    mut headers: Vec<(String, String)>,
    body: String,
    expect: &str,
) {
    let env = vec![("PGRST_DB_ANON_ROLE".to_string(), "anon".to_string())];
    let compiled = Compiled::new().expect("component");
    let resolved = resolve_config(&compiled, None, &env, &[]).expect("config");
    let introspection =
        common::introspection(&resolved.config, &[TABLES, "[]", "[]", "[]", FUNCTIONS]);
    let native = Engine::load(&resolved.config, &introspection).expect("native engine");
    let generation = Generation::new(compiled, resolved, introspection).expect("component engine");

    headers.push(("content-type".into(), "application/json".into()));
    let body = body.into_bytes();
    let request = HttpRequest {
        method: "POST".into(),
        path: path.into(),
        query: String::new(),
        headers: headers.clone(),
        body: body.clone(),
    };
    let wit_request = wit::HttpRequest {
        method: "POST".into(),
        path: path.into(),
        query: String::new(),
        headers,
        body,
    };
    let Outcome::Run(plan) = native.plan(&request, None, 0) else {
        panic!("native planning failed")
    };
    assert!(plan.statements[2].sql.contains(expect));
    let Ok(wit::Outcome::Run(_)) = generation.with_instance(|i| i.plan(&wit_request, None, 0))
    else {
        panic!("component planning failed")
    };

    bench_both(
        c,
        name,
        || native.plan(black_box(&request), None, 0),
        || {
            generation
                .with_instance(|i| i.plan(black_box(&wit_request), None, 0))
                .expect("component plans")
        },
    );
}

/// Benches one shape natively (`plan/<name>/native`) and through the
/// component (`plan/<name>/component`), then prints component / native
/// measured in short alternating batches. Criterion runs the two benches
/// seconds apart and this machine's speed drifts in between, so the ratio of
/// their reports is not the ratio of the costs; interleaving cancels the drift.
fn bench_both<N, C>(
    c: &mut Criterion,
    name: &str,
    native: impl Fn() -> N,
    component: impl Fn() -> C,
) {
    c.bench_function(&format!("plan/{name}/native"), |b| b.iter(&native));
    c.bench_function(&format!("plan/{name}/component"), |b| b.iter(&component));

    const ROUNDS: usize = 41;
    const BATCH: u32 = 100;
    fn batch<R>(f: &impl Fn() -> R) -> f64 {
        let started = Instant::now();
        for _ in 0..BATCH {
            black_box(f());
        }
        started.elapsed().as_secs_f64()
    }
    batch(&native);
    batch(&component);
    let mut ratios: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let native = batch(&native);
            batch(&component) / native
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    println!(
        "plan/{name}: component / native {:.2}x interleaved (median of {ROUNDS} rounds of \
         {BATCH} calls each; quartiles {:.2}-{:.2})\n",
        ratios[ROUNDS / 2],
        ratios[ROUNDS / 4],
        ratios[3 * ROUNDS / 4],
    );
}

criterion_group!(benches, planning, bulk_insert_planning, rpc_planning);
criterion_main!(benches);
