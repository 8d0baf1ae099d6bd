//! Schema changes ([`Operation`]), what each does to a [`Schema`], its reverse, and its
//! SQL on each server. Where SQLite's `ALTER TABLE` cannot make a change (a column's type,
//! nullability or default; a foreign key; a unique constraint or a column that is keyed),
//! the table is rebuilt: a new table made as the change wants it, the rows copied, the
//! old one dropped, the new one renamed, its indexes made again.

use orm_core::{Dialect, Error, Result};

use crate::schema::{Column, ForeignKey, Index, Schema, Table};

/// One change to a schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    /// Creates a table with its indexes and foreign keys.
    CreateTable(Table),
    /// Drops a table (the table as it was, for the reverse).
    DropTable(Table),
    /// Renames a table.
    RenameTable {
        /// The old name.
        from: String,
        /// The new name.
        to: String,
    },
    /// Adds a column.
    AddColumn {
        /// The table.
        table: String,
        /// The new column.
        column: Column,
    },
    /// Drops a column (the column as it was, for the reverse).
    DropColumn {
        /// The table.
        table: String,
        /// The column dropped.
        column: Column,
    },
    /// Renames a column.
    RenameColumn {
        /// The table.
        table: String,
        /// The old name.
        from: String,
        /// The new name.
        to: String,
    },
    /// Changes a column's type, nullability or default (not its name).
    AlterColumn {
        /// The table.
        table: String,
        /// The column as it is.
        from: Column,
        /// The column as it will be.
        to: Column,
    },
    /// Adds an index or unique constraint.
    AddIndex {
        /// The table.
        table: String,
        /// The index.
        index: Index,
    },
    /// Drops an index or unique constraint.
    DropIndex {
        /// The table.
        table: String,
        /// The index as it is (its name is needed).
        index: Index,
    },
    /// Adds a foreign key.
    AddForeignKey {
        /// The table.
        table: String,
        /// The key.
        key: ForeignKey,
    },
    /// Changes the primary key's columns (none: no primary key).
    SetPrimaryKey {
        /// The table.
        table: String,
        /// The columns as they are.
        from: Vec<String>,
        /// The columns as they will be.
        to: Vec<String>,
    },
    /// Drops a foreign key.
    DropForeignKey {
        /// The table.
        table: String,
        /// The key as it is (its name is needed, but on SQLite).
        key: ForeignKey,
    },
}

impl Operation {
    /// The operation that undoes this one.
    pub fn reverse(&self) -> Operation {
        use Operation::*;
        match self.clone() {
            CreateTable(table) => DropTable(table),
            DropTable(table) => CreateTable(table),
            RenameTable { from, to } => RenameTable { from: to, to: from },
            AddColumn { table, column } => DropColumn { table, column },
            DropColumn { table, column } => AddColumn { table, column },
            RenameColumn { table, from, to } => RenameColumn {
                table,
                from: to,
                to: from,
            },
            AlterColumn { table, from, to } => AlterColumn {
                table,
                from: to,
                to: from,
            },
            AddIndex { table, index } => DropIndex { table, index },
            DropIndex { table, index } => AddIndex { table, index },
            AddForeignKey { table, key } => DropForeignKey { table, key },
            DropForeignKey { table, key } => AddForeignKey { table, key },
            SetPrimaryKey { table, from, to } => SetPrimaryKey {
                table,
                from: to,
                to: from,
            },
        }
    }

    /// Whether the change loses data: a dropped table or column, a narrower type, a
    /// column made NOT NULL (rows holding NULL refuse it).
    pub fn is_destructive(&self) -> bool {
        match self {
            Operation::DropTable(_) | Operation::DropColumn { .. } => true,
            Operation::AlterColumn { from, to, .. } => {
                (from.nullable && !to.nullable) || from.sql_type != to.sql_type
            }
            _ => false,
        }
    }

    /// The table it changes.
    pub fn table(&self) -> &str {
        use Operation::*;
        match self {
            CreateTable(t) | DropTable(t) => &t.name,
            RenameTable { from, .. } => from,
            AddColumn { table, .. }
            | DropColumn { table, .. }
            | RenameColumn { table, .. }
            | AlterColumn { table, .. }
            | AddIndex { table, .. }
            | DropIndex { table, .. }
            | AddForeignKey { table, .. }
            | DropForeignKey { table, .. }
            | SetPrimaryKey { table, .. } => table,
        }
    }
}

impl Schema {
    /// Makes `op` on this description of a schema, as the server would.
    pub fn apply(&mut self, op: &Operation) -> Result<()> {
        use Operation::*;
        if let CreateTable(table) = op {
            if self.table(&table.name).is_some() {
                return Err(missing(format!("table {} exists already", table.name)));
            }
            self.tables.push(table.clone());
            self.tables.sort_by(|a, b| a.name.cmp(&b.name));
            return Ok(());
        }
        let name = op.table().to_string();
        let position = self
            .tables
            .iter()
            .position(|t| t.name == name)
            .ok_or_else(|| missing(format!("no table {name}")))?;
        let table = &mut self.tables[position];
        match op {
            CreateTable(_) => unreachable!("handled above"),
            DropTable(_) => {
                self.tables.remove(position);
            }
            RenameTable { to, .. } => {
                table.name = to.clone();
                for t in &mut self.tables {
                    for key in &mut t.foreign_keys {
                        if key.ref_table == name {
                            key.ref_table = to.clone();
                        }
                    }
                }
                self.tables.sort_by(|a, b| a.name.cmp(&b.name));
            }
            AddColumn { column, .. } => table.columns.push(column.clone()),
            DropColumn { column, .. } => {
                table.columns.retain(|c| c.name != column.name);
                table.indexes.retain(|i| !i.columns.contains(&column.name));
                table
                    .foreign_keys
                    .retain(|k| !k.columns.contains(&column.name));
            }
            RenameColumn { from, to, .. } => {
                let renamed = |names: &mut Vec<String>| {
                    names
                        .iter_mut()
                        .filter(|n| *n == from)
                        .for_each(|n| *n = to.clone())
                };
                for c in table.columns.iter_mut().filter(|c| c.name == *from) {
                    c.name = to.clone();
                }
                renamed(&mut table.primary_key);
                table
                    .indexes
                    .iter_mut()
                    .for_each(|i| renamed(&mut i.columns));
                table
                    .foreign_keys
                    .iter_mut()
                    .for_each(|k| renamed(&mut k.columns));
            }
            AlterColumn { to, .. } => {
                let column = table
                    .columns
                    .iter_mut()
                    .find(|c| c.name == to.name)
                    .ok_or_else(|| missing(format!("no column {name}.{}", to.name)))?;
                *column = to.clone();
            }
            AddIndex { index, .. } => {
                table.indexes.push(index.clone());
                table.indexes.sort();
            }
            DropIndex { index, .. } => table.indexes.retain(|i| i != index),
            AddForeignKey { key, .. } => {
                table.foreign_keys.push(key.clone());
                table.foreign_keys.sort_by(|a, b| a.columns.cmp(&b.columns));
            }
            DropForeignKey { key, .. } => table.foreign_keys.retain(|k| k != key),
            SetPrimaryKey { to, .. } => {
                // A primary key's columns are NOT NULL.
                for column in table.columns.iter_mut().filter(|c| to.contains(&c.name)) {
                    column.nullable = false;
                }
                table.primary_key = to.clone();
            }
        }
        Ok(())
    }
}

fn missing(what: String) -> Error {
    Error::Query(format!("cannot apply the change: {what}"))
}

/// The SQL that makes `op` on a server of `dialect`, whose schema is `before`.
///
/// ```
/// use orm_migrate::{ops::{render, Operation}, Column, Schema};
/// let op = Operation::AddColumn {
///     table: "book".into(),
///     column: Column { name: "pages".into(), sql_type: "INTEGER".into(), nullable: true, ..Column::default() },
/// };
/// let sql = render(&op, &orm_core::PostgresqlDialect, &Schema::default()).unwrap();
/// assert_eq!(sql, [r#"ALTER TABLE "book" ADD COLUMN "pages" INTEGER"#]);
/// ```
pub fn render(op: &Operation, dialect: &dyn Dialect, before: &Schema) -> Result<Vec<String>> {
    let q = |name: &str| quoted(dialect, name);
    let kind = dialect.name();
    let alter = |table: &str| format!("ALTER TABLE {} ", q(table));
    use Operation::*;
    Ok(match op {
        CreateTable(table) => create_table(dialect, table),
        DropTable(table) => vec![format!("DROP TABLE {}", q(&table.name))],
        RenameTable { from, to } if kind == "mysql" => {
            vec![format!("RENAME TABLE {} TO {}", q(from), q(to))]
        }
        RenameTable { from, to } => vec![format!("{}RENAME TO {}", alter(from), q(to))],
        AddColumn { table, column }
            if kind == "sqlite" && !column.nullable && column.default.is_none() =>
        {
            rebuild(dialect, before, op, table)?
        }
        AddColumn { table, column } => {
            vec![format!(
                "{}ADD COLUMN {}",
                alter(table),
                column_definition(dialect, column, false)
            )]
        }
        DropColumn { table, column } if kind == "sqlite" && keyed(before, table, &column.name) => {
            rebuild(dialect, before, op, table)?
        }
        DropColumn { table, column } => {
            vec![format!("{}DROP COLUMN {}", alter(table), q(&column.name))]
        }
        RenameColumn { table, from, to } => {
            vec![format!(
                "{}RENAME COLUMN {} TO {}",
                alter(table),
                q(from),
                q(to)
            )]
        }
        AlterColumn { table, .. } if kind == "sqlite" => rebuild(dialect, before, op, table)?,
        AlterColumn { table, to, .. } if kind == "mysql" => {
            vec![format!(
                "{}MODIFY COLUMN {}",
                alter(table),
                column_definition(dialect, to, false)
            )]
        }
        AlterColumn { table, from, to } => alter_postgres(dialect, table, from, to),
        AddIndex { table, index } if kind == "sqlite" && index.constraint => {
            rebuild(dialect, before, op, table)?
        }
        AddIndex { table, index } => vec![create_index(dialect, table, index)],
        DropIndex { table, index } if kind == "sqlite" && index.constraint => {
            rebuild(dialect, before, op, table)?
        }
        DropIndex { table, index } => vec![drop_index(dialect, table, index)?],
        AddForeignKey { table, .. }
        | DropForeignKey { table, .. }
        | SetPrimaryKey { table, .. }
            if kind == "sqlite" =>
        {
            rebuild(dialect, before, op, table)?
        }
        SetPrimaryKey { table, from, to } => set_primary_key(dialect, table, from, to),
        AddForeignKey { table, key } => {
            let name = key
                .name
                .clone()
                .unwrap_or_else(|| format!("{table}_{}_fkey", key.columns.join("_")));
            vec![format!(
                "{}ADD CONSTRAINT {} {}",
                alter(table),
                q(&name),
                foreign_key(dialect, key)
            )]
        }
        DropForeignKey { table, key } => {
            let name = key.name.as_deref().ok_or_else(|| {
                Error::Query(format!("the foreign key of {table} to drop has no name"))
            })?;
            if kind != "mysql" {
                return Ok(vec![format!("{}DROP CONSTRAINT {}", alter(table), q(name))]);
            }
            let mut out = vec![format!("{}DROP FOREIGN KEY {}", alter(table), q(name))];
            if let Some(index) = &key.index {
                out.push(format!("DROP INDEX {} ON {}", q(index), q(table)));
            }
            out
        }
    })
}

/// A new primary key: MySQL in one statement (an `AUTO_INCREMENT` column must stay in a
/// key throughout); PostgreSQL drops the constraint by the name it gives it.
fn set_primary_key(
    dialect: &dyn Dialect,
    table: &str,
    from: &[String],
    to: &[String],
) -> Vec<String> {
    let list: Vec<String> = to.iter().map(|c| quoted(dialect, c)).collect();
    let add = format!("ADD PRIMARY KEY ({})", list.join(", "));
    let alter = format!("ALTER TABLE {} ", quoted(dialect, table));
    let drop = match dialect.name() {
        "mysql" => "DROP PRIMARY KEY".to_string(),
        _ => format!(
            "DROP CONSTRAINT {}",
            quoted(dialect, &format!("{table}_pkey"))
        ),
    };
    match (from.is_empty(), to.is_empty(), dialect.name()) {
        (true, true, _) => Vec::new(),
        (true, false, _) => vec![format!("{alter}{add}")],
        (false, true, _) => vec![format!("{alter}{drop}")],
        (false, false, "mysql") => vec![format!("{alter}{drop}, {add}")],
        (false, false, _) => vec![format!("{alter}{drop}"), format!("{alter}{add}")],
    }
}

fn quoted(dialect: &dyn Dialect, name: &str) -> String {
    let mut out = String::new();
    dialect.write_ident(&mut out, name);
    out
}

/// Whether SQLite's `DROP COLUMN` would refuse: the column is in the key, an index, a
/// unique constraint or a foreign key.
fn keyed(schema: &Schema, table: &str, column: &str) -> bool {
    let name = column.to_string();
    schema.table(table).is_some_and(|t| {
        t.primary_key.contains(&name)
            || t.indexes.iter().any(|i| i.columns.contains(&name))
            || t.foreign_keys.iter().any(|k| k.columns.contains(&name))
    })
}

/// A column's definition after its name; `inline_key` for SQLite's rowid alias.
fn column_definition(dialect: &dyn Dialect, column: &Column, inline_key: bool) -> String {
    let mut out = quoted(dialect, &column.name);
    out.push(' ');
    out.push_str(&column.sql_type);
    // MySQL's AUTO_INCREMENT definition carries its own NOT NULL.
    let mysql_auto = column.auto && dialect.name() == "mysql";
    if column.auto {
        match dialect.name() {
            "postgres" => out.push_str(" GENERATED BY DEFAULT AS IDENTITY"),
            "mysql" => out.push_str(" NOT NULL AUTO_INCREMENT"),
            _ => {}
        }
    }
    if inline_key {
        out.push_str(" PRIMARY KEY");
    } else if !column.nullable && !mysql_auto {
        out.push_str(" NOT NULL");
    }
    if let Some(default) = &column.default {
        out.push_str(" DEFAULT ");
        out.push_str(default);
    }
    out
}

fn foreign_key(dialect: &dyn Dialect, key: &ForeignKey) -> String {
    let list = |names: &[String]| {
        names
            .iter()
            .map(|n| quoted(dialect, n))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {} ON UPDATE {}",
        list(&key.columns),
        quoted(dialect, &key.ref_table),
        list(&key.ref_columns),
        key.on_delete.sql(),
        key.on_update.sql()
    )
}

fn index_name(table: &str, index: &Index) -> String {
    index.name.clone().unwrap_or_else(|| {
        Index::new(table, index.columns.clone(), index.unique)
            .name
            .unwrap_or_default()
    })
}

fn create_index(dialect: &dyn Dialect, table: &str, index: &Index) -> String {
    let columns: Vec<String> = index.columns.iter().map(|c| quoted(dialect, c)).collect();
    format!(
        "CREATE {}INDEX {} ON {} ({})",
        if index.unique { "UNIQUE " } else { "" },
        quoted(dialect, &index_name(table, index)),
        quoted(dialect, table),
        columns.join(", ")
    )
}

fn drop_index(dialect: &dyn Dialect, table: &str, index: &Index) -> Result<String> {
    let name = quoted(dialect, &index_name(table, index));
    Ok(match dialect.name() {
        "mysql" => format!("DROP INDEX {name} ON {}", quoted(dialect, table)),
        "postgres" if index.constraint => {
            format!(
                "ALTER TABLE {} DROP CONSTRAINT {name}",
                quoted(dialect, table)
            )
        }
        _ => format!("DROP INDEX {name}"),
    })
}

/// CREATE TABLE, with its key, unique constraints and foreign keys, then its other
/// indexes.
fn create_table(dialect: &dyn Dialect, table: &Table) -> Vec<String> {
    let sqlite_rowid = dialect.name() == "sqlite"
        && table.primary_key.len() == 1
        && table.columns.iter().any(|c| c.auto);
    let mut parts: Vec<String> = table
        .columns
        .iter()
        .map(|c| {
            let inline = sqlite_rowid && table.primary_key[0] == c.name;
            column_definition(dialect, c, inline)
        })
        .collect();
    if !sqlite_rowid && !table.primary_key.is_empty() {
        let key: Vec<String> = table
            .primary_key
            .iter()
            .map(|c| quoted(dialect, c))
            .collect();
        parts.push(format!("PRIMARY KEY ({})", key.join(", ")));
    }
    for index in table.indexes.iter().filter(|i| i.constraint) {
        let columns: Vec<String> = index.columns.iter().map(|c| quoted(dialect, c)).collect();
        let name = quoted(dialect, &index_name(&table.name, index));
        parts.push(match dialect.name() {
            // SQLite names its unique constraints itself.
            "sqlite" => format!("UNIQUE ({})", columns.join(", ")),
            _ => format!("CONSTRAINT {name} UNIQUE ({})", columns.join(", ")),
        });
    }
    for key in &table.foreign_keys {
        parts.push(foreign_key(dialect, key));
    }
    let mut out = vec![format!(
        "CREATE TABLE {} ({}){}",
        quoted(dialect, &table.name),
        parts.join(", "),
        dialect.create_table_suffix()
    )];
    out.extend(
        table
            .indexes
            .iter()
            .filter(|i| !i.constraint)
            .map(|i| create_index(dialect, &table.name, i)),
    );
    out
}

fn alter_postgres(dialect: &dyn Dialect, table: &str, from: &Column, to: &Column) -> Vec<String> {
    let column = format!(
        "ALTER TABLE {} ALTER COLUMN {} ",
        quoted(dialect, table),
        quoted(dialect, &to.name)
    );
    let mut out = Vec::new();
    if from.sql_type != to.sql_type {
        out.push(format!(
            "{column}TYPE {ty} USING {name}::{ty}",
            ty = to.sql_type,
            name = quoted(dialect, &to.name)
        ));
    }
    if from.nullable != to.nullable {
        out.push(format!(
            "{column}{} NOT NULL",
            if to.nullable { "DROP" } else { "SET" }
        ));
    }
    if from.default != to.default {
        out.push(match &to.default {
            Some(default) => format!("{column}SET DEFAULT {default}"),
            None => format!("{column}DROP DEFAULT"),
        });
    }
    out
}

/// SQLite's way for what its ALTER TABLE cannot do: the table made again as `op` leaves
/// it, the rows of the columns both have copied over.
fn rebuild(
    dialect: &dyn Dialect,
    before: &Schema,
    op: &Operation,
    table: &str,
) -> Result<Vec<String>> {
    let old = before
        .table(table)
        .ok_or_else(|| missing(format!("no table {table}")))?;
    let mut after = Schema {
        tables: vec![old.clone()],
    };
    after.apply(op)?;
    let mut new = after.tables.remove(0);
    let temporary = format!("_orm_new_{table}");
    new.name = temporary.clone();
    let shared: Vec<String> = new
        .columns
        .iter()
        .filter(|c| old.column(&c.name).is_some())
        .map(|c| quoted(dialect, &c.name))
        .collect();
    let mut out = vec!["PRAGMA foreign_keys = OFF".to_string()];
    let mut made = create_table(
        dialect,
        &Table {
            indexes: new
                .indexes
                .iter()
                .filter(|i| i.constraint)
                .cloned()
                .collect(),
            ..new.clone()
        },
    );
    out.append(&mut made);
    out.push(format!(
        "INSERT INTO {} ({cols}) SELECT {cols} FROM {}",
        quoted(dialect, &temporary),
        quoted(dialect, table),
        cols = shared.join(", ")
    ));
    out.push(format!("DROP TABLE {}", quoted(dialect, table)));
    out.push(format!(
        "ALTER TABLE {} RENAME TO {}",
        quoted(dialect, &temporary),
        quoted(dialect, table)
    ));
    out.extend(
        new.indexes
            .iter()
            .filter(|i| !i.constraint)
            .map(|i| create_index(dialect, table, i)),
    );
    out.push("PRAGMA foreign_keys = ON".to_string());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use orm_core::{FkAction, MySQLDialect, PostgresqlDialect, SqliteDialect};

    fn column(name: &str, sql_type: &str, nullable: bool, default: Option<&str>) -> Column {
        Column::new(name, sql_type, nullable, default)
    }

    fn book() -> Table {
        Table {
            name: "book".into(),
            columns: vec![
                Column {
                    auto: true,
                    ..column("id", "INTEGER", false, None)
                },
                column("title", "TEXT", false, Some("''")),
            ],
            primary_key: vec!["id".into()],
            indexes: vec![Index {
                constraint: true,
                ..Index::new("book", vec!["title".into()], true)
            }],
            foreign_keys: vec![],
        }
    }

    fn schema() -> Schema {
        Schema {
            tables: vec![book()],
        }
    }

    fn sql(op: &Operation, dialect: &dyn Dialect) -> Vec<String> {
        render(op, dialect, &schema()).expect("renders")
    }

    #[test]
    fn create_table_on_each_server() {
        let op = Operation::CreateTable(book());
        assert_eq!(
            sql(&op, &PostgresqlDialect),
            [
                r#"CREATE TABLE "book" ("id" INTEGER GENERATED BY DEFAULT AS IDENTITY NOT NULL, "title" TEXT NOT NULL DEFAULT '', PRIMARY KEY ("id"), CONSTRAINT "book_title_key" UNIQUE ("title"))"#
            ]
        );
        assert_eq!(
            sql(&op, &MySQLDialect),
            ["CREATE TABLE `book` (`id` INTEGER NOT NULL AUTO_INCREMENT, `title` TEXT NOT NULL DEFAULT '', PRIMARY KEY (`id`), CONSTRAINT `book_title_key` UNIQUE (`title`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"]
        );
        assert_eq!(
            sql(&op, &SqliteDialect),
            [
                r#"CREATE TABLE "book" ("id" INTEGER PRIMARY KEY, "title" TEXT NOT NULL DEFAULT '', UNIQUE ("title"))"#
            ]
        );
    }

    #[test]
    fn column_changes_on_each_server() {
        let alter = Operation::AlterColumn {
            table: "book".into(),
            from: column("title", "TEXT", false, Some("''")),
            to: column("title", "VARCHAR(80)", true, None),
        };
        assert_eq!(
            sql(&alter, &PostgresqlDialect),
            [
                r#"ALTER TABLE "book" ALTER COLUMN "title" TYPE VARCHAR(80) USING "title"::VARCHAR(80)"#,
                r#"ALTER TABLE "book" ALTER COLUMN "title" DROP NOT NULL"#,
                r#"ALTER TABLE "book" ALTER COLUMN "title" DROP DEFAULT"#,
            ]
        );
        assert_eq!(
            sql(&alter, &MySQLDialect),
            ["ALTER TABLE `book` MODIFY COLUMN `title` VARCHAR(80)"]
        );
        // SQLite: the table is made again.
        assert_eq!(
            sql(&alter, &SqliteDialect),
            [
                "PRAGMA foreign_keys = OFF",
                r#"CREATE TABLE "_orm_new_book" ("id" INTEGER PRIMARY KEY, "title" VARCHAR(80), UNIQUE ("title"))"#,
                r#"INSERT INTO "_orm_new_book" ("id", "title") SELECT "id", "title" FROM "book""#,
                r#"DROP TABLE "book""#,
                r#"ALTER TABLE "_orm_new_book" RENAME TO "book""#,
                "PRAGMA foreign_keys = ON",
            ]
        );
        let rename = Operation::RenameColumn {
            table: "book".into(),
            from: "title".into(),
            to: "name".into(),
        };
        assert_eq!(
            sql(&rename, &MySQLDialect),
            ["ALTER TABLE `book` RENAME COLUMN `title` TO `name`"]
        );
        let add = Operation::AddColumn {
            table: "book".into(),
            column: column("pages", "INTEGER", false, Some("0")),
        };
        assert_eq!(
            sql(&add, &SqliteDialect),
            [r#"ALTER TABLE "book" ADD COLUMN "pages" INTEGER NOT NULL DEFAULT 0"#]
        );
        assert!(add.reverse().is_destructive() && !add.is_destructive());
    }

    #[test]
    fn indexes_and_keys_on_each_server() {
        let unique = book().indexes[0].clone();
        let drop = Operation::DropIndex {
            table: "book".into(),
            index: unique,
        };
        assert_eq!(
            sql(&drop, &PostgresqlDialect),
            [r#"ALTER TABLE "book" DROP CONSTRAINT "book_title_key""#]
        );
        assert_eq!(
            sql(&drop, &MySQLDialect),
            ["DROP INDEX `book_title_key` ON `book`"]
        );
        assert_eq!(sql(&drop, &SqliteDialect)[0], "PRAGMA foreign_keys = OFF");
        let key = ForeignKey {
            columns: vec!["author_id".into()],
            ref_table: "author".into(),
            ref_columns: vec!["id".into()],
            on_delete: FkAction::Cascade,
            on_update: FkAction::NoAction,
            name: None,
            index: None,
        };
        let add = Operation::AddForeignKey {
            table: "book".into(),
            key: key.clone(),
        };
        assert_eq!(
            sql(&add, &PostgresqlDialect),
            [
                r#"ALTER TABLE "book" ADD CONSTRAINT "book_author_id_fkey" FOREIGN KEY ("author_id") REFERENCES "author" ("id") ON DELETE CASCADE ON UPDATE NO ACTION"#
            ]
        );
        let drop = Operation::DropForeignKey {
            table: "book".into(),
            key: ForeignKey {
                name: Some("book_ibfk_1".into()),
                index: Some("author_id".into()),
                ..key.clone()
            },
        };
        assert_eq!(
            sql(&drop, &MySQLDialect),
            [
                "ALTER TABLE `book` DROP FOREIGN KEY `book_ibfk_1`",
                "DROP INDEX `author_id` ON `book`",
            ]
        );
        let nameless = Operation::DropForeignKey {
            table: "book".into(),
            key,
        };
        assert!(render(&nameless, &PostgresqlDialect, &schema()).is_err());
        let rename = Operation::RenameTable {
            from: "book".into(),
            to: "volume".into(),
        };
        assert_eq!(
            sql(&rename, &MySQLDialect),
            ["RENAME TABLE `book` TO `volume`"]
        );
        assert_eq!(
            sql(&rename, &SqliteDialect),
            [r#"ALTER TABLE "book" RENAME TO "volume""#]
        );
    }

    #[test]
    fn a_new_primary_key_on_each_server() {
        let op = Operation::SetPrimaryKey {
            table: "book".into(),
            from: vec!["id".into()],
            to: vec!["id".into(), "title".into()],
        };
        assert_eq!(
            sql(&op, &PostgresqlDialect),
            [
                r#"ALTER TABLE "book" DROP CONSTRAINT "book_pkey""#,
                r#"ALTER TABLE "book" ADD PRIMARY KEY ("id", "title")"#,
            ]
        );
        assert_eq!(
            sql(&op, &MySQLDialect),
            ["ALTER TABLE `book` DROP PRIMARY KEY, ADD PRIMARY KEY (`id`, `title`)"]
        );
        assert_eq!(sql(&op, &SqliteDialect)[0], "PRAGMA foreign_keys = OFF");
    }

    #[test]
    fn a_change_to_what_is_not_there_is_an_error() {
        let mut schema = schema();
        let op = Operation::DropColumn {
            table: "nowhere".into(),
            column: column("x", "TEXT", true, None),
        };
        assert!(schema.apply(&op).is_err());
        assert!(schema.apply(&Operation::CreateTable(book())).is_err());
    }
}
