//! The changes that turn one schema into another: the live one into what the models
//! describe, for a migration. Renames cannot be told from a drop and an add, so they are
//! declared ([`Hints`]); so are the tables to drop, since a live schema holds tables no
//! model describes (other programs', the migrations table) that are not ours to drop.
//!
//! ```
//! use orm_migrate::{diff, Column, Hints, Operation, Schema, Table};
//! let column = |name: &str| Column { name: name.into(), sql_type: "TEXT".into(), nullable: true, ..Column::default() };
//! let table = |columns: Vec<Column>| Table { name: "book".into(), columns, ..Table::default() };
//! let live = Schema { tables: vec![table(vec![column("title")])] };
//! let wanted = Schema { tables: vec![table(vec![column("name"), column("pages")])] };
//! let ops = diff(&live, &wanted, &Hints::new().rename_column("book", "title", "name")).unwrap();
//! assert!(matches!(&ops[0], Operation::RenameColumn { from, to, .. } if from == "title" && to == "name"));
//! assert!(matches!(&ops[1], Operation::AddColumn { column, .. } if column.name == "pages"));
//! assert!(diff(&wanted, &wanted, &Hints::new()).unwrap().is_empty(), "nothing to do");
//! ```

use orm_core::{Error, Result};

use crate::ops::Operation;
use crate::schema::{Schema, Table};

/// What a diff cannot see for itself: renamed tables and columns, tables to drop.
#[derive(Debug, Clone, Default)]
pub struct Hints {
    tables: Vec<(String, String)>,
    columns: Vec<(String, String, String)>,
    drops: Vec<String>,
}

impl Hints {
    /// No hints.
    pub fn new() -> Self {
        Hints::default()
    }

    /// Table `from` is now called `to`.
    pub fn rename_table(mut self, from: &str, to: &str) -> Self {
        self.tables.push((from.into(), to.into()));
        self
    }

    /// Column `from` of `table` (its new name, if it is renamed too) is now `to`.
    pub fn rename_column(mut self, table: &str, from: &str, to: &str) -> Self {
        self.columns.push((table.into(), from.into(), to.into()));
        self
    }

    /// Table `name`, which no model describes any more, is to be dropped.
    pub fn drop_table(mut self, name: &str) -> Self {
        self.drops.push(name.into());
        self
    }
}

/// The operations that turn `from` into `to`, in an order the servers accept: renames;
/// new tables (each after the tables it references); per table, foreign keys and indexes
/// that go, then columns added and changed, then indexes and foreign keys that come, then
/// columns dropped; last, the tables to drop. Tables of `from` that `to` does not have
/// are left alone unless [`Hints::drop_table`] names them. A changed primary key is
/// changed after the columns are added and before any is dropped.
pub fn diff(from: &Schema, to: &Schema, hints: &Hints) -> Result<Vec<Operation>> {
    let mut now = from.clone();
    let mut ops = Vec::new();
    let mut apply = |now: &mut Schema, op: Operation| -> Result<()> {
        now.apply(&op)?;
        ops.push(op);
        Ok(())
    };
    for (old, new) in &hints.tables {
        if now.table(old).is_some() && now.table(new).is_none() {
            apply(
                &mut now,
                Operation::RenameTable {
                    from: old.clone(),
                    to: new.clone(),
                },
            )?;
        }
    }
    for table in new_tables_in_order(&now, to)? {
        apply(&mut now, Operation::CreateTable(table))?;
    }
    for wanted in &to.tables {
        let Some(live) = now.table(&wanted.name).cloned() else {
            continue;
        };
        for op in table_changes(&live, wanted, hints)? {
            apply(&mut now, op)?;
        }
    }
    for name in dropped_in_order(&now, &hints.drops) {
        if let Some(table) = now.table(&name).cloned() {
            apply(&mut now, Operation::DropTable(table))?;
        }
    }
    Ok(ops)
}

/// The tables of `to` that `now` lacks, each after the new tables it references.
fn new_tables_in_order(now: &Schema, to: &Schema) -> Result<Vec<Table>> {
    let mut left: Vec<&Table> = to
        .tables
        .iter()
        .filter(|t| now.table(&t.name).is_none())
        .collect();
    let mut ordered = Vec::new();
    while !left.is_empty() {
        let ready = left.iter().position(|t| {
            t.foreign_keys
                .iter()
                .all(|k| k.ref_table == t.name || !left.iter().any(|o| o.name == k.ref_table))
        });
        let Some(ready) = ready else {
            let names: Vec<&str> = left.iter().map(|t| t.name.as_str()).collect();
            return Err(Error::Query(format!(
                "the foreign keys of the new tables {} go round in a circle",
                names.join(", ")
            )));
        };
        ordered.push(left.remove(ready).clone());
    }
    Ok(ordered)
}

/// `names` ordered so that a table is dropped before the tables it references.
fn dropped_in_order(now: &Schema, names: &[String]) -> Vec<String> {
    let mut left: Vec<String> = names.to_vec();
    let mut ordered = Vec::new();
    while !left.is_empty() {
        // One that no other table left references goes first.
        let free = left
            .iter()
            .position(|name| {
                !left.iter().any(|other| {
                    other != name
                        && now
                            .table(other)
                            .is_some_and(|t| t.foreign_keys.iter().any(|k| k.ref_table == *name))
                })
            })
            .unwrap_or(0);
        ordered.push(left.remove(free));
    }
    ordered
}

/// What turns `live` into `wanted`, one table.
fn table_changes(live: &Table, wanted: &Table, hints: &Hints) -> Result<Vec<Operation>> {
    let name = &wanted.name;
    let mut ops = Vec::new();
    let mut live = live.clone();
    for (table, from, to) in &hints.columns {
        if table == name && live.column(from).is_some() && live.column(to).is_none() {
            let op = Operation::RenameColumn {
                table: name.clone(),
                from: from.clone(),
                to: to.clone(),
            };
            let mut schema = Schema { tables: vec![live] };
            schema.apply(&op)?;
            live = schema.tables.remove(0);
            ops.push(op);
        }
    }
    let table = || name.clone();
    for key in live
        .foreign_keys
        .iter()
        .filter(|k| !wanted.foreign_keys.contains(k))
    {
        ops.push(Operation::DropForeignKey {
            table: table(),
            key: key.clone(),
        });
    }
    for index in live.indexes.iter().filter(|i| !wanted.indexes.contains(i)) {
        ops.push(Operation::DropIndex {
            table: table(),
            index: index.clone(),
        });
    }
    for column in &wanted.columns {
        match live.column(&column.name) {
            None => ops.push(Operation::AddColumn {
                table: table(),
                column: column.clone(),
            }),
            Some(now) if differs(now, column) => ops.push(Operation::AlterColumn {
                table: table(),
                from: now.clone(),
                to: crate::schema::Column {
                    auto: now.auto,
                    ..column.clone()
                },
            }),
            Some(_) => {}
        }
    }
    if live.primary_key != wanted.primary_key {
        ops.push(Operation::SetPrimaryKey {
            table: table(),
            from: live.primary_key.clone(),
            to: wanted.primary_key.clone(),
        });
    }
    for index in wanted.indexes.iter().filter(|i| !live.indexes.contains(i)) {
        ops.push(Operation::AddIndex {
            table: table(),
            index: index.clone(),
        });
    }
    for key in wanted
        .foreign_keys
        .iter()
        .filter(|k| !live.foreign_keys.contains(k))
    {
        ops.push(Operation::AddForeignKey {
            table: table(),
            key: key.clone(),
        });
    }
    for column in live
        .columns
        .iter()
        .filter(|c| wanted.column(&c.name).is_none())
    {
        ops.push(Operation::DropColumn {
            table: table(),
            column: column.clone(),
        });
    }
    Ok(ops)
}

/// A column's type, nullability or default differs (whether the key is generated is
/// not changed by a migration).
fn differs(live: &crate::schema::Column, wanted: &crate::schema::Column) -> bool {
    live.sql_type != wanted.sql_type
        || live.nullable != wanted.nullable
        || (live.default != wanted.default && !wanted.auto)
}
