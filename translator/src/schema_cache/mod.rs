//! The schema cache: what the exposed schemas contain, loaded once per schema
//! generation from the JSON that the introspection statements return.

mod introspection;
pub mod relationships;
pub mod representation;
mod routine;

pub use introspection::statements as introspection_statements;
pub use relationships::{Cardinality, QualifiedName, Relationship};
pub use routine::{MediaHandler, Routine, RoutineArg};

use std::collections::{BTreeMap, BTreeSet};

use representation::{Cast, Representation};
use serde::{Deserialize, Serialize};

use crate::fuzzy;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    /// `format_type` of the column, e.g. `integer`, `character varying(20)`.
    pub data_type: String,
    pub nullable: bool,
    pub default: Option<String>,
    pub description: Option<String>,
    /// Its domain's representation casts (filled in by `SchemaCache::load`).
    #[serde(default, skip_serializing_if = "Representation::is_empty")]
    pub representation: Representation,
    /// The labels, in order, when the type is an enum or a domain directly
    /// over one (PostgREST's rule: not arrays of them, nor domains over such
    /// domains).
    #[serde(default, rename = "enum")]
    pub enum_labels: Option<Vec<String>>,
    /// For a domain over a built-in type, that type without modifier: the
    /// OpenAPI document describes such a column by it, as PostgREST does.
    #[serde(default)]
    pub base_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub schema: String,
    pub name: String,
    pub is_view: bool,
    pub insertable: bool,
    pub updatable: bool,
    pub deletable: bool,
    pub description: Option<String>,
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

#[cfg(test)]
impl Table {
    /// A writable table with no columns and no key.
    pub fn for_tests(schema: &str, name: &str) -> Table {
        Table {
            schema: schema.into(),
            name: name.into(),
            is_view: false,
            insertable: true,
            updatable: true,
            deletable: true,
            description: None,
            columns: vec![],
            primary_key: vec![],
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SchemaCache {
    /// Sorted by (schema, name): lookups use binary search.
    pub tables: Vec<Table>,
    /// Every relationship, in derivation order (deterministic).
    pub relationships: Vec<Relationship>,
    /// Functions of the exposed schemas, sorted by (schema, name, oid).
    #[serde(default)]
    pub routines: Vec<Routine>,
    /// Aggregates that build a body in a media type, sorted by target.
    #[serde(default)]
    pub media_handlers: Vec<AggregateHandler>,
    /// Domain representation casts, sorted by (source, target).
    #[serde(default)]
    pub representations: Vec<Cast>,
}

/// An aggregate returning a domain named after a media type: it builds the
/// body of a read of its target relation (or of any relation, for an
/// `anyelement` one) when that media type is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggregateHandler {
    pub schema: String,
    pub name: String,
    /// The row type's schema and name (`pg_catalog.anyelement` for any).
    pub target_schema: String,
    pub target_name: String,
    /// The domain's name, lower case: `text/plain`, `*/*`, ...
    pub media_type: String,
    /// A domain over `bytea` (else the body is text).
    pub bytes: bool,
}

const ANY_SCHEMA: &str = "pg_catalog";
const ANY_NAME: &str = "anyelement";

impl AggregateHandler {
    /// An `anyelement` aggregate: it takes the rows of any relation as they
    /// are selected.
    pub fn for_any_relation(&self) -> bool {
        self.target_schema == ANY_SCHEMA && self.target_name == ANY_NAME
    }
}

/// Introspection results that are not what the statements return.
#[derive(Debug, thiserror::Error)]
pub enum IntrospectionError {
    #[error("expected {expected} introspection results, got {got}")]
    Count { expected: usize, got: usize },
    #[error("invalid {what} introspection: {source}")]
    Json {
        what: &'static str,
        source: serde_json::Error,
    },
}

impl IntrospectionError {
    /// One result's JSON, read as `T`.
    pub(crate) fn parse<T: serde::de::DeserializeOwned>(
        what: &'static str,
        text: &str,
    ) -> Result<T, IntrospectionError> {
        serde_json::from_str(text).map_err(|source| IntrospectionError::Json { what, source })
    }
}

/// The most tables a schema may have for PGRST205 to suggest one.
const FUZZY_TABLES_MAX: usize = 500;

impl SchemaCache {
    /// Builds the cache from the introspection results, in statement order.
    pub fn load(results: &[String]) -> Result<SchemaCache, IntrospectionError> {
        let [
            tables,
            keys,
            view_columns,
            computed,
            routines,
            handlers,
            casts,
        ] = results
        else {
            return Err(IntrospectionError::Count {
                expected: 7,
                got: results.len(),
            });
        };
        let mut tables: Vec<Table> = IntrospectionError::parse("table", tables)?;
        tables.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        let keys: Vec<relationships::ForeignKey> = IntrospectionError::parse("foreign key", keys)?;
        let view_columns: Vec<relationships::ViewColumn> =
            IntrospectionError::parse("view column", view_columns)?;
        let computed: Vec<relationships::ComputedRel> =
            IntrospectionError::parse("function", computed)?;
        // Before deriving: a view whose key comes from its base's can be a
        // junction, as in PostgREST.
        view_primary_keys(&mut tables, &view_columns);
        let infos: Vec<relationships::RelationInfo> = tables
            .iter()
            .map(|t| relationships::RelationInfo {
                name: QualifiedName::new(&t.schema, &t.name),
                is_view: t.is_view,
                primary_key: &t.primary_key,
            })
            .collect();
        let relationships = relationships::derive(&infos, &keys, &view_columns, &computed);
        let routines: Vec<Routine> = IntrospectionError::parse("function", routines)?;
        let media_handlers: Vec<AggregateHandler> =
            IntrospectionError::parse("media handler", handlers)?;
        let representations: Vec<Cast> = IntrospectionError::parse("representation", casts)?;
        for column in tables.iter_mut().flat_map(|t| t.columns.iter_mut()) {
            column.representation = Representation::of(&representations, &column.data_type);
        }
        Ok(SchemaCache {
            tables,
            relationships,
            routines,
            media_handlers,
            representations,
        })
    }

    /// The aggregate answering `media` (lower case) for a read of
    /// `schema.table`, as PostgREST looks it up: with the default select,
    /// the relation's own catch-all (`*/*`) handler, then its handler for
    /// `media`; then an `anyelement` handler for `media`.
    pub fn media_handler(
        &self,
        schema: &str,
        table: &str,
        media: &str,
        default_select: bool,
    ) -> Option<&AggregateHandler> {
        let find = |target_schema: &str, target_name: &str, media: &str| {
            self.media_handlers.iter().find(|h| {
                h.target_schema == target_schema
                    && h.target_name == target_name
                    && h.media_type == media
            })
        };
        default_select
            .then(|| find(schema, table, "*/*").or_else(|| find(schema, table, media)))
            .flatten()
            .or_else(|| self.any_relation_handler(media))
    }

    /// The `anyelement` aggregate answering `media` (lower case), for any
    /// relation and for a function's scalars.
    pub fn any_relation_handler(&self, media: &str) -> Option<&AggregateHandler> {
        self.media_handlers
            .iter()
            .find(|h| h.for_any_relation() && h.media_type == media)
    }

    /// The relationships whose origin is `schema.name`.
    pub fn relationships_from<'a, 'b>(
        &'a self,
        schema: &'b str,
        name: &'b str,
    ) -> impl Iterator<Item = &'a Relationship> + use<'a, 'b> {
        self.relationships
            .iter()
            .filter(move |r| r.table().schema == schema && r.table().name == name)
    }

    /// The table of `schema` whose name is closest to `name`, for the
    /// "Perhaps you meant" hint of PGRST205; none in a schema of
    /// `FUZZY_TABLES_MAX` tables or more, as PostgREST indexes no larger one.
    pub fn closest_table(&self, schema: &str, name: &str) -> Option<&str> {
        let names: Vec<&str> = self
            .tables
            .iter()
            .filter(|t| t.schema == schema)
            .map(|t| t.name.as_str())
            .collect();
        if names.len() >= FUZZY_TABLES_MAX {
            return None;
        }
        fuzzy::best(names, name, fuzzy::NAME_HINT)
    }

    /// The overloads of `schema.name`, in oid order.
    pub fn routines_named<'a, 'b>(
        &'a self,
        schema: &'b str,
        name: &'b str,
    ) -> impl Iterator<Item = &'a Routine> + use<'a, 'b> {
        self.routines
            .iter()
            .filter(move |r| r.schema == schema && r.name == name)
    }

    /// The function of `schema` whose name is closest to `name` (PGRST202).
    pub fn closest_routine(&self, schema: &str, name: &str) -> Option<&str> {
        fuzzy::best(
            self.routines
                .iter()
                .filter(|r| r.schema == schema)
                .map(|r| r.name.as_str()),
            name,
            fuzzy::NAME_HINT,
        )
    }

    pub fn table(&self, schema: &str, name: &str) -> Option<&Table> {
        self.tables
            .binary_search_by(|t| (t.schema.as_str(), t.name.as_str()).cmp(&(schema, name)))
            .ok()
            .map(|i| &self.tables[i])
    }
}

/// A view's primary key, as PostgREST gives it one: the view columns that
/// come from every column of an origin's primary key (the first such column
/// for each), the origin being a table of any schema or a view of the cache.
/// Junctions, OPTIONS, PUT and the OpenAPI notes use it.
fn view_primary_keys(tables: &mut [Table], view_columns: &[relationships::ViewColumn]) {
    // Views over views need their base's key first: repeat until stable
    // (bounded by the depth of the deepest chain).
    for _ in 0..tables.len() {
        let mut changed = false;
        for i in 0..tables.len() {
            if !tables[i].is_view || !tables[i].primary_key.is_empty() {
                continue;
            }
            let key = view_key(&tables[i], tables, view_columns);
            if !key.is_empty() {
                tables[i].primary_key = key;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

/// `view`'s key columns in their order (empty when no origin's whole key is
/// exposed).
fn view_key(
    view: &Table,
    tables: &[Table],
    view_columns: &[relationships::ViewColumn],
) -> Vec<String> {
    // Per origin: its key's size and, per key column reached, the first view
    // column from it.
    type Reached<'a> = (usize, BTreeMap<&'a str, &'a str>);
    let mut origins: BTreeMap<(&str, &str), Reached> = BTreeMap::new();
    for col in &view.columns {
        let from_col = view_columns.iter().filter(|vc| {
            vc.view_schema == view.schema && vc.view == view.name && vc.column == col.name
        });
        for vc in from_col {
            let size = if vc.base_key_size > 0 {
                vc.base_key_size
            } else {
                match tables
                    .iter()
                    .find(|t| t.schema == vc.base_schema && t.name == vc.base_table)
                {
                    Some(base) if base.primary_key.contains(&vc.base_column) => {
                        base.primary_key.len()
                    }
                    _ => continue,
                }
            };
            origins
                .entry((&vc.base_schema, &vc.base_table))
                .or_insert((size, BTreeMap::new()))
                .1
                .entry(&vc.base_column)
                .or_insert(&col.name);
        }
    }
    let key: BTreeSet<&str> = origins
        .values()
        .filter(|(size, cols)| cols.len() == *size)
        .flat_map(|(_, cols)| cols.values().copied())
        .collect();
    view.columns
        .iter()
        .filter(|c| key.contains(c.name.as_str()))
        .map(|c| c.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_handlers_are_looked_up_as_postgrest_does() {
        let handler = |target: (&str, &str), media: &str| AggregateHandler {
            schema: "api".into(),
            name: format!("{}_{}", target.1, media.len()),
            target_schema: target.0.into(),
            target_name: target.1.into(),
            media_type: media.into(),
            bytes: false,
        };
        let cache = SchemaCache {
            tables: vec![],
            relationships: vec![],
            routines: vec![],
            media_handlers: vec![
                handler(("api", "points"), "text/csv"),
                handler(("api", "blobs"), "*/*"),
                handler(("pg_catalog", "anyelement"), "text/csv"),
            ],
            representations: vec![],
        };
        let found = |table: &str, media: &str, default_select: bool| {
            cache
                .media_handler("api", table, media, default_select)
                .map(|h| (h.target_name.as_str(), h.media_type.as_str()))
        };
        // The relation's own, with the default select only; else any.
        assert_eq!(
            found("points", "text/csv", true),
            Some(("points", "text/csv"))
        );
        assert_eq!(
            found("points", "text/csv", false),
            Some(("anyelement", "text/csv"))
        );
        // A catch-all answers every type.
        assert_eq!(
            found("blobs", "application/json", true),
            Some(("blobs", "*/*"))
        );
        assert_eq!(found("blobs", "application/json", false), None);
        assert_eq!(
            found("other", "text/csv", true),
            Some(("anyelement", "text/csv"))
        );
        assert!(cache.media_handlers[2].for_any_relation());
        assert!(!cache.media_handlers[0].for_any_relation());
    }

    #[test]
    fn loads_and_finds_tables() {
        let json = r#"[
          {"schema":"public","name":"b","is_view":true,"insertable":false,"updatable":false,
           "deletable":false,"description":null,"columns":[],"primary_key":[]},
          {"schema":"public","name":"a","is_view":false,"insertable":true,"updatable":true,
           "deletable":true,"description":"A","primary_key":["id"],
           "columns":[{"name":"id","data_type":"integer","nullable":false,"default":null,"description":null}]}
        ]"#;
        let empty = "[]".to_string();
        let cache = SchemaCache::load(&[
            json.to_string(),
            empty.clone(),
            empty.clone(),
            empty.clone(),
            empty.clone(),
            empty.clone(),
            empty,
        ])
        .unwrap();
        let a = cache.table("public", "a").unwrap();
        assert_eq!(a.primary_key, ["id"]);
        assert_eq!(a.column("id").unwrap().data_type, "integer");
        assert!(cache.table("public", "b").unwrap().is_view);
        assert!(cache.table("public", "c").is_none());
        assert!(cache.table("other", "a").is_none());
    }

    #[test]
    fn closest_table_suggests_near_names_only() {
        let table = |name: &str| Table::for_tests("api", name);
        let mut other = table("projects");
        other.schema = "other".into();
        let cache = SchemaCache {
            tables: vec![table("clients"), table("projects"), other],
            relationships: vec![],
            routines: vec![],
            media_handlers: vec![],
            representations: vec![],
        };
        assert_eq!(cache.closest_table("api", "projcts"), Some("projects"));
        assert_eq!(cache.closest_table("api", "CLIENT"), Some("clients"));
        assert_eq!(cache.closest_table("api", "zzzzzzzzzz"), None);
        assert_eq!(cache.closest_table("nowhere", "projects"), None);
    }

    #[test]
    fn views_take_keys_from_their_bases() {
        let tables = r#"[
          {"schema":"api","name":"t","is_view":false,"insertable":true,"updatable":true,
           "deletable":true,"description":null,"primary_key":["id"],"columns":[
             {"name":"id","data_type":"integer","nullable":false,"default":null,"description":null},
             {"name":"v","data_type":"text","nullable":true,"default":null,"description":null}]},
          {"schema":"api","name":"v1","is_view":true,"insertable":true,"updatable":true,
           "deletable":true,"description":null,"primary_key":[],"columns":[
             {"name":"key","data_type":"integer","nullable":true,"default":null,"description":null},
             {"name":"v","data_type":"text","nullable":true,"default":null,"description":null}]},
          {"schema":"api","name":"a2","is_view":true,"insertable":true,"updatable":true,
           "deletable":true,"description":null,"primary_key":[],"columns":[
             {"name":"k","data_type":"integer","nullable":true,"default":null,"description":null}]}
        ]"#;
        let origin = |view: &str, column: &str, base: &str, base_column: &str| {
            format!(
                r#"{{"view_schema":"api","view":"{view}","column":"{column}","base_schema":"api","base_table":"{base}","base_column":"{base_column}","base_key_size":0}}"#
            )
        };
        // a2 over v1 over t: a2 sorts first, so its key needs v1's.
        let view_columns = format!(
            "[{},{},{}]",
            origin("a2", "k", "v1", "key"),
            origin("v1", "key", "t", "id"),
            origin("v1", "v", "t", "v")
        );
        let empty = "[]".to_string();
        let cache = SchemaCache::load(&[
            tables.to_string(),
            empty.clone(),
            view_columns,
            empty.clone(),
            empty.clone(),
            empty.clone(),
            empty,
        ])
        .unwrap();
        assert_eq!(cache.table("api", "v1").unwrap().primary_key, ["key"]);
        assert_eq!(cache.table("api", "a2").unwrap().primary_key, ["k"]);
    }

    #[test]
    fn a_view_key_needs_a_whole_key_of_one_origin() {
        let view = |name: &str, columns: &[&str]| Table {
            is_view: true,
            columns: columns
                .iter()
                .map(|c| {
                    serde_json::from_value(serde_json::json!({
                    "name": c, "data_type": "integer", "nullable": true,
                    "default": null, "description": null}))
                    .unwrap()
                })
                .collect(),
            ..Table::for_tests("api", name)
        };
        // Origins: private.j, a table outside the cache keyed by (a, b).
        let origin = |view: &str, column: &str, base_column: &str| relationships::ViewColumn {
            view_schema: "api".into(),
            view: view.into(),
            column: column.into(),
            base_schema: "private".into(),
            base_table: "j".into(),
            base_column: base_column.into(),
            base_key_size: 2,
        };
        let mut tables = vec![view("half", &["a"]), view("whole", &["b2", "a", "b"])];
        let origins = [
            origin("half", "a", "a"),
            origin("whole", "b2", "b"),
            origin("whole", "a", "a"),
            origin("whole", "b", "b"),
        ];
        view_primary_keys(&mut tables, &origins);
        assert!(tables[0].primary_key.is_empty());
        assert_eq!(tables[1].primary_key, ["b2", "a"]);
    }

    #[test]
    fn rejects_malformed_results() {
        assert!(SchemaCache::load(&[]).is_err());
        assert!(SchemaCache::load(&["{".to_string()]).is_err());
    }
}
