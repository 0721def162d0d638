//! A throwaway PostgreSQL cluster: one per integration-test binary, and the
//! server's demo mode when no database is configured.
//!
//! Synchronous (std::process) so it can run before any tokio runtime exists.
//! The cluster lives in `/tmp/pgrest-XXXXXX/` (short, because unix socket paths
//! are limited to 107 bytes) with `data/`, `sock/`, `postgres.log` and an
//! `owner.pid` marker naming the process that created it. It listens on the
//! unix socket only, so a fixed port number never collides.

#[cfg(feature = "pki")]
mod pki;

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, User, geteuid};
#[cfg(feature = "pki")]
pub use pki::Pki;

const PREFIX: &str = "pgrest-";
const OWNER_FILE: &str = "owner.pid";
const PORT: u16 = 5432;
const READY_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(50);
const SETTINGS: [&str; 4] = [
    "listen_addresses=",
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
];

/// How to start a cluster beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Also listen on 127.0.0.1 (a free port) with `ssl=on` and this
    /// certificate, for TLS tests (PostgreSQL has no TLS on unix sockets).
    pub tls: Option<ServerTls>,
    /// More `name=value` server settings (`-c`), e.g.
    /// `shared_preload_libraries=pg_stat_statements`.
    pub settings: Vec<String>,
}

/// The server's certificate chain and private key, PEM-encoded.
#[derive(Debug, Clone)]
pub struct ServerTls {
    pub cert_pem: String,
    pub key_pem: String,
}

/// A running cluster; dropping it stops postgres and removes its directory.
/// The superuser is `postgres`, authentication is `trust`.
#[derive(Debug)]
pub struct Cluster {
    bin_dir: PathBuf,
    socket_dir: PathBuf,
    port: u16,
    log: PathBuf,
    /// `(uid, gid)` of the `postgres` OS user when we run as root.
    run_as: Option<(u32, u32)>,
    postgres: Option<Child>,
    /// `-c` settings postgres is started with.
    settings: Vec<String>,
    // Last field: removed after `Drop::drop` has stopped postgres.
    dir: tempfile::TempDir,
}

impl Cluster {
    /// Reaps clusters leaked by dead processes, then initdb + starts postgres
    /// and waits until it accepts connections.
    pub fn start() -> Result<Cluster, String> {
        Cluster::start_with(Options::default())
    }

    /// `start`, with `options`.
    pub fn start_with(options: Options) -> Result<Cluster, String> {
        reap_leaked();
        let bin_dir = find_bin_dir()?;
        // PostgreSQL refuses to run as root: run the server as `postgres`.
        let run_as = if geteuid().is_root() {
            let user = User::from_name("postgres")
                .map_err(|e| format!("looking up the `postgres` OS user: {e}"))?
                .ok_or(
                    "running as root, and PostgreSQL refuses to; create a `postgres` OS user \
                        to run it as: `useradd --system --user-group --no-create-home postgres`",
                )?;
            Some((user.uid.as_raw(), user.gid.as_raw()))
        } else {
            None
        };
        // 0700: with trust auth, whoever reaches the socket is superuser (root still can).
        let dir = tempfile::Builder::new()
            .prefix(PREFIX)
            .permissions(fs::Permissions::from_mode(0o700))
            .tempdir_in("/tmp")
            .map_err(|e| format!("creating a temp dir under /tmp: {e}"))?;
        // The marker goes first so a concurrent reaper never takes this dir for leaked.
        let root = dir.path().to_path_buf();
        fs::write(root.join(OWNER_FILE), std::process::id().to_string())
            .map_err(|e| format!("writing {}: {e}", root.join(OWNER_FILE).display()))?;
        let mut cluster = Cluster {
            bin_dir,
            socket_dir: root.join("sock"),
            port: if options.tls.is_some() {
                free_port()?
            } else {
                PORT
            },
            log: root.join("postgres.log"),
            run_as,
            postgres: None,
            settings: Vec::new(),
            dir,
        };
        // From here on, an early return drops `cluster`, which cleans up.
        fs::create_dir(&cluster.socket_dir).map_err(|e| format!("creating socket dir: {e}"))?;
        if let Some((uid, gid)) = run_as {
            for p in [&root, &cluster.socket_dir] {
                std::os::unix::fs::chown(p, Some(uid), Some(gid))
                    .map_err(|e| format!("chown {} to postgres: {e}", p.display()))?;
            }
        }
        let data = root.join("data");
        let out = cluster
            .server("initdb")
            .arg("-D")
            .arg(&data)
            .args(["--username=postgres", "--auth=trust", "--encoding=UTF8"])
            .args(["--no-locale", "--no-sync"])
            .output()
            .map_err(|e| format!("running initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "initdb failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        cluster.settings = SETTINGS.iter().map(|s| s.to_string()).collect();
        cluster.settings.extend(options.settings.iter().cloned());
        if let Some(tls) = &options.tls {
            cluster.settings.extend(cluster.tls_settings(tls)?);
        }
        cluster.launch()?;
        Ok(cluster)
    }

    /// Starts postgres on the initialised data directory and waits until it
    /// accepts connections.
    fn launch(&mut self) -> Result<(), String> {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| format!("opening log file: {e}"))?;
        let log2 = log.try_clone().map_err(|e| format!("log file: {e}"))?;
        let mut postgres = self.server("postgres");
        postgres
            .arg("-D")
            .arg(self.data_dir())
            .arg("-k")
            .arg(&self.socket_dir);
        postgres.args(["-p", &self.port.to_string()]);
        for setting in &self.settings {
            postgres.args(["-c", setting]);
        }
        let child = postgres
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|e| format!("starting postgres: {e}"))?;
        self.postgres = Some(child);
        self.wait_ready()
    }

    /// Stops postgres (fast shutdown), keeping the data directory.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.postgres.take() {
            // SIGINT = fast shutdown: abort transactions, disconnect, exit.
            let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGINT);
            let deadline = Instant::now() + STOP_TIMEOUT;
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(POLL);
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts postgres again after `stop`, on the same data and socket.
    pub fn restart(&mut self) -> Result<(), String> {
        self.stop();
        self.launch()
    }

    /// The cluster's directory (data, socket, log), removed on drop.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Directory holding the unix socket (the `host` to connect to).
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The data directory (`pg_hba.conf` lives there; reload after editing it).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Puts `rules` (`pg_hba.conf` lines) ahead of the file's own, so they
    /// decide first, and reloads the configuration.
    pub fn prepend_hba(&self, rules: &str) -> Result<(), String> {
        let hba = self.data_dir().join("pg_hba.conf");
        let own =
            fs::read_to_string(&hba).map_err(|e| format!("reading {}: {e}", hba.display()))?;
        fs::write(&hba, format!("{rules}\n{own}"))
            .map_err(|e| format!("writing {}: {e}", hba.display()))?;
        self.psql_exec("SELECT pg_reload_conf();")
    }

    /// A libpq key=value connection string (accepted by tokio-postgres).
    pub fn conninfo(&self, user: &str, dbname: &str) -> String {
        format!(
            "host={} port={} user={} dbname={}",
            quote(&self.socket_dir.to_string_lossy()),
            self.port,
            quote(user),
            quote(dbname)
        )
    }

    /// The `host=127.0.0.1` connection string of a cluster started with TLS.
    pub fn tcp_conninfo(&self, user: &str, dbname: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user={} dbname={}",
            self.port,
            quote(user),
            quote(dbname)
        )
    }

    /// Writes the certificate and key (0600, owned by the server's user) and
    /// returns the settings that turn TLS on over TCP.
    fn tls_settings(&self, tls: &ServerTls) -> Result<Vec<String>, String> {
        let root = self.dir.path();
        let (cert, key) = (root.join("server.crt"), root.join("server.key"));
        for (path, pem) in [(&cert, &tls.cert_pem), (&key, &tls.key_pem)] {
            fs::write(path, pem).map_err(|e| format!("writing {}: {e}", path.display()))?;
            fs::set_permissions(path, fs::Permissions::from_mode(0o600))
                .map_err(|e| format!("chmod {}: {e}", path.display()))?;
            if let Some((uid, gid)) = self.run_as {
                std::os::unix::fs::chown(path, Some(uid), Some(gid))
                    .map_err(|e| format!("chown {} to postgres: {e}", path.display()))?;
            }
        }
        Ok(vec![
            "listen_addresses=127.0.0.1".to_string(),
            "ssl=on".to_string(),
            format!("ssl_cert_file={}", cert.display()),
            format!("ssl_key_file={}", key.display()),
        ])
    }

    /// Runs `sql` (on stdin) with `psql` as superuser `postgres` in database
    /// `postgres`, stopping at the first error.
    pub fn psql_exec(&self, sql: &str) -> Result<(), String> {
        let mut child = self
            .client("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("running psql: {e}"))?;
        // Write from a thread: psql may fill the stderr pipe before reading all of stdin.
        let mut stdin = child.stdin.take().ok_or("psql stdin")?;
        let sql = sql.to_owned();
        let writer = std::thread::spawn(move || stdin.write_all(sql.as_bytes()));
        let out = child
            .wait_with_output()
            .map_err(|e| format!("running psql: {e}"))?;
        let written = writer
            .join()
            .map_err(|_| "psql stdin writer panicked".to_string())?;
        if !out.status.success() {
            return Err(format!(
                "psql failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        written.map_err(|e| format!("writing SQL to psql: {e}"))
    }

    /// A binary from the bin dir without inherited PG* variables (PGOPTIONS,
    /// PGSSLMODE, PGDATA, ...), which could change what it does.
    fn bin(&self, name: &str) -> Command {
        let mut cmd = Command::new(self.bin_dir.join(name));
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("PG") {
                cmd.env_remove(k);
            }
        }
        cmd
    }

    /// initdb / postgres: as the `postgres` user when we are root, in a
    /// working directory it can enter (ours may not be).
    fn server(&self, name: &str) -> Command {
        let mut cmd = self.bin(name);
        cmd.current_dir(self.dir.path());
        if let Some((uid, gid)) = self.run_as {
            cmd.uid(uid).gid(gid);
        }
        cmd
    }

    /// A client (psql, pg_isready) connecting to this cluster as `postgres`.
    fn client(&self, name: &str) -> Command {
        let mut cmd = self.bin(name);
        cmd.arg("-h").arg(&self.socket_dir);
        cmd.args(["-p", &self.port.to_string(), "-U", "postgres"]);
        cmd
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let status = self
                .client("pg_isready")
                .args(["-q", "-d", "postgres"])
                .status();
            match status {
                Ok(s) if s.success() => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(format!("running pg_isready: {e}")),
            }
            if let Some(Ok(Some(st))) = self.postgres.as_mut().map(Child::try_wait) {
                return Err(format!(
                    "postgres exited ({st}); log tail:\n{}",
                    self.log_tail()
                ));
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "postgres not ready after {READY_TIMEOUT:?}; log tail:\n{}",
                    self.log_tail()
                ));
            }
            std::thread::sleep(POLL);
        }
    }

    fn log_tail(&self) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
        // `self.dir` (TempDir) removes the directory when dropped after this.
    }
}

/// A TCP port free on 127.0.0.1 right now (the OS picks it).
fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("finding a free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

/// Quotes a libpq conninfo value when needed.
fn quote(v: &str) -> String {
    if !v.is_empty() && !v.contains([' ', '\'', '\\']) {
        return v.to_owned();
    }
    format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// `PG_BIN_DIR`, else `pg_config --bindir`, else the newest `/usr/lib/postgresql/*/bin`.
fn find_bin_dir() -> Result<PathBuf, String> {
    let has_server = |d: &Path| d.join("initdb").is_file() && d.join("postgres").is_file();
    if let Some(d) = std::env::var_os("PG_BIN_DIR") {
        let d = PathBuf::from(d);
        return if has_server(&d) {
            Ok(d)
        } else {
            Err(format!(
                "PG_BIN_DIR={} has no initdb and postgres",
                d.display()
            ))
        };
    }
    // pg_config may come from libpq-dev alone, without the server: check.
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let d = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_server(&d) {
            return Ok(d);
        }
    }
    let mut found: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, d)| has_server(d))
        .collect();
    found.sort();
    found.pop().map(|(_, d)| d).ok_or_else(|| {
        "PostgreSQL server binaries (initdb, postgres) not found via PG_BIN_DIR, \
         `pg_config --bindir` or /usr/lib/postgresql/*/bin; install them with \
         `apt-get install -y postgresql` (Debian/Ubuntu) or set PG_BIN_DIR"
            .to_string()
    })
}

/// Stops and removes `/tmp/pgrest-*` clusters whose creator is dead (statics in
/// test binaries never drop). Without an owner marker, only a dead postmaster counts.
fn reap_leaked() {
    let Ok(entries) = fs::read_dir("/tmp") else {
        return;
    };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(PREFIX) {
            continue;
        }
        let dir = entry.path();
        let postmaster = read_pid(&dir.join("data/postmaster.pid"));
        let leaked = match read_pid(&dir.join(OWNER_FILE)) {
            Some(owner) => !alive(owner),
            None => postmaster.is_some_and(|p| !alive(p)),
        };
        if !leaked {
            continue;
        }
        if let Some(pid) = postmaster.filter(|&p| alive(p) && is_postgres(p)) {
            stop_foreign(pid);
        }
        let _ = fs::remove_dir_all(&dir);
    }
}

/// First line of a pid file (postmaster.pid has more lines after it).
fn read_pid(path: &Path) -> Option<i32> {
    let text = fs::read_to_string(path).ok()?;
    text.lines().next()?.trim().parse().ok().filter(|&p| p > 0)
}

/// Whether `pid` is a live (non-zombie) process. EPERM means alive, other user.
fn alive(pid: i32) -> bool {
    if pid <= 0 || kill(Pid::from_raw(pid), None) == Err(nix::errno::Errno::ESRCH) {
        return false;
    }
    // A zombie (e.g. a forgotten child of this very process) is dead for our purposes.
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next());
    state != Some('Z')
}

/// Guards against signalling an unrelated process that reused the pid.
fn is_postgres(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "postgres")
}

/// Fast shutdown of a postmaster that is not our child, then SIGKILL.
fn stop_foreign(pid: i32) {
    let target = Pid::from_raw(pid);
    let _ = kill(target, Signal::SIGINT);
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(pid) && Instant::now() < deadline {
        std::thread::sleep(POLL);
    }
    if alive(pid) {
        let _ = kill(target, Signal::SIGKILL);
    }
}
