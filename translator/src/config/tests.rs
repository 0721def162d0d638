use super::*;

fn pairs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn from_file(text: &str) -> Result<Config, String> {
    Config::resolve(Some(text), &[], &[]).map_err(|e| e.to_string())
}

fn from_env(vars: &[(&str, &str)]) -> Result<Config, String> {
    Config::resolve(None, &pairs(vars), &[]).map_err(|e| e.to_string())
}

const SECRET: &str = "reallyreallyreallyreallyverysafe";

#[test]
fn defaults_match_postgrest() {
    let c = Config::resolve(None, &[], &[]).unwrap();
    assert_eq!(c, Config::default());
    assert_eq!(c.db_uri, "postgresql://");
    assert_eq!(c.db_schemas, ["public"]);
    assert_eq!(c.db_anon_role, None);
    assert_eq!(c.db_pool, 10);
    assert_eq!(c.db_pool_acquisition_timeout, 10);
    assert_eq!(c.db_max_rows, None);
    assert_eq!(c.db_extra_search_path, ["public"]);
    assert_eq!(c.db_tx_end, TxEndMode::Commit);
    assert!(c.db_prepared_statements);
    assert!(!c.db_aggregates_enabled);
    assert_eq!(c.server_host, "!4");
    assert_eq!(c.server_port, 3000);
    assert_eq!(c.jwt_secret, None);
    assert!(!c.jwt_secret_is_base64);
    assert_eq!(c.jwt_aud, None);
    assert_eq!(c.jwt_role_claim_key, "$.role");
    assert_eq!(c.jwt_cache_max_entries, 1000);
    assert_eq!(c.db_pre_request, None);
    assert!(c.app_settings.is_empty());
    assert_eq!(c.log_level, LogLevel::Error);
    assert_eq!(c.db_channel, "pgrst");
    assert!(c.db_channel_enabled);
    assert_eq!((c.admin_server_host, c.admin_server_port), (None, None));
    assert_eq!((c.db_pool_max_idletime, c.db_pool_max_lifetime), (30, 1800));
    assert_eq!(c.server_trace_header, None);
}

#[test]
fn pool_lifetimes_and_the_trace_header() {
    let c = from_file(
        "db-pool-timeout = 5\ndb-pool-max-lifetime = 60\nserver-trace-header = \"X-Request-Id\"\n",
    )
    .unwrap();
    assert_eq!((c.db_pool_max_idletime, c.db_pool_max_lifetime), (5, 60));
    assert_eq!(c.server_trace_header.as_deref(), Some("X-Request-Id"));
}

#[test]
fn listener_and_admin_server_options() {
    let c = from_env(&[
        ("PGRST_DB_CHANNEL", "my_channel"),
        ("PGRST_DB_CHANNEL_ENABLED", "false"),
        ("PGRST_ADMIN_SERVER_HOST", "127.0.0.1"),
        ("PGRST_ADMIN_SERVER_PORT", "3001"),
    ])
    .unwrap();
    assert_eq!(c.db_channel, "my_channel");
    assert!(!c.db_channel_enabled);
    assert_eq!(c.admin_server_host.as_deref(), Some("127.0.0.1"));
    assert_eq!(c.admin_server_port, Some(3001));
    assert!(from_env(&[("PGRST_ADMIN_SERVER_PORT", "x")]).is_err());
}

#[test]
fn a_file_with_every_value_form() {
    let c = from_file(&format!(
        r#"
# PostgREST's example style, with comments everywhere
db-uri       = "postgres://app:p%40ss@db:5432/app?sslmode=require" # trailing comment
db-schemas   = "api, v2"
db-anon-role = "web \"anon\""
db-pool = 3
db-pool-acquisition-timeout = 7
db-max-rows  = 1000
db-extra-search-path = "public,extensions"
db-tx-end    = "rollback-allow-override"
db-prepared-statements = off
server-host  = "127.0.0.1"
server-port  = 0
jwt-secret   = "{SECRET}"
jwt-secret-is-base64 = false
jwt-aud      = "urn:example:aud"
jwt-role-claim-key = ".realm.roles[0]"
log-level    = "info"
"#
    ))
    .unwrap();
    assert_eq!(
        c.db_uri,
        "postgres://app:p%40ss@db:5432/app?sslmode=require"
    );
    assert_eq!(c.db_schemas, ["api", "v2"]);
    assert_eq!(c.db_anon_role.as_deref(), Some("web \"anon\""));
    assert_eq!(c.db_pool, 3);
    assert_eq!(c.db_pool_acquisition_timeout, 7);
    assert_eq!(c.db_max_rows, Some(1000));
    assert_eq!(c.db_extra_search_path, ["public", "extensions"]);
    assert_eq!(c.db_tx_end, TxEndMode::RollbackAllowOverride);
    assert!(!c.db_prepared_statements);
    assert_eq!(c.server_host, "127.0.0.1");
    assert_eq!(c.server_port, 0);
    assert_eq!(c.jwt_secret.as_deref(), Some(SECRET));
    assert_eq!(c.jwt_aud.as_deref(), Some("urn:example:aud"));
    assert_eq!(c.jwt_role_claim_key, ".realm.roles[0]");
    assert_eq!(c.log_level, LogLevel::Info);
}

#[test]
fn string_escapes() {
    let c = from_file(r#"db-anon-role = "a\"b\\c\nd\te\rf\u0041\u00e9\ud83d\ude00""#).unwrap();
    assert_eq!(c.db_anon_role.as_deref(), Some("a\"b\\c\nd\te\rfAé😀"));
    // `#` inside a string is not a comment; a string may span lines.
    let c = from_file("db-anon-role = \"x # y\nz\"  # real comment").unwrap();
    assert_eq!(c.db_anon_role.as_deref(), Some("x # y\nz"));
}

#[test]
fn numbers_and_booleans_may_be_quoted_or_not() {
    for text in ["db-pool = 4", "db-pool = \"4\"", "db-pool = \" 4 \""] {
        assert_eq!(from_file(text).unwrap().db_pool, 4, "{text}");
    }
    for (text, expected) in [
        ("db-prepared-statements = false", false),
        ("db-prepared-statements = off", false),
        ("db-prepared-statements = on", true),
        ("db-prepared-statements = \"FALSE\"", false),
        ("db-prepared-statements = \"True\"", true),
        ("db-prepared-statements = \"0\"", false),
        ("db-prepared-statements = \"2\"", true),
    ] {
        assert_eq!(
            from_file(text).unwrap().db_prepared_statements,
            expected,
            "{text}"
        );
    }
}

#[test]
fn unknown_keys_groups_and_directive_comments() {
    let c = from_file(
        "not-an-option = 1\n\
         app.settings.jwt_exp = 3600\n\
         list-option = [1, \"two\", [true]]\n\
         app {\n  settings { x = \"y\" }\n  db-pool = 9\n}\n\
         #; db-pool = 2\n\
         db-anon-role = \"anon\"\n",
    )
    .unwrap();
    // Inside the `app` group the key is `app.db-pool`, not `db-pool`.
    assert_eq!(c.db_pool, 10);
    assert_eq!(c.db_anon_role.as_deref(), Some("anon"));
}

#[test]
fn later_bindings_win_and_interpolation() {
    let env = pairs(&[("DB_HOST", "db.internal"), ("HOME", "/root")]);
    let c = Config::resolve(
        Some(
            "db-pool = 3\ndb-pool = 4\nrole = \"web\"\n\
             db-uri = \"postgres://$(DB_HOST)/app?x=$$1\"\n\
             db-anon-role = \"$(role)_anon\"\n",
        ),
        &env,
        &[],
    )
    .unwrap();
    assert_eq!(c.db_pool, 4);
    assert_eq!(c.db_uri, "postgres://db.internal/app?x=$1");
    assert_eq!(c.db_anon_role.as_deref(), Some("web_anon"));
    let err = from_file("a = 1\ndb-anon-role = \"$(NOPE)\"").unwrap_err();
    assert_eq!(err, "config file, line 2: no such variable: 'NOPE'");
}

#[test]
fn syntax_errors_name_the_line_and_column() {
    for (text, expected) in [
        (
            "db-pool = abc",
            "config file, line 1, column 11: expected a value",
        ),
        (
            "# ok\ndb-uri = 'x'",
            "config file, line 2, column 10: expected a value",
        ),
        (
            "db-uri = \"x\ndb-pool = 3\n",
            "config file, line 3, column 1: unterminated string",
        ),
        (
            "\n\ndb-uri = \"\\q\"",
            "config file, line 3, column 12: invalid escape",
        ),
        (
            "db-pool = 3 db-max-rows = 4",
            "config file, line 1, column 13: expected the end of the line, found 'd'",
        ),
        ("db-pool 3", "config file, line 1, column 9: expected \"=\""),
        (
            "= 3",
            "config file, line 1, column 1: expected an option name",
        ),
        (
            "db-pool = -3",
            "config file, line 1, column 11: expected a value",
        ),
        (
            "a { b = 1",
            "config file, line 1, column 10: expected \"}\"",
        ),
        (
            "a = \"\\ud800\"",
            "config file, line 1, column 12: invalid UTF-16 surrogates",
        ),
        (
            "import \"other.conf\"",
            "config file, line 1: `import` is not supported",
        ),
    ] {
        let err = from_file(text).unwrap_err();
        assert!(err.starts_with(expected), "{text:?}: {err}");
    }
}

#[test]
fn environment_variables_override_the_file() {
    let c = Config::resolve(
        Some("db-pool = 3\ndb-anon-role = \"file\"\nserver-port = 8000"),
        &pairs(&[
            ("PGRST_DB_POOL", "5"),
            ("PGRST_DB_ANON_ROLE", "Web Anon"),
            ("HOME", "/root"),
            ("db-pool", "99"),
        ]),
        &[],
    )
    .unwrap();
    assert_eq!(c.db_pool, 5);
    assert_eq!(c.db_anon_role.as_deref(), Some("Web Anon"));
    assert_eq!(c.server_port, 8000);
}

#[test]
fn later_environment_entries_win() {
    let c = from_env(&[("PGRST_DB_POOL", "5"), ("PGRST_DB_POOL", "6")]).unwrap();
    assert_eq!(c.db_pool, 6);
}

#[test]
fn database_settings_override_environment_and_file() {
    let c = Config::resolve(
        Some("db-max-rows = 2\ndb-pool = 2"),
        &pairs(&[("PGRST_DB_MAX_ROWS", "3"), ("PGRST_DB_POOL", "3")]),
        &pairs(&[
            ("db_max_rows", "7"),
            ("db_pool", "7"),
            ("db_config", "false"),
        ]),
    )
    .unwrap();
    assert_eq!(c.db_max_rows, Some(7));
    // Only PostgREST's reloadable options come from the database.
    assert_eq!(c.db_pool, 3);
    assert!(c.db_config);
    let err = Config::resolve(None, &[], &pairs(&[("db_tx_end", "sometimes")])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Invalid transaction termination. Check your configuration."
    );
}

#[test]
fn db_config_and_pre_config() {
    let c = from_env(&[
        ("PGRST_DB_CONFIG", "false"),
        ("PGRST_DB_PRE_CONFIG", "postgrest.pre_config"),
    ])
    .unwrap();
    assert!(!c.db_config);
    assert_eq!(c.db_pre_config.as_deref(), Some("postgrest.pre_config"));
    assert!(Config::default().db_config);
}

#[test]
fn aliases_apply_only_when_the_option_itself_is_unset() {
    let c = from_env(&[
        ("PGRST_DB_SCHEMA", " api , v2 "),
        ("PGRST_MAX_ROWS", "50"),
        ("PGRST_ROLE_CLAIM_KEY", ".user_role"),
        ("PGRST_SECRET_IS_BASE64", "false"),
    ])
    .unwrap();
    assert_eq!(c.db_schemas, ["api", "v2"]);
    assert_eq!(c.db_max_rows, Some(50));
    assert_eq!(c.jwt_role_claim_key, ".user_role");
    // The canonical name wins, even from a lower-precedence source.
    let c = Config::resolve(
        Some("db-schemas = \"a\"\ndb-max-rows = 5"),
        &pairs(&[("PGRST_DB_SCHEMA", "b"), ("PGRST_MAX_ROWS", "6")]),
        &[],
    )
    .unwrap();
    assert_eq!(c.db_schemas, ["a"]);
    assert_eq!(c.db_max_rows, Some(5));
}

#[test]
fn empty_values_mean_unset() {
    let c = from_env(&[
        ("PGRST_DB_ANON_ROLE", ""),
        ("PGRST_DB_SCHEMAS", ""),
        ("PGRST_DB_SCHEMA", "api"),
        ("PGRST_DB_MAX_ROWS", ""),
        ("PGRST_DB_POOL", ""),
        ("PGRST_DB_EXTRA_SEARCH_PATH", ""),
    ])
    .unwrap();
    assert_eq!(c.db_anon_role, None);
    assert_eq!(c.db_schemas, ["api"]);
    assert_eq!(c.db_max_rows, None);
    assert_eq!(c.db_pool, 10);
    // ... except db-extra-search-path, where empty means no extra schema.
    assert_eq!(c.db_extra_search_path, Vec::<String>::new());
}

#[test]
fn openapi_options() {
    let c = Config::default();
    assert_eq!(c.openapi_mode, OpenApiMode::FollowPrivileges);
    assert_eq!(c.openapi_server_proxy_uri, None);
    assert!(!c.openapi_security_active);
    let c = from_file(
        "openapi-mode = \"ignore-privileges\"\n\
         openapi-server-proxy-uri = \"https://api.example.com/v1\"\n\
         openapi-security-active = true\n",
    )
    .unwrap();
    assert_eq!(c.openapi_mode, OpenApiMode::IgnorePrivileges);
    assert_eq!(
        c.openapi_server_proxy_uri.as_deref(),
        Some("https://api.example.com/v1")
    );
    assert!(c.openapi_security_active);
    let c = from_env(&[("PGRST_OPENAPI_MODE", "disabled")]).unwrap();
    assert_eq!(c.openapi_mode, OpenApiMode::Disabled);
}

#[test]
fn plan_and_error_options() {
    let c = Config::default();
    assert!(!c.db_plan_enabled);
    assert_eq!(c.client_error_verbosity, ErrorVerbosity::Verbose);
    assert!(c.url_use_legacy_target_names);
    let c = from_file(
        "db-plan-enabled = true\n\
         client-error-verbosity = \"minimal\"\n\
         url-use-legacy-target-names = false\n",
    )
    .unwrap();
    assert!(c.db_plan_enabled);
    assert_eq!(c.client_error_verbosity, ErrorVerbosity::Minimal);
    assert!(!c.url_use_legacy_target_names);
}

#[test]
fn translator_timeout() {
    assert_eq!(Config::default().server_translator_timeout, 1000);
    let c = from_env(&[("PGRST_SERVER_TRANSLATOR_TIMEOUT", "250")]).unwrap();
    assert_eq!(c.server_translator_timeout, 250);
    assert!(from_file("server-translator-timeout = -1\n").is_err());
}

#[test]
fn invalid_values_are_reported_with_their_source() {
    for (vars, expected) in [
        (
            &[("PGRST_DB_POOL", "abc")][..],
            "invalid value for db-pool (PGRST_DB_POOL): \"abc\"; expected an integer in range",
        ),
        (
            &[("PGRST_SERVER_PORT", "70000")],
            "invalid value for server-port (PGRST_SERVER_PORT): \"70000\"",
        ),
        (
            &[("PGRST_MAX_ROWS", "1.5")],
            "invalid value for max-rows (PGRST_MAX_ROWS): \"1.5\"",
        ),
        (
            &[("PGRST_DB_PREPARED_STATEMENTS", "maybe")],
            "invalid value for db-prepared-statements (PGRST_DB_PREPARED_STATEMENTS): \"maybe\"; expected true or false",
        ),
        (
            &[("PGRST_DB_TX_END", "sometimes")],
            "Invalid transaction termination. Check your configuration.",
        ),
        (
            &[("PGRST_LOG_LEVEL", "verbose")],
            "Invalid logging level. Check your configuration.",
        ),
        (
            &[("PGRST_OPENAPI_MODE", "follow-acl")],
            "Invalid openapi-mode. Check your configuration.",
        ),
        (
            &[("PGRST_CLIENT_ERROR_VERBOSITY", "loud")],
            "Invalid client-error-verbosity. Check your configuration.",
        ),
        (
            &[("PGRST_OPENAPI_SERVER_PROXY_URI", "example.com/api")],
            "Malformed proxy uri, a correct example: https://example.com:8443/basePath",
        ),
        (
            &[("PGRST_DB_SCHEMAS", "api,pg_catalog")],
            "db-schemas does not allow schema: 'pg_catalog'",
        ),
        (
            &[("PGRST_DB_SCHEMAS", "information_schema")],
            "db-schemas does not allow schema: 'information_schema'",
        ),
        (
            &[("PGRST_JWT_AUD", "a:b c")],
            "jwt-aud should be a string or a valid URI",
        ),
        (
            &[("PGRST_JWT_ROLE_CLAIM_KEY", "role")],
            "failed to parse role-claim-key value (role)",
        ),
        (
            &[("PGRST_JWT_SECRET", "short")],
            "The JWT secret must be at least 32 characters long.",
        ),
    ] {
        let err = from_env(vars).unwrap_err();
        assert!(err.starts_with(expected), "{vars:?}: {err}");
    }
    let err = from_file("\n\ndb-pool = 1.5").unwrap_err();
    assert_eq!(
        err,
        "invalid value for db-pool (config file, line 3): 1.5; expected an integer in range"
    );
    assert!(from_file("db-pool = [1]").is_err());
}

#[test]
fn log_levels() {
    for (text, level) in [
        ("crit", LogLevel::Crit),
        ("error", LogLevel::Error),
        ("warn", LogLevel::Warn),
        ("info", LogLevel::Info),
        ("debug", LogLevel::Debug),
    ] {
        assert_eq!(
            from_env(&[("PGRST_LOG_LEVEL", text)]).unwrap().log_level,
            level
        );
    }
    assert!(LogLevel::Crit < LogLevel::Error && LogLevel::Info < LogLevel::Debug);
}

#[test]
fn observability_options() {
    let d = from_env(&[]).unwrap();
    assert_eq!(d.server_cors_allowed_origins, None);
    assert!(!d.server_timing_enabled && d.db_pool_automatic_recovery);
    assert_eq!(d.log_query, LogQuery::Disabled);
    let c = from_env(&[
        (
            "PGRST_SERVER_CORS_ALLOWED_ORIGINS",
            " http://a.com, http://b.com ,",
        ),
        ("PGRST_SERVER_TIMING_ENABLED", "true"),
        ("PGRST_LOG_QUERY", "main-query"),
        ("PGRST_DB_POOL_AUTOMATIC_RECOVERY", "false"),
    ])
    .unwrap();
    assert_eq!(
        c.server_cors_allowed_origins,
        Some(vec!["http://a.com".to_string(), "http://b.com".to_string()])
    );
    assert!(c.server_timing_enabled && !c.db_pool_automatic_recovery);
    assert_eq!(c.log_query, LogQuery::MainQuery);
    // Only commas: no list, so any origin.
    let any = from_env(&[("PGRST_SERVER_CORS_ALLOWED_ORIGINS", " , ")]).unwrap();
    assert_eq!(any.server_cors_allowed_origins, None);
    assert!(from_env(&[("PGRST_LOG_QUERY", "all")]).is_err());
}

#[test]
fn jwt_secrets() {
    let c = from_env(&[("PGRST_JWT_SECRET", SECRET)]).unwrap();
    assert_eq!(c.jwt_secret.as_deref(), Some(SECRET));
    assert_eq!(
        from_env(&[("PGRST_JWT_SECRET", "short")]).unwrap_err(),
        "The JWT secret must be at least 32 characters long."
    );
    // Base64, with URL-safe characters as PostgREST accepts them.
    from_env(&[
        (
            "PGRST_JWT_SECRET",
            "cmVhbGx5cmVhbGx5cmVhbGx5cmVhbGx5dmVyeXNhZmU-_w..",
        ),
        ("PGRST_JWT_SECRET_IS_BASE64", "true"),
    ])
    .unwrap();
    let err = from_env(&[
        ("PGRST_JWT_SECRET", "not base64!"),
        ("PGRST_JWT_SECRET_IS_BASE64", "true"),
    ])
    .unwrap_err();
    assert!(err.starts_with("jwt-secret is not valid base64"), "{err}");
    // A JWK is not held to the length rule; an `@file` is checked after reading.
    assert!(from_env(&[("PGRST_JWT_SECRET", r#"{"kty":"oct","k":"c2hvcnQ"}"#)]).is_ok());
    let c = from_env(&[("PGRST_JWT_SECRET", "@/run/secret")]).unwrap();
    assert_eq!(c.file_reference("jwt-secret"), Some("/run/secret"));
    assert_eq!(c.file_reference("db-uri"), None);
}

#[test]
fn bytes_round_trip_as_json_with_option_names() {
    let c = from_env(&[("PGRST_DB_MAX_ROWS", "100"), ("PGRST_LOG_LEVEL", "warn")]).unwrap();
    let bytes = c.to_bytes();
    let json = String::from_utf8(bytes.clone()).unwrap();
    for fragment in [
        "\"db-uri\":\"postgresql://\"",
        "\"db-max-rows\":100",
        "\"db-prepared-statements\":true",
        "\"db-tx-end\":\"commit\"",
        "\"log-level\":\"warn\"",
        "\"jwt-role-claim-key\":\"$.role\"",
    ] {
        assert!(json.contains(fragment), "{fragment} in {json}");
    }
    assert_eq!(Config::from_bytes(&bytes).unwrap(), c);
}

#[test]
fn aggregates_are_enabled_by_file_or_environment() {
    assert!(
        from_file("db-aggregates-enabled = true")
            .unwrap()
            .db_aggregates_enabled
    );
    assert!(
        from_env(&[("PGRST_DB_AGGREGATES_ENABLED", "true")])
            .unwrap()
            .db_aggregates_enabled
    );
    assert!(from_env(&[("PGRST_DB_AGGREGATES_ENABLED", "maybe")]).is_err());
}

#[test]
fn role_claim_key_pre_request_cache_and_app_settings() {
    let c = from_env(&[
        ("PGRST_JWT_ROLE_CLAIM_KEY", "$.realm.roles[0]"),
        ("PGRST_DB_PRE_REQUEST", "api.check"),
        ("PGRST_JWT_CACHE_MAX_ENTRIES", "0"),
    ])
    .unwrap();
    assert_eq!(c.jwt_role_claim_key, "$.realm.roles[0]");
    assert_eq!(c.db_pre_request.as_deref(), Some("api.check"));
    assert_eq!(c.jwt_cache_max_entries, 0);
    assert_eq!(
        from_env(&[("PGRST_JWT_ROLE_CLAIM_KEY", "role")]).unwrap_err(),
        "failed to parse role-claim-key value (role)"
    );
    let c = Config::resolve(
        Some("app.settings.a = \"file\"\napp.settings { b = 2 }\npre-request = \"hook\"\n"),
        &pairs(&[
            ("PGRST_APP_SETTINGS_a", "env"),
            ("PGRST_APP_SETTINGS_C_D", "x"),
        ]),
        &[],
    )
    .unwrap();
    let settings: Vec<(&str, &str)> = c
        .app_settings
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        settings,
        [
            ("app.settings.C_D", "x"),
            ("app.settings.a", "env"),
            ("app.settings.b", "2")
        ]
    );
    assert_eq!(c.db_pre_request.as_deref(), Some("hook"));
    assert_eq!(Config::from_bytes(&c.to_bytes()).unwrap(), c);
}

#[test]
fn hoisted_tx_settings_default_and_override() {
    let c = from_env(&[]).unwrap();
    assert_eq!(
        c.db_hoisted_tx_settings,
        [
            "statement_timeout",
            "plan_filter.statement_cost_limit",
            "default_transaction_isolation"
        ]
    );
    let c = from_file("db-hoisted-tx-settings = \"work_mem, statement_timeout\"").unwrap();
    assert_eq!(c.db_hoisted_tx_settings, ["work_mem", "statement_timeout"]);
}

#[test]
fn root_spec_and_its_alias() {
    let c = Config::resolve(Some("root-spec = \"api.root\"\n"), &[], &[]).unwrap();
    assert_eq!(c.db_root_spec.as_deref(), Some("api.root"));
    let c = from_env(&[("PGRST_DB_ROOT_SPEC", "root")]).unwrap();
    assert_eq!(c.db_root_spec.as_deref(), Some("root"));
    assert_eq!(Config::default().db_root_spec, None);
}

#[test]
fn client_limit_options() {
    let d = from_env(&[]).unwrap().limits;
    assert_eq!(d, Limits::default());
    assert_eq!(d.server_max_body_bytes, 100 << 20);
    let c = from_env(&[
        ("PGRST_SERVER_READ_HEADER_TIMEOUT", "2"),
        ("PGRST_SERVER_BODY_TIMEOUT", "3"),
        ("PGRST_SERVER_IDLE_TIMEOUT", "0"),
        ("PGRST_SERVER_MAX_CONNECTIONS", "5"),
        ("PGRST_SERVER_MAX_BODY_BYTES", "1024"),
        ("PGRST_SERVER_BODY_BYTES_IN_FLIGHT", "4096"),
    ])
    .unwrap()
    .limits;
    assert_eq!(
        (c.server_read_header_timeout, c.server_body_timeout),
        (2, 3)
    );
    assert_eq!((c.server_idle_timeout, c.server_max_connections), (0, 5));
    assert_eq!(
        (c.server_max_body_bytes, c.server_body_bytes_in_flight),
        (1024, 4096)
    );
    assert!(from_env(&[("PGRST_SERVER_BODY_TIMEOUT", "-1")]).is_err());
    // One body must fit in what all bodies may hold.
    assert!(from_env(&[("PGRST_SERVER_MAX_BODY_BYTES", "300000000")]).is_err());
}

#[test]
fn file_errors_say_where_and_what() {
    use super::file::{self, FileError, InterpolationError};
    let err = file::parse("a = 1\nb = \"x", &[]).unwrap_err();
    assert!(
        matches!(&err, FileError::Syntax { line: 2, expected, .. } if expected == "unterminated string"),
        "{err:?}"
    );
    assert_eq!(
        file::parse("a = 1\nb = \"$(NOPE)\"", &[]).unwrap_err(),
        FileError::Interpolation {
            line: 2,
            problem: InterpolationError::NoSuchVariable("NOPE".into())
        }
    );
    assert_eq!(
        file::parse("import \"x.conf\"", &[]).unwrap_err(),
        FileError::Import { line: 1 }
    );
}
