//! `GET`/`HEAD`/`POST` on `/rpc/name`: a function call, its rows read like a
//! table's.

use super::read::{Body, counting, negotiate_body};
use super::{Isolation, begin_with, explain, legacy_warning, options, settings_with, tx_end};
use crate::api_request::accept::{self, MediaType};
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
use crate::query::body::{BodyShape, Output, ScalarBody};
use crate::query::read::{Count, Source};
use crate::response::read::{ReadContext, TotalFrom};
use crate::response::{Context, Kind};
use crate::schema_cache::{Routine, SchemaCache};

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
    // The relation the call's rows are read as, and the body's media type
    // when they are scalars (`None`: rows of a table or of columns).
    let (table, body, scalar_media) = match plan.row_table(cache) {
        // Rows of a table: negotiated as a read of it (its media type
        // handlers included).
        Some(table) => {
            let default_select = params.select == [SelectItem::star()];
            let body = negotiate_body(config, cache, &api.accept, &table, default_select)?;
            (table, body, None)
        }
        None => {
            let (body, media) = scalar_body(config, &api.accept, routine, call.root_spec)?;
            (plan.scalar_table(), body, Some(media))
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
    let output = match &scalar_media {
        // One composite value is an object, not an array of one.
        None if !routine.returns_set && body.output.shape == BodyShape::JsonArray => Output {
            shape: BodyShape::JsonObject,
            ..body.output
        },
        None => body.output,
        Some(media) => scalar_output(routine, media, body.output),
    };
    let call = |sql: &mut String, p: &mut query::sql::Params| {
        query::call::call(sql, &plan, scalar_media.is_some(), p)
    };
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

/// The body of a function returning no table's rows: JSON, or its value raw
/// when its return type is a domain named after the accepted media type;
/// with the media type it is sent in (`output` is the JSON shape, which
/// `scalar_output` turns into the scalar one).
fn scalar_body(
    config: &Config,
    accepted: &[MediaType],
    routine: &Routine,
    root_spec: bool,
) -> Result<(Body, MediaType), ApiError> {
    let mut produces = match &routine.media_type {
        Some(handler) => vec![MediaType::Json, MediaType::decode(&handler.name)],
        None => vec![MediaType::Json],
    };
    // `db-root-spec`'s function at `/` may also be asked for the OpenAPI
    // type: its JSON, served under that name.
    if root_spec {
        produces.push(MediaType::OpenApi);
    }
    let negotiated = accept::negotiate(accepted, &produces, config.db_plan_enabled)?;
    let media = accept::body_type(&negotiated, &produces);
    let (shape, strip_nulls) = match &media {
        MediaType::Object { stripped } => (BodyShape::JsonObject, *stripped),
        MediaType::ArrayStripped => (BodyShape::JsonArray, true),
        _ => (BodyShape::JsonArray, false),
    };
    let body = Body {
        output: Output { shape, strip_nulls },
        content_type: media.content_type(),
        singular: matches!(media, MediaType::Object { .. }),
        negotiated,
    };
    let media = match media {
        MediaType::OpenApi => MediaType::Json,
        other => other,
    };
    Ok((body, media))
}

/// How a scalar function's values become the body in the negotiated media
/// type (`json`: the JSON output negotiation chose).
fn scalar_output(routine: &Routine, media: &MediaType, json: Output) -> Output {
    let scalar = match (media, &routine.media_type) {
        _ if routine.returns_void => ScalarBody::Void,
        // A singular answer from a set of scalars is its row, an object
        // (`{"pgrst_scalar": …}`), as PostgREST answers it.
        (MediaType::Object { .. }, _) if routine.returns_set => return json,
        (MediaType::Json | MediaType::Object { .. } | MediaType::ArrayStripped, _) | (_, None) => {
            ScalarBody::Json {
                single: !routine.returns_set,
            }
        }
        (_, Some(handler)) if handler.bytes => ScalarBody::Bytes,
        (_, Some(_)) => ScalarBody::Text,
    };
    Output {
        shape: BodyShape::Scalar(scalar),
        strip_nulls: json.strip_nulls,
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
