//! The PostgreSQL side: the pool (`pgrest-pg`), and running one plan as one
//! pipelined transaction.
//!
//! An exchange runs in the request's own task on a `Lease`; should the
//! request be dropped mid-exchange (the client hung up), the lease cancels
//! the statement running and ends the transaction before its connection
//! goes back to the pool.
//!
//! Failures come in kinds (`Failure`) so the server decides by matching:
//! only losing the server (no connection, the socket closed, a FATAL)
//! starts recovery; a request that cannot be encoded, or a connection that
//! answers what the protocol does not allow, fails that request alone and
//! that connection is discarded.

mod failure;

use std::time::Duration;

use bytes::Bytes;
use pgrest_pg::tls::{SettingsError, TlsOptions};
use pgrest_pg::{Lease, Pool, RowUse, Step, TxStatus, Value};

use crate::SetupError;
use crate::component::wit;
pub use failure::Failure;
pub use pgrest_pg::Executed;

#[derive(Clone)]
pub struct Db {
    pool: Pool,
    /// `db-prepared-statements`: statements are prepared once per
    /// connection (see `pgrest_pg::Step`).
    prepare: bool,
}

/// What the caller's `finish` returns: its value, and for `after-respond`
/// plans whether to commit. Should that COMMIT fail, `finish` is called
/// again with the failure, and that answer is the one returned.
pub struct Finish<R> {
    pub value: R,
    pub commit: bool,
}

impl Db {
    pub fn new(
        config: tokio_postgres::Config,
        tls: &TlsOptions,
        size: usize,
        wait: Duration,
        prepare: bool,
    ) -> Result<Db, SettingsError> {
        let connect = tls.connector(&config)?;
        let pool = Pool::new(config, connect, size, wait)?;
        Ok(Db { pool, prepare })
    }

    /// Closes pooled connections idle longer than `idle` or older than
    /// `lifetime` (`db-pool-max-idletime`, `db-pool-max-lifetime`).
    pub fn expire_connections(
        &self,
        idle: Duration,
        lifetime: Duration,
    ) -> tokio::task::JoinHandle<()> {
        self.pool.expire(idle, lifetime)
    }

    /// The pool's size and use, for `/metrics`.
    pub fn status(&self) -> pgrest_pg::PoolStatus {
        self.pool.status()
    }

    /// Whether a pooled connection answers `SELECT 1`.
    pub async fn ping(&self) -> bool {
        match self.connection().await {
            Ok(mut lease) => {
                let answered = lease.conn().simple("SELECT 1").await.is_ok();
                lease.release(true);
                answered
            }
            Err(_) => false,
        }
    }

    async fn connection(&self) -> Result<Lease, wit::HostError> {
        self.pool.get().await.map_err(wit::HostError::from)
    }

    /// Runs `plan` and hands its outcome to `finish`, which runs before the
    /// transaction ends (so it can decide `after-respond` commits), and
    /// again should that commit fail.
    pub async fn execute<R>(
        &self,
        plan: wit::Plan,
        body: Bytes,
        mut finish: impl FnMut(Result<Executed, Failure>) -> Finish<R>,
    ) -> R {
        match self.connection().await {
            Ok(lease) => exchange(lease, plan, body, self.prepare, finish).await,
            Err(e) => finish(Err(Failure::Host(e))).value,
        }
    }

    /// Runs statements as the connecting role in one read-only transaction and
    /// returns column 0 of each one's single row (schema introspection).
    pub async fn read_texts(
        &self,
        statements: &[wit::Statement],
    ) -> Result<Vec<String>, SetupError> {
        let values = values(statements, &[]);
        let steps = steps(statements, &values).map(|step| Step {
            rows: RowUse::Text,
            ..step
        });
        let results = self.read_only(steps, "COMMIT").await?;
        results
            .into_iter()
            .map(|rows| first_text(rows).ok_or(SetupError::NoIntrospectionText))
            .collect()
    }

    /// Runs statements as the connecting role in one read-only transaction,
    /// rolled back at the end (what they `set_config` goes with it), and
    /// returns the rows of those that are not `ignore` (the in-database
    /// configuration).
    pub async fn read_rows(
        &self,
        statements: &[wit::Statement],
    ) -> Result<Vec<wit::Rows>, SetupError> {
        let values = values(statements, &[]);
        self.read_only(steps(statements, &values), "ROLLBACK").await
    }

    /// `steps` between BEGIN READ ONLY and `end`, unprepared (they run once);
    /// a connection that failed is discarded.
    async fn read_only<'a>(
        &self,
        steps: impl Iterator<Item = Step<'a>>,
        end: &'a str,
    ) -> Result<Vec<wit::Rows>, SetupError> {
        let mut lease = self
            .connection()
            .await
            .map_err(|e| SetupError::Database(Failure::Host(e).describe()))?;
        let steps: Vec<Step> = std::iter::once(Step::control("BEGIN READ ONLY"))
            .chain(steps)
            .chain(std::iter::once(Step::control(end)))
            .collect();
        let read = lease.conn().pipeline(&steps, false).await;
        lease.release(read.is_ok());
        read.map(|executed| executed.results)
            .map_err(|e| SetupError::Database(Failure::from(e).describe()))
    }

    /// `db-prepared-statements`, once the in-database configuration is read.
    pub fn set_prepared_statements(&mut self, on: bool) {
        self.prepare = on;
    }

    /// `server_version_num`, e.g. 150018. The first connection at startup:
    /// its error says why the database cannot be reached (TLS included).
    pub async fn server_version_num(&self) -> Result<u32, SetupError> {
        let mut lease = self
            .connection()
            .await
            .map_err(|e| SetupError::Unreachable(Failure::Host(e).describe()))?;
        let step = Step {
            rows: RowUse::Text,
            ..Step::control("SELECT current_setting('server_version_num')")
        };
        let executed = lease.conn().pipeline(&[step], false).await;
        lease.release(true);
        let text = executed
            .map_err(|e| SetupError::Database(Failure::from(e).describe()))?
            .results
            .into_iter()
            .next()
            .and_then(first_text)
            .unwrap_or_default();
        text.parse()
            .map_err(|source| SetupError::ServerVersion { text, source })
    }
}

/// Column 0 of the first row, unless there is none or it is NULL.
fn first_text(rows: wit::Rows) -> Option<String> {
    rows.into_iter().next()?.into_iter().next()?
}

/// The statements' parameters, in statement order, as the pipeline sends
/// them: text as literals are (PostgreSQL infers the type), `bytes` binary,
/// the request body as text.
fn values<'a>(statements: &'a [wit::Statement], body: &'a [u8]) -> Vec<Value<'a>> {
    statements
        .iter()
        .flat_map(|statement| &statement.params)
        .map(|param| match param {
            wit::Param::SqlNull => Value::Null,
            wit::Param::Text(text) => Value::Text(text.as_bytes()),
            wit::Param::Bytes(bytes) => Value::Binary(bytes),
            wit::Param::RequestBody => Value::Text(body),
        })
        .collect()
}

/// The statements as pipeline steps, each taking its parameters from
/// `values` in turn.
fn steps<'a>(
    statements: &'a [wit::Statement],
    values: &'a [Value<'a>],
) -> impl Iterator<Item = Step<'a>> {
    let mut rest = values;
    statements.iter().map(move |statement| {
        let (params, tail) = rest.split_at(statement.params.len());
        rest = tail;
        Step {
            sql: &statement.sql,
            params,
            rows: match statement.rows {
                wit::RowUse::Ignore => RowUse::Ignore,
                wit::RowUse::ToRespond => RowUse::Text,
                wit::RowUse::Body => RowUse::Body,
            },
        }
    })
}

async fn exchange<R>(
    mut lease: Lease,
    plan: wit::Plan,
    body: Bytes,
    prepare: bool,
    mut finish: impl FnMut(Result<Executed, Failure>) -> Finish<R>,
) -> R {
    let end = match plan.tx_end {
        wit::TxEnd::Commit => Some("COMMIT"),
        wit::TxEnd::Rollback => Some("ROLLBACK"),
        wit::TxEnd::AfterRespond => None,
    };
    let values = values(&plan.statements, &body);
    let steps: Vec<Step> = steps(&plan.statements, &values)
        .chain(end.map(Step::control))
        .collect();
    let conn = lease.conn();
    let outcome = conn.pipeline(&steps, prepare).await.map_err(Failure::from);
    let failed = outcome.is_err();
    let suspect = matches!(outcome, Err(Failure::Connection(_)));
    let done = finish(outcome);
    // `after-respond` plans, and failed ones (the server skipped their end).
    let (clean, value) = match conn.status() {
        _ if suspect || !conn.is_settled() => (false, done.value),
        TxStatus::Idle => (true, done.value),
        status => {
            let commit = done.commit && !failed && status == TxStatus::InBlock;
            let last = Step::control(if commit { "COMMIT" } else { "ROLLBACK" });
            match conn.pipeline(&[last], prepare).await.map_err(Failure::from) {
                Ok(_) => (true, done.value),
                // A deferred constraint or a serialization failure: the
                // answer built for the rows is void.
                Err(e) if commit => {
                    let clean = conn.is_reusable() && !matches!(e, Failure::Connection(_));
                    (clean, finish(Err(e)).value)
                }
                Err(_) => (false, done.value),
            }
        }
    };
    lease.release(clean);
    value
}
