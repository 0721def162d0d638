//! The plan of a write (POST, PATCH, PUT, DELETE on a table or view): the
//! payload's columns resolved against the schema cache, the conflict
//! target of an upsert, and the filters that pick the rows.

use crate::api_request::ast::{LogicTree, Operation, QuantOperator};
use crate::api_request::payload::{BodyJson, Payload};
use crate::api_request::preferences::Resolution;
use crate::api_request::query_params::QueryParams;
use crate::error::ApiError;
use crate::schema_cache::{Column, Table};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Mutation {
    /// POST.
    Insert,
    /// PATCH.
    Update,
    /// PUT: insert or replace the one row its primary key filters name.
    SingleUpsert,
    /// DELETE.
    Delete,
}

/// `ON CONFLICT (columns) DO …` of an upsert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub resolution: Resolution,
    pub columns: Vec<String>,
}

#[derive(Debug)]
pub struct MutatePlan<'a> {
    pub mutation: Mutation,
    pub table: &'a Table,
    /// The columns the payload sets, in key order (empty for DELETE).
    pub columns: Vec<&'a Column>,
    /// The JSON the rows come from (`None` for DELETE).
    pub body: Option<BodyJson>,
    pub conflict: Option<Conflict>,
    /// PUT: the primary key values of the URL (`column`, `value`), which
    /// the payload row must carry too.
    pub key_values: Vec<(String, String)>,
    /// `Prefer: missing=default`: absent keys take the column default.
    pub apply_defaults: bool,
}

impl<'a> MutatePlan<'a> {
    /// `conflict`: the `resolution=` preference with `?on_conflict=`.
    pub fn new(
        mutation: Mutation,
        table: &'a Table,
        payload: Option<Payload>,
        params: &QueryParams,
        resolution: Option<Resolution>,
        apply_defaults: bool,
    ) -> Result<MutatePlan<'a>, ApiError> {
        let (keys, body) = match payload {
            Some(p) => (p.keys, Some(p.json)),
            None => (Vec::new(), None),
        };
        let columns = keys
            .iter()
            .map(|k| {
                table.column(k).ok_or_else(|| ApiError::ColumnNotFound {
                    relation: table.name.clone(),
                    column: k.clone(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let conflict = match mutation {
            Mutation::Insert => resolution.and_then(|resolution| {
                let columns = params
                    .on_conflict
                    .clone()
                    .unwrap_or_else(|| table.primary_key.clone());
                (!columns.is_empty()).then_some(Conflict {
                    resolution,
                    columns,
                })
            }),
            Mutation::SingleUpsert => Some(Conflict {
                resolution: Resolution::MergeDuplicates,
                columns: table.primary_key.clone(),
            }),
            Mutation::Update | Mutation::Delete => None,
        };
        let key_values = match mutation {
            Mutation::SingleUpsert => put_key_values(table, params)?,
            _ => Vec::new(),
        };
        Ok(MutatePlan {
            mutation,
            table,
            columns,
            body,
            conflict,
            key_values,
            apply_defaults,
        })
    }
}

/// PUT's filters must be exactly one `eq` per primary key column (PGRST105),
/// with no `and`/`or` and nothing else.
fn put_key_values(table: &Table, params: &QueryParams) -> Result<Vec<(String, String)>, ApiError> {
    let mut values = Vec::new();
    for filter in params.root_filters() {
        match &filter.expr.operation {
            Operation::Quant {
                op: QuantOperator::Equal,
                quantifier: None,
                value,
            } if !filter.expr.negated
                && filter.field.json_path.is_empty()
                && table.primary_key.contains(&filter.field.name)
                && !values.iter().any(|(c, _)| *c == filter.field.name) =>
            {
                values.push((filter.field.name.clone(), value.clone()));
            }
            _ => return Err(ApiError::InvalidFilters),
        }
    }
    let logic: Option<&LogicTree> = params.logic.first().map(|l| &l.tree);
    if table.primary_key.is_empty()
        || values.len() != table.primary_key.len()
        || logic.is_some()
        || params.filters.iter().any(|f| !f.path.is_empty())
    {
        return Err(ApiError::InvalidFilters);
    }
    Ok(values)
}
