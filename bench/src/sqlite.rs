//! SQLite: this ORM (sync and async) against raw rusqlite with cached statements.

use orm_manager::prelude::*;
use orm_manager::RunOn;

use crate::harness::{insert_after, iterations, median, median_sync, Row};
use crate::models::{self, NewUser, User};

const B: &str = "SQLite";

fn raw_user(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        name: row.get(1)?,
        hair_color: row.get(2)?,
    })
}

/// Raw and sync workloads: run on a plain thread, outside any runtime.
pub fn run_sync(rows: &mut Vec<Row>) -> SqliteDatabase {
    let path = std::env::temp_dir().join(format!("orm-bench-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let db = SqliteDatabase::new(SqliteConfig::file(&path)).expect("db");
    User::create_table(&db, false).expect("users");
    NewUser::create_table(&db, false).expect("new users");
    for chunk in models::users(10_000).chunks(5000) {
        let users: Vec<User> = chunk
            .iter()
            .map(|u| User::new(u.name.clone(), u.hair_color.clone()))
            .collect();
        User::insert_many(&users).execute_sync(&db).expect("seed");
    }
    let raw = rusqlite::Connection::open(&path).expect("raw open");
    // The same settings as the ORM's connections, for a fair floor.
    raw.pragma_update(None, "journal_mode", "WAL").expect("wal");
    raw.pragma_update(None, "synchronous", "NORMAL")
        .expect("synchronous");
    raw.pragma_update(None, "foreign_keys", "ON")
        .expect("foreign keys");

    for n in [1usize, 100, 10_000] {
        let (w, it) = iterations(n);
        let name = format!("trivial query, {n} rows");
        let t = median_sync(w, it, || {
            let mut stmt = raw
                .prepare_cached("SELECT id, name, hair_color FROM bench_users LIMIT ?1")
                .expect("p");
            let got: Vec<User> = stmt
                .query_map([n as i64], raw_user)
                .expect("q")
                .collect::<Result<_, _>>()
                .expect("rows");
            assert_eq!(got.len(), n);
        });
        rows.push(Row::new(B, &name, "rusqlite (raw)", t));
        let t = median_sync(w, it, || {
            assert_eq!(
                User::select()
                    .limit(n as u64)
                    .fetch_all_sync(&db)
                    .expect("q")
                    .len(),
                n
            );
        });
        rows.push(Row::new(B, &name, "this ORM (sync)", t));
    }

    for n in [1usize, 100, 1000] {
        let (w, it) = iterations(n);
        let name = format!("insert {n} users");
        let data = models::users(n);
        let sql = format!(
            "INSERT INTO bench_new_users (name, hair_color) VALUES {}",
            vec!["(?, ?)"; n].join(", ")
        );
        let t = median_sync(w, it, || {
            let mut stmt = raw.prepare_cached(&sql).expect("p");
            let params: Vec<&dyn rusqlite::ToSql> = data
                .iter()
                .flat_map(|u| [&u.name as &dyn rusqlite::ToSql, &u.hair_color])
                .collect();
            stmt.execute(params.as_slice()).expect("insert");
        });
        rows.push(Row::new(B, &name, "rusqlite (raw)", t));
        let t = median_sync(w, it, || {
            NewUser::insert_many(&data)
                .execute_sync(&db)
                .expect("insert");
        });
        rows.push(Row::new(B, &name, "this ORM (sync)", t));
    }

    let name = "point lookups (10,000 by id)";
    let t = median_sync(1, 5, || {
        let mut stmt = raw
            .prepare_cached("SELECT id, name, hair_color FROM bench_users WHERE id = ?1")
            .expect("p");
        for id in 1..=10_000i64 {
            let u = stmt.query_row([id], raw_user).expect("lookup");
            assert_eq!(u.id, id);
        }
    });
    rows.push(Row::new(B, name, "rusqlite (raw)", t));
    let t = median_sync(1, 5, || {
        for id in 1..=10_000i64 {
            assert_eq!(
                User::select()
                    .where_(User::ID.eq(id))
                    .fetch_one_sync(&db)
                    .expect("lookup")
                    .id,
                id
            );
        }
    });
    rows.push(Row::new(B, name, "this ORM (sync)", t));
    db
}

/// Async workloads, on the runtime: on tokio's blocking pool (the default) and on the
/// calling task (`run_inline`).
pub async fn run_async(db: SqliteDatabase, rows: &mut Vec<Row>) {
    let inline = SqliteDatabase::new(db.config().clone().run_inline(true)).expect("db");
    for (db, name) in [
        (&db, "this ORM (async)"),
        (&inline, "this ORM (async, inline)"),
    ] {
        for n in [1usize, 100, 10_000] {
            let (w, it) = iterations(n);
            let t = median(w, it, || async {
                let users = User::select()
                    .limit(n as u64)
                    .fetch_all(db)
                    .await
                    .expect("q");
                assert_eq!(users.len(), n);
            })
            .await;
            let workload = format!("trivial query, {n} rows");
            insert_after(rows, Row::new(B, &workload, name, t));
        }
        let t = median(1, 3, || async {
            for id in 1..=10_000i64 {
                let user = User::select()
                    .where_(User::ID.eq(id))
                    .fetch_one(db)
                    .await
                    .expect("lookup");
                assert_eq!(user.id, id);
            }
        })
        .await;
        let workload = "point lookups (10,000 by id)";
        insert_after(rows, Row::new(B, workload, name, t));
    }
    if let Some(path) = db.config().path() {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}

/// In a child of the instruction counts: one SQLite workload through `which` (raw
/// rusqlite, or this ORM's sync, async or inline path), `1 + n` times, on a database of
/// its own. Sync work runs outside any runtime, as in a script; async work on a default
/// multi-threaded runtime, as in a service. Returns the implementation's name.
pub fn profile(workload: &str, which: &str, n: usize) -> Option<&'static str> {
    let path = std::env::temp_dir().join(format!("orm-count-{}.db", std::process::id()));
    let config = match which {
        "inline" => SqliteConfig::file(&path).run_on(RunOn::Inline),
        "blocking" => SqliteConfig::file(&path).run_on(RunOn::BlockingPool),
        _ => SqliteConfig::file(&path),
    };
    let db = SqliteDatabase::new(config).ok()?;
    User::create_table(&db, false).ok()?;
    NewUser::create_table(&db, false).ok()?;
    User::insert_many(
        &models::users(1000)
            .into_iter()
            .map(|u| User::new(u.name, u.hair_color))
            .collect::<Vec<_>>(),
    )
    .execute_sync(&db)
    .ok()?;
    let users = models::users(1000);
    let name = match which {
        "raw" => {
            let raw = rusqlite::Connection::open(&path).ok()?;
            raw.pragma_update(None, "synchronous", "NORMAL").ok()?;
            raw.pragma_update(None, "foreign_keys", "ON").ok()?;
            for i in 0..=n as i64 {
                raw_once(&raw, workload, i % 1000 + 1, &users)?;
            }
            "rusqlite (raw)"
        }
        "sync" => {
            for i in 0..=n as i64 {
                orm_once_sync(&db, workload, i % 1000 + 1, &users)?;
            }
            "this ORM (sync)"
        }
        _ => {
            let rt = tokio::runtime::Runtime::new().ok()?;
            rt.block_on(async {
                for i in 0..=n as i64 {
                    orm_once(&db, workload, i % 1000 + 1, &users).await?;
                }
                Some(())
            })?;
            match which {
                "inline" => "this ORM (async, inline)",
                "blocking" => "this ORM (async, blocking pool)",
                _ => "this ORM (async)",
            }
        }
    };
    drop(db);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Some(name)
}

fn raw_once(raw: &rusqlite::Connection, workload: &str, id: i64, users: &[NewUser]) -> Option<()> {
    match workload {
        "lookup" => {
            let mut stmt = raw
                .prepare_cached("SELECT id, name, hair_color FROM bench_users WHERE id = ?1")
                .ok()?;
            assert_eq!(stmt.query_row([id], raw_user).ok()?.id, id);
        }
        "trivial-1" => {
            let mut stmt = raw
                .prepare_cached("SELECT id, name, hair_color FROM bench_users LIMIT ?1")
                .ok()?;
            let got: Vec<User> = stmt
                .query_map([1], raw_user)
                .ok()?
                .collect::<Result<_, _>>()
                .ok()?;
            assert_eq!(got.len(), 1);
        }
        "insert-1000" => {
            let sql = format!(
                "INSERT INTO bench_new_users (name, hair_color) VALUES {}",
                vec!["(?, ?)"; users.len()].join(", ")
            );
            let mut stmt = raw.prepare_cached(&sql).ok()?;
            let params: Vec<&dyn rusqlite::ToSql> = users
                .iter()
                .flat_map(|u| [&u.name as &dyn rusqlite::ToSql, &u.hair_color])
                .collect();
            stmt.execute(params.as_slice()).ok()?;
        }
        _ => return None,
    }
    Some(())
}

fn orm_once_sync(db: &SqliteDatabase, workload: &str, id: i64, users: &[NewUser]) -> Option<()> {
    match workload {
        "lookup" => {
            let user = User::select()
                .where_(User::ID.eq(id))
                .fetch_one_sync(db)
                .ok()?;
            assert_eq!(user.id, id);
        }
        "trivial-1" => assert_eq!(User::select().limit(1).fetch_all_sync(db).ok()?.len(), 1),
        "insert-1000" => {
            NewUser::insert_many(users).execute_sync(db).ok()?;
        }
        _ => return None,
    }
    Some(())
}

async fn orm_once(db: &SqliteDatabase, workload: &str, id: i64, users: &[NewUser]) -> Option<()> {
    match workload {
        "lookup" => {
            let user = User::select()
                .where_(User::ID.eq(id))
                .fetch_one(db)
                .await
                .ok()?;
            assert_eq!(user.id, id);
        }
        "trivial-1" => assert_eq!(User::select().limit(1).fetch_all(db).await.ok()?.len(), 1),
        "insert-1000" => {
            NewUser::insert_many(users).execute(db).await.ok()?;
        }
        _ => return None,
    }
    Some(())
}
