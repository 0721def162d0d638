//! PostgreSQL text cannot hold NUL: not in a statement's SQL text (the
//! wire protocol ends it there, so a client library refuses to send it)
//! and not in a text parameter (the server refuses it before the statement
//! runs). A plan whose text would carry one is answered here, as
//! PostgreSQL answers such a parameter, without a database round trip.
//!
//! Names from the query string never get this far (their grammar refuses
//! control characters, PGRST100); what arrives here is a value: a filter
//! or RPC argument with `%00`, or a text body (`text/plain` to a function)
//! holding a NUL byte. JSON bodies escape it as `\u0000`, which PostgreSQL
//! itself refuses as text (22P05).

use crate::contract::{DbError, Outcome, Param};
use crate::error::ApiError;

/// `Err` (22021, 400) when a statement of `outcome` would carry NUL in
/// text: its SQL, a text parameter, or `body` bound as text.
pub(super) fn refuse(outcome: &Outcome, body: &[u8]) -> Result<(), ApiError> {
    let Outcome::Run(plan) = outcome else {
        return Ok(());
    };
    let body_has_nul = || body.contains(&0);
    let carries_nul = plan.statements.iter().any(|statement| {
        statement.sql.contains('\0')
            || statement.params.iter().any(|param| match param {
                Param::Text(text) => text.contains('\0'),
                Param::RequestBody => body_has_nul(),
                Param::SqlNull | Param::Bytes(_) => false,
            })
    });
    if carries_nul {
        return Err(ApiError::Db(DbError {
            sqlstate: "22021".to_string(),
            message: "invalid byte sequence for encoding \"UTF8\": 0x00".to_string(),
            detail: None,
            hint: None,
        }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{Plan, RowUse, Statement, TxEnd};

    fn run(sql: &str, params: Vec<Param>) -> Outcome {
        Outcome::Run(Plan {
            statements: vec![Statement {
                sql: sql.to_string(),
                params,
                rows: RowUse::ToRespond,
            }],
            tx_end: TxEnd::Commit,
            context: Vec::new(),
        })
    }

    fn refused(outcome: &Outcome, body: &[u8]) -> bool {
        match refuse(outcome, body) {
            Ok(()) => false,
            Err(e) => {
                assert_eq!((e.status(), e.code()), (400, "22021"));
                true
            }
        }
    }

    #[test]
    fn nul_in_text_is_22021() {
        assert!(refused(
            &run("SELECT $1", vec![Param::Text("a\0b".into())]),
            b""
        ));
        assert!(refused(&run("SELECT \"a\0\"", vec![]), b""));
        assert!(refused(&run("SELECT $1", vec![Param::RequestBody]), b"x\0"));
    }

    #[test]
    fn bytes_and_clean_text_pass() {
        assert!(!refused(
            &run("SELECT $1", vec![Param::Bytes(vec![0])]),
            b""
        ));
        assert!(!refused(
            &run("SELECT $1", vec![Param::RequestBody]),
            b"x\x01"
        ));
        assert!(!refused(
            &run(
                "SELECT $1, $2",
                vec![Param::Text("a\u{1}".into()), Param::SqlNull]
            ),
            b"\0"
        ));
    }
}
