//! The migrations table: which versions are applied, with their checksums.

use orm_core::{raw_query, Executor, FetchQuery, Query, Result};

/// The table that records applied migrations (left out of diffs).
pub const MIGRATIONS_TABLE: &str = "orm_migrations";

/// The versions applied, with their checksums, in order.
pub(crate) async fn applied<C: Executor>(conn: &C) -> Result<Vec<(String, String)>> {
    let sql = format!("SELECT version, checksum FROM {MIGRATIONS_TABLE} ORDER BY version");
    raw_query::<(String, String)>(sql, vec![])
        .fetch_all(conn)
        .await
}

/// The versions applied, none while there is no migrations table.
pub(crate) async fn applied_versions<E: Executor + ?Sized>(exec: &E) -> Result<Vec<String>> {
    if !crate::tools::table_exists(exec, MIGRATIONS_TABLE).await? {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT version FROM {MIGRATIONS_TABLE} ORDER BY version");
    raw_query::<String>(sql, vec![]).fetch_all(exec).await
}

/// Creates the table if it is not there (under the migration lock: PostgreSQL's
/// `CREATE TABLE IF NOT EXISTS` is not safe to race).
pub(crate) async fn ensure_table<C: Executor>(conn: &C) -> Result<()> {
    let sql = format!(
        "CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (version VARCHAR(255) NOT NULL \
         PRIMARY KEY, checksum VARCHAR(64) NOT NULL, applied_at BIGINT NOT NULL)"
    );
    raw_query::<()>(sql, vec![]).execute(conn).await?;
    Ok(())
}
