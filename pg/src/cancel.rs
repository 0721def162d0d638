//! Cancelling the statement a session runs, as libpq does: a CancelRequest
//! carrying the session's BackendKeyData, on a new connection to the very
//! address the session is connected to (`PQcancel` uses the session's
//! `raddr`, so no other host of the connection string and no new name
//! lookup), over TLS exactly when the session uses TLS (libpq 17's
//! `PQcancelCreate`; the key is as secret as a password). The server answers
//! nothing and closes the connection once it has signalled the backend.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use bytes::BytesMut;
use postgres_protocol::message::frontend;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};

use crate::connection::{Error, Io};
use crate::tls::PgConnect;

/// A cancel attempt never holds the dropped request's cleanup longer.
const LIMIT: Duration = Duration::from_secs(10);

/// Where a session's socket goes.
#[derive(Debug, Clone)]
pub(crate) enum Peer {
    /// The server's address, and the host name TLS verifies.
    Tcp {
        addr: SocketAddr,
        host: String,
        tls: bool,
    },
    Unix(PathBuf),
}

/// What cancelling one session takes.
#[derive(Debug, Clone)]
pub(crate) struct CancelTarget {
    pub(crate) peer: Peer,
    pub(crate) process_id: i32,
    pub(crate) secret_key: i32,
}

impl CancelTarget {
    /// Sends the CancelRequest and waits for the server to close the
    /// connection (it has then signalled the backend).
    pub(crate) async fn send(&self, connect: &PgConnect) -> Result<(), Error> {
        tokio::time::timeout(LIMIT, self.exchange(connect))
            .await
            .unwrap_or_else(|_| Err(Error::Connect("cancel request timed out".to_string())))
    }

    async fn exchange(&self, connect: &PgConnect) -> Result<(), Error> {
        let mut io: Box<dyn Io> = match &self.peer {
            Peer::Unix(path) => Box::new(UnixStream::connect(path).await.map_err(Error::Io)?),
            Peer::Tcp { addr, host, tls } => {
                let mut stream = TcpStream::connect(addr).await.map_err(Error::Io)?;
                if *tls {
                    if !crate::startup::agrees_to_tls(&mut stream).await? {
                        return Err(Error::Connect(
                            "the server no longer accepts TLS".to_string(),
                        ));
                    }
                    connect
                        .handshake(stream, host)
                        .await
                        .map_err(Error::Connect)?
                        .0
                } else {
                    Box::new(stream)
                }
            }
        };
        let mut request = BytesMut::new();
        frontend::cancel_request(self.process_id, self.secret_key, &mut request);
        io.write_all(&request).await.map_err(Error::Io)?;
        io.flush().await.map_err(Error::Io)?;
        let mut rest = Vec::new();
        // EOF, or a reset: either way the server is done with it.
        let _ = io.read_to_end(&mut rest).await;
        Ok(())
    }
}
