//! In-database configuration (`db-config`): the `pgrst.<option>` settings
//! attached to the authenticator role (`ALTER ROLE authenticator SET
//! pgrst.db_schemas = 'api'`, or `… IN DATABASE db SET …`), read at startup
//! and on each config reload, override the file and the environment for the
//! options PostgREST allows. A `db-pre-config` function runs first and may
//! `set_config('pgrst.<option>', …)`: it ranks below both kinds of role
//! settings, the database-specific ones winning over the others.

use super::Config;
use crate::contract::{Param, RowUse, Statement};
use crate::query::settings::call_hook;
use crate::query::sql::text_array;

/// The options the database may set, as PostgREST lists them (`_` for `-`).
/// The rest (db-uri, the pool, the server, db-config itself) come only from
/// the file and the environment; options pgrest lacks are read and ignored.
pub const IN_DATABASE_OPTIONS: [&str; 25] = [
    "client_error_verbosity",
    "db_aggregates_enabled",
    "db_anon_role",
    "db_extra_search_path",
    "db_hoisted_tx_settings",
    "db_max_rows",
    "db_plan_enabled",
    "db_pre_config",
    "db_pre_request",
    "db_prepared_statements",
    "db_root_spec",
    "db_schemas",
    "db_timezone_enabled",
    "db_tx_end",
    "jwt_aud",
    "jwt_cache_max_lifetime",
    "jwt_role_claim_key",
    "jwt_secret",
    "jwt_secret_is_base64",
    "openapi_mode",
    "openapi_security_active",
    "openapi_server_proxy_uri",
    "server_cors_allowed_origins",
    "server_timing_enabled",
    "server_trace_header",
];

/// `(name, value)` rows, one per option: the connecting role's settings for
/// this database (rank 1), then for every database (rank 2), then what the
/// pre-config function left in the session (rank 3). `$1`: the option names.
const ROLE_SETTINGS: &str = r#"
SELECT DISTINCT ON (name) name, value FROM (
  SELECT substr(s.setting, 7, strpos(s.setting, '=') - 7) AS name,
         substr(s.setting, strpos(s.setting, '=') + 1) AS value,
         CASE WHEN d.setdatabase = 0 THEN 2 ELSE 1 END AS rank
    FROM pg_catalog.pg_db_role_setting d
   CROSS JOIN LATERAL unnest(d.setconfig) AS s(setting)
   WHERE d.setrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)
     AND d.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()))
     AND s.setting LIKE 'pgrst.%'
  {pre_config}
) found
WHERE name = ANY($1::text[]) AND value IS NOT NULL
ORDER BY name, rank"#;

const PRE_CONFIG_SETTINGS: &str = "UNION ALL
  SELECT o, current_setting('pgrst.' || o, true), 3 FROM unnest($1::text[]) AS o";

/// The statements that read the in-database settings, none when `db-config`
/// is off. Run in order in one read-only transaction as the connecting role
/// (ended with ROLLBACK, so what the pre-config function sets stays in it);
/// the `to-respond` statement's rows are the `(name, value)` pairs for
/// `Config::resolve`'s `db_settings`.
pub fn statements(config: &Config) -> Vec<Statement> {
    if !config.db_config {
        return Vec::new();
    }
    let pre_config = config.db_pre_config.as_deref().map(call_hook);
    let names: Vec<String> = IN_DATABASE_OPTIONS.map(str::to_string).to_vec();
    let settings = Statement {
        sql: ROLE_SETTINGS
            .trim()
            .replace(
                "{pre_config}",
                if pre_config.is_some() {
                    PRE_CONFIG_SETTINGS
                } else {
                    ""
                },
            )
            .replace("\n  \n", "\n"),
        params: vec![Param::Text(text_array(&names))],
        rows: RowUse::ToRespond,
    };
    pre_config.into_iter().chain([settings]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_to_read_without_db_config() {
        let config = Config {
            db_config: false,
            db_pre_config: Some("pre".into()),
            ..Config::default()
        };
        assert!(statements(&config).is_empty());
    }

    #[test]
    fn the_pre_config_function_runs_first_and_ranks_last() {
        let plain = statements(&Config::default());
        assert_eq!(plain.len(), 1);
        assert!(!plain[0].sql.contains("current_setting"));
        let config = Config {
            db_pre_config: Some(r#"post"grest.pre config"#.into()),
            ..Config::default()
        };
        let with = statements(&config);
        assert_eq!(with.len(), 2);
        assert_eq!(with[0].sql, r#"SELECT "post""grest"."pre config"()"#);
        assert_eq!(with[0].rows, RowUse::Ignore);
        assert!(
            with[1]
                .sql
                .contains("current_setting('pgrst.' || o, true), 3")
        );
        assert_eq!(with[1].rows, RowUse::ToRespond);
        let Param::Text(names) = &with[1].params[0] else {
            panic!("names are one text[] parameter")
        };
        assert!(names.contains("\"db_schemas\"") && !names.contains("db_pool"));
    }
}
