//! CREATE TABLE / DROP TABLE from a model's metadata, for each dialect.

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::meta::{ColumnMeta, IndexMeta, TableMeta};
use crate::render::Writer;
use crate::statement::Statement;
use crate::tree::TableRef;

/// The statements that create `table` and its indexes: CREATE TABLE first, then one
/// CREATE INDEX per index (MySQL declares them inside CREATE TABLE instead).
/// Fails, before anything is sent, when a column's type does not exist in the dialect
/// (arrays and hstore outside PostgreSQL).
pub fn create_table(
    table: &TableMeta,
    dialect: &dyn Dialect,
    safe: bool,
) -> Result<Vec<Statement>> {
    if let Some(col) = table
        .columns
        .iter()
        .find(|c| !dialect.supports_type(c.sql_type))
    {
        return Err(Error::Query(format!(
            "{}.{}: {} has no {} columns",
            table.model,
            col.field,
            dialect.name(),
            col.sql_type.name()
        )));
    }
    let mut w = Writer::new(dialect);
    w.push(if safe {
        "CREATE TABLE IF NOT EXISTS "
    } else {
        "CREATE TABLE "
    });
    w.table(&TableRef::of(table));
    w.push(" (");
    let pk: Vec<&str> = table.primary_key_columns().collect();
    for (i, col) in table.columns.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        column_definition(&mut w, table, col, pk.len() == 1);
    }
    if pk.len() > 1 {
        w.push(", PRIMARY KEY (");
        names(&mut w, &pk);
        w.push(")");
    }
    for col in table.columns {
        if let Some(fk) = &col.references {
            let target = (fk.table)();
            w.push(", FOREIGN KEY (");
            w.ident(col.name);
            w.push(") REFERENCES ");
            w.table(&TableRef::of(target));
            w.push(" (");
            w.ident(fk.target_column());
            w.push(")");
            w.push(" ON DELETE ");
            w.push(fk.on_delete.sql());
            w.push(" ON UPDATE ");
            w.push(fk.on_update.sql());
        }
    }
    let indexes = all_indexes(table);
    if dialect.inline_indexes() {
        for (name, index) in &indexes {
            w.push(if index.unique {
                ", UNIQUE KEY "
            } else {
                ", KEY "
            });
            w.ident(name);
            w.push(" (");
            names(&mut w, index.columns);
            w.push(")");
        }
    }
    w.push(")");
    w.push(dialect.create_table_suffix());
    let mut out = vec![w.finish()?];
    if !dialect.inline_indexes() {
        for (name, index) in &indexes {
            out.push(create_index(table, dialect, name, index, safe)?);
        }
    }
    Ok(out)
}

/// `DROP TABLE [IF EXISTS] table`.
pub fn drop_table(table: &TableMeta, dialect: &dyn Dialect, safe: bool) -> Result<Statement> {
    let mut w = Writer::new(dialect);
    w.push(if safe {
        "DROP TABLE IF EXISTS "
    } else {
        "DROP TABLE "
    });
    w.table(&TableRef::of(table));
    w.finish()
}

fn column_definition(w: &mut Writer<'_>, table: &TableMeta, col: &ColumnMeta, single_pk: bool) {
    let dialect = w.dialect;
    w.ident(col.name);
    w.push(" ");
    if col.auto {
        w.push(&dialect.auto_increment(col.sql_type));
    } else {
        w.push(&dialect.column_type(col.sql_type, is_keyed(table, col)));
        if !col.nullable {
            w.push(" NOT NULL");
        }
        if let Some(default) = col.default {
            w.push(" DEFAULT ");
            w.push(default);
        }
    }
    if col.primary_key && single_pk {
        w.push(" PRIMARY KEY");
    } else if col.unique {
        w.push(" UNIQUE");
    }
}

fn is_keyed(table: &TableMeta, col: &ColumnMeta) -> bool {
    col.primary_key
        || col.unique
        || col.index
        || col.references.is_some()
        || table.indexes.iter().any(|i| i.columns.contains(&col.name))
}

/// Single-column indexes first, then the composite ones, each with its generated name. A
/// column that is the whole primary key or unique is indexed already; one that is part of
/// a composite primary key is not, and gets the index it asks for.
fn all_indexes(table: &TableMeta) -> Vec<(String, IndexMeta)> {
    let whole_key = table.primary_key_columns().count() == 1;
    let singles = table
        .columns
        .iter()
        .filter(move |c| c.index && !c.unique && !(c.primary_key && whole_key))
        .map(|c| IndexMeta {
            columns: std::slice::from_ref(&c.name),
            unique: false,
        });
    singles
        .chain(table.indexes.iter().copied())
        .map(|index| (index_name(table, &index), index))
        .collect()
}

fn index_name(table: &TableMeta, index: &IndexMeta) -> String {
    let suffix = if index.unique { "key" } else { "idx" };
    format!("{}_{}_{}", table.name, index.columns.join("_"), suffix)
}

fn create_index(
    table: &TableMeta,
    dialect: &dyn Dialect,
    name: &str,
    index: &IndexMeta,
    safe: bool,
) -> Result<Statement> {
    let mut w = Writer::new(dialect);
    w.push(if index.unique {
        "CREATE UNIQUE INDEX "
    } else {
        "CREATE INDEX "
    });
    if safe {
        w.push("IF NOT EXISTS ");
    }
    w.ident(name);
    w.push(" ON ");
    w.table(&TableRef::of(table));
    w.push(" (");
    names(&mut w, index.columns);
    w.push(")");
    w.finish()
}

fn names(w: &mut Writer<'_>, names: &[&str]) {
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.ident(n);
    }
}
