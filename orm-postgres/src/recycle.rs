//! The pool's side of a connection: how one is opened, and whether one that comes
//! back can be handed out again. The pooled database and the held connection both name
//! the pooled object, `PgObject`.

use deadpool::managed::{self, Metrics, Object, RecycleError, RecycleResult};
use orm_core::{Error, Result};

use crate::config::PgConfig;
use crate::conn::PgConn;

/// Opens connections and decides, when one comes back, whether it can be reused.
pub(crate) struct PgManager {
    pub(crate) config: PgConfig,
}

pub(crate) type PgObject = Object<PgManager>;

impl managed::Manager for PgManager {
    type Type = PgConn;
    type Error = Error;

    async fn create(&self) -> Result<PgConn> {
        PgConn::connect(&self.config).await
    }

    async fn recycle(&self, conn: &mut PgConn, _: &Metrics) -> RecycleResult<Error> {
        if conn.is_usable() {
            Ok(())
        } else {
            Err(RecycleError::message(
                "connection closed or left in a transaction",
            ))
        }
    }
}
