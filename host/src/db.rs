//! The PostgreSQL side: a connection pool, and running one plan as one
//! pipelined transaction.
//!
//! Each exchange runs in its own spawned task that always ends the
//! transaction, so a client that disconnects mid-request can never return a
//! connection to the pool inside a transaction (with `role` set). A
//! connection whose state is unknown after a failure is discarded.

use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
};
use futures_util::future::join_all;
use tokio_postgres::Row;
use tokio_postgres::types::{Format, FromSql, IsNull, ToSql, Type, to_sql_checked};

use crate::component::wit;
use crate::tls::TlsOptions;

#[derive(Clone)]
pub struct Db {
    pool: Pool,
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
    ) -> Result<Db, String> {
        let connect = tls.connector(&config)?;
        let manager = Manager::from_connect(
            config,
            connect,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(size)
            .wait_timeout(Some(wait))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| format!("building the connection pool: {e}"))?;
        Ok(Db { pool })
    }

    pub async fn connection(&self) -> Result<Object, wit::HostError> {
        self.pool.get().await.map_err(|e| match e {
            PoolError::Timeout(deadpool_postgres::TimeoutType::Wait) => wit::HostError::PoolTimeout,
            PoolError::Backend(e) => wit::HostError::DbUnreachable(with_causes(&e)),
            other => wit::HostError::DbUnreachable(other.to_string()),
        })
    }

    /// Runs `plan` in a task of its own and hands its outcome to `finish`,
    /// which runs inside that task before the transaction ends (so it can
    /// decide `after-respond` commits).
    pub async fn execute<R: Send + 'static>(
        &self,
        plan: wit::Plan,
        body: Bytes,
        finish: impl FnOnce(Result<Executed, Failure>) -> Finish<R> + Send + 'static,
    ) -> R {
        let db = self.clone();
        let task = tokio::spawn(async move {
            let conn = match db.connection().await {
                Ok(c) => c,
                Err(e) => return finish(Err(Failure::Host(e))).value,
            };
            exchange(conn, plan, body, finish).await
        });
        task.await.expect("the database task does not panic")
    }

    /// Runs statements as the connecting role in one read-only transaction and
    /// returns column 0 of each one's single row (schema introspection).
    pub async fn read_texts(&self, statements: &[wit::Statement]) -> Result<Vec<String>, String> {
        let conn = self.connection().await.map_err(|e| format!("{e:?}"))?;
        conn.batch_execute("BEGIN READ ONLY")
            .await
            .map_err(describe)?;
        let mut texts = Vec::with_capacity(statements.len());
        for st in statements {
            let bound = bind(&st.params, &[]);
            let row = conn
                .query_one(&st.sql, &as_sql(&bound))
                .await
                .map_err(describe)?;
            texts.push(row.try_get::<_, String>(0).map_err(describe)?);
        }
        conn.batch_execute("COMMIT").await.map_err(describe)?;
        Ok(texts)
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
            .query_one("SELECT current_setting('server_version_num')", &[])
            .await
            .map_err(describe)?;
        let text: String = row.try_get(0).map_err(describe)?;
        text.parse()
            .map_err(|e| format!("server_version_num {text:?}: {e}"))
    }
}

async fn exchange<R>(
    conn: Object,
    plan: wit::Plan,
    body: Bytes,
    finish: impl FnOnce(Result<Executed, Failure>) -> Finish<R>,
) -> R {
    let end = match plan.tx_end {
        wit::TxEnd::Commit => Some("COMMIT"),
        wit::TxEnd::Rollback => Some("ROLLBACK"),
        wit::TxEnd::AfterRespond => None,
    };
    let outcome = run_pipelined(&conn, &plan.statements, &body, end).await;
    let broken = matches!(outcome, Err(Failure::Host(_)));
    let failed = outcome.is_err();
    let done = finish(outcome);
    let clean = if broken {
        false
    } else if end.is_some() {
        true
    } else {
        let last = if done.commit && !failed {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        conn.batch_execute(last).await.is_ok()
    };
    if !clean || conn.is_closed() {
        drop(Object::take(conn));
    }
    done.value
}

/// Runs every statement, and the transaction end when the plan fixes it, in
/// one pipeline. Each statement is parsed, bound and executed in one message
/// batch, so it is parsed in order, after `set_config('role', ...)`: name
/// lookups then need the request role's privileges, not the authenticator's.
/// Parameter types are sent as `unknown`, so PostgreSQL infers them from the
/// statement as it does for literals.
async fn run_pipelined(
    conn: &Object,
    statements: &[wit::Statement],
    body: &Bytes,
    end: Option<&str>,
) -> Result<Executed, Failure> {
    let end_statement = end.map(|sql| wit::Statement {
        sql: sql.to_string(),
        params: vec![],
        rows: wit::RowUse::Ignore,
    });
    let all: Vec<&wit::Statement> = statements.iter().chain(end_statement.as_ref()).collect();

    let runs = all.iter().map(|s| async move {
        let bound = bind(&s.params, body);
        let typed: Vec<(&(dyn ToSql + Sync), Type)> = bound
            .iter()
            .map(|b| (b as &(dyn ToSql + Sync), Type::UNKNOWN))
            .collect();
        conn.query_typed(&s.sql, &typed).await
    });
    let outputs = join_all(runs).await;

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

/// Columns `from..` of every row, which the SQL casts to text (or which are
/// `json`, e.g. `EXPLAIN (FORMAT JSON)`).
fn text_rows(rows: &[Row], from: usize) -> Result<wit::Rows, tokio_postgres::Error> {
    rows.iter()
        .map(|row| {
            (from..row.len())
                .map(|i| row.try_get::<_, Option<Text>>(i).map(|v| v.map(|t| t.0)))
                .collect()
        })
        .collect()
}

/// A column whose binary form is its UTF-8 text: text types and `json`.
struct Text(String);

impl<'a> FromSql<'a> for Text {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        <&str as FromSql>::from_sql(ty, raw).map(|s| Text(s.to_owned()))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSON || <&str as FromSql>::accepts(ty)
    }
}

fn failure(e: tokio_postgres::Error) -> Failure {
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

/// A statement parameter as the driver sends it.
#[derive(Debug)]
enum Bound<'a> {
    Null,
    Text(&'a str),
    Bytes(&'a [u8]),
    Body(&'a [u8]),
}

fn bind<'a>(params: &'a [wit::Param], body: &'a [u8]) -> Vec<Bound<'a>> {
    params
        .iter()
        .map(|p| match p {
            wit::Param::SqlNull => Bound::Null,
            wit::Param::Text(t) => Bound::Text(t),
            wit::Param::Bytes(b) => Bound::Bytes(b),
            wit::Param::RequestBody => Bound::Body(body),
        })
        .collect()
}

impl ToSql for Bound<'_> {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Bound::Null => return Ok(IsNull::Yes),
            Bound::Text(t) => out.put_slice(t.as_bytes()),
            Bound::Bytes(b) | Bound::Body(b) => out.put_slice(b),
        }
        Ok(IsNull::No)
    }

    /// PostgreSQL infers each parameter's type from the statement; text
    /// values are parsed by the server like literals.
    fn accepts(_ty: &Type) -> bool {
        true
    }

    /// Parameter types go out as `unknown`, so only explicit `bytes` are
    /// binary; a request body is text (see the bytea note on issue 2).
    fn encode_format(&self, _ty: &Type) -> Format {
        match self {
            Bound::Bytes(_) => Format::Binary,
            _ => Format::Text,
        }
    }

    to_sql_checked!();
}

/// A column's bytes as received (text, json and bytea are sent as they are).
struct Raw<'a>(&'a [u8]);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(
        _ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(raw))
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }
}

/// Statement parameters as the driver's trait objects.
fn as_sql<'a>(bound: &'a [Bound<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    bound.iter().map(|b| b as &(dyn ToSql + Sync)).collect()
}
