//! HTTP request -> ApiRequest: target, query-string grammar, Prefer, Accept /
//! Content-Type negotiation, Range, profiles.
//!
//! [`ApiRequest::parse`] reads a request once, in the order its errors are
//! reported: the path, then (for a table or view) the method, the profile
//! and the relation, or (for a function) the profile and the method; then
//! the query string and the body. What needs more of the schema cache (the
//! function a call names, embeds, columns) and the media type negotiation
//! (a table's own handlers take part) are the plan's.

pub mod accept;
pub(crate) mod arguments;
pub mod ast;
mod cursor;
mod filter;
mod order;
pub(crate) mod payload;
pub mod preferences;
pub(crate) mod profile;
pub mod query_params;
pub mod range;
mod select;
pub(crate) mod target;

#[cfg(test)]
mod query_params_tests;

use self::accept::MediaType;
use self::arguments::Arguments;
use self::payload::Payload;
use self::preferences::Preferences;
use self::profile::Profile;
use self::query_params::{ParseOptions, QueryParams};
use self::range::Page;
use self::target::Target;
use crate::config::{Config, OpenApiMode};
use crate::contract::HttpRequest;
use crate::error::ApiError;
use crate::plan::mutate::Mutation;
use crate::schema_cache::{SchemaCache, Table};

/// What a request asks for, each part parsed.
pub(crate) struct ApiRequest<'r> {
    /// The request as received: its method, path and headers go to the
    /// transaction's settings, and a call may take its body whole.
    pub(crate) http: &'r HttpRequest,
    pub(crate) action: Action<'r>,
    pub(crate) profile: Profile,
    /// The query string; `/` and OPTIONS on a table read none (a malformed
    /// one is ignored), so theirs is every parameter's default.
    pub(crate) query: QueryParams,
    pub(crate) preferences: Preferences,
    /// `Accept`'s media types, most wanted first.
    pub(crate) accept: Vec<MediaType>,
    /// The body as the action reads it; `None` for one that reads none.
    pub(crate) body: Option<RequestBody>,
    /// The first `Range` header.
    range: Option<&'r str>,
}

/// What a request does to what.
#[derive(Debug, Clone)]
pub(crate) enum Action<'r> {
    /// GET/HEAD on a table or view.
    RelationRead { table: &'r Table, head: bool },
    /// POST/PATCH/PUT/DELETE on a table or view.
    RelationWrite {
        table: &'r Table,
        mutation: Mutation,
    },
    /// OPTIONS on a table or view.
    RelationInfo(&'r Table),
    /// `/rpc/name`, or `/` answered by the `db-root-spec` function.
    Call(Call),
    /// GET/HEAD `/`: the OpenAPI document.
    SchemaRead { head: bool },
    /// OPTIONS `/`.
    SchemaInfo,
}

/// A function call, before the function is found.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) name: String,
    pub(crate) invoke: Invoke,
    /// `/` under `db-root-spec`: the OpenAPI media type is offered too.
    pub(crate) root_spec: bool,
}

/// How a function is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Invoke {
    Get,
    Head,
    Post,
    /// Found as a GET would find it, then its verbs listed.
    Options,
}

/// A body, as the action reads it.
pub(crate) enum RequestBody {
    /// The rows a POST/PATCH/PUT on a table writes.
    Rows(Payload),
    /// The arguments of a POST call.
    Arguments(Arguments),
}

impl<'r> ApiRequest<'r> {
    /// Reads `http`, refusing it with the first error PostgREST reports.
    pub(crate) fn parse(
        config: &Config,
        cache: &'r SchemaCache,
        http: &'r HttpRequest,
    ) -> Result<ApiRequest<'r>, ApiError> {
        let (action, profile) = match target::parse(&http.path)? {
            // Functions take their own verbs.
            Target::Routine(name) => call(config, http, name, false)?,
            Target::Root if config.openapi_mode == OpenApiMode::Disabled => {
                return Err(ApiError::OpenApiDisabled);
            }
            // `db-root-spec`: the function answers `/` as `/rpc/<name>`
            // would (a `schema.` prefix is ignored, as in PostgREST: the
            // request's schema is searched).
            Target::Root if config.db_root_spec.is_some() => {
                let spec = config.db_root_spec.as_deref().unwrap_or_default();
                let name = spec.split_once('.').map_or(spec, |(_, name)| name);
                call(config, http, name.to_string(), true)?
            }
            Target::Root => {
                let verb = verb(&http.method)?;
                let profile = request_profile(config, http)?;
                let action = match verb {
                    Verb::Read { head } => Action::SchemaRead { head },
                    Verb::Options => Action::SchemaInfo,
                    Verb::Write(_) => {
                        return Err(ApiError::UnsupportedMethod {
                            method: http.method.clone(),
                        });
                    }
                };
                (action, profile)
            }
            Target::Relation(name) => {
                let (verb, profile, table) = relation(config, cache, http, &name)?;
                let action = match verb {
                    Verb::Read { head } => Action::RelationRead { table, head },
                    Verb::Write(mutation) => Action::RelationWrite { table, mutation },
                    Verb::Options => Action::RelationInfo(table),
                };
                (action, profile)
            }
        };
        let (query, body) = match &action {
            Action::RelationRead { .. } => (query_params::parse_query(&http.query)?, None),
            Action::RelationWrite { mutation, .. } => {
                let query = query_params::parse_query(&http.query)?;
                let rows = rows(http, *mutation, &query)?;
                (query, rows.map(RequestBody::Rows))
            }
            Action::Call(call) => {
                let post = call.invoke == Invoke::Post;
                let options = ParseOptions { rpc_read: !post };
                let query = query_params::parse_query_with(&http.query, options)?;
                let arguments = post
                    .then(|| arguments::from_body(http, query.columns.as_deref()))
                    .transpose()?;
                (query, arguments.map(RequestBody::Arguments))
            }
            Action::RelationInfo(_) | Action::SchemaRead { .. } | Action::SchemaInfo => {
                (QueryParams::default(), None)
            }
        };
        Ok(ApiRequest {
            action,
            profile,
            query,
            preferences: Preferences::parse(header_values(http, "prefer")),
            accept: accept::parse_accept(header_values(http, "accept").next()),
            body,
            range: header_values(http, "range").next(),
            http,
        })
    }

    /// The rows a read asks for: `Range` (GET only), the top-level
    /// `limit`/`offset` and `max_rows` (`db-max-rows`) combined.
    pub(crate) fn page(&self, max_rows: Option<i64>) -> Result<Page, ApiError> {
        let top = self.query.range(&[]);
        range::page(
            &self.http.method,
            self.range,
            top.and_then(|r| r.limit),
            top.and_then(|r| r.offset),
            max_rows,
        )
    }
}

/// The refusals of `parse` that need neither the query string nor the body
/// (a path, method, schema or table that is not served), in its order.
pub(crate) fn screen(
    config: &Config,
    cache: &SchemaCache,
    http: &HttpRequest,
) -> Result<(), ApiError> {
    match target::parse(&http.path)? {
        Target::Relation(name) => relation(config, cache, http, &name).map(|_| ()),
        _ => Ok(()),
    }
}

/// A call of the function `name`: its schema, then its verb.
fn call<'r>(
    config: &Config,
    http: &HttpRequest,
    name: String,
    root_spec: bool,
) -> Result<(Action<'r>, Profile), ApiError> {
    let profile = request_profile(config, http)?;
    let invoke = match http.method.as_str() {
        "GET" => Invoke::Get,
        "HEAD" => Invoke::Head,
        "POST" => Invoke::Post,
        "OPTIONS" => Invoke::Options,
        other => {
            return Err(ApiError::InvalidRpcMethod {
                method: other.to_string(),
            });
        }
    };
    let call = Call {
        name,
        invoke,
        root_spec,
    };
    Ok((Action::Call(call), profile))
}

/// A request to a table or view: what it does, in which schema, to which.
fn relation<'c>(
    config: &Config,
    cache: &'c SchemaCache,
    http: &HttpRequest,
    name: &str,
) -> Result<(Verb, Profile, &'c Table), ApiError> {
    let verb = verb(&http.method)?;
    let profile = request_profile(config, http)?;
    let schema = profile.schema.as_str();
    let table = cache.table(schema, name).ok_or_else(|| {
        ApiError::table_not_found(schema, name, cache.closest_table(schema, name))
    })?;
    Ok((verb, profile, table))
}

/// The rows a write's body holds (none for DELETE). PUT takes no
/// `limit`/`offset`.
fn rows(
    http: &HttpRequest,
    mutation: Mutation,
    query: &QueryParams,
) -> Result<Option<Payload>, ApiError> {
    if mutation == Mutation::SingleUpsert
        && query
            .raw
            .iter()
            .any(|(k, v)| v.is_some() && (k == "limit" || k == "offset"))
    {
        return Err(ApiError::PutLimitNotAllowed);
    }
    let columns = match mutation {
        Mutation::Delete => return Ok(None),
        Mutation::Insert | Mutation::Update => query.columns.as_deref(),
        Mutation::SingleUpsert => None,
    };
    let content_type = http
        .header("content-type")
        .map_or(MediaType::Json, MediaType::decode);
    payload::parse(&content_type, &http.body, columns).map(Some)
}

/// The schema a request addresses (`Accept-Profile` / `Content-Profile`).
fn request_profile(config: &Config, http: &HttpRequest) -> Result<Profile, ApiError> {
    profile::select(
        &config.db_schemas,
        &http.method,
        http.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
    )
}

/// What a method does to a table, a view or `/`.
enum Verb {
    Read { head: bool },
    Write(Mutation),
    Options,
}

fn verb(method: &str) -> Result<Verb, ApiError> {
    Ok(match method {
        "GET" => Verb::Read { head: false },
        "HEAD" => Verb::Read { head: true },
        "POST" => Verb::Write(Mutation::Insert),
        "PATCH" => Verb::Write(Mutation::Update),
        "PUT" => Verb::Write(Mutation::SingleUpsert),
        "DELETE" => Verb::Write(Mutation::Delete),
        "OPTIONS" => Verb::Options,
        other => {
            return Err(ApiError::UnsupportedMethod {
                method: other.to_string(),
            });
        }
    })
}

/// The values of one request header, in order (names are lowercase).
fn header_values<'a>(http: &'a HttpRequest, name: &'a str) -> impl Iterator<Item = &'a str> {
    http.headers
        .iter()
        .filter(move |(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}
