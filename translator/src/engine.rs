//! The component's exports as plain Rust: what `wit/translator.wit` declares,
//! over `contract` types. The component crate only converts types.

use crate::app;
use crate::auth;
use crate::auth::jwt::JwtSettings;
use crate::config::role_settings::RoleSettings;
use crate::config::{Config, ConfigError, ErrorVerbosity, files, in_database};
use crate::contract::{
    Answer, AnswerBody, ConfigResolution, CorsAnswer, DbError, HostError, HttpRequest,
    HttpResponse, Outcome, Reply, ResolvedConfig, Rows, Statement, TokenCheck, Verified,
};
use crate::error::{ApiError, minimal_body};
use crate::schema_cache::{self, IntrospectionError, SchemaCache};

pub fn resolve_config(
    file_text: Option<&str>,
    env: &[(String, String)],
    db_settings: &[(String, String)],
    files: &[(String, String)],
) -> Result<ConfigResolution, ConfigError> {
    Ok(match files::resolve(file_text, env, db_settings, files)? {
        files::Resolution::ReadFiles(paths) => ConfigResolution::ReadFiles(paths),
        files::Resolution::Resolved(config) => {
            ConfigResolution::Resolved(Box::new(ResolvedConfig {
                host: config.host_settings(),
                config: config.to_bytes(),
            }))
        }
    })
}

/// `--dump-config`.
pub fn dump_config(config: &[u8]) -> Result<String, ConfigError> {
    Config::from_bytes(config).map(|config| config.dump())
}

/// What the operator should be told about a resolved configuration that
/// is nonetheless usable (the JWKS keys `jwt-secret` skips).
pub fn config_warnings(config: &[u8]) -> Result<Vec<String>, ConfigError> {
    let config = Config::from_bytes(config)?;
    let jwt = JwtSettings::from_config(&config)?;
    Ok(jwt.warnings().to_vec())
}

/// The statements that read the in-database configuration (none when
/// `db-config` is off); their rows go back to `resolve_config`.
pub fn db_config_statements(config: &[u8]) -> Result<Vec<Statement>, ConfigError> {
    Config::from_bytes(config).map(|config| in_database::statements(&config))
}

pub fn introspection(
    config: &[u8],
    server_version_num: u32,
) -> Result<Vec<Statement>, ConfigError> {
    let config = Config::from_bytes(config)?;
    Ok(schema_cache::introspection_statements(
        &config,
        server_version_num,
    ))
}

/// A host-detected failure (PGRST000–003), shaped by the configuration's
/// `client-error-verbosity`; a configuration that does not parse leaves it
/// in full.
pub fn render_host_error(config: &[u8], err: &HostError) -> HttpResponse {
    let mut response = ApiError::from_host(err).to_response();
    if let Ok(config) = Config::from_bytes(config) {
        shape_error(
            config.client_error_verbosity,
            response.status,
            &mut response.body,
        );
    }
    response
}

/// Why a generation cannot load.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Introspection(#[from] IntrospectionError),
}

/// Configuration and schema cache of one schema generation.
pub struct Engine {
    config: Config,
    jwt: JwtSettings,
    cache: SchemaCache,
}

impl Engine {
    pub fn load(config: &[u8], introspection_results: &[String]) -> Result<Engine, LoadError> {
        let mut config = Config::from_bytes(config)?;
        let [schema @ .., roles] = introspection_results else {
            return Err(IntrospectionError::Count {
                expected: 8,
                got: 0,
            }
            .into());
        };
        if config.db_config {
            config.role_settings = RoleSettings::load(roles)?;
        }
        Ok(Engine {
            jwt: JwtSettings::from_config(&config).map_err(ConfigError::from)?,
            cache: SchemaCache::load(schema)?,
            config,
        })
    }

    /// CORS, before anything else: a preflight answer, headers for the
    /// response, or nothing.
    pub fn cors(&self, method: &str, headers: &[(String, String)]) -> CorsAnswer {
        crate::cors::answer(
            self.config.server_cors_allowed_origins.as_deref(),
            method,
            headers,
        )
    }

    pub fn verify_token(&self, authorization: &str) -> TokenCheck {
        match auth::verify_token(&self.jwt, authorization) {
            TokenCheck::Invalid(response) => TokenCheck::Invalid(self.client_error(response)),
            other => other,
        }
    }

    pub fn plan(
        &self,
        req: &HttpRequest,
        claims: Option<&Verified>,
        now_epoch_seconds: i64,
    ) -> Outcome {
        match app::plan(
            &self.config,
            &self.cache,
            req,
            auth::authenticate(&self.config, &self.jwt, claims, now_epoch_seconds),
        ) {
            Outcome::Reply(reply) => Outcome::Reply(Reply {
                response: self.client_error(reply.response),
                ..reply
            }),
            run => run,
        }
    }

    /// `plan`'s refusals that need no body (see `app::screen`), so a host
    /// answers them before reading one. `req`'s body is ignored.
    pub fn screen(
        &self,
        req: &HttpRequest,
        claims: Option<&Verified>,
        now_epoch_seconds: i64,
    ) -> Option<Reply> {
        app::screen(
            &self.config,
            &self.cache,
            req,
            auth::authenticate(&self.config, &self.jwt, claims, now_epoch_seconds),
        )
        .map(|reply| Reply {
            response: self.client_error(reply.response),
            ..reply
        })
    }

    pub fn respond(&self, context: &[u8], results: &[Rows]) -> Answer {
        let mut answer = app::respond(&self.config, &self.cache, context, results);
        if let AnswerBody::Bytes(body) = &mut answer.body {
            shape_error(self.config.client_error_verbosity, answer.status, body);
        }
        answer
    }

    pub fn respond_error(&self, context: &[u8], err: &DbError) -> HttpResponse {
        self.client_error(app::respond_error(context, err))
    }

    fn client_error(&self, mut response: HttpResponse) -> HttpResponse {
        shape_error(
            self.config.client_error_verbosity,
            response.status,
            &mut response.body,
        );
        response
    }

    pub fn dump_schema(&self) -> String {
        serde_json::to_string(&self.cache).expect("the schema cache serializes")
    }
}

/// An error body as `client-error-verbosity` shows it to clients (the
/// host's own log is not affected).
fn shape_error(verbosity: ErrorVerbosity, status: u16, body: &mut Vec<u8>) {
    if status >= 400
        && verbosity == ErrorVerbosity::Minimal
        && let Some(minimal) = minimal_body(body)
    {
        *body = minimal;
    }
}
