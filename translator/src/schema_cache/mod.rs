//! The schema cache: what the exposed schemas contain, loaded once per schema
//! generation from the JSON that the introspection statements return.

mod introspection;

pub use introspection::statements as introspection_statements;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    /// `format_type` of the column, e.g. `integer`, `character varying(20)`.
    pub data_type: String,
    pub nullable: bool,
    pub default: Option<String>,
    pub description: Option<String>,
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

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SchemaCache {
    /// Sorted by (schema, name): lookups use binary search.
    pub tables: Vec<Table>,
}

impl SchemaCache {
    /// Builds the cache from the introspection results, in statement order.
    pub fn load(results: &[String]) -> Result<SchemaCache, String> {
        let [tables] = results else {
            return Err(format!(
                "expected 1 introspection result, got {}",
                results.len()
            ));
        };
        let mut tables: Vec<Table> = serde_json::from_str(tables)
            .map_err(|e| format!("invalid table introspection: {e}"))?;
        tables.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        Ok(SchemaCache { tables })
    }

    pub fn table(&self, schema: &str, name: &str) -> Option<&Table> {
        self.tables
            .binary_search_by(|t| (t.schema.as_str(), t.name.as_str()).cmp(&(schema, name)))
            .ok()
            .map(|i| &self.tables[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_and_finds_tables() {
        let json = r#"[
          {"schema":"public","name":"b","is_view":true,"insertable":false,"updatable":false,
           "deletable":false,"description":null,"columns":[],"primary_key":[]},
          {"schema":"public","name":"a","is_view":false,"insertable":true,"updatable":true,
           "deletable":true,"description":"A","primary_key":["id"],
           "columns":[{"name":"id","data_type":"integer","nullable":false,"default":null,"description":null}]}
        ]"#;
        let cache = SchemaCache::load(&[json.to_string()]).unwrap();
        let a = cache.table("public", "a").unwrap();
        assert_eq!(a.primary_key, ["id"]);
        assert_eq!(a.column("id").unwrap().data_type, "integer");
        assert!(cache.table("public", "b").unwrap().is_view);
        assert!(cache.table("public", "c").is_none());
        assert!(cache.table("other", "a").is_none());
    }

    #[test]
    fn rejects_malformed_results() {
        assert!(SchemaCache::load(&[]).is_err());
        assert!(SchemaCache::load(&["{".to_string()]).is_err());
    }
}
