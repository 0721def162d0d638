//! One request from HTTP to plan, and from results to response: PostgREST's
//! pipeline (ApiRequest -> Plan -> Query -> Response) driven in order.

use crate::api_request::preferences::TxPreference;
use crate::api_request::profile::{self, Profile};
use crate::api_request::target::{self, Target};
use crate::auth;
use crate::config::{Config, TxEndMode};
use crate::contract::{
    Answer, AnswerBody, DbError, HttpRequest, HttpResponse, Outcome, Rows, Statement, TxEnd,
};
use crate::contract::{Param, RowUse};
use crate::error::ApiError;
use crate::plan::mutate::Mutation;
use crate::query;
use crate::response::{self, Context, Kind};
use crate::schema_cache::SchemaCache;

mod options;
mod read;
mod root;
mod write;

pub fn plan(
    config: &Config,
    cache: &SchemaCache,
    req: &HttpRequest,
    claims: Option<&str>,
) -> Outcome {
    try_plan(config, cache, req, claims).unwrap_or_else(|err| Outcome::Reply(err.to_response()))
}

fn try_plan(
    config: &Config,
    cache: &SchemaCache,
    req: &HttpRequest,
    claims: Option<&str>,
) -> Result<Outcome, ApiError> {
    if claims.is_some() {
        // Tokens are refused by verify-token until JWT support lands; a host
        // that passes claims anyway must not get a request run with them.
        return Err(ApiError::JwtSecretMissing);
    }
    let auth = auth::anonymous(config)?;
    let target = target::parse(&req.path)?;
    let action = match req.method.as_str() {
        "GET" => Action::Read { head: false },
        "HEAD" => Action::Read { head: true },
        "POST" => Action::Write(Mutation::Insert),
        "PATCH" => Action::Write(Mutation::Update),
        "PUT" => Action::Write(Mutation::SingleUpsert),
        "DELETE" => Action::Write(Mutation::Delete),
        "OPTIONS" => Action::Options,
        other => {
            return Err(ApiError::UnsupportedMethod {
                method: other.to_string(),
            });
        }
    };
    let profile = profile::select(
        &config.db_schemas,
        &req.method,
        req.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
    )?;
    let name = match target {
        Target::Root => return root::root(config, req, &auth, &profile, action),
        Target::Relation(name) => name,
        Target::Routine(_) => return Err(not_yet("/rpc requests")),
    };
    let schema = profile.schema.as_str();
    let table = cache.table(schema, &name).ok_or_else(|| {
        ApiError::table_not_found(schema, &name, cache.closest_table(schema, &name))
    })?;
    match action {
        Action::Read { head } => {
            read::read(config, cache, req, &auth, &profile, table, head).map(Outcome::Run)
        }
        Action::Write(mutation) => {
            write::write(config, cache, req, &auth, &profile, table, mutation).map(Outcome::Run)
        }
        Action::Options => Ok(Outcome::Reply(options::allow(&options::table_methods(
            table,
        )))),
    }
}

/// What a method does to a resource.
enum Action {
    Read { head: bool },
    Write(Mutation),
    Options,
}

/// The values of one request header, in order (names are lowercase).
fn header_values<'a>(req: &'a HttpRequest, name: &'a str) -> impl Iterator<Item = &'a str> {
    req.headers
        .iter()
        .filter(move |(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The decoded value of the last top-level `name=value` parameter.
fn last_value<'a>(pairs: &'a [(String, Option<String>)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(n, v)| n == name && v.is_some())
        .and_then(|(_, v)| v.as_deref())
}

pub fn respond(config: &Config, cache: &SchemaCache, context: &[u8], results: &[Rows]) -> Answer {
    let answer = Context::decode(context).and_then(|ctx| match ctx.kind {
        Kind::Read(read) => response::read::respond(&read, results),
        Kind::Mutate(write) => response::mutate::respond(&write, results),
        Kind::OpenApi(root) => response::openapi::respond(config, cache, &root, results),
    });
    answer.unwrap_or_else(|err| {
        let r = err.to_response();
        Answer {
            status: r.status,
            headers: r.headers,
            body: AnswerBody::Bytes(r.body),
            commit: false,
        }
    })
}

pub fn respond_error(context: &[u8], err: &DbError) -> HttpResponse {
    let authenticated = Context::decode(context).is_ok_and(|c| c.authenticated);
    ApiError::from_db(err.clone(), authenticated).to_response()
}

/// The per-transaction settings statement (role, search_path, claims,
/// method, path, headers, cookies).
fn settings(
    config: &Config,
    req: &HttpRequest,
    auth: &auth::AuthResult,
    profile: &Profile,
) -> Statement {
    let mut search_path = vec![profile.schema.as_str()];
    search_path.extend(config.db_extra_search_path.iter().map(String::as_str));
    query::settings::statement(&query::settings::RequestSettings {
        role: &auth.role,
        search_path,
        claims_json: &auth.claims_json,
        method: &req.method,
        path: &req.path,
        headers: &req.headers,
    })
}

/// `BEGIN` with PostgREST's isolation level and access mode.
fn begin(read_only: bool) -> Statement {
    let mode = if read_only { " READ ONLY" } else { "" };
    Statement {
        sql: format!("BEGIN ISOLATION LEVEL READ COMMITTED{mode}"),
        params: Vec::<Param>::new(),
        rows: RowUse::Ignore,
    }
}

/// `db-tx-end`, overridden by `Prefer: tx=` where the mode allows it; and
/// whether it allows it.
fn tx_end(mode: TxEndMode, preference: Option<TxPreference>) -> (TxEnd, bool) {
    let (default, overridable) = match mode {
        TxEndMode::Commit => (TxEnd::Commit, false),
        TxEndMode::CommitAllowOverride => (TxEnd::Commit, true),
        TxEndMode::Rollback => (TxEnd::Rollback, false),
        TxEndMode::RollbackAllowOverride => (TxEnd::Rollback, true),
    };
    let end = match preference {
        Some(TxPreference::Commit) if overridable => TxEnd::Commit,
        Some(TxPreference::Rollback) if overridable => TxEnd::Rollback,
        _ => default,
    };
    (end, overridable)
}

fn not_yet(feature: &str) -> ApiError {
    ApiError::NotImplemented {
        details: format!("{feature} are not supported by pgrest yet"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tx_end_follows_mode_and_allowed_overrides() {
        use TxEndMode::*;
        let end = |mode, pref| tx_end(mode, pref).0;
        assert_eq!(end(Commit, Some(TxPreference::Rollback)), TxEnd::Commit);
        assert_eq!(
            end(CommitAllowOverride, Some(TxPreference::Rollback)),
            TxEnd::Rollback
        );
        assert_eq!(end(Rollback, Some(TxPreference::Commit)), TxEnd::Rollback);
        assert_eq!(
            end(RollbackAllowOverride, Some(TxPreference::Commit)),
            TxEnd::Commit
        );
        assert_eq!(end(RollbackAllowOverride, None), TxEnd::Rollback);
        assert!(!tx_end(Commit, None).1);
        assert!(tx_end(CommitAllowOverride, None).1);
    }
}
