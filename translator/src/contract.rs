//! The data exchanged with hosts, mirroring `wit/translator.wit` one to one.
//! The component crate converts these to and from the wit-bindgen types; native
//! callers (benches, parity tests) use them directly.

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;

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

/// The `Server-Timing` stage an answer given without the database ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Jwt,
    Parse,
    Plan,
    Response,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub response: HttpResponse,
    pub stage: Stage,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Run(Plan),
    Reply(Reply),
}

impl Outcome {
    /// A successful answer given without the database (OPTIONS).
    pub fn answered(response: HttpResponse) -> Outcome {
        Outcome::Reply(Reply {
            response,
            stage: Stage::Response,
        })
    }
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

/// A time claim (`exp`, `nbf`, `iat`) of a verified token; `null` is absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeClaim {
    Absent,
    /// Seconds as PostgREST reads them (see `jwt::seconds`).
    At(i64),
    NotANumber,
}

/// The `aud` claim of a verified token: a string is one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudienceClaim {
    Absent,
    Values(Vec<String>),
    /// Neither a string nor an array of strings.
    Invalid,
}

/// A token `verify-token` accepted: what `plan` checks at its `now`, read
/// once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The claims as a JSON object, as `request.jwt.claims` shows them.
    pub claims_json: String,
    /// The value at `jwt-role-claim-key`: a string as is, other JSON as its
    /// text; `None` when the key selects nothing.
    pub role: Option<String>,
    pub exp: TimeClaim,
    pub nbf: TimeClaim,
    pub iat: TimeClaim,
    pub aud: AudienceClaim,
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
    DbUnexpectedAnswer(String),
    TranslatorFailed(String),
    InvalidResponse(String),
    BodyTooLarge(u64),
    BodyTimeout(u32),
    BodyInterrupted,
    BodiesInFlight,
    RequestHead(HeadFault),
}

/// Why a request head was refused before any handler ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadFault {
    Malformed,
    UriTooLong,
    TooLarge,
    TimedOut,
}

pub use crate::config::{LogLevel, LogQuery};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindAddress {
    pub host: String,
    pub port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientLimits {
    pub read_header_timeout: u32,
    pub body_timeout: u32,
    pub idle_timeout: u32,
    pub max_connections: u32,
    pub max_body_bytes: u64,
    pub body_bytes_in_flight: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSettings {
    pub db_uri: String,
    pub db_pool: u32,
    pub db_pool_acquisition_timeout: u32,
    pub db_pool_max_idletime: u32,
    pub db_pool_max_lifetime: u32,
    pub db_pool_automatic_recovery: bool,
    pub db_prepared_statements: bool,
    pub db_channel: String,
    pub db_channel_enabled: bool,
    pub server: BindAddress,
    pub admin_server: Option<BindAddress>,
    pub server_trace_header: Option<String>,
    pub server_timing_enabled: bool,
    pub log_level: LogLevel,
    pub log_query: LogQuery,
    pub jwt_cache_max_entries: u32,
    pub server_translator_timeout: u64,
    pub limits: ClientLimits,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedConfig {
    pub host: HostSettings,
    /// Opaque to hosts.
    pub config: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigResolution {
    ReadFiles(Vec<String>),
    Resolved(Box<ResolvedConfig>),
}

impl ConfigResolution {
    /// The configuration, for callers that give no `@filename` options.
    pub fn resolved(self) -> Result<ResolvedConfig, ConfigError> {
        match self {
            ConfigResolution::Resolved(r) => Ok(*r),
            ConfigResolution::ReadFiles(paths) => Err(ConfigError::Unread(paths)),
        }
    }
}
