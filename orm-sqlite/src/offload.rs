//! Opening connections and streams: on tokio's blocking pool (SQLite calls block), or on
//! the calling task when the database always runs there ([`RunOn::Inline`]).
//!
//! [`RunOn::Inline`]: crate::RunOn::Inline

use orm_core::{Error, Result};

/// Runs SQLite work right here when `inline`, otherwise on tokio's blocking pool.
pub(crate) async fn offload<R: Send + 'static>(
    inline: bool,
    work: impl FnOnce() -> Result<R> + Send + 'static,
) -> Result<R> {
    if inline {
        work()
    } else {
        blocking(work).await
    }
}

/// Runs blocking SQLite work on tokio's blocking pool, under the caller's tracing
/// subscriber so that its query spans land where the caller's do.
pub(crate) async fn blocking<R: Send + 'static>(
    work: impl FnOnce() -> Result<R> + Send + 'static,
) -> Result<R> {
    let dispatch = tracing::dispatcher::get_default(Clone::clone);
    let work = move || tracing::dispatcher::with_default(&dispatch, work);
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(Error::Driver(Box::new(e))),
    }
}
