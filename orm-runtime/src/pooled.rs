//! The pooled database: async connections from a deadpool pool built from the
//! configuration's [`PoolOptions`](crate::PoolOptions), and one blocking connection.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use deadpool::managed::Pool;
use orm_core::{Database, Result, SyncGate};

use crate::blocking::BlockingSide;
use crate::driver::{Driver, DriverConfig};
use crate::held::HeldConnection;
use crate::pool::{self, Counters, PoolMetrics, PoolOptions, PoolSettings};
use crate::recycle::{PoolManager, Pooled};
use crate::retry::Checkout;

/// A database with a pool of async connections and one blocking connection. The
/// user-facing names are the backends' (`PooledPostgresqlDatabase`, ...).
///
/// Waiting for a connection is bounded by the acquire timeout; when it runs out the call
/// fails with [`Error::PoolTimeout`](orm_core::Error::PoolTimeout), never hangs. Connections the server closed, or left
/// inside a transaction or mid-statement, are never handed out again.
pub struct PooledDatabase<D: Driver> {
    inner: Arc<Inner<D>>,
}

struct Inner<D: Driver> {
    config: D::Config,
    pool: Pool<PoolManager<D>>,
    sync: BlockingSide<D>,
    autonomous: OnceLock<Option<PooledDatabase<D>>>,
    /// The task that keeps `min_idle` connections and closes idle ones is running.
    maintained: AtomicBool,
    counters: Arc<Counters>,
}

impl<D: Driver> Clone for PooledDatabase<D> {
    fn clone(&self) -> Self {
        PooledDatabase {
            inner: self.inner.clone(),
        }
    }
}

impl<D: Driver> PooledDatabase<D> {
    /// A pooled database for `config`; connections open on demand.
    pub fn new(config: D::Config) -> Result<Self> {
        let shared = Arc::new(D::shared(&config)?);
        let counters = Arc::new(Counters::default());
        let manager = PoolManager::new(config.clone(), shared.clone(), counters.clone());
        let pool = pool::build(manager, config.pool_options())?;
        Ok(PooledDatabase {
            inner: Arc::new(Inner {
                sync: BlockingSide::new(shared),
                config,
                pool,
                autonomous: OnceLock::new(),
                maintained: AtomicBool::new(false),
                counters,
            }),
        })
    }

    /// A pooled database for a URL (`postgres://...`, `mysql://...`, `sqlite:...`).
    pub fn connect_lazy(url: &str) -> Result<Self> {
        Self::new(D::Config::from_url(url)?)
    }

    /// The configuration.
    pub fn config(&self) -> &D::Config {
        &self.inner.config
    }

    /// Opens the blocking connection now (subject to the sync policy).
    pub fn connect_sync(&self) -> Result<()> {
        self.inner.sync.connect(&self.inner.config)
    }

    /// True while the blocking connection is open.
    pub fn is_sync_open(&self) -> bool {
        self.inner.sync.is_open()
    }

    /// Pool size, connections open, and connections idle.
    pub fn pool_status(&self) -> (usize, usize, usize) {
        let s = self.inner.pool.status();
        (s.max_size, s.size, s.available)
    }

    /// The pool's gauges and totals: connections open, idle, in use and held by
    /// transactions, callers waiting, checkouts and their waits, timeouts, failed opens.
    pub fn pool_metrics(&self) -> PoolMetrics {
        self.inner.counters.metrics(&self.inner.pool)
    }

    async fn get(&self) -> Result<Pooled<D>> {
        self.maintain();
        pool::checkout(&self.inner.pool, &self.inner.counters).await
    }

    async fn checkout(&self) -> Result<Checkout<D, Pooled<D>>> {
        let obj = self.get().await?;
        Ok(Checkout {
            conn: obj.conn.clone(),
            call: obj.call(self.inner.config.log_values()),
            _holder: obj,
        })
    }

    /// Starts, once, the task that keeps `min_idle` connections open and closes the ones
    /// past their lifetime or idle timeout; it ends with the database.
    fn maintain(&self) {
        let options = self.inner.config.pool_options();
        let needed = options.min_idle > 0
            || options.idle_timeout.is_some()
            || options.max_lifetime.is_some();
        if !needed
            || self.inner.maintained.load(Ordering::Relaxed)
            || self.inner.maintained.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let period = [options.idle_timeout, options.max_lifetime]
            .into_iter()
            .flatten()
            .map(|d| d / 2)
            .min()
            .unwrap_or(Duration::from_secs(1))
            .clamp(Duration::from_millis(50), Duration::from_secs(30));
        let (options, weak) = (options.clone(), self.inner.pool.weak());
        tokio::spawn(async move {
            while let Some(pool) = weak.upgrade() {
                tend(&pool, &options).await;
                drop(pool);
                tokio::time::sleep(period).await;
            }
        });
    }
}

/// Closes the idle connections past their lifetime or idle timeout (keeping `min_idle`
/// of the idle ones), then opens connections until `min_idle` are idle.
async fn tend<D: Driver>(pool: &Pool<PoolManager<D>>, options: &PoolOptions) {
    let mut idle = pool.status().available;
    pool.retain(|_, metrics| {
        let old = options.max_lifetime.is_some_and(|max| metrics.age() > max);
        let unused = options
            .idle_timeout
            .is_some_and(|max| metrics.last_used() > max);
        let close = old || (unused && idle > options.min_idle);
        idle -= usize::from(close);
        !close
    });
    let s = pool.status();
    let in_use = s.size.saturating_sub(s.available);
    let wanted = options.min_idle.min(s.max_size.saturating_sub(in_use));
    if s.available >= wanted {
        return;
    }
    // Checked out together, the idle ones and new ones; all go back idle.
    let mut opened = Vec::with_capacity(wanted);
    for _ in 0..wanted {
        match pool.get().await {
            Ok(obj) => opened.push(obj),
            Err(e) => {
                tracing::debug!(error = %e, "could not open a connection to keep idle");
                break;
            }
        }
    }
}

crate::executors::executors!(PooledDatabase, checkout);

impl<D: Driver> Database for PooledDatabase<D> {
    type Connection = HeldConnection<D>;

    async fn acquire(&self) -> Result<HeldConnection<D>> {
        let obj = self.get().await?;
        let holding = self.inner.counters.hold();
        Ok(HeldConnection::pooled(
            obj,
            holding,
            self.inner.config.log_values(),
        ))
    }

    async fn connect(&self) -> Result<()> {
        self.get().await.map(drop)
    }

    async fn close(&self) {
        self.inner.pool.retain(|_, _| false);
    }

    /// True while the pool holds a connection, idle or in use.
    fn is_connected(&self) -> bool {
        self.inner.pool.status().size > 0
    }

    fn close_sync(&self) {
        self.inner.sync.close();
    }

    fn sync_gate(&self) -> &SyncGate {
        &self.inner.sync.gate
    }

    fn id(&self) -> usize {
        Arc::as_ptr(&self.inner) as *const () as usize
    }

    fn autonomous(&self) -> Option<Self> {
        self.inner
            .autonomous
            .get_or_init(|| {
                let config = self.inner.config.autonomous()?;
                PooledDatabase::new(config).ok()
            })
            .clone()
    }
}

impl<D: Driver> std::fmt::Debug for PooledDatabase<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The database's name only: a configuration may hold a password.
        f.debug_struct(D::NAMES.1)
            .field("database", &self.inner.config.describe())
            .field("pool", &self.pool_status())
            .finish_non_exhaustive()
    }
}
