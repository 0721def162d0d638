//! A replication stream decodes a publication's committed changes, in
//! commit order, and only that publication's.

use pgrest_pg::{Change, Datum, Replication};

use crate::common::{WAIT, connect, connector, query, tcp, unix};

/// The next change that is not a Relation, Begin or Commit.
async fn next_row_change(stream: &mut Replication) -> Change {
    loop {
        let (_, change) = tokio::time::timeout(WAIT, stream.next())
            .await
            .expect("a change in time")
            .expect("a change");
        match change {
            Change::Relation(_) | Change::Begin { .. } | Change::Commit { .. } => {}
            other => return other,
        }
    }
}

#[tokio::test]
async fn committed_changes_arrive_decoded() {
    let mut lease = connect(&unix()).await.expect("connection");
    query(
        &mut lease,
        "CREATE TABLE replicated (id int PRIMARY KEY, label text, note text);
         CREATE TABLE unpublished (id int PRIMARY KEY);
         CREATE PUBLICATION \"pub 'one'\" FOR TABLE replicated",
    )
    .await;
    // Over TLS with SCRAM, as a pooled connection would open.
    let (config, connect_with) = connector(&tcp("scram_user", "password=secret sslmode=require"));
    let mut stream = Replication::start(&config, &connect_with, "pgrst_test", "pub 'one'", true)
        .await
        .expect("streaming");

    query(&mut lease, "INSERT INTO unpublished VALUES (1)").await;
    query(&mut lease, "INSERT INTO replicated VALUES (1, 'one', NULL)").await;
    // A rolled-back transaction is never sent.
    query(
        &mut lease,
        "BEGIN; INSERT INTO replicated VALUES (9, 'never', NULL); ROLLBACK",
    )
    .await;
    query(
        &mut lease,
        "UPDATE replicated SET label = 'uno' WHERE id = 1",
    )
    .await;
    query(&mut lease, "UPDATE replicated SET id = 2 WHERE id = 1").await;
    query(&mut lease, "DELETE FROM replicated WHERE id = 2").await;

    let (_, relation) = tokio::time::timeout(WAIT, async {
        loop {
            match stream.next().await.expect("a change") {
                (lsn, Change::Relation(r)) => return (lsn, r),
                (_, Change::Begin { .. }) => {}
                (_, other) => panic!("before the relation: {other:?}"),
            }
        }
    })
    .await
    .expect("the relation in time");
    assert_eq!(
        (relation.schema.as_str(), relation.name.as_str()),
        ("public", "replicated")
    );
    let columns: Vec<(&str, bool)> = relation
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.key))
        .collect();
    assert_eq!(columns, [("id", true), ("label", false), ("note", false)]);

    let text = |s: &str| Datum::Text(s.to_string());
    assert_eq!(
        next_row_change(&mut stream).await,
        Change::Insert {
            relation: relation.id,
            new: vec![text("1"), text("one"), Datum::Null],
        }
    );
    assert_eq!(
        next_row_change(&mut stream).await,
        Change::Update {
            relation: relation.id,
            old: None,
            new: vec![text("1"), text("uno"), Datum::Null],
        }
    );
    // The key changed: the old key comes along.
    assert_eq!(
        next_row_change(&mut stream).await,
        Change::Update {
            relation: relation.id,
            old: Some(vec![text("1"), Datum::Null, Datum::Null]),
            new: vec![text("2"), text("uno"), Datum::Null],
        }
    );
    assert_eq!(
        next_row_change(&mut stream).await,
        Change::Delete {
            relation: relation.id,
            old: vec![text("2"), Datum::Null, Datum::Null],
        }
    );

    // Confirming a commit's end moves the slot on.
    confirm_next_commit(&mut stream, &mut lease, "pgrst_test").await;
    lease.release(true);
}

/// Reads on to the next commit, confirms it, and waits until the server
/// has taken the confirmation.
async fn confirm_next_commit(stream: &mut Replication, lease: &mut pgrest_pg::Lease, slot: &str) {
    let end = loop {
        match tokio::time::timeout(WAIT, stream.next()).await {
            Ok(Ok((_, Change::Commit { end_lsn, .. }))) => break end_lsn,
            Ok(Ok(_)) => {}
            other => panic!("a commit: {other:?}"),
        }
    };
    stream.confirm(end).await.expect("confirmed");
    wait_for_confirmation(lease, slot, end).await;
}

/// Waits until the server has taken `slot`'s confirmation of `lsn`.
async fn wait_for_confirmation(lease: &mut pgrest_pg::Lease, slot: &str, lsn: u64) {
    let reached = format!(
        "SELECT (confirmed_flush_lsn >= '{:X}/{:X}')::text FROM pg_replication_slots \
         WHERE slot_name = '{slot}'",
        lsn >> 32,
        lsn & 0xffff_ffff
    );
    for _ in 0..100 {
        if query(lease, &reached).await.as_deref() == Some("true") {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{slot}'s confirmed position did not reach {lsn:X}");
}

#[tokio::test]
async fn bad_slot_names_and_publications_are_refused() {
    let (config, connect_with) = connector(&unix());
    for slot in ["Bad", "x'; DROP TABLE t; --", ""] {
        let refused = Replication::start(&config, &connect_with, slot, "p", true).await;
        assert!(refused.is_err(), "{slot}");
    }
    // A publication that does not exist: the server's error, once it
    // decodes the first change.
    let mut lease = connect(&unix()).await.expect("connection");
    query(&mut lease, "CREATE TABLE lonely (id int)").await;
    let mut stream = Replication::start(&config, &connect_with, "pgrst_none", "no such", true)
        .await
        .expect("streaming starts");
    query(&mut lease, "INSERT INTO lonely VALUES (1)").await;
    let next = tokio::time::timeout(WAIT, async {
        loop {
            if let Err(e) = stream.next().await {
                return e;
            }
        }
    })
    .await
    .expect("an error in time");
    assert!(next.to_string().contains("no such"), "{next}");
    lease.release(true);
}

/// The inserted ids a stream sends, up to and including `last`.
async fn inserted_ids(stream: &mut Replication, last: &str) -> Vec<String> {
    let mut ids = Vec::new();
    while ids.last().map(String::as_str) != Some(last) {
        if let Change::Insert { new, .. } = next_row_change(stream).await
            && let Some(Datum::Text(id)) = new.first()
        {
            ids.push(id.clone());
        }
    }
    ids
}

#[tokio::test]
async fn a_kept_slot_resumes_after_what_was_confirmed() {
    let mut lease = connect(&unix()).await.expect("connection");
    query(
        &mut lease,
        "CREATE TABLE resumed (id int PRIMARY KEY);
         CREATE PUBLICATION resumed_pub FOR TABLE resumed",
    )
    .await;
    let (config, connect_with) = connector(&unix());
    let open = || Replication::start(&config, &connect_with, "pgrst_kept", "resumed_pub", false);
    let mut stream = open().await.expect("streaming");
    query(&mut lease, "INSERT INTO resumed VALUES (1)").await;
    query(&mut lease, "INSERT INTO resumed VALUES (2)").await;
    assert_eq!(inserted_ids(&mut stream, "1").await, ["1"]);
    // Confirm the first transaction only.
    confirm_next_commit(&mut stream, &mut lease, "pgrst_kept").await;
    drop(stream);
    query(&mut lease, "INSERT INTO resumed VALUES (3)").await;

    // The slot outlives its session (the server may take a moment to let
    // the old walsender go): the next stream starts after the confirmed
    // transaction, with nothing lost.
    let mut again = None;
    for _ in 0..100 {
        match open().await {
            Ok(stream) => {
                again = Some(stream);
                break;
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    let mut stream = again.expect("the kept slot streams again");
    assert_eq!(inserted_ids(&mut stream, "3").await, ["2", "3"]);
    drop(stream);
    let dropped = "SELECT count(pg_drop_replication_slot(slot_name))::text \
                   FROM pg_replication_slots WHERE slot_name = 'pgrst_kept' AND NOT active";
    let mut gone = false;
    for _ in 0..100 {
        if query(&mut lease, dropped).await.as_deref() == Some("1") {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(gone, "the kept slot was dropped");
    lease.release(true);
}
