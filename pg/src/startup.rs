//! Opening a pooled connection as libpq would: each host of the connection
//! string in turn, TLS per `sslmode` (never on unix sockets), the startup
//! message, then password, md5 or SCRAM-SHA-256 authentication; `hostaddr`
//! and `target_session_attrs` as libpq reads them.
//!
//! Authentication follows libpq 16: `require_auth` limits the methods the
//! server may ask for; `channel_binding` (`prefer` by default) picks
//! SCRAM-SHA-256-PLUS over TLS when the server offers it, and `require`
//! refuses any other method; once SCRAM has started, the server must prove
//! it knows the password (AuthenticationSASLFinal, its signature checked)
//! before AuthenticationOk counts.

use std::net::IpAddr;

use fallible_iterator::FallibleIterator;
use postgres_protocol::authentication::{md5_hash, sasl};
use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};
use tokio_postgres::config::{ChannelBinding, Host, TargetSessionAttrs};

use crate::cancel::{CancelTarget, Peer};
use crate::connection::{Conn, DbError, Error, Io};
use crate::require_auth::{Method, RequireAuth};
use crate::tls::{PgConnect, SslMode};

pub(crate) async fn open(
    config: &tokio_postgres::Config,
    connect: &PgConnect,
) -> Result<Conn, Error> {
    open_session(config, connect, Session::Regular).await
}

/// What a connection is for: statements, or a logical replication stream
/// (the `replication=database` walsender, which also runs SQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Session {
    Regular,
    Replication,
}

/// `open`, for `session`.
pub(crate) async fn open_session(
    config: &tokio_postgres::Config,
    connect: &PgConnect,
    session: Session,
) -> Result<Conn, Error> {
    let ports = config.get_ports();
    let mut last = Error::Connect("no host to connect to".to_string());
    for (i, host) in config.get_hosts().iter().enumerate() {
        let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
        let target = Target {
            host,
            // `hostaddr`: the address to connect to, without a name lookup
            // (the host name still serves TLS).
            addr: config.get_hostaddrs().get(i).copied(),
            port,
        };
        let attempt = async {
            let conn = match connect.mode() {
                SslMode::Allow => match open_one(config, connect, &target, false, session).await {
                    Ok(conn) => conn,
                    Err(_) => open_one(config, connect, &target, true, session).await?,
                },
                _ => open_one(config, connect, &target, true, session).await?,
            };
            check_session(conn, config.get_target_session_attrs()).await
        };
        let opened = match config.get_connect_timeout() {
            Some(limit) => tokio::time::timeout(*limit, attempt)
                .await
                .unwrap_or_else(|_| Err(Error::Connect("timeout expired".to_string()))),
            None => attempt.await,
        };
        match opened {
            Ok(conn) => return Ok(conn),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Where one attempt connects.
struct Target<'a> {
    host: &'a Host,
    addr: Option<IpAddr>,
    port: u16,
}

/// `target_session_attrs`: a host whose session is not what was asked for
/// is skipped, as libpq does.
async fn check_session(mut conn: Conn, wanted: TargetSessionAttrs) -> Result<Conn, Error> {
    let read_only = match wanted {
        TargetSessionAttrs::ReadWrite => false,
        TargetSessionAttrs::ReadOnly => true,
        _ => return Ok(conn),
    };
    let mode = conn.simple("SHOW transaction_read_only").await?;
    if (mode.as_deref() == Some("on")) == read_only {
        Ok(conn)
    } else {
        Err(Error::Connect(format!(
            "the server's session is not {} (target_session_attrs)",
            if read_only { "read-only" } else { "read-write" }
        )))
    }
}

/// What authentication needs to know of the connection it runs over.
enum Transport {
    Unix,
    Tcp,
    /// With the server certificate's `tls-server-end-point` hash, when it
    /// has one.
    Tls {
        end_point: Option<Vec<u8>>,
    },
}

/// One host; `tls` allows TLS as the mode says (`allow` tries without first).
async fn open_one(
    config: &tokio_postgres::Config,
    connect: &PgConnect,
    target: &Target<'_>,
    tls: bool,
    session: Session,
) -> Result<Conn, Error> {
    let port = target.port;
    let (io, transport, peer): (Box<dyn Io>, Transport, Peer) = match target.host {
        Host::Unix(dir) => {
            let path = dir.join(format!(".s.PGSQL.{port}"));
            let stream = UnixStream::connect(&path).await.map_err(Error::Io)?;
            (Box::new(stream), Transport::Unix, Peer::Unix(path))
        }
        Host::Tcp(name) => {
            let stream = match target.addr {
                Some(addr) => TcpStream::connect((addr, port)).await,
                None => TcpStream::connect((name.as_str(), port)).await,
            }
            .map_err(Error::Io)?;
            stream.set_nodelay(true).map_err(Error::Io)?;
            tcp_options(&stream, config).map_err(Error::Io)?;
            let addr = stream.peer_addr().map_err(Error::Io)?;
            let wants_tls = tls && connect.mode() != SslMode::Disable;
            let (io, transport) = if wants_tls {
                negotiate(stream, name, connect).await?
            } else {
                (Box::new(stream) as Box<dyn Io>, Transport::Tcp)
            };
            let tls = matches!(transport, Transport::Tls { .. });
            let host = name.clone();
            (io, transport, Peer::Tcp { addr, host, tls })
        }
    };
    let mut conn = Conn::new(io);
    let key = startup(
        &mut conn,
        config,
        connect.require_auth(),
        &transport,
        session,
    )
    .await?;
    conn.cancel = key.map(|(process_id, secret_key)| CancelTarget {
        peer,
        process_id,
        secret_key,
    });
    Ok(conn)
}

/// Keepalives (on by default, as in libpq) and `tcp_user_timeout`.
fn tcp_options(stream: &TcpStream, config: &tokio_postgres::Config) -> std::io::Result<()> {
    let socket = socket2::SockRef::from(stream);
    if config.get_keepalives() {
        let mut keepalive = socket2::TcpKeepalive::new().with_time(config.get_keepalives_idle());
        if let Some(interval) = config.get_keepalives_interval() {
            keepalive = keepalive.with_interval(interval);
        }
        if let Some(retries) = config.get_keepalives_retries() {
            keepalive = keepalive.with_retries(retries);
        }
        socket.set_tcp_keepalive(&keepalive)?;
    }
    if let Some(timeout) = config.get_tcp_user_timeout() {
        socket.set_tcp_user_timeout(Some(*timeout))?;
    }
    Ok(())
}

/// SSLRequest, then the handshake if the server agrees; a server without
/// TLS is fine for `prefer` (and `allow`'s second try) only. Says whether
/// the stream is TLS.
async fn negotiate(
    mut stream: TcpStream,
    host: &str,
    connect: &PgConnect,
) -> Result<(Box<dyn Io>, Transport), Error> {
    if !agrees_to_tls(&mut stream).await? {
        return match connect.mode() {
            SslMode::Prefer | SslMode::Allow => Ok((Box::new(stream), Transport::Tcp)),
            _ => Err(Error::Connect(
                "error performing TLS handshake: server does not support TLS".to_string(),
            )),
        };
    }
    let (io, end_point) = connect
        .handshake(stream, host)
        .await
        .map_err(Error::Connect)?;
    Ok((io, Transport::Tls { end_point }))
}

/// Sends SSLRequest; says whether the server agreed to a TLS handshake.
pub(crate) async fn agrees_to_tls(stream: &mut TcpStream) -> Result<bool, Error> {
    let mut request = bytes::BytesMut::new();
    frontend::ssl_request(&mut request);
    stream.write_all(&request).await.map_err(Error::Io)?;
    Ok(stream.read_u8().await.map_err(Error::Io)? == b'S')
}

/// The startup exchange; returns BackendKeyData's process id and key (a
/// proxy may send none: its sessions cannot be cancelled).
async fn startup(
    conn: &mut Conn,
    config: &tokio_postgres::Config,
    require_auth: &RequireAuth,
    transport: &Transport,
    session: Session,
) -> Result<Option<(i32, i32)>, Error> {
    let user = config
        .get_user()
        .ok_or_else(|| Error::Connect("no user to connect as".to_string()))?;
    let mut params = vec![("client_encoding", "UTF8"), ("user", user)];
    params.extend(config.get_dbname().map(|db| ("database", db)));
    params.extend(config.get_options().map(|o| ("options", o)));
    params.extend(
        config
            .get_application_name()
            .map(|a| ("application_name", a)),
    );
    if session == Session::Replication {
        params.push(("replication", "database"));
    }
    frontend::startup_message(params, &mut conn.out).map_err(Error::Io)?;
    conn.send(0).await?;
    let auth = Auth {
        config,
        user,
        require_auth,
        transport,
    };
    auth.run(conn).await?;
    let mut key = None;
    loop {
        match conn.message().await? {
            Message::ReadyForQuery(_) => return Ok(key),
            Message::ErrorResponse(body) => return Err(Error::Db(DbError::parse(&body)?)),
            Message::BackendKeyData(body) => key = Some((body.process_id(), body.secret_key())),
            Message::ParameterStatus(_) | Message::NoticeResponse(_) => {}
            _ => return Err(Error::Protocol("during startup".to_string())),
        }
    }
}

/// One authentication exchange.
struct Auth<'a> {
    config: &'a tokio_postgres::Config,
    user: &'a str,
    require_auth: &'a RequireAuth,
    transport: &'a Transport,
}

/// A SCRAM exchange under way.
struct Scram {
    state: sasl::ScramSha256,
    channel_bound: bool,
    /// The server's signature was verified (AuthenticationSASLFinal).
    verified: bool,
}

impl Auth<'_> {
    /// Answers the server's requests until AuthenticationOk.
    async fn run(&self, conn: &mut Conn) -> Result<(), Error> {
        let binding = self.config.get_channel_binding();
        // An exchange the client completed (libpq's `client_finished_auth`).
        let mut finished = false;
        let mut scram: Option<Scram> = None;
        loop {
            let message = conn.message().await?;
            if let Some(method) = requested_method(&message) {
                self.require_auth.check(method)?;
                if binding == ChannelBinding::Require && method != Method::ScramSha256 {
                    return Err(refused(
                        "channel binding required but not supported by server's authentication \
                         request",
                    ));
                }
            }
            match message {
                Message::AuthenticationOk => {
                    if scram.as_ref().is_some_and(|s| !s.verified) {
                        return Err(refused(
                            "the server ended SCRAM authentication without proving it knows \
                             the password (no AuthenticationSASLFinal)",
                        ));
                    }
                    self.require_auth.check_ok(finished)?;
                    if binding == ChannelBinding::Require
                        && !scram.as_ref().is_some_and(|s| s.channel_bound)
                    {
                        return Err(refused(
                            "channel binding required, but server authenticated client \
                             without channel binding",
                        ));
                    }
                    return Ok(());
                }
                Message::AuthenticationCleartextPassword => {
                    if matches!(self.transport, Transport::Tcp) {
                        eprintln!(
                            "Warning: the database asks for a cleartext password; it is sent \
                             over an unencrypted TCP connection (set sslmode, or use \
                             scram-sha-256 and require_auth=scram-sha-256)"
                        );
                    }
                    frontend::password_message(self.password()?, &mut conn.out)
                        .map_err(Error::Io)?;
                    finished = true;
                }
                Message::AuthenticationMd5Password(body) => {
                    let hash = md5_hash(self.user.as_bytes(), self.password()?, body.salt());
                    frontend::password_message(hash.as_bytes(), &mut conn.out)
                        .map_err(Error::Io)?;
                    finished = true;
                }
                Message::AuthenticationSasl(body) => {
                    if scram.is_some() {
                        return Err(unexpected());
                    }
                    let offered: Vec<&str> = body.mechanisms().collect().map_err(Error::Io)?;
                    let (mechanism, channel) = self.mechanism(&offered, binding)?;
                    let state = sasl::ScramSha256::new(self.password()?, channel);
                    frontend::sasl_initial_response(mechanism, state.message(), &mut conn.out)
                        .map_err(Error::Io)?;
                    scram = Some(Scram {
                        state,
                        channel_bound: mechanism == sasl::SCRAM_SHA_256_PLUS,
                        verified: false,
                    });
                }
                Message::AuthenticationSaslContinue(body) => {
                    let s = scram.as_mut().ok_or_else(unexpected)?;
                    s.state
                        .update(body.data())
                        .map_err(|e| refused(&format!("SCRAM authentication failed: {e}")))?;
                    frontend::sasl_response(s.state.message(), &mut conn.out).map_err(Error::Io)?;
                }
                Message::AuthenticationSaslFinal(body) => {
                    let s = scram.as_mut().ok_or_else(unexpected)?;
                    // Checks the server's signature.
                    s.state.finish(body.data()).map_err(|e| {
                        refused(&format!(
                            "the server's SCRAM signature does not verify: {e}"
                        ))
                    })?;
                    s.verified = true;
                    finished = true;
                    continue;
                }
                Message::ErrorResponse(body) => return Err(Error::Db(DbError::parse(&body)?)),
                _ => {
                    return Err(refused(
                        "the server asks for an authentication method pgrest does not support",
                    ));
                }
            }
            conn.send(0).await?;
        }
    }

    fn password(&self) -> Result<&[u8], Error> {
        self.config
            .get_password()
            .ok_or_else(|| refused("password missing"))
    }

    /// The SASL mechanism and SCRAM channel binding, as libpq picks them:
    /// SCRAM-SHA-256-PLUS over TLS unless `channel_binding=disable`, else
    /// SCRAM-SHA-256, telling the server whether the client could bind.
    fn mechanism(
        &self,
        offered: &[&str],
        binding: ChannelBinding,
    ) -> Result<(&'static str, sasl::ChannelBinding), Error> {
        let end_point = match self.transport {
            Transport::Tls { end_point } => end_point.as_ref(),
            _ => None,
        };
        if offered.contains(&sasl::SCRAM_SHA_256_PLUS) {
            if !matches!(self.transport, Transport::Tls { .. }) {
                return Err(refused(
                    "server offered SCRAM-SHA-256-PLUS authentication over a non-SSL connection",
                ));
            }
            if binding != ChannelBinding::Disable
                && let Some(hash) = end_point
            {
                return Ok((
                    sasl::SCRAM_SHA_256_PLUS,
                    sasl::ChannelBinding::tls_server_end_point(hash.clone()),
                ));
            }
        }
        if binding == ChannelBinding::Require {
            return Err(refused(
                "channel binding is required, but server did not offer an authentication \
                 method that supports channel binding",
            ));
        }
        if !offered.contains(&sasl::SCRAM_SHA_256) {
            return Err(refused(
                "none of the server's SASL authentication mechanisms are supported",
            ));
        }
        // "y": the client could bind, the server did not offer to (a
        // server that can is then told of the downgrade).
        let channel = if binding != ChannelBinding::Disable && end_point.is_some() {
            sasl::ChannelBinding::unrequested()
        } else {
            sasl::ChannelBinding::unsupported()
        };
        Ok((sasl::SCRAM_SHA_256, channel))
    }
}

/// The method an authentication request asks for, as `require_auth` and
/// `channel_binding` check it.
fn requested_method(message: &Message) -> Option<Method> {
    Some(match message {
        Message::AuthenticationCleartextPassword => Method::Password,
        Message::AuthenticationMd5Password(_) => Method::Md5,
        Message::AuthenticationSasl(_)
        | Message::AuthenticationSaslContinue(_)
        | Message::AuthenticationSaslFinal(_) => Method::ScramSha256,
        Message::AuthenticationGss | Message::AuthenticationGssContinue(_) => Method::Gss,
        Message::AuthenticationSspi => Method::Sspi,
        _ => return None,
    })
}

fn refused(why: &str) -> Error {
    Error::Connect(why.to_string())
}

fn unexpected() -> Error {
    Error::Protocol("SASL message out of order".to_string())
}
