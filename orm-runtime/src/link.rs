//! A driver's connection as the runtime keeps it: with its transaction state, which only
//! the runtime's transaction code ([`crate::tx`]) changes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::driver::{Call, Driver};

/// Where a single database keeps its connection.
pub(crate) type Slot<D> = Option<Arc<Link<D>>>;

/// One connection of a database.
pub(crate) struct Link<D: Driver> {
    pub(crate) conn: Arc<D::Conn>,
    in_transaction: AtomicBool,
    /// Not to be used again ([`Connection::retire`](orm_core::Connection::retire)).
    retired: AtomicBool,
}

impl<D: Driver> Link<D> {
    pub(crate) fn new(conn: D::Conn) -> Self {
        Link {
            conn: Arc::new(conn),
            in_transaction: AtomicBool::new(false),
            retired: AtomicBool::new(false),
        }
    }

    /// Fit for a new statement or transaction: usable, not retired, and no transaction
    /// left open.
    pub(crate) fn is_usable(&self) -> bool {
        !self.in_transaction() && !self.retired.load(Ordering::Acquire) && D::is_usable(&self.conn)
    }

    pub(crate) fn is_retired(&self) -> bool {
        self.retired.load(Ordering::Acquire)
    }

    pub(crate) fn retire(&self) {
        self.retired.store(true, Ordering::Release);
    }

    pub(crate) fn in_transaction(&self) -> bool {
        self.in_transaction.load(Ordering::Acquire)
    }

    pub(crate) fn set_in_transaction(&self, open: bool) {
        self.in_transaction.store(open, Ordering::Release);
    }

    pub(crate) fn call(&self, log_values: bool) -> Call {
        Call {
            log_values,
            in_transaction: self.in_transaction(),
        }
    }
}
