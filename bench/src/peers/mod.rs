//! The peer ORMs, each written in its own idiom (built with the default `peers` feature).

pub mod diesel;
pub mod seaorm;
pub mod sqlx;
