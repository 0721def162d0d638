//! A connection: the wire protocol spoken directly, so that statements can
//! go out as one pipeline closed by a single Sync (see the crate docs).
//!
//! The connection is used from the request's task: it knows how many Syncs
//! it still owes answers for, so a request dropped mid-exchange can have
//! its statement cancelled, be drained and rolled back (`recover`); a
//! write cut short marks it broken. It also remembers the statements a
//! pipeline parsed as their ParseComplete arrives, whoever reads it, so a
//! dropped request leaves no prepared statement the cache does not know.

use std::collections::{HashMap, VecDeque};

use bytes::BytesMut;
use futures_util::FutureExt;
use postgres_protocol::message::backend::{ErrorResponseBody, Header, Message};
use postgres_protocol::message::frontend;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::cancel::CancelTarget;

/// Prepared statements kept per connection; past this they are all closed
/// and the cache starts over.
const MAX_STATEMENTS: usize = 256;

/// A byte stream to the server: TCP, a unix socket, or TLS over TCP.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Where the session's transaction stands (ReadyForQuery's status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxStatus {
    Idle,
    InBlock,
    Failed,
}

/// An error the server sent (ErrorResponse).
#[derive(Debug, Clone)]
pub struct DbError {
    pub severity: String,
    pub code: String,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

impl DbError {
    /// FATAL or PANIC: the server ends the session (a shutdown,
    /// `pg_terminate_backend`).
    pub fn ends_session(&self) -> bool {
        matches!(self.severity.as_str(), "FATAL" | "PANIC")
    }

    pub(crate) fn parse(body: &ErrorResponseBody) -> Result<DbError, Error> {
        use fallible_iterator::FallibleIterator;
        let mut error = DbError {
            severity: String::new(),
            code: String::new(),
            message: String::new(),
            detail: None,
            hint: None,
        };
        let mut fields = body.fields();
        while let Some(field) = fields.next().map_err(Error::malformed)? {
            let value = String::from_utf8_lossy(field.value_bytes()).into_owned();
            match field.type_() {
                b'V' => error.severity = value,
                b'S' if error.severity.is_empty() => error.severity = value,
                b'C' => error.code = value,
                b'M' => error.message = value,
                b'D' => error.detail = Some(value),
                b'H' => error.hint = Some(value),
                _ => {}
            }
        }
        Ok(error)
    }
}

/// Why a connection, or what it ran, failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server refused or failed a statement (or the login).
    #[error("{}: {} ({})", .0.severity, .0.message, .0.code)]
    Db(DbError),
    /// The socket failed or closed.
    #[error("error communicating with the server: {0}")]
    Io(std::io::Error),
    /// Opening the connection failed before the server could say why
    /// (TLS, an authentication method we do not speak).
    #[error("{0}")]
    Connect(String),
    /// The server sent what the protocol does not allow here, or what
    /// cannot be read (a malformed message, a column that is not UTF-8).
    #[error("unexpected message from the server: {0}")]
    Protocol(String),
    /// A message could not be encoded, so nothing was sent: what the
    /// server answers to the same input (a NUL byte, say) were it sent.
    #[error("cannot send: {} ({})", .0.message, .0.code)]
    Unencodable(DbError),
}

impl Error {
    pub(crate) fn malformed(e: std::io::Error) -> Error {
        Error::Protocol(format!("a malformed message ({e})"))
    }
}

/// One session with the server.
pub struct Conn {
    io: Box<dyn Io>,
    read: BytesMut,
    /// Messages being encoded, sent by `send`.
    pub(crate) out: BytesMut,
    /// Named prepared statements by SQL text.
    statements: HashMap<String, String>,
    named: u64,
    /// Statements parsed by the pipeline in flight, in order: the SQL and
    /// name to remember once the server confirms (`None`: unnamed).
    parsing: VecDeque<Option<(String, String)>>,
    /// Where and how to cancel what this session runs.
    pub(crate) cancel: Option<CancelTarget>,
    /// Syncs sent whose ReadyForQuery has not been read yet.
    owed: usize,
    /// A write or read broke off: where the protocol stands is unknown.
    broken: bool,
    status: TxStatus,
}

impl Conn {
    pub(crate) fn new(io: Box<dyn Io>) -> Conn {
        Conn {
            io,
            read: BytesMut::with_capacity(8192),
            out: BytesMut::with_capacity(1024),
            statements: HashMap::new(),
            named: 0,
            parsing: VecDeque::new(),
            cancel: None,
            owed: 0,
            broken: false,
            status: TxStatus::Idle,
        }
    }

    /// Sends what was encoded in `out`, which ends with one Sync when
    /// `syncs` is 1 (0 during startup).
    pub(crate) async fn send(&mut self, syncs: usize) -> Result<(), Error> {
        self.broken = true;
        self.io.write_all(&self.out).await.map_err(Error::Io)?;
        self.io.flush().await.map_err(Error::Io)?;
        self.out.clear();
        self.broken = false;
        self.owed += syncs;
        Ok(())
    }

    /// The next message from the server. Cancel-safe: a partly read message
    /// stays in the buffer.
    pub(crate) async fn message(&mut self) -> Result<Message, Error> {
        loop {
            match Message::parse(&mut self.read) {
                Ok(Some(message)) => {
                    if let Message::ParseComplete = &message
                        && let Some((sql, name)) = self.parsing.pop_front().flatten()
                    {
                        self.statements.insert(sql, name);
                    }
                    if let Message::ReadyForQuery(body) = &message {
                        // Parses after a failure were skipped.
                        self.parsing.clear();
                        self.owed = self.owed.saturating_sub(1);
                        self.status = match body.status() {
                            b'T' => TxStatus::InBlock,
                            b'E' => TxStatus::Failed,
                            _ => TxStatus::Idle,
                        };
                    }
                    return Ok(message);
                }
                Ok(None) => {}
                Err(e) => {
                    self.broken = true;
                    return Err(Error::malformed(e));
                }
            }
            self.fill().await?;
        }
    }

    /// The next message as its tag and body, unparsed: the replication
    /// stream's CopyBothResponse is one `Message::parse` does not know.
    pub(crate) async fn frame(&mut self) -> Result<(u8, bytes::Bytes), Error> {
        loop {
            let header = Header::parse(&self.read).map_err(|e| {
                self.broken = true;
                Error::malformed(e)
            })?;
            if let Some(header) = header {
                let len = header.len() as usize + 1;
                if self.read.len() >= len {
                    let frame = self.read.split_to(len).freeze();
                    return Ok((header.tag(), frame.slice(5..)));
                }
            }
            self.fill().await?;
        }
    }

    /// Reads more of the server's bytes, with room for the rest of a long
    /// message (a large body) at once.
    async fn fill(&mut self) -> Result<(), Error> {
        let wanted = match Header::parse(&self.read) {
            Ok(Some(header)) => (header.len() as usize + 1).saturating_sub(self.read.len()),
            _ => 0,
        };
        if self.read.capacity() - self.read.len() < wanted.max(1024) {
            self.read.reserve(wanted.max(8192));
        }
        match self.io.read_buf(&mut self.read).await {
            Ok(0) => {
                self.broken = true;
                Err(Error::Io(std::io::ErrorKind::UnexpectedEof.into()))
            }
            Ok(_) => Ok(()),
            Err(e) => {
                self.broken = true;
                Err(Error::Io(e))
            }
        }
    }

    /// Runs `sql` as a simple query; returns the first column of its first
    /// row, if any (as text).
    pub async fn simple(&mut self, sql: &str) -> Result<Option<String>, Error> {
        frontend::query(sql, &mut self.out).map_err(unencodable)?;
        self.send(1).await?;
        let mut failed = None;
        let mut first = None;
        loop {
            match self.message().await? {
                Message::ReadyForQuery(_) => break,
                Message::ErrorResponse(body) => failed = Some(DbError::parse(&body)?),
                Message::DataRow(row) if first.is_none() => {
                    first = Some(crate::values::text_columns(&row, 0)?)
                }
                _ => {}
            }
        }
        match failed {
            Some(e) => Err(Error::Db(e)),
            None => Ok(first.and_then(|row| row.into_iter().next().flatten())),
        }
    }

    /// Marks the connection unfit for reuse (a pipeline that could not be
    /// encoded left its cache and the server's statements apart).
    pub(crate) fn discard(&mut self) {
        self.broken = true;
    }

    /// Finishes what a dropped request left in flight, then ends its
    /// transaction. False when the connection cannot be trusted again.
    pub(crate) async fn recover(&mut self) -> bool {
        if self.broken {
            return false;
        }
        while self.owed > 0 {
            if self.message().await.is_err() {
                return false;
            }
        }
        self.status == TxStatus::Idle || self.simple("ROLLBACK").await.is_ok()
    }

    pub fn status(&self) -> TxStatus {
        self.status
    }

    /// Nothing in flight and the protocol in a known state.
    pub fn is_settled(&self) -> bool {
        !self.broken && self.owed == 0
    }

    /// Settled and outside any transaction: fit to go back to the pool.
    pub fn is_reusable(&self) -> bool {
        self.is_settled() && self.status == TxStatus::Idle
    }

    /// Whether the server closed the connection while it sat in the pool
    /// (a restart, `pg_terminate_backend`): an idle connection receives
    /// nothing unless it is going away.
    pub(crate) fn closed_while_idle(&mut self) -> bool {
        if !self.is_settled() {
            return true;
        }
        match self.io.read_buf(&mut self.read).now_or_never() {
            None => false,
            Some(Ok(0)) | Some(Err(_)) => true,
            Some(Ok(_)) => self.read.first() == Some(&b'E'),
        }
    }

    /// The statement name prepared for `sql`, if any.
    pub(crate) fn prepared(&self, sql: &str) -> Option<&str> {
        self.statements.get(sql).map(String::as_str)
    }

    /// A statement name for a Parse about to be encoded: a fresh one
    /// (remembered with its SQL once the server confirms the parse), or the
    /// unnamed statement when not preparing.
    pub(crate) fn parse_name(&mut self, sql: &str, prepare: bool) -> String {
        if !prepare {
            self.parsing.push_back(None);
            return String::new();
        }
        self.named += 1;
        let name = format!("p{}", self.named);
        self.parsing
            .push_back(Some((sql.to_string(), name.clone())));
        name
    }

    /// With up to `more` statements about to be prepared, closes every
    /// prepared statement first when the cache could grow past its bound
    /// (the Close messages go into `out`, ahead of the pipeline).
    pub(crate) fn make_room(&mut self, more: usize) -> Result<(), Error> {
        if self.statements.len() + more <= MAX_STATEMENTS {
            return Ok(());
        }
        for (_, name) in self.statements.drain() {
            frontend::close(b'S', &name, &mut self.out).map_err(unencodable)?;
        }
        Ok(())
    }
}

/// An encoder's refusal: a value or count past the protocol's bounds, as
/// PostgreSQL words its own limits (54000).
pub(crate) fn unencodable(e: std::io::Error) -> Error {
    Error::Unencodable(refusal("54000", e.to_string()))
}

/// A NUL byte in text to send (statement text is a C string on the wire),
/// refused as PostgreSQL refuses one in a text value (22021).
pub(crate) fn nul_byte() -> Error {
    Error::Unencodable(refusal(
        "22021",
        "invalid byte sequence for encoding \"UTF8\": 0x00".to_string(),
    ))
}

fn refusal(code: &str, message: String) -> DbError {
    DbError {
        severity: "ERROR".to_string(),
        code: code.to_string(),
        message,
        detail: None,
        hint: None,
    }
}
