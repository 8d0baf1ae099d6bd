//! The pool's side of a connection: how one is opened, and whether one that comes
//! back can be handed out again. The pooled database and the held connection both name
//! the pooled object, `SqliteObject`.

use std::sync::Arc;

use deadpool::managed::{self, Metrics, Object, RecycleError, RecycleResult};
use orm_core::{Error, Result};

use crate::config::SqliteConfig;
use crate::conn::{self, blocking, SqliteConn};

/// Opens connections on a blocking thread; refuses to reuse one left in a transaction.
pub(crate) struct Manager {
    pub(crate) config: Arc<SqliteConfig>,
}

pub(crate) type SqliteObject = Object<Manager>;

impl managed::Manager for Manager {
    type Type = Arc<SqliteConn>;
    type Error = Error;

    async fn create(&self) -> Result<Arc<SqliteConn>> {
        let config = self.config.clone();
        blocking(move || conn::open(&config).map(SqliteConn::new)).await
    }

    async fn recycle(&self, conn: &mut Arc<SqliteConn>, _: &Metrics) -> RecycleResult<Error> {
        if conn.is_dirty() {
            Err(RecycleError::message("connection left in a transaction"))
        } else {
            Ok(())
        }
    }
}
