//! Migrations as files of plain SQL, one per version, that a person can read and edit:
//!
//! ```text
//! -- orm-migrate 0002_add_level
//! -- destructive: drops column users.bio
//! -- up
//! ALTER TABLE "users" ADD COLUMN "level" INTEGER NOT NULL DEFAULT 1;
//! ALTER TABLE "users" DROP COLUMN "bio";
//! -- down
//! ALTER TABLE "users" ADD COLUMN "bio" TEXT;
//! ALTER TABLE "users" DROP COLUMN "level";
//! ```
//!
//! [`generate`] writes the next one from the difference between the live schema and the
//! models; a statement ends with `;` at the end of a line.

use std::path::{Path, PathBuf};

use orm_core::{Dialect, Error, Executor, Result, TableMeta};

use crate::diff::{diff, Hints};
use crate::ops::{render, Operation};
use crate::record::MIGRATIONS_TABLE;
use crate::schema::{Schema, Table};

/// One migration: its version (the file's name without `.sql`: a number and a name, in
/// the order they apply), the statements that apply it and those that undo it.
#[derive(Debug, Clone, PartialEq)]
pub struct Migration {
    /// `0002_add_level`.
    pub version: String,
    /// The statements that apply it, in order.
    pub up: Vec<String>,
    /// The statements that undo it, in order.
    pub down: Vec<String>,
    /// What it destroys, said in the file (`drops column users.bio`).
    pub destructive: Vec<String>,
}

impl Migration {
    /// The migration that makes `ops` on a `dialect` server whose schema is `before`,
    /// and undoes them in reverse.
    pub fn from_operations(
        version: &str,
        ops: &[Operation],
        dialect: &dyn Dialect,
        before: &Schema,
    ) -> Result<Migration> {
        let mut schema = before.clone();
        let mut up = Vec::new();
        let mut named = Vec::with_capacity(ops.len());
        for op in ops {
            let op = with_names(op.clone(), dialect, &schema);
            up.extend(render(&op, dialect, &schema)?);
            schema.apply(&op)?;
            named.push(op);
        }
        let ops = &named;
        let mut down = Vec::new();
        for op in ops.iter().rev() {
            let undo = op.reverse();
            down.extend(render(&undo, dialect, &schema)?);
            schema.apply(&undo)?;
        }
        let destructive = ops
            .iter()
            .filter(|op| op.is_destructive())
            .map(describe)
            .collect();
        Ok(Migration {
            version: version.into(),
            up,
            down,
            destructive,
        })
    }

    /// The file's text.
    pub fn to_file(&self) -> String {
        let mut out = format!("-- orm-migrate {}\n", self.version);
        for what in &self.destructive {
            out.push_str(&format!("-- destructive: {what}\n"));
        }
        out.push_str("-- up\n");
        for sql in &self.up {
            out.push_str(sql);
            out.push_str(";\n");
        }
        out.push_str("-- down\n");
        for sql in &self.down {
            out.push_str(sql);
            out.push_str(";\n");
        }
        out
    }

    /// Reads a migration file's text (see the module documentation).
    ///
    /// ```
    /// use orm_migrate::Migration;
    /// let text = "-- up\nCREATE TABLE t (id INT);\nINSERT INTO t VALUES (1);\n-- down\nDROP TABLE t;\n";
    /// let m = Migration::parse("0001_t", text).unwrap();
    /// assert_eq!(m.up, ["CREATE TABLE t (id INT)", "INSERT INTO t VALUES (1)"]);
    /// assert_eq!(m.down, ["DROP TABLE t"]);
    /// assert!(Migration::parse("0002_x", "CREATE TABLE x (id INT);").is_err(), "no -- up");
    /// ```
    pub fn parse(version: &str, text: &str) -> Result<Migration> {
        let (mut up, mut down, mut destructive) = (Vec::new(), Vec::new(), Vec::new());
        let mut section: Option<&mut Vec<String>> = None;
        let mut statement = String::new();
        let mut seen_up = false;
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed == "-- up" {
                seen_up = true;
                section = Some(&mut up);
                continue;
            }
            if trimmed == "-- down" {
                if !statement.trim().is_empty() {
                    return Err(unfinished(version));
                }
                section = Some(&mut down);
                continue;
            }
            if let Some(what) = trimmed.strip_prefix("-- destructive: ") {
                destructive.push(what.to_string());
                continue;
            }
            if trimmed.starts_with("--") && statement.is_empty() {
                continue;
            }
            let Some(target) = section.as_deref_mut() else {
                if trimmed.is_empty() {
                    continue;
                }
                return Err(Error::Query(format!(
                    "migration {version}: statements before the `-- up` line"
                )));
            };
            if !statement.is_empty() {
                statement.push('\n');
            }
            statement.push_str(line);
            if trimmed.ends_with(';') {
                let sql = statement.trim().trim_end_matches(';').trim().to_string();
                if !sql.is_empty() {
                    target.push(sql);
                }
                statement.clear();
            }
        }
        if !statement.trim().is_empty() {
            return Err(unfinished(version));
        }
        if !seen_up {
            return Err(Error::Query(format!(
                "migration {version} has no `-- up` line"
            )));
        }
        Ok(Migration {
            version: version.into(),
            up,
            down,
            destructive,
        })
    }

    /// A checksum of what it does (FNV-1a over its statements): an applied migration
    /// whose file changed afterwards is refused.
    pub fn checksum(&self) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for sql in self
            .up
            .iter()
            .chain(["--".to_string()].iter())
            .chain(&self.down)
        {
            for byte in sql.bytes().chain([0]) {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        format!("{hash:016x}")
    }
}

/// `op` with the names the server will give what it adds, so that undoing it can name
/// them: an index's, a foreign key's constraint's, and on MySQL the index InnoDB makes
/// for a foreign key when no index starts with its columns.
fn with_names(op: Operation, dialect: &dyn Dialect, schema: &Schema) -> Operation {
    match op {
        Operation::AddIndex { table, mut index } => {
            if index.name.is_none() {
                index.name = crate::Index::new(&table, index.columns.clone(), index.unique).name;
            }
            Operation::AddIndex { table, index }
        }
        Operation::AddForeignKey { table, mut key } => {
            let name = key
                .name
                .get_or_insert_with(|| format!("{table}_{}_fkey", key.columns.join("_")))
                .clone();
            let served = schema.table(&table).is_some_and(|t| {
                t.primary_key.starts_with(&key.columns)
                    || t.indexes
                        .iter()
                        .any(|i| i.columns.starts_with(&key.columns))
            });
            if dialect.name() == "mysql" && !served {
                key.index = Some(name);
            }
            Operation::AddForeignKey { table, key }
        }
        other => other,
    }
}

fn unfinished(version: &str) -> Error {
    Error::Query(format!(
        "migration {version}: a statement does not end with `;` at the end of a line"
    ))
}

fn describe(op: &Operation) -> String {
    match op {
        Operation::DropTable(t) => format!("drops table {}", t.name),
        Operation::DropColumn { table, column } => format!("drops column {table}.{}", column.name),
        Operation::AlterColumn { table, from, to } if from.sql_type != to.sql_type => format!(
            "changes {table}.{} from {} to {}",
            to.name, from.sql_type, to.sql_type
        ),
        Operation::AlterColumn { table, to, .. } => {
            format!("makes {table}.{} NOT NULL", to.name)
        }
        other => format!("{other:?}"),
    }
}

/// The migrations in `dir` (`NNNN_name.sql` files), in version order. A missing
/// directory has none.
pub fn load_dir(dir: &Path) -> Result<Vec<Migration>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(dir, e)),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let version = path
                .file_stem()
                .and_then(|s| s.to_str())
                .ok_or_else(|| Error::Query(format!("{}: not a migration name", path.display())))?;
            let text = std::fs::read_to_string(path).map_err(|e| io(path, e))?;
            Migration::parse(version, &text)
        })
        .collect()
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Query(format!("{}: {e}", path.display()))
}

/// What the models want: their tables as `dialect` makes them.
pub fn models_schema(models: &[&TableMeta], dialect: &dyn Dialect) -> Schema {
    let mut tables: Vec<Table> = models.iter().map(|m| Table::of_model(m, dialect)).collect();
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    Schema { tables }
}

/// The live schema through `exec`, without the migrations table.
pub async fn live_schema<E: Executor + ?Sized>(exec: &E) -> Result<Schema> {
    let mut schema = crate::introspect(exec).await?;
    schema.tables.retain(|t| t.name != MIGRATIONS_TABLE);
    Ok(schema)
}

/// Writes the next migration into `dir` from the difference between the live schema and
/// `models`: `NNNN_name.sql`, numbered after the last file there. Nothing (`None`) when
/// nothing differs. A destructive change is refused unless `allow_destructive`; the
/// error names each one.
pub async fn generate<E: Executor + ?Sized>(
    exec: &E,
    dir: &Path,
    name: &str,
    models: &[&TableMeta],
    hints: &Hints,
    allow_destructive: bool,
) -> Result<Option<PathBuf>> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(Error::Query(format!(
            "`{name}` is not a migration name (letters, digits and _)"
        )));
    }
    let existing = load_dir(dir)?;
    let applied = crate::record::applied_versions(exec).await?;
    if let Some(pending) = existing.iter().find(|m| !applied.contains(&m.version)) {
        return Err(Error::Query(format!(
            "migration {} is not applied yet: apply it first, so that the next one starts \
             from it",
            pending.version
        )));
    }
    let dialect = exec.dialect();
    let live = live_schema(exec).await?;
    let ops = diff(&live, &models_schema(models, dialect), hints)?;
    if ops.is_empty() {
        return Ok(None);
    }
    let number = existing
        .last()
        .and_then(|m| m.version.split('_').next()?.parse::<u32>().ok())
        .unwrap_or(0)
        + 1;
    let version = format!("{number:04}_{name}");
    let migration = Migration::from_operations(&version, &ops, dialect, &live)?;
    if !migration.destructive.is_empty() && !allow_destructive {
        return Err(Error::Query(format!(
            "migration {version} would lose data: {}; confirm to write it",
            migration.destructive.join("; ")
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let path = dir.join(format!("{version}.sql"));
    std::fs::write(&path, migration.to_file()).map_err(|e| io(&path, e))?;
    Ok(Some(path))
}
