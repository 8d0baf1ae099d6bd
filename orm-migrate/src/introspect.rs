//! The live schema, read back into a [`Schema`]: the tables of the connection's current
//! schema (PostgreSQL's `current_schema()`, MySQL's `DATABASE()`, SQLite's main file),
//! their columns, primary keys, indexes and unique constraints, and foreign keys.
//!
//! Each dialect asks three catalog queries (columns, indexes, foreign keys), the same
//! for sync and async callers; one function turns their rows into the schema.

use std::collections::BTreeMap;

use orm_core::{Dialect, Executor, FkAction, Result, RowMap, Statement, SyncExecutor, Value};

use crate::schema::{Column, ForeignKey, Index, Schema, Table};
use crate::types;

/// Reads the live schema through `exec` (a database, or a transaction).
///
/// ```
/// # use orm_sqlite::{SqliteConfig, SqliteDatabase};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> orm_core::Result<()> {
/// # let db = SqliteDatabase::new(SqliteConfig::memory())?;
/// use orm_core::{raw_query, Query};
/// raw_query::<()>("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)", vec![])
///     .execute(&db)
///     .await?;
/// let schema = orm_migrate::introspect(&db).await?;
/// let t = schema.table("t").expect("t");
/// assert_eq!(t.primary_key, ["id"]);
/// assert!(!t.column("name").expect("name").nullable);
/// # Ok(()) }
/// ```
pub async fn introspect<E: Executor + ?Sized>(exec: &E) -> Result<Schema> {
    let dialect = exec.dialect();
    let [columns, indexes, keys] = queries(dialect);
    let columns = exec.fetch_all::<RowMap>(Statement::new(columns)).await?;
    let indexes = exec.fetch_all::<RowMap>(Statement::new(indexes)).await?;
    let keys = exec.fetch_all::<RowMap>(Statement::new(keys)).await?;
    Ok(build(dialect, &columns, &indexes, &keys))
}

/// As [`introspect`], blocking.
pub fn introspect_sync<E: SyncExecutor + ?Sized>(exec: &E) -> Result<Schema> {
    let dialect = exec.dialect();
    let [columns, indexes, keys] = queries(dialect);
    let columns = exec.fetch_all_sync::<RowMap>(Statement::new(columns))?;
    let indexes = exec.fetch_all_sync::<RowMap>(Statement::new(indexes))?;
    let keys = exec.fetch_all_sync::<RowMap>(Statement::new(keys))?;
    Ok(build(dialect, &columns, &indexes, &keys))
}

/// The catalog queries of `dialect`: columns, indexes, foreign keys. Their rows use the
/// column names the builder reads.
fn queries(dialect: &dyn Dialect) -> [&'static str; 3] {
    match dialect.name() {
        "postgres" => [PG_COLUMNS, PG_INDEXES, PG_KEYS],
        "mysql" => [MY_COLUMNS, MY_INDEXES, MY_KEYS],
        _ => [SQLITE_COLUMNS, SQLITE_INDEXES, SQLITE_KEYS],
    }
}

/// Separates the column names of one index or key in the PostgreSQL queries.
const SEP: char = '\u{1f}';

const PG_COLUMNS: &str = "SELECT c.relname AS table_name, a.attname AS column_name, \
     format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable, \
     pg_get_expr(d.adbin, d.adrelid) AS dflt, a.attidentity <> '' AS auto \
     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
     JOIN pg_namespace n ON n.oid = c.relnamespace \
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND a.attnum > 0 \
     AND NOT a.attisdropped ORDER BY c.relname, a.attnum";

const PG_INDEXES: &str = "SELECT t.relname AS table_name, ix.indisprimary AS is_primary, \
     ix.indisunique AS is_unique, i.relname AS index_name, EXISTS (SELECT 1 FROM \
     pg_constraint k WHERE k.conindid = ix.indexrelid AND k.contype = 'u') AS is_constraint, \
     array_to_string(ARRAY(SELECT a.attname FROM \
     unnest(ix.indkey) WITH ORDINALITY k(attnum, ord) JOIN pg_attribute a ON \
     a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.ord), chr(31)) AS columns \
     FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid \
     JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
     WHERE n.nspname = current_schema() AND ix.indexprs IS NULL \
     ORDER BY t.relname, i.relname";

const PG_KEYS: &str = "SELECT t.relname AS table_name, c.conname AS name, \
     rt.relname AS ref_table, \
     array_to_string(ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY \
     k(attnum, ord) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = \
     k.attnum ORDER BY k.ord), chr(31)) AS columns, \
     array_to_string(ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY \
     k(attnum, ord) JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = \
     k.attnum ORDER BY k.ord), chr(31)) AS ref_columns, \
     c.confdeltype::text AS on_delete, c.confupdtype::text AS on_update \
     FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
     JOIN pg_class rt ON rt.oid = c.confrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
     WHERE c.contype = 'f' AND n.nspname = current_schema() ORDER BY t.relname, c.conname";

const MY_COLUMNS: &str = "SELECT c.TABLE_NAME AS table_name, c.COLUMN_NAME AS column_name, \
     c.COLUMN_TYPE AS type, c.IS_NULLABLE = 'YES' AS nullable, c.COLUMN_DEFAULT AS dflt, \
     c.EXTRA LIKE '%auto_increment%' AS auto, \
     EXISTS (SELECT 1 FROM information_schema.CHECK_CONSTRAINTS k \
       WHERE k.CONSTRAINT_SCHEMA = c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME \
       AND k.CHECK_CLAUSE = CONCAT('json_valid(`', c.COLUMN_NAME, '`)')) AS json \
     FROM information_schema.COLUMNS c JOIN information_schema.TABLES t \
     ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME \
     WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE' \
     ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION";

const MY_INDEXES: &str = "SELECT s.TABLE_NAME AS table_name, s.INDEX_NAME = 'PRIMARY' AS \
     is_primary, s.NON_UNIQUE = 0 AS is_unique, s.INDEX_NAME AS index_name, \
     GROUP_CONCAT(s.COLUMN_NAME ORDER BY s.SEQ_IN_INDEX SEPARATOR 0x1f) AS columns \
     FROM information_schema.STATISTICS s WHERE s.TABLE_SCHEMA = DATABASE() \
     GROUP BY s.TABLE_NAME, s.INDEX_NAME, s.NON_UNIQUE ORDER BY s.TABLE_NAME, s.INDEX_NAME";

const MY_KEYS: &str = "SELECT k.TABLE_NAME AS table_name, k.CONSTRAINT_NAME AS name, \
     k.REFERENCED_TABLE_NAME AS ref_table, \
     GROUP_CONCAT(k.COLUMN_NAME ORDER BY k.ORDINAL_POSITION SEPARATOR 0x1f) AS columns, \
     GROUP_CONCAT(k.REFERENCED_COLUMN_NAME ORDER BY k.ORDINAL_POSITION SEPARATOR 0x1f) \
     AS ref_columns, r.DELETE_RULE AS on_delete, r.UPDATE_RULE AS on_update \
     FROM information_schema.KEY_COLUMN_USAGE k \
     JOIN information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = \
     k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = \
     k.TABLE_NAME WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL \
     GROUP BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.REFERENCED_TABLE_NAME, r.DELETE_RULE, \
     r.UPDATE_RULE ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME";

const SQLITE_COLUMNS: &str = "SELECT m.name AS table_name, p.name AS column_name, \
     p.type AS type, NOT p.\"notnull\" AS nullable, p.dflt_value AS dflt, p.pk AS pk, \
     (SELECT count(*) FROM pragma_table_info(m.name) q WHERE q.pk > 0) AS pk_columns \
     FROM sqlite_master m JOIN pragma_table_info(m.name) p \
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
     ORDER BY m.name, p.cid";

const SQLITE_INDEXES: &str = "SELECT m.name AS table_name, il.origin = 'pk' AS is_primary, \
     il.\"unique\" AS is_unique, il.name AS index_name, il.origin = 'u' AS is_constraint, \
     (SELECT group_concat(ii.name, char(31)) \
     FROM pragma_index_info(il.name) ii) AS columns \
     FROM sqlite_master m JOIN pragma_index_list(m.name) il \
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
     ORDER BY m.name, il.name";

const SQLITE_KEYS: &str = "SELECT m.name AS table_name, f.\"table\" AS ref_table, \
     group_concat(f.\"from\", char(31)) AS columns, \
     group_concat(COALESCE(f.\"to\", ''), char(31)) AS ref_columns, \
     f.on_delete AS on_delete, f.on_update AS on_update \
     FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f \
     WHERE m.type = 'table' GROUP BY m.name, f.id ORDER BY m.name, f.id";

/// The schema from the rows of the three catalog queries of `dialect`.
fn build(dialect: &dyn Dialect, columns: &[RowMap], indexes: &[RowMap], keys: &[RowMap]) -> Schema {
    let kind = dialect.name();
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for row in columns {
        let table = text(row, "table_name");
        let entry = tables.entry(table.clone()).or_insert_with(|| Table {
            name: table,
            ..Table::default()
        });
        entry.columns.push(column(kind, row));
        if kind == "sqlite" && int(row, "pk") > 0 {
            entry.primary_key.push(text(row, "column_name"));
        }
    }
    for row in keys {
        let Some(table) = tables.get_mut(&text(row, "table_name")) else {
            continue;
        };
        table.foreign_keys.push(ForeignKey {
            columns: list(row, "columns"),
            ref_table: text(row, "ref_table"),
            ref_columns: list(row, "ref_columns"),
            on_delete: action(&text(row, "on_delete")),
            on_update: action(&text(row, "on_update")),
            name: optional_text(row, "name"),
            index: None,
        });
    }
    for row in indexes {
        let Some(table) = tables.get_mut(&text(row, "table_name")) else {
            continue;
        };
        let columns = list(row, "columns");
        if flag(row, "is_primary") {
            if kind != "sqlite" {
                table.primary_key = columns;
            }
            continue;
        }
        let index = Index {
            columns,
            unique: flag(row, "is_unique"),
            name: optional_text(row, "index_name"),
            constraint: flag(row, "is_constraint"),
        };
        if kind == "mysql" {
            let name = text(row, "index_name");
            if let Some(key) = key_backed_by(table, &name, &index) {
                key.index = Some(name);
                continue;
            }
        }
        table.indexes.push(index);
    }
    let mut schema = Schema {
        tables: tables.into_values().collect(),
    };
    finish(&mut schema);
    schema
}

/// What the catalogs leave implicit, made explicit: SQLite's references to a primary key
/// by omission; then everything sorted.
fn finish(schema: &mut Schema) {
    let primary_keys: BTreeMap<String, Vec<String>> = schema
        .tables
        .iter()
        .map(|t| (t.name.clone(), t.primary_key.clone()))
        .collect();
    for table in &mut schema.tables {
        for key in &mut table.foreign_keys {
            if key.ref_columns.iter().all(String::is_empty) {
                key.ref_columns = primary_keys
                    .get(&key.ref_table)
                    .cloned()
                    .unwrap_or_default();
            }
        }
        table.indexes.sort();
        table.indexes.dedup();
        table.foreign_keys.sort_by(|a, b| a.columns.cmp(&b.columns));
    }
}

/// The foreign key a MySQL index was made for by InnoDB, when no index served it: on the
/// key's columns, named after its constraint or its first column.
fn key_backed_by<'t>(
    table: &'t mut Table,
    name: &str,
    index: &Index,
) -> Option<&'t mut ForeignKey> {
    if index.unique {
        return None;
    }
    table.foreign_keys.iter_mut().find(|k| {
        k.columns == index.columns
            && (k.name.as_deref() == Some(name) || index.columns.first().is_some_and(|c| c == name))
    })
}

fn column(kind: &str, row: &RowMap) -> Column {
    let declared = text(row, "type");
    let sql_type = match kind {
        "postgres" => types::postgres_type(&declared),
        "mysql" if flag(row, "json") => "JSON".into(),
        "mysql" => types::mysql_type(&declared),
        _ => types::sqlite_type(&declared),
    };
    let default = types::live_default(optional_text(row, "dflt").as_deref());
    // SQLite: a lone INTEGER primary key is the rowid, which the database generates.
    // PostgreSQL: an identity column, or a `serial` one (a sequence's `nextval` default).
    let auto = match kind {
        "sqlite" => int(row, "pk") == 1 && int(row, "pk_columns") == 1 && sql_type == "INTEGER",
        "postgres" => {
            flag(row, "auto")
                || default
                    .as_deref()
                    .is_some_and(|d| d.starts_with("nextval("))
        }
        _ => flag(row, "auto"),
    };
    Column {
        name: text(row, "column_name"),
        sql_type,
        // SQLite lets a primary key column be NULL unless it is the rowid; the ORM never
        // makes one, and compares keys as NOT NULL.
        nullable: flag(row, "nullable") && !(kind == "sqlite" && int(row, "pk") > 0),
        default: if auto { None } else { default },
        auto,
    }
}

fn action(text: &str) -> FkAction {
    match text.to_ascii_uppercase().as_str() {
        "R" | "RESTRICT" => FkAction::Restrict,
        "C" | "CASCADE" => FkAction::Cascade,
        "N" | "SET NULL" => FkAction::SetNull,
        "D" | "SET DEFAULT" => FkAction::SetDefault,
        _ => FkAction::NoAction,
    }
}

fn optional_text(row: &RowMap, column: &str) -> Option<String> {
    match row.get(column)? {
        Value::Text(s) => Some(s.to_string()),
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::I64(n) => Some(n.to_string()),
        Value::I32(n) => Some(n.to_string()),
        Value::Null => None,
        other => Some(format!("{other:?}")),
    }
}

fn text(row: &RowMap, column: &str) -> String {
    optional_text(row, column).unwrap_or_default()
}

fn list(row: &RowMap, column: &str) -> Vec<String> {
    let joined = text(row, column);
    joined.split(SEP).map(String::from).collect()
}

fn int(row: &RowMap, column: &str) -> i64 {
    match row.get(column) {
        Some(Value::I64(n)) => *n,
        Some(Value::I32(n)) => i64::from(*n),
        Some(Value::I16(n)) => i64::from(*n),
        Some(Value::Bool(b)) => i64::from(*b),
        Some(Value::Text(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

fn flag(row: &RowMap, column: &str) -> bool {
    match row.get(column) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Text(s)) => matches!(s.as_str(), "1" | "t" | "true" | "YES"),
        _ => int(row, column) != 0,
    }
}
