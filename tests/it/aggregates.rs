//! Aggregate functions in `select` (with `db-aggregates-enabled = true`):
//! `sum avg max min count` and `count()`, aliases, casts before and after,
//! the implicit GROUP BY, and aggregates inside embeds. Refused with
//! PGRST123 by default (tests/it/embed.rs).

use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::harness::{Server, base_env, client, send};

pub(crate) fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let mut env = base_env();
        env.push(("PGRST_DB_AGGREGATES_ENABLED".into(), "true".into()));
        Server::start(env)
    })
}

async fn get(path: &str) -> (u16, Value) {
    let r = send(client().get(server().url(path))).await;
    (r.status, r.body)
}

#[tokio::test]
async fn aggregates_of_the_whole_table() {
    assert_eq!(
        get("/films?select=year.sum()").await,
        (200, json!([{"sum": 10103}]))
    );
    assert_eq!(
        get("/films?select=total:year.sum()::text,year.max(),year.min(),year.avg()::int,count()")
            .await,
        (
            200,
            json!([{"total": "10103", "max": 2030, "min": 2016, "avg": 2021, "count": 5}])
        )
    );
    // A cast before the aggregate: the maximum of the years as text.
    assert_eq!(
        get("/films?select=year::text.max()&year=lt.2020").await,
        (200, json!([{"max": "2019"}]))
    );
    assert_eq!(
        get("/films?select=n:count()&id=gt.100").await,
        (200, json!([{"n": 0}]))
    );
}

#[tokio::test]
async fn other_columns_are_grouped() {
    assert_eq!(
        get("/films?select=director_id,count(),first:year.min()&order=director_id.nullsfirst")
            .await,
        (
            200,
            json!([
                {"director_id": null, "count": 1, "first": 2030},
                {"director_id": 1, "count": 2, "first": 2017},
                {"director_id": 2, "count": 2, "first": 2016}
            ])
        )
    );
    // `*` stands for every column, all grouped.
    assert_eq!(
        get("/technical_specs?select=*,count()&order=film_id").await,
        (
            200,
            json!([
                {"film_id": 1, "format": "Color", "runtime": 94, "count": 1},
                {"film_id": 3, "format": "IMAX", "runtime": 155, "count": 1}
            ])
        )
    );
    // Grouped by a to-one embed.
    let (status, body) =
        get("/films?select=directors(last_name),count()&director_id=not.is.null").await;
    assert_eq!(status, 200, "{body}");
    let mut groups: Vec<String> = body
        .as_array()
        .unwrap()
        .iter()
        .map(Value::to_string)
        .collect();
    groups.sort();
    assert_eq!(
        groups,
        [
            json!({"directors": {"last_name": "Gerwig"}, "count": 2}).to_string(),
            json!({"directors": {"last_name": "Villeneuve"}, "count": 2}).to_string()
        ]
    );
}

#[tokio::test]
async fn aggregates_inside_embeds() {
    assert_eq!(
        get("/directors?select=last_name,films(count(),latest:year.max())&order=id").await,
        (
            200,
            json!([
                {"last_name": "Gerwig", "films": [{"count": 2, "latest": 2019}]},
                {"last_name": "Villeneuve", "films": [{"count": 2, "latest": 2021}]},
                {"last_name": "Varda", "films": [{"count": 0, "latest": null}]}
            ])
        )
    );
}

#[tokio::test]
async fn to_one_spreads_hoist_aggregates_to_the_parent() {
    // The sum is taken per group of the parent's other columns.
    assert_eq!(
        get("/films?select=director_id,...technical_specs(runtime.sum())&order=director_id").await,
        (
            200,
            json!([
                {"director_id": 1, "sum": 94},
                {"director_id": 2, "sum": 155},
                {"director_id": null, "sum": null}
            ])
        )
    );
    assert_eq!(
        get("/technical_specs?select=...films(first:year.min()::text)").await,
        (200, json!([{"first": "2017"}]))
    );
    // The spread's plain columns are grouped too.
    let (status, body) =
        get("/films?select=director_id,...technical_specs(total:runtime.sum()::text,format)").await;
    assert_eq!(status, 200, "{body}");
    let mut rows: Vec<String> = body
        .as_array()
        .unwrap()
        .iter()
        .map(Value::to_string)
        .collect();
    rows.sort();
    let mut expected: Vec<String> = [
        json!({"director_id": 1, "total": "94", "format": "Color"}),
        json!({"director_id": 1, "total": null, "format": null}),
        json!({"director_id": 2, "total": "155", "format": "IMAX"}),
        json!({"director_id": 2, "total": null, "format": null}),
        json!({"director_id": null, "total": null, "format": null}),
    ]
    .iter()
    .map(Value::to_string)
    .collect();
    expected.sort();
    assert_eq!(rows, expected);
}

#[tokio::test]
async fn to_many_spreads_refuse_aggregates() {
    assert_eq!(
        get("/directors?select=last_name,...films(count())").await,
        (
            400,
            json!({"code": "PGRST127", "message": "Feature not implemented",
                   "details": "Aggregates are not implemented for one-to-many or many-to-many spreads.",
                   "hint": null})
        )
    );
}
