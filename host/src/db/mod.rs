//! The PostgreSQL side: a connection pool, and running one plan as one
//! pipelined transaction.
//!
//! An exchange runs in the request's own task (a spawned task per request
//! costs a hand-off between threads). Should the request be dropped
//! mid-exchange (the client hung up), its `Lease` cancels the statement
//! running (see `cancel`), finishes what was sent and ends the transaction
//! in a task of its own before the connection goes back to the pool, so no
//! pooled connection is ever left inside a transaction (with `role` set)
//! and no backend works on for nobody. A connection whose state is unknown
//! is discarded.
//!
//! Failures come in kinds (`Failure`) so the server decides by matching:
//! only losing the server (no connection, the socket closed, a FATAL)
//! starts recovery; a request that cannot be encoded, or a connection that
//! answers what the protocol does not allow, fails that request alone and
//! that connection is discarded.

mod cancel;
mod connection;
mod listen;
mod pipeline;
mod startup;
mod values;

use std::time::Duration;

use bytes::Bytes;
use deadpool::managed::{PoolError, TimeoutType};

use crate::component::wit;
use crate::tls::TlsOptions;
pub use connection::Io;
use connection::{Error, Manager, Object, Pool, TxStatus};
pub use listen::Listening;
use pipeline::Step;

#[derive(Clone)]
pub struct Db {
    pool: Pool,
    /// `db-prepared-statements`: statements are prepared once per
    /// connection (see `pipeline`).
    prepare: bool,
}

/// Why a plan did not run to the end.
#[derive(Debug)]
pub enum Failure {
    /// A statement failed; the first one in statement order. Also a
    /// request the encoder refused (nothing was sent), worded as PostgreSQL
    /// refuses the same input, e.g. a NUL byte (22021).
    Db(wit::DbError),
    /// This connection answered what the protocol does not allow, or what
    /// cannot be read (a column that is not UTF-8): the request fails and
    /// the connection is discarded; the server itself is fine.
    Connection(String),
    /// The host could not talk to the database: `DbUnreachable` and
    /// `DbConnectionLost` mean the server is gone (recovery starts).
    Host(wit::HostError),
}

impl Failure {
    /// Whether the database server itself went away.
    pub fn server_lost(&self) -> bool {
        matches!(
            self,
            Failure::Host(wit::HostError::DbUnreachable(_) | wit::HostError::DbConnectionLost(_))
        )
    }
}

/// The results of a plan's statements.
pub struct Executed {
    /// Per `to-respond` or `body` statement, in statement order.
    pub results: Vec<wit::Rows>,
    /// Column 0 of the `body` statement.
    pub body: Option<Bytes>,
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
    ) -> Result<Db, String> {
        let manager = Manager {
            connect: tls.connector(&config)?,
            config,
        };
        let pool = Pool::builder(manager)
            .max_size(size)
            .wait_timeout(Some(wait))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|e| format!("building the connection pool: {e}"))?;
        Ok(Db { pool, prepare })
    }

    /// Closes pooled connections idle longer than `idle` or older than
    /// `lifetime` (`db-pool-max-idletime`, `db-pool-max-lifetime`), checking
    /// every second; connections in use are checked once they are back.
    pub fn expire_connections(
        &self,
        idle: Duration,
        lifetime: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let pool = self.pool.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                pool.retain(|_, m| m.last_used() < idle && m.age() < lifetime);
            }
        })
    }

    /// The pool's size and use, for `/metrics`.
    pub fn status(&self) -> deadpool::Status {
        self.pool.status()
    }

    /// Whether a pooled connection answers `SELECT 1`.
    pub async fn ping(&self) -> bool {
        match self.connection().await {
            Ok(mut conn) => conn.simple("SELECT 1").await.is_ok(),
            Err(_) => false,
        }
    }

    pub async fn connection(&self) -> Result<Object, wit::HostError> {
        self.pool.get().await.map_err(|e| match e {
            PoolError::Timeout(TimeoutType::Wait) => wit::HostError::PoolTimeout,
            PoolError::Backend(e) => wit::HostError::DbUnreachable(with_causes(&e)),
            other => wit::HostError::DbUnreachable(other.to_string()),
        })
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
            Ok(conn) => exchange(Lease(Some(conn)), plan, body, self.prepare, finish).await,
            Err(e) => finish(Err(Failure::Host(e))).value,
        }
    }

    /// Runs statements as the connecting role in one read-only transaction and
    /// returns column 0 of each one's single row (schema introspection).
    pub async fn read_texts(&self, statements: &[wit::Statement]) -> Result<Vec<String>, String> {
        let steps = statements.iter().map(|st| Step {
            rows: wit::RowUse::ToRespond,
            ..Step::of(st)
        });
        let results = self.read_only(steps, "COMMIT").await?;
        results
            .into_iter()
            .map(|rows| {
                first_text(rows)
                    .ok_or_else(|| "an introspection query returned no text".to_string())
            })
            .collect()
    }

    /// Runs statements as the connecting role in one read-only transaction,
    /// rolled back at the end (what they `set_config` goes with it), and
    /// returns the rows of those that are not `ignore` (the in-database
    /// configuration).
    pub async fn read_rows(&self, statements: &[wit::Statement]) -> Result<Vec<wit::Rows>, String> {
        self.read_only(statements.iter().map(Step::of), "ROLLBACK")
            .await
    }

    /// `steps` between BEGIN READ ONLY and `end`, unprepared (they run once);
    /// a connection that failed is discarded.
    async fn read_only<'a>(
        &self,
        steps: impl Iterator<Item = Step<'a>>,
        end: &'a str,
    ) -> Result<Vec<wit::Rows>, String> {
        let mut conn = self.connection().await.map_err(|e| format!("{e:?}"))?;
        let steps: Vec<Step> = std::iter::once(Step::control("BEGIN READ ONLY"))
            .chain(steps)
            .chain(std::iter::once(Step::control(end)))
            .collect();
        let read = pipeline::run(&mut conn, &steps, &Bytes::new(), false).await;
        if read.is_err() || !conn.is_reusable() {
            drop(Object::take(conn));
        }
        read.map(|executed| executed.results).map_err(describe)
    }

    /// `db-prepared-statements`, once the in-database configuration is read.
    pub fn set_prepared_statements(&mut self, on: bool) {
        self.prepare = on;
    }

    /// `server_version_num`, e.g. 150018. The first connection at startup:
    /// its error says why the database cannot be reached (TLS included).
    pub async fn server_version_num(&self) -> Result<u32, String> {
        let mut conn = self.connection().await.map_err(|e| match e {
            wit::HostError::DbUnreachable(why) | wit::HostError::DbConnectionLost(why) => {
                format!("could not connect to the database: {why}")
            }
            other => format!("could not connect to the database: {other:?}"),
        })?;
        let step = Step {
            rows: wit::RowUse::ToRespond,
            ..Step::control("SELECT current_setting('server_version_num')")
        };
        let executed = pipeline::run(&mut conn, &[step], &Bytes::new(), false)
            .await
            .map_err(describe)?;
        let text = executed
            .results
            .into_iter()
            .next()
            .and_then(first_text)
            .unwrap_or_default();
        text.parse()
            .map_err(|e| format!("server_version_num {text:?}: {e}"))
    }
}

/// Column 0 of the first row, unless there is none or it is NULL.
fn first_text(rows: wit::Rows) -> Option<String> {
    rows.into_iter().next()?.into_iter().next()?
}

/// A pooled connection inside a request's transaction.
struct Lease(Option<Object>);

impl Lease {
    fn conn(&mut self) -> &mut Object {
        self.0
            .as_mut()
            .expect("the lease holds its connection until released")
    }

    /// Back to the pool when its transaction ended cleanly, else closed.
    fn release(mut self, clean: bool) {
        let conn = self.0.take().expect("released once");
        if !clean || !conn.is_reusable() {
            drop(Object::take(conn));
        }
    }
}

impl Drop for Lease {
    /// The request was dropped mid-exchange: a statement still running is
    /// cancelled, what was sent is drained, then ROLLBACK ends the
    /// transaction if it is still open.
    fn drop(&mut self) {
        if let Some(mut conn) = self.0.take() {
            tokio::spawn(async move {
                if !conn.is_settled()
                    && let Some(target) = conn.cancel.clone()
                    && let Some(pool) = Object::pool(&conn)
                    && let Err(e) = target.send(&pool.manager().connect).await
                {
                    eprintln!("cancelling a dropped request's statement: {e}");
                }
                let recovered = conn.recover().await;
                Lease(Some(conn)).release(recovered);
            });
        }
    }
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
    let steps: Vec<Step> = plan
        .statements
        .iter()
        .map(Step::of)
        .chain(end.map(Step::control))
        .collect();
    let conn = lease.conn();
    let outcome = pipeline::run(conn, &steps, &body, prepare).await;
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
            match pipeline::run(conn, &[last], &Bytes::new(), prepare).await {
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

/// The kind of a connection's error.
pub(crate) fn failure(e: Error) -> Failure {
    match e {
        Error::Db(db) if db.ends_session() => {
            Failure::Host(wit::HostError::DbConnectionLost(Error::Db(db).to_string()))
        }
        Error::Db(db) | Error::Unencodable(db) => Failure::Db(wit::DbError {
            sqlstate: db.code,
            message: db.message,
            detail: db.detail,
            hint: db.hint,
        }),
        Error::Protocol(_) => Failure::Connection(e.to_string()),
        Error::Io(_) => Failure::Host(wit::HostError::DbConnectionLost(e.to_string())),
        Error::Connect(why) => Failure::Host(wit::HostError::DbUnreachable(why)),
    }
}

/// An error and its causes ("error performing TLS handshake: invalid peer
/// certificate: ..."): the driver's top-level message alone hides the reason.
pub(crate) fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}

/// A failure for the operator's log, with the server's message when there is one.
fn describe(failure: Failure) -> String {
    match failure {
        Failure::Db(db) => format!("ERROR: {} ({})", db.message, db.sqlstate),
        Failure::Connection(what) => what,
        Failure::Host(
            wit::HostError::DbUnreachable(why) | wit::HostError::DbConnectionLost(why),
        ) => why,
        Failure::Host(other) => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::connection::DbError;
    use super::*;

    fn server_error(severity: &str, code: &str) -> Error {
        Error::Db(DbError {
            severity: severity.to_string(),
            code: code.to_string(),
            message: "m".to_string(),
            detail: None,
            hint: None,
        })
    }

    #[test]
    fn only_losing_the_server_is_a_loss() {
        let lost = |e| failure(e).server_lost();
        assert!(lost(server_error("FATAL", "57P01")));
        assert!(lost(Error::Io(std::io::ErrorKind::UnexpectedEof.into())));
        assert!(lost(Error::Connect("refused".to_string())));
        assert!(!lost(server_error("ERROR", "23503")));
        assert!(!lost(Error::Protocol("a surprise".to_string())));
        assert!(!lost(connection::nul_byte()));
        assert!(matches!(
            failure(Error::Protocol("a surprise".to_string())),
            Failure::Connection(_)
        ));
    }
}
