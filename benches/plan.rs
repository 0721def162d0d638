//! Planning a representative read (3 columns, 3 filters including an `or`,
//! order, limit), a 3-level embed (films → directors, films → actors through
//! a junction, filters on two levels) and a 100-row bulk insert (the JSON
//! body's keys are checked by the translator; PostgreSQL expands it):
//! natively with the translator crate, and through the wasm component with a
//! reused instance (the host's per-request cost of crossing the component
//! boundary, which for the insert includes copying the body in). Also a
//! `POST /rpc/f` with 5 named arguments (a function returning the items'
//! rows, so the call is read like a table).
//!
//! cargo bench --bench plan

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use pgrest_host::component::{Compiled, Generation, wit};
use pgrest_translator::contract::{HttpRequest, Outcome};
use pgrest_translator::engine::{self, Engine};

/// The introspection result of one table `public.items(a int, b text, c int)`.
const TABLES: &str = r#"[{"schema":"public","name":"items","is_view":false,"insertable":true,
  "updatable":true,"deletable":true,"description":null,"primary_key":["a"],
  "columns":[{"name":"a","data_type":"integer","nullable":false,"default":null,"description":null},
             {"name":"b","data_type":"text","nullable":true,"default":null,"description":null},
             {"name":"c","data_type":"integer","nullable":true,"default":null,"description":null}]}]"#;

/// `public.f(a int, b text, c int, d boolean, e date) RETURNS SETOF items`.
const FUNCTIONS: &str = r#"[{"oid":1,"schema":"public","name":"f","description":null,
  "args":[{"name":"a","data_type":"integer","has_default":false,"variadic":false},
          {"name":"b","data_type":"text","has_default":false,"variadic":false},
          {"name":"c","data_type":"integer","has_default":false,"variadic":false},
          {"name":"d","data_type":"boolean","has_default":true,"variadic":false},
          {"name":"e","data_type":"date","has_default":true,"variadic":false}],
  "return_type":"items","returns_set":true,"returns_void":false,"return_columns":null,
  "return_table":{"schema":"public","name":"items"},"media_type":null,"volatility":"s","settings":[]}]"#;

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
    let none = "[]".to_string();
    // The schema cache's seven results, then the role settings.
    let read = vec![
        TABLES.to_string(),
        none.clone(),
        none.clone(),
        none.clone(),
        none.clone(),
        none.clone(),
        none.clone(),
        none.clone(),
    ];
    bench_case(c, "read", read, "/items", QUERY);
    let embed = vec![
        EMBED_TABLES.to_string(),
        EMBED_KEYS.to_string(),
        none.clone(),
        none.clone(),
        none.clone(),
        none.clone(),
        none.clone(),
        none,
    ];
    bench_case(c, "embed3", embed, "/directors", EMBED_QUERY);
}

/// Benches planning `GET path?query` natively (`plan/<name>/native`) and
/// through the component (`plan/<name>/component`).
fn bench_case(c: &mut Criterion, name: &str, introspection: Vec<String>, path: &str, query: &str) {
    let env = vec![("PGRST_DB_ANON_ROLE".to_string(), "anon".to_string())];
    let config = engine::resolve_config(None, &env, &[]).expect("config");

    let native = Engine::load(&config, &introspection).expect("native engine");
    let request = HttpRequest {
        method: "GET".into(),
        path: path.into(),
        query: query.into(),
        headers: headers(),
        body: Vec::new(),
    };

    let compiled = Compiled::new().expect("component");
    let generation = Generation::new(compiled, config, introspection).expect("component engine");
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

    c.bench_function(&format!("plan/{name}/native"), |b| {
        b.iter(|| native.plan(black_box(&request), None, 0))
    });
    c.bench_function(&format!("plan/{name}/component"), |b| {
        b.iter(|| {
            generation
                .with_instance(|i| i.plan(black_box(&wit_request), None, 0))
                .expect("component plans")
        })
    });
}

/// POST of 100 rows as one JSON array, `return=minimal`.
fn bulk_insert_planning(c: &mut Criterion) {
    let rows: Vec<String> = (0..100)
        .map(|i| format!(r#"{{"a": {i}, "b": "row number {i}", "c": {}}}"#, i * 7))
        .collect();
    let body = format!("[{}]", rows.join(", "));
    let mut headers = headers();
    headers.push(("prefer".into(), "return=minimal".into()));
    bench_post(c, "bulk-insert-100", "/items", headers, body, "INSERT INTO");
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
    let config = engine::resolve_config(None, &env, &[]).expect("config");
    let none = "[]".to_string();
    let introspection = vec![
        TABLES.to_string(),
        none.clone(),
        none.clone(),
        none.clone(),
        FUNCTIONS.to_string(),
        none.clone(),
        none.clone(),
        none,
    ];
    let native = Engine::load(&config, &introspection).expect("native engine");
    let compiled = Compiled::new().expect("component");
    let generation = Generation::new(compiled, config, introspection).expect("component engine");

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

    c.bench_function(&format!("plan/{name}/native"), |b| {
        b.iter(|| native.plan(black_box(&request), None, 0))
    });
    c.bench_function(&format!("plan/{name}/component"), |b| {
        b.iter(|| {
            generation
                .with_instance(|i| i.plan(black_box(&wit_request), None, 0))
                .expect("component plans")
        })
    });
}

criterion_group!(benches, planning, bulk_insert_planning, rpc_planning);
criterion_main!(benches);
