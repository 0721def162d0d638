//! The read plan of `GET`/`HEAD` on a table or view: the query string
//! resolved against the schema cache into a tree, one node per level (the
//! root and each embedded resource), each with its own select list, filters,
//! order and page.

use crate::api_request::ast::{
    AggregateFunction, EmbedPath, Field, Filter, IsValue, JoinType, LogicOperator, LogicTree,
    Operation, OrderTerm, SelectItem,
};
use crate::api_request::query_params::QueryParams;
use crate::api_request::range::Page;
use crate::error::ApiError;
use crate::plan::embed;
use crate::schema_cache::{Relationship, SchemaCache, Table};

/// A selected column, computed field, `*` or aggregate of one level.
#[derive(Debug)]
pub struct SelectField {
    pub field: Field,
    pub alias: Option<String>,
    pub cast: Option<String>,
    /// `col.sum()`, `count()` (then `field` is `*`).
    pub aggregate: Option<AggregateFunction>,
    /// The cast after the aggregate (`col.sum()::text`).
    pub aggregate_cast: Option<String>,
}

/// A condition of one level: a filter, a test on an embedded resource
/// (`embed=is.null`, `embed=not.is.null`), or an `and`/`or` of conditions.
#[derive(Debug)]
pub enum Condition {
    Filter(Filter),
    /// `agg_alias` names the embed's lateral subquery.
    NullEmbed {
        not_null: bool,
        agg_alias: String,
    },
    Expr {
        negated: bool,
        op: LogicOperator,
        children: Vec<Condition>,
    },
}

#[derive(Debug)]
pub struct ReadPlan<'a> {
    pub table: &'a Table,
    pub select: Vec<SelectField>,
    /// Filters and `and`/`or` trees, ANDed together.
    pub conditions: Vec<Condition>,
    /// `relation` of a term is the `agg_alias` of a to-one embed.
    pub order: Vec<OrderTerm>,
    pub limit: Option<i64>,
    pub offset: i64,
    pub embeds: Vec<Embed<'a>>,
    /// A to-one spread's aggregates (its own and those hoisted from to-one
    /// spreads inside it) are computed by the nearest ancestor that is not
    /// such a spread, grouped by that level's other columns (PostgREST's
    /// hoisting): this level selects their plain values.
    pub hoist_aggregates: bool,
    /// Embeds that a filter, order or limit named by their relation although
    /// they have an alias, as (relation, alias), for the deprecation
    /// `Warning` (`url-use-legacy-target-names`). Set on the root only.
    pub legacy_target_names: Vec<(String, String)>,
}

/// An embedded resource: a child level joined to its parent.
#[derive(Debug)]
pub struct Embed<'a> {
    pub rel: &'a Relationship,
    /// The relation (or function) name the request embedded.
    pub relation: String,
    /// How the request names it: its alias, else the relation name (the key
    /// of the embedded value, and the first word of `name.col=…` paths).
    pub name: String,
    /// The name of its lateral subquery in SQL.
    pub agg_alias: String,
    /// The alias of its table inside that subquery.
    pub table_alias: String,
    pub inner: bool,
    pub spread: bool,
    pub plan: ReadPlan<'a>,
}

impl Embed<'_> {
    /// Used only to filter its parent (`actors()`): nothing is selected from
    /// it or from any embed below it.
    pub fn is_empty(&self) -> bool {
        self.plan.select.is_empty() && self.plan.embeds.iter().all(Embed::is_empty)
    }
}

/// The rules a plan needs from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `db-max-rows`: also caps every embedded level.
    pub max_rows: Option<i64>,
    /// `db-aggregates-enabled`.
    pub aggregates: bool,
    /// `url-use-legacy-target-names`.
    pub legacy_target_names: bool,
}

impl Limits {
    pub fn of(config: &crate::config::Config) -> Limits {
        Limits {
            max_rows: config.db_max_rows,
            aggregates: config.db_aggregates_enabled,
            legacy_target_names: config.url_use_legacy_target_names,
        }
    }
}

impl<'a> ReadPlan<'a> {
    /// `page`: the top-level rows asked for (`limit`/`offset`, `Range`,
    /// `db-max-rows`), already combined. `schema`: the request's schema,
    /// where embedded relations are looked up.
    pub fn new(
        cache: &'a SchemaCache,
        schema: &str,
        table: &'a Table,
        params: QueryParams,
        page: Page,
        limits: Limits,
    ) -> Result<ReadPlan<'a>, ApiError> {
        // PostgREST places filters, orders, ranges and logic trees on the
        // select tree before resolving relationships, so a path naming no
        // embed (PGRST108) is reported first.
        let paths = params
            .filters
            .iter()
            .map(|f| &f.path)
            .chain(params.order.iter().map(|o| &o.path))
            .chain(params.ranges.iter().map(|r| &r.path))
            .chain(params.logic.iter().map(|l| &l.path));
        let mut legacy_target_names = Vec::new();
        for path in paths {
            check_path(
                &params.select,
                path,
                limits.legacy_target_names,
                &mut legacy_target_names,
            )?;
        }
        let builder = Builder {
            cache,
            schema,
            limits,
        };
        let mut root = builder.level(table, params.select, 0)?;
        root.limit = page.limit;
        root.offset = page.offset;
        for f in params.filters {
            let node = root.at(&f.path);
            let condition = node.condition(LogicTree::Stmnt(f.filter))?;
            node.conditions.push(condition);
        }
        for l in params.logic {
            let node = root.at(&l.path);
            let condition = node.condition(l.tree)?;
            node.conditions.push(condition);
        }
        for o in params.order {
            let node = root.at(&o.path);
            let terms = o
                .terms
                .into_iter()
                .map(|t| node.related_order(t))
                .collect::<Result<Vec<_>, _>>()?;
            node.order.extend(terms);
        }
        for r in params.ranges.into_iter().filter(|r| !r.path.is_empty()) {
            let node = root.at(&r.path);
            if let Some(limit) = r.limit {
                node.limit = Some(limit);
            }
            if let Some(offset) = r.offset {
                node.offset = offset;
            }
        }
        root.cap_embeds(limits.max_rows);
        root.legacy_target_names = legacy_target_names;
        Ok(root)
    }

    /// The node at `path` (checked by `check_path`).
    fn at(&mut self, path: &[String]) -> &mut ReadPlan<'a> {
        match path.split_first() {
            None => self,
            Some((first, rest)) => {
                let embed = self
                    .embeds
                    .iter_mut()
                    .find(|e| &e.name == first || &e.relation == first)
                    .expect("paths are checked against the select tree");
                embed.plan.at(rest)
            }
        }
    }

    fn embed_named(&self, name: &str) -> Option<&Embed<'a>> {
        self.embeds.iter().find(|e| e.name == name)
    }

    /// A filter tree of this level; `embed=is.null` / `embed=not.is.null`
    /// on an embed's name tests whether the embed is null.
    fn condition(&self, tree: LogicTree) -> Result<Condition, ApiError> {
        Ok(match tree {
            LogicTree::Expr {
                negated,
                op,
                children,
            } => Condition::Expr {
                negated,
                op,
                children: children
                    .into_iter()
                    .map(|c| self.condition(c))
                    .collect::<Result<_, _>>()?,
            },
            LogicTree::Stmnt(filter) => {
                let embed = filter
                    .field
                    .json_path
                    .is_empty()
                    .then(|| self.embed_named(&filter.field.name))
                    .flatten();
                match (embed, &filter.expr.operation) {
                    (Some(e), Operation::Is(IsValue::Null)) => Condition::NullEmbed {
                        not_null: filter.expr.negated,
                        agg_alias: e.agg_alias.clone(),
                    },
                    // As PostgREST 12+: any other operator is a filter on a
                    // column of that name (PostgreSQL reports it missing).
                    _ => Condition::Filter(filter),
                }
            }
        })
    }

    /// `order=relation(col)`: the relation must be a to-one embed of this
    /// level; the term then names its lateral subquery.
    fn related_order(&self, mut term: OrderTerm) -> Result<OrderTerm, ApiError> {
        let Some(relation) = term.relation.take() else {
            return Ok(term);
        };
        let Some(embed) = self.embed_named(&relation) else {
            return Err(ApiError::NotEmbedded {
                resource: relation,
                aliased: None,
            });
        };
        if !embed.rel.is_to_one() {
            return Err(ApiError::RelatedOrderNotToOne {
                origin: self.table.name.clone(),
                target: embed.name.clone(),
            });
        }
        term.relation = Some(embed.agg_alias.clone());
        Ok(term)
    }

    /// `db-max-rows` bounds every embedded level too.
    fn cap_embeds(&mut self, max_rows: Option<i64>) {
        for e in &mut self.embeds {
            if let Some(max) = max_rows {
                e.plan.limit = Some(e.plan.limit.map_or(max, |l| l.min(max)));
            }
            e.plan.cap_embeds(max_rows);
        }
    }
}

/// PGRST108 unless every step of `path` names an embed one level below the
/// previous: by its alias (or its relation when it has none), or, with
/// `legacy` (`url-use-legacy-target-names`), by its relation although it has
/// an alias (`select=cast:actors(id)&actors.id=eq.1`), which is recorded in
/// `used` as (relation, alias) for the deprecation warning.
fn check_path(
    items: &[SelectItem],
    path: &EmbedPath,
    legacy: bool,
    used: &mut Vec<(String, String)>,
) -> Result<(), ApiError> {
    let mut level = items;
    for step in path {
        // (relation, alias, children) of the first embed the step names,
        // by its alias or by its relation.
        let named = level.iter().find_map(|item| match item {
            SelectItem::Relation {
                name,
                alias,
                children,
                ..
            } if alias.as_ref() == Some(step) || name == step => {
                Some((name, alias.as_ref(), children))
            }
            SelectItem::Spread { name, children, .. } if name == step => {
                Some((name, None, children))
            }
            _ => None,
        });
        let by_relation = |&(name, alias, _): &(&String, Option<&String>, _)| {
            name == step && alias.is_some_and(|a| a != step)
        };
        match named {
            Some(found) if legacy || !by_relation(&found) => {
                if by_relation(&found) {
                    let pair = (found.0.clone(), found.1.cloned().unwrap_or_default());
                    if !used.contains(&pair) {
                        used.push(pair);
                    }
                }
                level = found.2;
            }
            _ => {
                // The embed a relation name would have matched (legacy off).
                let aliased = named
                    .filter(by_relation)
                    .map(|(name, alias, _)| (name.clone(), alias.cloned().unwrap_or_default()));
                return Err(ApiError::NotEmbedded {
                    resource: step.clone(),
                    aliased,
                });
            }
        }
    }
    Ok(())
}

struct Builder<'a, 's> {
    cache: &'a SchemaCache,
    schema: &'s str,
    limits: Limits,
}

impl<'a> Builder<'a, '_> {
    /// The level of `table` at `depth` (0: root) with its select items, its
    /// embeds resolved.
    fn level(
        &self,
        table: &'a Table,
        items: Vec<SelectItem>,
        depth: usize,
    ) -> Result<ReadPlan<'a>, ApiError> {
        let mut select = Vec::new();
        let mut embeds = Vec::new();
        for item in items {
            match item {
                SelectItem::Field {
                    aggregate: Some(_), ..
                } if !self.limits.aggregates => return Err(ApiError::AggregatesNotAllowed),
                SelectItem::Field {
                    field,
                    alias,
                    cast,
                    aggregate,
                    aggregate_cast,
                } => select.push(SelectField {
                    field,
                    alias,
                    cast,
                    aggregate,
                    aggregate_cast,
                }),
                SelectItem::Relation {
                    name,
                    alias,
                    hint,
                    join,
                    children,
                } => {
                    embeds.push(self.embed(table, name, alias, hint, join, children, false, depth)?)
                }
                SelectItem::Spread {
                    name,
                    hint,
                    join,
                    children,
                } => embeds.push(self.embed(table, name, None, hint, join, children, true, depth)?),
            }
        }
        if select.iter().any(|s| s.aggregate.is_some()) {
            select = expand_stars(table, select);
        }
        Ok(ReadPlan {
            table,
            select,
            conditions: Vec::new(),
            order: Vec::new(),
            limit: None,
            offset: 0,
            embeds,
            hoist_aggregates: false,
            legacy_target_names: Vec::new(),
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn embed(
        &self,
        parent: &'a Table,
        relation: String,
        alias: Option<String>,
        hint: Option<String>,
        join: Option<JoinType>,
        children: Vec<SelectItem>,
        spread: bool,
        depth: usize,
    ) -> Result<Embed<'a>, ApiError> {
        let rel = embed::find(
            self.cache,
            self.schema,
            &parent.schema,
            &parent.name,
            &relation,
            hint.as_deref(),
        )?;
        let target = rel.foreign_table();
        let table = self
            .cache
            .table(&target.schema, &target.name)
            .ok_or_else(|| ApiError::Internal {
                message: format!("relationship to unknown {}.{}", target.schema, target.name),
            })?;
        let depth = depth + 1;
        let name = alias.unwrap_or_else(|| relation.clone());
        let mut plan = self.level(table, children, depth)?;
        // Aggregates of a to-one spread, or hoisted from to-one spreads
        // inside it, go up to the nearest level that is not such a spread.
        let aggregates = plan.select.iter().any(|s| s.aggregate.is_some())
            || plan.embeds.iter().any(|e| e.plan.hoist_aggregates);
        if spread && aggregates {
            if !rel.is_to_one() {
                return Err(ApiError::NotImplemented {
                    details:
                        "Aggregates are not implemented for one-to-many or many-to-many spreads."
                            .into(),
                });
            }
            plan.hoist_aggregates = true;
        }
        Ok(Embed {
            rel,
            relation,
            agg_alias: format!("{}_{}_{depth}", parent.name, name),
            table_alias: format!("{}_{depth}", table.name),
            name,
            inner: join == Some(JoinType::Inner),
            spread,
            plan,
        })
    }
}

/// With an aggregate in a level, its `*` becomes the list of columns, so
/// the implicit GROUP BY can name them (as PostgREST does).
fn expand_stars(table: &Table, select: Vec<SelectField>) -> Vec<SelectField> {
    select
        .into_iter()
        .flat_map(|s| {
            if s.field.name == "*" && s.field.json_path.is_empty() && s.aggregate.is_none() {
                table
                    .columns
                    .iter()
                    .map(|c| SelectField {
                        field: Field::plain(c.name.clone()),
                        alias: None,
                        cast: None,
                        aggregate: None,
                        aggregate_cast: None,
                    })
                    .collect()
            } else {
                vec![s]
            }
        })
        .collect()
}
