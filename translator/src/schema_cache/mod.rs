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

    /// The table of `schema` whose name is closest to `name`, for the
    /// "Perhaps you meant" hint of PGRST205: case-insensitive normalized
    /// Levenshtein similarity of at least 1/3, as PostgREST's fuzzy set.
    pub fn closest_table(&self, schema: &str, name: &str) -> Option<&str> {
        let wanted = name.to_lowercase();
        self.tables
            .iter()
            .filter(|t| t.schema == schema)
            .map(|t| {
                let score = strsim::normalized_levenshtein(&wanted, &t.name.to_lowercase());
                (score, t.name.as_str())
            })
            .filter(|(score, _)| *score >= 1.0 / 3.0)
            // Highest score; on a tie the first name in sort order.
            .fold(None, |best: Option<(f64, &str)>, cand| match best {
                Some(b) if b.0 >= cand.0 => Some(b),
                _ => Some(cand),
            })
            .map(|(_, name)| name)
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
    fn closest_table_suggests_near_names_only() {
        let table = |name: &str| Table {
            schema: "api".into(),
            name: name.into(),
            is_view: false,
            insertable: true,
            updatable: true,
            deletable: true,
            description: None,
            columns: vec![],
            primary_key: vec![],
        };
        let mut other = table("projects");
        other.schema = "other".into();
        let cache = SchemaCache {
            tables: vec![table("clients"), table("projects"), other],
        };
        assert_eq!(cache.closest_table("api", "projcts"), Some("projects"));
        assert_eq!(cache.closest_table("api", "CLIENT"), Some("clients"));
        assert_eq!(cache.closest_table("api", "zzzzzzzzzz"), None);
        assert_eq!(cache.closest_table("nowhere", "projects"), None);
    }

    #[test]
    fn rejects_malformed_results() {
        assert!(SchemaCache::load(&[]).is_err());
        assert!(SchemaCache::load(&["{".to_string()]).is_err());
    }
}
