//! Relationships between the tables and views of the cache, derived from the
//! foreign keys, the views' column origins and the functions of the exposed
//! schemas, the way PostgREST derives them:
//!
//! - a foreign key gives a many-to-one from its table and a one-to-many back
//!   (one-to-one both ways when its columns are a primary key or unique);
//! - a view whose columns come from a key's columns carries the key too, so
//!   views relate to tables and to other views (chains of views included);
//! - a table or view with two many-to-one keys whose columns all belong to
//!   its primary key is a junction: a many-to-many between their targets;
//! - a function `f(t) RETURNS SETOF u` (or `u`) is a computed relationship
//!   from `t` to `u` named `f`, replacing detected ones to the table `f` of
//!   its schema.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// `schema.name` of a table, view or function.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QualifiedName {
    pub schema: String,
    pub name: String,
}

impl QualifiedName {
    pub fn new(schema: &str, name: &str) -> QualifiedName {
        QualifiedName {
            schema: schema.to_string(),
            name: name.to_string(),
        }
    }
}

/// Column pairs: (column of `table`, column of `foreign_table`).
pub type ColumnPairs = Vec<(String, String)>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cardinality {
    ManyToOne {
        constraint: String,
        columns: ColumnPairs,
    },
    OneToMany {
        constraint: String,
        columns: ColumnPairs,
    },
    OneToOne {
        constraint: String,
        columns: ColumnPairs,
    },
    ManyToMany(Junction),
}

/// The junction of a many-to-many: `source_columns` pair columns of the
/// origin table with junction columns (through `constraint1`), and
/// `target_columns` columns of the foreign table with junction columns
/// (through `constraint2`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Junction {
    pub table: QualifiedName,
    pub constraint1: String,
    pub source_columns: ColumnPairs,
    pub constraint2: String,
    pub target_columns: ColumnPairs,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Relationship {
    ForeignKey {
        table: QualifiedName,
        foreign_table: QualifiedName,
        is_self: bool,
        cardinality: Cardinality,
        table_is_view: bool,
        foreign_table_is_view: bool,
    },
    /// `function(table) RETURNS [SETOF] foreign_table`.
    Computed {
        function: QualifiedName,
        table: QualifiedName,
        foreign_table: QualifiedName,
        to_one: bool,
    },
}

impl Relationship {
    pub fn table(&self) -> &QualifiedName {
        match self {
            Relationship::ForeignKey { table, .. } | Relationship::Computed { table, .. } => table,
        }
    }

    pub fn foreign_table(&self) -> &QualifiedName {
        match self {
            Relationship::ForeignKey { foreign_table, .. }
            | Relationship::Computed { foreign_table, .. } => foreign_table,
        }
    }

    /// Embedded as an object (or `null`) rather than an array.
    pub fn is_to_one(&self) -> bool {
        match self {
            Relationship::ForeignKey { cardinality, .. } => matches!(
                cardinality,
                Cardinality::ManyToOne { .. } | Cardinality::OneToOne { .. }
            ),
            Relationship::Computed { to_one, .. } => *to_one,
        }
    }
}

/// A foreign key as introspected: `columns` pair the referencing table's
/// columns with the referenced ones.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ForeignKey {
    pub constraint: String,
    pub schema: String,
    pub table: String,
    pub foreign_schema: String,
    pub foreign_table: String,
    pub columns: ColumnPairs,
    /// The referencing columns are the primary key or unique.
    pub one_to_one: bool,
}

/// Where a view column comes from (one level: a table or another view).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ViewColumn {
    pub view_schema: String,
    pub view: String,
    pub column: String,
    pub base_schema: String,
    pub base_table: String,
    pub base_column: String,
    /// The size of `base_table`'s primary key when `base_column` belongs to
    /// it (and `base_table` is a table), else 0.
    pub base_key_size: usize,
}

/// A function of one row-type argument returning a table type.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ComputedRel {
    pub schema: String,
    pub name: String,
    pub arg_schema: String,
    pub arg_table: String,
    pub ret_schema: String,
    pub ret_table: String,
    pub to_one: bool,
}

/// What the cache knows about one relation while deriving relationships.
pub struct RelationInfo<'a> {
    pub name: QualifiedName,
    pub is_view: bool,
    pub primary_key: &'a [String],
}

/// Derives every relationship between the `relations` (the cache's tables
/// and views), in a deterministic order.
pub fn derive(
    relations: &[RelationInfo],
    keys: &[ForeignKey],
    view_columns: &[ViewColumn],
    computed: &[ComputedRel],
) -> Vec<Relationship> {
    let known: BTreeMap<&QualifiedName, &RelationInfo> =
        relations.iter().map(|r| (&r.name, r)).collect();
    let origins = base_origins(view_columns);

    // Every key, on the table itself and on each view that exposes all of its
    // columns, at both ends.
    let mut m2o: Vec<Relationship> = Vec::new();
    for key in keys {
        let table = QualifiedName::new(&key.schema, &key.table);
        let foreign = QualifiedName::new(&key.foreign_schema, &key.foreign_table);
        let from_cols: Vec<String> = key.columns.iter().map(|(c, _)| c.clone()).collect();
        let to_cols: Vec<String> = key.columns.iter().map(|(_, c)| c.clone()).collect();
        let sides = |base: &QualifiedName, cols: &[String]| -> Vec<(QualifiedName, Vec<String>)> {
            let mut out = vec![(base.clone(), cols.to_vec())];
            out.extend(views_exposing(&origins, base, cols));
            out
        };
        for (from, from_names) in sides(&table, &from_cols) {
            for (to, to_names) in sides(&foreign, &to_cols) {
                let (Some(f), Some(t)) = (known.get(&from), known.get(&to)) else {
                    continue;
                };
                let columns: ColumnPairs = from_names
                    .iter()
                    .cloned()
                    .zip(to_names.iter().cloned())
                    .collect();
                let constraint = key.constraint.clone();
                let cardinality = if key.one_to_one {
                    Cardinality::OneToOne {
                        constraint,
                        columns,
                    }
                } else {
                    Cardinality::ManyToOne {
                        constraint,
                        columns,
                    }
                };
                m2o.push(Relationship::ForeignKey {
                    is_self: from == to,
                    table: from.clone(),
                    foreign_table: to,
                    cardinality,
                    table_is_view: f.is_view,
                    foreign_table_is_view: t.is_view,
                });
            }
        }
    }

    let mut rels = Vec::new();
    for rel in &m2o {
        rels.push(rel.clone());
        rels.push(inverse(rel));
    }
    rels.extend(many_to_many(&known, &m2o));
    with_computed(rels, computed, &known)
}

/// For each view column, the base table column it comes from, following
/// views over views (at most 16 levels, against cycles).
fn base_origins(
    view_columns: &[ViewColumn],
) -> BTreeMap<(QualifiedName, String), Vec<(QualifiedName, String)>> {
    let direct: BTreeMap<(QualifiedName, String), (QualifiedName, String)> = view_columns
        .iter()
        .map(|v| {
            (
                (
                    QualifiedName::new(&v.view_schema, &v.view),
                    v.column.clone(),
                ),
                (
                    QualifiedName::new(&v.base_schema, &v.base_table),
                    v.base_column.clone(),
                ),
            )
        })
        .collect();
    // Keyed by the base column: the view columns that come from it, at any
    // depth (a chain gives one entry per view).
    let mut by_base: BTreeMap<(QualifiedName, String), Vec<(QualifiedName, String)>> =
        BTreeMap::new();
    for (view_col, first) in &direct {
        let mut origin = first.clone();
        by_base
            .entry(origin.clone())
            .or_default()
            .push(view_col.clone());
        for _ in 0..16 {
            match direct.get(&origin) {
                Some(next) => {
                    origin = next.clone();
                    by_base
                        .entry(origin.clone())
                        .or_default()
                        .push(view_col.clone());
                }
                None => break,
            }
        }
    }
    by_base
}

/// The views that expose every column of `cols` of `base`, with their names
/// for those columns in the same order (one entry per combination when a
/// view exposes a column twice).
fn views_exposing(
    origins: &BTreeMap<(QualifiedName, String), Vec<(QualifiedName, String)>>,
    base: &QualifiedName,
    cols: &[String],
) -> Vec<(QualifiedName, Vec<String>)> {
    let per_col: Vec<&Vec<(QualifiedName, String)>> = match cols
        .iter()
        .map(|c| origins.get(&(base.clone(), c.clone())))
        .collect::<Option<Vec<_>>>()
    {
        Some(v) => v,
        None => return Vec::new(),
    };
    let views: BTreeSet<&QualifiedName> = per_col[0].iter().map(|(v, _)| v).collect();
    let mut out = Vec::new();
    for view in views {
        let mut combos: Vec<Vec<String>> = vec![Vec::new()];
        for col in &per_col {
            let names: Vec<&String> = col
                .iter()
                .filter(|(v, _)| v == view)
                .map(|(_, n)| n)
                .collect();
            combos = combos
                .into_iter()
                .flat_map(|prefix| {
                    names.iter().map(move |n| {
                        let mut p = prefix.clone();
                        p.push((*n).clone());
                        p
                    })
                })
                .collect();
        }
        out.extend(combos.into_iter().map(|names| (view.clone(), names)));
    }
    out
}

/// The same key seen from the referenced side.
fn inverse(rel: &Relationship) -> Relationship {
    let Relationship::ForeignKey {
        table,
        foreign_table,
        is_self,
        cardinality,
        table_is_view,
        foreign_table_is_view,
    } = rel
    else {
        return rel.clone();
    };
    let flip = |cols: &ColumnPairs| -> ColumnPairs {
        cols.iter().map(|(a, b)| (b.clone(), a.clone())).collect()
    };
    let cardinality = match cardinality {
        Cardinality::ManyToOne {
            constraint,
            columns,
        } => Cardinality::OneToMany {
            constraint: constraint.clone(),
            columns: flip(columns),
        },
        Cardinality::OneToOne {
            constraint,
            columns,
        } => Cardinality::OneToOne {
            constraint: constraint.clone(),
            columns: flip(columns),
        },
        other => other.clone(),
    };
    Relationship::ForeignKey {
        table: foreign_table.clone(),
        foreign_table: table.clone(),
        is_self: *is_self,
        cardinality,
        table_is_view: *foreign_table_is_view,
        foreign_table_is_view: *table_is_view,
    }
}

/// Junctions: a table or view with two many-to-one keys (one-to-one ones do
/// not count, as in PostgREST) whose columns are all part of its primary key
/// (a view's comes from its base's); every ordered pair of such keys gives a
/// many-to-many between their targets.
fn many_to_many(
    known: &BTreeMap<&QualifiedName, &RelationInfo>,
    m2o: &[Relationship],
) -> Vec<Relationship> {
    let mut by_junction: BTreeMap<
        &QualifiedName,
        Vec<(&QualifiedName, &String, &ColumnPairs, bool)>,
    > = BTreeMap::new();
    for rel in m2o {
        let Relationship::ForeignKey {
            table,
            foreign_table,
            cardinality:
                Cardinality::ManyToOne {
                    constraint,
                    columns,
                },
            foreign_table_is_view,
            ..
        } = rel
        else {
            continue;
        };
        let Some(info) = known.get(table) else {
            continue;
        };
        if columns.iter().all(|(c, _)| info.primary_key.contains(c)) {
            by_junction.entry(table).or_default().push((
                foreign_table,
                constraint,
                columns,
                *foreign_table_is_view,
            ));
        }
    }
    let mut out = Vec::new();
    for (junction, keys) in by_junction {
        for (i, (src, cons1, cols1, src_view)) in keys.iter().enumerate() {
            for (j, (dst, cons2, cols2, dst_view)) in keys.iter().enumerate() {
                if i == j || cons1 == cons2 {
                    continue;
                }
                let pairs = |cols: &ColumnPairs| -> ColumnPairs {
                    cols.iter().map(|(jc, c)| (c.clone(), jc.clone())).collect()
                };
                out.push(Relationship::ForeignKey {
                    table: (*src).clone(),
                    foreign_table: (*dst).clone(),
                    is_self: src == dst,
                    cardinality: Cardinality::ManyToMany(Junction {
                        table: junction.clone(),
                        constraint1: (*cons1).clone(),
                        source_columns: pairs(cols1),
                        constraint2: (*cons2).clone(),
                        target_columns: pairs(cols2),
                    }),
                    table_is_view: *src_view,
                    foreign_table_is_view: *dst_view,
                });
            }
        }
    }
    out
}

/// Adds the computed relationships; each hides the detected relationships
/// from the same table to the relation of the function's schema and name.
fn with_computed(
    rels: Vec<Relationship>,
    computed: &[ComputedRel],
    known: &BTreeMap<&QualifiedName, &RelationInfo>,
) -> Vec<Relationship> {
    let computed: Vec<Relationship> = computed
        .iter()
        .map(|c| Relationship::Computed {
            function: QualifiedName::new(&c.schema, &c.name),
            table: QualifiedName::new(&c.arg_schema, &c.arg_table),
            foreign_table: QualifiedName::new(&c.ret_schema, &c.ret_table),
            to_one: c.to_one,
        })
        .filter(|r| known.contains_key(r.table()) && known.contains_key(r.foreign_table()))
        .collect();
    let hidden = |r: &Relationship| {
        computed.iter().any(|c| match c {
            Relationship::Computed {
                function, table, ..
            } => table == r.table() && function == r.foreign_table(),
            Relationship::ForeignKey { .. } => false,
        })
    };
    let mut out: Vec<Relationship> = rels.into_iter().filter(|r| !hidden(r)).collect();
    out.extend(computed);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fk(
        constraint: &str,
        table: &str,
        foreign: &str,
        cols: &[(&str, &str)],
        o2o: bool,
    ) -> ForeignKey {
        ForeignKey {
            constraint: constraint.into(),
            schema: "api".into(),
            table: table.into(),
            foreign_schema: "api".into(),
            foreign_table: foreign.into(),
            columns: cols
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            one_to_one: o2o,
        }
    }

    fn rel<'a>(name: &str, is_view: bool, pk: &'a [String]) -> RelationInfo<'a> {
        RelationInfo {
            name: QualifiedName::new("api", name),
            is_view,
            primary_key: pk,
        }
    }

    #[test]
    fn keys_views_junctions_and_computed() {
        let id = vec!["id".to_string()];
        let junction_pk = vec!["film_id".to_string(), "actor_id".to_string()];
        let none: Vec<String> = vec![];
        let relations = [
            rel("films", false, &id),
            rel("directors", false, &id),
            rel("actors", false, &id),
            rel("roles", false, &junction_pk),
            rel("films_view", true, &none),
        ];
        let keys = [
            fk(
                "films_director_fkey",
                "films",
                "directors",
                &[("director_id", "id")],
                false,
            ),
            fk(
                "roles_film_fkey",
                "roles",
                "films",
                &[("film_id", "id")],
                false,
            ),
            fk(
                "roles_actor_fkey",
                "roles",
                "actors",
                &[("actor_id", "id")],
                false,
            ),
        ];
        let view = |col: &str, base: &str| ViewColumn {
            view_schema: "api".into(),
            view: "films_view".into(),
            column: col.into(),
            base_schema: "api".into(),
            base_table: "films".into(),
            base_column: base.into(),
            base_key_size: 0,
        };
        let views = [view("ident", "id"), view("director", "director_id")];
        let computed = [ComputedRel {
            schema: "api".into(),
            name: "directors".into(),
            arg_schema: "api".into(),
            arg_table: "actors".into(),
            ret_schema: "api".into(),
            ret_table: "directors".into(),
            to_one: false,
        }];
        let rels = derive(&relations, &keys, &views, &computed);
        let between = |a: &str, b: &str| -> Vec<&Relationship> {
            rels.iter()
                .filter(|r| r.table().name == a && r.foreign_table().name == b)
                .collect()
        };
        assert!(matches!(
            between("films", "directors")[..],
            [Relationship::ForeignKey {
                cardinality: Cardinality::ManyToOne { .. },
                ..
            }]
        ));
        assert!(matches!(
            between("directors", "films")[..],
            [Relationship::ForeignKey {
                cardinality: Cardinality::OneToMany { .. },
                ..
            }]
        ));
        // The view carries the key under its own column names.
        match between("films_view", "directors")[..] {
            [
                Relationship::ForeignKey {
                    cardinality: Cardinality::ManyToOne { columns, .. },
                    table_is_view: true,
                    ..
                },
            ] => assert_eq!(columns, &[("director".to_string(), "id".to_string())]),
            ref other => panic!("{other:?}"),
        }
        assert_eq!(between("roles", "films_view").len(), 1);
        // roles is a junction both ways.
        match between("films", "actors")[..] {
            [
                Relationship::ForeignKey {
                    cardinality: Cardinality::ManyToMany(j),
                    ..
                },
            ] => {
                assert_eq!(j.table.name, "roles");
                assert_eq!(
                    j.source_columns,
                    [("id".to_string(), "film_id".to_string())]
                );
            }
            ref other => panic!("{other:?}"),
        }
        // The junction's keys reach the views over their targets too.
        assert!(between("actors", "films_view").iter().any(
            |r| matches!(r, Relationship::ForeignKey {
                    cardinality: Cardinality::ManyToMany(j), ..
                } if j.table.name == "roles")
        ));
        // The computed relationship replaces nothing here but is present.
        assert!(matches!(
            between("actors", "directors")[..],
            [Relationship::Computed { .. }]
        ));
    }

    #[test]
    fn views_over_junctions_are_junctions_but_one_to_one_keys_make_none() {
        let id = vec!["id".to_string()];
        let pair = vec!["a_id".to_string(), "b_id".to_string()];
        let ext_pk = vec!["id".to_string(), "b_id".to_string()];
        let relations = [
            rel("a", false, &id),
            rel("b", false, &id),
            rel("ab", true, &pair),
            rel("a_ext", false, &ext_pk),
        ];
        // ab is a view over a junction outside the cache; a_ext's key to a
        // is unique (one-to-one), though both keys are in its primary key.
        let keys = [
            ForeignKey {
                schema: "private".into(),
                ..fk("j_a", "j", "a", &[("a_id", "id")], false)
            },
            ForeignKey {
                schema: "private".into(),
                ..fk("j_b", "j", "b", &[("b_id", "id")], false)
            },
            fk("ext_a", "a_ext", "a", &[("id", "id")], true),
            fk("ext_b", "a_ext", "b", &[("b_id", "id")], false),
        ];
        let view = |col: &str| ViewColumn {
            view_schema: "api".into(),
            view: "ab".into(),
            column: col.into(),
            base_schema: "private".into(),
            base_table: "j".into(),
            base_column: col.into(),
            base_key_size: 2,
        };
        let rels = derive(&relations, &keys, &[view("a_id"), view("b_id")], &[]);
        let m2m: Vec<(&str, &str, &str)> = rels
            .iter()
            .filter_map(|r| match r {
                Relationship::ForeignKey {
                    table,
                    foreign_table,
                    cardinality: Cardinality::ManyToMany(j),
                    ..
                } => Some((
                    table.name.as_str(),
                    foreign_table.name.as_str(),
                    j.table.name.as_str(),
                )),
                _ => None,
            })
            .collect();
        assert_eq!(m2m, [("a", "b", "ab"), ("b", "a", "ab")]);
    }
}
