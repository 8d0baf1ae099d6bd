//! The `Executor` and `SyncExecutor` of a database, written once: the single and the
//! pooled database differ only in where a statement's connection comes from (`$checkout`:
//! the shared slot, or the pool); the blocking side is the same.

/// Implements `Executor` and `SyncExecutor` for `$database<D>`, whose `$checkout` method
/// brings a [`Checkout`](crate::retry::Checkout) for one statement.
macro_rules! executors {
    ($database:ident, $checkout:ident) => {
        impl<D: $crate::Driver> orm_core::Executor for $database<D> {
            fn dialect(&self) -> &'static dyn orm_core::Dialect {
                D::dialect()
            }

            async fn execute(
                &self,
                stmt: orm_core::Statement,
            ) -> orm_core::Result<orm_core::ExecResult> {
                if $crate::timeout::by_transaction::<D>(&stmt) {
                    // Boxed: this rare path would otherwise make every statement's future
                    // as large as a checkout plus a transaction (copied on each move).
                    return Box::pin(async move {
                        let held = orm_core::Database::acquire(self).await?;
                        held.in_own_transaction(stmt, $crate::retry::Execute).await
                    })
                    .await;
                }
                $crate::retry::run(stmt, || self.$checkout(), $crate::retry::Execute).await
            }

            async fn fetch_all<T: orm_core::FromRow + Send + 'static>(
                &self,
                stmt: orm_core::Statement,
            ) -> orm_core::Result<Vec<T>> {
                if $crate::timeout::by_transaction::<D>(&stmt) {
                    // Boxed, as in `execute`.
                    return Box::pin(async move {
                        let held = orm_core::Database::acquire(self).await?;
                        held.in_own_transaction(stmt, $crate::retry::FetchAll::new())
                            .await
                    })
                    .await;
                }
                $crate::retry::run(stmt, || self.$checkout(), $crate::retry::FetchAll::new()).await
            }

            fn fetch_stream<'a, T: orm_core::FromRow + Send + 'static>(
                &'a self,
                stmt: orm_core::Statement,
            ) -> orm_core::RowStream<'a, T> {
                if $crate::timeout::by_transaction::<D>(&stmt) {
                    let e = $crate::timeout::no_stream::<D>();
                    return Box::pin(orm_core::ErrorStream::new(e));
                }
                $crate::retry::stream(self.$checkout(), stmt)
            }
        }

        impl<D: $crate::Driver> orm_core::SyncExecutor for $database<D> {
            fn dialect(&self) -> &'static dyn orm_core::Dialect {
                D::dialect()
            }

            fn execute_sync(
                &self,
                stmt: orm_core::Statement,
            ) -> orm_core::Result<orm_core::ExecResult> {
                self.inner.sync.execute(&self.inner.config, stmt)
            }

            fn fetch_all_sync<T: orm_core::FromRow + Send + 'static>(
                &self,
                stmt: orm_core::Statement,
            ) -> orm_core::Result<Vec<T>> {
                self.inner.sync.fetch_all(&self.inner.config, stmt)
            }
        }
    };
}

pub(crate) use executors;
