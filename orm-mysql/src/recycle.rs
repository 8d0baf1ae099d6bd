//! The pool's side of a connection: how one is opened, and whether one that comes
//! back can be handed out again. The pooled database and the held connection both name
//! the pooled object, `MyObject`.

use deadpool::managed::{self, Metrics, Object, RecycleError, RecycleResult};
use orm_core::{Error, Result};

use crate::config::MySqlConfig;
use crate::conn::MyConn;

/// Creates connections and decides, when one comes back, whether it can be reused.
pub(crate) struct Manager {
    pub(crate) config: MySqlConfig,
}

pub(crate) type MyObject = Object<Manager>;

impl managed::Manager for Manager {
    type Type = MyConn;
    type Error = Error;

    async fn create(&self) -> Result<MyConn> {
        MyConn::connect(&self.config).await
    }

    async fn recycle(&self, conn: &mut MyConn, _: &Metrics) -> RecycleResult<Error> {
        if conn.is_broken() {
            return Err(RecycleError::message(
                "connection left mid-statement or broken",
            ));
        }
        if conn.needs_reset {
            conn.reset(&self.config)
                .await
                .map_err(RecycleError::Backend)?;
        }
        Ok(())
    }
}
