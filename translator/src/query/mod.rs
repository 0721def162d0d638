//! SQL generation: every identifier quoted, every value a parameter.

mod embed;
pub mod mutate;
pub mod read;
pub mod settings;
pub mod sql;
