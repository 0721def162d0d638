//! Statements on one connection as one pipeline: every statement's Parse
//! (when needed), Bind and Execute, then a single Sync, so a request costs
//! one round trip and one ReadyForQuery. After a failure the server skips
//! the rest up to the Sync; the transaction is then left failed, for the
//! caller to roll back.
//!
//! Statements run as named prepared statements when asked to (pgrest's
//! `db-prepared-statements`, the default), cached per connection so
//! PostgreSQL parses and plans each SQL text once per connection: BEGIN and
//! COMMIT too. A statement's Parse sits in the pipeline right before its
//! Bind, after the statements before it ran (`set_config('role', ...)`), so
//! name lookups see the request role's privileges and `search_path`.
//!
//! Parameter types are left for PostgreSQL to infer, as for literals.

use bytes::Bytes;
use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;

use crate::connection::{self, Conn, DbError, Error};
use crate::values::{self, Value};

/// One statement of a pipeline.
#[derive(Clone, Copy)]
pub struct Step<'a> {
    pub sql: &'a str,
    pub params: &'a [Value<'a>],
    pub rows: RowUse,
}

impl<'a> Step<'a> {
    /// A statement without parameters or rows (BEGIN, COMMIT, ...).
    pub fn control(sql: &'a str) -> Step<'a> {
        Step {
            sql,
            params: &[],
            rows: RowUse::Ignore,
        }
    }
}

/// What becomes of a statement's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowUse {
    /// Discarded.
    Ignore,
    /// Every column as text, into `Executed::results`.
    Text,
    /// Column 0 of the first row as received, binary, into
    /// `Executed::body`; the other columns as text, into `results`.
    Body,
}

/// Rows of columns, as text (`None`: NULL).
pub type Rows = Vec<Vec<Option<String>>>;

/// The rows a pipeline's statements returned.
#[derive(Debug)]
pub struct Executed {
    /// Per statement whose rows are not ignored, in statement order.
    pub results: Vec<Rows>,
    /// Column 0 of the `Body` statement.
    pub body: Option<Bytes>,
}

impl Conn {
    /// Runs `steps` as one pipeline and returns their rows, or the first
    /// failure; `prepare`: as named prepared statements, cached. `status()`
    /// then tells where the transaction stands.
    pub async fn pipeline(&mut self, steps: &[Step<'_>], prepare: bool) -> Result<Executed, Error> {
        if let Err(e) = encode(self, steps, prepare) {
            // Nothing was sent, but the Closes and Parses encoded so far are
            // lost with it: the cache no longer matches the server's.
            self.out.clear();
            self.discard();
            return Err(e);
        }
        self.send(1).await?;
        read(self, steps).await
    }
}

fn encode(conn: &mut Conn, steps: &[Step<'_>], prepare: bool) -> Result<(), Error> {
    if prepare {
        conn.make_room(steps.len())?;
    }
    for step in steps {
        if step.sql.contains('\0') {
            return Err(connection::nul_byte());
        }
        let name = match conn.prepared(step.sql) {
            Some(name) if prepare => name.to_string(),
            _ => {
                let name = conn.parse_name(step.sql, prepare);
                frontend::parse(&name, step.sql, None, &mut conn.out)
                    .map_err(connection::unencodable)?;
                name
            }
        };
        frontend::bind(
            "",
            &name,
            values::formats(step.params),
            step.params,
            |param, out| values::write(param, out),
            values::result_formats(step.rows).iter().copied(),
            &mut conn.out,
        )
        .map_err(|e| match e {
            frontend::BindError::Conversion(e) => connection::unencodable(std::io::Error::other(e)),
            frontend::BindError::Serialization(e) => connection::unencodable(e),
        })?;
        frontend::execute("", 0, &mut conn.out).map_err(connection::unencodable)?;
    }
    frontend::sync(&mut conn.out);
    Ok(())
}

/// Reads the answers up to ReadyForQuery.
async fn read(conn: &mut Conn, steps: &[Step<'_>]) -> Result<Executed, Error> {
    let mut executed = Executed {
        results: Vec::new(),
        body: None,
    };
    let mut failed: Option<Error> = None;
    let mut current = 0;
    let mut rows: Rows = Vec::new();
    loop {
        let message = match conn.message().await {
            Ok(message) => message,
            // The server's FATAL says why it closed the socket.
            Err(e) => {
                return Err(match failed {
                    Some(Error::Db(db)) if db.ends_session() => Error::Db(db),
                    _ => e,
                });
            }
        };
        match message {
            Message::DataRow(row) if failed.is_none() => {
                let taken = match steps.get(current).map(|s| s.rows) {
                    Some(RowUse::Text) => values::text_columns(&row, 0).map(Some),
                    Some(RowUse::Body) => {
                        if executed.body.is_none() {
                            match values::first_column(&row) {
                                Ok(first) => executed.body = first,
                                Err(e) => failed = Some(e),
                            }
                        }
                        values::text_columns(&row, 1).map(Some)
                    }
                    _ => Ok(None),
                };
                match taken {
                    Ok(Some(columns)) => rows.push(columns),
                    Ok(None) => {}
                    Err(e) => failed = failed.or(Some(e)),
                }
            }
            Message::CommandComplete(_) | Message::EmptyQueryResponse => {
                let step_rows = std::mem::take(&mut rows);
                if let Some(step) = steps.get(current)
                    && step.rows != RowUse::Ignore
                {
                    executed.results.push(step_rows);
                }
                current += 1;
            }
            Message::ErrorResponse(body) => {
                let error = DbError::parse(&body)?;
                failed = failed.or(Some(Error::Db(error)));
            }
            Message::ReadyForQuery(_) => break,
            Message::ParseComplete
            | Message::BindComplete
            | Message::CloseComplete
            | Message::DataRow(_)
            | Message::NoticeResponse(_)
            | Message::ParameterStatus(_)
            | Message::NotificationResponse(_) => {}
            _ => {
                return Err(Error::Protocol("in a pipeline's answers".to_string()));
            }
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(executed),
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::*;

    #[tokio::test]
    async fn a_nul_byte_is_refused_before_anything_is_sent() {
        let (ours, mut theirs) = tokio::io::duplex(4096);
        let mut conn = Conn::new(Box::new(ours));
        let steps = [Step::control("BEGIN"), Step::control("SELECT 'a\0'")];
        match conn.pipeline(&steps, true).await {
            Err(Error::Unencodable(e)) => assert_eq!(
                (e.code.as_str(), e.message.as_str()),
                ("22021", "invalid byte sequence for encoding \"UTF8\": 0x00")
            ),
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("encoded"),
        }
        // Not to be reused: the statement cache lost track of the parses.
        assert!(!conn.is_settled());
        drop(conn);
        let mut sent = Vec::new();
        theirs.read_to_end(&mut sent).await.expect("read");
        assert!(sent.is_empty(), "{sent:?}");
    }
}
