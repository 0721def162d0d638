//! `pgrest-host`: serve a PostgreSQL database as a PostgREST-compatible API.
//! Configured by PGRST_* environment variables; with no database given it
//! starts a throwaway PostgreSQL with a demo schema.

use std::process::ExitCode;

use tokio::signal::unix::{SignalKind, signal};

#[tokio::main]
async fn main() -> ExitCode {
    let mut env: Vec<(String, String)> = std::env::vars().collect();
    let demo = if pgrest_host::demo::wanted(&env) {
        match tokio::task::spawn_blocking(pgrest_host::demo::start).await {
            Ok(Ok((cluster, vars))) => {
                env.extend(vars);
                Some(cluster)
            }
            Ok(Err(e)) => return fail(&format!("starting the demo database: {e}")),
            Err(e) => return fail(&e.to_string()),
        }
    } else {
        None
    };
    let server = match pgrest_host::start(env).await {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    println!("pgrest listening on http://{}", server.addr);
    if let Some(cluster) = &demo {
        print!("{}", pgrest_host::demo::examples(server.addr, cluster));
    }
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return fail("could not install signal handlers");
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    server.shutdown().await;
    drop(demo);
    ExitCode::SUCCESS
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("pgrest: {msg}");
    ExitCode::FAILURE
}
