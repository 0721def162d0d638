//! `db-uri` and `jwt-secret` may be `@filename`, as in PostgREST. The
//! translator reads no files: a resolution that names one asks the host for
//! it, and the next resolution takes its contents as `PGRST_DB_URI` /
//! `PGRST_JWT_SECRET` appended to the environment (so they win over every
//! other source but the database), `db-uri` trimmed and the secret without
//! one trailing newline, as PostgREST reads them.

use super::{Config, ConfigError};

/// The options that may name a file, and the variable its contents become.
const FILE_OPTIONS: [(&str, &str); 2] = [
    ("db-uri", "PGRST_DB_URI"),
    ("jwt-secret", "PGRST_JWT_SECRET"),
];

/// A resolution: the files still to read, or the configuration.
#[derive(Debug)]
pub enum Resolution {
    ReadFiles(Vec<String>),
    Resolved(Box<Config>),
}

/// `Config::resolve`, with the `@filename` values taken from `files` (path,
/// contents).
pub fn resolve(
    file_text: Option<&str>,
    env: &[(String, String)],
    db_settings: &[(String, String)],
    files: &[(String, String)],
) -> Result<Resolution, ConfigError> {
    let config = Config::resolve(file_text, env, db_settings)?;
    let mut unread = Vec::new();
    let mut overrides = Vec::new();
    for (option, var) in FILE_OPTIONS {
        let Some(path) = config.file_reference(option) else {
            continue;
        };
        match files.iter().find(|(p, _)| p == path) {
            Some((_, text)) => {
                let value = if option == "db-uri" {
                    text.trim()
                } else {
                    text.strip_suffix('\n').unwrap_or(text)
                };
                overrides.push((var.to_string(), value.to_string()));
            }
            None => unread.push(path.to_string()),
        }
    }
    if !unread.is_empty() {
        return Ok(Resolution::ReadFiles(unread));
    }
    if overrides.is_empty() {
        return Ok(Resolution::Resolved(Box::new(config)));
    }
    let mut env = env.to_vec();
    env.extend(overrides);
    Config::resolve(file_text, &env, db_settings).map(|c| Resolution::Resolved(Box::new(c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_named_file_is_asked_for_then_read_as_the_option() {
        let env = env(&[
            ("PGRST_DB_URI", "@/run/db-uri"),
            ("PGRST_JWT_SECRET", "@/run/secret"),
        ]);
        match resolve(None, &env, &[], &[]).unwrap() {
            Resolution::ReadFiles(paths) => assert_eq!(paths, ["/run/db-uri", "/run/secret"]),
            other => panic!("{other:?}"),
        }
        let files = [
            (
                "/run/db-uri".to_string(),
                "  postgres://db/app\n".to_string(),
            ),
            (
                "/run/secret".to_string(),
                "reallyreallyreallyreallyverysafe\n".to_string(),
            ),
        ];
        let Resolution::Resolved(config) = resolve(None, &env, &[], &files).unwrap() else {
            panic!("files were given");
        };
        assert_eq!(config.db_uri, "postgres://db/app");
        assert_eq!(
            config.jwt_secret.as_deref(),
            Some("reallyreallyreallyreallyverysafe")
        );
    }

    #[test]
    fn a_secret_read_from_a_file_is_checked() {
        let env = env(&[("PGRST_JWT_SECRET", "@/run/secret")]);
        let files = [("/run/secret".to_string(), "short\n".to_string())];
        let err = resolve(None, &env, &[], &files).unwrap_err().to_string();
        assert!(err.contains("at least 32 characters"), "{err}");
    }
}
