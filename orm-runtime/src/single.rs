//! The single-connection database: one async connection shared by every task, and one
//! blocking connection, both opened on first use and replaced when they fail.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use orm_core::{Database, Result, SyncGate};
use tokio::sync::{OwnedRwLockReadGuard, RwLock};

use crate::blocking::BlockingSide;
use crate::driver::{self, Driver, DriverConfig, Role};
use crate::held::HeldConnection;
use crate::link::{Link, Slot};
use crate::retry::Checkout;

/// A database with one async connection and one blocking connection, both opened on
/// first use. The user-facing names are the backends' (`PostgresqlDatabase`,
/// `MySQLDatabase`, `SqliteDatabase`).
///
/// Cheap to clone; clones share the connections and the sync policy. Tasks share the
/// async connection (PostgreSQL pipelines their statements; MySQL and SQLite run them one
/// at a time); a transaction ([`Database::acquire`]) holds it alone until it ends.
pub struct SingleDatabase<D: Driver> {
    inner: Arc<Inner<D>>,
}

struct Inner<D: Driver> {
    config: D::Config,
    shared: Arc<D::Shared>,
    /// Statements hold it for reading, a transaction for writing.
    slot: Arc<RwLock<Slot<D>>>,
    sync: BlockingSide<D>,
    autonomous: OnceLock<Option<SingleDatabase<D>>>,
    /// A `close()` asked for while the connection was busy: done when it is next free.
    close_pending: AtomicBool,
}

impl<D: Driver> Clone for SingleDatabase<D> {
    fn clone(&self) -> Self {
        SingleDatabase {
            inner: self.inner.clone(),
        }
    }
}

impl<D: Driver> SingleDatabase<D> {
    /// A database for `config`; nothing is opened yet (an in-memory SQLite database is
    /// created now).
    pub fn new(config: D::Config) -> Result<Self> {
        let shared = Arc::new(D::shared(&config)?);
        Ok(SingleDatabase {
            inner: Arc::new(Inner {
                sync: BlockingSide::new(shared.clone()),
                config,
                shared,
                slot: Arc::new(RwLock::new(None)),
                autonomous: OnceLock::new(),
                close_pending: AtomicBool::new(false),
            }),
        })
    }

    /// A database for a URL (`postgres://...`, `mysql://...`, `sqlite:...`); nothing is
    /// opened yet.
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

    /// Empties the slot if a close was asked for, and opens a connection into it if it
    /// is empty or its connection unfit.
    async fn refill(&self, slot: &mut Slot<D>) -> Result<Arc<Link<D>>> {
        if self.inner.close_pending.swap(false, Ordering::AcqRel) {
            *slot = None;
        }
        match slot {
            Some(link) if link.is_usable() => Ok(link.clone()),
            _ => {
                *slot = None;
                // Boxed: the connect future (TLS, the handshake) is kilobytes, and every
                // statement's future, which awaits a checkout that may connect, would
                // carry it and copy it on each move (callgrind: copying such futures was
                // the largest single cost of a one-row query).
                let connect =
                    driver::connect::<D>(&self.inner.config, &self.inner.shared, Role::Single);
                let conn = Box::pin(connect).await?;
                let link = Arc::new(Link::new(conn));
                *slot = Some(link.clone());
                Ok(link)
            }
        }
    }

    /// The shared connection, with the lock held for reading so that no transaction
    /// starts on it while the caller's statement runs.
    async fn shared(&self) -> Result<Checkout<D, OwnedRwLockReadGuard<Slot<D>>>> {
        loop {
            let guard = self.inner.slot.clone().read_owned().await;
            let closing = self.inner.close_pending.load(Ordering::Acquire);
            if let (Some(link), false) = (guard.as_ref().filter(|l| l.is_usable()), closing) {
                return Ok(Checkout {
                    conn: link.conn.clone(),
                    call: link.call(self.inner.config.log_values()),
                    _holder: guard,
                });
            }
            drop(guard);
            let mut slot = self.inner.slot.write().await;
            self.refill(&mut slot).await?;
        }
    }
}

crate::executors::executors!(SingleDatabase, shared);

impl<D: Driver> Database for SingleDatabase<D> {
    type Connection = HeldConnection<D>;

    async fn acquire(&self) -> Result<HeldConnection<D>> {
        let mut guard = self.inner.slot.clone().write_owned().await;
        let link = self.refill(&mut guard).await?;
        Ok(HeldConnection::single(
            guard,
            link,
            self.inner.config.log_values(),
        ))
    }

    async fn connect(&self) -> Result<()> {
        self.shared().await.map(drop)
    }

    /// Closes the connection now if it is free; if a transaction (or a statement) holds
    /// it, returns at once and the connection closes when it is released.
    async fn close(&self) {
        match self.inner.slot.try_write() {
            Ok(mut slot) => drop(slot.take()),
            Err(_) => self.inner.close_pending.store(true, Ordering::Release),
        }
    }

    fn is_connected(&self) -> bool {
        if self.inner.close_pending.load(Ordering::Acquire) {
            return false;
        }
        // A slot locked for writing is held by a transaction, on an open connection.
        match self.inner.slot.try_read() {
            Ok(slot) => slot.as_ref().is_some_and(|link| link.is_usable()),
            Err(_) => true,
        }
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
                SingleDatabase::new(config).ok()
            })
            .clone()
    }
}

impl<D: Driver> std::fmt::Debug for SingleDatabase<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The database's name only: a configuration may hold a password.
        f.debug_struct(D::NAMES.0)
            .field("database", &self.inner.config.describe())
            .finish_non_exhaustive()
    }
}
