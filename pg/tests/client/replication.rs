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
    let end = loop {
        match tokio::time::timeout(WAIT, stream.next()).await {
            Ok(Ok((_, Change::Commit { end_lsn, .. }))) => break end_lsn,
            Ok(Ok(_)) => {}
            other => panic!("the delete's commit: {other:?}"),
        }
    };
    stream.confirm(end).await.expect("confirmed");
    let reached = format!(
        "SELECT (confirmed_flush_lsn >= '{:X}/{:X}')::text FROM pg_replication_slots \
         WHERE slot_name = 'pgrst_test'",
        end >> 32,
        end & 0xffff_ffff
    );
    let mut moved = false;
    for _ in 0..100 {
        if query(&mut lease, &reached).await.as_deref() == Some("true") {
            moved = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        moved,
        "the slot's confirmed position did not reach the commit"
    );
    lease.release(true);
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
