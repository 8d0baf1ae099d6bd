//! One connection: prepared statements cached by SQL text, and the ways to run a
//! statement on it (execute, fetch all, stream, a simple query).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::{Stream, StreamExt, TryStreamExt};
use orm_core::{
    Dialect, ElementType, ExecResult, FromRow, Limits, Result, Statement, TxOptions, Value,
};
use orm_runtime::trace::{Peer, QuerySpan};
use orm_runtime::Call;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

use crate::cache::StatementCache;
use crate::cancel::CancelTarget;
use crate::config::{PostgresqlConfig, SessionTimeouts};
use crate::error::map;
use crate::row::PgRow;
use crate::tls::Tls;
use crate::value::{check_params, params, PgParam};

pub(crate) const BACKEND: &str = "postgres";

/// One PostgreSQL connection with its own statement cache ([`PostgresqlDriver`]'s connection).
///
/// [`PostgresqlDriver`]: crate::PostgresqlDriver
pub struct PostgresqlConn {
    client: Client,
    /// Where its statements go, for their spans.
    peer: Peer,
    cache: Mutex<StatementCache<tokio_postgres::Statement>>,
    /// Not to be used again: the connection was lost, or a statement was abandoned
    /// outside a transaction (its future dropped before its result was read) and may
    /// still run on the server, so every statement sent after it would wait behind it.
    retired: AtomicBool,
    /// hstore values may be sent.
    hstore: bool,
    /// Unnamed statements only (no cache), for PgBouncer in transaction mode.
    unnamed: bool,
    /// Where cancel requests go (none over a Unix socket).
    cancel_target: Option<CancelTarget>,
    /// How cancel requests are sent: as the connection was opened.
    tls: Arc<Tls>,
    /// Pooler mode: the session timeouts each transaction sets for itself.
    pooler: Option<SessionTimeouts>,
}

/// How a statement is sent: a named statement prepared once per connection, or an
/// unnamed one sent with its parameter types (one round trip, nothing kept on the server).
enum Target {
    Prepared(tokio_postgres::Statement),
    Unnamed,
}

/// The parameter type for an unnamed statement, from the value itself.
fn pg_type(value: &Value) -> Type {
    match value {
        Value::Bool(_) => Type::BOOL,
        Value::I16(_) => Type::INT2,
        Value::I32(_) => Type::INT4,
        Value::I64(_) => Type::INT8,
        Value::F32(_) => Type::FLOAT4,
        Value::F64(_) => Type::FLOAT8,
        Value::Text(_) => Type::TEXT,
        Value::Bytes(_) => Type::BYTEA,
        #[cfg(feature = "chrono")]
        Value::Date(_) => Type::DATE,
        #[cfg(feature = "chrono")]
        Value::Time(_) => Type::TIME,
        #[cfg(feature = "chrono")]
        Value::Timestamp(_) => Type::TIMESTAMP,
        #[cfg(feature = "chrono")]
        Value::TimestampTz(_) => Type::TIMESTAMPTZ,
        #[cfg(feature = "uuid")]
        Value::Uuid(_) => Type::UUID,
        #[cfg(feature = "decimal")]
        Value::Decimal(_) => Type::NUMERIC,
        #[cfg(feature = "json")]
        Value::Json(_) => Type::JSONB,
        Value::Array(element, _) => match element {
            ElementType::Bool => Type::BOOL_ARRAY,
            ElementType::SmallInt => Type::INT2_ARRAY,
            ElementType::Int => Type::INT4_ARRAY,
            ElementType::BigInt => Type::INT8_ARRAY,
            ElementType::Real => Type::FLOAT4_ARRAY,
            ElementType::Double => Type::FLOAT8_ARRAY,
            _ => Type::TEXT_ARRAY,
        },
        // NULL, and types without a fixed OID (hstore): let the server infer.
        _ => Type::UNKNOWN,
    }
}

async fn rows(
    client: &Client,
    target: &Target,
    stmt: &Statement,
) -> std::result::Result<tokio_postgres::RowStream, tokio_postgres::Error> {
    match target {
        Target::Prepared(prepared) => client.query_raw(prepared, params(&stmt.params)).await,
        Target::Unnamed => {
            let typed = stmt.params.iter().map(|v| (PgParam(v), pg_type(v)));
            client.query_typed_raw(&stmt.sql, typed).await
        }
    }
}

impl PostgresqlConn {
    /// Opens a connection; its I/O task runs on the current tokio runtime.
    pub(crate) async fn connect(config: &PostgresqlConfig, tls: &Arc<Tls>) -> Result<Self> {
        let client = tls.connect(config.session()).await?;
        if config.pooler && config.register_hstore {
            learn_hstore(&client).await?;
        }
        Ok(PostgresqlConn {
            client,
            peer: config.peer(),
            cache: Mutex::new(StatementCache::new(config.statement_cache_capacity)),
            retired: AtomicBool::new(false),
            hstore: config.register_hstore,
            unnamed: !config.statement_cache,
            pooler: config.transaction_timeouts(),
            cancel_target: config.cancel_target(),
            tls: tls.clone(),
        })
    }

    /// `SET LOCAL` of the settings `limits` has; with `restore`, those settings back to
    /// what the transaction began with (its own, pooler mode's, or the session's).
    pub(crate) fn local_limits(&self, limits: Limits, restore: Option<&TxOptions>) -> String {
        let pooler = self.pooler.as_ref();
        let settings = [
            (
                "statement_timeout",
                limits.statement,
                restore.and_then(|tx| tx.statement_timeout),
                pooler.and_then(|p| p.statement),
            ),
            (
                "lock_timeout",
                limits.lock,
                restore.and_then(|tx| tx.lock_timeout),
                pooler.and_then(|p| p.lock),
            ),
        ];
        let mut sql = Vec::new();
        for (name, own, began, default) in settings {
            let Some(own) = own else { continue };
            let value = match restore {
                None => Some(own),
                Some(_) => began.or(default),
            };
            sql.push(match value {
                Some(limit) => format!("SET LOCAL {name} = {}", limit.as_millis().max(1)),
                None => format!("SET LOCAL {name} = DEFAULT"),
            });
        }
        sql.join("; ")
    }

    /// The statements that open a transaction with `options`; see [`PostgresqlConfig::pooler`].
    pub(crate) fn begin_statements(&self, options: &TxOptions) -> Result<Vec<String>> {
        match &self.pooler {
            Some(timeouts) => timeouts.begin_statements(options),
            None => orm_core::PostgresqlDialect.begin_statements(options),
        }
    }

    /// Usable for a new statement or transaction: open, and no abandoned statement ahead
    /// of new ones.
    pub(crate) fn is_usable(&self) -> bool {
        !self.client.is_closed() && !self.retired.load(Ordering::Acquire)
    }

    /// Marks a statement as running until [`InFlight::done`]; see [`InFlight`].
    fn in_flight(self: &Arc<Self>, call: Call) -> InFlight<'_> {
        InFlight {
            conn: self,
            in_transaction: call.in_transaction,
            own_transaction: false,
            done: false,
        }
    }

    /// Sends `sql` as a simple query (transaction control): nothing is prepared.
    pub(crate) async fn simple(self: &Arc<Self>, sql: &str, call: Call) -> Result<()> {
        let flight = self.in_flight(call);
        let stmt = Statement::new(sql);
        let span = QuerySpan::start(&self.peer, &stmt, false);
        let result = self.client.batch_execute(sql).await.map_err(map);
        flight.done(&result);
        match &result {
            Ok(()) => span.finish(0),
            Err(e) => span.fail(e),
        }
        result
    }

    /// Asks the server whether the connection is alive.
    pub(crate) async fn ping(&self) -> Result<()> {
        self.client.batch_execute("").await.map_err(map)
    }

    /// Runs a statement that returns no rows.
    pub(crate) async fn run_execute(
        self: &Arc<Self>,
        stmt: &Statement,
        call: Call,
    ) -> Result<ExecResult> {
        validate(stmt, self.hstore)?;
        if let Some(copy) = &stmt.copy_in {
            return self.run_copy_in(stmt, &copy.types_of, call).await;
        }
        let flight = self.in_flight(call);
        let (client, peer, log_values) = (&self.client, &self.peer, call.log_values);
        let result = self
            .with_target(&stmt.sql, call, |target| async move {
                execute(client, peer, &target, stmt, log_values).await
            })
            .await;
        flight.done(&result);
        result
    }

    /// Sends the statement's parameters as the rows of its binary `COPY ... FROM STDIN`;
    /// `types_of` is a query whose result columns have the copied columns' types. Behind
    /// a transaction-mode pooler, outside a transaction, it runs in one of its own: the
    /// statements COPY prepares must reach the server session that runs it.
    async fn run_copy_in(
        self: &Arc<Self>,
        stmt: &Statement,
        types_of: &str,
        call: Call,
    ) -> Result<ExecResult> {
        let own_transaction = self.unnamed && !call.in_transaction;
        let mut flight = self.in_flight(call);
        flight.own_transaction = own_transaction;
        let span = QuerySpan::start(&self.peer, stmt, call.log_values);
        let result = async {
            if own_transaction {
                self.client.batch_execute("BEGIN").await.map_err(map)?;
            }
            let copied = self.copy_rows(stmt, types_of).await;
            if own_transaction {
                match &copied {
                    Ok(_) => self.client.batch_execute("COMMIT").await.map_err(map)?,
                    // The copy's error is the one to report; a connection that cannot
                    // even roll back is not used again.
                    Err(_) => {
                        if self.client.batch_execute("ROLLBACK").await.is_err() {
                            self.retired.store(true, Ordering::Release);
                        }
                    }
                }
            }
            copied
        }
        .await;
        flight.done(&result);
        executed(span, result)
    }

    /// Prepares `COPY` and the query that tells its column types, then streams the rows.
    /// A value that cannot be encoded stops the copy: the sink, dropped unfinished, makes
    /// the server abort it, so none of its rows stays.
    async fn copy_rows(&self, stmt: &Statement, types_of: &str) -> Result<u64> {
        let (probe, copy) = if self.unnamed {
            // Named, but closed again when dropped here, inside the transaction.
            let probe = Box::pin(self.client.prepare(types_of)).await.map_err(map)?;
            let copy = Box::pin(self.client.prepare(&stmt.sql))
                .await
                .map_err(map)?;
            (probe, copy)
        } else {
            (
                self.prepare(types_of).await?,
                self.prepare(&stmt.sql).await?,
            )
        };
        let types: Vec<Type> = probe.columns().iter().map(|c| c.type_().clone()).collect();
        let width = types.len();
        if width == 0 || stmt.params.len() % width != 0 {
            return Err(orm_core::Error::Query(format!(
                "COPY of {width} columns cannot take {} values as whole rows",
                stmt.params.len()
            )));
        }
        let sink = self.client.copy_in(&copy).await.map_err(map)?;
        let writer = BinaryCopyInWriter::new(sink, &types);
        let mut writer = std::pin::pin!(writer);
        for (r, row) in stmt.params.chunks(width).enumerate() {
            writer
                .as_mut()
                .write_raw(params(row))
                .await
                .map_err(|e| match map(e) {
                    // Which row, too: the index alone names the column.
                    orm_core::Error::InvalidValue { index, message } => {
                        orm_core::Error::InvalidValue {
                            index,
                            message: format!("row {}: {message}", r + 1),
                        }
                    }
                    other => other,
                })?;
        }
        writer.finish().await.map_err(map)
    }

    /// Runs a query and decodes every row.
    pub(crate) async fn run_fetch_all<T: FromRow>(
        self: &Arc<Self>,
        stmt: &Statement,
        call: Call,
    ) -> Result<Vec<T>> {
        validate_query(stmt, self.hstore)?;
        let flight = self.in_flight(call);
        let (client, peer, log_values) = (&self.client, &self.peer, call.log_values);
        let result = self
            .with_target(&stmt.sql, call, |target| async move {
                fetch_all(client, peer, &target, stmt, log_values).await
            })
            .await;
        flight.done(&result);
        result
    }

    /// Runs a query and streams its rows; `keep` lives as long as the stream.
    pub(crate) async fn run_stream<T, K>(
        self: &Arc<Self>,
        stmt: &Statement,
        call: Call,
        keep: K,
    ) -> Result<impl Stream<Item = Result<T>> + Send + 'static>
    where
        T: FromRow + Send + 'static,
        K: Send + Sync + 'static,
    {
        validate_query(stmt, self.hstore)?;
        let flight = self.in_flight(call);
        let (client, peer, log_values) = (&self.client, &self.peer, call.log_values);
        let rows = self
            .with_target(&stmt.sql, call, |target| async move {
                open_rows(client, peer, &target, stmt, log_values).await
            })
            .await;
        // Once the rows flow, the stream itself holds the connection (`keep`); a stream
        // dropped half-way is the pool's and the driver's to drain.
        flight.done(&rows);
        let columns = stmt.columns;
        Ok(rows?.map(move |row| {
            let _connection = &keep;
            row.map_err(map)
                .and_then(|row| T::read_row(&PgRow(&row), columns))
        }))
    }

    /// Runs `op` on the statement's target. A cached statement the server calls stale
    /// (a column's type changed under it: 0A000 "cached plan must not change result
    /// type") is dropped from the cache; outside a transaction `op` then runs once more on
    /// a statement prepared anew. Inside one the server has already failed the
    /// transaction, so the error is returned, and the next transaction prepares anew.
    async fn with_target<R, F, Fut>(&self, sql: &str, call: Call, mut op: F) -> Result<R>
    where
        F: FnMut(Target) -> Fut,
        Fut: std::future::Future<Output = Result<R>>,
    {
        match op(self.target(sql).await?).await {
            Err(e) if is_stale_plan(&e) => {
                if let Ok(mut cache) = self.cache.lock() {
                    cache.remove(sql);
                }
                if call.in_transaction {
                    return Err(e);
                }
                op(self.target(sql).await?).await
            }
            other => other,
        }
    }

    /// The cached prepared statement for `sql`, or an unnamed one when the statement cache
    /// is off.
    async fn target(&self, sql: &str) -> Result<Target> {
        if self.unnamed {
            Ok(Target::Unnamed)
        } else {
            self.prepare(sql).await.map(Target::Prepared)
        }
    }

    pub(crate) async fn prepare(&self, sql: &str) -> Result<tokio_postgres::Statement> {
        if let Some(st) = self.cache.lock().ok().and_then(|mut c| c.get(sql)) {
            return Ok(st);
        }
        // Boxed: preparing (with its type lookups) is the largest state of a query's
        // future, and it is needed once per statement text; every query's future would
        // otherwise carry it, and copy it on each move (callgrind: a third of the ORM's
        // own instructions on a one-row query went to such copies).
        let st = Box::pin(self.client.prepare(sql)).await.map_err(map)?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(sql, st.clone());
        }
        Ok(st)
    }
}

/// Behind a pooler: teaches the client the hstore type (if the database has it) inside
/// one transaction, where the pooler keeps one server session. tokio-postgres looks a type
/// up with a named statement it prepares once and keeps; outside a transaction its
/// Parse and its Execute could reach different sessions. The statement is deallocated
/// before the transaction ends, so the session goes back to the pooler as it came.
async fn learn_hstore(client: &Client) -> Result<()> {
    client.batch_execute("BEGIN").await.map_err(map)?;
    let end = match client.query_typed("SELECT NULL::hstore", &[]).await {
        Ok(_) => "DEALLOCATE ALL; COMMIT",
        // No hstore in this database: values of it are refused when sent.
        Err(_) => "ROLLBACK",
    };
    client.batch_execute(end).await.map_err(map)
}

/// A statement on its way: dropped before [`done`](InFlight::done) outside a transaction,
/// it retires the connection and asks the server to cancel what runs there, so
/// the query neither holds up the connection's next user nor runs on for nothing. Inside
/// a transaction the connection belongs to the transaction, whose next statements and end
/// queue behind the cut one in order; nothing is done.
struct InFlight<'a> {
    conn: &'a Arc<PostgresqlConn>,
    in_transaction: bool,
    /// The statement runs in a transaction of its own (a COPY behind a pooler), which a
    /// cut leaves open: it is rolled back once the cancel has been answered.
    own_transaction: bool,
    done: bool,
}

impl InFlight<'_> {
    /// The statement has its answer. A lost connection is retired at once: the client
    /// may not call itself closed yet, and a retried read must not come back to it.
    fn done<R>(mut self, result: &Result<R>) {
        self.done = true;
        if matches!(result, Err(orm_core::Error::ConnectionLost { .. })) {
            self.conn.retired.store(true, Ordering::Release);
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if self.done || self.in_transaction {
            return;
        }
        self.conn.retired.store(true, Ordering::Release);
        let token = self.conn.client.cancel_token();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            // The connection stays open until the server has answered the cancel request:
            // PgBouncer 1.18 crashes when a client leaves while its cancel is forwarded.
            let conn = Arc::clone(self.conn);
            let own_transaction = self.own_transaction;
            runtime.spawn(async move {
                crate::cancel::cancel(token, conn.cancel_target.clone(), &conn.tls).await;
                if own_transaction {
                    let rollback = conn.client.batch_execute("ROLLBACK");
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), rollback).await;
                }
                drop(conn);
            });
        }
    }
}

/// Runs a statement that returns no rows.
async fn execute(
    client: &Client,
    peer: &Peer,
    target: &Target,
    stmt: &Statement,
    log_values: bool,
) -> Result<ExecResult> {
    let span = QuerySpan::start(peer, stmt, log_values);
    let result = match target {
        Target::Prepared(prepared) => client.execute_raw(prepared, params(&stmt.params)).await,
        Target::Unnamed => {
            async {
                let rows = rows(client, target, stmt).await?;
                let mut rows = std::pin::pin!(rows);
                while rows.try_next().await?.is_some() {}
                Ok(rows.rows_affected().unwrap_or(0))
            }
            .await
        }
    };
    executed(span, result.map_err(map))
}

/// What a statement that returns no rows reports, and its span closed with it.
fn executed(span: QuerySpan, result: Result<u64>) -> Result<ExecResult> {
    match result {
        Ok(n) => {
            span.finish(n);
            Ok(ExecResult {
                rows_affected: n,
                last_insert_id: None,
            })
        }
        Err(e) => {
            span.fail(&e);
            Err(e)
        }
    }
}

/// Runs a query and decodes each row as it arrives.
async fn fetch_all<T: FromRow>(
    client: &Client,
    peer: &Peer,
    target: &Target,
    stmt: &Statement,
    log_values: bool,
) -> Result<Vec<T>> {
    let span = QuerySpan::start(peer, stmt, log_values);
    let result = async {
        let rows = rows(client, target, stmt).await.map_err(map)?;
        let mut rows = std::pin::pin!(rows);
        let mut out = Vec::new();
        while let Some(row) = rows.try_next().await.map_err(map)? {
            out.push(T::read_row(&PgRow(&row), stmt.columns)?);
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

/// Sends a query whose rows are then read one at a time.
async fn open_rows(
    client: &Client,
    peer: &Peer,
    target: &Target,
    stmt: &Statement,
    log_values: bool,
) -> Result<tokio_postgres::RowStream> {
    let span = QuerySpan::start(peer, stmt, log_values);
    match rows(client, target, stmt).await {
        Ok(rows) => {
            span.finish(0);
            Ok(rows)
        }
        Err(e) => {
            let e = map(e);
            span.fail(&e);
            Err(e)
        }
    }
}

/// The server's answer to a cached statement whose result type changed under it.
fn is_stale_plan(err: &orm_core::Error) -> bool {
    matches!(
        err,
        orm_core::Error::Database { code: orm_core::DbCode::SqlState(code), message, .. }
            if code == "0A000" && message.contains("cached plan")
    )
}

fn validate(stmt: &Statement, hstore: bool) -> Result<()> {
    check_params(&stmt.params, hstore)
}

/// [`validate`], for a statement whose rows are read: a COPY returns none.
fn validate_query(stmt: &Statement, hstore: bool) -> Result<()> {
    if stmt.copy_in.is_some() {
        return Err(orm_core::Error::Query(
            "a COPY returns no rows: execute it".into(),
        ));
    }
    validate(stmt, hstore)
}

impl std::fmt::Debug for PostgresqlConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresqlConn")
            .field("closed", &self.client.is_closed())
            .finish_non_exhaustive()
    }
}
