//! Pooled connections: a tokio-postgres client and the statements prepared
//! on it. deadpool's own manager keeps its statement cache behind an async
//! lookup; the pipeline must know synchronously whether a statement is
//! already prepared, so this manager keeps a plain map.

use std::collections::HashMap;
use std::sync::Mutex;

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use tokio_postgres::{Client, Statement};

use crate::tls::PgConnect;

/// Prepared statements kept per connection; past this the cache starts
/// over (each dropped statement is closed on the server).
const MAX_STATEMENTS: usize = 256;

pub struct Conn {
    pub client: Client,
    statements: Mutex<HashMap<String, Statement>>,
}

impl Conn {
    /// The statement prepared for `sql` on this connection, if any.
    pub fn prepared(&self, sql: &str) -> Option<Statement> {
        self.statements
            .lock()
            .expect("statement cache lock")
            .get(sql)
            .cloned()
    }

    pub fn remember(&self, sql: &str, statement: Statement) {
        let mut statements = self.statements.lock().expect("statement cache lock");
        if statements.len() >= MAX_STATEMENTS {
            statements.clear();
        }
        statements.insert(sql.to_string(), statement);
    }
}

pub struct Manager {
    pub connect: PgConnect,
    pub config: tokio_postgres::Config,
}

impl managed::Manager for Manager {
    type Type = Conn;
    type Error = tokio_postgres::Error;

    async fn create(&self) -> Result<Conn, tokio_postgres::Error> {
        // The driver task ends when the client is dropped.
        let (client, _task, _notifications) = self.connect.open(&self.config).await?;
        Ok(Conn {
            client,
            statements: Mutex::new(HashMap::new()),
        })
    }

    async fn recycle(&self, conn: &mut Conn, _: &Metrics) -> RecycleResult<tokio_postgres::Error> {
        if conn.client.is_closed() {
            return Err(RecycleError::message("the connection is closed"));
        }
        Ok(())
    }
}

pub type Pool = managed::Pool<Manager>;
pub type Object = managed::Object<Manager>;
