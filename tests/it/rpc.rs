//! Functions under `/rpc/`: calling conventions (query string, JSON object,
//! form, single unnamed body), return kinds (scalar, composite, sets,
//! `TABLE`, void), the read features on set results, verb and transaction
//! rules, and PostgREST's errors.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Reply, Server, base_env, client, get, get_with, request, send, superuser};

async fn post(path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    request(Method::POST, path, headers, body).await
}

const JSON: (&str, &str) = ("content-type", "application/json");

#[tokio::test]
async fn scalar_with_query_arguments_and_defaults() {
    let r = get("/rpc/r_add?a=1&b=2").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!(3));
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(r.header("content-range"), Some("0-0/*"));
    assert_eq!(r.header("content-location"), None);
    // `b` takes its default.
    assert_eq!(get("/rpc/r_add?a=1").await.body, json!(101));
    assert_eq!(get("/rpc/r_noargs").await.body, json!("no args"));
    assert_eq!(get("/rpc/r_null").await.body, Value::Null);
    assert_eq!(get("/rpc/r_null").await.text, "null");
    assert_eq!(get("/rpc/r_Mixed%20%22Case%22").await.body, json!(7));
}

#[tokio::test]
async fn scalar_with_json_object_body() {
    let r = post("/rpc/r_add", &[JSON], r#"{"a": 5, "b": 6}"#).await;
    assert_eq!((r.status, r.body), (200, json!(11)));
    let r = post("/rpc/r_hello", &[JSON], r#"{"Full Name": "Ada \"L\""}"#).await;
    assert_eq!(r.body, json!("Hello, Ada \"L\""));
    // An empty body is `{}`; a missing Content-Type is JSON.
    assert_eq!(post("/rpc/r_noargs", &[], "").await.body, json!("no args"));
    assert_eq!(
        post("/rpc/r_array", &[JSON], r#"{"xs": [1, 2, 3]}"#)
            .await
            .body,
        json!(6)
    );
    assert_eq!(get("/rpc/r_array?xs=%7B4,5%7D").await.body, json!(9));
}

#[tokio::test]
async fn form_bodies_are_named_arguments() {
    let r = post(
        "/rpc/r_add",
        &[("content-type", "application/x-www-form-urlencoded")],
        "a=2&b=40",
    )
    .await;
    assert_eq!((r.status, r.body), (200, json!(42)));
}

#[tokio::test]
async fn variadic_arguments() {
    let r = post("/rpc/r_variadic", &[JSON], r#"{"vs": [1, 2, 3]}"#).await;
    assert_eq!((r.status, r.body), (200, json!([1, 2, 3])));
    let r = get("/rpc/r_variadic?vs=4&vs=5").await;
    assert_eq!((r.status, r.body), (200, json!([4, 5])));
}

#[tokio::test]
async fn single_unnamed_arguments_take_the_whole_body() {
    let r = post("/rpc/r_echo", &[JSON], r#"{"any": ["thing", 1]}"#).await;
    assert_eq!((r.status, r.body), (200, json!({"any": ["thing", 1]})));
    let r = post("/rpc/r_text", &[("content-type", "text/plain")], "shout").await;
    assert_eq!((r.status, r.body), (200, json!("SHOUT")));
    let r = post(
        "/rpc/r_bytes",
        &[("content-type", "application/octet-stream")],
        "\u{0}\u{1}\u{2}",
    )
    .await;
    assert_eq!((r.status, r.body), (200, json!(3)));
}

#[tokio::test]
async fn setof_table_rows_with_read_features() {
    let r = get("/rpc/r_items_min?min=20").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!([{"id": 2, "name": "two", "qty": 20}, {"id": 3, "name": "three", "qty": 30},
               {"id": 4, "name": "four", "qty": 40}])
    );
    assert_eq!(r.header("content-range"), Some("0-2/*"));
    // select, a filter on an unselected column, order, limit/offset.
    let r =
        get("/rpc/r_items_min?min=10&select=name&qty=lt.40&order=id.desc&limit=2&offset=1").await;
    assert_eq!(r.body, json!([{"name": "two"}, {"name": "one"}]));
    assert_eq!(r.header("content-range"), Some("1-2/*"));
    // POST with filters in the query string, and an exact count.
    let r = post(
        "/rpc/r_items_min?id=in.(1,3)&select=id",
        &[JSON, ("prefer", "count=exact")],
        r#"{"min": 0}"#,
    )
    .await;
    assert_eq!(r.body, json!([{"id": 1}, {"id": 3}]));
    assert_eq!(r.header("content-range"), Some("0-1/2"));
    assert_eq!(r.header("preference-applied"), Some("count=exact"));
}

#[tokio::test]
async fn setof_table_rows_range_csv_singular_and_embedding() {
    let r = get_with(
        "/rpc/r_items_min?min=0",
        &[("range", "1-2"), ("prefer", "count=exact")],
    )
    .await;
    assert_eq!(r.status, 206);
    assert_eq!(r.header("content-range"), Some("1-2/4"));
    assert_eq!(r.body.as_array().map(Vec::len), Some(2));
    let r = get_with(
        "/rpc/r_items_min?min=0&select=id,name&id=lte.2",
        &[("accept", "text/csv")],
    )
    .await;
    assert_eq!(r.text, "id,name\n1,one\n2,two");
    let r = get_with(
        "/rpc/r_items_min?min=0&id=eq.3",
        &[("accept", "application/vnd.pgrst.object+json")],
    )
    .await;
    assert_eq!(r.body, json!({"id": 3, "name": "three", "qty": 30}));
    let r = get_with(
        "/rpc/r_items_min?min=0",
        &[("accept", "application/vnd.pgrst.object+json")],
    )
    .await;
    assert_eq!(r.status, 406);
    assert_eq!(r.body["code"], "PGRST116");
    // The rows are the table's: its relationships embed.
    let r = get("/rpc/r_items_min?min=20&select=id,r_parts(label)&id=eq.2").await;
    assert_eq!(r.body, json!([{"id": 2, "r_parts": [{"label": "c"}]}]));
}

#[tokio::test]
async fn composite_table_returns_and_scalar_sets() {
    let r = get("/rpc/r_item?id=2").await;
    assert_eq!(
        (r.status, r.body),
        (200, json!({"id": 2, "name": "two", "qty": 20}))
    );
    let r = get("/rpc/r_item?id=2&select=name").await;
    assert_eq!(r.body, json!({"name": "two"}));
    let r = get("/rpc/r_pairs?n=3&k=gte.2").await;
    assert_eq!(r.body, json!([{"k": 2, "v": "v2"}, {"k": 3, "v": "v3"}]));
    let r = get("/rpc/r_out?a=21").await;
    assert_eq!(r.body, json!({"doubled": 42, "text_form": "21"}));
    let r = get("/rpc/r_numbers?n=5&limit=2&offset=1").await;
    assert_eq!((r.status, &r.body), (200, &json!([2, 3])));
    assert_eq!(r.header("content-range"), Some("1-2/*"));
}

#[tokio::test]
async fn void_is_no_content() {
    let r = post("/rpc/r_void", &[JSON], "{}").await;
    assert_eq!(r.status, 204);
    assert_eq!(r.text, "");
    assert_eq!(r.header("content-type"), None);
}

#[tokio::test]
async fn head_has_headers_only() {
    let r = request(Method::HEAD, "/rpc/r_add?a=1", &[], "").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text, "");
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
}

#[tokio::test]
async fn overloads_resolve_by_argument_names() {
    assert_eq!(get("/rpc/r_over?a=1").await.body, json!("int 1"));
    let r = post("/rpc/r_over", &[JSON], r#"{"a": "x", "b": "y"}"#).await;
    assert_eq!(r.body, json!("text xy"));
    let r = get("/rpc/r_ambiguous").await;
    assert_eq!(r.status, 300);
    assert_eq!(
        r.body,
        json!({"code": "PGRST203",
               "message": "Could not choose the best candidate function between: test.r_ambiguous(x => integer), test.r_ambiguous(y => text)",
               "details": null,
               "hint": "Try renaming the parameters or the function itself in the database so function overloading can be resolved"})
    );
}

#[tokio::test]
async fn missing_functions_are_pgrst202_with_hints() {
    let r = get("/rpc/r_ad?a=1&b=2").await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        json!({"code": "PGRST202",
               "message": "Could not find the function test.r_ad(a, b) in the schema cache",
               "details": "Searched for the function test.r_ad with parameters a, b, but no matches were found in the schema cache.",
               "hint": "Perhaps you meant to call the function test.r_add"})
    );
    // Overloads exist: the closest argument list, if any is close enough.
    let r = post("/rpc/r_add", &[JSON], r#"{"a": 1, "bb": 2}"#).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        json!({"code": "PGRST202",
               "message": "Could not find the function test.r_add(a, bb) in the schema cache",
               "details": "Searched for the function test.r_add with parameters a, bb or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.",
               "hint": "Perhaps you meant to call the function test.r_add(a, b)"})
    );
    let r = post("/rpc/r_add", &[JSON], r#"{"c": 1}"#).await;
    assert_eq!(r.body["hint"], Value::Null);
}

#[tokio::test]
async fn other_verbs_are_pgrst101() {
    for method in [Method::PUT, Method::PATCH, Method::DELETE] {
        let r = request(method.clone(), "/rpc/r_add", &[JSON], "{}").await;
        assert_eq!(r.status, 405);
        assert_eq!(
            r.body,
            json!({"code": "PGRST101",
                   "message": format!("Cannot use the {method} method on RPC"),
                   "details": null, "hint": null})
        );
    }
}

#[tokio::test]
async fn bad_argument_values_are_400() {
    let r = get("/rpc/r_add?a=notanumber").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["code"], "22P02");
}

#[tokio::test]
async fn get_is_read_only_and_post_writes_only_when_volatile() {
    let r = get("/rpc/r_log_note?note=get").await;
    assert_eq!(r.status, 405);
    assert_eq!(r.body["code"], "25006");
    let r = post("/rpc/r_stable_writer", &[JSON], r#"{"note": "stable"}"#).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.body["code"], "25006");
    let r = post(
        "/rpc/r_log_note",
        &[JSON, ("prefer", "tx=commit")],
        r#"{"note": "committed"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("preference-applied"), Some("tx=commit"));
    let db = superuser().await;
    let n: i64 = db
        .query_one(
            "SELECT count(*) FROM test.r_log WHERE note = 'committed'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    // The shared server rolls back by default.
    post("/rpc/r_log_note", &[JSON], r#"{"note": "rolled back"}"#).await;
    let n: i64 = db
        .query_one(
            "SELECT count(*) FROM test.r_log WHERE note = 'rolled back'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn raised_errors_and_response_gucs() {
    let r = get("/rpc/r_raise").await;
    assert_eq!(r.status, 402);
    assert_eq!(
        r.body,
        json!({"code": "PT402", "message": "Payment Required", "details": "pay up", "hint": null})
    );
    let r = get("/rpc/r_raise_pgrst").await;
    assert_eq!(r.status, 402);
    assert_eq!(r.header("x-powered-by"), Some("Nerd Rage"));
    assert_eq!(
        r.body,
        json!({"code": "123", "message": "Payment Required", "details": "Quota exceeded",
               "hint": "Upgrade your plan"})
    );
    let r = get("/rpc/r_raise_bad").await;
    assert_eq!(r.status, 500);
    assert_eq!(r.body["code"], "PGRST121");
    assert_eq!(
        r.body["details"],
        "Invalid JSON value for MESSAGE: 'not json'"
    );
    let r = get("/rpc/r_headers").await;
    assert_eq!(r.status, 202);
    assert_eq!(r.header("x-custom"), Some("yes"));
    assert_eq!(r.body, json!(1));
}

#[tokio::test]
async fn max_affected_on_set_returning_functions() {
    let strict = |n: &str| format!("handling=strict, max-affected={n}, tx=commit");
    let prefer = strict("2");
    let r = post(
        "/rpc/r_log_many",
        &[JSON, ("prefer", &prefer)],
        r#"{"note": "too many", "n": 3}"#,
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["code"], "PGRST124");
    let db = superuser().await;
    let n: i64 = db
        .query_one(
            "SELECT count(*) FROM test.r_log WHERE note = 'too many'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0, "the call is rolled back");

    let prefer = strict("5");
    let r = post(
        "/rpc/r_items_min?select=id",
        &[JSON, ("prefer", &prefer)],
        r#"{"min": 30}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"id": 3}, {"id": 4}]));
    assert_eq!(
        r.header("preference-applied"),
        Some("tx=commit, handling=strict, max-affected=5")
    );

    let r = post("/rpc/r_add", &[JSON, ("prefer", &prefer)], r#"{"a": 1}"#).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["code"], "PGRST128");
}

#[tokio::test]
async fn hoisted_function_settings_apply_to_the_transaction() {
    // Set inside the function only, the timeout would come too late.
    let r = get("/rpc/r_hoisted_timeout").await;
    assert_eq!(r.status, 500, "{}", r.text);
    assert_eq!(r.body["code"], "57014");
    let r = get("/rpc/r_isolation").await;
    assert_eq!((r.status, r.body), (200, json!("serializable")));
}

#[tokio::test]
async fn raw_output_for_media_type_domains() {
    let r = get_with("/rpc/r_plain", &[("accept", "text/plain")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(r.text, "plain text");
    // JSON stays the default.
    assert_eq!(get("/rpc/r_plain").await.body, json!("plain text"));
    let r = get_with("/rpc/r_xml", &[("accept", "text/xml")]).await;
    assert_eq!(r.header("content-type"), Some("text/xml; charset=utf-8"));
    assert_eq!(r.text, "<a>1</a>");
    let resp = client()
        .get(crate::harness::shared().url("/rpc/r_blob"))
        .header("accept", "application/octet-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers().get("content-type").unwrap(),
        "application/octet-stream"
    );
    assert_eq!(resp.bytes().await.unwrap().as_ref(), [0x00, 0xff, 0x41]);
    // A plain `text` function has no raw output (PostgREST 12+).
    let r = get_with("/rpc/r_hello?Full%20Name=x", &[("accept", "text/plain")]).await;
    assert_eq!(r.status, 406);
    assert_eq!(r.body["code"], "PGRST107");
}

#[tokio::test]
async fn array_bodies_and_planned_counts_as_postgrest() {
    // An array body calls the function with its first object.
    let r = post(
        "/rpc/r_items_min?select=id",
        &[JSON],
        r#"[{"min": 40}, {"min": 30}]"#,
    )
    .await;
    assert_eq!((r.status, r.body), (200, json!([{"id": 4}])));
    // No planned count for a call; an estimated one is exact.
    let r = get_with("/rpc/r_numbers?n=3", &[("prefer", "count=planned")]).await;
    assert_eq!(r.header("content-range"), Some("0-2/*"));
    assert_eq!(r.header("preference-applied"), Some("count=planned"));
    let r = get_with(
        "/rpc/r_items_min?min=0&limit=1",
        &[("prefer", "count=estimated")],
    )
    .await;
    assert_eq!(r.status, 206);
    assert_eq!(r.header("content-range"), Some("0-0/4"));
}

/// A scalar result is a relation named after the function with the one
/// column `pgrst_scalar`: filters, `order` and `select` name it (PostgREST).
#[tokio::test]
async fn scalar_results_read_as_the_pgrst_scalar_column() {
    let r = get("/rpc/r_numbers?n=5&pgrst_scalar=gt.2&order=pgrst_scalar.desc").await;
    assert_eq!((r.status, &r.body), (200, &json!([5, 4, 3])), "{}", r.text);
    assert_eq!(r.header("content-range"), Some("0-2/*"));
    let r = get("/rpc/r_numbers?n=5&or=(pgrst_scalar.eq.1,pgrst_scalar.eq.5)").await;
    assert_eq!(r.body, json!([1, 5]));
    // POST: the arguments in the body, the filters in the query string.
    let r = post("/rpc/r_numbers?pgrst_scalar=gte.4", &[JSON], r#"{"n": 5}"#).await;
    assert_eq!((r.status, &r.body), (200, &json!([4, 5])), "{}", r.text);
    // The count is of the filtered rows.
    let r = get_with(
        "/rpc/r_numbers?n=5&pgrst_scalar=gt.1&limit=2",
        &[("prefer", "count=exact")],
    )
    .await;
    assert_eq!((r.status, &r.body), (206, &json!([2, 3])), "{}", r.text);
    assert_eq!(r.header("content-range"), Some("0-1/4"));
    let r = get("/rpc/r_numbers?n=3&select=pgrst_scalar").await;
    assert_eq!(r.body, json!([1, 2, 3]));
    let r = get("/rpc/r_numbers?n=2&select=pgrst_scalar::text").await;
    assert_eq!(r.body, json!(["1", "2"]));
    // A singular answer from a set of scalars is the row, as an object.
    let r = get_with(
        "/rpc/r_numbers?n=5&pgrst_scalar=eq.2",
        &[("accept", "application/vnd.pgrst.object+json")],
    )
    .await;
    assert_eq!(
        (r.status, &r.body),
        (200, &json!({"pgrst_scalar": 2})),
        "{}",
        r.text
    );
}

/// A function returning one value or one row: its page is that one row,
/// even when a filter leaves none (`null`, `0-0/*`), as in PostgREST.
#[tokio::test]
async fn single_row_functions_answer_their_filtered_row() {
    let r = get("/rpc/r_add?a=1&pgrst_scalar=gt.2").await;
    assert_eq!((r.status, &r.body), (200, &json!(101)), "{}", r.text);
    let r = get("/rpc/r_add?a=1&pgrst_scalar=lt.2").await;
    assert_eq!((r.status, r.text.as_str()), (200, "null"));
    assert_eq!(r.header("content-range"), Some("0-0/*"));
    let r = get_with(
        "/rpc/r_add?a=1&pgrst_scalar=lt.2",
        &[("accept", "application/vnd.pgrst.object+json")],
    )
    .await;
    assert_eq!((r.status, r.text.as_str()), (200, "null"));
    let r = get("/rpc/r_item?id=2&id=eq.3").await;
    assert_eq!((r.status, r.text.as_str()), (200, "null"));
    assert_eq!(r.header("content-range"), Some("0-0/*"));
}

/// Any other column of a scalar result is PostgreSQL's 42703, rendered as
/// PostgREST renders it.
#[tokio::test]
async fn scalar_results_have_no_other_column() {
    for (path, relation) in [
        ("/rpc/r_numbers?n=5&foo=gt.2", "r_numbers"),
        ("/rpc/r_numbers?n=5&order=foo.desc", "r_numbers"),
        ("/rpc/r_numbers?n=5&select=foo", "r_numbers"),
        ("/rpc/r_add?a=1&foo=eq.1", "r_add"),
    ] {
        let r = get(path).await;
        assert_eq!(r.status, 400, "{path}: {}", r.text);
        assert_eq!(
            r.body,
            json!({"code": "42703", "details": null, "hint": null,
                   "message": format!("column {relation}.foo does not exist")}),
            "{path}"
        );
    }
    // Renamed, the value is no longer where the body reads it.
    let r = get("/rpc/r_numbers?n=5&select=x:pgrst_scalar").await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"code": "42703", "details": null, "hint": null,
               "message": "column _postgrest_t.pgrst_scalar does not exist"})
    );
}

/// `count=estimated` on a call counts exactly, past `db-max-rows` too: unlike
/// a table read, PostgREST plans no estimate for a function's rows.
#[tokio::test]
async fn estimated_counts_of_calls_are_exact_past_db_max_rows() {
    let mut env = base_env();
    env.push(("PGRST_DB_MAX_ROWS".into(), "2".into()));
    let server = Server::start(env);
    let estimated = |path: &str| {
        send(
            client()
                .get(server.url(path))
                .header("prefer", "count=estimated"),
        )
    };
    // The planner's estimate of a SETOF function is its ROWS (1000).
    let r = estimated("/rpc/r_items_min?min=0&select=id").await;
    assert_eq!(
        (r.status, &r.body),
        (206, &json!([{"id": 1}, {"id": 2}])),
        "{}",
        r.text
    );
    assert_eq!(r.header("content-range"), Some("0-1/4"));
    assert_eq!(r.header("preference-applied"), Some("count=estimated"));
    let r = estimated("/rpc/r_numbers?n=5&pgrst_scalar=gt.1").await;
    assert_eq!((r.status, &r.body), (206, &json!([2, 3])), "{}", r.text);
    assert_eq!(r.header("content-range"), Some("0-1/4"));
}

/// A function's hoisted settings are applied before the app settings (as
/// PostgREST's set_config statement orders them): for an `app.settings.*`
/// key named by both, the configured value is the transaction's, while the
/// function still runs with its own.
#[tokio::test]
async fn hoisted_function_settings_come_before_app_settings() {
    let mut env = base_env();
    env.push((
        "PGRST_DB_HOISTED_TX_SETTINGS".into(),
        "statement_timeout,app.settings.who".into(),
    ));
    env.push(("PGRST_APP_SETTINGS_who".into(), "config".into()));
    env.push(("PGRST_DB_PRE_REQUEST".into(), "test.r_report_who".into()));
    let server = Server::start(env);
    let r = send(client().get(server.url("/rpc/r_app_setting"))).await;
    assert_eq!((r.status, &r.body), (200, &json!("function")), "{}", r.text);
    assert_eq!(r.header("x-who"), Some("config"));
}
