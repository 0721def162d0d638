//! Versioning by schema: `Accept-Profile` picks one of `db-schemas` for a
//! read, answered with `Content-Profile`; anything else is PGRST106.

use serde_json::json;

use crate::harness::{Server, base_env, client, get_with, send};

#[tokio::test]
async fn accept_profile_selects_an_exposed_schema() {
    let mut env = base_env();
    env.push(("PGRST_DB_SCHEMAS".into(), "test,test_v2".into()));
    let server = Server::start(env);
    let get = |profile: Option<&'static str>| {
        let mut req = client().get(server.url("/items?select=id&order=id&limit=1"));
        if let Some(p) = profile {
            req = req.header("Accept-Profile", p);
        }
        send(req)
    };
    let r = get(Some("test_v2")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"id": 100}]));
    assert_eq!(r.header("content-profile"), Some("test_v2"));

    // Without the header: the first schema, named as negotiated among
    // several (PostgREST 16).
    let r = get(None).await;
    assert_eq!(r.body, json!([{"id": 1}]));
    assert_eq!(r.header("content-profile"), Some("test"));

    let r = get(Some("nope")).await;
    assert_eq!(r.status, 406, "{}", r.text);
    assert_eq!(
        r.body,
        json!({
            "code": "PGRST106",
            "message": "Invalid schema: nope",
            "details": null,
            "hint": "Only the following schemas are exposed: test, test_v2",
        })
    );
}

#[tokio::test]
async fn the_only_schema_can_be_named_too() {
    let r = get_with("/items?select=id&id=eq.1", &[("Accept-Profile", "test")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-profile"), Some("test"));
    let r = get_with("/items", &[("Accept-Profile", "test_v2")]).await;
    assert_eq!(r.status, 406, "{}", r.text);
    assert_eq!(r.body["code"], "PGRST106");
}
