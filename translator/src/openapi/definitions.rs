//! `definitions`: one object schema per table or view, its properties the
//! columns with type, format, default, length and the key notes PostgREST
//! writes into the description.

use super::json::{Obj, strings};
use super::types;
use crate::schema_cache::{Cardinality, Column, Relationship, SchemaCache, Table};

pub fn definition(cache: &SchemaCache, table: &Table) -> Obj {
    let properties = table.columns.iter().fold(Obj::new(), |props, col| {
        props.with(&col.name, property(cache, table, col))
    });
    let required: Vec<&str> = table
        .columns
        .iter()
        .filter(|c| !c.nullable)
        .map(|c| c.name.as_str())
        .collect();
    Obj::new()
        .with_opt("description", table.description.as_deref())
        .with_opt(
            "required",
            (!required.is_empty()).then(|| strings(required)),
        )
        .with("properties", properties)
        .with("type", "object")
}

fn property(cache: &SchemaCache, table: &Table, col: &Column) -> Obj {
    let format = types::format(col.base_type.as_deref().unwrap_or(&col.data_type));
    let mut notes = Vec::new();
    if table.primary_key.contains(&col.name) {
        notes.push("This is a Primary Key.<pk/>".to_string());
    }
    if let Some((foreign_table, foreign_column)) = foreign_key(cache, table, &col.name) {
        notes.push(format!(
            "This is a Foreign Key to `{foreign_table}.{foreign_column}`.\
             <fk table='{foreign_table}' column='{foreign_column}'/>"
        ));
    }
    let description = if notes.is_empty() {
        col.description.clone()
    } else {
        let comment = col
            .description
            .as_deref()
            .map_or(String::new(), |d| format!("{d}\n\n"));
        Some(format!("{comment}Note:\n{}", notes.join("\n")))
    };
    Obj::new()
        .with_opt(
            "default",
            col.default
                .as_deref()
                .and_then(|d| types::default_value(&format, d)),
        )
        .with_opt("description", description)
        .with_opt("enum", col.enum_labels.as_deref().map(strings))
        .with_opt("maxLength", types::max_length(&col.data_type))
        .with_opt("items", types::array_items(&format))
        .with("format", format.as_str())
        .with_opt("type", types::swagger_type(&format))
}

/// The table and column a single-column many-to-one key of `column` points
/// at, preferring tables over views as PostgREST does.
fn foreign_key<'a>(
    cache: &'a SchemaCache,
    table: &Table,
    column: &str,
) -> Option<(&'a str, &'a str)> {
    let mut candidates: Vec<(bool, &str, &str)> = cache
        .relationships_from(&table.schema, &table.name)
        .filter_map(|rel| match rel {
            Relationship::ForeignKey {
                foreign_table,
                foreign_table_is_view,
                cardinality: Cardinality::ManyToOne { columns, .. },
                ..
            } => match columns.as_slice() {
                [(own, theirs)] if own == column => Some((
                    *foreign_table_is_view,
                    foreign_table.name.as_str(),
                    theirs.as_str(),
                )),
                _ => None,
            },
            _ => None,
        })
        .collect();
    // Stable: among tables (then views), derivation order decides.
    candidates.sort_by_key(|(is_view, _, _)| *is_view);
    candidates.first().map(|&(_, t, c)| (t, c))
}
