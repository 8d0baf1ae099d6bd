//! `prefetch`: load a query's rows and their related rows with one query per relation,
//! not one per object, and reach the related rows without more queries.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::future::Future;

use orm_core::{
    Condition, Error, Executor, ExprNode, FetchQuery, Model, Result, Select, TableMeta, Value,
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
            Value::Text(s) => Key::Text(s.clone()),
            Value::Bytes(b) => Key::Bytes(b.clone()),
            other => Key::Other(format!("{other:?}")),
        })
    }
}

/// The rows of one model, with an index from a column's values to row positions.
trait LoadedRows: Any + Send + Sync {
    fn table(&self) -> &'static TableMeta;
    fn column_values(&self, column: usize) -> Vec<Value>;
    fn as_any(&self) -> &dyn Any;
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

struct Loaded<M> {
    rows: Vec<M>,
    /// The column the rows were fetched by, and row positions by its value.
    index: Option<(usize, HashMap<Key, Vec<usize>>)>,
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
        let mut seen = std::collections::HashSet::new();
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
            let list = chunk.iter().cloned().map(ExprNode::Param).collect();
            let filter = Condition::from_node(ExprNode::InList(Box::new(column), list, false));
            rows.extend(self.clone().where_(filter).fetch_all(exec).await?);
        }
        let mut index: HashMap<Key, Vec<usize>> = HashMap::new();
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
pub async fn prefetch<E, M, S>(
    exec: &E,
    query: Select<M, M>,
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
