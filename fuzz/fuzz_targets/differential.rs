//! The same request planned by the translator crate natively and by its
//! component under wasmtime (as the server runs it): the outcomes must be
//! equal, and so must `respond` (no rows) and `respond-error` on a plan's
//! context. The schema is the plan parity test's (tests/parity).
//!
//! Input: an HTTP request as text: `METHOD /path?query`, then `name: value`
//! header lines, then after an empty line the body.
#![no_main]

use std::sync::{Arc, LazyLock};

use libfuzzer_sys::fuzz_target;
use pgrest_host::component::{Compiled, Generation, wit};
use pgrest_translator::contract as c;
use pgrest_translator::engine::Engine;

// Shared with the parity test, which uses all of it.
#[allow(dead_code)]
#[path = "../../tests/it/from_wit.rs"]
mod from_wit;

const INTROSPECTION: &str = include_str!("../../tests/parity/introspection.json");
const NOW: i64 = 1_700_000_000;

struct Both {
    native: Engine,
    component: Generation,
}

static BOTH: LazyLock<Both> = LazyLock::new(|| {
    let env: Vec<(String, String)> = [
        ("PGRST_DB_SCHEMAS", "test"),
        ("PGRST_DB_ANON_ROLE", "Web Anon"),
        ("PGRST_DB_TX_END", "rollback-allow-override"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .to_vec();
    let compiled: Arc<Compiled> = Compiled::new().expect("component");
    let config = pgrest_host::settings::resolve_config(&compiled, None, &env, &[])
        .expect("configuration");
    let results: Vec<serde_json::Value> =
        serde_json::from_str(INTROSPECTION).expect("introspection.json");
    let results: Vec<String> = results
        .into_iter()
        .map(|v| match v {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        })
        .collect();
    let native = Engine::load(&config.config, &results).expect("native engine");
    let component = Generation::new(compiled, config, results).expect("component engine");
    Both { native, component }
});

fn request(text: &str) -> Option<c::HttpRequest> {
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.split('\n');
    let (method, target) = lines.next()?.split_once(' ')?;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some(c::HttpRequest {
        method: method.to_string(),
        path: path.to_string(),
        query: query.to_string(),
        headers,
        body: body.as_bytes().to_vec(),
    })
}

fuzz_target!(|text: &str| {
    let Some(req) = request(text) else { return };
    let both = &*BOTH;
    let native = both.native.plan(&req, None, NOW);
    let wit_req = wit::HttpRequest {
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        headers: req.headers.clone(),
        body: req.body.clone(),
    };
    let component = both
        .component
        .with_instance(|i| i.plan(&wit_req, None, NOW))
        .expect("the component plans without trapping");
    assert_eq!(native, from_wit::outcome(component), "plan of {req:?}");

    let c::Outcome::Run(plan) = native else {
        return;
    };
    let used = plan
        .statements
        .iter()
        .filter(|s| s.rows != c::RowUse::Ignore)
        .count();
    let results = vec![c::Rows::new(); used];
    let answer = both
        .component
        .with_instance(|i| i.respond(&plan.context, &results))
        .expect("the component responds without trapping");
    assert_eq!(
        both.native.respond(&plan.context, &results),
        from_wit::answer(answer)
    );
    let err = c::DbError {
        sqlstate: "23505".into(),
        message: "duplicate key value violates unique constraint".into(),
        detail: Some("Key (id)=(1) already exists.".into()),
        hint: None,
    };
    let wit_err = wit::DbError {
        sqlstate: err.sqlstate.clone(),
        message: err.message.clone(),
        detail: err.detail.clone(),
        hint: err.hint.clone(),
    };
    let response = both
        .component
        .with_instance(|i| i.respond_error(&plan.context, &wit_err))
        .expect("the component answers an error without trapping");
    assert_eq!(
        both.native.respond_error(&plan.context, &err),
        from_wit::response(response)
    );
});
