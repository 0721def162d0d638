//! `GET`/`HEAD` on a table or view.

use super::{begin, explain, legacy_warning, settings, tx_end};
use crate::api_request::ApiRequest;
use crate::api_request::accept::{self, Choice, MediaType};
use crate::api_request::ast::SelectItem;
use crate::api_request::preferences::Count as PreferCount;
use crate::api_request::query_params;
use crate::auth;
use crate::config::Config;
use crate::contract::Plan;
use crate::error::ApiError;
use crate::plan::read::{Limits, ReadPlan};
use crate::query;
use crate::query::body::{BodyShape, HandlerInput, Output};
use crate::query::read::Count;
use crate::query::sql::qualified;
use crate::response::read::{ReadContext, TotalFrom};
use crate::response::{Context, Kind};
use crate::schema_cache::{AggregateHandler, SchemaCache, Table};

/// GET/HEAD on a table or view.
pub(super) fn read(
    config: &Config,
    cache: &SchemaCache,
    auth: &auth::AuthResult,
    mut api: ApiRequest,
    table: &Table,
    head: bool,
) -> Result<Plan, ApiError> {
    let page = api.page(config.db_max_rows)?;
    let params = std::mem::take(&mut api.query);
    let canonical = query_params::canonical(&params.raw);
    let default_select = params.select == [SelectItem::star()];
    let limits = Limits::of(config);
    let read = ReadPlan::new(cache, &api.profile.schema, table, params, page, limits)?;
    let body = negotiate_body(config, cache, &api.accept, table, default_select)?;
    let negotiated = body.negotiated;
    let prefs = &api.preferences;
    prefs.check_strict()?;

    let (count, total) = counting(prefs.count, config.db_max_rows);
    let statements = query::read::statements(
        &read,
        query::read::Source::Relation,
        body.output,
        count,
        matches!(total, TotalFrom::Planned | TotalFrom::Estimated { .. }),
    )?;

    let warning = legacy_warning(&read.legacy_target_names);
    let (tx_end, tx_overridable) = tx_end(config.db_tx_end, prefs.tx);
    let opening = [begin(config, auth, true)]
        .into_iter()
        .chain(settings(config, auth, &api));
    let profile = &api.profile;
    if let MediaType::Plan(p) = &negotiated {
        return Ok(explain::plan(
            p,
            opening,
            statements.main,
            tx_end,
            auth,
            profile,
            warning,
        ));
    }
    let applied = prefs.applied_to_read(tx_overridable);
    let context = Context {
        authenticated: auth.authenticated,
        warning,
        kind: Kind::Read(ReadContext {
            offset: read.offset,
            head,
            content_type: body.content_type,
            singular: body.singular,
            total,
            content_location: Some(if canonical.is_empty() {
                ["/", &table.name].concat()
            } else {
                ["/", &table.name, "?", &canonical].concat()
            }),
            void: false,
            max_affected: None,
            commit: true,
            preference_applied: applied.applied_header(),
            content_profile: profile.negotiated.then(|| profile.schema.clone()),
        }),
    };
    Ok(Plan {
        statements: opening
            .chain([statements.main])
            .chain(statements.planned_count)
            .collect(),
        tx_end,
        context: context.encode(),
    })
}

/// How a read of `table` answers: what negotiation chose, how the body is
/// built, its `Content-Type`, and whether it is the singular object.
pub(super) struct Body {
    pub negotiated: MediaType,
    pub output: Output,
    pub content_type: String,
    pub singular: bool,
}

/// Negotiates the body of a read of `table`: the database's media type
/// handlers first (aggregates returning a domain named after the type;
/// `default_select`: the request selects `*`, so the table's own handlers
/// apply), then pgrest's built-in types.
pub(super) fn negotiate_body(
    config: &Config,
    cache: &SchemaCache,
    accepted: &[MediaType],
    table: &Table,
    default_select: bool,
) -> Result<Body, ApiError> {
    let produces = accept::relation_read_types();
    let choice = accept::negotiate_with(accepted, &produces, config.db_plan_enabled, |media| {
        cache.media_handler(&table.schema, &table.name, media, default_select)
    })?;
    Ok(match choice {
        Choice::Builtin(negotiated) => {
            let media = accept::body_type(&negotiated, &produces);
            Body {
                output: output(&media)?,
                content_type: media.content_type(),
                singular: matches!(media, MediaType::Object { .. }),
                negotiated,
            }
        }
        Choice::Handler(handler) => {
            let media = handler_media(handler);
            Body {
                output: handler_output(handler, table),
                content_type: media.content_type(),
                singular: false,
                negotiated: media,
            }
        }
        Choice::PlanOfHandler(handler, plan) => {
            let negotiated = MediaType::Plan(plan);
            Body {
                output: handler_output(handler, table),
                content_type: negotiated.content_type(),
                singular: false,
                negotiated,
            }
        }
    })
}

/// The body a media type handler builds from the rows of `table`.
fn handler_output(handler: &AggregateHandler, table: &Table) -> Output {
    let input = if handler.for_any_relation() {
        HandlerInput::Rows
    } else {
        HandlerInput::RowsAs(qualified(&table.schema, &table.name))
    };
    aggregate_output(handler, input)
}

/// The body `handler` aggregates from `input`.
pub(super) fn aggregate_output(handler: &AggregateHandler, input: HandlerInput) -> Output {
    Output {
        shape: BodyShape::Custom {
            aggregate: qualified(&handler.schema, &handler.name),
            input,
            bytes: handler.bytes,
        },
        strip_nulls: false,
    }
}

/// The media type an aggregate handler's body is sent as: its own, or
/// octet-stream for a `*/*` one (unless SQL sets another).
pub(super) fn handler_media(handler: &AggregateHandler) -> MediaType {
    MediaType::decode(match handler.media_type.as_str() {
        "*/*" => "application/octet-stream",
        other => other,
    })
}

/// What the main statement counts, and where `respond` takes the total from.
pub(super) fn counting(
    preference: Option<PreferCount>,
    max_rows: Option<i64>,
) -> (Count, TotalFrom) {
    match preference {
        None => (Count::None, TotalFrom::None),
        Some(PreferCount::Exact) => (Count::Exact, TotalFrom::Exact),
        Some(PreferCount::Planned) => (Count::None, TotalFrom::Planned),
        Some(PreferCount::Estimated) => (
            max_rows.map_or(Count::Exact, |max| Count::UpTo(max.saturating_add(1))),
            TotalFrom::Estimated { max_rows },
        ),
    }
}

/// How the body is built for a negotiated media type.
pub(super) fn output(media: &MediaType) -> Result<Output, ApiError> {
    let (shape, strip_nulls) = match media {
        MediaType::Json => (BodyShape::JsonArray, false),
        MediaType::ArrayStripped => (BodyShape::JsonArray, true),
        MediaType::Object { stripped } => (BodyShape::JsonObject, *stripped),
        MediaType::Csv => (BodyShape::Csv, false),
        MediaType::GeoJson => (BodyShape::GeoJson, false),
        other => {
            return Err(ApiError::Internal {
                message: format!("no body for negotiated {}", other.to_mime()),
            });
        }
    };
    Ok(Output { shape, strip_nulls })
}
