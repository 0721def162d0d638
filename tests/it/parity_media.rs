//! Media type handlers as PostgREST 16 negotiates them
//! (tests/fixtures/95_parity_media.sql): a function returning a domain named
//! after a media type answers its raw value for that type (`*/*`: for every
//! type, as `application/octet-stream` unless the function sets another
//! `Content-Type`), overriding the built-in `application/json`; other types
//! fall back to the built-in handlers; `anyelement` aggregates take a
//! function's scalars; the `vnd.pgrst` types are never overridden.

use serde_json::{Value, json};

use crate::aggregates;
use crate::harness::{client, get_with, send, shared};

/// A GET answered as raw bytes: status, Content-Type, Content-Length, body.
async fn raw(path: &str, accept: Option<&str>) -> (u16, String, String, Vec<u8>) {
    let mut req = client().get(shared().url(path));
    if let Some(accept) = accept {
        req = req.header("Accept", accept);
    }
    let r = req.send().await.expect("request sent");
    let header = |name: &str| {
        r.headers()
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default()
    };
    let (content_type, length) = (header("content-type"), header("content-length"));
    let status = r.status().as_u16();
    let body = r.bytes().await.expect("body read").to_vec();
    (status, content_type, length, body)
}

fn answer(content_type: &str, body: &[u8]) -> (u16, String, String, Vec<u8>) {
    (
        200,
        content_type.to_string(),
        body.len().to_string(),
        body.to_vec(),
    )
}

#[tokio::test]
async fn an_any_domain_function_answers_every_type_raw() {
    let octets = answer("application/octet-stream", b"\x00\xff\x7b");
    for accept in [
        None,
        Some("*/*"),
        Some("app/bingo"),
        Some("application/json"),
        Some("application/octet-stream"),
        Some("text/csv"),
    ] {
        assert_eq!(raw("/rpc/mp95_any", accept).await, octets, "{accept:?}");
    }
    // The vendored types keep their built-in JSON.
    let r = get_with(
        "/rpc/mp95_any",
        &[("Accept", "application/vnd.pgrst.object")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.pgrst.object+json; charset=utf-8")
    );
    assert_eq!(r.body, json!("\\x00ff7b"));
}

#[tokio::test]
async fn an_any_domain_function_may_set_its_content_type() {
    assert_eq!(
        raw("/rpc/mp95_some", Some("*/*")).await,
        answer("app/groucho", b"groucho")
    );
    assert_eq!(
        raw("/rpc/mp95_some", Some("app/chico")).await,
        answer("app/chico", b"chico")
    );
}

#[tokio::test]
async fn a_media_domain_function_answers_its_type_raw_and_others_as_json() {
    assert_eq!(
        raw("/rpc/mp95_octets", Some("application/octet-stream")).await,
        answer("application/octet-stream", b"\x01\x02")
    );
    // `*/*` is the built-in JSON handler's: the bytea as JSON.
    let json_answer = answer("application/json; charset=utf-8", br#""\\x0102""#);
    for accept in ["*/*", "application/json"] {
        assert_eq!(raw("/rpc/mp95_octets", Some(accept)).await, json_answer);
    }
    // No value: an empty body of that type.
    assert_eq!(
        raw("/rpc/mp95_nothing", Some("application/octet-stream")).await,
        answer("application/octet-stream", b"")
    );
}

#[tokio::test]
async fn an_application_json_domain_overrides_the_builtin_json() {
    let raw_json = answer("application/json; charset=utf-8", br#"{"raw": true}"#);
    assert_eq!(
        raw("/rpc/mp95_json", Some("application/json")).await,
        raw_json
    );
    // `*/*` is still the built-in handler's: JSON of the bytes.
    assert_eq!(
        raw("/rpc/mp95_json", Some("*/*")).await,
        answer(
            "application/json; charset=utf-8",
            br#""\\x7b22726177223a20747275657d""#
        )
    );
}

#[tokio::test]
async fn anyelement_handlers_take_a_functions_scalars() {
    let count = Some("text/x-count");
    assert_eq!(
        raw("/rpc/mp95_number", count).await,
        answer("text/x-count", b"1 rows")
    );
    assert_eq!(
        raw("/rpc/mp95_numbers", count).await,
        answer("text/x-count", b"3 rows")
    );
    assert_eq!(
        raw("/rpc/mp95_numbers?limit=2", count).await,
        answer("text/x-count", b"2 rows")
    );
    // One value is given as it is; a set's values as the rows holding
    // them, as PostgREST 16 aggregates them.
    let values = Some("text/x-values");
    assert_eq!(
        raw("/rpc/mp95_number", values).await,
        answer("text/x-values", b"7;")
    );
    assert_eq!(
        raw("/rpc/mp95_numbers", values).await,
        answer("text/x-values", b"(1);(2);(3);")
    );
}

#[tokio::test]
async fn a_set_of_media_typed_values_has_no_handler() {
    let (status, content_type, length, body) =
        raw("/rpc/mp95_plain_twice", Some("text/plain")).await;
    let want = br#"{"code":"PGRST107","details":null,"hint":null,"message":"None of these media types are available: text/plain"}"#;
    assert_eq!(
        (status, content_type.as_str(), length.as_str(), &body[..]),
        (406, "application/json; charset=utf-8", "110", &want[..])
    );
    let r = get_with("/rpc/mp95_plain_twice", &[]).await;
    assert_eq!(r.body, json!(["one", "two"]));
}

#[tokio::test]
async fn a_catch_all_handler_leaves_the_singular_object_to_postgrest() {
    let object = [("Accept", "application/vnd.pgrst.object+json")];
    let r = get_with("/mh_blobs", &object).await;
    assert_eq!(r.status, 406, "{}", r.text);
    assert_eq!(
        r.text,
        r#"{"code":"PGRST116","details":"The result contains 2 rows","hint":null,"message":"Cannot coerce the result to a single JSON object"}"#
    );
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    let r = get_with("/mh_blobs?id=eq.1", &object).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"id": 1, "data": "\\x0102"}));
}

/// A GET on the server with aggregates enabled: status and body.
async fn aggregated(path: &str) -> (u16, Value) {
    let r = send(client().get(aggregates::server().url(path))).await;
    (r.status, r.body)
}

/// The rows of a 200 answer sorted by their JSON text, for groups whose
/// order PostgreSQL leaves open.
fn sorted(answer: (u16, Value)) -> Vec<String> {
    assert_eq!(answer.0, 200, "{}", answer.1);
    let mut rows: Vec<String> = answer
        .1
        .as_array()
        .expect("an array")
        .iter()
        .map(Value::to_string)
        .collect();
    rows.sort();
    rows
}

fn texts(rows: Value) -> Vec<String> {
    sorted((200, rows))
}

#[tokio::test]
async fn aggregates_in_spreads_group_by_the_parents_and_spreads_columns() {
    assert_eq!(
        aggregated(
            "/mp95_costs?select=total:cost.sum(),...mp95_processes(category_id)\
             &order=mp95_processes(category_id)"
        )
        .await,
        (
            200,
            json!([{"total": 370, "category_id": 1}, {"total": 340, "category_id": 2}])
        )
    );
    // Only aggregates: one group.
    assert_eq!(
        aggregated("/mp95_costs?select=...mp95_processes(ids:id.sum())").await,
        (200, json!([{"ids": 21}]))
    );
    // Grouped by another spread's column.
    assert_eq!(
        aggregated(
            "/mp95_processes?select=...mp95_costs(cost.sum()),...mp95_categories(category:name)\
             &order=mp95_categories(category)"
        )
        .await,
        (
            200,
            json!([{"sum": 370, "category": "Batch"}, {"sum": 340, "category": "Mass"}])
        )
    );
}

#[tokio::test]
async fn aggregates_in_nested_spreads_group_at_every_level() {
    assert_eq!(
        aggregated(
            "/mp95_supervisions?select=...mp95_processes(factory_id,...mp95_costs(cost.sum()))\
             &order=mp95_processes(factory_id).desc"
        )
        .await,
        (
            200,
            json!([
                {"factory_id": 3, "sum": 110},
                {"factory_id": 2, "sum": 250},
                {"factory_id": 1, "sum": 500}
            ])
        )
    );
    // Grouped by an embed inside the spread.
    assert_eq!(
        sorted(
            aggregated(
                "/mp95_supervisions?select=...mp95_processes(factory:mp95_factories(name),\
                 ...mp95_costs(cost_sum:cost.sum()))"
            )
            .await
        ),
        texts(json!([
            {"factory": {"name": "Factory A"}, "cost_sum": 500},
            {"factory": {"name": "Factory B"}, "cost_sum": 250},
            {"factory": {"name": "Factory C"}, "cost_sum": 110}
        ]))
    );
    // Grouped by the parent's column and a sibling spread's.
    assert_eq!(
        sorted(
            aggregated(
                "/mp95_supervisions?select=supervisor_id,...mp95_processes(\
                 ...mp95_costs(cost.sum()),...mp95_categories(name))"
            )
            .await
        ),
        texts(json!([
            {"supervisor_id": 1, "sum": 330, "name": "Batch"},
            {"supervisor_id": 2, "sum": 270, "name": "Mass"},
            {"supervisor_id": 2, "sum": null, "name": "Batch"},
            {"supervisor_id": 3, "sum": 190, "name": "Batch"},
            {"supervisor_id": 3, "sum": 70, "name": "Mass"}
        ]))
    );
    // The same under a to-many embed: grouped per parent row.
    let (status, body) = aggregated(
        "/mp95_supervisors?select=name,mp95_supervisions(...mp95_processes(\
         ...mp95_costs(cost.sum()),...mp95_categories(name)))&order=id",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let groups: Vec<(Value, Vec<String>)> = body
        .as_array()
        .expect("an array")
        .iter()
        .map(|s| (s["name"].clone(), texts(s["mp95_supervisions"].clone())))
        .collect();
    assert_eq!(
        groups,
        vec![
            (json!("Mary"), texts(json!([{"name": "Batch", "sum": 330}]))),
            (
                json!("John"),
                texts(json!([{"name": "Mass", "sum": 270}, {"name": "Batch", "sum": null}]))
            ),
            (
                json!("Peter"),
                texts(json!([{"name": "Batch", "sum": 190}, {"name": "Mass", "sum": 70}]))
            ),
            (json!("Jane"), vec![]),
        ]
    );
}

#[tokio::test]
async fn count_beside_spread_columns_groups_by_them() {
    let per_supervisor = |name: &str, counts: [u8; 3]| {
        json!([
            {"supervisor_id": 1, name: counts[0]},
            {"supervisor_id": 2, name: counts[1]},
            {"supervisor_id": 3, name: counts[2]}
        ])
    };
    assert_eq!(
        aggregated(
            "/mp95_supervisions?select=supervisor_id,...mp95_processes(count())&order=supervisor_id"
        )
        .await,
        (200, per_supervisor("count", [2, 3, 3]))
    );
    // Without an alias, `count()` counts the rows of the outermost spread
    // (p7 has no cost); with one, those of its own level that exist.
    assert_eq!(
        aggregated(
            "/mp95_supervisions?select=supervisor_id,...mp95_processes(...mp95_costs(count()))\
             &order=supervisor_id"
        )
        .await,
        (200, per_supervisor("count", [2, 3, 3]))
    );
    assert_eq!(
        aggregated(
            "/mp95_supervisions?select=supervisor_id,...mp95_processes(...mp95_costs(n:count()))\
             &order=supervisor_id"
        )
        .await,
        (200, per_supervisor("n", [2, 2, 3]))
    );
    assert_eq!(
        aggregated(
            "/mp95_supervisions?select=...mp95_supervisors(id,count())&order=mp95_supervisors(id)"
        )
        .await,
        (
            200,
            json!([{"id": 1, "count": 2}, {"id": 2, "count": 3}, {"id": 3, "count": 3}])
        )
    );
    assert_eq!(
        aggregated(
            "/mp95_supervisions?select=...mp95_processes(factory:factory_id,\
             processes:count(),...mp95_costs(costs:count()))&order=mp95_processes(factory)"
        )
        .await,
        (
            200,
            json!([
                {"factory": 1, "processes": 3, "costs": 3},
                {"factory": 2, "processes": 2, "costs": 2},
                {"factory": 3, "processes": 3, "costs": 2}
            ])
        )
    );
}

#[tokio::test]
async fn aggregates_hoisted_into_a_to_many_spread_are_refused() {
    assert_eq!(
        aggregated(
            "/mp95_supervisors?select=name,...mp95_supervisions(...mp95_processes(id.sum()))"
        )
        .await,
        (
            400,
            json!({"code": "PGRST127", "message": "Feature not implemented",
                   "details": "Aggregates are not implemented for one-to-many or many-to-many spreads.",
                   "hint": null})
        )
    );
}
