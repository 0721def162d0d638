//! PostgREST 16 parity of writes and what goes with them: the column
//! defaults `Prefer: missing=default` gives absent keys, the status and
//! `Preference-Applied` of upserts, computed fields in a write's `select`,
//! JSON scalars stored in json/jsonb columns, totals of reads whose embeds
//! filter the rows, and `Content-Profile` with two exposed schemas.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Reply, Server, base_env, get_with, request, request_on, superuser};

const JSON: &str = "application/json";

/// A JSON write to the shared server with this `Prefer`.
async fn write(method: Method, path: &str, prefer: &str, body: &str) -> Reply {
    let headers = [("Content-Type", JSON), ("Prefer", prefer)];
    request(method, path, &headers, body).await
}

async fn post(path: &str, prefer: &str, body: &str) -> Reply {
    write(Method::POST, path, prefer, body).await
}

/// `(status, Content-Range, Preference-Applied)`.
fn head_of(r: &Reply) -> (u16, Option<&str>, Option<&str>) {
    (
        r.status,
        r.header("content-range"),
        r.header("preference-applied"),
    )
}

#[tokio::test]
async fn missing_default_gives_absent_keys_every_kind_of_default() {
    let r = post(
        "/pw_defaults?columns=id,ident,made,token,answer,label,name\
         &select=id,ident,made,token,answer,label,twice,name",
        "missing=default, return=representation",
        r#"[{"name": "a"}, {"name": "b", "answer": 1, "label": "given"}]"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.header("preference-applied"),
        Some("missing=default, return=representation")
    );
    let rows = r.body.as_array().expect("an array");
    assert_eq!(rows.len(), 2, "{}", r.text);
    let field = |i: usize, k: &str| rows[i][k].clone();
    // serial and identity columns draw from their sequences, per row.
    for k in ["id", "ident"] {
        assert!(field(0, k).is_i64() && field(1, k).is_i64(), "{}", r.text);
        assert_ne!(field(0, k), field(1, k), "{}", r.text);
    }
    // Volatile defaults are evaluated per row.
    assert!(field(0, "made").is_string(), "{}", r.text);
    let token = |i: usize| field(i, "token").as_str().map(str::len);
    assert_eq!((token(0), token(1)), (Some(36), Some(36)), "{}", r.text);
    assert_ne!(field(0, "token"), field(1, "token"), "{}", r.text);
    let given: Vec<Value> = rows
        .iter()
        .map(|row| json!([row["answer"], row["label"], row["twice"], row["name"]]))
        .collect();
    assert_eq!(
        given,
        vec![
            json!([42, "from the domain", 84, "a"]),
            json!([1, "given", 2, "b"])
        ]
    );

    // An object body too; a view's own default, and the table's for a
    // column the view leaves out.
    let cases = [
        (
            "/pw_defaults?columns=answer,label&select=answer,label",
            r#"{"answer": 7}"#,
            json!([{"answer": 7, "label": "from the domain"}]),
        ),
        (
            "/pw_defaults_view?columns=id,name&select=id,answer,name",
            r#"[{"id": 2000}]"#,
            json!([{"id": 2000, "answer": 42, "name": "view default"}]),
        ),
    ];
    for (path, body, inserted) in cases {
        let r = post(path, "missing=default, return=representation", body).await;
        assert_eq!((r.status, &r.body), (201, &inserted), "{path}: {}", r.text);
    }

    // PATCH sets the absent keys to their defaults too.
    let r = write(
        Method::PATCH,
        "/pw_defaults?id=eq.1000&columns=answer,label,name&select=answer,label,name",
        "missing=default, return=representation",
        r#"{"name": "patched"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!([{"answer": 42, "label": "from the domain", "name": "patched"}])
    );
    assert_eq!(
        r.header("preference-applied"),
        Some("missing=default, return=representation")
    );
}

#[tokio::test]
async fn without_missing_default_absent_keys_are_null() {
    let r = post(
        "/pw_defaults?columns=answer,label,name",
        "return=representation",
        r#"[{"name": "a", "label": "x"}]"#,
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["code"], "23502", "{}", r.text);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap_or("")
            .contains("\"answer\""),
        "{}",
        r.text
    );
    // A key the payload sets to null stays null under missing=default.
    let r = post(
        "/pw_defaults_view?columns=id,name&select=id,name",
        "missing=default, return=representation",
        r#"[{"id": 2001, "name": null}]"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body, json!([{"id": 2001, "name": null}]));
}

#[tokio::test]
async fn a_generated_column_has_no_default_to_give() {
    let r = post(
        "/pw_defaults?columns=label,twice",
        "missing=default",
        r#"[{"label": "l"}]"#,
    )
    .await;
    assert_eq!(
        (r.status, &r.body["code"]),
        (400, &json!("428C9")),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn merge_duplicates_is_200_only_when_every_row_existed() {
    let prefer = "resolution=merge-duplicates, count=exact";
    let all = post(
        "/pw_upsert",
        prefer,
        r#"[{"id": 1, "name": "uno"}, {"id": 2, "name": "dos"}]"#,
    )
    .await;
    let applied = Some("resolution=merge-duplicates, count=exact");
    assert_eq!(head_of(&all), (200, Some("*/2"), applied), "{}", all.text);
    let some = post(
        "/pw_upsert",
        prefer,
        r#"[{"id": 2, "name": "dos"}, {"id": 3, "name": "tres"}]"#,
    )
    .await;
    assert_eq!(head_of(&some), (201, Some("*/2"), applied), "{}", some.text);
    let none = post("/pw_upsert", prefer, r#"[{"id": 8, "name": "ocho"}]"#).await;
    assert_eq!(head_of(&none), (201, Some("*/1"), applied), "{}", none.text);
    // Nothing to insert is not an insert either.
    let empty = post("/pw_upsert", prefer, "[]").await;
    assert_eq!(
        head_of(&empty),
        (200, Some("*/0"), applied),
        "{}",
        empty.text
    );

    let r = post(
        "/pw_upsert?select=id,name",
        "resolution=merge-duplicates, return=representation",
        r#"{"id": 1, "name": "uno"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"id": 1, "name": "uno"}]));
    assert_eq!(
        r.header("preference-applied"),
        Some("resolution=merge-duplicates, return=representation")
    );
}

#[tokio::test]
async fn upserts_fill_an_identity_key_under_missing_default() {
    let r = post(
        "/PW%20Surrogate?columns=id,name&select=name,extra",
        "return=representation, resolution=merge-duplicates, missing=default",
        r#"[{"id": 1, "name": "updated value"}, {"name": "new value"}]"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.body,
        json!([
            {"name": "updated value", "extra": "existing value"},
            {"name": "new value", "extra": null}
        ])
    );
    assert_eq!(
        r.header("preference-applied"),
        Some("resolution=merge-duplicates, missing=default, return=representation")
    );
}

#[tokio::test]
async fn ignore_duplicates_is_always_201() {
    let prefer = "resolution=ignore-duplicates, return=representation";
    let applied = Some("resolution=ignore-duplicates, return=representation");
    let all = post(
        "/pw_upsert",
        prefer,
        r#"[{"id": 1, "name": "x"}, {"id": 2, "name": "y"}]"#,
    )
    .await;
    assert_eq!(head_of(&all), (201, Some("*/*"), applied), "{}", all.text);
    assert_eq!(all.body, json!([]));
    let some = post(
        "/pw_upsert",
        prefer,
        r#"[{"id": 2, "name": "y"}, {"id": 4, "name": "z"}]"#,
    )
    .await;
    assert_eq!(head_of(&some), (201, Some("*/*"), applied), "{}", some.text);
    assert_eq!(some.body, json!([{"id": 4, "name": "z"}]));
    let none = post("/pw_upsert", prefer, r#"[{"id": 5, "name": "w"}]"#).await;
    assert_eq!(head_of(&none), (201, Some("*/*"), applied), "{}", none.text);
}

#[tokio::test]
async fn a_resolution_without_a_conflict_target_is_not_applied() {
    let r = post(
        "/pw_keyless",
        "resolution=merge-duplicates, return=minimal",
        r#"[{"name": "a"}]"#,
    )
    .await;
    assert_eq!(
        head_of(&r),
        (201, Some("*/*"), Some("return=minimal")),
        "{}",
        r.text
    );
    // `on_conflict` names a target; without a unique index PostgreSQL refuses it.
    let r = post(
        "/pw_upsert?on_conflict=name",
        "resolution=ignore-duplicates",
        r#"[{"id": 9, "name": "a"}]"#,
    )
    .await;
    assert_eq!(r.body["code"], "42P10", "{}", r.text);
}

#[tokio::test]
async fn put_is_201_when_it_inserts_and_200_when_it_replaces() {
    let put = |path, prefer, body| write(Method::PUT, path, prefer, body);
    let r = put(
        "/pw_upsert?id=eq.1",
        "return=representation",
        r#"{"id": 1, "name": "uno"}"#,
    )
    .await;
    assert_eq!(
        head_of(&r),
        (200, None, Some("return=representation")),
        "{}",
        r.text
    );
    assert_eq!(r.body, json!([{"id": 1, "name": "uno"}]));
    let r = put(
        "/pw_upsert?id=eq.7",
        "return=representation",
        r#"{"id": 7, "name": "siete"}"#,
    )
    .await;
    assert_eq!(
        head_of(&r),
        (201, None, Some("return=representation")),
        "{}",
        r.text
    );
    // Neither resolution nor missing applies to PUT.
    let r = put(
        "/pw_upsert?id=eq.7",
        "resolution=ignore-duplicates, missing=default, count=exact",
        r#"{"id": 7, "name": "siete"}"#,
    )
    .await;
    assert_eq!(head_of(&r), (204, None, Some("count=exact")), "{}", r.text);
    assert_eq!(r.header("content-type"), None);
}

#[tokio::test]
async fn computed_fields_in_the_select_of_every_write() {
    let r = post(
        "/pw_cf_a?select=id,pw_caption,c:pw_caption,pw_twin(pw_caption)",
        "return=representation",
        r#"{"id": 3, "name": "new"}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.body,
        json!([{"id": 3, "pw_caption": "a: new", "c": "a: new", "pw_twin": [{"pw_caption": "b: third"}]}])
    );

    let full = "return=representation";
    let r = write(
        Method::PATCH,
        "/pw_cf_b?id=eq.1&select=pw_caption",
        full,
        r#"{"title": "changed"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"pw_caption": "b: changed"}]));

    // A PATCH without keys touches nothing, and still knows the function.
    let r = write(Method::PATCH, "/pw_cf_b?select=id,pw_caption", full, "{}").await;
    assert_eq!((r.status, &r.body), (200, &json!([])), "{}", r.text);

    let r = write(
        Method::DELETE,
        "/pw_cf_a?id=eq.1&select=id,pw_caption",
        full,
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"id": 1, "pw_caption": "a: first"}]));

    let r = write(
        Method::PUT,
        "/pw_cf_b?id=eq.5&select=pw_caption",
        full,
        r#"{"id": 5, "title": "put"}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body, json!([{"pw_caption": "b: put"}]));
}

#[tokio::test]
async fn json_scalars_objects_and_arrays_are_stored_as_json() {
    let r = post(
        "/pw_json",
        "tx=commit",
        r#"[{"id": 1, "j": "text", "b": "text"},
            {"id": 2, "j": 7, "b": 7.5},
            {"id": 3, "j": true, "b": false},
            {"id": 4, "j": null, "b": null},
            {"id": 5, "j": {"k": [1]}, "b": {"k": [1]}},
            {"id": 6, "j": [1, "a"], "b": []}]"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // One object, and under missing=default the body is read as jsonb: a
    // repeated key keeps its last value, though no column has a default.
    let r = post(
        "/pw_json?columns=id,j,b",
        "tx=commit, missing=default",
        r#"[{"id": 7, "j": "s", "b": 0}, {"id": 8, "j": {"a": 1, "a": 2}, "b": {"a": 1, "a": 2}}]"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let db = superuser().await;
    let stored = db
        .query_one(
            "SELECT json_agg(json_build_array(id, j_sql_null, j_type, j_text, \
                                              b_sql_null, b_type, b_text) ORDER BY id)::text \
             FROM test.pw_json_stored",
            &[],
        )
        .await
        .unwrap();
    let stored: Value = serde_json::from_str(stored.get(0)).unwrap();
    // id, then for each column: SQL NULL, json(b)_typeof, the stored text.
    assert_eq!(
        stored,
        json!([
            [1, false, "string", "\"text\"", false, "string", "\"text\""],
            [2, false, "number", "7", false, "number", "7.5"],
            [3, false, "boolean", "true", false, "boolean", "false"],
            [4, true, null, null, true, null, null],
            [
                5,
                false,
                "object",
                "{\"k\": [1]}",
                false,
                "object",
                "{\"k\": [1]}"
            ],
            [6, false, "array", "[1, \"a\"]", false, "array", "[]"],
            [7, false, "string", "\"s\"", false, "number", "0"],
            [
                8,
                false,
                "object",
                "{\"a\": 2}",
                false,
                "object",
                "{\"a\": 2}"
            ],
        ])
    );
}

/// `(path, Range header, status, Content-Range)`: a read with `Prefer:
/// count=exact` and what it answers.
type Counted = (&'static str, Option<&'static str>, u16, &'static str);

#[tokio::test]
async fn totals_count_the_rows_null_tests_on_embeds_keep() {
    const EITHER: &str = "/pw_owner?select=id,pw_cat(name),pw_dog(name)\
                          &or=(pw_cat.not.is.null,pw_dog.not.is.null)&order=id";
    const TO_ONE: &str = "/pw_home?select=*,pw_cat(*),pw_dog(*)\
                          &or=(pw_cat.not.is.null,pw_dog.not.is.null)";
    let cases: [Counted; 13] = [
        (EITHER, None, 200, "0-2/3"),
        (
            "/rpc/pw_owners?select=*,pw_cat(*),pw_dog(*)&or=(pw_cat.not.is.null,pw_dog.not.is.null)",
            None,
            200,
            "0-2/3",
        ),
        (
            "/rpc/pw_owners?select=*,pw_cat!inner(*)",
            None,
            200,
            "0-1/2",
        ),
        // A range over the whole result is 200; a part of it is 206.
        (EITHER, Some("0-9"), 200, "0-2/3"),
        (EITHER, Some("0-1"), 206, "0-1/3"),
        (TO_ONE, None, 200, "0-1/2"),
        (TO_ONE, Some("0-5"), 200, "0-1/2"),
        (
            "/pw_owner?select=id,pw_dog(name)&pw_dog=not.is.null",
            None,
            200,
            "0-1/2",
        ),
        (
            "/pw_owner?select=id,pw_dog(name)&pw_dog=is.null",
            None,
            200,
            "0-1/2",
        ),
        (
            "/pw_home?select=id,pw_dog(name)&pw_dog=is.null",
            None,
            200,
            "0-1/2",
        ),
        ("/pw_owner?select=id,pw_cat!inner(name)", None, 200, "0-1/2"),
        (
            "/pw_owner?select=id,pw_cat!inner(name),pw_dog(name)&pw_cat.name=eq.felix",
            None,
            200,
            "0-0/1",
        ),
        // An embed that filters nothing leaves the total alone.
        (
            "/pw_owner?select=id,pw_dog(name)&pw_dog.name=eq.rex",
            None,
            200,
            "0-3/4",
        ),
    ];
    for (path, range, status, content_range) in cases {
        let mut headers = vec![("Prefer", "count=exact")];
        headers.extend(range.map(|r| ("Range", r)));
        let r = get_with(path, &headers).await;
        assert_eq!(
            (r.status, r.header("content-range")),
            (status, Some(content_range)),
            "{path} {range:?}: {}",
            r.text
        );
    }
    let ids = |r: &Reply| {
        r.body
            .as_array()
            .map(|a| a.iter().map(|o| o["id"].clone()).collect::<Vec<_>>())
    };
    let r = get_with(EITHER, &[("Prefer", "count=exact")]).await;
    assert_eq!(ids(&r), Some(vec![json!(1), json!(2), json!(4)]));
    let r = get_with(
        "/pw_owner?select=id,pw_cat!inner(name),pw_dog(name)&pw_cat.name=eq.felix",
        &[],
    )
    .await;
    assert_eq!(
        r.body,
        json!([{"id": 4, "pw_cat": [{"name": "felix"}], "pw_dog": [{"name": "fido"}]}])
    );
}

/// A server exposing `test` (the default) and `pw_other`.
fn two_schemas() -> Server {
    let mut env = base_env();
    env.push(("PGRST_DB_SCHEMAS".into(), "test, pw_other".into()));
    Server::start(env)
}

/// `(method, path, request headers, body, status, Content-Profile)`.
type Profiled = (
    Method,
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
    u16,
    Option<&'static str>,
);

#[tokio::test]
async fn content_profile_names_the_schema_of_every_answer_with_a_body() {
    let server = two_schemas();
    const OTHER: &[(&str, &str)] = &[("Accept-Profile", "pw_other")];
    const TO_OTHER: &[(&str, &str)] = &[("Content-Profile", "pw_other")];
    const FULL: &[(&str, &str)] = &[("Prefer", "return=representation")];
    const COUNT: &[(&str, &str)] = &[("Prefer", "count=exact")];
    const FULL_TO_OTHER: &[(&str, &str)] = &[
        ("Prefer", "return=representation"),
        ("Content-Profile", "pw_other"),
    ];
    let (test, other) = (Some("test"), Some("pw_other"));
    let cases: [Profiled; 23] = [
        // Reads, with and without Accept-Profile; HEAD too.
        (Method::GET, "/pw_things", &[], "", 200, test),
        (Method::GET, "/pw_things", OTHER, "", 200, other),
        // PGRST103 replaces the body, the headers stay.
        (Method::GET, "/pw_things?offset=5", COUNT, "", 416, test),
        (Method::HEAD, "/pw_things", &[], "", 200, test),
        // Functions; a void one answers 204 without one.
        (Method::GET, "/rpc/pw_where", &[], "", 200, test),
        (Method::POST, "/rpc/pw_where", TO_OTHER, "{}", 200, other),
        (Method::HEAD, "/rpc/pw_where", &[], "", 200, test),
        (Method::POST, "/rpc/pw_nothing", &[], "{}", 204, None),
        // Writes: only those that return a body.
        (Method::POST, "/pw_things", FULL, r#"{"id": 2}"#, 201, test),
        (Method::POST, "/pw_things", &[], r#"{"id": 2}"#, 201, None),
        (
            Method::PATCH,
            "/pw_things?id=eq.1",
            TO_OTHER,
            "{}",
            204,
            None,
        ),
        (
            Method::PATCH,
            "/pw_things?id=eq.1",
            FULL_TO_OTHER,
            "{}",
            200,
            other,
        ),
        (
            Method::PUT,
            "/pw_things?id=eq.1",
            FULL,
            r#"{"id": 1}"#,
            200,
            test,
        ),
        (
            Method::PUT,
            "/pw_things?id=eq.1",
            &[],
            r#"{"id": 1}"#,
            204,
            None,
        ),
        (Method::DELETE, "/pw_things?id=eq.1", FULL, "", 200, test),
        (Method::DELETE, "/pw_things?id=eq.1", &[], "", 204, None),
        // The OpenAPI document; not OPTIONS, not errors.
        (Method::GET, "/", OTHER, "", 200, other),
        (Method::GET, "/", &[], "", 200, test),
        (Method::OPTIONS, "/pw_things", &[], "", 200, None),
        (Method::GET, "/nope", &[], "", 404, None),
        (Method::GET, "/pw_things?id=eq.x", OTHER, "", 400, None),
        (
            Method::GET,
            "/pw_things",
            &[("Accept-Profile", "nope")],
            "",
            406,
            None,
        ),
        (
            Method::POST,
            "/pw_things",
            FULL_TO_OTHER,
            r#"{"id": 1}"#,
            409,
            None,
        ),
    ];
    for (method, path, headers, body, status, profile) in cases {
        let mut all = vec![("Content-Type", JSON)];
        all.extend_from_slice(headers);
        let r = request_on(&server, method.clone(), path, &all, body).await;
        assert_eq!(
            (r.status, r.header("content-profile")),
            (status, profile),
            "{method} {path} {headers:?}: {}",
            r.text
        );
    }
    let r = request_on(&server, Method::GET, "/pw_things", OTHER, "").await;
    assert_eq!(r.body, json!([{"id": 1, "name": "other thing"}]));
}
