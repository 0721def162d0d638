//! The read plan of `GET`/`HEAD` on a table or view: the root level of the
//! query string resolved against the schema cache.

use crate::api_request::ast::{
    EmbedPath, Field, LogicTree, OrderTerm, PathFilter, PathLogic, PathOrder, PathRange, SelectItem,
};
use crate::api_request::query_params::QueryParams;
use crate::api_request::range::Page;
use crate::error::ApiError;
use crate::schema_cache::Table;

/// A selected column (or `*`) of the root table.
#[derive(Debug)]
pub struct SelectField {
    pub field: Field,
    pub alias: Option<String>,
    pub cast: Option<String>,
}

#[derive(Debug)]
pub struct ReadPlan<'a> {
    pub table: &'a Table,
    pub select: Vec<SelectField>,
    /// Root filters and `and`/`or` trees, ANDed together.
    pub conditions: Vec<LogicTree>,
    pub order: Vec<OrderTerm>,
    pub limit: Option<i64>,
    pub offset: i64,
}

impl<'a> ReadPlan<'a> {
    /// `page`: the top-level rows asked for (`limit`/`offset`, `Range`,
    /// `db-max-rows`), already combined.
    pub fn new(
        table: &'a Table,
        params: QueryParams,
        page: Page,
    ) -> Result<ReadPlan<'a>, ApiError> {
        let select = params
            .select
            .into_iter()
            .map(|item| match item {
                SelectItem::Field {
                    aggregate: Some(_), ..
                } => Err(not_yet("aggregate functions")),
                SelectItem::Field {
                    field, alias, cast, ..
                } => Ok(SelectField { field, alias, cast }),
                SelectItem::Relation { .. } | SelectItem::Spread { .. } => {
                    Err(not_yet("resource embedding"))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let embedded = |path: &EmbedPath| !path.is_empty();
        if params
            .filters
            .iter()
            .any(|f: &PathFilter| embedded(&f.path))
            || params.logic.iter().any(|l: &PathLogic| embedded(&l.path))
            || params.order.iter().any(|o: &PathOrder| embedded(&o.path))
            || params.ranges.iter().any(|r: &PathRange| embedded(&r.path))
        {
            return Err(not_yet("filters on embedded resources"));
        }
        let mut conditions: Vec<LogicTree> = params
            .filters
            .into_iter()
            .map(|f| LogicTree::Stmnt(f.filter))
            .collect();
        conditions.extend(params.logic.into_iter().map(|l| l.tree));
        let order: Vec<OrderTerm> = params.order.into_iter().flat_map(|o| o.terms).collect();
        if order.iter().any(|t| t.relation.is_some()) {
            return Err(not_yet("ordering by embedded resources"));
        }
        Ok(ReadPlan {
            table,
            select,
            conditions,
            order,
            limit: page.limit,
            offset: page.offset,
        })
    }
}

fn not_yet(feature: &str) -> ApiError {
    ApiError::NotImplemented {
        details: format!("{feature} is not supported by pgrest yet"),
    }
}
