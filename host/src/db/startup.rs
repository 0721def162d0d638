//! Opening a pooled connection as libpq would: each host of the connection
//! string in turn, TLS per `sslmode` (never on unix sockets), the startup
//! message, then password, md5 or SCRAM-SHA-256 authentication; `hostaddr`
//! and `target_session_attrs` as libpq reads them.

use std::net::IpAddr;

use fallible_iterator::FallibleIterator;
use postgres_protocol::authentication::{md5_hash, sasl};
use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};
use tokio_postgres::config::{ChannelBinding, Host, TargetSessionAttrs};

use super::cancel::{CancelTarget, Peer};
use super::connection::{Conn, DbError, Error, Io};
use crate::tls::{PgConnect, SslMode};

pub async fn open(config: &tokio_postgres::Config, connect: &PgConnect) -> Result<Conn, Error> {
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
                SslMode::Allow => match open_one(config, connect, &target, false).await {
                    Ok(conn) => conn,
                    Err(_) => open_one(config, connect, &target, true).await?,
                },
                _ => open_one(config, connect, &target, true).await?,
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

/// One host; `tls` allows TLS as the mode says (`allow` tries without first).
async fn open_one(
    config: &tokio_postgres::Config,
    connect: &PgConnect,
    target: &Target<'_>,
    tls: bool,
) -> Result<Conn, Error> {
    let port = target.port;
    let (io, peer): (Box<dyn Io>, Peer) = match target.host {
        Host::Unix(dir) => {
            let path = dir.join(format!(".s.PGSQL.{port}"));
            let stream = UnixStream::connect(&path).await.map_err(Error::Io)?;
            (Box::new(stream), Peer::Unix(path))
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
            let (io, tls) = if wants_tls {
                negotiate(stream, name, connect).await?
            } else {
                (Box::new(stream) as Box<dyn Io>, false)
            };
            let host = name.clone();
            (io, Peer::Tcp { addr, host, tls })
        }
    };
    let mut conn = Conn::new(io);
    let key = startup(&mut conn, config).await?;
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
) -> Result<(Box<dyn Io>, bool), Error> {
    let mut request = bytes::BytesMut::new();
    frontend::ssl_request(&mut request);
    stream.write_all(&request).await.map_err(Error::Io)?;
    let answer = stream.read_u8().await.map_err(Error::Io)?;
    if answer != b'S' {
        return match connect.mode() {
            SslMode::Prefer | SslMode::Allow => Ok((Box::new(stream), false)),
            _ => Err(Error::Connect(
                "error performing TLS handshake: server does not support TLS".to_string(),
            )),
        };
    }
    let io = connect
        .handshake(stream, host)
        .await
        .map_err(Error::Connect)?;
    Ok((io, true))
}

/// The startup exchange; returns BackendKeyData's process id and key (a
/// proxy may send none: its sessions cannot be cancelled).
async fn startup(
    conn: &mut Conn,
    config: &tokio_postgres::Config,
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
    frontend::startup_message(params, &mut conn.out).map_err(Error::Io)?;
    conn.send(0).await?;
    authenticate(conn, config, user).await?;
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

async fn authenticate(
    conn: &mut Conn,
    config: &tokio_postgres::Config,
    user: &str,
) -> Result<(), Error> {
    let password = || {
        config
            .get_password()
            .ok_or_else(|| Error::Connect("password missing".to_string()))
    };
    let mut scram: Option<sasl::ScramSha256> = None;
    loop {
        match conn.message().await? {
            Message::AuthenticationOk => {
                if config.get_channel_binding() == ChannelBinding::Require {
                    return Err(Error::Connect(
                        "channel binding required but not supported".to_string(),
                    ));
                }
                return Ok(());
            }
            Message::AuthenticationCleartextPassword => {
                frontend::password_message(password()?, &mut conn.out).map_err(Error::Io)?;
            }
            Message::AuthenticationMd5Password(body) => {
                let hash = md5_hash(user.as_bytes(), password()?, body.salt());
                frontend::password_message(hash.as_bytes(), &mut conn.out).map_err(Error::Io)?;
            }
            Message::AuthenticationSasl(body) => {
                let offered: Vec<&str> = body.mechanisms().collect().map_err(Error::Io)?;
                if !offered.contains(&sasl::SCRAM_SHA_256) {
                    return Err(Error::Connect(format!(
                        "unsupported SASL mechanisms: {}",
                        offered.join(", ")
                    )));
                }
                // Without channel binding: tokio-postgres keeps a TLS
                // session's binding data private.
                let start =
                    sasl::ScramSha256::new(password()?, sasl::ChannelBinding::unsupported());
                frontend::sasl_initial_response(
                    sasl::SCRAM_SHA_256,
                    start.message(),
                    &mut conn.out,
                )
                .map_err(Error::Io)?;
                scram = Some(start);
            }
            Message::AuthenticationSaslContinue(body) => {
                let state = scram.as_mut().ok_or_else(unexpected)?;
                state
                    .update(body.data())
                    .map_err(|e| Error::Connect(e.to_string()))?;
                frontend::sasl_response(state.message(), &mut conn.out).map_err(Error::Io)?;
            }
            Message::AuthenticationSaslFinal(body) => {
                let state = scram.as_mut().ok_or_else(unexpected)?;
                state
                    .finish(body.data())
                    .map_err(|e| Error::Connect(e.to_string()))?;
                continue;
            }
            Message::ErrorResponse(body) => return Err(Error::Db(DbError::parse(&body)?)),
            _ => {
                return Err(Error::Connect(
                    "the server asks for an authentication method pgrest does not support"
                        .to_string(),
                ));
            }
        }
        conn.send(0).await?;
    }
}

fn unexpected() -> Error {
    Error::Protocol("SASL message out of order".to_string())
}
