//! `Accept: application/vnd.pgrst.plan`: the main statement's `EXPLAIN`,
//! for reads, writes and calls, behind `db-plan-enabled` (off on the shared
//! server: 406 PGRST107).

use std::sync::OnceLock;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Reply, Server, base_env, get_with, request_on, superuser};

/// A server like the shared one, with `db-plan-enabled`.
pub fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let mut env = base_env();
        env.push(("PGRST_DB_PLAN_ENABLED".into(), "true".into()));
        Server::start(env)
    })
}

async fn plan(method: Method, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    request_on(server(), method, path, headers, body).await
}

/// The top plan node of an `EXPLAIN (FORMAT JSON)` body.
fn top(r: &Reply) -> &Value {
    &r.body[0]["Plan"]
}

#[tokio::test]
async fn a_read_answers_its_text_plan() {
    let r = plan(
        Method::GET,
        "/x_plan?id=eq.1",
        &[("Accept", "application/vnd.pgrst.plan")],
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.pgrst.plan+text; for=\"application/json\"; charset=utf-8")
    );
    assert_eq!(r.header("vary"), Some("Accept, Prefer, Range"));
    assert_eq!(r.header("content-range"), None);
    // psql's lines, each ending in a newline: the aggregate building the
    // body over the scan of the table.
    assert!(r.text.starts_with("Aggregate  (cost="), "{}", r.text);
    assert!(r.text.ends_with('\n'), "{:?}", r.text);
    assert!(r.text.contains(" on x_plan "), "{}", r.text);
    assert!(r.text.lines().count() > 1, "{}", r.text);
}

#[tokio::test]
async fn json_plans_with_options_and_another_for() {
    let r = plan(
        Method::GET,
        "/x_plan?select=name&order=id",
        &[(
            "Accept",
            "application/vnd.pgrst.plan+json; for=\"text/csv\"; options=verbose|analyze",
        )],
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Options in PostgREST's order, whatever the request's.
    assert_eq!(
        r.header("content-type"),
        Some(
            "application/vnd.pgrst.plan+json; for=\"text/csv\"; options=analyze|verbose; charset=utf-8"
        )
    );
    assert!(r.text.ends_with("]\n"), "{:?}", r.text);
    assert_eq!(top(&r)["Node Type"], json!("Aggregate"));
    // analyze: it ran; verbose: the output columns are shown.
    assert_eq!(top(&r)["Actual Rows"], json!(1));
    assert!(r.body[0]["Execution Time"].is_number(), "{}", r.text);
    assert!(top(&r)["Output"].is_array(), "{}", r.text);

    // A `for` the table cannot produce, and the singular object.
    let r = plan(
        Method::GET,
        "/x_plan",
        &[(
            "Accept",
            "application/vnd.pgrst.plan+json; for=\"text/xml\"",
        )],
        "",
    )
    .await;
    assert_eq!(r.status, 406, "{}", r.text);
    assert_eq!(r.body["code"], json!("PGRST107"));
    // Zero rows under the singular object: no PGRST116, it is a plan.
    let r = plan(
        Method::GET,
        "/x_plan?id=eq.99",
        &[(
            "Accept",
            "application/vnd.pgrst.plan+json; for=\"application/vnd.pgrst.object+json\"",
        )],
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(top(&r)["Node Type"], json!("Aggregate"));
}

#[tokio::test]
async fn plans_need_db_plan_enabled() {
    let r = get_with("/x_plan", &[("Accept", "application/vnd.pgrst.plan+json")]).await;
    assert_eq!(r.status, 406, "{}", r.text);
    assert_eq!(
        r.body,
        json!({
            "code": "PGRST107",
            "message": "None of these media types are available: application/vnd.pgrst.plan+json; for=\"application/json\"",
            "details": null,
            "hint": null,
        })
    );
}

async fn row_count(name: &str) -> i64 {
    superuser()
        .await
        .query_one("SELECT count(*) FROM test.x_plan WHERE name = $1", &[&name])
        .await
        .expect("count")
        .get(0)
}

#[tokio::test]
async fn writes_run_only_under_analyze_and_commit_as_any_write() {
    let explain = |options: &'static str| {
        [
            ("Content-Type", "application/json"),
            ("Prefer", "tx=commit"),
            ("Accept", options),
        ]
    };
    // Without analyze nothing runs, even with tx=commit.
    let r = plan(
        Method::POST,
        "/x_plan",
        &explain("application/vnd.pgrst.plan+json"),
        r#"{"id": 10, "name": "planned"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(top(&r)["Node Type"], json!("Aggregate"));
    assert_eq!(row_count("planned").await, 0);

    // Analyze runs the insert; the shared configuration rolls it back...
    let r = plan(
        Method::POST,
        "/x_plan",
        &[
            ("Content-Type", "application/json"),
            ("Accept", "application/vnd.pgrst.plan+json; options=analyze"),
        ],
        r#"{"id": 11, "name": "analyzed"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("\"Operation\": \"Insert\""), "{}", r.text);
    assert_eq!(row_count("analyzed").await, 0);

    // ...unless the request commits it.
    let r = plan(
        Method::POST,
        "/x_plan",
        &explain("application/vnd.pgrst.plan+json; options=analyze"),
        r#"{"id": 12, "name": "committed"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(row_count("committed").await, 1);
    superuser()
        .await
        .execute("DELETE FROM test.x_plan WHERE id = 12", &[])
        .await
        .expect("cleanup");

    // A PATCH touching two rows under max-affected=1 and handling=strict:
    // a plan is not checked (PostgREST answers the plan).
    let r = plan(
        Method::PATCH,
        "/x_plan",
        &[
            ("Content-Type", "application/json"),
            ("Prefer", "handling=strict, max-affected=1"),
            ("Accept", "application/vnd.pgrst.plan"),
        ],
        r#"{"name": "x"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("Update on x_plan"), "{}", r.text);
}

#[tokio::test]
async fn calls_are_explained() {
    let r = plan(
        Method::GET,
        "/rpc/r_items_min?min=1",
        &[("Accept", "application/vnd.pgrst.plan+json")],
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.pgrst.plan+json; for=\"application/json\"; charset=utf-8")
    );
    assert_eq!(top(&r)["Node Type"], json!("Aggregate"));

    // A scalar function, with a volatile POST that analyze runs (rolled
    // back here).
    let r = plan(
        Method::POST,
        "/rpc/r_log_note",
        &[
            ("Content-Type", "application/json"),
            ("Accept", "application/vnd.pgrst.plan; options=analyze"),
        ],
        r#"{"note": "from a plan"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("actual time="), "{}", r.text);
    let notes: i64 = superuser()
        .await
        .query_one(
            "SELECT count(*) FROM test.r_log WHERE note = 'from a plan'",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(notes, 0);
}

#[tokio::test]
async fn a_plan_for_a_handlers_type_explains_its_aggregate() {
    let accept =
        "application/vnd.pgrst.plan+json; for=\"application/vnd.points+json\"; options=verbose";
    let r = plan(Method::GET, "/mh_points", &[("Accept", accept)], "").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.header("content-type"),
        Some(
            "application/vnd.pgrst.plan+json; for=\"application/vnd.points+json\"; options=verbose; charset=utf-8"
        )
    );
    let output = top(&r)["Output"].to_string();
    assert!(output.contains("mh_points_json_agg"), "{output}");
}
