//! Benchmarks: this ORM against the raw drivers and the peer ORMs (sqlx, SeaORM,
//! diesel-async), the same workloads side by side, in one run. Prints a table per backend
//! (median times and each implementation's ratio to the raw driver) and writes
//! `docs/BENCHMARKS.md` with the table and an SVG chart.
//!
//! ```sh
//! cd bench && cargo run --release            # PG_URL / MYSQL_URL as for the tests
//! cargo run --release --no-default-features  # without the peers: a much shorter build
//! cargo run --release -- instructions         # only the callgrind counts
//! cargo run --release -- sizes                # the size of a one-row query's futures
//! ```

mod compile_time;
mod contender;
mod harness;
mod instructions;
mod models;
mod mysql;
mod orm;
#[cfg(feature = "peers")]
mod peers;
mod pg;
mod raw_mysql;
mod raw_pg;
mod report;
mod runner;
mod sqlite;

use std::time::{Duration, Instant};

use contender::Workloads;
use harness::Row;
use orm_manager::prelude::*;

/// Peak resident memory of this process, in KiB (Linux `VmHWM`).
pub fn peak_rss_kib() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn pg_url() -> String {
    std::env::var("PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn mysql_url() -> String {
    std::env::var("MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

/// The implementations of the streaming workload, by the name the child is given.
const STREAMERS: &[&str] = &["raw", "orm", "sqlx", "seaorm", "diesel"];

async fn timed<C: Workloads>(c: C) -> (&'static str, Duration, usize) {
    let start = Instant::now();
    let n = c.stream().await;
    assert_eq!(n, 1_000_000, "{} streamed every row", C::NAME);
    (C::NAME, start.elapsed(), n)
}

/// In the child: streams 1,000,000 rows through one implementation.
async fn stream_once(backend: &str, which: &str) -> Option<(&'static str, Duration, usize)> {
    Some(match (backend, which) {
        ("pg", "raw") => timed(raw_pg::RawPg::connect(&pg_url()).await).await,
        ("pg", "orm") => {
            timed(orm::Orm::new(
                PostgresqlDatabase::connect_lazy(&pg_url()).ok()?,
            ))
            .await
        }
        ("my", "raw") => timed(raw_mysql::RawMy(raw_mysql::pool(&mysql_url(), 1))).await,
        ("my", "orm") => {
            timed(orm::Orm::new(
                MySQLDatabase::connect_lazy(&mysql_url()).ok()?,
            ))
            .await
        }
        #[cfg(feature = "peers")]
        (backend, peer) => {
            use peers::{diesel, seaorm::SeaOrm, sqlx};
            let url = if backend == "pg" {
                pg_url()
            } else {
                mysql_url()
            };
            match (backend, peer) {
                ("pg", "sqlx") => timed(sqlx::SqlxPg::connect(&url).await).await,
                ("my", "sqlx") => timed(sqlx::SqlxMy::connect(&url).await).await,
                (_, "seaorm") => timed(SeaOrm::connect(&url, 1).await).await,
                ("pg", "diesel") => timed(diesel::DieselPg::connect(&url).await).await,
                ("my", "diesel") => timed(diesel::DieselMy::connect(&url).await).await,
                _ => return None,
            }
        }
        #[cfg(not(feature = "peers"))]
        _ => return None,
    })
}

/// Instructions per iteration of every workload and implementation on every backend
/// (none where valgrind is missing).
fn count_instructions() -> Vec<instructions::Count> {
    if std::process::Command::new("valgrind")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("valgrind not found: no instruction counts");
        return Vec::new();
    }
    [
        ("sqlite", "SQLite"),
        ("pg", "PostgreSQL"),
        ("my", "MariaDB"),
    ]
    .into_iter()
    .flat_map(|(key, title)| instructions::count(key, title))
    .collect()
}

/// Streams 1,000,000 rows in a child process, so its peak memory is its own.
fn stream_in_child(backend: &'static str, key: &str, which: &str) -> Option<Row> {
    let exe = std::env::current_exe().expect("own path");
    let out = std::process::Command::new(exe)
        .args(["stream-child", key, which])
        .output()
        .expect("child");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.trim().splitn(3, ' ');
    let micros: u64 = parts.next()?.parse().ok()?;
    let rss: usize = parts.next()?.parse().ok()?;
    let name: &'static str = Box::leak(parts.next()?.to_owned().into_boxed_str());
    let time = Duration::from_micros(micros);
    let mut row = Row::new(backend, "stream 1,000,000 rows", name, time);
    row.note = format!("peak RSS {:.1} MiB", rss as f64 / 1024.0);
    Some(row)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = || tokio::runtime::Runtime::new().expect("runtime");
    if args.get(1).map(String::as_str) == Some("stream-child") {
        let (backend, which) = (args[2].as_str(), args[3].as_str());
        if let Some((name, time, _)) = runtime().block_on(stream_once(backend, which)) {
            println!("{} {} {name}", time.as_micros(), peak_rss_kib());
        }
        return;
    }
    if args.get(1).map(String::as_str) == Some("profile") {
        // One workload, one implementation, nothing else: for callgrind, by hand
        // (`valgrind --tool=callgrind target/release/orm-bench profile pg insert-1000 orm
        // 200`) or by the instruction counts.
        let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or_default();
        let (backend, workload, which) = (arg(2), arg(3), arg(4));
        let n: usize = arg(5).parse().unwrap_or(200);
        let name = match backend {
            "sqlite" => sqlite::profile(workload, which, n),
            "pg" | "my" => {
                let url = if backend == "pg" {
                    pg_url()
                } else {
                    mysql_url()
                };
                runtime().block_on(instructions::server_child(
                    backend, &url, workload, which, n,
                ))
            }
            _ => None,
        };
        let Some(name) = name else {
            eprintln!("usage: orm-bench profile pg|my|sqlite WORKLOAD IMPL [N]");
            std::process::exit(2);
        };
        println!("{name}");
        return;
    }
    if args.get(1).map(String::as_str) == Some("sizes") {
        // The size of the futures a one-row query builds: each move of one is a copy
        // (FINDINGS.md: three per call).
        use orm_manager::orm_core::{Executor, Statement};
        let single = PostgresqlDatabase::connect_lazy(&pg_url()).expect("PG_URL");
        let pool = PostgresqlConfig::from_url(&pg_url()).expect("PG_URL");
        let pool = PooledPostgresqlDatabase::new(pool).expect("pool");
        let query = models::User::select().limit(1);
        let sizes = [
            (
                "Select::fetch_all, single",
                size_of_val(&query.fetch_all(&single)),
            ),
            (
                "Executor::fetch_all, single",
                size_of_val(&single.fetch_all::<models::User>(Statement::new("SELECT 1"))),
            ),
            (
                "Executor::fetch_all, pool",
                size_of_val(&pool.fetch_all::<models::User>(Statement::new("SELECT 1"))),
            ),
            (
                "Executor::execute, single",
                size_of_val(&single.execute(Statement::new("SELECT 1"))),
            ),
        ];
        for (what, bytes) in sizes {
            println!("{what}: {bytes} bytes");
        }
        return;
    }
    if args.get(1).map(String::as_str) == Some("compile-time") {
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let repo = repo.canonicalize().expect("repository");
        println!("{}", compile_time::run(&repo));
        return;
    }
    if args.get(1).map(String::as_str) == Some("instructions") {
        // Only the instruction counts, on the bench tables made afresh.
        runtime().block_on(async {
            pg::setup(&pg_url()).await;
            let pool = raw_mysql::pool(&mysql_url(), 1);
            let mut admin = pool.get_conn().await.expect("admin");
            mysql::setup(&mysql_url(), &mut admin).await;
        });
        let counts = count_instructions();
        println!("{}", report::instructions(&counts));
        return;
    }
    let mut rows: Vec<Row> = Vec::new();
    let sqlite_db = sqlite::run_sync(&mut rows);
    let rt = runtime();
    rt.block_on(async {
        sqlite::run_async(sqlite_db, &mut rows).await;
        pg::run(&pg_url(), &mut rows).await;
        mysql::run(&mysql_url(), &mut rows).await;
    });
    for (backend, key) in [("PostgreSQL", "pg"), ("MariaDB", "my")] {
        let streamed: Vec<Row> = STREAMERS
            .iter()
            .filter_map(|which| stream_in_child(backend, key, which))
            .collect();
        // Keep the report's order: a backend's streams follow its other workloads.
        let at = rows
            .iter()
            .rposition(|r| r.backend == backend)
            .map_or(rows.len(), |i| i + 1);
        rows.splice(at..at, streamed);
    }
    let counts = count_instructions();
    let markdown = report::markdown(&rows);
    let instructions = report::instructions(&counts);
    println!("{markdown}\n{instructions}");
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    std::fs::write(docs.join("benchmarks.svg"), report::svg(&rows)).expect("write chart");
    std::fs::write(
        docs.join("BENCHMARKS.md"),
        report::page(&markdown, &instructions),
    )
    .expect("write BENCHMARKS.md");
}
