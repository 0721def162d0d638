//! `Accept: application/geo+json` on tables, views and functions with
//! PostGIS geometry columns: a FeatureCollection of `ST_AsGeoJSON(row)`
//! features, as PostgREST builds it.
//!
//! PostGIS is optional here: its schema is set up by this module (not in
//! tests/fixtures, so the other fixtures and the parity introspection never
//! depend on it) in schemas of its own, `postgis` and `geo`, served by a
//! server of its own. Without PostGIS the tests print why and pass.

use std::sync::OnceLock;

use serde_json::json;

use crate::harness::{Reply, Server, base_env, client, cluster, send};

const SETUP: &str = r#"
CREATE SCHEMA postgis;
CREATE EXTENSION postgis SCHEMA postgis;
CREATE SCHEMA geo;
GRANT USAGE ON SCHEMA postgis, geo TO "Web Anon";
CREATE TABLE geo.shops (
  id int PRIMARY KEY,
  name text,
  location postgis.geometry(Point, 4326)
);
INSERT INTO geo.shops VALUES
  (1, 'Berlin', postgis.ST_SetSRID(postgis.ST_MakePoint(13.4, 52.5), 4326)),
  (2, 'Paris', postgis.ST_SetSRID(postgis.ST_MakePoint(2.35, 48.85), 4326)),
  (3, 'Lisbon', postgis.ST_SetSRID(postgis.ST_MakePoint(-9.14, 38.72), 4326));
CREATE VIEW geo.shop_places AS SELECT name, location FROM geo.shops;
CREATE FUNCTION geo.shops_west_of(lon float8) RETURNS SETOF geo.shops
  STABLE LANGUAGE sql AS $$
    SELECT * FROM geo.shops WHERE postgis.ST_X(location) < lon ORDER BY id
  $$;
GRANT SELECT ON geo.shops, geo.shop_places TO "Web Anon";
"#;

/// The server of the `geo` schema, or `None` (with the reason printed) when
/// PostGIS is not installed.
fn server() -> Option<&'static Server> {
    static SERVER: OnceLock<Option<Server>> = OnceLock::new();
    let server = SERVER.get_or_init(|| {
        let available = cluster().psql_exec(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_available_extensions \
             WHERE name = 'postgis') THEN RAISE 'no postgis'; END IF; END $$",
        );
        if available.is_err() {
            return None;
        }
        cluster()
            .psql_exec(SETUP)
            .unwrap_or_else(|e| panic!("setting up the PostGIS schema: {e}"));
        let mut env = base_env();
        env.retain(|(k, _)| k != "PGRST_DB_SCHEMAS");
        env.push(("PGRST_DB_SCHEMAS".into(), "geo".into()));
        // ST_AsGeoJSON is found through the search_path, as in PostgREST.
        env.push(("PGRST_DB_EXTRA_SEARCH_PATH".into(), "postgis".into()));
        Some(Server::start(env))
    });
    if server.is_none() {
        eprintln!(
            "skipped: PostGIS is not installed for this PostgreSQL \
             (apt-get install -y postgresql-15-postgis-3)"
        );
    }
    server.as_ref()
}

async fn geo_get(server: &Server, path: &str) -> Reply {
    send(
        client()
            .get(server.url(path))
            .header("Accept", "application/geo+json"),
    )
    .await
}

/// A 200 GeoJSON answer holding `expected`.
fn assert_collection(r: &Reply, expected: serde_json::Value) {
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.header("content-type"),
        Some("application/geo+json; charset=utf-8")
    );
    assert_eq!(r.body, expected);
}

fn feature(lon: f64, lat: f64, properties: serde_json::Value) -> serde_json::Value {
    json!({
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": properties,
    })
}

fn collection(features: Vec<serde_json::Value>) -> serde_json::Value {
    json!({"type": "FeatureCollection", "features": features})
}

#[tokio::test]
async fn a_table_read_is_a_feature_collection() {
    let Some(server) = server() else { return };
    let r = geo_get(server, "/shops?order=id").await;
    assert_collection(
        &r,
        collection(vec![
            feature(13.4, 52.5, json!({"id": 1, "name": "Berlin"})),
            feature(2.35, 48.85, json!({"id": 2, "name": "Paris"})),
            feature(-9.14, 38.72, json!({"id": 3, "name": "Lisbon"})),
        ]),
    );
}

#[tokio::test]
async fn filters_and_select_shape_the_features() {
    let Some(server) = server() else { return };
    let r = geo_get(server, "/shops?select=name,location&id=gt.1&order=id.desc").await;
    assert_collection(
        &r,
        collection(vec![
            feature(-9.14, 38.72, json!({"name": "Lisbon"})),
            feature(2.35, 48.85, json!({"name": "Paris"})),
        ]),
    );
    // No rows: an empty collection.
    let r = geo_get(server, "/shops?id=eq.9").await;
    assert_collection(&r, collection(vec![]));
}

#[tokio::test]
async fn a_view_read_is_a_feature_collection() {
    let Some(server) = server() else { return };
    let r = geo_get(server, "/shop_places?name=eq.Paris").await;
    assert_collection(
        &r,
        collection(vec![feature(2.35, 48.85, json!({"name": "Paris"}))]),
    );
}

#[tokio::test]
async fn a_function_returning_rows_is_a_feature_collection() {
    let Some(server) = server() else { return };
    let r = geo_get(server, "/rpc/shops_west_of?lon=10&select=id,location").await;
    assert_collection(
        &r,
        collection(vec![
            feature(2.35, 48.85, json!({"id": 2})),
            feature(-9.14, 38.72, json!({"id": 3})),
        ]),
    );
    // Filters on the call's rows too (POST with a JSON body).
    let r = send(
        client()
            .post(server.url("/rpc/shops_west_of?name=eq.Lisbon"))
            .header("Accept", "application/geo+json")
            .json(&json!({"lon": 10})),
    )
    .await;
    assert_collection(
        &r,
        collection(vec![feature(
            -9.14,
            38.72,
            json!({"id": 3, "name": "Lisbon"}),
        )]),
    );
}
