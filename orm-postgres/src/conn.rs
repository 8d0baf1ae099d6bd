//! One connection: prepared statements cached by SQL text, and the three ways to run a
//! statement (execute, fetch all, stream), shared by the single and pooled databases.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use futures_util::{Stream, StreamExt, TryStreamExt};
use orm_core::trace::QuerySpan;
use orm_core::{ExecResult, FromRow, Result, Statement};
use tokio_postgres::{Client, NoTls};

use crate::config::PgConfig;
use crate::error::map;
use crate::row::PgRow;
use crate::value::{check_params, params};

pub(crate) const BACKEND: &str = "postgres";

/// A connection with its own statement cache.
pub(crate) struct PgConn {
    client: Client,
    cache: Mutex<HashMap<String, tokio_postgres::Statement>>,
    /// A transaction is open on this connection.
    dirty: AtomicBool,
}

impl PgConn {
    /// Opens a connection; its I/O task runs on the current tokio runtime.
    pub(crate) async fn connect(config: &PgConfig) -> Result<Self> {
        let (client, connection) = config.session().connect(NoTls).await.map_err(map)?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "PostgreSQL connection ended");
            }
        });
        Ok(PgConn {
            client,
            cache: Mutex::new(HashMap::new()),
            dirty: AtomicBool::new(false),
        })
    }

    pub(crate) fn set_dirty(&self, dirty: bool) {
        self.dirty.store(dirty, Ordering::Release);
    }

    pub(crate) fn is_dirty(&self) -> bool {
        self.dirty.load(Ordering::Acquire)
    }

    /// Usable for a new statement or transaction: open and not left mid-transaction.
    pub(crate) fn is_usable(&self) -> bool {
        !self.client.is_closed() && !self.is_dirty()
    }

    /// Runs a statement that returns no rows.
    pub(crate) async fn run_execute(
        &self,
        stmt: &Statement,
        log_values: bool,
    ) -> Result<ExecResult> {
        validate(stmt)?;
        let prepared = self.prepare(&stmt.sql).await?;
        execute(&self.client, &prepared, stmt, log_values).await
    }

    /// Runs a query and decodes every row.
    pub(crate) async fn run_fetch_all<T: FromRow>(
        &self,
        stmt: &Statement,
        log_values: bool,
    ) -> Result<Vec<T>> {
        validate(stmt)?;
        let prepared = self.prepare(&stmt.sql).await?;
        fetch_all(&self.client, &prepared, stmt, log_values).await
    }

    /// Runs a query and streams its rows; `keep` lives as long as the stream.
    pub(crate) async fn run_stream<T, K>(
        &self,
        stmt: &Statement,
        log_values: bool,
        keep: K,
    ) -> Result<impl Stream<Item = Result<T>> + Send + 'static>
    where
        T: FromRow + Send + 'static,
        K: Send + Sync + 'static,
    {
        validate(stmt)?;
        let prepared = self.prepare(&stmt.sql).await?;
        stream(&self.client, &prepared, stmt, log_values, keep).await
    }

    pub(crate) async fn prepare(&self, sql: &str) -> Result<tokio_postgres::Statement> {
        if let Some(st) = self.cache.lock().ok().and_then(|c| c.get(sql).cloned()) {
            return Ok(st);
        }
        let st = self.client.prepare(sql).await.map_err(map)?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(sql.to_owned(), st.clone());
        }
        Ok(st)
    }
}

/// Runs a statement that returns no rows.
async fn execute(
    client: &Client,
    prepared: &tokio_postgres::Statement,
    stmt: &Statement,
    log_values: bool,
) -> Result<ExecResult> {
    let span = QuerySpan::start(BACKEND, stmt, log_values);
    match client.execute_raw(prepared, params(&stmt.params)).await {
        Ok(n) => {
            span.finish(n);
            Ok(ExecResult {
                rows_affected: n,
                last_insert_id: None,
            })
        }
        Err(e) => {
            let e = map(e);
            span.fail(&e);
            Err(e)
        }
    }
}

/// Runs a query and decodes each row as it arrives.
async fn fetch_all<T: FromRow>(
    client: &Client,
    prepared: &tokio_postgres::Statement,
    stmt: &Statement,
    log_values: bool,
) -> Result<Vec<T>> {
    let span = QuerySpan::start(BACKEND, stmt, log_values);
    let result = async {
        let rows = client
            .query_raw(prepared, params(&stmt.params))
            .await
            .map_err(map)?;
        let mut rows = std::pin::pin!(rows);
        let mut out = Vec::new();
        while let Some(row) = rows.try_next().await.map_err(map)? {
            out.push(T::from_whole_row(&PgRow(&row))?);
        }
        Ok(out)
    }
    .await;
    match &result {
        Ok(rows) => span.finish(rows.len() as u64),
        Err(e) => span.fail(e),
    }
    result
}

/// Runs a query and yields decoded rows one at a time; `keep` (the connection or its pool
/// object) lives as long as the stream.
async fn stream<T, K>(
    client: &Client,
    prepared: &tokio_postgres::Statement,
    stmt: &Statement,
    log_values: bool,
    keep: K,
) -> Result<impl Stream<Item = Result<T>> + Send + 'static>
where
    T: FromRow + Send + 'static,
    K: Send + Sync + 'static,
{
    let span = QuerySpan::start(BACKEND, stmt, log_values);
    let rows = client
        .query_raw(prepared, params(&stmt.params))
        .await
        .map_err(map)?;
    span.finish(0);
    Ok(rows.map(move |row| {
        let _connection = &keep;
        row.map_err(map)
            .and_then(|row| T::from_whole_row(&PgRow(&row)))
    }))
}

fn validate(stmt: &Statement) -> Result<()> {
    check_params(&stmt.params)
}
