//! Plan parity: the corpus in tests/parity/requests.txt goes through the
//! translator three ways — the crate natively, the component under wasmtime
//! (pgrest-host's loader) and the component under jco/Node
//! (tests/hosts/node/parity.mjs) — and every output must be identical: the
//! `plan` outcome (SQL, parameters, row use, tx-end, context), `respond` on
//! fixed synthetic results, `respond-error` on fixed database errors, and the
//! engine-less exports. The engine loads a committed introspection result
//! (tests/parity/introspection.json), so no database is needed.
//!
//! After a change to the fixtures or to the introspection SQL, refresh it with
//! `cargo test --test it regenerate_parity_introspection -- --ignored`.

use std::io::Write;
use std::process::{Command, Stdio};

use pgrest_host::component::{Compiled, Generation, Instance, wit};
use pgrest_translator::contract as c;
use pgrest_translator::engine;
use serde_json::{Value, json};

use crate::from_wit;
use crate::jco;

const CORPUS: &str = include_str!("../parity/requests.txt");
const INTROSPECTION: &str = "tests/parity/introspection.json";
/// PostgreSQL 15, as the harness runs.
const SERVER_VERSION_NUM: u32 = 150000;
/// The `now` every plan gets.
const NOW: i64 = 1_700_000_000;

/// The configuration of the test suite's shared server.
fn env() -> Vec<(String, String)> {
    pairs(&[
        ("PGRST_DB_SCHEMAS", "test"),
        ("PGRST_DB_ANON_ROLE", "Web Anon"),
        ("PGRST_DB_TX_END", "rollback-allow-override"),
    ])
}

/// A configuration the component must refuse.
fn bad_env() -> Vec<(String, String)> {
    pairs(&[("PGRST_DB_POOL", "lots")])
}

/// A configuration with warnings: a JWKS key pgrest skips.
fn jwks_env() -> Vec<(String, String)> {
    let mut env = env();
    env.extend(pairs(&[(
        "PGRST_JWT_SECRET",
        r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}, {"kty": "oct", "k": "c2VjcmV0", "use": "verify"}]}"#,
    )]));
    env
}

/// What `respond` gets for each statement whose rows it reads: the columns
/// after the body of a read (total, page total, headers, status) in a few
/// shapes, including no row at all.
fn result_sets() -> Vec<c::Rows> {
    let row = |cells: &[Option<&str>]| cells.iter().map(|c| c.map(str::to_string)).collect();
    vec![
        vec![row(&[Some("5"), Some("2"), None, None])],
        vec![row(&[None, Some("0"), None, None])],
        vec![row(&[Some("1"), Some("1"), Some("[]"), Some("201")])],
        // A write's row: affected rows, Location keys, headers, status, inserted.
        vec![row(&[
            Some("1"),
            Some(r#"[["id","1"]]"#),
            None,
            None,
            Some("1"),
        ])],
        vec![],
    ]
}

fn db_errors() -> Vec<c::DbError> {
    let err =
        |sqlstate: &str, message: &str, detail: Option<&str>, hint: Option<&str>| c::DbError {
            sqlstate: sqlstate.into(),
            message: message.into(),
            detail: detail.map(Into::into),
            hint: hint.map(Into::into),
        };
    vec![
        err("42501", "permission denied for table items", None, None),
        err(
            "22P02",
            "invalid input syntax for type integer: \"x\"",
            None,
            None,
        ),
        err(
            "23505",
            "duplicate key value violates unique constraint \"items_pkey\"",
            Some("Key (id)=(1) already exists."),
            None,
        ),
        err(
            "P0001",
            "custom failure",
            Some("some detail"),
            Some("a hint"),
        ),
        err(
            "57014",
            "canceling statement due to statement timeout",
            None,
            None,
        ),
    ]
}

fn host_errors() -> Vec<c::HostError> {
    vec![
        c::HostError::DbUnreachable("connection refused".into()),
        c::HostError::DbConnectionLost("server closed the connection".into()),
        c::HostError::SchemaCacheNotLoaded,
        c::HostError::PoolTimeout,
        c::HostError::DbUnexpectedAnswer("a column that is not UTF-8".into()),
        c::HostError::TranslatorFailed("wasm trap: interrupt".into()),
        c::HostError::InvalidResponse("invalid HTTP header value".into()),
        c::HostError::BodyTooLarge(1024),
        c::HostError::BodyTimeout(60),
        c::HostError::BodyInterrupted,
        c::HostError::BodiesInFlight,
        c::HostError::RequestHead(c::HeadFault::Malformed),
        c::HostError::RequestHead(c::HeadFault::UriTooLong),
        c::HostError::RequestHead(c::HeadFault::TooLarge),
        c::HostError::RequestHead(c::HeadFault::TimedOut),
    ]
}

#[test]
fn native_wasmtime_and_jco_agree_on_the_corpus() {
    let cases = corpus();
    assert!(
        cases.len() >= 200,
        "the corpus has {} requests",
        cases.len()
    );
    let introspection = introspection_results();

    let native = run_all(|env| Native::load(env, &introspection), &cases);
    let compiled = Compiled::new().expect("component");
    let wasmtime = run_all(
        |env| Wasmtime::load(compiled.clone(), env, &introspection),
        &cases,
    );
    let node = run_node(&cases, &introspection);

    for (name, other) in [("wasmtime", &wasmtime), ("jco/Node", &node)] {
        assert_same("engine-less exports", &native.0, name, &other.0);
        assert_eq!(other.1.len(), cases.len(), "{name}: one output per case");
        for ((case, expected), actual) in cases.iter().zip(&native.1).zip(&other.1) {
            assert_same(&case.label(), expected, name, actual);
        }
    }
    // The corpus must reach the database side, not only planner errors.
    let runs = native
        .1
        .iter()
        .filter(|t| t["outcome"].get("run").is_some());
    assert!(runs.count() >= 100, "too few requests plan statements");
}

fn assert_same(what: &str, native: &Value, name: &str, other: &Value) {
    if let Some((at, a, b)) = first_difference(native, other, String::new()) {
        let pretty = |v: &Value| serde_json::to_string_pretty(v).expect("JSON");
        panic!(
            "{what}: {name} differs from the native translator at {at}:\n  native: {a}\n  {name}: {b}\n\
             --- native, whole\n{}\n--- {name}, whole\n{}",
            pretty(native),
            pretty(other)
        );
    }
}

/// The JSON path of the first difference, with both values there.
fn first_difference(a: &Value, b: &Value, at: String) -> Option<(String, Value, Value)> {
    if a == b {
        return None;
    }
    let inner = match (a, b) {
        (Value::Object(x), Value::Object(y)) if x.len() == y.len() => {
            x.iter().find_map(|(k, v)| {
                let w = y.get(k)?;
                first_difference(v, w, format!("{at}.{k}"))
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| first_difference(v, w, format!("{at}[{i}]"))),
        _ => None,
    };
    inner.or_else(|| Some((at, a.clone(), b.clone())))
}

/// One request of the corpus.
struct Case {
    /// The configuration: [`env`] with the corpus's `@env` lines applied.
    env: Vec<(String, String)>,
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Case {
    fn label(&self) -> String {
        let query = if self.query.is_empty() {
            String::new()
        } else {
            format!("?{}", self.query)
        };
        let base = env();
        let overrides: Vec<_> = self.env.iter().filter(|kv| !base.contains(kv)).collect();
        format!(
            "{} {}{query} {:?} (config overrides: {overrides:?})",
            self.method, self.path, self.headers
        )
    }

    fn request(&self) -> c::HttpRequest {
        c::HttpRequest {
            method: self.method.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            headers: self.headers.clone(),
            body: self.body.as_bytes().to_vec(),
        }
    }

    fn json(&self) -> Value {
        json!({
            "env": self.env,
            "method": self.method, "path": self.path, "query": self.query,
            "headers": self.headers, "body": self.body,
        })
    }
}

/// `METHOD /path?query` lines, each followed by indented `name: value` header
/// lines and `< text` body lines; `@env NAME=value` changes the configuration
/// of the requests after it, `@reset` restores [`env`]; `#` comments and
/// blank lines are skipped.
fn corpus() -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    let mut config = env();
    for (n, line) in CORPUS.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let at = || format!("tests/parity/requests.txt:{}: {line:?}", n + 1);
        if trimmed == "@reset" {
            config = env();
            continue;
        }
        if let Some(setting) = trimmed.strip_prefix("@env ") {
            let (name, value) = setting
                .split_once('=')
                .unwrap_or_else(|| panic!("{}", at()));
            config.retain(|(k, _)| k != name);
            config.push((name.to_string(), value.to_string()));
            continue;
        }
        if line.starts_with(char::is_whitespace) {
            let case = cases
                .last_mut()
                .unwrap_or_else(|| panic!("{}: no request yet", at()));
            if let Some(text) = trimmed.strip_prefix("< ") {
                case.body.push_str(text);
            } else {
                let (name, value) = trimmed
                    .split_once(':')
                    .unwrap_or_else(|| panic!("{}", at()));
                case.headers
                    .push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
            }
            continue;
        }
        let (method, target) = trimmed
            .split_once(' ')
            .unwrap_or_else(|| panic!("{}", at()));
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        cases.push(Case {
            env: config.clone(),
            method: method.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            headers: Vec::new(),
            body: String::new(),
        });
    }
    cases
}

/// Column 0 of each introspection statement, as committed: JSON results
/// stored as JSON for readable diffs, other text as a string.
fn introspection_results() -> Vec<String> {
    let path = introspection_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let values: Vec<Value> =
        serde_json::from_str(&text).expect("introspection.json is a JSON array");
    values
        .into_iter()
        .map(|v| match v {
            Value::String(s) => s,
            other => other.to_string(),
        })
        .collect()
}

/// The translator's exports over `contract` types, however it is run.
trait Translator {
    fn resolve_config(&self, env: &[(String, String)]) -> Result<c::ResolvedConfig, String>;
    fn introspection(&self, config: &[u8]) -> Result<Vec<c::Statement>, String>;
    fn db_config_statements(&self, config: &[u8]) -> Result<Vec<c::Statement>, String>;
    fn config_warnings(&self, config: &[u8]) -> Result<Vec<String>, String>;
    fn render_host_error(&self, config: &[u8], err: &c::HostError) -> c::HttpResponse;
    fn cors(&self, method: &str, headers: &[(String, String)]) -> c::CorsAnswer;
    fn verify_token(&self, authorization: &str) -> c::TokenCheck;
    fn plan(&self, req: &c::HttpRequest, claims: Option<&c::Verified>) -> c::Outcome;
    fn respond(&self, context: &[u8], results: &[c::Rows]) -> c::Answer;
    fn respond_error(&self, context: &[u8], err: &c::DbError) -> c::HttpResponse;
}

/// Engine-less outputs, then one transcript per case, each planned by a
/// translator `load`ed with the case's configuration.
fn run_all<T: Translator>(
    load: impl Fn(&[(String, String)]) -> T,
    cases: &[Case],
) -> (Value, Vec<Value>) {
    let mut loaded: Vec<(&[(String, String)], T)> = vec![];
    let base = env();
    let t = load(&base);
    let resolved = t.resolve_config(&base).expect("configuration");
    let config = resolved.config.as_slice();
    let global = json!({
        "config": resolved_json(&resolved),
        "bad-config": result_json(t.resolve_config(&bad_env()).map(|r| resolved_json(&r))),
        "introspection": result_json(t.introspection(config).map(|s| statements_json(&s))),
        "db-config-statements": result_json(t.db_config_statements(config).map(|s| statements_json(&s))),
        "host-errors": host_errors().iter().map(|e| response_json(&t.render_host_error(config, e))).collect::<Vec<_>>(),
        "config-warnings": result_json(t.resolve_config(&jwks_env()).and_then(|c| t.config_warnings(&c.config))),
    });
    loaded.push((&base, t));
    let transcripts = cases
        .iter()
        .map(|case| {
            let t = match loaded
                .iter()
                .position(|(env, _)| *env == case.env.as_slice())
            {
                Some(i) => &loaded[i].1,
                None => {
                    loaded.push((&case.env, load(&case.env)));
                    &loaded.last().expect("just pushed").1
                }
            };
            let req = case.request();
            // As a host does it: CORS first, a preflight ending the request.
            let cors = cors_json(&t.cors(&req.method, &req.headers));
            if cors.get("preflight").is_some() {
                return json!({"cors": cors});
            }
            // Then verify the Authorization header, then plan.
            let (token, claims) = match req.header("authorization") {
                None => (Value::Null, None),
                Some(value) => match t.verify_token(value) {
                    c::TokenCheck::Anonymous => (json!("anonymous"), None),
                    c::TokenCheck::Valid(v) => (json!({"valid": verified_json(&v)}), Some(v)),
                    c::TokenCheck::Invalid(r) => {
                        return json!({"cors": cors, "token": {"invalid": response_json(&r)}});
                    }
                },
            };
            let outcome = t.plan(&req, claims.as_ref());
            let mut transcript =
                json!({"cors": cors, "token": token, "outcome": outcome_json(&outcome)});
            if let c::Outcome::Run(plan) = &outcome {
                let used = plan
                    .statements
                    .iter()
                    .filter(|s| s.rows != c::RowUse::Ignore)
                    .count();
                transcript["respond"] = result_sets()
                    .into_iter()
                    .map(|rows| answer_json(&t.respond(&plan.context, &vec![rows; used])))
                    .collect();
                transcript["respond-error"] = db_errors()
                    .iter()
                    .map(|e| response_json(&t.respond_error(&plan.context, e)))
                    .collect();
            }
            transcript
        })
        .collect();
    (global, transcripts)
}

/// The jco-transpiled component, driven by tests/hosts/node/parity.mjs with
/// the same inputs; it prints the same JSON.
fn run_node(cases: &[Case], introspection: &[String]) -> (Value, Vec<Value>) {
    let input = json!({
        "env": env(),
        "bad-env": bad_env(),
        "jwks-env": jwks_env(),
        "server-version-num": SERVER_VERSION_NUM,
        "now": NOW,
        "introspection": introspection,
        "result-sets": result_sets(),
        "db-errors": db_errors(),
        "host-errors": host_errors().iter().map(|e| match e {
            c::HostError::DbUnreachable(m) => json!({"tag": "db-unreachable", "val": m}),
            c::HostError::DbConnectionLost(m) => json!({"tag": "db-connection-lost", "val": m}),
            c::HostError::SchemaCacheNotLoaded => json!({"tag": "schema-cache-not-loaded"}),
            c::HostError::PoolTimeout => json!({"tag": "pool-timeout"}),
            c::HostError::DbUnexpectedAnswer(m) => json!({"tag": "db-unexpected-answer", "val": m}),
            c::HostError::TranslatorFailed(m) => json!({"tag": "translator-failed", "val": m}),
            c::HostError::InvalidResponse(m) => json!({"tag": "invalid-response", "val": m}),
            c::HostError::BodyTooLarge(n) => json!({"tag": "body-too-large", "val": n}),
            c::HostError::BodyTimeout(s) => json!({"tag": "body-timeout", "val": s}),
            c::HostError::BodyInterrupted => json!({"tag": "body-interrupted"}),
            c::HostError::BodiesInFlight => json!({"tag": "bodies-in-flight"}),
            c::HostError::RequestHead(fault) => json!({"tag": "request-head", "val": head_fault(*fault)}),
        }).collect::<Vec<_>>(),
        "cases": cases.iter().map(Case::json).collect::<Vec<_>>(),
    });
    let translator = jco::transpiled();
    let mut child = Command::new("node")
        .arg("parity.mjs")
        .arg(translator)
        .current_dir(jco::host_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starting node parity.mjs");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = input.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("node parity.mjs runs");
    writer.join().expect("writer").expect("writing the cases");
    assert!(output.status.success(), "node parity.mjs failed");
    let out: Value = serde_json::from_slice(&output.stdout).expect("parity.mjs prints JSON");
    let cases = out["cases"].as_array().expect("cases").clone();
    (out["global"].clone(), cases)
}

// --- the two Rust ways to run the translator ---

struct Native {
    engine: engine::Engine,
}

impl Native {
    fn load(env: &[(String, String)], introspection: &[String]) -> Native {
        let config = engine::resolve_config(None, env, &[], &[])
            .and_then(|r| r.resolved())
            .expect("configuration");
        Native {
            engine: engine::Engine::load(&config.config, introspection)
                .unwrap_or_else(|e| panic!("{}", stale(&e.to_string()))),
        }
    }
}

impl Translator for Native {
    fn resolve_config(&self, env: &[(String, String)]) -> Result<c::ResolvedConfig, String> {
        engine::resolve_config(None, env, &[], &[])
            .and_then(|r| r.resolved())
            .map_err(|e| e.to_string())
    }
    fn introspection(&self, config: &[u8]) -> Result<Vec<c::Statement>, String> {
        engine::introspection(config, SERVER_VERSION_NUM).map_err(|e| e.to_string())
    }
    fn db_config_statements(&self, config: &[u8]) -> Result<Vec<c::Statement>, String> {
        engine::db_config_statements(config).map_err(|e| e.to_string())
    }
    fn config_warnings(&self, config: &[u8]) -> Result<Vec<String>, String> {
        engine::config_warnings(config).map_err(|e| e.to_string())
    }
    fn render_host_error(&self, config: &[u8], err: &c::HostError) -> c::HttpResponse {
        engine::render_host_error(config, err)
    }
    fn cors(&self, method: &str, headers: &[(String, String)]) -> c::CorsAnswer {
        self.engine.cors(method, headers)
    }
    fn verify_token(&self, authorization: &str) -> c::TokenCheck {
        self.engine.verify_token(authorization)
    }
    fn plan(&self, req: &c::HttpRequest, claims: Option<&c::Verified>) -> c::Outcome {
        self.engine.plan(req, claims, NOW)
    }
    fn respond(&self, context: &[u8], results: &[c::Rows]) -> c::Answer {
        self.engine.respond(context, results)
    }
    fn respond_error(&self, context: &[u8], err: &c::DbError) -> c::HttpResponse {
        self.engine.respond_error(context, err)
    }
}

/// pgrest-host's component loader; wit types converted to `contract` ones.
struct Wasmtime {
    compiled: std::sync::Arc<Compiled>,
    generation: Generation,
}

impl Wasmtime {
    fn load(
        compiled: std::sync::Arc<Compiled>,
        env: &[(String, String)],
        introspection: &[String],
    ) -> Wasmtime {
        let config = match compiled
            .resolve_config(None, env, &[], &[])
            .expect("no trap")
        {
            Ok(wit::ConfigResolution::Resolved(r)) => r,
            other => panic!("configuration: {other:?}"),
        };
        let generation = Generation::new(compiled.clone(), config, introspection.to_vec())
            .unwrap_or_else(|e| panic!("{}", stale(&e.to_string())));
        Wasmtime {
            compiled,
            generation,
        }
    }

    fn call<R>(&self, f: impl FnOnce(&mut Instance) -> wasmtime::Result<R>) -> R {
        self.generation
            .with_instance(f)
            .expect("the component does not trap")
    }
}

impl Translator for Wasmtime {
    fn resolve_config(&self, env: &[(String, String)]) -> Result<c::ResolvedConfig, String> {
        match self
            .compiled
            .resolve_config(None, env, &[], &[])
            .expect("no trap")?
        {
            wit::ConfigResolution::Resolved(r) => Ok(from_wit::resolved(r)),
            wit::ConfigResolution::ReadFiles(paths) => Err(format!("files to read: {paths:?}")),
        }
    }
    fn introspection(&self, config: &[u8]) -> Result<Vec<c::Statement>, String> {
        let statements = self
            .compiled
            .introspection(config, SERVER_VERSION_NUM)
            .expect("no trap")?;
        Ok(statements.into_iter().map(from_wit::statement).collect())
    }
    fn db_config_statements(&self, config: &[u8]) -> Result<Vec<c::Statement>, String> {
        let statements = self
            .compiled
            .db_config_statements(config)
            .expect("no trap")?;
        Ok(statements.into_iter().map(from_wit::statement).collect())
    }
    fn config_warnings(&self, config: &[u8]) -> Result<Vec<String>, String> {
        self.compiled.config_warnings(config).expect("no trap")
    }
    fn render_host_error(&self, config: &[u8], err: &c::HostError) -> c::HttpResponse {
        let err = match err.clone() {
            c::HostError::DbUnreachable(m) => wit::HostError::DbUnreachable(m),
            c::HostError::DbConnectionLost(m) => wit::HostError::DbConnectionLost(m),
            c::HostError::SchemaCacheNotLoaded => wit::HostError::SchemaCacheNotLoaded,
            c::HostError::PoolTimeout => wit::HostError::PoolTimeout,
            c::HostError::DbUnexpectedAnswer(m) => wit::HostError::DbUnexpectedAnswer(m),
            c::HostError::TranslatorFailed(m) => wit::HostError::TranslatorFailed(m),
            c::HostError::InvalidResponse(m) => wit::HostError::InvalidResponse(m),
            c::HostError::BodyTooLarge(n) => wit::HostError::BodyTooLarge(n),
            c::HostError::BodyTimeout(s) => wit::HostError::BodyTimeout(s),
            c::HostError::BodyInterrupted => wit::HostError::BodyInterrupted,
            c::HostError::BodiesInFlight => wit::HostError::BodiesInFlight,
            c::HostError::RequestHead(fault) => wit::HostError::RequestHead(match fault {
                c::HeadFault::Malformed => wit::HeadFault::Malformed,
                c::HeadFault::UriTooLong => wit::HeadFault::UriTooLong,
                c::HeadFault::TooLarge => wit::HeadFault::TooLarge,
                c::HeadFault::TimedOut => wit::HeadFault::TimedOut,
            }),
        };
        // The host renders with the configuration a generation holds.
        assert_eq!(
            config,
            self.generation.config(),
            "the generation's configuration"
        );
        from_wit::response(self.generation.render_host_error(&err))
    }
    fn cors(&self, method: &str, headers: &[(String, String)]) -> c::CorsAnswer {
        match self.call(|i| i.cors(method, headers)) {
            wit::CorsAnswer::None => c::CorsAnswer::None,
            wit::CorsAnswer::Preflight(r) => c::CorsAnswer::Preflight(from_wit::response(r)),
            wit::CorsAnswer::Headers(h) => c::CorsAnswer::Headers(h),
        }
    }
    fn verify_token(&self, authorization: &str) -> c::TokenCheck {
        match self.call(|i| i.verify_token(authorization)) {
            wit::TokenCheck::Anonymous => c::TokenCheck::Anonymous,
            wit::TokenCheck::Valid(v) => c::TokenCheck::Valid(from_wit::verified(v)),
            wit::TokenCheck::Invalid(r) => c::TokenCheck::Invalid(from_wit::response(r)),
        }
    }
    fn plan(&self, req: &c::HttpRequest, claims: Option<&c::Verified>) -> c::Outcome {
        let claims = claims.map(verified_to_wit);
        let req = wit::HttpRequest {
            method: req.method.clone(),
            path: req.path.clone(),
            query: req.query.clone(),
            headers: req.headers.clone(),
            body: req.body.clone(),
        };
        from_wit::outcome(self.call(|i| i.plan(&req, claims.as_ref(), NOW)))
    }
    fn respond(&self, context: &[u8], results: &[c::Rows]) -> c::Answer {
        from_wit::answer(self.call(|i| i.respond(context, results)))
    }
    fn respond_error(&self, context: &[u8], err: &c::DbError) -> c::HttpResponse {
        let err = wit::DbError {
            sqlstate: err.sqlstate.clone(),
            message: err.message.clone(),
            detail: err.detail.clone(),
            hint: err.hint.clone(),
        };
        from_wit::response(self.call(|i| i.respond_error(context, &err)))
    }
}

/// A head fault's WIT name (jco's enum value).
fn head_fault(fault: c::HeadFault) -> &'static str {
    match fault {
        c::HeadFault::Malformed => "malformed",
        c::HeadFault::UriTooLong => "uri-too-long",
        c::HeadFault::TooLarge => "too-large",
        c::HeadFault::TimedOut => "timed-out",
    }
}

fn verified_to_wit(v: &c::Verified) -> wit::Verified {
    let time = |t: c::TimeClaim| match t {
        c::TimeClaim::Absent => wit::TimeClaim::Absent,
        c::TimeClaim::At(at) => wit::TimeClaim::At(at),
        c::TimeClaim::NotANumber => wit::TimeClaim::NotANumber,
    };
    wit::Verified {
        claims_json: v.claims_json.clone(),
        role: v.role.clone(),
        exp: time(v.exp),
        nbf: time(v.nbf),
        iat: time(v.iat),
        aud: match &v.aud {
            c::AudienceClaim::Absent => wit::AudienceClaim::Absent,
            c::AudienceClaim::Values(auds) => wit::AudienceClaim::Values(auds.clone()),
            c::AudienceClaim::Invalid => wit::AudienceClaim::Invalid,
        },
    }
}

fn stale(e: &str) -> String {
    format!(
        "loading {INTROSPECTION} failed ({e}); if the introspection format changed, refresh it with \
         `cargo test --test it regenerate_parity_introspection -- --ignored`"
    )
}

// --- the JSON all three produce (parity.mjs writes the same shapes) ---

/// Bytes as a string when they are UTF-8, else `{"hex": …}`.
fn bytes_json(b: &[u8]) -> Value {
    match std::str::from_utf8(b) {
        Ok(s) => json!(s),
        Err(_) => json!({"hex": b.iter().map(|x| format!("{x:02x}")).collect::<String>()}),
    }
}

fn result_json(r: Result<impl Into<Value>, String>) -> Value {
    match r {
        Ok(v) => json!({"ok": v.into()}),
        Err(e) => json!({"err": e}),
    }
}

/// In jco's shape: camelCase fields, absent options left out, enums as
/// their WIT names.
fn resolved_json(r: &c::ResolvedConfig) -> Value {
    let s = &r.host;
    let address = |a: &c::BindAddress| json!({"host": a.host, "port": a.port});
    let mut host = json!({
        "dbUri": s.db_uri,
        "dbPool": s.db_pool,
        "dbPoolAcquisitionTimeout": s.db_pool_acquisition_timeout,
        "dbPoolMaxIdletime": s.db_pool_max_idletime,
        "dbPoolMaxLifetime": s.db_pool_max_lifetime,
        "dbPoolAutomaticRecovery": s.db_pool_automatic_recovery,
        "dbPreparedStatements": s.db_prepared_statements,
        "dbChannel": s.db_channel,
        "dbChannelEnabled": s.db_channel_enabled,
        "server": address(&s.server),
        "serverTimingEnabled": s.server_timing_enabled,
        "logLevel": s.log_level,
        "logQuery": s.log_query,
        "jwtCacheMaxEntries": s.jwt_cache_max_entries,
        "serverTranslatorTimeout": s.server_translator_timeout,
        "limits": {
            "readHeaderTimeout": s.limits.read_header_timeout,
            "bodyTimeout": s.limits.body_timeout,
            "idleTimeout": s.limits.idle_timeout,
            "maxConnections": s.limits.max_connections,
            "maxBodyBytes": s.limits.max_body_bytes,
            "bodyBytesInFlight": s.limits.body_bytes_in_flight,
        },
    });
    if let Some(admin) = &s.admin_server {
        host["adminServer"] = address(admin);
    }
    if let Some(header) = &s.server_trace_header {
        host["serverTraceHeader"] = json!(header);
    }
    json!({"host": host, "config": bytes_json(&r.config)})
}

fn verified_json(v: &c::Verified) -> Value {
    let time = |t: c::TimeClaim| match t {
        c::TimeClaim::Absent => json!("absent"),
        c::TimeClaim::At(at) => json!({"at": at}),
        c::TimeClaim::NotANumber => json!("not-a-number"),
    };
    let aud = match &v.aud {
        c::AudienceClaim::Absent => json!("absent"),
        c::AudienceClaim::Values(auds) => json!({"values": auds}),
        c::AudienceClaim::Invalid => json!("invalid"),
    };
    json!({
        "claims-json": v.claims_json,
        "role": v.role,
        "exp": time(v.exp),
        "nbf": time(v.nbf),
        "iat": time(v.iat),
        "aud": aud,
    })
}

fn cors_json(answer: &c::CorsAnswer) -> Value {
    match answer {
        c::CorsAnswer::None => json!("none"),
        c::CorsAnswer::Preflight(r) => json!({"preflight": response_json(r)}),
        c::CorsAnswer::Headers(h) => json!({"headers": h}),
    }
}

fn response_json(r: &c::HttpResponse) -> Value {
    json!({"status": r.status, "headers": r.headers, "body": bytes_json(&r.body)})
}

fn statements_json(statements: &[c::Statement]) -> Value {
    statements
        .iter()
        .map(|s| {
            let params: Vec<Value> = s
                .params
                .iter()
                .map(|p| match p {
                    c::Param::SqlNull => json!("sql-null"),
                    c::Param::Text(t) => json!({"text": t}),
                    c::Param::Bytes(b) => json!({"bytes": bytes_json(b)}),
                    c::Param::RequestBody => json!("request-body"),
                })
                .collect();
            let rows = match s.rows {
                c::RowUse::Ignore => "ignore",
                c::RowUse::ToRespond => "to-respond",
                c::RowUse::Body => "body",
            };
            json!({"sql": s.sql, "params": params, "rows": rows})
        })
        .collect()
}

fn outcome_json(o: &c::Outcome) -> Value {
    match o {
        c::Outcome::Reply(r) => {
            let stage = match r.stage {
                c::Stage::Jwt => "jwt",
                c::Stage::Parse => "parse",
                c::Stage::Plan => "plan",
                c::Stage::Response => "response",
            };
            json!({"reply": response_json(&r.response), "stage": stage})
        }
        c::Outcome::Run(p) => {
            let tx_end = match p.tx_end {
                c::TxEnd::Commit => "commit",
                c::TxEnd::Rollback => "rollback",
                c::TxEnd::AfterRespond => "after-respond",
            };
            json!({"run": {
                "statements": statements_json(&p.statements),
                "tx-end": tx_end,
                "context": bytes_json(&p.context),
            }})
        }
    }
}

fn answer_json(a: &c::Answer) -> Value {
    let body = match &a.body {
        c::AnswerBody::Empty => json!("empty"),
        c::AnswerBody::FromStatement => json!("from-statement"),
        c::AnswerBody::Bytes(b) => json!({"bytes": bytes_json(b)}),
    };
    json!({"status": a.status, "headers": a.headers, "body": body, "commit": a.commit})
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Rewrites tests/parity/introspection.json from the test cluster, read the
/// way pgrest-host reads it (the component's statements, as the authenticator).
#[tokio::test]
#[ignore = "maintenance: run by hand after changing fixtures or introspection"]
async fn regenerate_parity_introspection() {
    let compiled = Compiled::new().expect("component");
    let config = match compiled
        .resolve_config(None, &env(), &[], &[])
        .expect("no trap")
    {
        Ok(wit::ConfigResolution::Resolved(r)) => r.config,
        other => panic!("configuration: {other:?}"),
    };
    let statements = compiled
        .introspection(&config, SERVER_VERSION_NUM)
        .expect("no trap")
        .expect("statements");
    let conninfo = crate::harness::cluster().conninfo("Authenticator", "postgres");
    // A unix socket: never TLS.
    let tls = pgrest_pg::tls::TlsOptions::new(&[], &[]).expect("plain connection");
    let db = pgrest_host::db::Db::new(
        conninfo.parse().expect("conninfo"),
        &tls,
        1,
        std::time::Duration::from_secs(10),
        false,
    )
    .expect("pool");
    let texts = db.read_texts(&statements).await.expect("introspection");
    let values: Vec<Value> = texts
        .into_iter()
        .map(|t| serde_json::from_str(&t).unwrap_or(Value::String(t)))
        .collect();
    let pretty = serde_json::to_string_pretty(&values).expect("JSON") + "\n";
    std::fs::write(introspection_path(), pretty).expect("writing introspection.json");
}

fn introspection_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(INTROSPECTION)
}
