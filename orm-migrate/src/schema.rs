//! A database schema as plain, owned data: what introspection reads from a live database
//! and what the models' metadata describes, in one vocabulary so that they compare.
//!
//! Types are written as the dialect's DDL writes them (`BIGINT`, `VARCHAR(40)`,
//! `TIMESTAMPTZ`); a unique constraint and a unique index are both a unique [`Index`];
//! names of indexes and constraints are left out, since servers make them up.

use orm_core::{Dialect, FkAction, TableMeta};

/// The tables of one schema (PostgreSQL), database (MySQL) or file (SQLite), by name.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schema {
    /// Sorted by name.
    pub tables: Vec<Table>,
}

impl Schema {
    /// The table called `name`.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }
}

/// One table.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// Its name.
    pub name: String,
    /// Its columns, in order.
    pub columns: Vec<Column>,
    /// The primary key's columns, in order (none: no primary key).
    pub primary_key: Vec<String>,
    /// Indexes and unique constraints other than the primary key, sorted by columns.
    pub indexes: Vec<Index>,
    /// Foreign keys, sorted by columns.
    pub foreign_keys: Vec<ForeignKey>,
}

/// One column.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// Its type, as the dialect's DDL writes it (`BIGINT`, `VARCHAR(40)`).
    pub sql_type: String,
    /// NULL allowed.
    pub nullable: bool,
    /// The default expression, as the server writes it back with casts of literals left
    /// out (`'x'`, `0`, `CURRENT_TIMESTAMP`); none for generated keys.
    pub default: Option<String>,
    /// A key the database generates (identity, `AUTO_INCREMENT`, SQLite's rowid).
    pub auto: bool,
}

/// An index or unique constraint.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Index {
    /// Its columns, in order.
    pub columns: Vec<String>,
    /// Unique.
    pub unique: bool,
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignKey {
    /// The referencing columns.
    pub columns: Vec<String>,
    /// The referenced table.
    pub ref_table: String,
    /// The referenced columns.
    pub ref_columns: Vec<String>,
    /// What deleting the referenced row does.
    pub on_delete: FkAction,
    /// What changing the referenced key does.
    pub on_update: FkAction,
}

impl Table {
    /// The table a model describes, as `dialect` creates it
    /// ([`create_table`](orm_core::Model::create_table)).
    ///
    /// ```
    /// # use orm_core::Table as _;
    /// use orm_migrate::{Index, Table};
    /// # #[derive(orm_derive::Model)]
    /// # struct Tag { #[orm(primary_key, auto)] id: i64, #[orm(unique, max_length = 40)] name: String }
    /// let table = Table::of_model(Tag::TABLE, &orm_core::PostgresqlDialect);
    /// assert_eq!(table.columns[0].sql_type, "BIGINT");
    /// assert!(table.columns[0].auto);
    /// assert_eq!(table.columns[1].sql_type, "VARCHAR(40)");
    /// assert_eq!(table.indexes, [Index { columns: vec!["name".into()], unique: true }]);
    /// ```
    pub fn of_model(meta: &TableMeta, dialect: &dyn Dialect) -> Table {
        let keyed = |name: &str| {
            meta.columns.iter().any(|c| {
                c.name == name && (c.primary_key || c.unique || c.index || c.references.is_some())
            }) || meta.indexes.iter().any(|i| i.columns.contains(&name))
        };
        let columns = meta
            .columns
            .iter()
            .map(|c| Column {
                name: c.name.into(),
                sql_type: crate::types::model_type(dialect, c.sql_type, keyed(c.name), c.auto),
                nullable: c.nullable && !c.primary_key,
                default: if c.auto {
                    None
                } else {
                    c.default.map(crate::types::default_of_model)
                },
                auto: c.auto,
            })
            .collect();
        let primary_key: Vec<String> = meta.primary_key_columns().map(String::from).collect();
        let whole_key = primary_key.len() == 1;
        let mut indexes: Vec<Index> = meta
            .columns
            .iter()
            .filter(|c| !(c.primary_key && whole_key))
            .filter(|c| c.unique || c.index)
            .map(|c| Index {
                columns: vec![c.name.into()],
                unique: c.unique,
            })
            .chain(meta.indexes.iter().map(|i| Index {
                columns: i.columns.iter().map(|c| String::from(*c)).collect(),
                unique: i.unique,
            }))
            .collect();
        indexes.sort();
        indexes.dedup();
        let mut foreign_keys: Vec<ForeignKey> = meta
            .columns
            .iter()
            .filter_map(|c| {
                let fk = c.references.as_ref()?;
                Some(ForeignKey {
                    columns: vec![c.name.into()],
                    ref_table: (fk.table)().name.into(),
                    ref_columns: vec![fk.target_column().into()],
                    on_delete: fk.on_delete,
                    on_update: fk.on_update,
                })
            })
            .collect();
        foreign_keys.sort_by(|a, b| a.columns.cmp(&b.columns));
        Table {
            name: meta.name.into(),
            columns,
            primary_key,
            indexes,
            foreign_keys,
        }
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}
