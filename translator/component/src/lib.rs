//! The WIT export of the translator: converts between wit-bindgen's types and
//! `pgrest_translator::contract` and forwards every call. No logic lives here.

wit_bindgen::generate!({ world: "translator", path: "../../wit" });

mod arena;

#[global_allocator]
static ALLOCATOR: arena::Allocator = arena::Allocator::new();

use exports::pgrest::translator::api as wit;
use pgrest_translator::{contract as c, engine};

struct Component;

impl wit::Guest for Component {
    type Engine = Engine;

    fn resolve_config(
        file_text: Option<String>,
        env: Vec<(String, String)>,
        db_settings: Vec<(String, String)>,
        files: Vec<(String, String)>,
    ) -> Result<wit::ConfigResolution, String> {
        let resolution = engine::resolve_config(file_text.as_deref(), &env, &db_settings, &files)
            .map_err(|e| e.to_string())?;
        Ok(match resolution {
            c::ConfigResolution::ReadFiles(paths) => wit::ConfigResolution::ReadFiles(paths),
            c::ConfigResolution::Resolved(r) => {
                let r = *r;
                wit::ConfigResolution::Resolved(wit::ResolvedConfig {
                    host: host_settings(r.host),
                    config: r.config,
                })
            }
        })
    }

    fn dump_config(config: Vec<u8>) -> Result<String, String> {
        engine::dump_config(&config).map_err(|e| e.to_string())
    }

    fn config_warnings(config: Vec<u8>) -> Result<Vec<String>, String> {
        engine::config_warnings(&config).map_err(|e| e.to_string())
    }

    fn db_config_statements(config: Vec<u8>) -> Result<Vec<wit::Statement>, String> {
        engine::db_config_statements(&config)
            .map(|stmts| stmts.into_iter().map(statement).collect())
            .map_err(|e| e.to_string())
    }

    fn introspection(config: Vec<u8>, server_version_num: u32) -> Result<Vec<wit::Statement>, String> {
        engine::introspection(&config, server_version_num)
            .map(|stmts| stmts.into_iter().map(statement).collect())
            .map_err(|e| e.to_string())
    }

    fn render_host_error(config: Vec<u8>, err: wit::HostError) -> wit::HttpResponse {
        let err = match err {
            wit::HostError::DbUnreachable(m) => c::HostError::DbUnreachable(m),
            wit::HostError::DbConnectionLost(m) => c::HostError::DbConnectionLost(m),
            wit::HostError::SchemaCacheNotLoaded => c::HostError::SchemaCacheNotLoaded,
            wit::HostError::PoolTimeout => c::HostError::PoolTimeout,
            wit::HostError::DbUnexpectedAnswer(m) => c::HostError::DbUnexpectedAnswer(m),
            wit::HostError::TranslatorFailed(m) => c::HostError::TranslatorFailed(m),
            wit::HostError::InvalidResponse(m) => c::HostError::InvalidResponse(m),
            wit::HostError::BodyTooLarge(n) => c::HostError::BodyTooLarge(n),
            wit::HostError::BodyTimeout(s) => c::HostError::BodyTimeout(s),
            wit::HostError::BodyInterrupted => c::HostError::BodyInterrupted,
            wit::HostError::BodiesInFlight => c::HostError::BodiesInFlight,
            wit::HostError::RequestHead(fault) => c::HostError::RequestHead(match fault {
                wit::HeadFault::Malformed => c::HeadFault::Malformed,
                wit::HeadFault::UriTooLong => c::HeadFault::UriTooLong,
                wit::HeadFault::TooLarge => c::HeadFault::TooLarge,
                wit::HeadFault::TimedOut => c::HeadFault::TimedOut,
            }),
        };
        response(engine::render_host_error(&config, &err))
    }
}

struct Engine(engine::Engine);

impl wit::GuestEngine for Engine {
    fn load(config: Vec<u8>, results: Vec<String>) -> Result<wit::Engine, String> {
        engine::Engine::load(&config, &results)
            .map(|e| wit::Engine::new(Engine(e)))
            .map_err(|e| e.to_string())
    }

    fn cors(&self, method: String, headers: Vec<(String, String)>) -> wit::CorsAnswer {
        match self.0.cors(&method, &headers) {
            c::CorsAnswer::None => wit::CorsAnswer::None,
            c::CorsAnswer::Preflight(r) => wit::CorsAnswer::Preflight(response(r)),
            c::CorsAnswer::Headers(h) => wit::CorsAnswer::Headers(h),
        }
    }

    fn verify_token(&self, authorization: String) -> wit::TokenCheck {
        match self.0.verify_token(&authorization) {
            c::TokenCheck::Anonymous => wit::TokenCheck::Anonymous,
            c::TokenCheck::Valid(v) => wit::TokenCheck::Valid(verified_out(v)),
            c::TokenCheck::Invalid(r) => wit::TokenCheck::Invalid(response(r)),
        }
    }

    fn plan(
        &self,
        req: wit::HttpRequest,
        claims: Option<wit::Verified>,
        now_epoch_seconds: i64,
    ) -> wit::Outcome {
        let _call = ALLOCATOR.call();
        let req = c::HttpRequest {
            method: req.method,
            path: req.path,
            query: req.query,
            headers: req.headers,
            body: req.body,
        };
        let claims = claims.map(verified_in);
        match self.0.plan(&req, claims.as_ref(), now_epoch_seconds) {
            c::Outcome::Run(p) => wit::Outcome::Run(wit::Plan {
                statements: p.statements.into_iter().map(statement).collect(),
                tx_end: match p.tx_end {
                    c::TxEnd::Commit => wit::TxEnd::Commit,
                    c::TxEnd::Rollback => wit::TxEnd::Rollback,
                    c::TxEnd::AfterRespond => wit::TxEnd::AfterRespond,
                },
                context: p.context,
            }),
            c::Outcome::Reply(r) => wit::Outcome::Reply(reply(r)),
        }
    }

    fn screen(
        &self,
        method: String,
        path: String,
        headers: Vec<(String, String)>,
        claims: Option<wit::Verified>,
        now_epoch_seconds: i64,
    ) -> Option<wit::Reply> {
        let _call = ALLOCATOR.call();
        let req = c::HttpRequest {
            method,
            path,
            query: String::new(),
            headers,
            body: Vec::new(),
        };
        self.0
            .screen(&req, claims.map(verified_in).as_ref(), now_epoch_seconds)
            .map(reply)
    }

    fn respond(&self, context: Vec<u8>, results: Vec<wit::Rows>) -> wit::Answer {
        let _call = ALLOCATOR.call();
        let a = self.0.respond(&context, &results);
        wit::Answer {
            status: a.status,
            headers: a.headers,
            body: match a.body {
                c::AnswerBody::Empty => wit::AnswerBody::Empty,
                c::AnswerBody::FromStatement => wit::AnswerBody::FromStatement,
                c::AnswerBody::Bytes(b) => wit::AnswerBody::Bytes(b),
            },
            commit: a.commit,
        }
    }

    fn respond_error(&self, context: Vec<u8>, err: wit::DbError) -> wit::HttpResponse {
        let _call = ALLOCATOR.call();
        let err = c::DbError {
            sqlstate: err.sqlstate,
            message: err.message,
            detail: err.detail,
            hint: err.hint,
        };
        response(self.0.respond_error(&context, &err))
    }

    fn dump_schema(&self) -> String {
        self.0.dump_schema()
    }
}

fn statement(s: c::Statement) -> wit::Statement {
    wit::Statement {
        sql: s.sql,
        params: s
            .params
            .into_iter()
            .map(|p| match p {
                c::Param::SqlNull => wit::Param::SqlNull,
                c::Param::Text(t) => wit::Param::Text(t),
                c::Param::Bytes(b) => wit::Param::Bytes(b),
                c::Param::RequestBody => wit::Param::RequestBody,
            })
            .collect(),
        rows: match s.rows {
            c::RowUse::Ignore => wit::RowUse::Ignore,
            c::RowUse::ToRespond => wit::RowUse::ToRespond,
            c::RowUse::Body => wit::RowUse::Body,
        },
    }
}

/// A `verified` record from one side's types to the other's (the variant
/// names are the same on both).
macro_rules! convert_verified {
    ($from:ident -> $to:ident, $v:expr) => {{
        let v = $v;
        let time = |t| match t {
            $from::TimeClaim::Absent => $to::TimeClaim::Absent,
            $from::TimeClaim::At(at) => $to::TimeClaim::At(at),
            $from::TimeClaim::NotANumber => $to::TimeClaim::NotANumber,
        };
        $to::Verified {
            claims_json: v.claims_json,
            role: v.role,
            exp: time(v.exp),
            nbf: time(v.nbf),
            iat: time(v.iat),
            aud: match v.aud {
                $from::AudienceClaim::Absent => $to::AudienceClaim::Absent,
                $from::AudienceClaim::Values(auds) => $to::AudienceClaim::Values(auds),
                $from::AudienceClaim::Invalid => $to::AudienceClaim::Invalid,
            },
        }
    }};
}

fn verified_out(v: c::Verified) -> wit::Verified {
    convert_verified!(c -> wit, v)
}

fn verified_in(v: wit::Verified) -> c::Verified {
    convert_verified!(wit -> c, v)
}

fn host_settings(s: c::HostSettings) -> wit::HostSettings {
    let address = |a: c::BindAddress| wit::BindAddress {
        host: a.host,
        port: a.port,
    };
    wit::HostSettings {
        db_uri: s.db_uri,
        db_pool: s.db_pool,
        db_pool_acquisition_timeout: s.db_pool_acquisition_timeout,
        db_pool_max_idletime: s.db_pool_max_idletime,
        db_pool_max_lifetime: s.db_pool_max_lifetime,
        db_pool_automatic_recovery: s.db_pool_automatic_recovery,
        db_prepared_statements: s.db_prepared_statements,
        db_channel: s.db_channel,
        db_channel_enabled: s.db_channel_enabled,
        server: address(s.server),
        admin_server: s.admin_server.map(address),
        server_trace_header: s.server_trace_header,
        server_timing_enabled: s.server_timing_enabled,
        log_level: match s.log_level {
            c::LogLevel::Crit => wit::LogLevel::Crit,
            c::LogLevel::Error => wit::LogLevel::Error,
            c::LogLevel::Warn => wit::LogLevel::Warn,
            c::LogLevel::Info => wit::LogLevel::Info,
            c::LogLevel::Debug => wit::LogLevel::Debug,
        },
        log_query: match s.log_query {
            c::LogQuery::Disabled => wit::LogQuery::Disabled,
            c::LogQuery::MainQuery => wit::LogQuery::MainQuery,
        },
        jwt_cache_max_entries: s.jwt_cache_max_entries,
        server_translator_timeout: s.server_translator_timeout,
        limits: wit::ClientLimits {
            read_header_timeout: s.limits.read_header_timeout,
            body_timeout: s.limits.body_timeout,
            idle_timeout: s.limits.idle_timeout,
            max_connections: s.limits.max_connections,
            max_body_bytes: s.limits.max_body_bytes,
            body_bytes_in_flight: s.limits.body_bytes_in_flight,
        },
    }
}

fn reply(r: c::Reply) -> wit::Reply {
    wit::Reply {
        response: response(r.response),
        stage: match r.stage {
            c::Stage::Jwt => wit::Stage::Jwt,
            c::Stage::Parse => wit::Stage::Parse,
            c::Stage::Plan => wit::Stage::Plan,
            c::Stage::Response => wit::Stage::Response,
        },
    }
}

fn response(r: c::HttpResponse) -> wit::HttpResponse {
    wit::HttpResponse {
        status: r.status,
        headers: r.headers,
        body: r.body,
    }
}

export!(Component);
