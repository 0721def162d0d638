//! Demo mode: with no database configured, pgrest-host starts a throwaway
//! PostgreSQL with a small schema, so a first run needs nothing else.

use pgrest_throwaway_pg::Cluster;

const SCHEMA: &str = include_str!("demo.sql");

/// True when neither a db-uri nor libpq connection variables are given.
pub fn wanted(env: &[(String, String)]) -> bool {
    !env.iter().any(|(k, _)| {
        matches!(
            k.as_str(),
            "PGRST_DB_URI" | "PGHOST" | "PGDATABASE" | "PGSERVICE"
        )
    })
}

/// Starts the cluster, loads the demo schema, and returns the variables
/// that point pgrest at it.
pub fn start() -> Result<(Cluster, Vec<(String, String)>), String> {
    let cluster = Cluster::start()?;
    cluster.psql_exec(SCHEMA)?;
    let env = vec![
        (
            "PGRST_DB_URI".to_string(),
            cluster.conninfo("authenticator", "postgres"),
        ),
        ("PGRST_DB_SCHEMAS".to_string(), "api".to_string()),
        ("PGRST_DB_ANON_ROLE".to_string(), "web_anon".to_string()),
    ];
    Ok((cluster, env))
}

/// What to try once the demo server listens.
pub fn examples(addr: std::net::SocketAddr, cluster: &Cluster) -> String {
    let base = format!("http://{addr}");
    format!(
        "Demo database in {} (removed on exit): schema \"api\" with tables \
         authors, books and todos. Try:\n  \
         curl '{base}/books?select=title,year&year=gte.1970&order=year.desc'\n  \
         curl '{base}/books?tags=cs.%7Bscience-fiction%7D&limit=2' -H 'Prefer: count=exact'\n  \
         curl '{base}/authors?select=name,books(title,year)&books.order=year'\n  \
         curl '{base}/authors?or=(born.lt.1925,name.ilike.*butler*)' -H 'Accept: text/csv'\n",
        cluster.dir().display()
    )
}
