//! Plans: the request resolved against the schema cache, ready for SQL.

pub mod call;
pub mod embed;
pub mod mutate;
pub mod read;
