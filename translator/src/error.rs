//! Every error the API can answer with: PostgREST 16's catalog of codes, HTTP
//! statuses, `{"code","message","details","hint"}` bodies and error headers.
//!
//! Codes are grouped as PostgREST groups them: `PGRST0xx` connection,
//! `PGRST1xx` API request, `PGRST2xx` schema cache, `PGRST3xx` JWT,
//! `PGRSTX00` internal. Errors PostgreSQL raised keep their SQLSTATE as the
//! code and get a status from `db_status`.
//!
//! The texts (`message`, `details`, `hint`) are PostgREST 16's, byte for byte:
//! clients match on them. Fuzzy "Perhaps you meant …" suggestions are found by
//! the schema cache; the variants carry only the suggested name and this
//! module words the hint.

use std::collections::BTreeMap;

use crate::contract::{DbError, HeadFault, HostError, HttpResponse, Reply, Stage};
use crate::haskell_show;
use serde_json::{Value, json};

/// `ApiError::Host` with details.
fn host(status: u16, code: &'static str, message: &'static str, details: &str) -> ApiError {
    ApiError::Host {
        status,
        code,
        message,
        details: Some(details.to_string()),
        hint: None,
    }
}

/// `ApiError::Host` for a request head refused before any handler: what to
/// do differently is the hint.
fn head_refused(
    status: u16,
    code: &'static str,
    message: &'static str,
    hint: &'static str,
) -> ApiError {
    ApiError::Host {
        status,
        code,
        message,
        details: None,
        hint: Some(hint),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    // ----- Group 0: connection -----
    /// PGRST000 (503): the database cannot be reached. `details` is the
    /// driver's connection error text.
    DbConnection { details: Option<String> },
    /// PGRST001 (503): the connection broke while a request was using it.
    /// `details` is the driver's error text.
    DbClient { details: Option<String> },
    /// PGRST002 (503): the schema cache is not loaded (yet).
    SchemaCacheNotLoaded,
    /// PGRST003 (504): no pool connection became free in time.
    PoolTimeout,

    // ----- Group 1: API request -----
    /// PGRST100 (400): a query parameter does not parse. `message` is
    /// PostgREST's whole text, e.g. `"failed to parse filter (x)" (line 1,
    /// column 1)`, `details` what the parser expected.
    ParseError { message: String, details: String },
    /// PGRST101 (405): `/rpc/` called with a method other than GET, HEAD or POST.
    InvalidRpcMethod { method: String },
    /// PGRST102 (400): the request body is invalid; `message` is the reason
    /// worded by the body parser.
    InvalidBody { message: String },
    /// PGRST103 (416): an unsatisfiable `limit`/`offset`/`Range`.
    InvalidRange(RangeError),
    /// PGRST105 (405): a PUT whose filters are not all and only the primary
    /// key columns with `eq`.
    InvalidFilters,
    /// PGRST106 (406): `Accept-Profile`/`Content-Profile` names a schema that
    /// is not exposed; `exposed` lists the exposed ones in configuration order.
    UnacceptableSchema {
        schema: String,
        exposed: Vec<String>,
    },
    /// PGRST107 (406): none of the media types in `Accept` can be produced.
    MediaTypeError { media_types: Vec<String> },
    /// PGRST108 (400): a filter, order or limit names an embedded resource
    /// that is not in `select`.
    NotEmbedded {
        resource: String,
        /// With `url-use-legacy-target-names = false`: the embed the
        /// resource names by its relation, and that embed's alias.
        aliased: Option<(String, String)>,
    },
    /// PGRST111 (500): `response.headers` was set to something other than a
    /// JSON array of single-key objects with string values.
    GucHeaders,
    /// PGRST112 (500): `response.status` was set to something other than a
    /// status code.
    GucStatus,
    /// PGRST114 (400): `limit`/`offset` on a PUT.
    PutLimitNotAllowed,
    /// PGRST115 (400): a PUT whose body key values differ from the URL's.
    PutMatchingPk,
    /// PGRST116 (406): a singular response (`vnd.pgrst.object`) for `rows` ≠ 1.
    Singularity { rows: u64 },
    /// PGRST117 (405): an HTTP method PostgREST does not serve.
    UnsupportedMethod { method: String },
    /// PGRST118 (400): `order=target(col)` where `origin` → `target` is not
    /// to-one.
    RelatedOrderNotToOne { origin: String, target: String },
    /// PGRST120 (400): an operator other than `is.null`/`not.is.null` on an
    /// embedded resource.
    UnacceptableFilter { target: String },
    /// PGRST121 (500): a `RAISE SQLSTATE 'PGRST'` whose MESSAGE or DETAIL is
    /// not the JSON PostgREST expects (see [`ApiError::from_db`]).
    RaiseParse(RaiseError),
    /// PGRST122 (400): `Prefer: handling=strict` with invalid preferences,
    /// listed as sent.
    InvalidPreferences { preferences: Vec<String> },
    /// PGRST123 (400): aggregates used while `db-aggregates-enabled` is off.
    AggregatesNotAllowed,
    /// PGRST124 (400): `Prefer: max-affected` exceeded; `rows` were affected.
    MaxAffectedViolation { rows: u64 },
    /// PGRST125 (404): a path that names no resource (e.g. `/a/b/c`).
    InvalidResourcePath,
    /// PGRST126 (404): `GET /` while `openapi-mode = disabled`.
    OpenApiDisabled,
    /// PGRST127 (400): a feature PostgREST does not implement for this
    /// request; `details` says which.
    NotImplemented { details: String },
    /// PGRST128 (400): `max-affected` with `handling=strict` on a function
    /// that does not return SETOF or TABLE.
    MaxAffectedRpcViolation,

    // ----- Group 2: schema cache -----
    /// PGRST200 (400): no relationship between `parent` and `child` for an
    /// embed. `embed_hint` is the `!hint` of the request, if any; `suggestion`
    /// the closest name when the parent (or, if the parent is known, the
    /// child) is misspelled.
    RelationshipNotFound {
        parent: String,
        child: String,
        embed_hint: Option<String>,
        schema: String,
        suggestion: Option<RelSuggestion>,
    },
    /// PGRST201 (300): more than one relationship matches an embed.
    AmbiguousRelationship {
        parent: String,
        child: String,
        candidates: Vec<RelCandidate>,
    },
    /// PGRST202 (404): no function matches an `/rpc/` call. `args` are the
    /// argument names of the call in request order.
    FunctionNotFound {
        schema: String,
        name: String,
        args: Vec<String>,
        payload: RpcPayload,
        suggestion: Option<FnSuggestion>,
    },
    /// PGRST203 (300): overloaded functions that the call cannot tell apart.
    AmbiguousFunction { candidates: Vec<FnCandidate> },
    /// PGRST204 (400): a column (in `columns`, a body key, …) that `relation`
    /// does not have.
    ColumnNotFound { relation: String, column: String },
    /// PGRST205 (404): no such table or view in the exposed schema. `hint` is
    /// the whole hint text; build it with [`ApiError::table_not_found`].
    TableNotFound {
        schema: String,
        table: String,
        hint: Option<String>,
    },

    // ----- Group 3: JWT -----
    /// PGRST300 (500): a token arrived but no JWT secret is configured.
    JwtSecretMissing,
    /// PGRST301 (401): the token cannot be decoded or verified.
    JwtDecode(JwtDecodeError),
    /// PGRST302 (401): no token and no anonymous role.
    AnonymousDisabled,
    /// PGRST303 (401): the token's claims are invalid (expired, audience, …).
    JwtClaims(JwtClaimsError),

    // ----- Internal -----
    /// PGRSTX00 (500): the database answered something the host could not
    /// read (not a server error); `message` describes it.
    Internal { message: String },
    /// A failure a host reports that PostgREST has no code for (see
    /// `from_host`): PGRSTX00 (500), PGRSTX02-05 (a request body refused).
    Host {
        status: u16,
        code: &'static str,
        message: &'static str,
        details: Option<String>,
        hint: Option<&'static str>,
    },

    // ----- Errors PostgreSQL raised -----
    /// An error PostgreSQL raised while the request ran as the anonymous role
    /// (or before any role was set): `42501 insufficient_privilege` is 401.
    Db(DbError),
    /// An error PostgreSQL raised while the request ran as a role other than
    /// the anonymous one: `42501 insufficient_privilege` is 403. PostgREST
    /// calls a request authenticated when its role differs from
    /// `db-anon-role`.
    DbAuthenticated(DbError),
    /// `RAISE SQLSTATE 'PGRST'` with a MESSAGE of
    /// `{"code","message","details"?,"hint"?}` and a DETAIL of
    /// `{"status","status_text"?,"headers"}`: the function controls the
    /// status, the headers and the body. `status_text` is a custom reason
    /// phrase; `headers` are sent in key order.
    Raised {
        code: String,
        message: String,
        details: Option<String>,
        hint: Option<String>,
        status: u16,
        status_text: Option<String>,
        headers: BTreeMap<String, String>,
    },
}

/// Why a range cannot be satisfied (PGRST103).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeError {
    /// `limit` below zero.
    NegativeLimit,
    /// `Range: 5-2`.
    LowerGtUpper,
    /// An offset of `lower` past the `total` rows.
    OutOfBounds { lower: u64, total: u64 },
}

/// What is wrong with a `RAISE SQLSTATE 'PGRST'` (PGRST121).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RaiseError {
    /// MESSAGE (quoted in `details`) is not a JSON object with string `code`
    /// and `message`.
    InvalidMessage(String),
    /// DETAIL is missing.
    MissingDetail,
    /// DETAIL (quoted in `details`) is not a JSON object with a numeric
    /// `status` and an object of strings `headers`.
    InvalidDetail(String),
}

/// The closest name for a misspelled embed (PGRST200 hint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelSuggestion {
    /// The parent was not found; this table is the closest.
    Parent(String),
    /// The parent exists but the child was not found; this one is closest.
    Child(String),
}

/// One relationship of an ambiguous embed (PGRST201). Table names are
/// unqualified, as PostgREST prints them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelCandidate {
    pub table: String,
    pub foreign_table: String,
    pub kind: RelKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelKind {
    /// `columns` pairs a `table` column with a `foreign_table` column.
    ManyToOne {
        constraint: String,
        columns: Vec<(String, String)>,
    },
    OneToOne {
        constraint: String,
        columns: Vec<(String, String)>,
    },
    OneToMany {
        constraint: String,
        columns: Vec<(String, String)>,
    },
    /// Through `junction`: `constraint1` on `source_columns` (the junction's
    /// columns pointing at `table`), `constraint2` on `target_columns`.
    ManyToMany {
        junction: String,
        constraint1: String,
        source_columns: Vec<String>,
        constraint2: String,
        target_columns: Vec<String>,
    },
}

/// How an `/rpc/` call passed its arguments, which words PGRST202.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RpcPayload {
    /// GET/HEAD query string, or a POST body that is not one of the below.
    Named,
    /// POST `application/json`: named arguments or one unnamed json/jsonb.
    Json,
    /// POST `text/plain`: one unnamed text argument.
    Text,
    /// POST `text/xml`: one unnamed xml argument.
    Xml,
    /// POST `application/octet-stream`: one unnamed bytea argument.
    Bytes,
}

/// The closest match for a missing function (PGRST202 hint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FnSuggestion {
    /// No function has the name; this one in the schema is closest.
    Function(String),
    /// Overloads exist; these are the argument names of the closest one.
    Params(Vec<String>),
}

/// One overload of an ambiguous call (PGRST203): `params` are (name, type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FnCandidate {
    pub schema: String,
    pub name: String,
    pub params: Vec<(String, String)>,
}

/// Why a token does not decode (PGRST301): PostgREST 16's message for each,
/// and its `details` where it gives some (JOSE's own words).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtDecodeError {
    /// `Authorization: Bearer` with nothing (or only blanks) after it.
    #[error("Empty JWT is sent in Authorization header")]
    EmptyAuthHeader,
    /// The token has this many dot-separated parts instead of 3.
    #[error("Expected 3 parts in JWT; got {0}")]
    UnexpectedParts(usize),
    /// No configured key fits the token's `alg` and `kid`.
    #[error("No suitable key or wrong key type")]
    NoSuitableKey,
    /// Keys fit, but none verifies the signature.
    #[error("No suitable key or wrong key type")]
    NoKeyVerifies,
    /// `alg: none`.
    #[error("Wrong or unsupported encoding algorithm")]
    Unsecured,
    /// A part is not base64url, the header is not a JWS header of a known
    /// `alg`, or the token is a JWE.
    #[error("JWT cryptographic operation failed")]
    BadCrypto,
}

impl JwtDecodeError {
    fn details(&self) -> Option<&'static str> {
        match self {
            JwtDecodeError::NoSuitableKey => Some("No suitable key was found to decode the JWT"),
            JwtDecodeError::NoKeyVerifies => Some("None of the keys was able to decode the JWT"),
            JwtDecodeError::Unsecured => Some("JWT is unsecured but expected 'alg' was not 'none'"),
            _ => None,
        }
    }
}

/// Why a token's claims are rejected (PGRST303), with PostgREST 16's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtClaimsError {
    #[error("JWT expired")]
    Expired,
    #[error("JWT not yet valid")]
    NotYetValid,
    #[error("JWT issued at future")]
    IssuedAtFuture,
    #[error("JWT not in audience")]
    NotInAudience,
    /// The payload is not a JSON object.
    #[error("Parsing claims failed")]
    ParsingFailed,
    #[error("The JWT 'exp' claim must be a number")]
    ExpNotNumber,
    #[error("The JWT 'nbf' claim must be a number")]
    NbfNotNumber,
    #[error("The JWT 'iat' claim must be a number")]
    IatNotNumber,
    #[error("The JWT 'aud' claim must be a string or an array of strings")]
    AudNotStringOrArray,
}

impl From<JwtDecodeError> for ApiError {
    fn from(e: JwtDecodeError) -> ApiError {
        ApiError::JwtDecode(e)
    }
}

impl From<JwtClaimsError> for ApiError {
    fn from(e: JwtClaimsError) -> ApiError {
        ApiError::JwtClaims(e)
    }
}

impl ApiError {
    /// A database error as the request saw it. `authenticated`: the request
    /// ran as a role other than the anonymous one. A `RAISE SQLSTATE 'PGRST'`
    /// becomes [`ApiError::Raised`], or PGRST121 when its JSON is invalid;
    /// build `Db`/`DbAuthenticated` only through here so that never leaks.
    pub fn from_db(err: DbError, authenticated: bool) -> ApiError {
        if err.sqlstate == "PGRST" {
            return parse_raise(&err.message, err.detail.as_deref())
                .unwrap_or_else(ApiError::RaiseParse);
        }
        if authenticated {
            ApiError::DbAuthenticated(err)
        } else {
            ApiError::Db(err)
        }
    }

    /// The error for a failure the host detected itself.
    pub fn from_host(err: &HostError) -> ApiError {
        match err {
            HostError::DbUnreachable(d) => ApiError::DbConnection {
                details: Some(d.clone()),
            },
            HostError::DbConnectionLost(d) => ApiError::DbClient {
                details: Some(d.clone()),
            },
            HostError::SchemaCacheNotLoaded => ApiError::SchemaCacheNotLoaded,
            HostError::PoolTimeout => ApiError::PoolTimeout,
            HostError::DbUnexpectedAnswer(what) => {
                host(500, "PGRSTX00", "Unexpected answer from the database", what)
            }
            HostError::TranslatorFailed(why) => host(
                500,
                "PGRSTX00",
                "Internal error in the translator component",
                why,
            ),
            HostError::InvalidResponse(why) => host(
                500,
                "PGRSTX00",
                "Invalid response from the translator component",
                why,
            ),
            HostError::BodyTooLarge(limit) => host(
                413,
                "PGRSTX02",
                "The request body is too large",
                &format!("At most {limit} bytes are accepted"),
            ),
            HostError::BodyTimeout(seconds) => host(
                408,
                "PGRSTX03",
                "The request body was not received in time",
                &format!("No part of it came for {seconds} seconds"),
            ),
            HostError::BodyInterrupted => host(
                400,
                "PGRSTX05",
                "The request body was interrupted",
                "The connection broke or a chunk was malformed",
            ),
            HostError::BodiesInFlight => host(
                503,
                "PGRSTX04",
                "Too many request bytes are in flight",
                "Other requests' bodies fill the server's buffers; retry later",
            ),
            HostError::RequestHead(HeadFault::Malformed) => head_refused(
                400,
                "PGRSTX01",
                "The request is not valid HTTP/1.1",
                "Percent-encode spaces in the URL",
            ),
            HostError::RequestHead(HeadFault::UriTooLong) => head_refused(
                414,
                "PGRSTX01",
                "The request URI is longer than 65534 bytes",
                "Send large filters in a request body, e.g. to a function under /rpc",
            ),
            HostError::RequestHead(HeadFault::TooLarge) => head_refused(
                431,
                "PGRSTX01",
                "The request head is too large",
                "Send fewer or smaller headers",
            ),
            HostError::RequestHead(HeadFault::TimedOut) => head_refused(
                408,
                "PGRSTX03",
                "The request head was not received in time",
                "Send the request head at once",
            ),
        }
    }

    /// PGRST205 with PostgREST's hint for `suggestion`, the closest table
    /// name in `schema` (if any was close enough).
    pub fn table_not_found(schema: &str, table: &str, suggestion: Option<&str>) -> ApiError {
        ApiError::TableNotFound {
            schema: schema.to_string(),
            table: table.to_string(),
            hint: suggestion.map(|t| format!("Perhaps you meant the table '{schema}.{t}'")),
        }
    }

    pub fn status(&self) -> u16 {
        use ApiError::*;
        match self {
            DbConnection { .. } | DbClient { .. } | SchemaCacheNotLoaded => 503,
            PoolTimeout => 504,

            ParseError { .. }
            | InvalidBody { .. }
            | NotEmbedded { .. }
            | PutLimitNotAllowed
            | PutMatchingPk
            | RelatedOrderNotToOne { .. }
            | UnacceptableFilter { .. }
            | InvalidPreferences { .. }
            | AggregatesNotAllowed
            | MaxAffectedViolation { .. }
            | NotImplemented { .. }
            | MaxAffectedRpcViolation => 400,
            InvalidRpcMethod { .. } | InvalidFilters | UnsupportedMethod { .. } => 405,
            InvalidRange(_) => 416,
            UnacceptableSchema { .. } | MediaTypeError { .. } | Singularity { .. } => 406,
            GucHeaders | GucStatus | RaiseParse(_) => 500,
            InvalidResourcePath | OpenApiDisabled => 404,

            RelationshipNotFound { .. } | ColumnNotFound { .. } => 400,
            AmbiguousRelationship { .. } | AmbiguousFunction { .. } => 300,
            FunctionNotFound { .. } | TableNotFound { .. } => 404,

            JwtSecretMissing => 500,
            JwtDecode(_) | AnonymousDisabled | JwtClaims(_) => 401,

            Internal { .. } => 500,
            Host { status, .. } => *status,

            Db(e) => db_status(&e.sqlstate, &e.message, false),
            DbAuthenticated(e) => db_status(&e.sqlstate, &e.message, true),
            Raised { status, .. } => *status,
        }
    }

    pub fn code(&self) -> &str {
        use ApiError::*;
        match self {
            DbConnection { .. } => "PGRST000",
            DbClient { .. } => "PGRST001",
            SchemaCacheNotLoaded => "PGRST002",
            PoolTimeout => "PGRST003",

            ParseError { .. } => "PGRST100",
            InvalidRpcMethod { .. } => "PGRST101",
            InvalidBody { .. } => "PGRST102",
            InvalidRange(_) => "PGRST103",
            InvalidFilters => "PGRST105",
            UnacceptableSchema { .. } => "PGRST106",
            MediaTypeError { .. } => "PGRST107",
            NotEmbedded { .. } => "PGRST108",
            GucHeaders => "PGRST111",
            GucStatus => "PGRST112",
            PutLimitNotAllowed => "PGRST114",
            PutMatchingPk => "PGRST115",
            Singularity { .. } => "PGRST116",
            UnsupportedMethod { .. } => "PGRST117",
            RelatedOrderNotToOne { .. } => "PGRST118",
            UnacceptableFilter { .. } => "PGRST120",
            RaiseParse(_) => "PGRST121",
            InvalidPreferences { .. } => "PGRST122",
            AggregatesNotAllowed => "PGRST123",
            MaxAffectedViolation { .. } => "PGRST124",
            InvalidResourcePath => "PGRST125",
            OpenApiDisabled => "PGRST126",
            NotImplemented { .. } => "PGRST127",
            MaxAffectedRpcViolation => "PGRST128",

            RelationshipNotFound { .. } => "PGRST200",
            AmbiguousRelationship { .. } => "PGRST201",
            FunctionNotFound { .. } => "PGRST202",
            AmbiguousFunction { .. } => "PGRST203",
            ColumnNotFound { .. } => "PGRST204",
            TableNotFound { .. } => "PGRST205",

            JwtSecretMissing => "PGRST300",
            JwtDecode(_) => "PGRST301",
            AnonymousDisabled => "PGRST302",
            JwtClaims(_) => "PGRST303",

            Internal { .. } => "PGRSTX00",
            Host { code, .. } => code,

            Db(e) | DbAuthenticated(e) => &e.sqlstate,
            Raised { code, .. } => code,
        }
    }

    fn message(&self) -> String {
        use ApiError::*;
        match self {
            DbConnection { .. } => "Database connection error.".into(),
            DbClient { .. } => "Database client error. Retrying the connection.".into(),
            SchemaCacheNotLoaded => {
                "Could not query the database for the schema cache. Retrying.".into()
            }
            PoolTimeout => "Timed out acquiring connection from connection pool.".into(),

            ParseError { message, .. } => message.clone(),
            InvalidRpcMethod { method } => format!("Cannot use the {method} method on RPC"),
            InvalidBody { message } => message.clone(),
            InvalidRange(_) => "Requested range not satisfiable".into(),
            InvalidFilters => {
                "Filters must include all and only primary key columns with 'eq' operators".into()
            }
            UnacceptableSchema { schema, .. } => format!("Invalid schema: {schema}"),
            MediaTypeError { media_types } => format!(
                "None of these media types are available: {}",
                media_types.join(", ")
            ),
            NotEmbedded { resource, .. } => {
                format!("'{resource}' is not an embedded resource in this request")
            }
            GucHeaders => "response.headers guc must be a JSON array composed of objects with a single key and a string value".into(),
            GucStatus => "response.status guc must be a valid status code".into(),
            PutLimitNotAllowed => {
                "limit/offset querystring parameters are not allowed for PUT".into()
            }
            PutMatchingPk => "Payload values do not match URL in primary key column(s)".into(),
            Singularity { .. } => "Cannot coerce the result to a single JSON object".into(),
            UnsupportedMethod { method } => format!("Unsupported HTTP method: {method}"),
            RelatedOrderNotToOne { target, .. } => {
                format!("A related order on '{target}' is not possible")
            }
            UnacceptableFilter { target } => {
                format!("Bad operator on the '{target}' embedded resource")
            }
            RaiseParse(_) => "Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error".into(),
            InvalidPreferences { .. } => "Invalid preferences given with handling=strict".into(),
            AggregatesNotAllowed => "Use of aggregate functions is not allowed".into(),
            MaxAffectedViolation { .. } => {
                "Query result exceeds max-affected preference constraint".into()
            }
            InvalidResourcePath => "Invalid path specified in request URL".into(),
            OpenApiDisabled => "Root endpoint metadata is disabled".into(),
            NotImplemented { .. } => "Feature not implemented".into(),
            MaxAffectedRpcViolation => "Function must return SETOF or TABLE when max-affected preference is used with handling=strict".into(),

            RelationshipNotFound { parent, child, .. } => format!(
                "Could not find a relationship between '{parent}' and '{child}' in the schema cache"
            ),
            AmbiguousRelationship { parent, child, .. } => format!(
                "Could not embed because more than one relationship was found for '{parent}' and '{child}'"
            ),
            FunctionNotFound {
                schema,
                name,
                args,
                payload,
                ..
            } => {
                let params = if payload.single_unnamed() {
                    String::new()
                } else if args.is_empty() {
                    " without parameters".to_string()
                } else {
                    format!("({})", args.join(", "))
                };
                format!("Could not find the function {schema}.{name}{params} in the schema cache")
            }
            AmbiguousFunction { candidates } => {
                let list: Vec<String> = candidates
                    .iter()
                    .map(|c| {
                        let params: Vec<String> =
                            c.params.iter().map(|(n, t)| format!("{n} => {t}")).collect();
                        format!("{}.{}({})", c.schema, c.name, params.join(", "))
                    })
                    .collect();
                format!(
                    "Could not choose the best candidate function between: {}",
                    list.join(", ")
                )
            }
            ColumnNotFound { relation, column } => {
                format!("Could not find the '{column}' column of '{relation}' in the schema cache")
            }
            TableNotFound { schema, table, .. } => {
                format!("Could not find the table '{schema}.{table}' in the schema cache")
            }

            JwtSecretMissing => "Server lacks JWT secret".into(),
            JwtDecode(e) => e.to_string(),
            AnonymousDisabled => "Anonymous access is disabled".into(),
            JwtClaims(e) => e.to_string(),

            Internal { message } => message.clone(),
            Host { message, .. } => message.to_string(),

            Db(e) | DbAuthenticated(e) => e.message.clone(),
            Raised { message, .. } => message.clone(),
        }
    }

    fn details(&self) -> Option<Value> {
        use ApiError::*;
        let text = match self {
            DbConnection { details } | DbClient { details } => details.clone(),
            Host { details, .. } => details.clone(),
            ParseError { details, .. } => Some(details.clone()),
            InvalidRange(e) => Some(match e {
                RangeError::NegativeLimit => {
                    "Limit should be greater than or equal to zero.".to_string()
                }
                RangeError::LowerGtUpper => "The lower boundary must be lower than or equal to the upper boundary in the Range header.".to_string(),
                RangeError::OutOfBounds { lower, total } => format!(
                    "An offset of {lower} was requested, but there are only {total} rows."
                ),
            }),
            Singularity { rows } => Some(format!("The result contains {rows} rows")),
            NotEmbedded {
                aliased: Some(_), ..
            } => Some("Target names are not allowed in filters if they have an alias".into()),
            RelatedOrderNotToOne { origin, target } => Some(format!(
                "'{origin}' and '{target}' do not form a many-to-one or one-to-one relationship"
            )),
            UnacceptableFilter { .. } => Some(
                "Only is null or not is null filters are allowed on embedded resources".into(),
            ),
            RaiseParse(e) => Some(match e {
                RaiseError::InvalidMessage(m) => format!("Invalid JSON value for MESSAGE: '{m}'"),
                RaiseError::MissingDetail => "DETAIL is missing in the RAISE statement".into(),
                RaiseError::InvalidDetail(d) => format!("Invalid JSON value for DETAIL: '{d}'"),
            }),
            InvalidPreferences { preferences } => {
                Some(format!("Invalid preferences: {}", preferences.join(", ")))
            }
            MaxAffectedViolation { rows } => Some(format!("The query affects {rows} rows")),
            NotImplemented { details } => Some(details.clone()),

            RelationshipNotFound {
                parent,
                child,
                embed_hint,
                schema,
                ..
            } => {
                let using = embed_hint
                    .as_ref()
                    .map(|h| format!("' using the hint '{h}"))
                    .unwrap_or_default();
                Some(format!(
                    "Searched for a foreign key relationship between '{parent}' and '{child}{using}' in the schema '{schema}', but no matches were found."
                ))
            }
            AmbiguousRelationship { candidates, .. } => {
                return Some(Value::Array(candidates.iter().map(rel_details).collect()));
            }
            FunctionNotFound {
                schema,
                name,
                args,
                payload,
                ..
            } => {
                let params = if args.is_empty() {
                    " without parameters".to_string()
                } else {
                    let s = if args.len() > 1 { "s" } else { "" };
                    format!(" with parameter{s} {}", args.join(", "))
                };
                let searched = match payload {
                    RpcPayload::Text => " with a single unnamed text parameter".to_string(),
                    RpcPayload::Xml => " with a single unnamed xml parameter".to_string(),
                    RpcPayload::Bytes => " with a single unnamed bytea parameter".to_string(),
                    RpcPayload::Json => {
                        format!("{params} or with a single unnamed json/jsonb parameter")
                    }
                    RpcPayload::Named => params,
                };
                Some(format!(
                    "Searched for the function {schema}.{name}{searched}, but no matches were found in the schema cache."
                ))
            }

            JwtDecode(e) => e.details().map(str::to_string),

            Db(e) | DbAuthenticated(e) => e.detail.clone(),
            Raised { details, .. } => details.clone(),
            _ => None,
        };
        text.map(Value::String)
    }

    fn hint(&self) -> Option<String> {
        use ApiError::*;
        match self {
            Host { hint, .. } => hint.map(str::to_string),
            UnacceptableSchema { exposed, .. } => Some(format!(
                "Only the following schemas are exposed: {}",
                exposed.join(", ")
            )),
            NotEmbedded {
                aliased: Some((name, alias)),
                ..
            } => Some(format!(
                "Change '{name}' to '{alias}' in filters, orders or limits."
            )),
            NotEmbedded { resource, .. } => Some(format!(
                "Verify that '{resource}' is included in the 'select' query parameter."
            )),
            RaiseParse(RaiseError::InvalidMessage(_)) => Some("MESSAGE must be a JSON object with obligatory keys: 'code', 'message' and optional keys: 'details', 'hint'.".into()),
            RaiseParse(_) => Some("DETAIL must be a JSON object with obligatory keys: 'status', 'headers' and optional key: 'status_text'.".into()),

            RelationshipNotFound {
                parent,
                child,
                suggestion,
                ..
            } => suggestion.as_ref().map(|s| match s {
                RelSuggestion::Parent(p) => format!("Perhaps you meant '{p}' instead of '{parent}'."),
                RelSuggestion::Child(c) => format!("Perhaps you meant '{c}' instead of '{child}'."),
            }),
            AmbiguousRelationship {
                child, candidates, ..
            } => {
                let options: Vec<String> = candidates
                    .iter()
                    .map(|c| {
                        let via = match &c.kind {
                            RelKind::ManyToMany { junction, .. } => junction,
                            RelKind::ManyToOne { constraint, .. }
                            | RelKind::OneToOne { constraint, .. }
                            | RelKind::OneToMany { constraint, .. } => constraint,
                        };
                        format!("'{}!{via}'", c.foreign_table)
                    })
                    .collect();
                Some(format!(
                    "Try changing '{child}' to one of the following: {}. Find the desired relationship in the 'details' key.",
                    options.join(", ")
                ))
            }
            FunctionNotFound {
                schema,
                name,
                payload,
                suggestion,
                ..
            } if !payload.single_unnamed() => suggestion.as_ref().map(|s| match s {
                FnSuggestion::Function(f) => {
                    format!("Perhaps you meant to call the function {schema}.{f}")
                }
                FnSuggestion::Params(params) => {
                    let mut sorted = params.clone();
                    sorted.sort();
                    format!(
                        "Perhaps you meant to call the function {schema}.{name}({})",
                        sorted.join(", ")
                    )
                }
            }),
            AmbiguousFunction { .. } => Some("Try renaming the parameters or the function itself in the database so function overloading can be resolved".into()),
            TableNotFound { hint, .. } => hint.clone(),

            Db(e) | DbAuthenticated(e) => e.hint.clone(),
            Raised { hint, .. } => hint.clone(),
            _ => None,
        }
    }

    /// The JSON body. `details` and `hint` are `null` when absent.
    pub fn body(&self) -> Value {
        json!({
            "code": self.code(),
            "details": self.details(),
            "hint": self.hint(),
            "message": self.message(),
        })
    }

    /// The full HTTP response: `Content-Type: application/json;
    /// charset=utf-8`, `Proxy-Status: PostgREST; error=<code>`, then the
    /// error's own headers — `WWW-Authenticate` on 401s, or the headers of a
    /// [`ApiError::Raised`] error. Content-Length is left to the host.
    /// The answer with the `Server-Timing` stage it ends, by PostgREST's
    /// error groups: a request error (PGRST1xx) ends the parse, a JWT
    /// error (PGRST3xx) the jwt stage, the rest the plan.
    pub fn to_reply(&self) -> Reply {
        let code = self.code();
        let stage = if code.starts_with("PGRST1") {
            Stage::Parse
        } else if code.starts_with("PGRST3") {
            Stage::Jwt
        } else {
            Stage::Plan
        };
        Reply {
            response: self.to_response(),
            stage,
        }
    }

    pub fn to_response(&self) -> HttpResponse {
        let mut headers = vec![
            (
                "content-type".to_string(),
                "application/json; charset=utf-8".to_string(),
            ),
            (
                "proxy-status".to_string(),
                format!("PostgREST; error={}", self.code()),
            ),
        ];
        match self {
            ApiError::JwtDecode(_) | ApiError::JwtClaims(_) => headers.push((
                "www-authenticate".to_string(),
                format!(
                    "Bearer error=\"invalid_token\", error_description={}",
                    haskell_show::string(&self.message())
                ),
            )),
            ApiError::AnonymousDisabled => {
                headers.push(("www-authenticate".to_string(), "Bearer".to_string()))
            }
            ApiError::Db(_) | ApiError::DbAuthenticated(_) if self.status() == 401 => {
                headers.push(("www-authenticate".to_string(), "Bearer".to_string()))
            }
            ApiError::Raised { headers: own, .. } => {
                headers.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())))
            }
            _ => {}
        }
        HttpResponse {
            status: self.status(),
            headers,
            body: self.body().to_string().into_bytes(),
        }
    }
}

/// An error body as `client-error-verbosity = minimal` shows it: only
/// `code` and `message`. `None` for a body that is not an error object.
pub fn minimal_body(body: &[u8]) -> Option<Vec<u8>> {
    let Ok(Value::Object(error)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    let code = error.get("code")?;
    let message = error.get("message").cloned().unwrap_or(Value::Null);
    Some(
        json!({"code": code, "message": message})
            .to_string()
            .into_bytes(),
    )
}

impl RpcPayload {
    /// Bodies that can only be a single unnamed argument: PGRST202 then names
    /// no parameters and gives no hint.
    fn single_unnamed(self) -> bool {
        matches!(self, RpcPayload::Text | RpcPayload::Xml | RpcPayload::Bytes)
    }
}

/// One entry of PGRST201's `details`.
fn rel_details(c: &RelCandidate) -> Value {
    let cols = |names: Vec<&String>| {
        let names: Vec<&str> = names.into_iter().map(String::as_str).collect();
        format!("({})", names.join(", "))
    };
    let (cardinality, relationship) = match &c.kind {
        RelKind::ManyToMany {
            junction,
            constraint1,
            source_columns,
            constraint2,
            target_columns,
        } => (
            "many-to-many",
            format!(
                "{junction} using {constraint1}{} and {constraint2}{}",
                cols(source_columns.iter().collect()),
                cols(target_columns.iter().collect())
            ),
        ),
        RelKind::ManyToOne {
            constraint,
            columns,
        }
        | RelKind::OneToOne {
            constraint,
            columns,
        }
        | RelKind::OneToMany {
            constraint,
            columns,
        } => {
            let cardinality = match c.kind {
                RelKind::ManyToOne { .. } => "many-to-one",
                RelKind::OneToOne { .. } => "one-to-one",
                _ => "one-to-many",
            };
            (
                cardinality,
                format!(
                    "{constraint} using {}{} and {}{}",
                    c.table,
                    cols(columns.iter().map(|(a, _)| a).collect()),
                    c.foreign_table,
                    cols(columns.iter().map(|(_, b)| b).collect())
                ),
            )
        }
    };
    json!({
        "cardinality": cardinality,
        "embedding": format!("{} with {}", c.table, c.foreign_table),
        "relationship": relationship,
    })
}

/// Reads a `RAISE SQLSTATE 'PGRST'`: MESSAGE must be a JSON object with
/// string `code` and `message` and optional (nullable) string `details` and
/// `hint`; DETAIL a JSON object with an integer `status`, an optional string
/// `status_text` and a `headers` object of strings. Other keys are ignored.
/// A status outside 100–999 cannot be sent and counts as an invalid DETAIL.
fn parse_raise(message: &str, detail: Option<&str>) -> Result<ApiError, RaiseError> {
    let invalid_message = || RaiseError::InvalidMessage(message.to_string());
    let msg: Value = serde_json::from_str(message).map_err(|_| invalid_message())?;
    let msg = msg.as_object().ok_or_else(invalid_message)?;
    let text = |key: &str| msg.get(key).and_then(Value::as_str).map(str::to_string);
    let optional = |key: &str| match msg.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid_message()),
    };
    let code = text("code").ok_or_else(invalid_message)?;
    let msg_text = text("message").ok_or_else(invalid_message)?;
    let details = optional("details")?;
    let hint = optional("hint")?;

    let detail = detail.ok_or(RaiseError::MissingDetail)?;
    let invalid_detail = || RaiseError::InvalidDetail(detail.to_string());
    let det: Value = serde_json::from_str(detail).map_err(|_| invalid_detail())?;
    let det = det.as_object().ok_or_else(invalid_detail)?;
    let status = det
        .get("status")
        .and_then(json_integer)
        .and_then(|n| u16::try_from(n).ok())
        .filter(|n| (100..=999).contains(n))
        .ok_or_else(invalid_detail)?;
    let status_text = match det.get("status_text") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(invalid_detail()),
    };
    let headers = det
        .get("headers")
        .and_then(Value::as_object)
        .ok_or_else(invalid_detail)?
        .iter()
        .map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
        .collect::<Option<BTreeMap<_, _>>>()
        .ok_or_else(invalid_detail)?;

    Ok(ApiError::Raised {
        code,
        message: msg_text,
        details,
        hint,
        status,
        status_text,
        headers,
    })
}

/// A JSON number with no fractional part (`404` or `404.0`), as aeson reads
/// an `Int`.
fn json_integer(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
            .map(|f| f as i64)
    })
}

/// PostgREST 16's SQLSTATE → HTTP status mapping. `message` matters for three
/// codes; `authenticated` (the request's role is not the anonymous role) only
/// for 42501. `PTxyz` (e.g. `RAISE SQLSTATE 'PT402'`) answers status xyz
/// (500 if xyz is not a number of at least 100). The `PGRST` SQLSTATE is
/// handled by [`ApiError::from_db`], not here.
fn db_status(sqlstate: &str, message: &str, authenticated: bool) -> u16 {
    let class = sqlstate.get(..2).unwrap_or("");
    match sqlstate {
        _ if class == "08" => 503, // connection exception
        _ if class == "09" => 500, // triggered action exception
        _ if class == "0L" => 403, // invalid grantor
        _ if class == "0P" => 403, // invalid role specification
        "23503" => 409,            // foreign_key_violation
        "23505" => 409,            // unique_violation
        "25006" => 405,            // read_only_sql_transaction
        // cardinality_violation: pg-safeupdate's refusal is the client's fault
        "21000" if message.ends_with("requires a WHERE clause") => 400,
        "21000" => 500,
        // invalid_parameter_value: the JWT named a role that does not exist
        "22023" if message.starts_with("role") && message.ends_with("does not exist") => 401,
        "22023" => 400,
        _ if class == "25" => 500, // invalid transaction state
        _ if class == "28" => 403, // invalid authorization specification
        _ if class == "2D" => 500, // invalid transaction termination
        _ if class == "38" => 500, // external routine exception
        _ if class == "39" => 500, // external routine invocation exception
        _ if class == "3B" => 500, // savepoint exception
        _ if class == "40" => 500, // transaction rollback
        "53400" => 500,            // configuration_limit_exceeded
        _ if class == "53" => 503, // insufficient resources
        _ if class == "54" => 500, // program limit exceeded
        _ if class == "55" => 500, // object not in prerequisite state
        "57P01" => 503,            // admin_shutdown
        _ if class == "57" => 500, // operator intervention
        _ if class == "58" => 500, // system error
        _ if class == "F0" => 500, // configuration file error
        _ if class == "HV" => 500, // foreign data wrapper error
        "P0001" => 400,            // raise_exception (plain RAISE)
        _ if class == "P0" => 500, // PL/pgSQL error
        _ if class == "XX" => 500, // internal error
        // undefined_function: xmlagg missing means no XML output is possible
        "42883" if message.starts_with("function xmlagg(") => 406,
        "42883" => 404,
        "42P01" => 404,                  // undefined_table
        "42P17" => 500,                  // invalid_object_definition (infinite recursion)
        "42501" if authenticated => 403, // insufficient_privilege
        "42501" => 401,
        _ if class == "PT" => sqlstate[2..]
            .parse::<u16>()
            .ok()
            .filter(|s| *s >= 100)
            .unwrap_or(500),
        _ => 400,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(sqlstate: &str, message: &str) -> DbError {
        DbError {
            sqlstate: sqlstate.into(),
            message: message.into(),
            detail: None,
            hint: None,
        }
    }

    fn header<'a>(r: &'a HttpResponse, name: &str) -> Option<&'a str> {
        r.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn check(err: ApiError, status: u16, body: Value) {
        assert_eq!(err.status(), status, "{err:?}");
        assert_eq!(err.code(), body["code"].as_str().unwrap());
        assert_eq!(err.body(), body);
        let resp = err.to_response();
        assert_eq!(resp.status, status);
        assert_eq!(
            serde_json::from_slice::<Value>(&resp.body).unwrap(),
            body,
            "response body"
        );
        assert_eq!(
            header(&resp, "content-type"),
            Some("application/json; charset=utf-8")
        );
        assert_eq!(
            header(&resp, "proxy-status"),
            Some(format!("PostgREST; error={}", body["code"].as_str().unwrap()).as_str())
        );
    }

    #[test]
    fn connection_errors() {
        check(
            ApiError::from_host(&HostError::DbUnreachable("connection refused".into())),
            503,
            json!({"code": "PGRST000", "message": "Database connection error.",
                   "details": "connection refused", "hint": null}),
        );
        check(
            ApiError::from_host(&HostError::DbConnectionLost(
                "no connection to the server\n".into(),
            )),
            503,
            json!({"code": "PGRST001", "message": "Database client error. Retrying the connection.",
                   "details": "no connection to the server\n", "hint": null}),
        );
        check(
            ApiError::from_host(&HostError::SchemaCacheNotLoaded),
            503,
            json!({"code": "PGRST002",
                   "message": "Could not query the database for the schema cache. Retrying.",
                   "details": null, "hint": null}),
        );
        check(
            ApiError::from_host(&HostError::PoolTimeout),
            504,
            json!({"code": "PGRST003",
                   "message": "Timed out acquiring connection from connection pool.",
                   "details": null, "hint": null}),
        );
    }

    #[test]
    fn request_errors() {
        check(
            ApiError::ParseError {
                message: "\"failed to parse select parameter (id,)\" (line 1, column 4)".into(),
                details: "unexpected end of input".into(),
            },
            400,
            json!({"code": "PGRST100",
                   "message": "\"failed to parse select parameter (id,)\" (line 1, column 4)",
                   "details": "unexpected end of input", "hint": null}),
        );
        check(
            ApiError::InvalidRpcMethod {
                method: "PUT".into(),
            },
            405,
            json!({"code": "PGRST101", "message": "Cannot use the PUT method on RPC",
                   "details": null, "hint": null}),
        );
        check(
            ApiError::InvalidRange(RangeError::OutOfBounds {
                lower: 10,
                total: 3,
            }),
            416,
            json!({"code": "PGRST103", "message": "Requested range not satisfiable",
                   "details": "An offset of 10 was requested, but there are only 3 rows.",
                   "hint": null}),
        );
        check(
            ApiError::UnacceptableSchema {
                schema: "nope".into(),
                exposed: vec!["api".into(), "v2".into()],
            },
            406,
            json!({"code": "PGRST106", "message": "Invalid schema: nope", "details": null,
                   "hint": "Only the following schemas are exposed: api, v2"}),
        );
        check(
            ApiError::MediaTypeError {
                media_types: vec!["text/csv".into(), "application/xml".into()],
            },
            406,
            json!({"code": "PGRST107",
                   "message": "None of these media types are available: text/csv, application/xml",
                   "details": null, "hint": null}),
        );
        check(
            ApiError::NotEmbedded {
                resource: "clients".into(),
                aliased: None,
            },
            400,
            json!({"code": "PGRST108",
                   "message": "'clients' is not an embedded resource in this request",
                   "details": null,
                   "hint": "Verify that 'clients' is included in the 'select' query parameter."}),
        );
        check(
            ApiError::NotEmbedded {
                resource: "actors".into(),
                aliased: Some(("actors".into(), "cast".into())),
            },
            400,
            json!({"code": "PGRST108",
                   "message": "'actors' is not an embedded resource in this request",
                   "details": "Target names are not allowed in filters if they have an alias",
                   "hint": "Change 'actors' to 'cast' in filters, orders or limits."}),
        );
        check(
            ApiError::Singularity { rows: 2 },
            406,
            json!({"code": "PGRST116", "message": "Cannot coerce the result to a single JSON object",
                   "details": "The result contains 2 rows", "hint": null}),
        );
        check(
            ApiError::RelatedOrderNotToOne {
                origin: "clients".into(),
                target: "projects".into(),
            },
            400,
            json!({"code": "PGRST118", "message": "A related order on 'projects' is not possible",
                   "details": "'clients' and 'projects' do not form a many-to-one or one-to-one relationship",
                   "hint": null}),
        );
        check(
            ApiError::InvalidPreferences {
                preferences: vec!["foo".into(), "bar=baz".into()],
            },
            400,
            json!({"code": "PGRST122", "message": "Invalid preferences given with handling=strict",
                   "details": "Invalid preferences: foo, bar=baz", "hint": null}),
        );
        check(
            ApiError::MaxAffectedViolation { rows: 5 },
            400,
            json!({"code": "PGRST124",
                   "message": "Query result exceeds max-affected preference constraint",
                   "details": "The query affects 5 rows", "hint": null}),
        );
    }

    #[test]
    fn raise_pgrst_controls_the_response() {
        let err = ApiError::from_db(
            DbError {
                sqlstate: "PGRST".into(),
                message: r#"{"code":"123","message":"Payment Required","details":"Quota exceeded","hint":"Upgrade your plan"}"#.into(),
                detail: Some(r#"{"status":402,"headers":{"X-Powered-By":"Nerd Rage","A":"1"}}"#.into()),
                hint: None,
            },
            true,
        );
        check(
            err.clone(),
            402,
            json!({"code": "123", "message": "Payment Required", "details": "Quota exceeded",
                   "hint": "Upgrade your plan"}),
        );
        let resp = err.to_response();
        assert_eq!(
            &resp.headers[2..],
            &[
                ("A".to_string(), "1".to_string()),
                ("X-Powered-By".to_string(), "Nerd Rage".to_string()),
            ]
        );

        let with_text = ApiError::from_db(
            DbError {
                sqlstate: "PGRST".into(),
                message: r#"{"code":"x","message":"m","details":null}"#.into(),
                detail: Some(r#"{"status":419,"status_text":"Too Late","headers":{}}"#.into()),
                hint: None,
            },
            false,
        );
        assert!(matches!(
            &with_text,
            ApiError::Raised { status: 419, status_text: Some(t), details: None, hint: None, .. }
                if t == "Too Late"
        ));
    }

    #[test]
    fn raise_pgrst_with_bad_json_is_pgrst121() {
        let raise = |message: &str, detail: Option<&str>| {
            ApiError::from_db(
                DbError {
                    sqlstate: "PGRST".into(),
                    message: message.into(),
                    detail: detail.map(Into::into),
                    hint: None,
                },
                false,
            )
        };
        let message_hint = "MESSAGE must be a JSON object with obligatory keys: 'code', 'message' and optional keys: 'details', 'hint'.";
        let detail_hint = "DETAIL must be a JSON object with obligatory keys: 'status', 'headers' and optional key: 'status_text'.";
        let title = "Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error";
        check(
            raise("not json", Some("{}")),
            500,
            json!({"code": "PGRST121", "message": title,
                   "details": "Invalid JSON value for MESSAGE: 'not json'", "hint": message_hint}),
        );
        check(
            raise(r#"{"code":"1","message":"m"}"#, None),
            500,
            json!({"code": "PGRST121", "message": title,
                   "details": "DETAIL is missing in the RAISE statement", "hint": detail_hint}),
        );
        check(
            raise(
                r#"{"code":"1","message":"m"}"#,
                Some(r#"{"status":"402","headers":{}}"#),
            ),
            500,
            json!({"code": "PGRST121", "message": title,
                   "details": "Invalid JSON value for DETAIL: '{\"status\":\"402\",\"headers\":{}}'",
                   "hint": detail_hint}),
        );
        assert_eq!(
            raise(r#"{"code":"1","message":"m"}"#, Some(r#"{"status":402}"#)).code(),
            "PGRST121"
        );
        assert_eq!(
            raise(
                r#"{"code":1,"message":"m"}"#,
                Some(r#"{"status":402,"headers":{}}"#)
            )
            .code(),
            "PGRST121"
        );
    }

    fn m2o(table: &str, foreign: &str, constraint: &str, cols: &[(&str, &str)]) -> RelCandidate {
        RelCandidate {
            table: table.into(),
            foreign_table: foreign.into(),
            kind: RelKind::ManyToOne {
                constraint: constraint.into(),
                columns: cols
                    .iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect(),
            },
        }
    }

    #[test]
    fn schema_cache_errors() {
        check(
            ApiError::RelationshipNotFound {
                parent: "film".into(),
                child: "directors".into(),
                embed_hint: None,
                schema: "api".into(),
                suggestion: Some(RelSuggestion::Parent("films".into())),
            },
            400,
            json!({"code": "PGRST200",
                   "message": "Could not find a relationship between 'film' and 'directors' in the schema cache",
                   "details": "Searched for a foreign key relationship between 'film' and 'directors' in the schema 'api', but no matches were found.",
                   "hint": "Perhaps you meant 'films' instead of 'film'."}),
        );
        check(
            ApiError::RelationshipNotFound {
                parent: "films".into(),
                child: "directors".into(),
                embed_hint: Some("fk_x".into()),
                schema: "api".into(),
                suggestion: None,
            },
            400,
            json!({"code": "PGRST200",
                   "message": "Could not find a relationship between 'films' and 'directors' in the schema cache",
                   "details": "Searched for a foreign key relationship between 'films' and 'directors' using the hint 'fk_x' in the schema 'api', but no matches were found.",
                   "hint": null}),
        );
        check(
            ApiError::AmbiguousRelationship {
                parent: "sites".into(),
                child: "big_projects".into(),
                candidates: vec![
                    m2o(
                        "sites",
                        "big_projects",
                        "main_project",
                        &[("main_project_id", "big_project_id")],
                    ),
                    RelCandidate {
                        table: "sites".into(),
                        foreign_table: "big_projects".into(),
                        kind: RelKind::ManyToMany {
                            junction: "jobs".into(),
                            constraint1: "jobs_site_id_fkey".into(),
                            source_columns: vec!["site_id".into()],
                            constraint2: "jobs_big_project_id_fkey".into(),
                            target_columns: vec!["big_project_id".into()],
                        },
                    },
                ],
            },
            300,
            json!({"code": "PGRST201",
                   "message": "Could not embed because more than one relationship was found for 'sites' and 'big_projects'",
                   "details": [
                       {"cardinality": "many-to-one", "embedding": "sites with big_projects",
                        "relationship": "main_project using sites(main_project_id) and big_projects(big_project_id)"},
                       {"cardinality": "many-to-many", "embedding": "sites with big_projects",
                        "relationship": "jobs using jobs_site_id_fkey(site_id) and jobs_big_project_id_fkey(big_project_id)"}
                   ],
                   "hint": "Try changing 'big_projects' to one of the following: 'big_projects!main_project', 'big_projects!jobs'. Find the desired relationship in the 'details' key."}),
        );
        check(
            ApiError::FunctionNotFound {
                schema: "api".into(),
                name: "testt".into(),
                args: vec!["a".into(), "b".into()],
                payload: RpcPayload::Named,
                suggestion: Some(FnSuggestion::Function("test".into())),
            },
            404,
            json!({"code": "PGRST202",
                   "message": "Could not find the function api.testt(a, b) in the schema cache",
                   "details": "Searched for the function api.testt with parameters a, b, but no matches were found in the schema cache.",
                   "hint": "Perhaps you meant to call the function api.test"}),
        );
        check(
            ApiError::FunctionNotFound {
                schema: "api".into(),
                name: "f".into(),
                args: vec![],
                payload: RpcPayload::Json,
                suggestion: Some(FnSuggestion::Params(vec!["val".into(), "name".into()])),
            },
            404,
            json!({"code": "PGRST202",
                   "message": "Could not find the function api.f without parameters in the schema cache",
                   "details": "Searched for the function api.f without parameters or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.",
                   "hint": "Perhaps you meant to call the function api.f(name, val)"}),
        );
        check(
            ApiError::FunctionNotFound {
                schema: "api".into(),
                name: "f".into(),
                args: vec!["x".into()],
                payload: RpcPayload::Text,
                suggestion: Some(FnSuggestion::Function("g".into())),
            },
            404,
            json!({"code": "PGRST202",
                   "message": "Could not find the function api.f in the schema cache",
                   "details": "Searched for the function api.f with a single unnamed text parameter, but no matches were found in the schema cache.",
                   "hint": null}),
        );
        check(
            ApiError::AmbiguousFunction {
                candidates: vec![
                    FnCandidate {
                        schema: "api".into(),
                        name: "f".into(),
                        params: vec![("a".into(), "integer".into())],
                    },
                    FnCandidate {
                        schema: "api".into(),
                        name: "f".into(),
                        params: vec![("a".into(), "text".into()), ("b".into(), "text".into())],
                    },
                ],
            },
            300,
            json!({"code": "PGRST203",
                   "message": "Could not choose the best candidate function between: api.f(a => integer), api.f(a => text, b => text)",
                   "details": null,
                   "hint": "Try renaming the parameters or the function itself in the database so function overloading can be resolved"}),
        );
        check(
            ApiError::ColumnNotFound {
                relation: "projects".into(),
                column: "nope".into(),
            },
            400,
            json!({"code": "PGRST204",
                   "message": "Could not find the 'nope' column of 'projects' in the schema cache",
                   "details": null, "hint": null}),
        );
        check(
            ApiError::table_not_found("api", "projcts", Some("projects")),
            404,
            json!({"code": "PGRST205",
                   "message": "Could not find the table 'api.projcts' in the schema cache",
                   "details": null, "hint": "Perhaps you meant the table 'api.projects'"}),
        );
    }

    #[test]
    fn jwt_errors_and_www_authenticate() {
        let err = ApiError::JwtDecode(JwtDecodeError::UnexpectedParts(2));
        check(
            err.clone(),
            401,
            json!({"code": "PGRST301", "message": "Expected 3 parts in JWT; got 2",
                   "details": null, "hint": null}),
        );
        assert_eq!(
            header(&err.to_response(), "www-authenticate"),
            Some(
                r#"Bearer error="invalid_token", error_description="Expected 3 parts in JWT; got 2""#
            )
        );
        check(
            ApiError::JwtDecode(JwtDecodeError::NoKeyVerifies),
            401,
            json!({"code": "PGRST301", "message": "No suitable key or wrong key type",
                   "details": "None of the keys was able to decode the JWT", "hint": null}),
        );
        let expired = ApiError::JwtClaims(JwtClaimsError::Expired);
        check(
            expired.clone(),
            401,
            json!({"code": "PGRST303", "message": "JWT expired", "details": null, "hint": null}),
        );
        assert_eq!(
            header(&expired.to_response(), "www-authenticate"),
            Some(r#"Bearer error="invalid_token", error_description="JWT expired""#)
        );
        check(
            ApiError::AnonymousDisabled,
            401,
            json!({"code": "PGRST302", "message": "Anonymous access is disabled",
                   "details": null, "hint": null}),
        );
        assert_eq!(
            header(
                &ApiError::AnonymousDisabled.to_response(),
                "www-authenticate"
            ),
            Some("Bearer")
        );
        check(
            ApiError::JwtSecretMissing,
            500,
            json!({"code": "PGRST300", "message": "Server lacks JWT secret",
                   "details": null, "hint": null}),
        );
        assert_eq!(
            header(
                &ApiError::JwtSecretMissing.to_response(),
                "www-authenticate"
            ),
            None
        );
    }

    #[test]
    fn internal_error() {
        check(
            ApiError::Internal {
                message: "unexpected result".into(),
            },
            500,
            json!({"code": "PGRSTX00", "message": "unexpected result", "details": null, "hint": null}),
        );
    }

    #[test]
    fn database_errors() {
        check(
            ApiError::from_db(
                DbError {
                    sqlstate: "23505".into(),
                    message: "duplicate key value violates unique constraint \"p_pkey\"".into(),
                    detail: Some("Key (id)=(1) already exists.".into()),
                    hint: None,
                },
                true,
            ),
            409,
            json!({"code": "23505",
                   "message": "duplicate key value violates unique constraint \"p_pkey\"",
                   "details": "Key (id)=(1) already exists.", "hint": null}),
        );
        let denied = db("42501", "permission denied for table projects");
        let anon = ApiError::from_db(denied.clone(), false);
        assert_eq!(anon.status(), 401);
        assert_eq!(
            header(&anon.to_response(), "www-authenticate"),
            Some("Bearer")
        );
        let authed = ApiError::from_db(denied, true);
        assert_eq!(authed.status(), 403);
        assert_eq!(header(&authed.to_response(), "www-authenticate"), None);
        check(
            ApiError::from_db(
                DbError {
                    sqlstate: "PT402".into(),
                    message: "Payment Required".into(),
                    detail: Some("d".into()),
                    hint: Some("h".into()),
                },
                false,
            ),
            402,
            json!({"code": "PT402", "message": "Payment Required", "details": "d", "hint": "h"}),
        );
    }

    /// Every row of PostgREST 16's SQLSTATE → status mapping.
    #[test]
    fn sqlstate_to_status() {
        // (sqlstate, message, authenticated, status)
        let rows: &[(&str, &str, bool, u16)] = &[
            ("08000", "", false, 503),
            ("08006", "", true, 503),
            ("09000", "", false, 500),
            ("0L000", "", false, 403),
            ("0LP01", "", false, 403),
            ("0P000", "", false, 403),
            ("23503", "", false, 409),
            ("23505", "", false, 409),
            ("25006", "", false, 405),
            ("21000", "UPDATE requires a WHERE clause", false, 400),
            ("21000", "DELETE requires a WHERE clause", false, 400),
            (
                "21000",
                "more than one row returned by a subquery used as an expression",
                false,
                500,
            ),
            ("22023", "role \"ghost\" does not exist", true, 401),
            (
                "22023",
                "invalid value for parameter \"TimeZone\": \"x\"",
                false,
                400,
            ),
            ("25000", "", false, 500),
            ("25P02", "", false, 500),
            ("28000", "", false, 403),
            ("28P01", "", false, 403),
            ("2D000", "", false, 500),
            ("38000", "", false, 500),
            ("38003", "", false, 500),
            ("39000", "", false, 500),
            ("3B000", "", false, 500),
            ("40001", "", false, 500),
            ("40P01", "", false, 500),
            ("53400", "", false, 500),
            ("53000", "", false, 503),
            ("53300", "", false, 503),
            ("54000", "", false, 500),
            ("54001", "", false, 500),
            ("55000", "", false, 500),
            ("55P03", "", false, 500),
            ("57P01", "", false, 503),
            ("57014", "", false, 500),
            ("57P03", "", false, 500),
            ("58000", "", false, 500),
            ("F0000", "", false, 500),
            ("HV000", "", false, 500),
            ("P0001", "", false, 400),
            ("P0002", "", false, 500),
            ("P0004", "", false, 500),
            ("XX000", "", false, 500),
            (
                "42883",
                "function xmlagg(integer) does not exist",
                false,
                406,
            ),
            ("42883", "function f(integer) does not exist", false, 404),
            ("42P01", "", false, 404),
            ("42P17", "infinite recursion detected in policy", false, 500),
            ("42501", "", true, 403),
            ("42501", "", false, 401),
            ("PT402", "", false, 402),
            ("PT201", "", true, 201),
            ("PT4X2", "", false, 500),
            ("PT040", "", false, 500),
            // everything else is the client's fault
            ("23502", "", false, 400),
            ("23514", "", false, 400),
            ("22P02", "", false, 400),
            ("42703", "", false, 400),
            ("42601", "", false, 400),
            ("0A000", "", false, 400),
        ];
        for &(sqlstate, message, authenticated, status) in rows {
            assert_eq!(
                ApiError::from_db(db(sqlstate, message), authenticated).status(),
                status,
                "{sqlstate} {message:?} authenticated={authenticated}"
            );
        }
        // RAISE SQLSTATE 'PGRST' takes its status from DETAIL.
        let raised = ApiError::from_db(
            DbError {
                sqlstate: "PGRST".into(),
                message: r#"{"code":"c","message":"m"}"#.into(),
                detail: Some(r#"{"status":418.0,"headers":{}}"#.into()),
                hint: None,
            },
            false,
        );
        assert_eq!(raised.status(), 418);
    }
}
