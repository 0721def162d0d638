//! Writes: POST (objects, bulk arrays, `?columns=`, CSV and form bodies),
//! upserts, PATCH, PUT, DELETE, the `Prefer` options of writes, and the
//! errors and checks that roll a write back. Every test reads the table
//! afterwards through a separate superuser connection.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Reply, request, superuser};

const JSON: &str = "application/json";

/// A request with a body to the shared server.
async fn write(method: Method, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    request(method, path, headers, body).await
}

/// The rows of `sql` as one JSON array (the query selects `to_json(t)` rows).
async fn rows(sql: &str) -> Value {
    let db = superuser().await;
    let row = db
        .query_one(
            &format!("SELECT coalesce(json_agg(t), '[]')::text FROM ({sql}) t"),
            &[],
        )
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    serde_json::from_str(row.get::<_, &str>(0)).unwrap()
}

fn pgrst(code: &str, message: &str) -> Value {
    json!({"code": code, "message": message, "details": null, "hint": null})
}

#[tokio::test]
async fn post_inserts_an_object_and_answers_201() {
    let r = write(
        Method::POST,
        "/w_post",
        &[("Content-Type", JSON), ("Prefer", "tx=commit")],
        r#"{"name": "first", "qty": 1}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.text, "");
    assert_eq!(r.header("content-range"), Some("*/*"));
    assert_eq!(r.header("preference-applied"), Some("tx=commit"));
    assert_eq!(r.header("location"), None);
    assert_eq!(r.header("content-type"), None);
    assert_eq!(
        rows("SELECT name, qty, note FROM test.w_post WHERE name = 'first'").await,
        json!([{"name": "first", "qty": 1, "note": null}])
    );
}

#[tokio::test]
async fn writes_run_in_a_read_write_read_committed_transaction() {
    // `{}` inserts one row of defaults.
    let r = write(
        Method::POST,
        "/w_tx?select=read_only,isolation,role",
        &[
            ("Content-Type", JSON),
            ("Prefer", "return=representation, tx=commit"),
        ],
        "{}",
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let tx = json!([{"read_only": "off", "isolation": "read committed", "role": "Web Anon"}]);
    assert_eq!(r.body, tx);
    assert_eq!(
        rows("SELECT read_only, isolation, role FROM test.w_tx").await,
        tx
    );
}

#[tokio::test]
async fn representation_selects_and_counts_the_inserted_rows() {
    let r = write(
        Method::POST,
        "/w_post?select=name,qty_text:qty::text",
        &[
            ("Content-Type", JSON),
            ("Prefer", "return=representation, count=exact, tx=commit"),
        ],
        r#"[{"name": "rep1", "qty": 5}, {"name": "rep2", "qty": 6}]"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.body,
        json!([{"name": "rep1", "qty_text": "5"}, {"name": "rep2", "qty_text": "6"}])
    );
    assert_eq!(r.header("content-range"), Some("*/2"));
    assert_eq!(
        r.header("preference-applied"),
        Some("return=representation, count=exact, tx=commit")
    );
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(
        rows("SELECT name, qty FROM test.w_post WHERE name LIKE 'rep%' ORDER BY name").await,
        json!([{"name": "rep1", "qty": 5}, {"name": "rep2", "qty": 6}])
    );

    // CSV and the singular object work on writes as on reads.
    let r = write(
        Method::POST,
        "/w_post?select=name,qty",
        &[
            ("Content-Type", JSON),
            ("Accept", "text/csv"),
            ("Prefer", "return=representation"),
        ],
        r#"[{"name": "c,1", "qty": 1}, {"name": "c2", "qty": 2}]"#,
    )
    .await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (201, "name,qty\n\"c,1\",1\nc2,2")
    );
    let r = write(
        Method::POST,
        "/w_post?select=name",
        &[
            ("Content-Type", JSON),
            ("Accept", "application/vnd.pgrst.object+json"),
            ("Prefer", "return=representation"),
        ],
        r#"{"name": "single"}"#,
    )
    .await;
    assert_eq!((r.status, &r.body), (201, &json!({"name": "single"})));
}

#[tokio::test]
async fn headers_only_gives_the_location_of_the_row() {
    let r = write(
        Method::POST,
        "/w_put",
        &[
            ("Content-Type", JSON),
            ("Prefer", "return=headers-only, tx=commit"),
        ],
        r#"{"a": 7, "b": "x y/z", "v": "loc"}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header("location"), Some("/w_put?a=eq.7&b=eq.x+y%2Fz"));
    assert_eq!(
        r.header("preference-applied"),
        Some("return=headers-only, tx=commit")
    );
    assert_eq!(r.text, "");
    assert_eq!(
        rows("SELECT v FROM test.w_put WHERE a = 7").await,
        json!([{"v": "loc"}])
    );
    // Several rows: no Location.
    let r = write(
        Method::POST,
        "/w_put",
        &[("Content-Type", JSON), ("Prefer", "return=headers-only")],
        r#"[{"a": 8, "b": "p"}, {"a": 9, "b": "q"}]"#,
    )
    .await;
    assert_eq!((r.status, r.header("location")), (201, None));
}

#[tokio::test]
async fn bulk_inserts_with_columns_and_missing_defaults() {
    // postgrest-js quotes the names; keys outside `columns` are ignored and
    // missing keys are null.
    let r = write(
        Method::POST,
        "/w_bulk?columns=%22name%22,%22qty%22",
        &[
            ("Content-Type", JSON),
            ("Prefer", "tx=commit, return=representation"),
        ],
        r#"[{"name": "b1", "qty": 1, "note": "ignored"}, {"name": "b2"}]"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body.as_array().map(Vec::len), Some(2));
    assert_eq!(
        rows("SELECT name, qty, note FROM test.w_bulk WHERE name LIKE 'b_' ORDER BY name").await,
        json!([{"name": "b1", "qty": 1, "note": null}, {"name": "b2", "qty": null, "note": null}])
    );

    // missing=default: absent keys take the column default.
    let r = write(
        Method::POST,
        "/w_bulk?columns=name,qty,note",
        &[
            ("Content-Type", JSON),
            ("Prefer", "tx=commit, missing=default"),
        ],
        r#"[{"qty": 100}, {"name": "d2", "qty": 101}]"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.header("preference-applied"),
        Some("missing=default, tx=commit")
    );
    assert_eq!(
        rows("SELECT name, qty FROM test.w_bulk WHERE qty >= 100 ORDER BY qty").await,
        json!([{"name": "unnamed", "qty": 100}, {"name": "d2", "qty": 101}])
    );

    // One failing row (a check violation) writes nothing.
    let r = write(
        Method::POST,
        "/w_bulk",
        &[("Content-Type", JSON), ("Prefer", "tx=commit")],
        r#"[{"name": "bad1", "qty": 1}, {"name": "bad2", "qty": -1}]"#,
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["code"], "23514");
    assert_eq!(
        rows("SELECT name FROM test.w_bulk WHERE name LIKE 'bad%'").await,
        json!([])
    );
}

#[tokio::test]
async fn bodies_that_cannot_be_written_are_pgrst102_or_pgrst204() {
    let commit = ("Prefer", "tx=commit");
    let cases: [(&str, &str, &str, u16, Value); 7] = [
        (
            "/w_errors",
            JSON,
            r#"[{"name": "e1"}, {"qty": 1}]"#,
            400,
            pgrst("PGRST102", "All object keys must match"),
        ),
        (
            "/w_errors",
            JSON,
            "{bad",
            400,
            pgrst("PGRST102", "Empty or invalid json"),
        ),
        (
            "/w_errors",
            JSON,
            "",
            400,
            pgrst("PGRST102", "Empty or invalid json"),
        ),
        (
            "/w_errors",
            "application/xml",
            "<a/>",
            400,
            pgrst("PGRST102", "Content-Type not acceptable: application/xml"),
        ),
        (
            "/w_errors",
            "text/plain",
            "x",
            400,
            pgrst("PGRST102", "Content-Type not acceptable: text/plain"),
        ),
        (
            "/w_errors",
            JSON,
            r#"{"name": "e2", "nope": 1}"#,
            400,
            pgrst(
                "PGRST204",
                "Could not find the 'nope' column of 'w_errors' in the schema cache",
            ),
        ),
        (
            "/w_errors?columns=name,nope",
            JSON,
            r#"{"name": "e3"}"#,
            400,
            pgrst(
                "PGRST204",
                "Could not find the 'nope' column of 'w_errors' in the schema cache",
            ),
        ),
    ];
    for (path, content_type, body, status, error) in cases {
        let r = write(
            Method::POST,
            path,
            &[("Content-Type", content_type), commit],
            body,
        )
        .await;
        assert_eq!((r.status, &r.body), (status, &error), "{path} {body}");
    }
    // A JSON scalar is an empty array: nothing is inserted.
    let r = write(
        Method::POST,
        "/w_errors",
        &[("Content-Type", JSON), commit],
        "1",
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(rows("SELECT * FROM test.w_errors").await, json!([]));
}

#[tokio::test]
async fn constraint_violations_keep_their_sqlstate() {
    let cases = [
        ("/w_upsert", r#"{"id": 1, "code": "zz"}"#, 409, "23505"),
        ("/w_child", r#"{"id": 1, "parent_id": 99}"#, 409, "23503"),
        ("/w_child", r#"{"id": 2}"#, 400, "23502"),
        ("/w_post", r#"{"qty": -5}"#, 400, "23514"),
        ("/w_post", r#"{"qty": "many"}"#, 400, "22P02"),
    ];
    for (path, body, status, code) in cases {
        let r = write(Method::POST, path, &[("Content-Type", JSON)], body).await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (status, Some(code)),
            "{body}"
        );
    }
    let r = write(
        Method::POST,
        "/w_upsert",
        &[("Content-Type", JSON)],
        r#"{"id": 1, "code": "zz"}"#,
    )
    .await;
    assert_eq!(
        r.body,
        json!({
            "code": "23505",
            "message": "duplicate key value violates unique constraint \"w_upsert_pkey\"",
            "details": "Key (id)=(1) already exists.",
            "hint": null,
        })
    );
}

#[tokio::test]
async fn upserts_merge_or_ignore_duplicates() {
    let merge = [
        ("Content-Type", JSON),
        (
            "Prefer",
            "resolution=merge-duplicates, return=representation, tx=commit",
        ),
    ];
    // One new row and one conflicting row: 201.
    let r = write(
        Method::POST,
        "/w_upsert",
        &merge,
        r#"[{"id": 1, "code": "a", "v": "new a"}, {"id": 3, "code": "c", "v": "new c"}]"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.header("preference-applied"),
        Some("resolution=merge-duplicates, return=representation, tx=commit")
    );
    // Only conflicting rows: 200.
    let r = write(
        Method::POST,
        "/w_upsert?on_conflict=code",
        &merge,
        r#"{"id": 2, "code": "b", "v": "new b"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"id": 2, "code": "b", "v": "new b"}]));
    // ignore-duplicates keeps the existing row.
    let r = write(
        Method::POST,
        "/w_upsert",
        &[
            ("Content-Type", JSON),
            (
                "Prefer",
                "resolution=ignore-duplicates, return=representation, tx=commit",
            ),
        ],
        r#"[{"id": 1, "code": "a", "v": "ignored"}, {"id": 4, "code": "d", "v": "d"}]"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body, json!([{"id": 4, "code": "d", "v": "d"}]));
    assert_eq!(
        rows("SELECT id, v FROM test.w_upsert ORDER BY id").await,
        json!([
            {"id": 1, "v": "new a"},
            {"id": 2, "v": "new b"},
            {"id": 3, "v": "new c"},
            {"id": 4, "v": "d"},
        ])
    );
}

#[tokio::test]
async fn patch_updates_the_filtered_rows() {
    let r = write(
        Method::PATCH,
        "/w_patch?id=lte.2",
        &[("Content-Type", JSON), ("Prefer", "count=exact, tx=commit")],
        r#"{"qty": 10}"#,
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(r.header("content-range"), Some("0-1/2"));
    assert_eq!(
        r.header("preference-applied"),
        Some("count=exact, tx=commit")
    );
    let r = write(
        Method::PATCH,
        "/w_patch?id=eq.3&select=id,name",
        &[
            ("Content-Type", JSON),
            ("Prefer", "return=representation, tx=commit"),
        ],
        r#"{"name": "THREE"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"id": 3, "name": "THREE"}]));
    assert_eq!(r.header("content-range"), Some("0-0/*"));
    // Nothing matches, or nothing to set: 204, no rows touched.
    let r = write(
        Method::PATCH,
        "/w_patch?id=eq.99",
        &[("Content-Type", JSON)],
        r#"{"qty": 1}"#,
    )
    .await;
    assert_eq!((r.status, r.header("content-range")), (204, Some("*/*")));
    let r = write(
        Method::PATCH,
        "/w_patch",
        &[("Content-Type", JSON), ("Prefer", "tx=commit")],
        "{}",
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        rows("SELECT id, name, qty FROM test.w_patch ORDER BY id").await,
        json!([
            {"id": 1, "name": "one", "qty": 10},
            {"id": 2, "name": "two", "qty": 10},
            {"id": 3, "name": "THREE", "qty": 3},
            {"id": 4, "name": "four", "qty": 4},
        ])
    );
}

#[tokio::test]
async fn delete_removes_the_filtered_rows() {
    let r = write(
        Method::DELETE,
        "/w_delete?id=in.(1,2)&select=name",
        &[("Prefer", "return=representation, count=exact, tx=commit")],
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"name": "one"}, {"name": "two"}]));
    assert_eq!(r.header("content-range"), Some("*/2"));
    let r = write(
        Method::DELETE,
        "/w_delete?name=eq.three",
        &[("Prefer", "tx=commit")],
        "",
    )
    .await;
    assert_eq!((r.status, r.header("content-range")), (204, Some("*/*")));
    assert_eq!(
        rows("SELECT id FROM test.w_delete").await,
        json!([{"id": 4}])
    );
}

#[tokio::test]
async fn put_upserts_one_row_by_its_primary_key() {
    let json_commit = [("Content-Type", JSON), ("Prefer", "tx=commit")];
    let r = write(
        Method::PUT,
        "/w_put?a=eq.1&b=eq.x",
        &json_commit,
        r#"{"a": 1, "b": "x", "v": "replaced"}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.header("content-range")),
        (204, None),
        "{}",
        r.text
    );
    let rep = [
        ("Content-Type", JSON),
        ("Prefer", "return=representation, tx=commit"),
    ];
    let r = write(
        Method::PUT,
        "/w_put?b=eq.y&a=eq.2",
        &rep,
        r#"{"a": 2, "b": "y", "v": "new"}"#,
    )
    .await;
    assert_eq!(
        (r.status, &r.body),
        (201, &json!([{"a": 2, "b": "y", "v": "new"}]))
    );
    let r = write(
        Method::PUT,
        "/w_put?b=eq.y&a=eq.2",
        &rep,
        r#"{"a": 2, "b": "y", "v": "again"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // PGRST105: filters must be all and only the key with eq.
    for query in [
        "a=eq.1",
        "a=eq.1&b=eq.x&v=eq.old",
        "a=gt.1&b=eq.x",
        "a=eq.1&b=eq.x&or=(v.eq.1)",
    ] {
        let r = write(
            Method::PUT,
            &format!("/w_put?{query}"),
            &json_commit,
            r#"{"a": 1, "b": "x"}"#,
        )
        .await;
        assert_eq!(
            (r.status, &r.body),
            (
                405,
                &pgrst(
                    "PGRST105",
                    "Filters must include all and only primary key columns with 'eq' operators"
                )
            ),
            "{query}"
        );
    }
    let r = write(
        Method::PUT,
        "/w_put?a=eq.1&b=eq.x&limit=1",
        &json_commit,
        r#"{"a": 1, "b": "x"}"#,
    )
    .await;
    assert_eq!(
        (r.status, &r.body),
        (
            400,
            &pgrst(
                "PGRST114",
                "limit/offset querystring parameters are not allowed for PUT"
            )
        )
    );
    // PGRST115: the body's key differs from the URL's; nothing is written.
    let r = write(
        Method::PUT,
        "/w_put?a=eq.3&b=eq.z",
        &json_commit,
        r#"{"a": 4, "b": "z", "v": "no"}"#,
    )
    .await;
    assert_eq!(
        (r.status, &r.body),
        (
            400,
            &pgrst(
                "PGRST115",
                "Payload values do not match URL in primary key column(s)"
            )
        )
    );
    assert_eq!(
        rows("SELECT a, b, v FROM test.w_put WHERE a < 7 ORDER BY a").await,
        json!([{"a": 1, "b": "x", "v": "replaced"}, {"a": 2, "b": "y", "v": "again"}])
    );
}

#[tokio::test]
async fn failed_checks_and_tx_rollback_write_nothing() {
    let commit = [("Content-Type", JSON), ("Prefer", "tx=commit")];
    // PGRST116: a singular response for two rows.
    let mut singular = commit.to_vec();
    singular.push(("Accept", "application/vnd.pgrst.object+json"));
    let r = write(
        Method::PATCH,
        "/w_rollback?id=lte.2",
        &singular,
        r#"{"qty": 50}"#,
    )
    .await;
    assert_eq!(r.status, 406, "{}", r.text);
    assert_eq!(r.body["code"], "PGRST116");
    // PGRST124: more rows than max-affected under handling=strict.
    let strict = [
        ("Content-Type", JSON),
        ("Prefer", "tx=commit, handling=strict, max-affected=2"),
    ];
    let r = write(Method::DELETE, "/w_rollback", &strict, "").await;
    assert_eq!(
        (r.status, &r.body),
        (
            400,
            &json!({
                "code": "PGRST124",
                "message": "Query result exceeds max-affected preference constraint",
                "details": "The query affects 3 rows",
                "hint": null,
            })
        )
    );
    // Within the limit it commits and says so.
    let r = write(
        Method::PATCH,
        "/w_rollback?id=eq.3",
        &strict,
        r#"{"name": "THREE"}"#,
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        r.header("preference-applied"),
        Some("tx=commit, handling=strict, max-affected=2")
    );
    // The shared server rolls back by default; tx=rollback too.
    let r = write(Method::DELETE, "/w_rollback?id=eq.1", &[], "").await;
    assert_eq!(r.status, 204);
    let r = write(
        Method::DELETE,
        "/w_rollback?id=eq.2",
        &[("Prefer", "tx=rollback")],
        "",
    )
    .await;
    assert_eq!(
        (r.status, r.header("preference-applied")),
        (204, Some("tx=rollback"))
    );
    assert_eq!(
        rows("SELECT id, name, qty FROM test.w_rollback ORDER BY id").await,
        json!([
            {"id": 1, "name": "one", "qty": 1},
            {"id": 2, "name": "two", "qty": 2},
            {"id": 3, "name": "THREE", "qty": 3},
        ])
    );
}

#[tokio::test]
async fn csv_and_form_bodies() {
    let r = write(
        Method::POST,
        "/w_body?select=name,qty,note",
        &[
            ("Content-Type", "text/csv"),
            ("Prefer", "return=representation, tx=commit"),
        ],
        "name,qty,note\r\ncsv1,1,\"a, \"\"quoted\"\" note\"\r\ncsv2,2,NULL\r\n",
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.body,
        json!([
            {"name": "csv1", "qty": 1, "note": "a, \"quoted\" note"},
            {"name": "csv2", "qty": 2, "note": null},
        ])
    );
    let r = write(
        Method::POST,
        "/w_body",
        &[("Content-Type", "text/csv")],
        "name,qty\ncsv3\n",
    )
    .await;
    assert_eq!(
        (r.status, &r.body),
        (
            400,
            &pgrst("PGRST102", "All lines must have same number of fields")
        )
    );
    let r = write(
        Method::POST,
        "/w_body",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Prefer", "tx=commit"),
        ],
        "name=form+one&qty=3&note=%C3%A9%26",
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        rows("SELECT name, qty, note FROM test.w_body ORDER BY name").await,
        json!([
            {"name": "csv1", "qty": 1, "note": "a, \"quoted\" note"},
            {"name": "csv2", "qty": 2, "note": null},
            {"name": "form one", "qty": 3, "note": "é&"},
        ])
    );
}

#[tokio::test]
async fn writes_through_views_and_quoted_names() {
    let rep = [
        ("Content-Type", JSON),
        ("Prefer", "return=representation, tx=commit"),
    ];
    let r = write(
        Method::POST,
        "/w_auto_view",
        &rep,
        r#"{"id": 1, "name": "auto"}"#,
    )
    .await;
    assert_eq!(
        (r.status, &r.body),
        (201, &json!([{"id": 1, "name": "auto"}]))
    );
    let r = write(
        Method::PATCH,
        "/w_auto_view?id=eq.1",
        &rep,
        r#"{"name": "auto2"}"#,
    )
    .await;
    assert_eq!(
        (r.status, &r.body),
        (200, &json!([{"id": 1, "name": "auto2"}]))
    );
    assert_eq!(
        rows("SELECT * FROM test.w_base").await,
        json!([{"id": 1, "name": "auto2", "hidden": "secret"}])
    );
    // PUT through the view: its key comes from the base table's.
    let r = write(
        Method::PUT,
        "/w_auto_view?id=eq.1",
        &rep,
        r#"{"id": 1, "name": "put"}"#,
    )
    .await;
    assert_eq!(
        (r.status, &r.body),
        (200, &json!([{"id": 1, "name": "put"}])),
        "{}",
        r.text
    );
    assert_eq!(
        rows("SELECT name FROM test.w_base").await,
        json!([{"name": "put"}])
    );

    let r = write(
        Method::POST,
        "/w_trig_view",
        &rep,
        r#"[{"id": 1, "name": "trig"}, {"id": 2, "name": "gone"}]"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = write(
        Method::PATCH,
        "/w_trig_view?id=eq.1",
        &rep,
        r#"{"name": "trig2"}"#,
    )
    .await;
    assert_eq!(
        (r.status, &r.body),
        (200, &json!([{"id": 1, "name": "trig2"}]))
    );
    let r = write(
        Method::DELETE,
        "/w_trig_view?id=eq.2",
        &[("Prefer", "tx=commit")],
        "",
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        rows("SELECT * FROM test.w_trig_base").await,
        json!([{"id": 1, "upper_name": "TRIG2"}])
    );

    let r = write(
        Method::POST,
        "/W%20Quoted?columns=%22Id%22,%22Full%20Name%22,%22a,b%22",
        &[
            ("Content-Type", JSON),
            ("Prefer", "return=headers-only, tx=commit"),
        ],
        r#"{"Id": 1, "Full Name": "Q \"x\"", "a,b": "c"}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header("location"), Some("/W Quoted?Id=eq.1"));
    assert_eq!(
        rows(r#"SELECT * FROM test."W Quoted""#).await,
        json!([{"Id": 1, "Full Name": "Q \"x\"", "a,b": "c"}])
    );
}

#[tokio::test]
async fn representations_embed_and_show_rows_the_filters_no_longer_match() {
    let rep = [
        ("Content-Type", JSON),
        ("Prefer", "return=representation, tx=rollback"),
    ];
    // The written row with its parent, embedded through the foreign key.
    let r = write(
        Method::POST,
        "/w_child?select=id,w_parent(id)",
        &rep,
        r#"{"id": 10, "parent_id": 1}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body, json!([{"id": 10, "w_parent": {"id": 1}}]));
    // The filter chose the row; the updated row no longer matches it and is
    // still what the write answers with.
    let r = write(
        Method::PATCH,
        "/w_moved?qty=eq.2&select=id,qty",
        &rep,
        r#"{"qty": 20}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"id": 2, "qty": 20}]));
    assert_eq!(
        rows("SELECT id, qty FROM test.w_moved WHERE id = 2").await,
        json!([{"id": 2, "qty": 2}])
    );
}
