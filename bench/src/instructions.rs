//! Client instructions per iteration, counted by callgrind: they do not move with the
//! machine's load, as wall clock does (15-40 % between runs on two shared cores).
//!
//! Each (backend, workload, implementation) runs in a child process of this binary
//! (`orm-bench profile BACKEND WORKLOAD IMPL N`) under `valgrind --tool=callgrind`, twice:
//! with one warm-up iteration only, and with the warm-up and `N` more. The difference
//! divided by `N` is one iteration's cost: connecting, preparing and the first run's
//! caches cancel out, every thread of the client counts (the driver's connection task
//! too), and the server's work does not (it is another process).

use std::process::Command;
use std::sync::Arc;

use orm_manager::prelude::*;

use crate::models;
use crate::orm::Orm;
use crate::runner::{Concurrent, Sequential};

/// One counted workload: its key on the command line, its name in the report, and how
/// many iterations the second run adds.
pub struct Workload {
    pub key: &'static str,
    pub title: &'static str,
    pub iterations: usize,
}

/// The workloads counted on PostgreSQL and MariaDB.
pub const SERVER_WORKLOADS: &[Workload] = &[
    Workload {
        key: "lookup",
        title: "one-row lookup by id (pool of 8, one at a time)",
        iterations: 200,
    },
    Workload {
        key: "trivial-1",
        title: "trivial query, 1 row",
        iterations: 200,
    },
    Workload {
        key: "trivial-10000",
        title: "trivial query, 10,000 rows",
        iterations: 5,
    },
    Workload {
        key: "prefetch",
        title: "100 users + posts + comments",
        iterations: 20,
    },
    Workload {
        key: "insert-1000",
        title: "insert 1,000 rows",
        iterations: 10,
    },
    Workload {
        key: "bulk-10000",
        title: "bulk load 10,000 rows",
        iterations: 2,
    },
];

/// The workloads counted on SQLite.
pub const SQLITE_WORKLOADS: &[Workload] = &[
    Workload {
        key: "lookup",
        title: "one-row lookup by id",
        iterations: 500,
    },
    Workload {
        key: "trivial-1",
        title: "trivial query, 1 row",
        iterations: 500,
    },
    Workload {
        key: "insert-1000",
        title: "insert 1,000 rows",
        iterations: 10,
    },
];

/// The implementations counted on a server, raw driver first (the peers when built).
pub const SERVER_IMPLS: &[&str] = if cfg!(feature = "peers") {
    &["raw", "orm", "sqlx", "seaorm", "diesel"]
} else {
    &["raw", "orm"]
};
/// The implementations counted on SQLite: raw rusqlite, then this ORM's paths (async is
/// the default, `RunOn::Adaptive`).
pub const SQLITE_IMPLS: &[&str] = &["raw", "sync", "async", "inline", "blocking"];

/// One count: instructions per iteration of one implementation.
#[derive(Debug, Clone)]
pub struct Count {
    pub backend: &'static str,
    pub workload: &'static str,
    pub implementation: String,
    pub per_iteration: u64,
}

/// In the child: one server workload through one implementation, `1 + n` times. Returns
/// the implementation's name for the report, or `None` for an unknown one.
pub async fn server_child(
    backend: &str,
    url: &str,
    workload: &str,
    which: &str,
    n: usize,
) -> Option<&'static str> {
    if workload == "lookup" {
        let pool = pool_of(backend, url, which).await?;
        for i in 0..=n as i64 {
            let id = i % 10_000 + 1;
            assert_eq!(pool.lookup(id).await, id);
        }
        return Some(pool.name());
    }
    let one = one_of(backend, url, which).await?;
    let users = models::users(if workload == "bulk-10000" {
        10_000
    } else {
        1000
    });
    for _ in 0..=n {
        match workload {
            "trivial-1" => assert_eq!(one.trivial(1).await, 1),
            "trivial-10000" => assert_eq!(one.trivial(10_000).await, 10_000),
            "prefetch" => assert_eq!(one.associations(100).await.0, 100),
            "insert-1000" => one.insert(&users).await,
            "bulk-10000" => one.bulk_insert(&users).await,
            _ => return None,
        }
    }
    Some(one.name())
}

/// One connection of `which` (raw, orm or a peer) for the sequential workloads.
async fn one_of(backend: &str, url: &str, which: &str) -> Option<Box<dyn Sequential>> {
    Some(match (backend, which) {
        ("pg", "raw") => Box::new(crate::raw_pg::RawPg::connect(url).await),
        ("pg", "orm") => Box::new(Orm::new(PostgresqlDatabase::connect_lazy(url).ok()?)),
        ("my", "raw") => Box::new(crate::raw_mysql::RawMy(crate::raw_mysql::pool(url, 1))),
        ("my", "orm") => Box::new(Orm::new(MySQLDatabase::connect_lazy(url).ok()?)),
        #[cfg(feature = "peers")]
        (backend, peer) => {
            use crate::peers::{diesel, seaorm::SeaOrm, sqlx};
            match (backend, peer) {
                ("pg", "sqlx") => Box::new(sqlx::SqlxPg::connect(url).await),
                ("my", "sqlx") => Box::new(sqlx::SqlxMy::connect(url).await),
                (_, "seaorm") => Box::new(SeaOrm::connect(url, 1).await),
                ("pg", "diesel") => Box::new(diesel::DieselPg::connect(url).await),
                ("my", "diesel") => Box::new(diesel::DieselMy::connect(url).await),
                _ => return None,
            }
        }
        #[cfg(not(feature = "peers"))]
        _ => return None,
    })
}

/// A pool of 8 of `which`, for the lookups.
async fn pool_of(backend: &str, url: &str, which: &str) -> Option<Arc<dyn Concurrent>> {
    Some(match (backend, which) {
        ("pg", "raw") => Arc::new(crate::raw_pg::RawPgPool::new(url, 8)),
        ("pg", "orm") => {
            let config = PostgresqlConfig::from_url(url).ok()?.max_connections(8);
            Arc::new(Orm::new(PooledPostgresqlDatabase::new(config).ok()?))
        }
        ("my", "raw") => Arc::new(crate::raw_mysql::RawMy(crate::raw_mysql::pool(url, 8))),
        ("my", "orm") => {
            let config = MySQLConfig::from_url(url).ok()?.max_connections(8);
            Arc::new(Orm::new(PooledMySQLDatabase::new(config).ok()?))
        }
        #[cfg(feature = "peers")]
        (backend, peer) => {
            use crate::peers::{diesel, seaorm::SeaOrm, sqlx};
            match (backend, peer) {
                ("pg", "sqlx") => Arc::new(sqlx::SqlxPgPool::connect(url, 8).await),
                ("my", "sqlx") => Arc::new(sqlx::SqlxMyPool::connect(url, 8).await),
                (_, "seaorm") => Arc::new(SeaOrm::connect(url, 8).await),
                ("pg", "diesel") => Arc::new(diesel::DieselPgPool::new(url, 8)),
                ("my", "diesel") => Arc::new(diesel::DieselMyPool::new(url, 8)),
                _ => return None,
            }
        }
        #[cfg(not(feature = "peers"))]
        _ => return None,
    })
}

/// Instructions of one child run under callgrind, and the name it printed.
fn callgrind(args: &[&str]) -> Option<(u64, String)> {
    let out_file = std::env::temp_dir().join(format!("orm-bench-{}.callgrind", std::process::id()));
    let exe = std::env::current_exe().ok()?;
    let output = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(exe)
        .arg("profile")
        .args(args)
        .output()
        .ok()?;
    let text = std::fs::read_to_string(&out_file).ok()?;
    let _ = std::fs::remove_file(&out_file);
    if !output.status.success() {
        eprintln!(
            "profile {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    let total = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })?
        .trim()
        .parse()
        .ok()?;
    let name = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    Some((total, name))
}

/// Counts every workload of `backend` ("pg", "my" or "sqlite") through every
/// implementation. The servers' bench tables must exist (the wall-clock run makes them).
pub fn count(backend: &'static str, title: &'static str) -> Vec<Count> {
    let (workloads, impls) = if backend == "sqlite" {
        (SQLITE_WORKLOADS, SQLITE_IMPLS)
    } else {
        (SERVER_WORKLOADS, SERVER_IMPLS)
    };
    let mut counts = Vec::new();
    for w in workloads {
        for which in impls {
            let n = w.iterations.to_string();
            let few = callgrind(&[backend, w.key, which, "0"]);
            let many = callgrind(&[backend, w.key, which, &n]);
            let (Some((few, _)), Some((many, name))) = (few, many) else {
                continue;
            };
            let per_iteration = many.saturating_sub(few) / w.iterations as u64;
            eprintln!("{title}: {} / {name}: {per_iteration}", w.title);
            counts.push(Count {
                backend: title,
                workload: w.title,
                implementation: name,
                per_iteration,
            });
        }
    }
    counts
}
