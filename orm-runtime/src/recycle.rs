//! The pool's side of a connection: how one is opened, and whether one that comes back
//! can be handed out again. The pooled database and the held connection both name the
//! pooled object, [`Pooled`].

use std::sync::Arc;

use deadpool::managed::{self, Metrics, Object, RecycleError, RecycleResult};
use orm_core::{Error, Result};

use crate::driver::{self, Driver, Role};
use crate::link::Link;
use crate::pool::{bounded, Counters, PoolOptions, PoolSettings};

/// Opens connections and decides, when one comes back, whether it can be handed out
/// again.
pub(crate) struct PoolManager<D: Driver> {
    config: D::Config,
    shared: Arc<D::Shared>,
    counters: Arc<Counters>,
}

impl<D: Driver> PoolManager<D> {
    pub(crate) fn new(config: D::Config, shared: Arc<D::Shared>, counters: Arc<Counters>) -> Self {
        PoolManager {
            config,
            shared,
            counters,
        }
    }
}

pub(crate) type Pooled<D> = Object<PoolManager<D>>;

impl<D: Driver> managed::Manager for PoolManager<D> {
    type Type = Link<D>;
    type Error = Error;

    async fn create(&self) -> Result<Link<D>> {
        // Boxed: a driver's connect future is kilobytes (TLS, the handshake), and deadpool
        // holds it inside every checkout's future, which is then copied on each move.
        let connect = Box::pin(driver::connect::<D>(
            &self.config,
            &self.shared,
            Role::Pooled,
        ));
        match connect.await {
            Ok(conn) => Ok(Link::new(conn)),
            Err(e) => {
                self.counters.connect_failed();
                Err(e)
            }
        }
    }

    async fn recycle(&self, link: &mut Link<D>, metrics: &Metrics) -> RecycleResult<Error> {
        if !link.is_usable() {
            return Err(RecycleError::message(
                "connection closed, left mid-statement or in a transaction",
            ));
        }
        let options = self.config.pool_options();
        if expired(options, metrics) {
            return Err(RecycleError::message(
                "connection past its lifetime or idle",
            ));
        }
        let limit = options.connect_timeout;
        let check = async {
            D::recycle(&link.conn, &self.config).await?;
            if options.check_on_checkout {
                D::ping(&link.conn).await?;
            }
            Ok(())
        };
        match bounded(limit, check).await {
            Some(result) => result.map_err(RecycleError::Backend),
            None => Err(RecycleError::message(format!(
                "recycling took longer than {limit:?}"
            ))),
        }
    }
}

/// Past its max lifetime, or idle longer than the idle timeout.
fn expired(options: &PoolOptions, metrics: &Metrics) -> bool {
    options.max_lifetime.is_some_and(|max| metrics.age() > max)
        || options
            .idle_timeout
            .is_some_and(|max| metrics.last_used() > max)
}
