//! Applying and undoing migrations, recorded in the migrations table with their
//! checksums, under a lock so that two instances of a service starting together apply
//! each migration once: PostgreSQL's advisory lock, MySQL's `GET_LOCK`, SQLite's write
//! lock (each migration in a `BEGIN IMMEDIATE` transaction that first looks again at what
//! is applied). Each migration runs in a transaction where the server can roll DDL back
//! (PostgreSQL, SQLite); MySQL commits each DDL statement as it goes, so a migration that
//! fails there half-way is reported with the statement it stopped at.
//!
//! Everything runs on one connection taken for the run (a lock is a session's).

use orm_core::{
    raw_query, Connection, Database, Error, Executor, FetchQuery, Query, Result, TxOptions,
};

use crate::migration::Migration;
use crate::record::{applied, ensure_table, MIGRATIONS_TABLE};

/// One migration's state.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum State {
    /// Applied, and its file is as it was.
    Applied,
    /// Not applied yet.
    Pending,
    /// Applied, but its file changed since: refused until put back.
    Changed,
    /// Applied, but there is no file for it any more.
    Missing,
}

/// Each migration's state, in version order (files first, then applied versions whose
/// file is gone).
pub async fn status<D: Database>(db: &D, migrations: &[Migration]) -> Result<Vec<(String, State)>> {
    let conn = db.acquire().await?;
    let done = if crate::tools::table_exists(&conn, MIGRATIONS_TABLE).await? {
        applied(&conn).await?
    } else {
        Vec::new()
    };
    Ok(states(migrations, &done))
}

fn states(migrations: &[Migration], done: &[(String, String)]) -> Vec<(String, State)> {
    let mut out: Vec<(String, State)> = migrations
        .iter()
        .map(|m| {
            let state = match done.iter().find(|(v, _)| *v == m.version) {
                None => State::Pending,
                Some((_, sum)) if *sum == m.checksum() => State::Applied,
                Some(_) => State::Changed,
            };
            (m.version.clone(), state)
        })
        .collect();
    for (version, _) in done {
        if !migrations.iter().any(|m| m.version == *version) {
            out.push((version.clone(), State::Missing));
        }
    }
    out
}

/// Refuses a run while an applied migration's file changed.
fn check(migrations: &[Migration], done: &[(String, String)]) -> Result<()> {
    for (version, state) in states(migrations, done) {
        if state == State::Changed {
            return Err(Error::Query(format!(
                "migration {version} was applied and its file has changed since: put it \
                 back, and make the change in a new migration"
            )));
        }
    }
    Ok(())
}

/// Applies the pending migrations in order; the versions applied. Calls `progress` before
/// each one.
pub async fn up<D: Database>(
    db: &D,
    migrations: &[Migration],
    mut progress: impl FnMut(&str),
) -> Result<Vec<String>> {
    under_lock(db, async |conn| {
        let mut ran = Vec::new();
        for migration in migrations {
            let done = applied(conn).await?;
            check(migrations, &done)?;
            if done.iter().any(|(v, _)| *v == migration.version) {
                continue;
            }
            progress(&migration.version);
            if run(conn, migration, &migration.up, Record::Applied).await? {
                ran.push(migration.version.clone());
            }
        }
        Ok(ran)
    })
    .await
}

/// Undoes the last `count` applied migrations, newest first; the versions undone.
pub async fn down<D: Database>(
    db: &D,
    migrations: &[Migration],
    count: usize,
    mut progress: impl FnMut(&str),
) -> Result<Vec<String>> {
    under_lock(db, async |conn| {
        let done = applied(conn).await?;
        check(migrations, &done)?;
        let mut undone = Vec::new();
        for (version, _) in done.iter().rev().take(count) {
            let migration = migrations
                .iter()
                .find(|m| m.version == *version)
                .ok_or_else(|| Error::Query(format!("no file for applied migration {version}")))?;
            progress(version);
            if run(conn, migration, &migration.down, Record::Undone).await? {
                undone.push(version.clone());
            }
        }
        Ok(undone)
    })
    .await
}

/// Runs `body` on one connection taken for the run, under the migration lock, with the
/// migrations table in place.
async fn under_lock<D: Database, T>(
    db: &D,
    body: impl AsyncFnOnce(&D::Connection) -> Result<T>,
) -> Result<T> {
    let conn = db.acquire().await?;
    // Closed when dropped, so that the session lock goes with it if this future is
    // dropped half-way.
    conn.retire();
    // The lock first: PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe to race.
    let locked = lock(&conn).await?;
    let result = async {
        ensure_table(&conn).await?;
        body(&conn).await
    }
    .await;
    unlock(&conn, locked).await?;
    result
}

#[derive(Clone, Copy, PartialEq)]
enum Record {
    Applied,
    Undone,
}

/// Runs `statements` of `migration` and records it; false when another instance did it
/// first (SQLite, which takes its lock here).
async fn run<C: Connection>(
    conn: &C,
    migration: &Migration,
    statements: &[String],
    record: Record,
) -> Result<bool> {
    let dialect = conn.dialect().name();
    let transactional = dialect != "mysql";
    if dialect == "sqlite" {
        // A table rebuild drops and renames tables: foreign keys stay off while it runs
        // (the setting cannot change inside a transaction), and are checked before COMMIT.
        // The connection is closed afterwards, so that no other user ever gets it with
        // foreign keys off, whatever becomes of this future.
        conn.retire();
        raw_query::<()>("PRAGMA foreign_keys = OFF", vec![])
            .execute(conn)
            .await?;
    }
    if transactional {
        conn.begin(&TxOptions::new()).await?;
    }
    let outcome = async {
        if dialect == "sqlite" {
            // The write lock is ours now: was it done meanwhile?
            let done = applied(conn).await?;
            let is_applied = done.iter().any(|(v, _)| *v == migration.version);
            if is_applied == (record == Record::Applied) {
                return Ok(false);
            }
        }
        for (i, sql) in statements.iter().enumerate() {
            if sql.starts_with("PRAGMA foreign_keys") {
                continue;
            }
            raw_query::<()>(sql.clone(), vec![])
                .execute(conn)
                .await
                .map_err(|e| {
                    Error::Query(format!(
                        "migration {} stopped at statement {} ({sql}): {e}",
                        migration.version,
                        i + 1
                    ))
                })?;
        }
        if dialect == "sqlite" {
            let broken: Vec<orm_core::RowMap> = raw_query("PRAGMA foreign_key_check", vec![])
                .fetch_all(conn)
                .await?;
            if !broken.is_empty() {
                return Err(Error::Query(format!(
                    "migration {} leaves rows whose foreign keys point nowhere: {broken:?}",
                    migration.version
                )));
            }
        }
        match record {
            Record::Applied => {
                let sql = format!(
                    "INSERT INTO {MIGRATIONS_TABLE} (version, checksum, applied_at) VALUES (?, ?, ?)"
                );
                // Seconds since 1970, UTC.
                let at = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64);
                let params = vec![
                    migration.version.clone().into(),
                    migration.checksum().into(),
                    at.into(),
                ];
                raw_query::<()>(sql, params).execute(conn).await?;
            }
            Record::Undone => {
                let sql = format!("DELETE FROM {MIGRATIONS_TABLE} WHERE version = ?");
                raw_query::<()>(sql, vec![migration.version.clone().into()])
                    .execute(conn)
                    .await?;
            }
        }
        Ok(true)
    }
    .await;
    let outcome = match (outcome, transactional) {
        (Ok(ran), true) => conn.commit().await.map(|()| ran),
        (Err(e), true) => {
            let _ = conn.rollback().await;
            Err(e)
        }
        (outcome, false) => outcome,
    };
    if dialect == "sqlite" {
        raw_query::<()>("PRAGMA foreign_keys = ON", vec![])
            .execute(conn)
            .await?;
    }
    outcome
}

/// Takes the migration lock on `conn` (PostgreSQL, MySQL); whether one was taken.
async fn lock<C: Executor>(conn: &C) -> Result<bool> {
    match conn.dialect().name() {
        "postgres" => {
            raw_query::<()>(format!("SELECT pg_advisory_lock({LOCK_KEY})"), vec![])
                .execute(conn)
                .await?;
            Ok(true)
        }
        "mysql" => {
            let got: i64 = raw_query("SELECT GET_LOCK('orm_migrate', 600)", vec![])
                .fetch_one(conn)
                .await?;
            if got != 1 {
                return Err(Error::Query(
                    "another instance has held the migration lock for ten minutes".into(),
                ));
            }
            Ok(true)
        }
        _ => Ok(false),
    }
}

async fn unlock<C: Executor>(conn: &C, locked: bool) -> Result<()> {
    if !locked {
        return Ok(());
    }
    let sql = match conn.dialect().name() {
        "postgres" => format!("SELECT pg_advisory_unlock({LOCK_KEY})"),
        _ => "SELECT RELEASE_LOCK('orm_migrate')".to_string(),
    };
    raw_query::<()>(sql, vec![]).execute(conn).await?;
    Ok(())
}

/// The advisory lock's key: "ormmig" in ASCII.
const LOCK_KEY: i64 = 0x6f72_6d6d_6967;
