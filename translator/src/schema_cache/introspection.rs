//! The SQL that reads the schema cache. Each statement returns one row with
//! one text column holding JSON that `SchemaCache::load` deserializes.

use crate::config::Config;
use crate::contract::{Param, RowUse, Statement};
use crate::query::sql::text_array;

/// Tables, views, materialized views, foreign and partitioned tables of the
/// exposed schemas (never the partitions themselves), with columns and primary keys. Privileges are not
/// filtered: PostgreSQL checks them per request, as in PostgREST.
const TABLES: &str = r#"
SELECT coalesce(json_agg(t), '[]')::text FROM (
  SELECT
    n.nspname AS schema,
    c.relname AS name,
    c.relkind IN ('v', 'm') AS is_view,
    c.relkind IN ('r', 'p') OR (pg_catalog.pg_relation_is_updatable(c.oid, true) & 8) = 8 AS insertable,
    c.relkind IN ('r', 'p') OR (pg_catalog.pg_relation_is_updatable(c.oid, true) & 4) = 4 AS updatable,
    c.relkind IN ('r', 'p') OR (pg_catalog.pg_relation_is_updatable(c.oid, true) & 16) = 16 AS deletable,
    pg_catalog.obj_description(c.oid, 'pg_class') AS description,
    (SELECT coalesce(json_agg(json_build_object(
              'name', a.attname,
              'data_type', pg_catalog.format_type(a.atttypid, a.atttypmod),
              'nullable', NOT a.attnotnull,
              'default', pg_catalog.pg_get_expr(d.adbin, d.adrelid),
              'description', pg_catalog.col_description(c.oid, a.attnum)
            ) ORDER BY a.attnum), '[]')
       FROM pg_catalog.pg_attribute a
       LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
    (SELECT coalesce(json_agg(a.attname ORDER BY k.ord), '[]')
       FROM pg_catalog.pg_constraint con
       CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
      WHERE con.conrelid = c.oid AND con.contype = 'p') AS primary_key
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p')
    AND NOT c.relispartition
    AND n.nspname = ANY($1::text[])
  ORDER BY n.nspname, c.relname
) t"#;

pub fn statements(config: &Config, _server_version_num: u32) -> Vec<Statement> {
    vec![Statement {
        sql: TABLES.trim().to_string(),
        params: vec![Param::Text(text_array(&config.db_schemas))],
        rows: RowUse::ToRespond,
    }]
}
