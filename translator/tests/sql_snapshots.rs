//! Snapshots of the statements the translator plans for each shape of
//! request: the SQL and the parameters exactly as a host runs them (BEGIN,
//! the settings, the main statement, a planned count), and how the
//! transaction ends. Requests go through the public API (`Engine::plan`)
//! against the films schema of `testdata/` (directors, films → directors,
//! actors through roles) and two functions.
//!
//! A change to the generated SQL fails these tests with a diff. To review
//! it, run them with the `cargo-insta` tool and accept or reject each
//! change:
//!
//! ```sh
//! cargo insta test -p pgrest-translator --test sql_snapshots --review
//! ```
//!
//! or, without `cargo-insta`, rewrite the snapshots and read the diff in git:
//!
//! ```sh
//! INSTA_UPDATE=always cargo test -p pgrest-translator --test sql_snapshots
//! git diff translator/tests/snapshots
//! ```
//!
//! The `.snap` files under `tests/snapshots/` are committed; plain
//! `cargo test` compares against them and writes nothing in CI.

use std::fmt::Write as _;

use pgrest_translator::contract::{HttpRequest, Outcome, Param};
use pgrest_translator::engine::{self, Engine};

const TABLES: &str = include_str!("../testdata/films_tables.json");
const KEYS: &str = include_str!("../testdata/films_keys.json");

/// `public.films_since(year int) RETURNS SETOF films` (stable),
/// `public.add_them(a int, b int) RETURNS int` (volatile),
/// `public.tag_all(prefix character, VARIADIC tags text[]) RETURNS text[]`
/// and `public.echo(json) RETURNS json` (immutable).
const FUNCTIONS: &str = r#"[
 {"oid":1,"schema":"public","name":"films_since","description":null,
  "args":[{"name":"year","data_type":"integer","has_default":false,"variadic":false}],
  "return_type":"films","returns_set":true,"returns_void":false,"return_columns":null,
  "return_table":{"schema":"public","name":"films"},"media_type":null,"volatility":"s",
  "settings":[]},
 {"oid":2,"schema":"public","name":"add_them","description":null,
  "args":[{"name":"a","data_type":"integer","has_default":false,"variadic":false},
          {"name":"b","data_type":"integer","has_default":false,"variadic":false}],
  "return_type":"integer","returns_set":false,"returns_void":false,"return_columns":null,
  "return_table":null,"media_type":null,"volatility":"v","settings":[]},
 {"oid":3,"schema":"public","name":"tag_all","description":null,
  "args":[{"name":"prefix","data_type":"character","has_default":false,"variadic":false},
          {"name":"tags","data_type":"text[]","has_default":false,"variadic":true}],
  "return_type":"text[]","returns_set":false,"returns_void":false,"return_columns":null,
  "return_table":null,"media_type":null,"volatility":"i","settings":[]},
 {"oid":4,"schema":"public","name":"echo","description":null,
  "args":[{"name":"","data_type":"json","has_default":false,"variadic":false}],
  "return_type":"json","returns_set":false,"returns_void":false,"return_columns":null,
  "return_table":null,"media_type":null,"volatility":"i","settings":[]}]"#;

fn engine() -> Engine {
    let env = vec![("PGRST_DB_ANON_ROLE".to_string(), "web_anon".to_string())];
    let config = engine::resolve_config(None, &env, &[], &[])
        .and_then(|r| r.resolved())
        .expect("config")
        .config;
    let statements = engine::introspection(&config, 160_000)
        .expect("introspection statements")
        .len();
    // Results in the order of the introspection statements: tables,
    // foreign keys, view columns, computed relationships, functions; the
    // rest (role settings included) empty.
    let leading = [TABLES, KEYS, "[]", "[]", FUNCTIONS];
    let results: Vec<String> = (0..statements)
        .map(|i| leading.get(i).copied().unwrap_or("[]").to_string())
        .collect();
    Engine::load(&config, &results).expect("engine")
}

/// The plan of `method path?query` with `headers` and `body`, as text: each
/// statement's row use, SQL and parameters, then the transaction's end.
fn planned(method: &str, path: &str, query: &str, headers: &[(&str, &str)], body: &str) -> String {
    let req = HttpRequest {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body: body.as_bytes().to_vec(),
    };
    let plan = match engine().plan(&req, None, 0) {
        Outcome::Run(plan) => plan,
        Outcome::Reply(reply) => panic!(
            "not planned: {} {}",
            reply.response.status,
            String::from_utf8_lossy(&reply.response.body)
        ),
    };
    let mut out = String::new();
    for (i, statement) in plan.statements.iter().enumerate() {
        writeln!(out, "-- {i}: {:?}", statement.rows).unwrap();
        writeln!(out, "{}", statement.sql).unwrap();
        for (n, param) in statement.params.iter().enumerate() {
            let value = match param {
                Param::SqlNull => "NULL".to_string(),
                Param::Text(text) => format!("{text:?}"),
                Param::Bytes(bytes) => format!("bytes {bytes:?}"),
                Param::RequestBody => "the request body".to_string(),
            };
            writeln!(out, "  ${} = {value}", n + 1).unwrap();
        }
    }
    writeln!(out, "-- then: {:?}", plan.tx_end).unwrap();
    out
}

#[test]
fn read_with_filters_order_and_limit() {
    insta::assert_snapshot!(planned(
        "GET",
        "/films",
        "select=id,title&year=gte.2000&title=like.*a*&or=(id.lt.5,id.gt.50)&order=year.desc,id&limit=10&offset=20",
        &[],
        "",
    ));
}

#[test]
fn read_with_to_one_and_to_many_embeds() {
    insta::assert_snapshot!(planned(
        "GET",
        "/films",
        "select=title,directors(name),actors(name)&actors.order=name&actors.limit=3",
        &[],
        "",
    ));
}

#[test]
fn read_with_exact_count() {
    insta::assert_snapshot!(planned(
        "GET",
        "/films",
        "select=id&year=gt.1990",
        &[("prefer", "count=exact")],
        "",
    ));
}

#[test]
fn read_with_range_header() {
    insta::assert_snapshot!(planned(
        "GET",
        "/films",
        "order=id",
        &[("range", "10-19")],
        "",
    ));
}

#[test]
fn insert_returning_representation() {
    insta::assert_snapshot!(planned(
        "POST",
        "/films",
        "select=id,title",
        &[
            ("content-type", "application/json"),
            ("prefer", "return=representation"),
        ],
        r#"[{"id":1,"title":"A","year":2001},{"id":2,"title":"B","year":2002}]"#,
    ));
}

#[test]
fn upsert_on_conflict() {
    insta::assert_snapshot!(planned(
        "POST",
        "/films",
        "on_conflict=id",
        &[
            ("content-type", "application/json"),
            ("prefer", "resolution=merge-duplicates"),
        ],
        r#"{"id":1,"title":"A","year":2001}"#,
    ));
}

#[test]
fn patch() {
    insta::assert_snapshot!(planned(
        "PATCH",
        "/films",
        "id=eq.1",
        &[("content-type", "application/json")],
        r#"{"title":"B"}"#,
    ));
}

#[test]
fn delete() {
    insta::assert_snapshot!(planned("DELETE", "/films", "year=lt.1950", &[], ""));
}

#[test]
fn call_with_query_arguments() {
    insta::assert_snapshot!(planned(
        "GET",
        "/rpc/films_since",
        "year=2000&select=title&order=title",
        &[],
        "",
    ));
}

#[test]
fn call_with_json_body() {
    insta::assert_snapshot!(planned(
        "POST",
        "/rpc/add_them",
        "",
        &[("content-type", "application/json")],
        r#"{"a":1,"b":2}"#,
    ));
}

#[test]
fn call_with_repeated_variadic_arguments() {
    insta::assert_snapshot!(planned(
        "GET",
        "/rpc/tag_all",
        "prefix=abcd&tags=a&tags=b%22c",
        &[],
        "",
    ));
}

#[test]
fn call_with_columns_and_an_array_body() {
    insta::assert_snapshot!(planned(
        "POST",
        "/rpc/tag_all",
        "columns=prefix,tags",
        &[("content-type", "application/json")],
        r#"[{"prefix":"x","tags":["a"]},{"prefix":"y","tags":[]}]"#,
    ));
}

#[test]
fn call_with_the_empty_argument_name() {
    insta::assert_snapshot!(planned(
        "POST",
        "/rpc/echo",
        "",
        &[("content-type", "application/json")],
        r#"{"": 1}"#,
    ));
}
