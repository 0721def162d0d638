//! A connection of its own that listens on one channel (pgrest's schema
//! cache listener): opened as the pool's are (the same TLS, `require_auth`,
//! `channel_binding` and SCRAM checks), then `LISTEN`; notifications are
//! read as they arrive.

use postgres_protocol::message::backend::Message;

use crate::connection::{Conn, DbError, Error};
use crate::startup;
use crate::tls::PgConnect;

/// A connection listening on a channel.
pub struct Listening {
    conn: Conn,
}

impl Listening {
    /// Connects and listens on `channel`.
    pub async fn open(
        config: &tokio_postgres::Config,
        connect: &PgConnect,
        channel: &str,
    ) -> Result<Listening, Error> {
        let mut conn = startup::open(config, connect).await?;
        conn.simple(&format!("LISTEN \"{}\"", channel.replace('"', "\"\"")))
            .await?;
        Ok(Listening { conn })
    }

    /// The next notification's channel and payload; an error when the
    /// connection is lost.
    pub async fn next(&mut self) -> Result<(String, String), Error> {
        loop {
            match self.conn.message().await? {
                Message::NotificationResponse(body) => {
                    let text = |s: std::io::Result<&str>| s.map(str::to_string).map_err(Error::Io);
                    return Ok((text(body.channel())?, text(body.message())?));
                }
                Message::ErrorResponse(body) => return Err(Error::Db(DbError::parse(&body)?)),
                _ => {}
            }
        }
    }
}
