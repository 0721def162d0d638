//! `GET`/`HEAD`/`POST` on `/rpc/name`: a function call, its rows read like a
//! table's.

use super::read::{Body, aggregate_output, counting, handler_media, negotiate_body};
use super::{Isolation, begin_with, explain, legacy_warning, options, settings_with, tx_end};
use crate::api_request::accept::{self, Choice, MediaType};
use crate::api_request::arguments;
use crate::api_request::ast::SelectItem;
use crate::api_request::preferences::{Count as PreferCount, Handling};
use crate::api_request::{ApiRequest, Call, Invoke, RequestBody};
use crate::auth;
use crate::config::Config;
use crate::contract::{Outcome, Plan, TxEnd};
use crate::error::ApiError;
use crate::plan::call::{self, CallPlan, CallRequest};
use crate::plan::read::{Limits, ReadPlan};
use crate::query;
use crate::query::body::{BodyShape, HandlerInput, Output, ScalarBody};
use crate::query::read::{Count, Source};
use crate::response::read::{ReadContext, TotalFrom};
use crate::response::{Context, Kind};
use crate::schema_cache::{AggregateHandler, MediaHandler, Routine, SchemaCache};

pub(super) fn call(
    config: &Config,
    cache: &SchemaCache,
    auth: &auth::AuthResult,
    mut api: ApiRequest,
    call: &Call,
) -> Result<Outcome, ApiError> {
    let post = call.invoke == Invoke::Post;
    let head = call.invoke == Invoke::Head;
    let args = match api.body.take() {
        Some(RequestBody::Arguments(args)) => args,
        _ => arguments::from_query(std::mem::take(&mut api.query.rpc_args)),
    };
    let schema = api.profile.schema.as_str();
    let routine = call::resolve(
        cache,
        &CallRequest {
            schema,
            name: &call.name,
            keys: &args.keys,
            payload: args.payload,
            post,
        },
    )?;
    // OPTIONS finds the function as a GET would, then lists its verbs.
    if call.invoke == Invoke::Options {
        return Ok(Outcome::answered(options::allow(options::routine_methods(
            routine,
        ))));
    }
    let plan = CallPlan {
        routine,
        args: call::call_args(routine, &args, &api.http.body),
    };

    let page = api.page(config.db_max_rows)?;
    let params = std::mem::take(&mut api.query);
    let prefs = &api.preferences;
    // The relation the call's rows are read as, its body, and whether the
    // rows are scalars (else rows of a table or of columns).
    let (table, body, scalar) = match plan.row_table(cache) {
        // Rows of a table: negotiated as a read of it (its media type
        // handlers included).
        Some(table) => {
            let default_select = params.select == [SelectItem::star()];
            let body = negotiate_body(config, cache, &api.accept, &table, default_select)?;
            (table, body, false)
        }
        None => {
            let default_select = params.select == [SelectItem::star()];
            let body = scalar_body(
                config,
                cache,
                &api.accept,
                routine,
                default_select,
                call.root_spec,
            )?;
            (plan.scalar_table(), body, true)
        }
    };
    let negotiated = body.negotiated;
    prefs.check_strict()?;
    let singular = body.singular;
    let max_affected = prefs
        .max_affected
        .filter(|_| prefs.handling == Some(Handling::Strict));
    if max_affected.is_some() && !routine.returns_set {
        return Err(ApiError::MaxAffectedRpcViolation);
    }
    // PostgREST plans no count for a call: `planned` gives no total and
    // `estimated` the exact one, past `db-max-rows` too, unlike a table
    // read (`counting`); checked against PostgREST 12.0.2 and its current
    // source.
    let (count, total) = match prefs.count {
        Some(PreferCount::Planned) => (Count::None, TotalFrom::None),
        Some(PreferCount::Estimated) => (Count::Exact, TotalFrom::Exact),
        other => counting(other, config.db_max_rows),
    };

    let read = ReadPlan::new(cache, schema, &table, params, page, Limits::of(config))?;
    let output = match body.output.shape {
        // One composite value is an object, not an array of one.
        BodyShape::JsonArray if !scalar && !routine.returns_set => Output {
            shape: BodyShape::JsonObject,
            ..body.output
        },
        _ => body.output,
    };
    let call =
        |sql: &mut String, p: &mut query::sql::Params| query::call::call(sql, &plan, scalar, p);
    let source = Source::Call {
        rows: &call,
        single: !routine.returns_set,
    };
    let main = query::read::statements(&read, source, output, count, false)?.main;
    let warning = legacy_warning(&read.legacy_target_names);

    let (tx_end, tx_overridable) = tx_end(config.db_tx_end, prefs.tx);
    // GET and HEAD never write; POST writes only through a VOLATILE function.
    let read_only = !post || !routine.is_volatile();
    let hoisted = hoisted_settings(config, routine);
    // The function's own isolation level, else its role's.
    let isolation = set_clauses(routine)
        .find(|(name, _)| *name == "default_transaction_isolation")
        .map_or_else(
            || config.role_settings.isolation(&auth.role),
            |(_, value)| Isolation::from_setting(value),
        );
    let opening = [begin_with(read_only, isolation)]
        .into_iter()
        .chain(settings_with(config, auth, &api, &hoisted));
    let profile = &api.profile;
    if let MediaType::Plan(p) = &negotiated {
        return Ok(Outcome::Run(explain::plan(
            p, opening, main, tx_end, auth, profile, warning,
        )));
    }
    let mut applied = prefs.applied_to_read(tx_overridable);
    applied.max_affected = prefs.max_affected;
    let context = Context {
        authenticated: auth.authenticated,
        warning,
        kind: Kind::Read(ReadContext {
            offset: page.offset,
            head,
            content_type: body.content_type,
            singular,
            total,
            content_location: None,
            void: routine.returns_void,
            max_affected,
            commit: tx_end == TxEnd::Commit,
            preference_applied: applied.applied_header(),
            content_profile: profile.negotiated.then(|| profile.schema.clone()),
        }),
    };
    Ok(Outcome::Run(Plan {
        statements: opening.chain([main]).collect(),
        // Too many rows roll the call back: `respond` decides.
        tx_end: if singular || max_affected.is_some() {
            TxEnd::AfterRespond
        } else {
            tx_end
        },
        context: context.encode(),
    }))
}

/// What answers a scalar function's values in an accepted media type
/// besides the built-in JSON.
enum ScalarHandler<'a> {
    /// The function's return type is a domain named after the type (or
    /// `*/*`): the values raw.
    Raw(&'a MediaHandler),
    /// An `anyelement` aggregate over the values.
    Aggregate(&'a AggregateHandler),
}

/// The body of a function returning no table's rows, negotiated as
/// PostgREST does: with the default select, the function's own media type
/// (a `*/*` one for every type), then an `anyelement` aggregate, then JSON.
fn scalar_body(
    config: &Config,
    cache: &SchemaCache,
    accepted: &[MediaType],
    routine: &Routine,
    default_select: bool,
    root_spec: bool,
) -> Result<Body, ApiError> {
    // `db-root-spec`'s function at `/` may also be asked for the OpenAPI
    // type: its JSON, served under that name.
    let produces = if root_spec {
        vec![MediaType::Json, MediaType::OpenApi]
    } else {
        vec![MediaType::Json]
    };
    let own = routine.media_type.as_ref().filter(|_| default_select);
    let choice = accept::negotiate_with(accepted, &produces, config.db_plan_enabled, |media| {
        own.filter(|h| h.name == "*/*" || h.name.eq_ignore_ascii_case(media))
            .map(ScalarHandler::Raw)
            .or_else(|| {
                cache
                    .any_relation_handler(media)
                    .map(ScalarHandler::Aggregate)
            })
    })?;
    let handled = |handler: ScalarHandler, negotiated: Option<MediaType>| {
        let (output, media) = match handler {
            ScalarHandler::Raw(raw) => {
                let values = if raw.bytes {
                    ScalarBody::Bytes
                } else {
                    ScalarBody::Text
                };
                let output = Output {
                    shape: BodyShape::Scalar(values),
                    strip_nulls: false,
                };
                // A `*/*` value is octet-stream unless SQL says otherwise.
                let media = match raw.name.as_str() {
                    "*/*" => MediaType::OctetStream,
                    name => MediaType::decode(name),
                };
                (output, media)
            }
            // A set's values are given as the rows holding them.
            ScalarHandler::Aggregate(aggregate) => {
                let input = if routine.returns_set {
                    HandlerInput::Rows
                } else {
                    HandlerInput::Scalars
                };
                (aggregate_output(aggregate, input), handler_media(aggregate))
            }
        };
        let negotiated = negotiated.unwrap_or(media);
        Body {
            output,
            content_type: negotiated.content_type(),
            singular: false,
            negotiated,
        }
    };
    Ok(match choice {
        Choice::Builtin(negotiated) => builtin_scalar_body(routine, negotiated, &produces),
        Choice::Handler(handler) => handled(handler, None),
        Choice::PlanOfHandler(handler, plan) => handled(handler, Some(MediaType::Plan(plan))),
    })
}

/// A scalar function's values in a built-in type: JSON (a set of them as
/// an array), its singular forms, or no body for `void`.
fn builtin_scalar_body(routine: &Routine, negotiated: MediaType, produces: &[MediaType]) -> Body {
    let media = accept::body_type(&negotiated, produces);
    let (shape, strip_nulls) = match &media {
        MediaType::Object { stripped } => (BodyShape::JsonObject, *stripped),
        MediaType::ArrayStripped => (BodyShape::JsonArray, true),
        _ => (BodyShape::JsonArray, false),
    };
    let shape = match &media {
        _ if routine.returns_void => BodyShape::Scalar(ScalarBody::Void),
        // A singular answer from a set of scalars is its row, an object
        // (`{"pgrst_scalar": …}`), as PostgREST answers it.
        MediaType::Object { .. } if routine.returns_set => shape,
        _ => BodyShape::Scalar(ScalarBody::Json {
            single: !routine.returns_set,
        }),
    };
    Body {
        output: Output { shape, strip_nulls },
        content_type: media.content_type(),
        singular: matches!(media, MediaType::Object { .. }),
        negotiated,
    }
}

/// The function's `SET name=value` clauses that `db-hoisted-tx-settings`
/// names, in the function's order: they apply to the whole call, so
/// `statement_timeout` bounds it (inside the function it would be too late).
fn hoisted_settings(config: &Config, routine: &Routine) -> Vec<(String, String)> {
    set_clauses(routine)
        .filter(|(name, _)| config.db_hoisted_tx_settings.iter().any(|h| h == name))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

/// The function's `SET` clauses as (name, value).
fn set_clauses(routine: &Routine) -> impl Iterator<Item = (&str, &str)> {
    routine.settings.iter().filter_map(|s| s.split_once('='))
}
