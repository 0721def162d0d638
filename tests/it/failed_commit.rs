//! A COMMIT that fails (here a deferred foreign key, checked only then) is
//! the request's answer, whether the COMMIT ends the pipeline or runs after
//! `respond` built a success for the rows; and the row is not there.

use reqwest::Method;
use serde_json::json;

use crate::harness::{Server, base_env, client, request_on, send};

fn server() -> Server {
    let mut env = base_env();
    env.push(("PGRST_DB_TX_END".into(), "commit".into()));
    Server::start(env)
}

/// The `parent_id` of child `id`, if the row exists.
async fn parent_of(server: &Server, id: i32) -> serde_json::Value {
    let path = format!("/df_child?id=eq.{id}&select=parent_id");
    send(client().get(server.url(&path))).await.body
}

#[tokio::test]
async fn a_failed_commit_is_the_answer() {
    let server = server();
    let json = ("Content-Type", "application/json");
    let object = ("Accept", "application/vnd.pgrst.object+json");
    let strict = ("Prefer", "handling=strict, max-affected=1");
    // (what, method, path, extra header, child id): each writes parent 99,
    // which does not exist. The first commits in the pipeline; the others
    // after `respond` (singular, PUT, max-affected, a singular call).
    let cases = [
        ("POST", Method::POST, "/df_child", None, 20),
        ("POST singular", Method::POST, "/df_child", Some(object), 21),
        ("PUT", Method::PUT, "/df_child?id=eq.22", None, 22),
        (
            "PATCH max-affected",
            Method::PATCH,
            "/df_child?id=eq.10",
            Some(strict),
            10,
        ),
        (
            "RPC singular",
            Method::POST,
            "/rpc/df_add_child",
            Some(object),
            23,
        ),
    ];
    for (what, method, path, extra, id) in cases {
        let headers: Vec<_> = std::iter::once(json).chain(extra).collect();
        let body = json!({"id": id, "parent_id": 99}).to_string();
        let r = request_on(&server, method, path, &headers, &body).await;
        assert_eq!(
            (r.status, &r.body["code"]),
            (409, &json!("23503")),
            "{what}: {}",
            r.text
        );
        // Child 10 exists with parent 1 and keeps it.
        let before = if id == 10 {
            json!([{"parent_id": 1}])
        } else {
            json!([])
        };
        assert_eq!(parent_of(&server, id).await, before, "{what}: committed");
    }

    // The connection is fine afterwards, and a good write still commits.
    let good = json!({"id": 24, "parent_id": 1}).to_string();
    let r = request_on(&server, Method::PUT, "/df_child?id=eq.24", &[json], &good).await;
    assert!(r.status < 300, "{}: {}", r.status, r.text);
    assert_eq!(parent_of(&server, 24).await, json!([{"parent_id": 1}]));
}
