//! Relationship resolution for embedded resources (PostgREST's `findRel`):
//! which relationship `origin?select=target!hint(...)` means, or why none or
//! several do (PGRST200, PGRST201).

use crate::error::{ApiError, RelCandidate, RelKind, RelSuggestion};
use crate::fuzzy;
use crate::schema_cache::relationships::ColumnPairs;
use crate::schema_cache::{Cardinality, QualifiedName, Relationship, SchemaCache};

/// The one relationship from `origin` (a relation of `origin_schema`) to
/// `target` (a relation, or for a computed relationship a function, of the
/// request `schema`), narrowed by `hint`.
pub fn find<'a>(
    cache: &'a SchemaCache,
    schema: &str,
    origin_schema: &str,
    origin: &str,
    target: &str,
    hint: Option<&str>,
) -> Result<&'a Relationship, ApiError> {
    let mut found: Vec<&Relationship> = cache
        .relationships_from(origin_schema, origin)
        .filter(|r| in_schema(r, schema))
        .filter(|r| matches(r, target, hint))
        .collect();
    found.sort_by_key(|r| order(r));
    match found[..] {
        [one] => Ok(one),
        [] => Err(ApiError::RelationshipNotFound {
            parent: origin.to_string(),
            child: target.to_string(),
            embed_hint: hint.map(str::to_string),
            schema: schema.to_string(),
            suggestion: suggestion(cache, schema, origin, target),
        }),
        _ => Err(ApiError::AmbiguousRelationship {
            parent: origin.to_string(),
            child: target.to_string(),
            candidates: found.iter().filter_map(|r| candidate(r)).collect(),
        }),
    }
}

/// Whether `rel` is found from a request to `schema`: as PostgREST keys them,
/// a computed relationship by its function's schema (its target may be in
/// another exposed one), a detected one by its target's.
fn in_schema(rel: &Relationship, schema: &str) -> bool {
    match rel {
        Relationship::Computed { function, .. } => function.schema == schema,
        Relationship::ForeignKey { foreign_table, .. } => foreign_table.schema == schema,
    }
}

/// PostgREST's matching rules. A self-referencing key gives two
/// relationships on one table; without a hint the table name picks the
/// one-to-many and the key's column the many-to-one, with a hint only the
/// one-to-many whose referencing column is the hint matches.
fn matches(rel: &Relationship, target: &str, hint: Option<&str>) -> bool {
    let (foreign_table, is_self, cardinality, foreign_table_is_view) = match rel {
        Relationship::Computed { function, .. } => return function.name == target,
        Relationship::ForeignKey {
            foreign_table,
            is_self,
            cardinality,
            foreign_table_is_view,
            ..
        } => (foreign_table, *is_self, cardinality, *foreign_table_is_view),
    };
    let names_table = foreign_table.name == target;
    let single = single_column(cardinality);
    let fk_col = |h: &str| single.is_some_and(|(c, _)| c == h);
    let ref_col = |h: &str| single.is_some_and(|(_, f)| f == h);
    let constraint = |h: &str| constraint_name(cardinality) == Some(h);
    let o2m = matches!(cardinality, Cardinality::OneToMany { .. });
    let m2o = matches!(cardinality, Cardinality::ManyToOne { .. });
    match (is_self, hint) {
        (true, None) => (names_table && o2m) || (fk_col(target) && m2o),
        (true, Some(h)) => names_table && o2m && ref_col(h),
        (false, None) => {
            names_table || (!foreign_table_is_view && (constraint(target) || fk_col(target)))
        }
        (false, Some(h)) => {
            let junction = matches!(cardinality, Cardinality::ManyToMany(j) if j.table.name == h);
            names_table && (constraint(h) || fk_col(h) || ref_col(h) || junction)
        }
    }
}

type OrderKey<'a> = (
    &'a QualifiedName,
    bool,
    u8,
    (&'a QualifiedName, &'a str, &'a str),
    (&'a ColumnPairs, &'a ColumnPairs),
    bool,
    bool,
);

/// PostgREST's order of relationships (PGRST201 lists them in it): by
/// target, self-reference, then one-to-many, many-to-one, one-to-one,
/// many-to-many, each by constraint (a junction by its table and two
/// constraints) and columns, then whether each end is a view.
fn order(rel: &Relationship) -> Option<OrderKey<'_>> {
    let Relationship::ForeignKey {
        foreign_table,
        is_self,
        cardinality,
        table_is_view,
        foreign_table_is_view,
        ..
    } = rel
    else {
        return None;
    };
    let (rank, names, columns) = match cardinality {
        Cardinality::OneToMany {
            constraint,
            columns,
        } => (
            0,
            (foreign_table, constraint.as_str(), ""),
            (columns, columns),
        ),
        Cardinality::ManyToOne {
            constraint,
            columns,
        } => (
            1,
            (foreign_table, constraint.as_str(), ""),
            (columns, columns),
        ),
        Cardinality::OneToOne {
            constraint,
            columns,
        } => (
            2,
            (foreign_table, constraint.as_str(), ""),
            (columns, columns),
        ),
        Cardinality::ManyToMany(j) => (
            3,
            (&j.table, j.constraint1.as_str(), j.constraint2.as_str()),
            (&j.source_columns, &j.target_columns),
        ),
    };
    Some((
        foreign_table,
        *is_self,
        rank,
        names,
        columns,
        *table_is_view,
        *foreign_table_is_view,
    ))
}

fn single_column(cardinality: &Cardinality) -> Option<(&str, &str)> {
    match cardinality {
        Cardinality::ManyToOne { columns, .. }
        | Cardinality::OneToMany { columns, .. }
        | Cardinality::OneToOne { columns, .. } => match &columns[..] {
            [(a, b)] => Some((a.as_str(), b.as_str())),
            _ => None,
        },
        Cardinality::ManyToMany(_) => None,
    }
}

fn constraint_name(cardinality: &Cardinality) -> Option<&str> {
    match cardinality {
        Cardinality::ManyToOne { constraint, .. }
        | Cardinality::OneToMany { constraint, .. }
        | Cardinality::OneToOne { constraint, .. } => Some(constraint),
        Cardinality::ManyToMany(_) => None,
    }
}

/// A relationship as PGRST201 lists it (computed ones are never ambiguous:
/// function names are unique per schema and argument).
fn candidate(rel: &Relationship) -> Option<RelCandidate> {
    let Relationship::ForeignKey {
        table,
        foreign_table,
        cardinality,
        ..
    } = rel
    else {
        return None;
    };
    let kind = match cardinality {
        Cardinality::ManyToOne {
            constraint,
            columns,
        } => RelKind::ManyToOne {
            constraint: constraint.clone(),
            columns: columns.clone(),
        },
        Cardinality::OneToMany {
            constraint,
            columns,
        } => RelKind::OneToMany {
            constraint: constraint.clone(),
            columns: columns.clone(),
        },
        Cardinality::OneToOne {
            constraint,
            columns,
        } => RelKind::OneToOne {
            constraint: constraint.clone(),
            columns: columns.clone(),
        },
        Cardinality::ManyToMany(j) => RelKind::ManyToMany {
            junction: j.table.name.clone(),
            constraint1: j.constraint1.clone(),
            source_columns: j.source_columns.iter().map(|(_, jc)| jc.clone()).collect(),
            constraint2: j.constraint2.clone(),
            target_columns: j.target_columns.iter().map(|(_, jc)| jc.clone()).collect(),
        },
    };
    Some(RelCandidate {
        table: table.name.clone(),
        foreign_table: foreign_table.name.clone(),
        kind,
    })
}

/// PGRST200's "Perhaps you meant": when `origin` has no relationships in
/// `schema`, the closest origin that has; otherwise the closest relation it
/// relates to, unless `target` is one of them (then the hint is at fault).
fn suggestion(
    cache: &SchemaCache,
    schema: &str,
    origin: &str,
    target: &str,
) -> Option<RelSuggestion> {
    let in_schema = |r: &&Relationship| r.table().schema == schema;
    let has_origin = cache
        .relationships
        .iter()
        .filter(in_schema)
        .any(|r| r.table().name == origin);
    if has_origin {
        let names: Vec<&str> = cache
            .relationships
            .iter()
            .filter(in_schema)
            .filter(|r| r.table().name == origin)
            .map(|r| r.foreign_table().name.as_str())
            .collect();
        // A child matching exactly scores 1: then the hint is what does
        // not match, and nothing is suggested.
        fuzzy::matches(names, target, fuzzy::DEFAULT)
            .into_iter()
            .find(|(score, _)| *score < 1.0)
            .map(|(_, name)| RelSuggestion::Child(name.to_string()))
    } else {
        let names = cache
            .relationships
            .iter()
            .filter(in_schema)
            .map(|r| r.table().name.as_str());
        fuzzy::best(names, origin, fuzzy::DEFAULT)
            .map(|name| RelSuggestion::Parent(name.to_string()))
    }
}
