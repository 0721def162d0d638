//! A logical replication stream: a `replication=database` connection of its
//! own (opened as the pool's are), a slot of the `pgoutput` plugin, and the
//! changes of a publication's tables decoded as they commit (protocol
//! version 1: whole transactions, in commit order).
//!
//! The server keeps the WAL a slot has not confirmed; `confirm` tells it
//! which commits are done with. A temporary slot goes with its session.

use bytes::{Buf, Bytes, BytesMut};
use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;

use crate::connection::{Conn, DbError, Error, unencodable};
use crate::startup::{self, Session};
use crate::tls::PgConnect;

/// A position in the WAL (an LSN).
pub type Lsn = u64;

/// A replication stream that has started.
pub struct Replication {
    conn: Conn,
    /// The last position `confirm`ed, repeated in each status update.
    confirmed: Lsn,
}

/// What the stream carries, in commit order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A transaction's start; `commit_time` in microseconds since
    /// 2000-01-01 UTC (PostgreSQL's epoch).
    Begin {
        final_lsn: Lsn,
        commit_time: i64,
        xid: u32,
    },
    /// A table's columns, sent before its first change in a session and
    /// again when its definition changes.
    Relation(Relation),
    Insert {
        relation: u32,
        new: Vec<Datum>,
    },
    /// `old` holds the replica identity's columns when the key changed (or
    /// every column under `REPLICA IDENTITY FULL`).
    Update {
        relation: u32,
        old: Option<Vec<Datum>>,
        new: Vec<Datum>,
    },
    Delete {
        relation: u32,
        old: Vec<Datum>,
    },
    Commit {
        commit_lsn: Lsn,
        end_lsn: Lsn,
        commit_time: i64,
    },
    /// A message the stream carries that pgrest does not use (type, origin,
    /// truncate, logical decoding messages).
    Other(u8),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    pub id: u32,
    pub schema: String,
    pub name: String,
    /// `d`efault, `n`othing, `f`ull or `i`ndex.
    pub replica_identity: u8,
    pub columns: Vec<RelationColumn>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationColumn {
    pub name: String,
    pub type_oid: u32,
    /// Part of the replica identity.
    pub key: bool,
}

/// One column's value in a change, in text form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Datum {
    Null,
    /// A TOASTed value the change left as it was: not sent.
    Unchanged,
    Text(String),
}

impl Replication {
    /// Connects, creates the slot (`temporary`: dropped with the session;
    /// otherwise kept, and reused when it exists) and starts streaming
    /// `publication`'s changes from the slot's confirmed position.
    pub async fn start(
        config: &tokio_postgres::Config,
        connect: &PgConnect,
        slot: &str,
        publication: &str,
        temporary: bool,
    ) -> Result<Replication, Error> {
        if !valid_slot_name(slot) {
            return Err(Error::Connect(format!(
                "invalid replication slot name {slot:?}: lower-case letters, digits and \
                 underscores, at most 63"
            )));
        }
        let mut conn = startup::open_session(config, connect, Session::Replication).await?;
        let exists = !temporary
            && conn
                .simple(&format!(
                    "SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = '{slot}'"
                ))
                .await?
                .is_some();
        if !exists {
            let kind = if temporary { " TEMPORARY" } else { "" };
            conn.simple(&format!(
                "CREATE_REPLICATION_SLOT {slot}{kind} LOGICAL pgoutput NOEXPORT_SNAPSHOT"
            ))
            .await?;
        }
        // The option's value is a string literal holding a list of
        // identifiers: the name quoted as an identifier, then as a literal.
        let names = format!("\"{}\"", publication.replace('"', "\"\""));
        frontend::query(
            &format!(
                "START_REPLICATION SLOT {slot} LOGICAL 0/0 \
                 (proto_version '1', publication_names '{}')",
                names.replace('\'', "''")
            ),
            &mut conn.out,
        )
        .map_err(unencodable)?;
        conn.send(0).await?;
        loop {
            let (tag, body) = conn.frame().await?;
            match tag {
                // CopyBothResponse: streaming.
                b'W' => break,
                b'E' => return Err(server_error(tag, &body)),
                b'N' => {}
                _ => return Err(Error::Protocol("starting replication".to_string())),
            }
        }
        Ok(Replication { conn, confirmed: 0 })
    }

    /// The next change and the WAL position it was sent at. Keep-alives
    /// that ask for an answer get a status update.
    pub async fn next(&mut self) -> Result<(Lsn, Change), Error> {
        loop {
            let (tag, body) = self.conn.frame().await?;
            match tag {
                b'd' => {}
                b'E' => return Err(server_error(tag, &body)),
                b'N' => continue,
                _ => return Err(Error::Protocol("in the replication stream".to_string())),
            }
            let mut data = body;
            let truncated = || Error::Protocol("a truncated replication message".to_string());
            match data.try_get_u8().map_err(|_| truncated())? {
                // XLogData: start, end, send time, then one pgoutput message.
                b'w' => {
                    let start = data.try_get_u64().map_err(|_| truncated())?;
                    data.try_get_u64().map_err(|_| truncated())?;
                    data.try_get_i64().map_err(|_| truncated())?;
                    return Ok((start, decode(&mut data).ok_or_else(truncated)?));
                }
                // Primary keepalive: end, send time, reply requested.
                b'k' => {
                    data.try_get_u64().map_err(|_| truncated())?;
                    data.try_get_i64().map_err(|_| truncated())?;
                    if data.try_get_u8().map_err(|_| truncated())? == 1 {
                        self.status().await?;
                    }
                }
                _ => {}
            }
        }
    }

    /// Tells the server that the changes up to `lsn` (a commit's end) are
    /// processed: the slot may let go of the WAL before it.
    pub async fn confirm(&mut self, lsn: Lsn) -> Result<(), Error> {
        self.confirmed = self.confirmed.max(lsn);
        self.status().await
    }

    /// A standby status update: written, flushed and applied up to the
    /// confirmed position. The clock field is left 0: the server only
    /// shows it.
    async fn status(&mut self) -> Result<(), Error> {
        let mut update = BytesMut::with_capacity(34);
        update.extend_from_slice(b"r");
        for _ in 0..3 {
            update.extend_from_slice(&self.confirmed.to_be_bytes());
        }
        update.extend_from_slice(&0i64.to_be_bytes());
        update.extend_from_slice(&[0]);
        frontend::CopyData::new(update.freeze())
            .map_err(unencodable)?
            .write(&mut self.conn.out);
        self.conn.send(0).await
    }
}

/// PostgreSQL's rule for slot names, checked here because the name is
/// written into a replication command.
fn valid_slot_name(slot: &str) -> bool {
    (1..=63).contains(&slot.len())
        && slot
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The ErrorResponse whose body is `body`.
fn server_error(tag: u8, body: &Bytes) -> Error {
    let mut frame = BytesMut::with_capacity(body.len() + 5);
    frame.extend_from_slice(&[tag]);
    frame.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
    frame.extend_from_slice(body);
    match Message::parse(&mut frame) {
        Ok(Some(Message::ErrorResponse(error))) => match DbError::parse(&error) {
            Ok(db) => Error::Db(db),
            Err(e) => e,
        },
        _ => Error::Protocol("an unreadable error".to_string()),
    }
}

/// One pgoutput message; `None` when it is cut short.
fn decode(data: &mut Bytes) -> Option<Change> {
    let tag = data.try_get_u8().ok()?;
    Some(match tag {
        b'B' => Change::Begin {
            final_lsn: data.try_get_u64().ok()?,
            commit_time: data.try_get_i64().ok()?,
            xid: data.try_get_u32().ok()?,
        },
        b'C' => {
            data.try_get_u8().ok()?;
            Change::Commit {
                commit_lsn: data.try_get_u64().ok()?,
                end_lsn: data.try_get_u64().ok()?,
                commit_time: data.try_get_i64().ok()?,
            }
        }
        b'R' => {
            let id = data.try_get_u32().ok()?;
            let schema = string(data)?;
            let name = string(data)?;
            let replica_identity = data.try_get_u8().ok()?;
            let count = data.try_get_u16().ok()?;
            let mut columns = Vec::with_capacity(count.into());
            for _ in 0..count {
                let flags = data.try_get_u8().ok()?;
                let name = string(data)?;
                let type_oid = data.try_get_u32().ok()?;
                data.try_get_i32().ok()?;
                columns.push(RelationColumn {
                    name,
                    type_oid,
                    key: flags & 1 == 1,
                });
            }
            Change::Relation(Relation {
                id,
                schema,
                name,
                replica_identity,
                columns,
            })
        }
        b'I' => {
            let relation = data.try_get_u32().ok()?;
            (data.try_get_u8().ok()? == b'N').then_some(())?;
            Change::Insert {
                relation,
                new: tuple(data)?,
            }
        }
        b'U' => {
            let relation = data.try_get_u32().ok()?;
            let mut old = None;
            let mut kind = data.try_get_u8().ok()?;
            if kind == b'K' || kind == b'O' {
                old = Some(tuple(data)?);
                kind = data.try_get_u8().ok()?;
            }
            (kind == b'N').then_some(())?;
            Change::Update {
                relation,
                old,
                new: tuple(data)?,
            }
        }
        b'D' => {
            let relation = data.try_get_u32().ok()?;
            matches!(data.try_get_u8().ok()?, b'K' | b'O').then_some(())?;
            Change::Delete {
                relation,
                old: tuple(data)?,
            }
        }
        other => Change::Other(other),
    })
}

/// A NUL-terminated string.
fn string(data: &mut Bytes) -> Option<String> {
    let end = data.iter().position(|&b| b == 0)?;
    let text = String::from_utf8(data.split_to(end).to_vec()).ok()?;
    data.advance(1);
    Some(text)
}

/// TupleData: a count, then each column null, unchanged or text.
fn tuple(data: &mut Bytes) -> Option<Vec<Datum>> {
    let count = data.try_get_u16().ok()?;
    let mut values = Vec::with_capacity(count.into());
    for _ in 0..count {
        values.push(match data.try_get_u8().ok()? {
            b'n' => Datum::Null,
            b'u' => Datum::Unchanged,
            b't' | b'b' => {
                let len = usize::try_from(data.try_get_i32().ok()?).ok()?;
                if data.len() < len {
                    return None;
                }
                Datum::Text(String::from_utf8(data.split_to(len).to_vec()).ok()?)
            }
            _ => return None,
        });
    }
    Some(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_names_are_checked() {
        assert!(valid_slot_name("pgrst_host_1"));
        for bad in ["", "Upper", "a-b", "a b", "x'; DROP", &"a".repeat(64)] {
            assert!(!valid_slot_name(bad), "{bad}");
        }
    }

    #[test]
    fn cut_short_messages_decode_to_nothing() {
        let insert: &[u8] = b"I\0\0\0\x10N\0\x02t\0\0\0\x011n";
        assert_eq!(
            decode(&mut Bytes::from_static(insert)),
            Some(Change::Insert {
                relation: 16,
                new: vec![Datum::Text("1".into()), Datum::Null],
            })
        );
        for end in 0..insert.len() {
            let mut cut = Bytes::copy_from_slice(&insert[..end]);
            assert_eq!(decode(&mut cut), None, "{end}");
        }
        // A length past the message is refused, not read past.
        let long: &[u8] = b"I\0\0\0\x10N\0\x01t\x7f\0\0\0x";
        assert_eq!(decode(&mut Bytes::from_static(long)), None);
    }
}
