//! The SQL that reads the schema cache. Each statement returns one row with
//! one text column holding JSON that `SchemaCache::load` deserializes.

use crate::config::{Config, role_settings};
use crate::contract::{Param, RowUse, Statement};
use crate::query::sql::text_array;

/// Tables, views, materialized views, foreign and partitioned tables of the
/// exposed schemas (never the partitions themselves), with columns and primary keys. Privileges are not
/// filtered: PostgreSQL checks them per request, as in PostgREST. Comments
/// are joined from `pg_description` rather than read with `obj_description` /
/// `col_description`: those SQL functions run once per row each, which made
/// this statement twice as slow on 1,000 tables (benches/schema_cache.rs).
/// A column's default is PostgREST's: its domain's when it has none of its
/// own, `nextval` of its sequence for an identity `BY DEFAULT`, and none
/// for a generated column (its expression is no default).
const TABLES: &str = r#"
SELECT coalesce(json_agg(t), '[]')::text FROM (
  SELECT
    n.nspname AS schema,
    c.relname AS name,
    c.relkind IN ('v', 'm') AS is_view,
    c.relkind IN ('r', 'p') OR (pg_catalog.pg_relation_is_updatable(c.oid, true) & 8) = 8 AS insertable,
    c.relkind IN ('r', 'p') OR (pg_catalog.pg_relation_is_updatable(c.oid, true) & 4) = 4 AS updatable,
    c.relkind IN ('r', 'p') OR (pg_catalog.pg_relation_is_updatable(c.oid, true) & 16) = 16 AS deletable,
    td.description AS description,
    (SELECT coalesce(json_agg(json_build_object(
              'name', a.attname,
              'data_type', pg_catalog.format_type(a.atttypid, a.atttypmod),
              'nullable', NOT a.attnotnull,
              'default', CASE
                WHEN a.attgenerated <> '' THEN NULL
                WHEN a.attidentity = 'd' THEN
                  (SELECT pg_catalog.format('nextval(%L)', dep.objid::pg_catalog.regclass)
                     FROM pg_catalog.pg_depend dep
                    WHERE dep.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                      AND dep.refobjid = c.oid AND dep.refobjsubid = a.attnum AND dep.deptype = 'i')
                WHEN d.adbin IS NULL AND ty.typbasetype <> 0 THEN pg_catalog.pg_get_expr(ty.typdefaultbin, 0)
                ELSE pg_catalog.pg_get_expr(d.adbin, d.adrelid)
              END,
              'description', cd.description,
              'enum', (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder)
                         FROM pg_catalog.pg_enum e
                        WHERE e.enumtypid = CASE WHEN ty.typtype = 'd' THEN ty.typbasetype ELSE ty.oid END),
              'base_type', (SELECT pg_catalog.format_type(bt.oid, NULL)
                              FROM pg_catalog.pg_type bt
                             WHERE bt.oid = ty.typbasetype
                               AND bt.typnamespace = 'pg_catalog'::regnamespace)
            ) ORDER BY a.attnum), '[]')
       FROM pg_catalog.pg_attribute a
       JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
       LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       LEFT JOIN pg_catalog.pg_description cd
             ON cd.objoid = a.attrelid AND cd.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass
            AND cd.objsubid = a.attnum
      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
    (SELECT coalesce(json_agg(a.attname ORDER BY k.ord), '[]')
       FROM pg_catalog.pg_constraint con
       CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
      WHERE con.conrelid = c.oid AND con.contype = 'p') AS primary_key
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_catalog.pg_description td
         ON td.objoid = c.oid AND td.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass
        AND td.objsubid = 0
  WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p')
    AND NOT c.relispartition
    AND n.nspname = ANY($1::text[])
  ORDER BY n.nspname, c.relname
) t"#;

/// Every foreign key outside the system schemas (views over tables of other
/// schemas carry them into the exposed ones), but the copies a key of or to
/// a partitioned table gets on its partitions. `one_to_one`: the referencing
/// columns are exactly a primary key or a unique constraint.
const FOREIGN_KEYS: &str = r#"
SELECT coalesce(json_agg(k ORDER BY k.schema, k.table, k.constraint), '[]')::text FROM (
  SELECT
    con.conname AS constraint,
    n.nspname AS schema,
    c.relname AS table,
    fn.nspname AS foreign_schema,
    fc.relname AS foreign_table,
    (SELECT json_agg(json_build_array(a.attname, fa.attname) ORDER BY k.ord)
       FROM unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(col, fcol, ord)
       JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.col
       JOIN pg_catalog.pg_attribute fa ON fa.attrelid = con.confrelid AND fa.attnum = k.fcol
    ) AS columns,
    EXISTS (SELECT 1 FROM pg_catalog.pg_constraint u
             WHERE u.conrelid = con.conrelid AND u.contype IN ('p', 'u')
               AND u.conkey @> con.conkey AND u.conkey <@ con.conkey) AS one_to_one
  FROM pg_catalog.pg_constraint con
  JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid
  JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
  WHERE con.contype = 'f' AND con.conparentid = 0
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
) k"#;

/// Where each view column comes from: PostgreSQL records the origin table
/// and column of every output column (`resorigtbl`/`resorigcol`) in the
/// view's stored query tree, following subqueries in `FROM`, joins and CTEs
/// itself (not `UNION` branches nor sublinks: their columns have none). Only
/// the view's own target entries count, as in PostgREST: the text is cut at
/// each ` :resno ` (names escape their spaces, so none is cut), and the
/// braces before a cut (escaped ones removed first) put the view's entries at
/// depth 2, those of nested queries deeper. Plain string functions read each
/// entry's fields from the head of its piece: a regular expression over
/// every piece made this statement seven times slower. The origin may itself
/// be a view; the cache follows the chain through views of the exposed
/// schemas and the extra search path (`$1`), and no others, as PostgREST
/// does. `base_key_size`: the number of columns of its table's primary key
/// when the origin is one of them (that table may be in any schema), else 0.
const VIEW_COLUMNS: &str = r#"
SELECT coalesce(json_agg(v ORDER BY v.view_schema, v.view, v.column), '[]')::text FROM (
  SELECT vn.nspname AS view_schema, vc.relname AS view, a.attname AS column,
         bn.nspname AS base_schema, bc.relname AS base_table, ba.attname AS base_column,
         coalesce((SELECT cardinality(pk.conkey) FROM pg_catalog.pg_constraint pk
                    WHERE pk.conrelid = t.tbl AND pk.contype = 'p' AND t.col = ANY (pk.conkey)), 0)
           AS base_key_size
  FROM pg_catalog.pg_class vc
  JOIN pg_catalog.pg_namespace vn ON vn.oid = vc.relnamespace
  JOIN pg_catalog.pg_rewrite rw ON rw.ev_class = vc.oid AND rw.rulename = '_RETURN'
  CROSS JOIN LATERAL (
    SELECT split_part(e.head, ' ', 1)::int AS resno,
           split_part(split_part(e.head, ' :resorigtbl ', 2), ' ', 1)::oid AS tbl,
           split_part(split_part(e.head, ' :resorigcol ', 2), ' ', 1)::int AS col
      FROM (SELECT left(s.piece, 400) AS head, s.ord,
                   sum(length(s.piece) - length(replace(s.piece, '{', ''))
                       - length(s.piece) + length(replace(s.piece, '}', '')))
                     OVER (ORDER BY s.ord ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS depth
              FROM regexp_split_to_table(
                     replace(replace(rw.ev_action::text, '\{', ''), '\}', ''), ' :resno ')
                   WITH ORDINALITY AS s(piece, ord)) e
     WHERE e.depth = 2 AND e.ord > 1
       AND left(split_part(e.head, ' :resjunk ', 2), 5) = 'false'
  ) t
  JOIN pg_catalog.pg_attribute a ON a.attrelid = vc.oid AND a.attnum = t.resno
  JOIN pg_catalog.pg_class bc ON bc.oid = t.tbl
  JOIN pg_catalog.pg_namespace bn ON bn.oid = bc.relnamespace
  JOIN pg_catalog.pg_attribute ba ON ba.attrelid = t.tbl AND ba.attnum = t.col
  WHERE vc.relkind IN ('v', 'm') AND vn.nspname = ANY($1::text[])
) v"#;

/// Computed relationships: functions of the exposed schemas taking one
/// argument of a table's row type and returning (a set of) a table's row
/// type. `to_one`: not a set, or `ROWS 1`.
const COMPUTED_RELATIONSHIPS: &str = r#"
SELECT coalesce(json_agg(f ORDER BY f.schema, f.name, f.arg_schema, f.arg_table), '[]')::text FROM (
  SELECT pn.nspname AS schema, p.proname AS name,
         an.nspname AS arg_schema, ac.relname AS arg_table,
         rn.nspname AS ret_schema, rc.relname AS ret_table,
         NOT p.proretset OR p.prorows = 1 AS to_one
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace
  JOIN pg_catalog.pg_class ac ON ac.reltype = p.proargtypes[0]
  JOIN pg_catalog.pg_namespace an ON an.oid = ac.relnamespace
  JOIN pg_catalog.pg_class rc ON rc.reltype = p.prorettype
  JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
  WHERE p.pronargs = 1 AND pn.nspname = ANY($1::text[])
) f"#;

/// Functions of the exposed schemas (not procedures, aggregates or trigger
/// functions) that a call can name, for `/rpc/`: input arguments in order
/// (an unnamed one has the name ""), the return type, and the output columns
/// of a composite or `TABLE(...)` return, with the table or view when the
/// type (or the type under its domains) is a relation's row type, the name of
/// a composite return type (`record` with output arguments), and the media
/// type a domain return type is named after (`text/plain`, `*/*`) when one
/// value is returned.
const FUNCTIONS: &str = r#"
SELECT coalesce(json_agg(f ORDER BY f.schema, f.name, f.oid), '[]')::text FROM (
  SELECT
    p.oid::int8 AS oid,
    n.nspname AS schema,
    p.proname AS name,
    pg_catalog.obj_description(p.oid, 'pg_proc') AS description,
    (SELECT coalesce(json_agg(json_build_object(
              'name', coalesce(a.name, ''),
              'data_type', pg_catalog.format_type(a.type, NULL),
              'has_default', a.pos > p.pronargs - p.pronargdefaults,
              'variadic', coalesce(a.mode = 'v', false)
            ) ORDER BY a.pos), '[]')
       FROM (SELECT x.*, row_number() OVER (ORDER BY x.idx) AS pos
               FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]), p.proargmodes, p.proargnames)
                    WITH ORDINALITY AS x(type, mode, name, idx)
              WHERE coalesce(x.mode, 'i') IN ('i', 'b', 'v')) a) AS args,
    pg_catalog.format_type(p.prorettype, NULL) AS return_type,
    p.proretset AS returns_set,
    p.prorettype = 'pg_catalog.void'::pg_catalog.regtype AS returns_void,
    coalesce(
      (SELECT json_agg(json_build_object('name', x.name, 'data_type', pg_catalog.format_type(x.type, NULL))
                       ORDER BY x.idx)
         FROM unnest(p.proallargtypes, p.proargmodes, p.proargnames) WITH ORDINALITY AS x(type, mode, name, idx)
        WHERE x.mode IN ('o', 'b', 't')),
      (SELECT json_agg(json_build_object('name', a.attname, 'data_type', pg_catalog.format_type(a.atttypid, a.atttypmod))
                       ORDER BY a.attnum)
         FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = bt.typrelid AND a.attnum > 0 AND NOT a.attisdropped)
    ) AS return_columns,
    (SELECT json_build_object('schema', rn.nspname, 'name', rc.relname)
       FROM pg_catalog.pg_class rc JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE rc.oid = bt.typrelid AND rc.relkind IN ('r', 'v', 'm', 'f', 'p')) AS return_table,
    CASE WHEN bt.typtype = 'c' OR coalesce(p.proargmodes::text[] && '{t,b,o}', false)
      THEN bt.typname END AS composite_name,
    CASE WHEN NOT p.proretset AND t.typtype = 'd'
              AND (t.typname ~* '^[A-Za-z0-9.-]+/[A-Za-z0-9.\+-]+$' OR t.typname = '*/*')
    THEN json_build_object(
      'name', t.typname, 'bytes', t.typbasetype = 'pg_catalog.bytea'::pg_catalog.regtype)
    END AS media_type,
    p.provolatile AS volatility,
    coalesce(p.proconfig, '{}') AS settings
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_catalog.pg_type t ON t.oid = p.prorettype
  -- The return type under its domains: a domain over a row type returns
  -- that relation's rows.
  CROSS JOIN LATERAL (
    WITH RECURSIVE d(oid, typbasetype) AS (
      SELECT t.oid, t.typbasetype
      UNION ALL
      SELECT b.oid, b.typbasetype FROM d JOIN pg_catalog.pg_type b ON b.oid = d.typbasetype
    ) SELECT d.oid FROM d WHERE d.typbasetype = 0
  ) base
  JOIN pg_catalog.pg_type bt ON bt.oid = base.oid
  WHERE p.prokind = 'f' AND n.nspname = ANY($1::text[])
    AND p.prorettype <> 'pg_catalog.trigger'::pg_catalog.regtype
    -- Callable by name: every input argument named, or a single unnamed
    -- one of a type the whole request body can be.
    AND (SELECT count(*) FILTER (WHERE coalesce(x.name, '') = '') = 0
                OR (count(*) = 1 AND bool_and(x.type IN (
                      'pg_catalog.bytea'::pg_catalog.regtype, 'pg_catalog.json'::pg_catalog.regtype,
                      'pg_catalog.jsonb'::pg_catalog.regtype, 'pg_catalog.text'::pg_catalog.regtype,
                      'pg_catalog.xml'::pg_catalog.regtype)))
           FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]), p.proargmodes, p.proargnames)
                AS x(type, mode, name)
          WHERE coalesce(x.mode, 'i') IN ('i', 'b', 'v'))
) f"#;

/// Aggregates returning a domain named after a media type (or `*/*`) whose
/// one argument is a relation's row type or `anyelement`: PostgREST's media
/// type handlers for tables and views.
const MEDIA_HANDLERS: &str = r#"
SELECT coalesce(json_agg(h ORDER BY h.target_schema, h.target_name, h.media_type, h.schema, h.name), '[]')::text FROM (
  SELECT
    pn.nspname AS schema,
    p.proname AS name,
    tn.nspname AS target_schema,
    t.typname AS target_name,
    lower(d.typname) AS media_type,
    d.typbasetype = 'pg_catalog.bytea'::pg_catalog.regtype AS bytes
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_aggregate a ON a.aggfnoid = p.oid
  JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace
  JOIN pg_catalog.pg_type d ON d.oid = p.prorettype
  JOIN pg_catalog.pg_type t ON t.oid = p.proargtypes[0]
  JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
  WHERE pn.nspname = ANY($1::text[])
    AND p.pronargs = 1
    AND d.typbasetype <> 0
    AND (d.typname ~* '^[A-Za-z0-9.-]+/[A-Za-z0-9.\+-]+$' OR d.typname = '*/*')
    AND (t.oid = 'pg_catalog.anyelement'::pg_catalog.regtype
         OR t.oid IN (SELECT c.reltype FROM pg_catalog.pg_class c
                       WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p')))
) h"#;

/// Implicit casts with a function between a domain and `json` or `text`:
/// PostgREST's domain representations. Types are named by `format_type`,
/// as the columns' types are.
const REPRESENTATIONS: &str = r#"
SELECT coalesce(json_agg(r ORDER BY r.source, r.target), '[]')::text FROM (
  SELECT
    pg_catalog.format_type(c.castsource, NULL) AS source,
    pg_catalog.format_type(c.casttarget, NULL) AS target,
    pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(p.proname) AS function
  FROM pg_catalog.pg_cast c
  JOIN pg_catalog.pg_type src ON src.oid = c.castsource
  JOIN pg_catalog.pg_type dst ON dst.oid = c.casttarget
  JOIN pg_catalog.pg_proc p ON p.oid = c.castfunc
  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  WHERE c.castcontext = 'i' AND c.castmethod = 'f'
    AND ((src.typtype = 'd' AND c.casttarget = 'pg_catalog.json'::pg_catalog.regtype)
      OR (dst.typtype = 'd' AND c.castsource IN ('pg_catalog.json'::pg_catalog.regtype,
                                                 'pg_catalog.text'::pg_catalog.regtype)))
) r"#;

/// The schema cache's statements (`SchemaCache::load` reads their results),
/// then the impersonated roles' settings (`RoleSettings::load`).
pub fn statements(config: &Config, server_version_num: u32) -> Vec<Statement> {
    let schemas = || vec![Param::Text(text_array(&config.db_schemas))];
    let view_schemas: Vec<String> = (config.db_schemas.iter())
        .chain(&config.db_extra_search_path)
        .cloned()
        .collect();
    let statement = |sql: &str, params: Vec<Param>| Statement {
        sql: sql.trim().to_string(),
        params,
        rows: RowUse::ToRespond,
    };
    vec![
        statement(TABLES, schemas()),
        statement(FOREIGN_KEYS, vec![]),
        statement(VIEW_COLUMNS, vec![Param::Text(text_array(&view_schemas))]),
        statement(COMPUTED_RELATIONSHIPS, schemas()),
        statement(FUNCTIONS, schemas()),
        statement(MEDIA_HANDLERS, schemas()),
        statement(REPRESENTATIONS, vec![]),
        statement(&role_settings::sql(server_version_num), vec![]),
    ]
}
