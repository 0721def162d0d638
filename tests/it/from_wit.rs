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
        wit::Outcome::Reply(r) => c::Outcome::Reply(response(r)),
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
