//! What the criterion benches share.

use pgrest_translator::engine;

/// The introspection results for `config_json`: `leading` first (in the
/// order `engine::introspection` plans its statements: tables, foreign keys,
/// view columns, computed relationships, functions, …), an empty result for
/// each statement after them, so the benches follow the introspection as it
/// grows.
pub fn introspection(config: &[u8], leading: &[&str]) -> Vec<String> {
    let statements = engine::introspection(config, 150_000)
        .expect("introspection statements")
        .len();
    assert!(leading.len() <= statements, "more results than statements");
    (0..statements)
        .map(|i| leading.get(i).copied().unwrap_or("[]").to_string())
        .collect()
}
