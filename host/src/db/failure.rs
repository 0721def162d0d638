//! The PostgreSQL client's errors in the kinds the server decides by
//! (`Failure`), carrying the WIT types the component answers with.

use pgrest_pg::{Error, PoolError};

use crate::component::wit;

/// Why a plan did not run to the end.
#[derive(Debug)]
pub enum Failure {
    /// A statement failed; the first one in statement order. Also a
    /// request the encoder refused (nothing was sent), worded as PostgreSQL
    /// refuses the same input, e.g. a NUL byte (22021).
    Db(wit::DbError),
    /// This connection answered what the protocol does not allow, or what
    /// cannot be read (a column that is not UTF-8): the request fails and
    /// the connection is discarded; the server itself is fine.
    Connection(String),
    /// The host could not talk to the database: `DbUnreachable` and
    /// `DbConnectionLost` mean the server is gone (recovery starts).
    Host(wit::HostError),
}

impl Failure {
    /// Whether the database server itself went away.
    pub fn server_lost(&self) -> bool {
        matches!(
            self,
            Failure::Host(wit::HostError::DbUnreachable(_) | wit::HostError::DbConnectionLost(_))
        )
    }

    /// For the operator's log, with the server's message when there is one.
    pub(super) fn describe(self) -> String {
        match self {
            Failure::Db(db) => format!("ERROR: {} ({})", db.message, db.sqlstate),
            Failure::Connection(what) => what,
            Failure::Host(
                wit::HostError::DbUnreachable(why) | wit::HostError::DbConnectionLost(why),
            ) => why,
            Failure::Host(other) => format!("{other:?}"),
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        match e {
            Error::Db(db) if db.ends_session() => {
                Failure::Host(wit::HostError::DbConnectionLost(Error::Db(db).to_string()))
            }
            Error::Db(db) | Error::Unencodable(db) => Failure::Db(wit::DbError {
                sqlstate: db.code,
                message: db.message,
                detail: db.detail,
                hint: db.hint,
            }),
            Error::Protocol(_) => Failure::Connection(e.to_string()),
            Error::Io(_) => Failure::Host(wit::HostError::DbConnectionLost(e.to_string())),
            Error::Connect(why) => Failure::Host(wit::HostError::DbUnreachable(why)),
        }
    }
}

impl From<PoolError> for wit::HostError {
    fn from(e: PoolError) -> wit::HostError {
        match e {
            PoolError::Timeout => wit::HostError::PoolTimeout,
            PoolError::Unreachable(why) => wit::HostError::DbUnreachable(why),
        }
    }
}

#[cfg(test)]
mod tests {
    use pgrest_pg::DbError;

    use super::*;

    fn server_error(severity: &str, code: &str) -> DbError {
        DbError {
            severity: severity.to_string(),
            code: code.to_string(),
            message: "m".to_string(),
            detail: None,
            hint: None,
        }
    }

    #[test]
    fn only_losing_the_server_is_a_loss() {
        let lost = |e| Failure::from(e).server_lost();
        assert!(lost(Error::Db(server_error("FATAL", "57P01"))));
        assert!(lost(Error::Io(std::io::ErrorKind::UnexpectedEof.into())));
        assert!(lost(Error::Connect("refused".to_string())));
        assert!(!lost(Error::Db(server_error("ERROR", "23503"))));
        assert!(!lost(Error::Protocol("a surprise".to_string())));
        assert!(!lost(Error::Unencodable(server_error("ERROR", "22021"))));
        assert!(matches!(
            Failure::from(Error::Protocol("a surprise".to_string())),
            Failure::Connection(_)
        ));
    }
}
