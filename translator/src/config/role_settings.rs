//! Impersonated role settings: what `ALTER ROLE <role> SET <setting> = …`
//! attaches to the roles the authenticator is a member of. When a request
//! runs as such a role, its settings are applied to the transaction with
//! `set_config` (before the role switch, so settings granted to the
//! authenticator with `GRANT SET ON PARAMETER` work), and its
//! `default_transaction_isolation` becomes the isolation level of the
//! transaction (a function's own level wins for `/rpc/`).
//!
//! As in PostgREST: only settings for every database (`rolconfig`), only
//! those the authenticator may set (context `user`, or since PostgreSQL 15
//! `has_parameter_privilege … SET`), values as written (PostgREST lowered
//! them before its issue 4955, which broke `work_mem = '5MB'`), and only
//! with `db-config` on. They are read with the schema cache (which, with
//! `db-config` on, reloads the configuration too, as in PostgREST).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::schema_cache::IntrospectionError;

/// One row, one text column: `[{"role", "isolation", "settings": [[name, value]…]}]`.
const SQL: &str = r#"
WITH role_setting AS (
  SELECT DISTINCT r.rolname AS role,
         split_part(s.setting, '=', 1) AS name,
         substr(s.setting, strpos(s.setting, '=') + 1) AS value
    FROM pg_catalog.pg_auth_members m
    JOIN pg_catalog.pg_roles r ON r.oid = m.roleid
   CROSS JOIN LATERAL unnest(r.rolconfig) AS s(setting)
   WHERE m.member = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)
), settable AS (
  SELECT rs.* FROM role_setting rs
    JOIN pg_catalog.pg_settings p ON p.name = rs.name
   WHERE p.context = 'user'{parameter_privilege}
)
SELECT coalesce(json_agg(json_build_object(
         'role', role,
         'isolation', (SELECT i.value FROM role_setting i
                        WHERE i.role = per_role.role AND i.name = 'default_transaction_isolation'),
         'settings', settings) ORDER BY role), '[]')::text
  FROM (SELECT role,
               coalesce(json_agg(json_build_array(name, value) ORDER BY name)
                          FILTER (WHERE name <> 'default_transaction_isolation'), '[]') AS settings
          FROM settable GROUP BY role) per_role"#;

/// The introspection statement's SQL for this server version.
pub fn sql(server_version_num: u32) -> String {
    let privilege = if server_version_num >= 150000 {
        " OR has_parameter_privilege(current_user, p.name, 'SET')"
    } else {
        ""
    };
    SQL.trim().replace("{parameter_privilege}", privilege)
}

/// The isolation levels a request's transaction begins with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Isolation {
    #[default]
    ReadCommitted,
    RepeatableRead,
    Serializable,
}

impl Isolation {
    /// A `default_transaction_isolation` value as PostgREST reads it: any
    /// other than `repeatable read` and `serializable` is read committed.
    pub fn from_setting(value: &str) -> Isolation {
        match value.trim().to_ascii_lowercase().as_str() {
            "repeatable read" => Isolation::RepeatableRead,
            "serializable" => Isolation::Serializable,
            _ => Isolation::ReadCommitted,
        }
    }

    pub fn sql(self) -> &'static str {
        match self {
            Isolation::ReadCommitted => "READ COMMITTED",
            Isolation::RepeatableRead => "REPEATABLE READ",
            Isolation::Serializable => "SERIALIZABLE",
        }
    }
}

/// The settings of each role, by role name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoleSettings(BTreeMap<String, Role>);

#[derive(Debug, Clone, Default, PartialEq)]
struct Role {
    isolation: Option<Isolation>,
    /// `(name, value)` by name, without `default_transaction_isolation`.
    settings: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct Row {
    role: String,
    isolation: Option<String>,
    settings: Vec<(String, String)>,
}

impl RoleSettings {
    /// Reads the introspection statement's result.
    pub fn load(json: &str) -> Result<RoleSettings, IntrospectionError> {
        let rows: Vec<Row> = IntrospectionError::parse("role settings", json)?;
        Ok(RoleSettings(
            rows.into_iter()
                .map(|r| {
                    let role = Role {
                        isolation: r.isolation.as_deref().map(Isolation::from_setting),
                        settings: r.settings,
                    };
                    (r.role, role)
                })
                .collect(),
        ))
    }

    /// The settings `role` applies to its transactions.
    pub fn settings(&self, role: &str) -> &[(String, String)] {
        self.0.get(role).map_or(&[], |r| &r.settings)
    }

    /// The isolation level of `role`'s transactions.
    pub fn isolation(&self, role: &str) -> Isolation {
        self.0
            .get(role)
            .and_then(|r| r.isolation)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_settings_and_isolation_by_role() {
        let s = RoleSettings::load(
            r#"[{"role": "Slow", "isolation": null, "settings": [["statement_timeout", "1ms"]]},
                {"role": "serial", "isolation": "serializable", "settings": []},
                {"role": "rr", "isolation": "repeatable read", "settings": []},
                {"role": "ru", "isolation": "read uncommitted", "settings": []}]"#,
        )
        .unwrap();
        assert_eq!(
            s.settings("Slow"),
            [("statement_timeout".to_string(), "1ms".to_string())]
        );
        assert_eq!(s.isolation("Slow"), Isolation::ReadCommitted);
        assert_eq!(s.isolation("serial"), Isolation::Serializable);
        assert_eq!(s.isolation("rr"), Isolation::RepeatableRead);
        assert_eq!(s.isolation("ru"), Isolation::ReadCommitted);
        assert!(s.settings("nobody").is_empty());
        assert_eq!(s.isolation("nobody"), Isolation::ReadCommitted);
        assert!(RoleSettings::load("{}").is_err());
    }

    #[test]
    fn parameter_privileges_need_postgresql_15() {
        assert!(!sql(140000).contains("has_parameter_privilege"));
        assert!(sql(150000).contains("has_parameter_privilege"));
    }
}
