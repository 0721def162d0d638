//! One plan's statements on one connection, pipelined: every statement's
//! messages go out before the first answer is awaited, so a request costs
//! one round trip.
//!
//! Statements run as named prepared statements (with
//! `db-prepared-statements`, the default), cached per connection so
//! PostgreSQL parses and plans each SQL text once per connection: BEGIN and
//! COMMIT too, which otherwise go through its parser on every request. A
//! statement is parsed inside the transaction, after `set_config('role',
//! ...)`, so name lookups see the request role's privileges and
//! `search_path`. A cache miss costs a round trip: the statements before the
//! unprepared one run together with its parse, then the pipeline goes on.
//!
//! Parameter types are left for PostgreSQL to infer, as for literals.

use bytes::Bytes;
use futures_util::future::{join, join_all};
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Row, Statement};

use super::connection::Conn;
use super::values::{Raw, as_sql, bind, text_rows};
use super::{Executed, Failure, failure};
use crate::component::wit;

/// What running a plan's statements gave.
pub struct Ran {
    pub outcome: Result<Executed, Failure>,
    /// The transaction end in the pipeline was executed.
    pub ended: bool,
}

pub async fn run(
    conn: &Conn,
    statements: &[wit::Statement],
    body: &Bytes,
    end: Option<&str>,
    prepare: bool,
) -> Ran {
    let end_statement = end.map(|sql| wit::Statement {
        sql: sql.to_string(),
        params: vec![],
        rows: wit::RowUse::Ignore,
    });
    let all: Vec<&wit::Statement> = statements.iter().chain(end_statement.as_ref()).collect();
    let mut prepared: Vec<Option<Statement>> = if prepare {
        all.iter().map(|s| conn.prepared(&s.sql)).collect()
    } else {
        vec![None; all.len()]
    };
    let misses: Vec<usize> = (0..all.len())
        .filter(|&i| prepare && prepared[i].is_none())
        .collect();

    let client = &conn.client;
    let mut outputs = Vec::with_capacity(all.len());
    let mut next = 0;
    // Each missing statement is parsed once the statements before it ran
    // (the settings among them), one round trip per miss.
    for miss in misses {
        let before =
            join_all((next..miss).map(|i| execute(client, all[i], prepared[i].as_ref(), body)));
        let (before, parsed) = join(before, client.prepare(&all[miss].sql)).await;
        outputs.extend(before);
        next = miss;
        match parsed {
            Ok(statement) => {
                conn.remember(&all[miss].sql, statement.clone());
                prepared[miss] = Some(statement);
            }
            Err(e) => outputs.push(Err(e)),
        }
        if outputs.iter().any(Result::is_err) {
            return Ran {
                outcome: collect(&all, outputs),
                ended: false,
            };
        }
    }
    let rest = (next..all.len()).map(|i| execute(client, all[i], prepared[i].as_ref(), body));
    outputs.extend(join_all(rest).await);
    Ran {
        outcome: collect(&all, outputs),
        ended: end.is_some(),
    }
}

async fn execute(
    client: &Client,
    statement: &wit::Statement,
    prepared: Option<&Statement>,
    body: &Bytes,
) -> Result<Vec<Row>, tokio_postgres::Error> {
    let bound = bind(&statement.params, body);
    match prepared {
        Some(prepared) => client.query(prepared, &as_sql(&bound)).await,
        None => {
            let typed: Vec<(&(dyn ToSql + Sync), Type)> = bound
                .iter()
                .map(|b| (b as &(dyn ToSql + Sync), Type::UNKNOWN))
                .collect();
            client.query_typed(&statement.sql, &typed).await
        }
    }
}

/// The rows `respond` needs, or the first failure in statement order.
fn collect(
    all: &[&wit::Statement],
    outputs: Vec<Result<Vec<Row>, tokio_postgres::Error>>,
) -> Result<Executed, Failure> {
    let mut executed = Executed {
        results: Vec::new(),
        body: None,
    };
    for (st, rows) in all.iter().zip(outputs) {
        let rows = rows.map_err(failure)?;
        match st.rows {
            wit::RowUse::Ignore => {}
            wit::RowUse::ToRespond => executed.results.push(text_rows(&rows, 0).map_err(failure)?),
            wit::RowUse::Body => {
                if let Some(row) = rows.first() {
                    let raw: Option<Raw> = row.try_get(0).map_err(failure)?;
                    executed.body = raw.map(|r| Bytes::copy_from_slice(r.0));
                }
                executed.results.push(text_rows(&rows, 1).map_err(failure)?);
            }
        }
    }
    Ok(executed)
}
