//! Benchmarks: this ORM against the raw drivers and the peer ORMs (sqlx, SeaORM,
//! diesel-async), the same workloads side by side, in one run. Prints a table per backend
//! (median times and each implementation's ratio to the raw driver) and writes
//! `docs/BENCHMARKS.md` with the table and an SVG chart.
//!
//! ```sh
//! cd bench && cargo run --release            # PG_URL / MYSQL_URL as for the tests
//! cargo run --release --no-default-features  # without the peers: a much shorter build
//! ```

mod contender;
mod harness;
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

/// Runs one PostgreSQL workload 200 times through `which` ("raw" or "orm"), for a
/// profiler: `valgrind --tool=callgrind target/release/orm-bench profile insert orm`.
async fn profile(workload: &str, which: &str) {
    async fn go<C: Workloads>(c: C, workload: &str) {
        let users = models::users(1000);
        for _ in 0..200 {
            match workload {
                "insert" => c.insert(&users).await,
                "lookup" => assert_eq!(c.trivial(1).await, 1),
                "trivial" => assert_eq!(c.trivial(10_000).await, 10_000),
                _ => panic!("workload: insert, lookup or trivial"),
            }
        }
    }
    if workload == "sqlite-insert" {
        // 200 sync inserts of 1,000 rows into SQLite: this ORM or raw rusqlite.
        let path = std::env::temp_dir().join(format!("orm-profile-{}.db", std::process::id()));
        let db = SqliteDatabase::new(SqliteConfig::file(&path)).expect("db");
        models::NewUser::create_table(&db, false).expect("table");
        let users = models::users(1000);
        if which == "raw" {
            let raw = rusqlite::Connection::open(&path).expect("open");
            let sql = format!(
                "INSERT INTO bench_new_users (name, hair_color) VALUES {}",
                vec!["(?, ?)"; users.len()].join(", ")
            );
            for _ in 0..200 {
                let mut stmt = raw.prepare_cached(&sql).expect("prepare");
                let params: Vec<&dyn rusqlite::ToSql> = users
                    .iter()
                    .flat_map(|u| [&u.name as &dyn rusqlite::ToSql, &u.hair_color])
                    .collect();
                stmt.execute(params.as_slice()).expect("insert");
            }
        } else {
            for _ in 0..200 {
                models::NewUser::insert_many(&users)
                    .execute_sync(&db)
                    .expect("insert");
            }
        }
        let _ = std::fs::remove_file(&path);
        return;
    }
    if workload == "sqlite-lookup" {
        // 20,000 point lookups by id on SQLite through this ORM: `which` is sync, async
        // (blocking pool) or inline.
        let path = std::env::temp_dir().join(format!("orm-lookup-{}.db", std::process::id()));
        let db = SqliteDatabase::new(SqliteConfig::file(&path).run_inline(which == "inline"))
            .expect("db");
        models::User::create_table(&db, false).expect("table");
        raw_query::<()>(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) \
             INSERT INTO bench_users (name, hair_color) SELECT 'u' || i, NULL FROM n",
            vec![],
        )
        .execute_sync(&db)
        .expect("fill");
        for _ in 0..20 {
            for id in 1..=1000i64 {
                let query = models::User::select().where_(models::User::ID.eq(id));
                let user = if which == "sync" {
                    query.fetch_one_sync(&db)
                } else {
                    query.fetch_one(&db).await
                };
                assert_eq!(user.expect("lookup").id, id);
            }
        }
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        return;
    }
    if workload == "mysql-lookup" {
        // 2,000 point lookups on MariaDB, one at a time: `which` is single or pooled.
        async fn lookups<L: contender::Lookups>(db: L) {
            for id in 1..=2000 {
                assert_eq!(db.lookup(id).await, id);
            }
        }
        let config = MySQLConfig::from_url(&mysql_url()).expect("url").max_connections(8);
        return if which == "pooled" {
            lookups(orm::Orm::new(PooledMySQLDatabase::new(config).expect("pool"))).await
        } else {
            lookups(orm::Orm::new(MySQLDatabase::connect_lazy(&mysql_url()).expect("db"))).await
        };
    }
    if workload == "chunks" {
        // Which multi-row VALUES size loads 100,000 rows fastest into MariaDB.
        use mysql_async::prelude::Queryable;
        let pool = raw_mysql::pool(&mysql_url(), 1);
        let users = models::users(100_000);
        let mut times: std::collections::BTreeMap<usize, Vec<Duration>> = Default::default();
        for _ in 0..5 {
            for chunk in [1_000usize, 2_000, 5_000, 10_000, 21_845] {
                let mut conn = pool.get_conn().await.expect("conn");
                conn.query_drop("TRUNCATE bench_new_users")
                    .await
                    .expect("truncate");
                let start = Instant::now();
                let mut tx = conn
                    .start_transaction(Default::default())
                    .await
                    .expect("begin");
                for rows in users.chunks(chunk) {
                    let sql = format!(
                        "INSERT INTO bench_new_users (name, hair_color) VALUES {}",
                        vec!["(?, ?)"; rows.len()].join(", ")
                    );
                    let params: Vec<mysql_async::Value> = rows
                        .iter()
                        .flat_map(|u| [u.name.as_str().into(), u.hair_color.as_deref().into()])
                        .collect();
                    tx.exec_drop(sql, params).await.expect("insert");
                }
                tx.commit().await.expect("commit");
                times.entry(chunk).or_default().push(start.elapsed());
            }
        }
        for (chunk, mut t) in times {
            t.sort();
            println!("{chunk} rows a statement: median {:?}", t[t.len() / 2]);
        }
        return;
    }
    if workload == "pooled" {
        // 2,000 lookups through a pool of 8, one at a time: the checkout and query path.
        async fn lookups<L: contender::Lookups>(pool: L) {
            for id in 1..=2000 {
                assert_eq!(pool.lookup(id).await, id);
            }
        }
        let config = PostgresqlConfig::from_url(&pg_url())
            .expect("url")
            .max_connections(8);
        return match which {
            "raw" => lookups(raw_pg::RawPgPool::new(&pg_url(), 8)).await,
            _ => {
                lookups(orm::Orm::new(
                    PooledPostgresqlDatabase::new(config).expect("pool"),
                ))
                .await
            }
        };
    }
    match which {
        "raw" => go(raw_pg::RawPg::connect(&pg_url()).await, workload).await,
        _ => {
            go(
                orm::Orm::new(PostgresqlDatabase::connect_lazy(&pg_url()).expect("db")),
                workload,
            )
            .await
        }
    }
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
        // For callgrind: one workload, one implementation, nothing else.
        let (workload, which) = (args[2].as_str(), args[3].as_str());
        if workload == "sqlite-lookup" && which == "sync" {
            // Sync code runs outside any runtime, as in a script.
            let handle = std::thread::spawn(|| {
                let rt = tokio::runtime::Builder::new_current_thread().build().expect("rt");
                let future = profile("sqlite-lookup", "sync");
                let mut future = std::pin::pin!(future);
                // Polled without entering the runtime: the sync calls see no runtime.
                let waker = std::task::Waker::noop();
                let mut cx = std::task::Context::from_waker(waker);
                assert!(std::future::Future::poll(future.as_mut(), &mut cx).is_ready(), "sync work completes");
                drop(rt);
            });
            handle.join().expect("profile");
            return;
        }
        runtime().block_on(profile(workload, which));
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
    let markdown = report::markdown(&rows);
    println!("{markdown}");
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    std::fs::write(docs.join("benchmarks.svg"), report::svg(&rows)).expect("write chart");
    std::fs::write(docs.join("BENCHMARKS.md"), report::page(&markdown))
        .expect("write BENCHMARKS.md");
}
