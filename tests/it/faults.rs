//! Database faults over real HTTP: a backend killed mid-request, a write
//! stopped by `statement_timeout`, and the database restarted under load.
//! Each request cut short writes nothing, leaves no transaction open, and
//! the server answers again afterwards (after recovery, where the server
//! was lost).

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use pgrest_throwaway_pg::Cluster;

use crate::harness::{
    Server, backends_of, client, eventually, one_connection, own_cluster_env, request_on, send,
    superuser, superuser_of,
};

/// One pooled connection; writes commit.
fn server(name: &str) -> Server {
    one_connection(name, &[("PGRST_DB_TX_END", "commit")])
}

/// Child `id`, as rows.
async fn child(server: &Server, id: i32) -> serde_json::Value {
    let path = format!("/df_child?id=eq.{id}&select=id");
    send(client().get(server.url(&path))).await.body
}

/// Until a read answers 200 (recovery done), then: nothing half-written,
/// no transaction left open.
async fn settled(server: &Server, name: &str, id: i32) {
    let answers = eventually(Duration::from_secs(15), || async {
        let r = send(client().get(server.url("/df_child?id=eq.10&select=id"))).await;
        r.status == 200
    })
    .await;
    assert!(answers, "no 200 after the fault");
    assert_eq!(child(server, id).await, json!([]), "half-written");
    let backends = backends_of(name).await;
    assert!(
        !backends
            .iter()
            .any(|(_, s)| s.starts_with("idle in transaction")),
        "{backends:?}"
    );
}

const JSON: (&str, &str) = ("Content-Type", "application/json");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_killed_mid_write() {
    let name = "pgrest_fault_kill";
    let server = server(name);
    let body = json!({"id": 30, "seconds": 30}).to_string();
    let path = "/rpc/df_write_then_sleep";
    let write = tokio::spawn({
        let url = server.url(path);
        async move { send(client().post(url).header(JSON.0, JSON.1).body(body)).await }
    });
    let db = superuser().await;
    let killed = eventually(Duration::from_secs(10), || async {
        let rows = db
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE application_name = $1 AND query LIKE '%df_write_then_sleep%'
                   AND state = 'active'",
                &[&name],
            )
            .await
            .expect("terminate");
        !rows.is_empty()
    })
    .await;
    assert!(killed, "the write never ran");
    let r = write.await.expect("the write answers");
    assert_eq!(r.status, 503, "{}", r.text);
    settled(&server, name, 30).await;
}

#[tokio::test]
async fn a_write_stopped_by_statement_timeout() {
    let name = "pgrest_fault_timeout";
    let server = server(name);
    let body = json!({"id": 31}).to_string();
    let r = request_on(
        &server,
        Method::POST,
        "/rpc/df_write_timed_out",
        &[JSON],
        &body,
    )
    .await;
    assert_eq!(
        (r.status, &r.body["code"]),
        (500, &json!("57014")),
        "{}",
        r.text
    );
    settled(&server, name, 31).await;
}

/// What one client of `a_database_restart_under_load` saw: each request's
/// status, and the pairs whose insert was answered 201.
#[derive(Default)]
struct Seen {
    statuses: Vec<u16>,
    created: Vec<i32>,
}

/// Four clients insert pairs of rows and read them back while PostgreSQL
/// restarts (a fast shutdown: every backend gets 57P01). No request hangs
/// (each has a 20 s guard, past the 2 s pool timeout plus a reconnection),
/// every answer is a success or the server's 503/504, nothing half-written
/// (a pair's two rows exist together or not at all), no transaction left
/// open, and once the database is back every request succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restart_under_load() {
    let mut cluster = Cluster::start().expect("own cluster");
    cluster
        .psql_exec("CREATE TABLE public.pairs (id int PRIMARY KEY, pair int NOT NULL);")
        .expect("schema");
    let name = "pgrest_fault_restart";
    let mut env = own_cluster_env(
        &cluster,
        &[
            ("PGRST_DB_POOL", "4"),
            ("PGRST_DB_POOL_ACQUISITION_TIMEOUT", "2"),
        ],
    );
    for (key, value) in &mut env {
        if key == "PGRST_DB_URI" {
            value.push_str(&format!(" application_name={name}"));
        }
    }
    let server = Server::start(env);
    let guarded = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let (client, stop) = (guarded.clone(), stop.clone());
            let (insert, read) = (server.url("/pairs"), server.url("/pairs?select=id&limit=5"));
            tokio::spawn(async move {
                let mut seen = Seen::default();
                let mut id = worker * 100_000;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    id += 1;
                    let pair = json!([{"id": id, "pair": id}, {"id": -id, "pair": id}]);
                    let posted = client
                        .post(&insert)
                        .header(JSON.0, JSON.1)
                        .body(pair.to_string())
                        .send()
                        .await
                        .unwrap_or_else(|e| panic!("insert {id} got no answer: {e}"));
                    seen.statuses.push(posted.status().as_u16());
                    if posted.status() == 201 {
                        seen.created.push(id);
                    }
                    let read = client
                        .get(&read)
                        .send()
                        .await
                        .unwrap_or_else(|e| panic!("a read got no answer: {e}"));
                    seen.statuses.push(read.status().as_u16());
                }
                seen
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let cluster = tokio::task::spawn_blocking(move || {
        cluster.restart().expect("restart");
        cluster
    })
    .await
    .expect("restarted");
    let back = eventually(Duration::from_secs(20), || async {
        send(client().get(server.url("/pairs?limit=1")))
            .await
            .status
            == 200
    })
    .await;
    assert!(back, "no 200 after the restart");
    // Load goes on past the pool timeout after recovery, so each client's
    // last requests all start with the database back.
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut seen = Vec::new();
    for worker in workers {
        seen.push(worker.await.expect("worker"));
    }
    for s in &seen {
        assert!(
            s.statuses
                .iter()
                .all(|st| [200, 201, 503, 504].contains(st)),
            "{:?}",
            s.statuses
        );
        assert!(s.statuses.contains(&201), "no insert succeeded");
        let tail = &s.statuses[s.statuses.len().saturating_sub(2)..];
        assert!(tail.iter().all(|st| *st < 300), "after recovery: {tail:?}");
    }
    assert!(
        seen.iter().any(|s| s.statuses.iter().any(|st| *st >= 500)),
        "the restart failed no request: the test did not restart under load"
    );
    let db = superuser_of(&cluster).await;
    let halves: i64 = db
        .query_one(
            "SELECT count(*) FROM (SELECT pair FROM public.pairs GROUP BY pair HAVING count(*) <> 2) h",
            &[],
        )
        .await
        .expect("pairs")
        .get(0);
    assert_eq!(halves, 0, "half-written pairs");
    let created: Vec<i32> = seen.iter().flat_map(|s| s.created.clone()).collect();
    let kept: i64 = db
        .query_one(
            "SELECT count(*) FROM public.pairs WHERE pair = ANY($1)",
            &[&created],
        )
        .await
        .expect("created pairs")
        .get(0);
    assert_eq!(kept, 2 * created.len() as i64, "a 201 insert was lost");
    let open: i64 = db
        .query_one(
            "SELECT count(*) FROM pg_stat_activity
             WHERE application_name = $1 AND state LIKE 'idle in transaction%'",
            &[&name],
        )
        .await
        .expect("pg_stat_activity")
        .get(0);
    assert_eq!(open, 0, "a transaction left open");
}
