//! The body column: how the rows a statement selected become the response
//! body in the negotiated media type (PostgREST's `bodyF` and its
//! `asJsonF`/`asCsvF`/… fragments), for reads, calls and writes alike.

use std::borrow::Cow;

/// How the body column is built from the selected rows (PostgREST's bodyF).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyShape {
    /// `application/json`, `vnd.pgrst.array+json`: a JSON array.
    JsonArray,
    /// `vnd.pgrst.object+json`: the first row as an object (`null` without
    /// rows; `respond` refuses any count but one).
    JsonObject,
    /// `text/csv`: a header line of column names, then one line per row.
    Csv,
    /// `application/geo+json`: a FeatureCollection (needs PostGIS).
    GeoJson,
    /// A media type handler: `aggregate(input)`, cast to `bytea` (`bytes`)
    /// or `text`. The aggregate's name is quoted SQL.
    Custom {
        aggregate: String,
        input: HandlerInput,
        bytes: bool,
    },
    /// The values of a function returning scalars (or `void`): its rows'
    /// one column, `pgrst_scalar`.
    Scalar(ScalarBody),
}

/// What a media type handler aggregates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandlerInput {
    /// The rows as they are selected (an `anyelement` handler).
    Rows,
    /// The rows cast to a relation's row type (quoted SQL), a handler of
    /// that relation's.
    RowsAs(String),
    /// The value of a function returning one scalar, `pgrst_scalar`.
    Scalars,
}

/// How a scalar function's values become the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarBody {
    /// The JSON array of the values, or (`single`) the first value.
    Json { single: bool },
    /// The text as it is (`text/plain`, `text/xml`), values concatenated.
    Text,
    /// The bytes as they are (`application/octet-stream`).
    Bytes,
    /// No body (`void`).
    Void,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub shape: BodyShape,
    /// `nulls=stripped`: keys with null values are left out.
    pub strip_nulls: bool,
}

/// The body column over the rows named `rows` (`_postgrest_t` in the
/// outer query).
pub(super) fn body(output: &Output, rows: &str) -> Cow<'static, str> {
    let strip = |json: &'static str| -> Cow<'static, str> {
        if output.strip_nulls {
            format!("json_strip_nulls({json})").into()
        } else {
            json.into()
        }
    };
    match &output.shape {
        BodyShape::Custom {
            aggregate,
            input,
            bytes,
        } => {
            let cast = if *bytes { "bytea" } else { "text" };
            let input = match input {
                HandlerInput::Rows => Cow::Borrowed("_postgrest_t"),
                HandlerInput::RowsAs(row_type) => format!("_postgrest_t::{row_type}").into(),
                HandlerInput::Scalars => "_postgrest_t.pgrst_scalar".into(),
            };
            format!("{aggregate}({input})::{cast}").into()
        }
        BodyShape::Scalar(scalar) => scalar_body(*scalar, strip),
        BodyShape::JsonArray if !output.strip_nulls => "coalesce(json_agg(_postgrest_t), '[]')".into(),
        BodyShape::JsonArray => format!("coalesce({}, '[]')", strip("json_agg(_postgrest_t)")).into(),
        BodyShape::JsonObject => {
            format!("coalesce({}, 'null')", strip("json_agg(_postgrest_t)->0")).into()
        }
        BodyShape::GeoJson => "json_build_object('type', 'FeatureCollection', 'features', \
             coalesce(json_agg(ST_AsGeoJSON(_postgrest_t)::json), '[]'))"
            .into(),
        // The header comes from the first row's keys, so a CSV body of no
        // rows is a lone newline, as in PostgREST.
        BodyShape::Csv => format!(
            "(SELECT coalesce(string_agg(k, ','), '') FROM \
               (SELECT json_object_keys(row_to_json(h)) AS k FROM \
                 (SELECT * FROM {rows} LIMIT 1) h) keys) \
             || '\n' || \
             coalesce(string_agg(substring(_postgrest_t::text, 2, length(_postgrest_t::text) - 2), '\n'), '')"
        )
        .into(),
    }
}

/// The body of a scalar function's values, the `pgrst_scalar` column of
/// `_postgrest_t` (so a `select` renaming it leaves the body without it, as
/// in PostgREST). `strip` wraps JSON in `json_strip_nulls` when asked.
fn scalar_body(
    scalar: ScalarBody,
    strip: impl Fn(&'static str) -> Cow<'static, str>,
) -> Cow<'static, str> {
    match scalar {
        ScalarBody::Json { single: false } => format!(
            "coalesce({}, '[]')",
            strip("json_agg(_postgrest_t.pgrst_scalar)")
        )
        .into(),
        ScalarBody::Json { single: true } => format!(
            "coalesce({}, 'null')",
            strip("json_agg(_postgrest_t.pgrst_scalar)->0")
        )
        .into(),
        ScalarBody::Text => "coalesce(string_agg(_postgrest_t.pgrst_scalar::text, ''), '')".into(),
        ScalarBody::Bytes => {
            "coalesce(string_agg(_postgrest_t.pgrst_scalar::bytea, ''::bytea), ''::bytea)".into()
        }
        ScalarBody::Void => "NULL::text".into(),
    }
}
