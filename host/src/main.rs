//! `pgrest-host`: serve a PostgreSQL database as a PostgREST-compatible API.
//! Configured like PostgREST: an optional config file as the one argument,
//! overridden by PGRST_* environment variables; with neither a file nor a
//! database given it starts a throwaway PostgreSQL with a demo schema.

use std::process::ExitCode;

use pgrest_host::cli::{self, Command};
use pgrest_host::log;
use tokio::signal::unix::{SignalKind, signal};

/// Worker (and blocking) thread stacks: component calls run on them, and
/// need the guest's stack plus the host's frames (`component.rs`); tokio's
/// default 2 MiB would make a deep call move to a fresh stack segment.
const THREAD_STACK: usize = 8 << 20;

fn main() -> ExitCode {
    log::install();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(THREAD_STACK)
        .build()
    {
        Ok(runtime) => runtime.block_on(serve()),
        Err(e) => fail(format!("starting the runtime: {e}")),
    }
}

async fn serve() -> ExitCode {
    let cli = match cli::parse(std::env::args().skip(1)) {
        Ok(cli) => cli,
        Err(e) => {
            eprint!("{e}\n\n{}", cli::USAGE);
            return ExitCode::FAILURE;
        }
    };
    let env: Vec<(String, String)> = std::env::vars().collect();
    match cli.command {
        Command::Help => print!("{}", cli::USAGE),
        Command::Version => println!("{}", cli::version()),
        Command::Example => print!("{}", cli::EXAMPLE),
        Command::DumpConfig => return dump_config(cli.config_file.as_deref(), &env).await,
        Command::DumpSchema => {
            return match pgrest_host::dump_schema(cli.config_file.as_deref(), env).await {
                Ok(json) => {
                    println!("{json}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            };
        }
        Command::Ready => return ready(cli.config_file.as_deref(), &env).await,
        Command::Run => return run(cli.config_file.as_deref(), env).await,
    }
    ExitCode::SUCCESS
}

async fn dump_config(file: Option<&std::path::Path>, env: &[(String, String)]) -> ExitCode {
    match pgrest_host::dump_config(file, env).await {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

/// `--ready`: probes the admin server of the server this configuration
/// describes.
async fn ready(file: Option<&std::path::Path>, env: &[(String, String)]) -> ExitCode {
    let settings = match pgrest_host::load_component().await {
        Ok(compiled) => pgrest_host::settings::resolve_config(&compiled, file, env, &[])
            .map(|resolved| resolved.host),
        Err(e) => Err(e),
    };
    let (host, port) = match settings.map(|s| s.admin_bind_addr()) {
        Ok(Some(addr)) => addr,
        Ok(None) => return fail("--ready needs admin-server-port"),
        Err(e) => return fail(e),
    };
    match pgrest_host::admin::probe(&host, port).await {
        Ok(200) => {
            println!("OK: http://{host}:{port}/ready");
            ExitCode::SUCCESS
        }
        Ok(status) => fail(format!("http://{host}:{port}/ready answered {status}")),
        Err(e) => fail(e),
    }
}

async fn run(file: Option<&std::path::Path>, mut env: Vec<(String, String)>) -> ExitCode {
    let demo = if file.is_none() && pgrest_host::demo::wanted(&env) {
        match tokio::task::spawn_blocking(pgrest_host::demo::start).await {
            Ok(Ok((cluster, vars))) => {
                env.extend(vars);
                Some(cluster)
            }
            Ok(Err(e)) => return fail(format!("starting the demo database: {e}")),
            Err(e) => return fail(e),
        }
    } else {
        None
    };
    let server = match pgrest_host::start_with_file(file, env).await {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    tracing::info!(target: log::ADDRESS, "pgrest listening on http://{}", server.addr);
    if let Some(cluster) = &demo {
        print!("{}", pgrest_host::demo::examples(server.addr, cluster));
    }
    let (Ok(mut term), Ok(mut int), Ok(mut usr1), Ok(mut usr2)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::user_defined1()),
        signal(SignalKind::user_defined2()),
    ) else {
        return fail("could not install signal handlers");
    };
    let mut code = ExitCode::SUCCESS;
    loop {
        // SIGUSR1 reloads the schema cache, SIGUSR2 the configuration, as
        // in PostgREST; a failed reload keeps the last good one serving.
        let reloaded = tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            // The database went away with db-pool-automatic-recovery off
            // (already logged): stop, after the answers in flight.
            _ = server.fatal() => {
                code = ExitCode::FAILURE;
                break;
            }
            _ = usr1.recv() => ("schema cache", server.reload_schema_cache().await),
            _ = usr2.recv() => ("config", server.reload_config().await),
        };
        match reloaded {
            (what, Ok(())) => tracing::info!("Reloaded the {what}"),
            (what, Err(e)) => tracing::error!("Failed reloading the {what}: {e}"),
        }
    }
    server.shutdown().await;
    drop(demo);
    code
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    tracing::error!("pgrest: {msg}");
    ExitCode::FAILURE
}
