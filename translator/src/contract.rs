//! The data exchanged with hosts, mirroring `wit/translator.wit` one to one.
//! The component crate converts these to and from the wit-bindgen types; native
//! callers (benches, parity tests) use them directly.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    /// Lower-cased names, arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// The first value of a header (`name` lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Param {
    SqlNull,
    Text(String),
    Bytes(Vec<u8>),
    RequestBody,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowUse {
    Ignore,
    ToRespond,
    Body,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<Param>,
    pub rows: RowUse,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxEnd {
    Commit,
    Rollback,
    AfterRespond,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub statements: Vec<Statement>,
    pub tx_end: TxEnd,
    pub context: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Run(Plan),
    Reply(HttpResponse),
}

/// Rows of one statement, columns as text.
pub type Rows = Vec<Vec<Option<String>>>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerBody {
    Empty,
    FromStatement,
    Bytes(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: AnswerBody,
    pub commit: bool,
}

impl Answer {
    /// The first value of a header (`name` lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub claims_json: String,
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenCheck {
    /// Not a bearer token: the request is anonymous.
    Anonymous,
    Valid(Verified),
    Invalid(HttpResponse),
}

/// What CORS makes of a request, before anything else looks at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsAnswer {
    /// Not a CORS request (or one CORS ignores): serve it as it is.
    None,
    /// A preflight: send this response instead of serving the request.
    Preflight(HttpResponse),
    /// Serve the request and append these headers to whatever answers it.
    Headers(Vec<(String, String)>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbError {
    pub sqlstate: String,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    DbUnreachable(String),
    DbConnectionLost(String),
    SchemaCacheNotLoaded,
    PoolTimeout,
}
