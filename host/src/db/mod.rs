//! The PostgreSQL side: a connection pool, and running one plan as one
//! pipelined transaction.
//!
//! An exchange runs in the request's own task (a spawned task per request
//! costs a hand-off between threads). Should the request be dropped
//! mid-exchange (the client hung up), its `Lease` ends the transaction in a
//! task of its own before the connection goes back to the pool, so no pooled
//! connection is ever left inside a transaction (with `role` set). A
//! connection whose state is unknown after a failure is discarded.

mod connection;
mod pipeline;
mod values;

use std::time::Duration;

use bytes::Bytes;
use deadpool::managed::{PoolError, TimeoutType};

use crate::component::wit;
use crate::tls::TlsOptions;
use connection::{Manager, Object, Pool};
use values::{as_sql, bind};

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
    /// A statement failed; the first one in statement order.
    Db(wit::DbError),
    /// The host could not talk to the database.
    Host(wit::HostError),
}

/// The results of a plan's statements.
pub struct Executed {
    /// Per `to-respond` or `body` statement, in statement order.
    pub results: Vec<wit::Rows>,
    /// Column 0 of the `body` statement.
    pub body: Option<Bytes>,
}

/// What the caller's `finish` returns: its value, and for `after-respond`
/// plans whether to commit.
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
            Ok(conn) => conn.client.simple_query("SELECT 1").await.is_ok(),
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
    /// transaction ends (so it can decide `after-respond` commits).
    pub async fn execute<R>(
        &self,
        plan: wit::Plan,
        body: Bytes,
        finish: impl FnOnce(Result<Executed, Failure>) -> Finish<R>,
    ) -> R {
        match self.connection().await {
            Ok(conn) => exchange(Lease(Some(conn)), plan, body, self.prepare, finish).await,
            Err(e) => finish(Err(Failure::Host(e))).value,
        }
    }

    /// Runs statements as the connecting role in one read-only transaction and
    /// returns column 0 of each one's single row (schema introspection).
    pub async fn read_texts(&self, statements: &[wit::Statement]) -> Result<Vec<String>, String> {
        let conn = self.connection().await.map_err(|e| format!("{e:?}"))?;
        conn.client
            .batch_execute("BEGIN READ ONLY")
            .await
            .map_err(describe)?;
        let mut texts = Vec::with_capacity(statements.len());
        for st in statements {
            let bound = bind(&st.params, &[]);
            let row = conn
                .client
                .query_one(&st.sql, &as_sql(&bound))
                .await
                .map_err(describe)?;
            texts.push(row.try_get::<_, String>(0).map_err(describe)?);
        }
        conn.client
            .batch_execute("COMMIT")
            .await
            .map_err(describe)?;
        Ok(texts)
    }

    /// Runs statements as the connecting role in one read-only transaction,
    /// rolled back at the end (what they `set_config` goes with it), and
    /// returns the rows of those that are not `ignore` (the in-database
    /// configuration). A connection that failed is discarded.
    pub async fn read_rows(&self, statements: &[wit::Statement]) -> Result<Vec<wit::Rows>, String> {
        let conn = self.connection().await.map_err(|e| format!("{e:?}"))?;
        let read: Result<_, tokio_postgres::Error> = async {
            conn.client.batch_execute("BEGIN READ ONLY").await?;
            let mut results = Vec::new();
            for st in statements {
                let bound = bind(&st.params, &[]);
                let rows = conn.client.query(&st.sql, &as_sql(&bound)).await?;
                if !matches!(st.rows, wit::RowUse::Ignore) {
                    results.push(values::text_rows(&rows, 0)?);
                }
            }
            conn.client.batch_execute("ROLLBACK").await?;
            Ok(results)
        }
        .await;
        read.map_err(|e| {
            drop(Object::take(conn));
            describe(e)
        })
    }

    /// `db-prepared-statements`, once the in-database configuration is read.
    pub fn set_prepared_statements(&mut self, on: bool) {
        self.prepare = on;
    }

    /// `server_version_num`, e.g. 150018. The first connection at startup:
    /// its error says why the database cannot be reached (TLS included).
    pub async fn server_version_num(&self) -> Result<u32, String> {
        let conn = self.connection().await.map_err(|e| match e {
            wit::HostError::DbUnreachable(why) | wit::HostError::DbConnectionLost(why) => {
                format!("could not connect to the database: {why}")
            }
            other => format!("could not connect to the database: {other:?}"),
        })?;
        let row = conn
            .client
            .query_one("SELECT current_setting('server_version_num')", &[])
            .await
            .map_err(describe)?;
        let text: String = row.try_get(0).map_err(describe)?;
        text.parse()
            .map_err(|e| format!("server_version_num {text:?}: {e}"))
    }
}

/// A pooled connection inside a request's transaction.
struct Lease(Option<Object>);

impl Lease {
    fn conn(&self) -> &Object {
        self.0
            .as_ref()
            .expect("the lease holds its connection until released")
    }

    /// Back to the pool when its transaction ended cleanly, else closed.
    fn release(mut self, clean: bool) {
        let conn = self.0.take().expect("released once");
        if !clean || conn.client.is_closed() {
            drop(Object::take(conn));
        }
    }
}

impl Drop for Lease {
    /// The request was dropped mid-exchange: whatever was sent still runs,
    /// then ROLLBACK ends the transaction (a no-op if it had ended).
    fn drop(&mut self) {
        if let Some(conn) = self.0.take() {
            tokio::spawn(async move {
                let ended = conn.client.batch_execute("ROLLBACK").await.is_ok();
                Lease(Some(conn)).release(ended);
            });
        }
    }
}

async fn exchange<R>(
    lease: Lease,
    plan: wit::Plan,
    body: Bytes,
    prepare: bool,
    finish: impl FnOnce(Result<Executed, Failure>) -> Finish<R>,
) -> R {
    let end = match plan.tx_end {
        wit::TxEnd::Commit => Some("COMMIT"),
        wit::TxEnd::Rollback => Some("ROLLBACK"),
        wit::TxEnd::AfterRespond => None,
    };
    let conn = lease.conn();
    let ran = pipeline::run(conn, &plan.statements, &body, end, prepare).await;
    let broken = matches!(ran.outcome, Err(Failure::Host(_)));
    let failed = ran.outcome.is_err();
    let done = finish(ran.outcome);
    let clean = if broken {
        false
    } else if ran.ended {
        true
    } else {
        // `after-respond` plans, and pipelines cut short by a failed parse.
        let last = if done.commit && !failed {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        conn.client.batch_execute(last).await.is_ok()
    };
    lease.release(clean);
    done.value
}

pub(crate) fn failure(e: tokio_postgres::Error) -> Failure {
    match e.as_db_error() {
        Some(db) => Failure::Db(wit::DbError {
            sqlstate: db.code().code().to_string(),
            message: db.message().to_string(),
            detail: db.detail().map(str::to_string),
            hint: db.hint().map(str::to_string),
        }),
        None => Failure::Host(wit::HostError::DbConnectionLost(e.to_string())),
    }
}

/// An error and its causes ("error performing TLS handshake: invalid peer
/// certificate: ..."): the driver's top-level message alone hides the reason.
fn with_causes(e: &dyn std::error::Error) -> String {
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

/// An error for the operator's log, with the server's message when there is one.
fn describe(e: tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {} ({})", db.severity(), db.message(), db.code().code()),
        None => e.to_string(),
    }
}
