//! The runner and `generate` for sync programs ("sync will remain sync"): each call runs
//! the async one to its end on a small runtime kept for these calls (one thread, made on
//! first use: connections a pool opens there stay usable from one call to the next), so
//! it is for code outside any async runtime (a program's set-up before it starts one, a
//! sync service). Inside a runtime it refuses, with the async call to use instead.
//!
//! ```
//! # use orm_manager::prelude::*;
//! # #[derive(Model)]
//! # struct Tag { #[orm(primary_key, auto)] id: i64, name: String }
//! # fn main() -> Result<(), Error> {
//! # let dir = std::env::temp_dir().join(format!("orm-blocking-doc-{}", std::process::id()));
//! let db = SqliteDatabase::new(SqliteConfig::memory())?;
//! use orm_migrate::{blocking, load_dir, Hints};
//! blocking::generate(&db, &dir, "tags", &[Tag::TABLE], &Hints::new(), false)?;
//! assert_eq!(blocking::up(&db, &load_dir(&dir)?)?, ["0001_tags"]);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok(()) }
//! ```

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use orm_core::{Database, Error, Result, TableMeta};

use crate::diff::Hints;
use crate::migration::Migration;
use crate::runner::State;

fn block_on<T>(what: &str, work: impl Future<Output = Result<T>>) -> Result<T> {
    static RUNTIME: OnceLock<std::io::Result<tokio::runtime::Runtime>> = OnceLock::new();
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::Config(format!(
            "orm_migrate::blocking::{what} was called inside an async runtime: \
             call orm_migrate::{what}(..).await there"
        )));
    }
    let runtime = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("orm-migrate")
            .enable_all()
            .build()
    });
    match runtime {
        Ok(runtime) => runtime.block_on(work),
        Err(e) => Err(Error::Config(format!("no runtime for the migration: {e}"))),
    }
}

/// [`crate::up`], blocking: the versions applied.
pub fn up<D: Database>(db: &D, migrations: &[Migration]) -> Result<Vec<String>> {
    block_on("up", crate::up(db, migrations, |_| {}))
}

/// [`crate::down`], blocking: the versions undone.
pub fn down<D: Database>(db: &D, migrations: &[Migration], count: usize) -> Result<Vec<String>> {
    block_on("down", crate::down(db, migrations, count, |_| {}))
}

/// [`crate::status`], blocking.
pub fn status<D: Database>(db: &D, migrations: &[Migration]) -> Result<Vec<(String, State)>> {
    block_on("status", crate::status(db, migrations))
}

/// [`crate::generate`], blocking.
pub fn generate<D: Database>(
    db: &D,
    dir: &Path,
    name: &str,
    models: &[&TableMeta],
    hints: &Hints,
    allow_destructive: bool,
) -> Result<Option<PathBuf>> {
    block_on(
        "generate",
        crate::generate(db, dir, name, models, hints, allow_destructive),
    )
}
