//! The component's WIT values as the translator crate's `contract` types,
//! to compare the component with the native crate (the plan parity test, the
//! differential fuzz target, which includes this file).

use pgrest_host::component::wit;
use pgrest_translator::contract as c;

pub fn response(r: wit::HttpResponse) -> c::HttpResponse {
    c::HttpResponse {
        status: r.status,
        headers: r.headers,
        body: r.body,
    }
}

pub fn statement(s: wit::Statement) -> c::Statement {
    c::Statement {
        sql: s.sql,
        params: s
            .params
            .into_iter()
            .map(|p| match p {
                wit::Param::SqlNull => c::Param::SqlNull,
                wit::Param::Text(t) => c::Param::Text(t),
                wit::Param::Bytes(b) => c::Param::Bytes(b),
                wit::Param::RequestBody => c::Param::RequestBody,
            })
            .collect(),
        rows: match s.rows {
            wit::RowUse::Ignore => c::RowUse::Ignore,
            wit::RowUse::ToRespond => c::RowUse::ToRespond,
            wit::RowUse::Body => c::RowUse::Body,
        },
    }
}

pub fn outcome(o: wit::Outcome) -> c::Outcome {
    match o {
        wit::Outcome::Reply(r) => c::Outcome::Reply(c::Reply {
            response: response(r.response),
            stage: match r.stage {
                wit::Stage::Jwt => c::Stage::Jwt,
                wit::Stage::Parse => c::Stage::Parse,
                wit::Stage::Plan => c::Stage::Plan,
                wit::Stage::Response => c::Stage::Response,
            },
        }),
        wit::Outcome::Run(p) => c::Outcome::Run(c::Plan {
            statements: p.statements.into_iter().map(statement).collect(),
            tx_end: match p.tx_end {
                wit::TxEnd::Commit => c::TxEnd::Commit,
                wit::TxEnd::Rollback => c::TxEnd::Rollback,
                wit::TxEnd::AfterRespond => c::TxEnd::AfterRespond,
            },
            context: p.context,
        }),
    }
}

pub fn answer(a: wit::Answer) -> c::Answer {
    c::Answer {
        status: a.status,
        headers: a.headers,
        body: match a.body {
            wit::AnswerBody::Empty => c::AnswerBody::Empty,
            wit::AnswerBody::FromStatement => c::AnswerBody::FromStatement,
            wit::AnswerBody::Bytes(b) => c::AnswerBody::Bytes(b),
        },
        commit: a.commit,
    }
}

pub fn verified(v: wit::Verified) -> c::Verified {
    let time = |t| match t {
        wit::TimeClaim::Absent => c::TimeClaim::Absent,
        wit::TimeClaim::At(at) => c::TimeClaim::At(at),
        wit::TimeClaim::NotANumber => c::TimeClaim::NotANumber,
    };
    c::Verified {
        claims_json: v.claims_json,
        role: v.role,
        exp: time(v.exp),
        nbf: time(v.nbf),
        iat: time(v.iat),
        aud: match v.aud {
            wit::AudienceClaim::Absent => c::AudienceClaim::Absent,
            wit::AudienceClaim::Values(auds) => c::AudienceClaim::Values(auds),
            wit::AudienceClaim::Invalid => c::AudienceClaim::Invalid,
        },
    }
}

pub fn resolved(r: wit::ResolvedConfig) -> c::ResolvedConfig {
    let address = |a: wit::BindAddress| c::BindAddress {
        host: a.host,
        port: a.port,
    };
    let s = r.host;
    c::ResolvedConfig {
        host: c::HostSettings {
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
                wit::LogLevel::Crit => c::LogLevel::Crit,
                wit::LogLevel::Error => c::LogLevel::Error,
                wit::LogLevel::Warn => c::LogLevel::Warn,
                wit::LogLevel::Info => c::LogLevel::Info,
                wit::LogLevel::Debug => c::LogLevel::Debug,
            },
            log_query: match s.log_query {
                wit::LogQuery::Disabled => c::LogQuery::Disabled,
                wit::LogQuery::MainQuery => c::LogQuery::MainQuery,
            },
            jwt_cache_max_entries: s.jwt_cache_max_entries,
            server_translator_timeout: s.server_translator_timeout,
            limits: c::ClientLimits {
                read_header_timeout: s.limits.read_header_timeout,
                body_timeout: s.limits.body_timeout,
                idle_timeout: s.limits.idle_timeout,
                max_connections: s.limits.max_connections,
                max_body_bytes: s.limits.max_body_bytes,
                body_bytes_in_flight: s.limits.body_bytes_in_flight,
            },
        },
        config: r.config,
    }
}
