//! The behaviour suite: models, per-test isolated databases, and the checks every backend
//! must pass. `tests/*.rs` instantiate [`suite`] for each backend.

pub mod capture;
pub mod cut;
pub mod galera;
pub mod harness;
pub mod manager_suite;
pub mod models;
pub mod pgbouncer;
pub mod pool_suite;
pub mod probe;
pub mod replica;
pub mod schema_suite;
pub mod services;
pub mod suite;
pub mod tls_servers;

/// The README's examples, compiled as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
