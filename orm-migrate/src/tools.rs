//! peewee's schema tools, on every backend, sync and async: whether a table or sequence
//! exists, the tables there are, emptying a table, and creating or dropping many models'
//! tables in foreign-key order (a table after the tables it references; dropped the other
//! way round).
//!
//! ```
//! # use orm_core::Table as _;
//! use orm_migrate::tools;
//! # use orm_sqlite::{SqliteConfig, SqliteDatabase};
//! # #[derive(orm_derive::Model)]
//! # struct Author { #[orm(primary_key, auto)] id: i64, name: String }
//! # #[derive(orm_derive::Model)]
//! # struct Book { #[orm(primary_key, auto)] id: i64, #[orm(references = Author)] author_id: i64 }
//! # fn main() -> orm_core::Result<()> {
//! let db = SqliteDatabase::new(SqliteConfig::memory())?;
//! // Book references Author: Author's table is made first, whatever the order given.
//! tools::create_tables_sync(&db, &[Book::TABLE, Author::TABLE])?;
//! assert_eq!(tools::get_tables_sync(&db)?, ["author", "book"]);
//! tools::drop_tables_sync(&db, &[Author::TABLE, Book::TABLE])?;
//! assert!(tools::get_tables_sync(&db)?.is_empty());
//! # Ok(()) }
//! ```

use orm_core::{ddl, Dialect, Error, Executor, Result, Statement, SyncExecutor, TableMeta, Value};

/// Whether the current schema has a table `name`.
pub async fn table_exists<E: Executor + ?Sized>(exec: &E, name: &str) -> Result<bool> {
    let stmt = table_exists_statement(exec.dialect(), name);
    Ok(exec.fetch_all::<i64>(stmt).await?.first() == Some(&1))
}

/// As [`table_exists`], blocking.
pub fn table_exists_sync<E: SyncExecutor + ?Sized>(exec: &E, name: &str) -> Result<bool> {
    let stmt = table_exists_statement(exec.dialect(), name);
    Ok(exec.fetch_all_sync::<i64>(stmt)?.first() == Some(&1))
}

/// The tables of the current schema, sorted by name.
pub async fn get_tables<E: Executor + ?Sized>(exec: &E) -> Result<Vec<String>> {
    exec.fetch_all(tables_statement(exec.dialect())).await
}

/// As [`get_tables`], blocking.
pub fn get_tables_sync<E: SyncExecutor + ?Sized>(exec: &E) -> Result<Vec<String>> {
    exec.fetch_all_sync(tables_statement(exec.dialect()))
}

/// Whether the current schema has a sequence `name` (PostgreSQL; MariaDB's sequences
/// too). An error on SQLite, which has none.
pub async fn sequence_exists<E: Executor + ?Sized>(exec: &E, name: &str) -> Result<bool> {
    let stmt = sequence_statement(exec.dialect(), name)?;
    Ok(exec.fetch_all::<i64>(stmt).await?.first() == Some(&1))
}

/// As [`sequence_exists`], blocking.
pub fn sequence_exists_sync<E: SyncExecutor + ?Sized>(exec: &E, name: &str) -> Result<bool> {
    let stmt = sequence_statement(exec.dialect(), name)?;
    Ok(exec.fetch_all_sync::<i64>(stmt)?.first() == Some(&1))
}

/// Deletes every row of table `name`, fast: `TRUNCATE` (PostgreSQL, MySQL), `DELETE`
/// (SQLite, whose `DELETE` without a condition is its truncate). Generated keys start
/// again on MySQL; on PostgreSQL they go on (as `TRUNCATE` does without `RESTART
/// IDENTITY`). A table that other tables reference is refused by PostgreSQL and MySQL.
pub async fn truncate_table<E: Executor + ?Sized>(exec: &E, name: &str) -> Result<()> {
    exec.execute(truncate_statement(exec.dialect(), name))
        .await?;
    Ok(())
}

/// As [`truncate_table`], blocking.
pub fn truncate_table_sync<E: SyncExecutor + ?Sized>(exec: &E, name: &str) -> Result<()> {
    exec.execute_sync(truncate_statement(exec.dialect(), name))?;
    Ok(())
}

/// Creates the tables of `models` (and their indexes) that do not exist yet, each after
/// the tables it references. An error for references that go round in a circle.
pub async fn create_tables<E: Executor + ?Sized>(exec: &E, models: &[&TableMeta]) -> Result<()> {
    for stmt in create_statements(exec.dialect(), models)? {
        exec.execute(stmt).await?;
    }
    Ok(())
}

/// As [`create_tables`], blocking.
pub fn create_tables_sync<E: SyncExecutor + ?Sized>(exec: &E, models: &[&TableMeta]) -> Result<()> {
    for stmt in create_statements(exec.dialect(), models)? {
        exec.execute_sync(stmt)?;
    }
    Ok(())
}

/// Drops the tables of `models` that exist, each before the tables it references.
pub async fn drop_tables<E: Executor + ?Sized>(exec: &E, models: &[&TableMeta]) -> Result<()> {
    for stmt in drop_statements(exec.dialect(), models)? {
        exec.execute(stmt).await?;
    }
    Ok(())
}

/// As [`drop_tables`], blocking.
pub fn drop_tables_sync<E: SyncExecutor + ?Sized>(exec: &E, models: &[&TableMeta]) -> Result<()> {
    for stmt in drop_statements(exec.dialect(), models)? {
        exec.execute_sync(stmt)?;
    }
    Ok(())
}

/// `models` ordered so that each comes after the models it references (references to
/// tables outside the list, and to itself, do not count).
///
/// ```
/// # use orm_core::Table as _;
/// # #[derive(orm_derive::Model)]
/// # struct Author { #[orm(primary_key, auto)] id: i64 }
/// # #[derive(orm_derive::Model)]
/// # struct Book { #[orm(primary_key, auto)] id: i64, #[orm(references = Author)] author_id: i64 }
/// let order = orm_migrate::tools::dependency_order(&[Book::TABLE, Author::TABLE]).unwrap();
/// assert_eq!(order.iter().map(|t| t.name).collect::<Vec<_>>(), ["author", "book"]);
/// ```
pub fn dependency_order<'a>(models: &[&'a TableMeta]) -> Result<Vec<&'a TableMeta>> {
    let references = |table: &TableMeta| -> Vec<&'static str> {
        table
            .columns
            .iter()
            .filter_map(|c| c.references.as_ref().map(|fk| (fk.table)().name))
            .filter(|target| *target != table.name)
            .collect()
    };
    let mut ordered: Vec<&'a TableMeta> = Vec::with_capacity(models.len());
    let mut left: Vec<&'a TableMeta> = models.to_vec();
    while !left.is_empty() {
        let ready = left.iter().position(|t| {
            references(t)
                .iter()
                .all(|target| !left.iter().any(|o| o.name == *target))
        });
        let Some(ready) = ready else {
            let names: Vec<&str> = left.iter().map(|t| t.name).collect();
            return Err(Error::Query(format!(
                "the foreign keys of {} go round in a circle: create them without it and \
                 add the key after",
                names.join(", ")
            )));
        };
        ordered.push(left.remove(ready));
    }
    Ok(ordered)
}

fn create_statements(dialect: &dyn Dialect, models: &[&TableMeta]) -> Result<Vec<Statement>> {
    let mut out = Vec::new();
    for table in dependency_order(models)? {
        out.extend(ddl::create_table(table, dialect, true)?);
    }
    Ok(out)
}

fn drop_statements(dialect: &dyn Dialect, models: &[&TableMeta]) -> Result<Vec<Statement>> {
    dependency_order(models)?
        .into_iter()
        .rev()
        .map(|table| ddl::drop_table(table, dialect, true))
        .collect()
}

fn named(sql: &str, name: &str) -> Statement {
    Statement {
        params: vec![Value::Text(name.into())],
        ..Statement::new(sql)
    }
}

fn table_exists_statement(dialect: &dyn Dialect, name: &str) -> Statement {
    let sql = match dialect.name() {
        "postgres" => {
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1"
        }
        "mysql" => {
            "SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() \
             AND TABLE_NAME = ? AND TABLE_TYPE = 'BASE TABLE'"
        }
        _ => "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
    };
    named(sql, name)
}

fn tables_statement(dialect: &dyn Dialect) -> Statement {
    Statement::new(match dialect.name() {
        "postgres" => {
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() \
             ORDER BY tablename"
        }
        "mysql" => {
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() \
             AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME"
        }
        _ => {
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
        }
    })
}

fn sequence_statement(dialect: &dyn Dialect, name: &str) -> Result<Statement> {
    let sql = match dialect.name() {
        "postgres" => {
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind = 'S' AND n.nspname = current_schema() AND c.relname = $1"
        }
        "mysql" => {
            "SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() \
             AND TABLE_NAME = ? AND TABLE_TYPE = 'SEQUENCE'"
        }
        other => return Err(Error::Query(format!("{other} has no sequences"))),
    };
    Ok(named(sql, name))
}

fn truncate_statement(dialect: &dyn Dialect, name: &str) -> Statement {
    let mut sql = String::from(if dialect.name() == "sqlite" {
        "DELETE FROM "
    } else {
        "TRUNCATE TABLE "
    });
    dialect.write_ident(&mut sql, name);
    Statement::new(sql)
}
