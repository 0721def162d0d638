//! SQL generation: every identifier quoted, every value a parameter.

pub mod body;
pub mod call;
mod embed;
pub mod explain;
mod fragment;
pub mod mutate;
pub mod read;
pub mod settings;
pub mod sql;
