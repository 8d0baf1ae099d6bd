//! The peer ORMs, each written in its own idiom (built with the default `peers` feature).

pub mod diesel;
pub mod seaorm;
pub mod sqlx;

use std::sync::Arc;

use crate::runner::{Concurrent, Sequential};

/// One connection of each peer, for the sequential workloads.
pub struct Peers<S, D> {
    sqlx: S,
    seaorm: seaorm::SeaOrm,
    diesel: D,
}

impl<S: Sequential, D: Sequential> Peers<S, D> {
    pub fn sequential(&self) -> [&dyn Sequential; 3] {
        [&self.sqlx, &self.seaorm, &self.diesel]
    }
}

pub async fn postgres(url: &str) -> Peers<sqlx::SqlxPg, diesel::DieselPg> {
    Peers {
        sqlx: sqlx::SqlxPg::connect(url).await,
        seaorm: seaorm::SeaOrm::connect(url, 1).await,
        diesel: diesel::DieselPg::connect(url).await,
    }
}

pub async fn mysql(url: &str) -> Peers<sqlx::SqlxMy, diesel::DieselMy> {
    Peers {
        sqlx: sqlx::SqlxMy::connect(url).await,
        seaorm: seaorm::SeaOrm::connect(url, 1).await,
        diesel: diesel::DieselMy::connect(url).await,
    }
}

pub async fn postgres_pools(url: &str, size: u32) -> [Arc<dyn Concurrent>; 3] {
    [
        Arc::new(sqlx::SqlxPgPool::connect(url, size).await),
        Arc::new(seaorm::SeaOrm::connect(url, size).await),
        Arc::new(diesel::DieselPgPool::new(url, size as usize)),
    ]
}

pub async fn mysql_pools(url: &str, size: u32) -> [Arc<dyn Concurrent>; 3] {
    [
        Arc::new(sqlx::SqlxMyPool::connect(url, size).await),
        Arc::new(seaorm::SeaOrm::connect(url, size).await),
        Arc::new(diesel::DieselMyPool::new(url, size as usize)),
    ]
}
