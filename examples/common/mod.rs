//! Picks the database from `DATABASE_URL`: `postgres://...`, `mysql://...` or
//! `sqlite://...`. Unset, it is an SQLite file in a temporary directory, so every example
//! runs on a machine with no database server.

use orm_manager::prelude::*;

/// What an example does with whichever database it was given.
pub trait Example {
    /// Runs the example.
    fn run<D: Database>(self, database: D) -> Result<(), Error>;
}

/// Runs `example` on the database `DATABASE_URL` names.
pub fn run(name: &str, example: impl Example) -> Result<(), Error> {
    let url = std::env::var("DATABASE_URL").ok();
    match url.as_deref() {
        // The URL's scheme picks the backend at run time: one database type for all.
        Some(url) => example.run(AnyDatabase::connect_lazy(url)?),
        None => {
            let path =
                std::env::temp_dir().join(format!("orm-example-{name}-{}.db", std::process::id()));
            let sqlite = SqliteDatabase::new(SqliteConfig::file(&path))?;
            let result = example.run(AnyDatabase::from(sqlite));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            result
        }
    }
}

/// A multi-threaded tokio runtime for the async part of an example.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("tokio runtime")
}
