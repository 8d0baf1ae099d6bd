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

/// An index or unique constraint. Two compare equal on their columns and uniqueness:
/// the name and the kind are the server's business.
#[derive(Debug, Clone, Default)]
pub struct Index {
    /// Its columns, in order.
    pub columns: Vec<String>,
    /// Unique.
    pub unique: bool,
    /// Its name, where known (to drop it).
    pub name: Option<String>,
    /// A unique constraint rather than an index (PostgreSQL drops those differently).
    pub constraint: bool,
}

impl Index {
    /// An index on `columns`, named as the ORM names its own.
    pub fn new(table: &str, columns: Vec<String>, unique: bool) -> Index {
        let suffix = if unique { "key" } else { "idx" };
        let name = format!("{table}_{}_{suffix}", columns.join("_"));
        Index {
            columns,
            unique,
            name: Some(name),
            constraint: false,
        }
    }

    fn key(&self) -> (&[String], bool) {
        (&self.columns, self.unique)
    }
}

impl PartialEq for Index {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Index {}

impl PartialOrd for Index {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Index {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

/// A foreign key. Two compare equal on everything but the name.
#[derive(Debug, Clone)]
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
    /// Its constraint's name, where known (to drop it).
    pub name: Option<String>,
    /// MySQL: the index InnoDB made for it, which goes with it.
    pub index: Option<String>,
}

impl ForeignKey {
    fn key(&self) -> (&[String], &str, &[String], FkAction, FkAction) {
        (
            &self.columns,
            &self.ref_table,
            &self.ref_columns,
            self.on_delete,
            self.on_update,
        )
    }
}

impl PartialEq for ForeignKey {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Column {
    /// A column that the database does not generate.
    ///
    /// ```
    /// let pages = orm_migrate::Column::new("pages", "INTEGER", true, Some("0"));
    /// assert_eq!(pages.default.as_deref(), Some("0"));
    /// assert!(!pages.auto);
    /// ```
    pub fn new(name: &str, sql_type: &str, nullable: bool, default: Option<&str>) -> Column {
        Column {
            name: name.into(),
            sql_type: sql_type.into(),
            nullable,
            default: default.map(String::from),
            auto: false,
        }
    }
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
    /// assert_eq!(table.indexes, [Index::new("tag", vec!["name".into()], true)]);
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
                // A unique column is declared UNIQUE: a constraint.
                constraint: c.unique,
                ..Index::new(meta.name, vec![c.name.into()], c.unique)
            })
            .chain(meta.indexes.iter().map(|i| {
                let columns = i.columns.iter().map(|c| String::from(*c)).collect();
                Index::new(meta.name, columns, i.unique)
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
                    name: None,
                    index: None,
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
