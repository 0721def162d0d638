//! One request from HTTP to plan, and from results to response: PostgREST's
//! pipeline (ApiRequest -> Plan -> Query -> Response) driven in order.

use crate::api_request::preferences::TxPreference;
use crate::api_request::{self, Action, ApiRequest};
use crate::auth;
use crate::config::role_settings::Isolation;
use crate::config::{Config, TxEndMode};
use crate::contract::{
    Answer, AnswerBody, DbError, HttpRequest, HttpResponse, Outcome, Reply, Rows, Statement, TxEnd,
};
use crate::contract::{Param, RowUse};
use crate::error::ApiError;
use crate::query;
use crate::response::{self, Context, Kind};
use crate::schema_cache::SchemaCache;

mod explain;
mod nul;
mod options;
mod read;
mod root;
mod rpc;
mod write;

/// `auth`: who the request runs as, or why it may not run.
pub fn plan(
    config: &Config,
    cache: &SchemaCache,
    req: &HttpRequest,
    auth: Result<auth::AuthResult, ApiError>,
) -> Outcome {
    auth.and_then(|auth| try_plan(config, cache, req, &auth))
        .and_then(|outcome| nul::refuse(&outcome, &req.body).map(|()| outcome))
        .unwrap_or_else(|err| Outcome::Reply(err.to_reply()))
}

fn try_plan(
    config: &Config,
    cache: &SchemaCache,
    req: &HttpRequest,
    auth: &auth::AuthResult,
) -> Result<Outcome, ApiError> {
    let api = ApiRequest::parse(config, cache, req)?;
    match api.action {
        Action::RelationRead { table, head } => {
            read::read(config, cache, auth, api, table, head).map(Outcome::Run)
        }
        Action::RelationWrite { table, mutation } => {
            write::write(config, cache, auth, api, table, mutation).map(Outcome::Run)
        }
        Action::RelationInfo(table) => Ok(Outcome::answered(options::allow(
            &options::table_methods(table),
        ))),
        Action::Call(ref call) => {
            let call = call.clone();
            rpc::call(config, cache, auth, api, &call)
        }
        Action::SchemaRead { head } => root::root(config, auth, &api, head),
        Action::SchemaInfo => Ok(Outcome::answered(options::allow("OPTIONS,GET,HEAD"))),
    }
}

/// The answer to a request refused for its head alone (its claims, an
/// unknown table, a method no table takes, a schema not served), in the
/// order `plan` finds them; `None` when its body may matter. `req` has no
/// body.
pub fn screen(
    config: &Config,
    cache: &SchemaCache,
    req: &HttpRequest,
    auth: Result<auth::AuthResult, ApiError>,
) -> Option<Reply> {
    let checked = auth.and_then(|_| api_request::screen(config, cache, req));
    checked.err().map(|err| err.to_reply())
}

pub fn respond(config: &Config, cache: &SchemaCache, context: &[u8], results: &[Rows]) -> Answer {
    let answer = Context::decode(context).and_then(|ctx| {
        let mut answer = match &ctx.kind {
            Kind::Read(read) => response::read::respond(read, results),
            Kind::Mutate(write) => response::mutate::respond(write, results),
            Kind::OpenApi(root) => response::openapi::respond(config, cache, root, results),
            Kind::Plan(plan) => response::plan::respond(plan, results),
        }?;
        if let Some(warning) = &ctx.warning {
            response::add_warning(&mut answer.headers, warning);
        }
        Ok(answer)
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

/// The statements between BEGIN and the main statement: the per-transaction
/// settings (search_path, the role's own settings, role, claims, method,
/// path, headers, cookies, time zone, app settings), then the `db-pre-request`
/// call.
fn settings(
    config: &Config,
    auth: &auth::AuthResult,
    api: &ApiRequest,
) -> impl Iterator<Item = Statement> {
    settings_with(config, auth, api, &[])
}

/// `settings`, with a called function's hoisted settings (set after the
/// time zone, before the app settings, as PostgREST orders them).
fn settings_with(
    config: &Config,
    auth: &auth::AuthResult,
    api: &ApiRequest,
    function_settings: &[(String, String)],
) -> impl Iterator<Item = Statement> {
    let mut search_path = Vec::with_capacity(1 + config.db_extra_search_path.len());
    search_path.push(api.profile.schema.as_str());
    search_path.extend(config.db_extra_search_path.iter().map(String::as_str));
    let app_settings: Vec<(&str, &str)> = config
        .app_settings
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let settings = query::settings::statement(&query::settings::RequestSettings {
        role: &auth.role,
        role_settings: config.role_settings.settings(&auth.role),
        search_path,
        claims_json: &auth.claims_json,
        method: &api.http.method,
        path: &api.http.path,
        headers: &api.http.headers,
        timezone: api.preferences.timezone.as_deref(),
        app_settings: &app_settings,
        function_settings,
    });
    let pre_request = config
        .db_pre_request
        .as_deref()
        .map(query::settings::call_hook);
    [settings].into_iter().chain(pre_request)
}

/// `BEGIN` with the access mode, at the isolation level of the request's
/// role (`ALTER ROLE … SET default_transaction_isolation`, read committed
/// without one).
fn begin(config: &Config, auth: &auth::AuthResult, read_only: bool) -> Statement {
    begin_with(read_only, config.role_settings.isolation(&auth.role))
}

fn begin_with(read_only: bool, isolation: Isolation) -> Statement {
    let mode = if read_only { " READ ONLY" } else { "" };
    Statement {
        sql: ["BEGIN ISOLATION LEVEL ", isolation.sql(), mode].concat(),
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

/// PostgREST's `Warning` for embeds that a filter, order or limit named by
/// their relation although they have an alias (`url-use-legacy-target-names`).
fn legacy_warning(names: &[(String, String)]) -> Option<String> {
    if names.is_empty() {
        return None;
    }
    let replacements: Vec<String> = names
        .iter()
        .map(|(relation, alias)| format!("`{relation}` to `{alias}`"))
        .collect();
    Some(format!(
        "299 pgrest/{} \"Embedded resource was referenced by relation name even though it has an alias. This is deprecated and will stop working in a future release. Update {} in query string filters, orders or limits.\"",
        env!("CARGO_PKG_VERSION"),
        replacements.join(", ")
    ))
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
