//! `prefetch`: load a query's rows and their related rows with one query per relation,
//! not one per object, and reach the related rows without more queries.

use std::any::{Any, TypeId};
use std::future::Future;

use orm_core::hash::{FastMap, FastSet};
use orm_core::{
    Condition, Dialect, ElementType, Error, Executor, ExprNode, ExtOp, FetchQuery, Model, Result,
    Select, TableMeta, Value,
};

/// How many keys go into one `IN (...)` list: under every server's bind-parameter limit
/// (SQLite 32766, MySQL and PostgreSQL 65535).
pub const KEYS_PER_QUERY: usize = 30_000;

/// A hashable form of a key value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
    Other(String),
}

impl Key {
    fn of(value: &Value) -> Option<Key> {
        Some(match value {
            Value::Null => return None,
            Value::Bool(v) => Key::Int(i64::from(*v)),
            Value::I16(v) => Key::Int(i64::from(*v)),
            Value::I32(v) => Key::Int(i64::from(*v)),
            Value::I64(v) => Key::Int(*v),
            Value::Text(s) => Key::Text(s.to_string()),
            Value::Bytes(b) => Key::Bytes(b.clone()),
            other => Key::Other(format!("{other:?}")),
        })
    }
}

/// The rows of one model, with an index from a column's values to row positions (hashed
/// with `FastHasher`: SipHash was a tenth of a prefetch's client instructions).
trait LoadedRows: Any + Send + Sync {
    fn table(&self) -> &'static TableMeta;
    fn column_values(&self, column: usize) -> Vec<Value>;
    fn as_any(&self) -> &dyn Any;
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

struct Loaded<M> {
    rows: Vec<M>,
    /// The column the rows were fetched by, and row positions by its value.
    index: Option<(usize, FastMap<Key, Vec<usize>>)>,
}

impl<M: Model> LoadedRows for Loaded<M> {
    fn table(&self) -> &'static TableMeta {
        M::TABLE
    }
    fn column_values(&self, column: usize) -> Vec<Value> {
        self.rows.iter().map(|r| r.column_value(column)).collect()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

/// How two loaded models relate: `child.child_column` references `parent.parent_column`.
#[derive(Clone, Copy)]
struct Relation {
    child: &'static TableMeta,
    child_column: usize,
    parent_column: usize,
}

fn column_index(table: &TableMeta, name: &str) -> Option<usize> {
    table.columns.iter().position(|c| c.name == name)
}

/// The foreign key between `a` and `b`, in either direction.
fn relation(a: &'static TableMeta, b: &'static TableMeta) -> Option<Relation> {
    let find = |child: &'static TableMeta, parent: &'static TableMeta| {
        child.columns.iter().enumerate().find_map(|(i, c)| {
            let fk = c.references.as_ref()?;
            if !(fk.table)().same_table(parent) {
                return None;
            }
            Some(Relation {
                child,
                child_column: i,
                parent_column: column_index(parent, fk.target_column())?,
            })
        })
    };
    find(a, b).or_else(|| find(b, a))
}

/// A query's rows with their related rows attached.
///
/// ```no_run
/// # use orm_manager::prelude::*;
/// # #[derive(Model)] struct User { #[orm(primary_key, auto)] id: i64 }
/// # #[derive(Model)] struct Post { #[orm(primary_key, auto)] id: i64, #[orm(references = User)] author_id: i64 }
/// # async fn demo(objects: Manager<SqliteDatabase>) -> Result<(), Error> {
/// let users = objects.prefetch(User::select(), (Post::select(),)).await?;
/// for user in users.rows() {
///     let posts: Vec<&Post> = users.related(user);
/// }
/// # Ok(()) }
/// ```
pub struct Prefetched<M> {
    rows: Vec<M>,
    loaded: Vec<Box<dyn LoadedRows>>,
    type_ids: Vec<TypeId>,
}

impl<M: Model> Prefetched<M> {
    /// The base query's rows.
    pub fn rows(&self) -> &[M] {
        &self.rows
    }

    /// The base query's rows, owned.
    pub fn into_rows(self) -> Vec<M> {
        self.rows
    }

    /// The prefetched `R` rows related to `obj` (a base row or a prefetched row): its
    /// children for a one-to-many relation, its parent for a many-to-one. Empty when `R`
    /// was not prefetched or nothing relates.
    pub fn related<R: Model, P: Model>(&self, obj: &P) -> Vec<&R> {
        let Some(slot) = self.type_ids.iter().position(|t| *t == TypeId::of::<R>()) else {
            return Vec::new();
        };
        let Some(loaded) = self.loaded[slot].as_any().downcast_ref::<Loaded<R>>() else {
            return Vec::new();
        };
        let Some(rel) = relation(R::TABLE, P::TABLE) else {
            return Vec::new();
        };
        let (own_column, index_column) = if rel.child.same_table(R::TABLE) {
            (rel.parent_column, rel.child_column)
        } else {
            (rel.child_column, rel.parent_column)
        };
        let (Some(key), Some((indexed, index))) =
            (Key::of(&obj.column_value(own_column)), &loaded.index)
        else {
            return Vec::new();
        };
        if *indexed != index_column {
            return Vec::new();
        }
        index
            .get(&key)
            .map(|rows| rows.iter().map(|i| &loaded.rows[*i]).collect())
            .unwrap_or_default()
    }
}

impl<M> IntoIterator for Prefetched<M> {
    type Item = M;
    type IntoIter = std::vec::IntoIter<M>;
    fn into_iter(self) -> Self::IntoIter {
        self.rows.into_iter()
    }
}

/// One subquery of a prefetch: `R::select()` with any filters.
pub trait PrefetchStep: Send + 'static {
    /// Loads the rows related to what is already loaded.
    fn load<'a, E: Executor + ?Sized>(
        self,
        exec: &'a E,
        store: &'a mut Store,
    ) -> impl Future<Output = Result<()>> + Send + 'a;
}

/// What a prefetch has loaded so far.
pub struct Store {
    loaded: Vec<Box<dyn LoadedRows>>,
    type_ids: Vec<TypeId>,
}

impl<R: Model> PrefetchStep for Select<R, R> {
    async fn load<'a, E: Executor + ?Sized>(self, exec: &'a E, store: &'a mut Store) -> Result<()> {
        let found = store
            .loaded
            .iter()
            .enumerate()
            .find_map(|(i, l)| relation(R::TABLE, l.table()).map(|rel| (i, rel)));
        let Some((source, rel)) = found else {
            return Err(Error::Query(format!(
                "prefetch: no foreign key links {} to a model loaded before it",
                R::TABLE.model
            )));
        };
        // Which column of the loaded rows gives the keys, and which column of R they match.
        let (source_column, own_column) = if rel.child.same_table(R::TABLE) {
            (rel.parent_column, rel.child_column)
        } else {
            (rel.child_column, rel.parent_column)
        };
        let mut keys: Vec<Value> = Vec::new();
        let mut seen = FastSet::default();
        for value in store.loaded[source].column_values(source_column) {
            if let Some(key) = Key::of(&value) {
                if seen.insert(key) {
                    keys.push(value);
                }
            }
        }
        let mut rows: Vec<R> = Vec::new();
        for chunk in keys.chunks(KEYS_PER_QUERY) {
            let column = ExprNode::Column {
                qualifier: Some(R::TABLE.name.into()),
                name: R::TABLE.columns[own_column].name,
            };
            let filter: Condition = Condition::from_node(key_filter(exec.dialect(), column, chunk));
            rows.extend(self.clone().where_(filter).fetch_all(exec).await?);
        }
        let mut index: FastMap<Key, Vec<usize>> = FastMap::default();
        for (i, row) in rows.iter().enumerate() {
            if let Some(key) = Key::of(&row.column_value(own_column)) {
                index.entry(key).or_default().push(i);
            }
        }
        store.loaded.push(Box::new(Loaded {
            rows,
            index: Some((own_column, index)),
        }));
        store.type_ids.push(TypeId::of::<R>());
        Ok(())
    }
}

/// `column = ANY($1)` with the keys as one array where the dialect has it (PostgreSQL) and
/// the keys are integers or text: one statement text for any number of keys, so one
/// prepared statement, and no parameter per key. Elsewhere `column IN ($1, ..., $n)`.
fn key_filter(dialect: &dyn Dialect, column: ExprNode, keys: &[Value]) -> ExprNode {
    let element = match keys.first() {
        Some(Value::I64(_)) => Some(ElementType::BigInt),
        Some(Value::I32(_)) => Some(ElementType::Int),
        Some(Value::I16(_)) => Some(ElementType::SmallInt),
        Some(Value::Text(_)) => Some(ElementType::Text),
        _ => None,
    };
    let same_kind = |v: &Value| std::mem::discriminant(v) == std::mem::discriminant(&keys[0]);
    match element {
        Some(element)
            if dialect.ext_syntax(ExtOp::EqualsAny).is_some() && keys.iter().all(same_kind) =>
        {
            let array = Value::Array(element, keys.to_vec());
            ExprNode::Ext(ExtOp::EqualsAny, Box::new(column), Some(array))
        }
        _ => {
            let list = keys.iter().cloned().map(ExprNode::Param).collect();
            ExprNode::InList(Box::new(column), list, false)
        }
    }
}

/// The subqueries of a prefetch: a tuple of `R::select()` queries, loaded in order; each
/// must have a foreign key to the base model or to a model before it.
pub trait Subqueries: Send + 'static {
    /// Loads every subquery.
    fn load_all<'a, E: Executor + ?Sized>(
        self,
        exec: &'a E,
        store: &'a mut Store,
    ) -> impl Future<Output = Result<()>> + Send + 'a;
}

macro_rules! subqueries {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: PrefetchStep),+> Subqueries for ($($name,)+) {
            async fn load_all<'a, E: Executor + ?Sized>(self, exec: &'a E, store: &'a mut Store) -> Result<()> {
                $(self.$idx.load(exec, store).await?;)+
                Ok(())
            }
        }
    };
}
subqueries!(A 0);
subqueries!(A 0, B 1);
subqueries!(A 0, B 1, C 2);
subqueries!(A 0, B 1, C 2, D 3);

/// Runs `query`, then each subquery once per relation (chunked under the bind-parameter
/// limit), and attaches the related rows.
pub async fn prefetch<E, M, S, J>(
    exec: &E,
    query: Select<M, M, J>,
    subqueries: S,
) -> Result<Prefetched<M>>
where
    E: Executor + ?Sized,
    M: Model,
    S: Subqueries,
{
    let rows = query.fetch_all(exec).await?;
    // The base rows are needed for their keys while loading: they go first in the store.
    let mut store = Store {
        loaded: vec![Box::new(Loaded::<M> { rows, index: None })],
        type_ids: vec![TypeId::of::<M>()],
    };
    subqueries.load_all(exec, &mut store).await?;
    let mut loaded = store.loaded.into_iter();
    let rows = loaded
        .next()
        .and_then(|base| base.into_any().downcast::<Loaded<M>>().ok())
        .map(|base| base.rows)
        .unwrap_or_default();
    let mut type_ids = store.type_ids;
    type_ids.remove(0);
    Ok(Prefetched {
        rows,
        loaded: loaded.collect(),
        type_ids,
    })
}

impl<M> std::fmt::Debug for Prefetched<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prefetched")
            .field("rows", &self.rows.len())
            .field("relations", &self.loaded.len())
            .finish()
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("relations", &self.loaded.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::key_filter;
    use orm_core::{
        Condition, ExprNode, Model, MySQLDialect, PostgresqlDialect, Query, SqliteDialect, Value,
    };

    #[derive(orm_derive::Model)]
    #[orm(table = "posts")]
    struct Post {
        #[orm(primary_key, auto)]
        id: i64,
        user_id: i64,
    }

    fn render(dialect: &dyn orm_core::Dialect, keys: &[Value]) -> (String, Vec<Value>) {
        let column = ExprNode::Column {
            qualifier: Some("posts".into()),
            name: "user_id",
        };
        let filter: Condition = Condition::from_node(key_filter(dialect, column, keys));
        let stmt = Post::select()
            .where_(filter)
            .render(dialect)
            .expect("render");
        (stmt.sql, stmt.params)
    }

    #[test]
    fn postgres_binds_the_keys_as_one_array() {
        let keys = [Value::I64(1), Value::I64(2), Value::I64(3)];
        let (sql, params) = render(&PostgresqlDialect, &keys);
        assert!(
            sql.ends_with(r#"WHERE ("posts"."user_id" = ANY($1))"#),
            "{sql}"
        );
        assert_eq!(
            params,
            vec![Value::Array(orm_core::ElementType::BigInt, keys.to_vec())]
        );
    }

    #[test]
    fn other_dialects_and_other_key_types_use_an_in_list() {
        let keys = [Value::I64(1), Value::I64(2)];
        let (sql, params) = render(&MySQLDialect, &keys);
        assert!(
            sql.ends_with("WHERE (`posts`.`user_id` IN (?, ?))"),
            "{sql}"
        );
        assert_eq!(params, keys.to_vec());
        let (sql, _) = render(&SqliteDialect, &keys);
        assert!(
            sql.ends_with(r#"WHERE ("posts"."user_id" IN (?1, ?2))"#),
            "{sql}"
        );
        let bytes = [Value::Bytes(vec![1]), Value::Bytes(vec![2])];
        let (sql, params) = render(&PostgresqlDialect, &bytes);
        assert!(sql.ends_with(r#"IN ($1, $2))"#), "{sql}");
        assert_eq!(params, bytes.to_vec());
    }
}
