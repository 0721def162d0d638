//! Statements on one connection as one pipeline: every statement's Parse
//! (when needed), Bind and Execute, then a single Sync, so a request costs
//! one round trip and one ReadyForQuery. After a failure the server skips
//! the rest up to the Sync; the transaction is then left failed, for the
//! caller to roll back.
//!
//! Statements run as named prepared statements (with
//! `db-prepared-statements`, the default), cached per connection so
//! PostgreSQL parses and plans each SQL text once per connection: BEGIN and
//! COMMIT too. A statement's Parse sits in the pipeline right before its
//! Bind, after `set_config('role', ...)` ran, so name lookups see the
//! request role's privileges and `search_path`.
//!
//! Parameter types are left for PostgreSQL to infer, as for literals.

use std::collections::VecDeque;

use bytes::Bytes;
use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;

use super::connection::{Conn, DbError, Error};
use super::values;
use super::{Executed, Failure};
use crate::component::wit;

/// One statement of a pipeline.
#[derive(Clone, Copy)]
pub struct Step<'a> {
    pub sql: &'a str,
    pub params: &'a [wit::Param],
    pub rows: wit::RowUse,
}

impl<'a> Step<'a> {
    pub fn of(statement: &'a wit::Statement) -> Step<'a> {
        Step {
            sql: &statement.sql,
            params: &statement.params,
            rows: statement.rows,
        }
    }

    /// A statement without parameters or rows (BEGIN, COMMIT, ...).
    pub fn control(sql: &'a str) -> Step<'a> {
        Step {
            sql,
            params: &[],
            rows: wit::RowUse::Ignore,
        }
    }
}

/// Runs `steps` and returns what `respond` needs, or the first failure.
/// `conn.status()` then tells where the transaction stands.
pub async fn run(
    conn: &mut Conn,
    steps: &[Step<'_>],
    body: &Bytes,
    prepare: bool,
) -> Result<Executed, Failure> {
    let parsing = encode(conn, steps, body, prepare).map_err(|e| {
        // Nothing was sent: the connection stays as it was.
        conn.out.clear();
        super::failure(e)
    })?;
    conn.send(1).await.map_err(super::failure)?;
    read(conn, steps, parsing).await
}

/// Statements parsed by this pipeline, in order: the SQL and name to
/// remember once the server confirms (unnamed ones are not remembered).
type Parsing = VecDeque<Option<(String, String)>>;

fn encode(
    conn: &mut Conn,
    steps: &[Step<'_>],
    body: &[u8],
    prepare: bool,
) -> Result<Parsing, Error> {
    if prepare {
        conn.make_room(steps.len())?;
    }
    let mut parsing = VecDeque::new();
    for step in steps {
        let name = match conn.prepared(step.sql) {
            Some(name) if prepare => name.to_string(),
            _ => {
                let name = if prepare {
                    conn.new_name()
                } else {
                    String::new()
                };
                frontend::parse(&name, step.sql, None, &mut conn.out).map_err(Error::Io)?;
                parsing.push_back(prepare.then(|| (step.sql.to_string(), name.clone())));
                name
            }
        };
        frontend::bind(
            "",
            &name,
            values::formats(step.params),
            step.params,
            |param, out| values::write(param, body, out),
            values::result_formats(step.rows).iter().copied(),
            &mut conn.out,
        )
        .map_err(|e| match e {
            frontend::BindError::Conversion(e) => Error::Protocol(e.to_string()),
            frontend::BindError::Serialization(e) => Error::Io(e),
        })?;
        frontend::execute("", 0, &mut conn.out).map_err(Error::Io)?;
    }
    frontend::sync(&mut conn.out);
    Ok(parsing)
}

/// Reads the answers up to ReadyForQuery.
async fn read(
    conn: &mut Conn,
    steps: &[Step<'_>],
    mut parsing: Parsing,
) -> Result<Executed, Failure> {
    let mut executed = Executed {
        results: Vec::new(),
        body: None,
    };
    let mut failed: Option<Error> = None;
    let mut current = 0;
    let mut rows: wit::Rows = Vec::new();
    loop {
        match conn.message().await.map_err(super::failure)? {
            Message::ParseComplete => {
                if let Some((sql, name)) = parsing.pop_front().flatten() {
                    conn.remember(sql, name);
                }
            }
            Message::DataRow(row) if failed.is_none() => {
                let taken = match steps.get(current).map(|s| s.rows) {
                    Some(wit::RowUse::ToRespond) => values::text_columns(&row, 0).map(Some),
                    Some(wit::RowUse::Body) => {
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
                    && !matches!(step.rows, wit::RowUse::Ignore)
                {
                    executed.results.push(step_rows);
                }
                current += 1;
            }
            Message::ErrorResponse(body) => {
                let error = DbError::parse(&body).map_err(super::failure)?;
                failed = failed.or(Some(Error::Db(error)));
            }
            Message::ReadyForQuery(_) => break,
            Message::BindComplete
            | Message::CloseComplete
            | Message::DataRow(_)
            | Message::NoticeResponse(_)
            | Message::ParameterStatus(_)
            | Message::NotificationResponse(_) => {}
            _ => {
                return Err(super::failure(Error::Protocol(
                    "in a pipeline's answers".to_string(),
                )));
            }
        }
    }
    match failed {
        Some(e) => Err(super::failure(e)),
        None => Ok(executed),
    }
}
