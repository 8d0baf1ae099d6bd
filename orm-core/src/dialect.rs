//! SQL dialects: the small set of ways PostgreSQL, MySQL and SQLite differ.
//!
//! The query builders produce one tree; the renderer asks the dialect only about
//! placeholders, quoting, type names and the few constructs spelled differently. A new
//! dialect implements this trait and nothing else.

use std::borrow::Cow;

use crate::transaction::TxOptions;

/// A timeout in whole milliseconds, at least one (zero would mean none).
fn millis(timeout: std::time::Duration) -> u128 {
    timeout.as_millis().max(1)
}
use crate::value::SqlType;

/// Appends `n` in decimal; placeholders are written once per value, so this skips the
/// formatting machinery.
fn push_number(out: &mut String, n: usize) {
    // itoa writes two digits per step from a table; `write!` and char-by-char pushes cost
    // 5-12% of a 1,000-row insert's client instructions (callgrind, bench/FINDINGS.md).
    out.push_str(itoa::Buffer::new().format(n));
}

/// How a dialect spells an upsert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertStyle {
    /// `ON CONFLICT (cols) DO UPDATE SET c = EXCLUDED.c` / `DO NOTHING`.
    OnConflict,
    /// `ON DUPLICATE KEY UPDATE c = VALUES(c)`.
    OnDuplicateKey,
}

/// How a dialect writes one JSON operator: `prefix`, the document, `infix`, the argument
/// (encoded as `argument` says), `suffix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonSyntax {
    /// Text before the document.
    pub prefix: &'static str,
    /// Text between the document and the argument.
    pub infix: &'static str,
    /// Text after the argument.
    pub suffix: &'static str,
    /// How the argument is bound.
    pub argument: JsonArgStyle,
    /// The argument comes first, the document second (`JSON_CONTAINS(arg, doc)`).
    pub swapped: bool,
}

/// How a JSON operator's argument is bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonArgStyle {
    /// The single key as text.
    Key,
    /// The keys as a PostgreSQL array literal (`{a,b}`).
    KeyArray,
    /// The keys as a JSON path (`$."a"."b"`).
    JsonPath,
    /// The JSON document as text.
    Document,
    /// The bound value as it is (array and hstore operators).
    Value,
    /// No argument.
    None,
}

const fn json_syntax(
    prefix: &'static str,
    infix: &'static str,
    suffix: &'static str,
    argument: JsonArgStyle,
) -> JsonSyntax {
    JsonSyntax {
        prefix,
        infix,
        suffix,
        argument,
        swapped: false,
    }
}

/// A SQL dialect.
pub trait Dialect: Send + Sync + std::fmt::Debug {
    /// A short name for messages: `postgres`, `mysql`, `sqlite`.
    fn name(&self) -> &'static str;

    /// Writes the placeholder for parameter `index` (counting from 1).
    fn write_placeholder(&self, out: &mut String, index: usize);

    /// The identifier quote character.
    fn quote_char(&self) -> char;

    /// Writes a quoted identifier, doubling any quote character inside it.
    fn write_ident(&self, out: &mut String, ident: &str) {
        let q = self.quote_char();
        out.reserve(ident.len() + 2);
        out.push(q);
        // Byte by byte: every dialect quotes with an ASCII character, and a `char`
        // search cost more than the copy for names this short.
        if ident.bytes().any(|b| u32::from(b) == u32::from(q)) {
            for ch in ident.chars() {
                if ch == q {
                    out.push(q);
                }
                out.push(ch);
            }
        } else {
            // The usual case, in one copy (char by char it was 5% of a point lookup's
            // client instructions).
            out.push_str(ident);
        }
        out.push(q);
    }

    /// The column type in DDL. `keyed` is true when the column is part of a key, a unique
    /// constraint, an index or a foreign key (MySQL cannot index unbounded TEXT).
    fn column_type(&self, ty: SqlType, keyed: bool) -> Cow<'static, str>;

    /// Whether columns of this type exist here (arrays and hstore are PostgreSQL's).
    fn supports_type(&self, ty: SqlType) -> bool {
        let _ = ty;
        true
    }

    /// The array element type that carries a column of `ty` here, if this dialect has
    /// arrays and `ty` fits in one (bulk inserts send such columns as arrays).
    fn array_element(&self, ty: SqlType) -> Option<crate::value::ElementType> {
        crate::value::ElementType::of(ty).filter(|e| self.supports_type(SqlType::Array(*e)))
    }

    /// The column definition of an auto-increment primary key, after its name.
    fn auto_increment(&self, ty: SqlType) -> Cow<'static, str>;

    /// The type name in `CAST(x AS type)`.
    fn cast_type(&self, ty: SqlType) -> Cow<'static, str>;

    /// The most bind parameters one statement may carry (PostgreSQL and MySQL: 65,535;
    /// SQLite: 32,766, its default since 3.32). Longer statements are refused before
    /// sending; `Manager::bulk_insert` splits its rows under this limit.
    fn max_params(&self) -> usize {
        65_535
    }

    /// Has `INSERT/UPDATE/DELETE ... RETURNING`.
    fn supports_returning(&self) -> bool;

    /// Has `SELECT ... FOR UPDATE`.
    fn supports_for_update(&self) -> bool;

    /// Loads rows with PostgreSQL's binary `COPY ... FROM STDIN` (see
    /// [`Insert::into_copy_statement_for`](crate::Insert::into_copy_statement_for)).
    fn supports_copy_in(&self) -> bool {
        false
    }

    /// The deepest JSON document this database stores and the ORM reads back: serde's
    /// limit ([`MAX_JSON_DEPTH`](crate::MAX_JSON_DEPTH)), or the server's own if lower.
    /// A deeper one is refused before sending.
    fn max_json_depth(&self) -> usize {
        crate::MAX_JSON_DEPTH
    }

    /// The clause of a shared row lock, with its leading space.
    fn share_lock(&self) -> &'static str {
        " FOR SHARE"
    }

    /// Has `NULLS FIRST` / `NULLS LAST`; otherwise they are emulated.
    fn supports_nulls_order(&self) -> bool;

    /// Has `ILIKE`; otherwise `LOWER(x) LIKE LOWER(p)`.
    fn supports_ilike(&self) -> bool;

    /// LIKE compares patterns holding a NUL character correctly. SQLite's LIKE stops at
    /// the first NUL (so `contains("a\0b")` would match "a"): such a pattern is refused
    /// there before anything is sent.
    fn like_handles_nul(&self) -> bool {
        true
    }

    /// Accepts parenthesized SELECTs with their own ORDER BY / LIMIT in UNION & co.
    fn supports_parenthesized_compound(&self) -> bool;

    /// The LIKE operator for case-sensitive matching.
    fn like_operator(&self) -> &'static str {
        "LIKE"
    }

    /// How upserts are written.
    fn upsert_style(&self) -> UpsertStyle;

    /// SQL for the current UTC timestamp.
    fn now(&self) -> &'static str;

    /// Writes `LIMIT`/`OFFSET`; `limit_param` / `offset_param` are the numbers of their
    /// parameters (from 1).
    fn write_limit(
        &self,
        out: &mut String,
        limit_param: Option<usize>,
        offset_param: Option<usize>,
    ) {
        if let Some(l) = limit_param {
            out.push_str(" LIMIT ");
            self.write_placeholder(out, l);
        }
        if let Some(o) = offset_param {
            out.push_str(" OFFSET ");
            self.write_placeholder(out, o);
        }
    }

    /// Indexes go inside CREATE TABLE (MySQL) rather than in CREATE INDEX statements.
    fn inline_indexes(&self) -> bool {
        false
    }

    /// How this dialect writes a JSON operator; `None` when it has no equivalent (the
    /// query is then refused before anything is sent).
    fn json_syntax(&self, op: crate::tree::JsonOp) -> Option<JsonSyntax> {
        let _ = op;
        None
    }

    /// How this dialect writes an array or hstore operator; `None` where it has none.
    fn ext_syntax(&self, op: crate::tree::ExtOp) -> Option<JsonSyntax> {
        let _ = op;
        None
    }

    /// The statements that open a transaction with `options`, in order; an error for an
    /// option the server cannot apply to one transaction.
    fn begin_statements(&self, options: &TxOptions) -> crate::Result<Vec<String>> {
        let mut begin = String::from("BEGIN");
        if let Some(level) = options.isolation {
            begin.push_str(" ISOLATION LEVEL ");
            begin.push_str(level.as_sql());
        }
        if options.read_only {
            begin.push_str(" READ ONLY");
        }
        if options.deferrable {
            begin.push_str(" DEFERRABLE");
        }
        let mut statements = vec![begin];
        // SET LOCAL ends with the transaction.
        if let Some(timeout) = options.statement_timeout {
            statements.push(format!("SET LOCAL statement_timeout = {}", millis(timeout)));
        }
        if let Some(timeout) = options.lock_timeout {
            statements.push(format!("SET LOCAL lock_timeout = {}", millis(timeout)));
        }
        if let Some(timeout) = options.idle_timeout {
            statements.push(format!(
                "SET LOCAL idle_in_transaction_session_timeout = {}",
                millis(timeout)
            ));
        }
        Ok(statements)
    }

    /// The statements that restore the session after a transaction opened with `options`
    /// has ended (committed or rolled back).
    fn end_statements(&self, options: &TxOptions) -> Vec<String> {
        let _ = options;
        Vec::new()
    }

    /// How to insert one row where every column takes its default.
    fn empty_insert(&self) -> &'static str {
        " DEFAULT VALUES"
    }

    /// Text after the closing parenthesis of CREATE TABLE.
    fn create_table_suffix(&self) -> &'static str {
        ""
    }

    /// How to ask a replica how far behind its primary it is: a query and the column of
    /// its answer that holds the seconds (NULL: not replicating; no row: not a replica).
    ///
    /// ```
    /// use orm_core::{Dialect, MySQLDialect, PostgresqlDialect, SqliteDialect};
    /// assert!(PostgresqlDialect.replica_lag().is_some());
    /// assert_eq!(MySQLDialect.replica_lag().map(|(_, column)| column), Some("Seconds_Behind_Master"));
    /// assert!(SqliteDialect.replica_lag().is_none());
    /// ```
    fn replica_lag(&self) -> Option<(&'static str, &'static str)> {
        None
    }

    /// How to tell whether a replica has replayed a write, for reads that must see it:
    /// PostgreSQL's WAL position, MariaDB's GTID position. `None` where the server cannot
    /// say (reads then wait for a set time instead).
    ///
    /// ```
    /// use orm_core::{Dialect, MySQLDialect, PostgresqlDialect, SqliteDialect};
    /// let pg = PostgresqlDialect.replay_positions().expect("WAL positions");
    /// assert!((pg.includes)("0/3000100", "0/3000060"));
    /// assert!(MySQLDialect.replay_positions().is_some());
    /// assert!(SqliteDialect.replay_positions().is_none());
    /// ```
    fn replay_positions(&self) -> Option<crate::ReplayPositions> {
        None
    }
}

/// PostgreSQL: `$n` placeholders, `"` quotes, RETURNING, ON CONFLICT, ILIKE.
#[derive(Debug, Clone, Copy, Default)]
pub struct PostgresqlDialect;

impl Dialect for PostgresqlDialect {
    /// Nothing to replay: 0. Otherwise the age of the last transaction replayed (it grows
    /// while replay is behind or paused).
    fn replica_lag(&self) -> Option<(&'static str, &'static str)> {
        Some((
            "SELECT CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM \
             pg_last_wal_replay_lsn() THEN 0 ELSE COALESCE(EXTRACT(EPOCH FROM now() - \
             pg_last_xact_replay_timestamp()), 0) END::float8 AS lag",
            "lag",
        ))
    }

    /// The primary's current WAL position; the position a standby has replayed (NULL on
    /// a server that is not one).
    fn replay_positions(&self) -> Option<crate::ReplayPositions> {
        Some(crate::ReplayPositions {
            written: "SELECT pg_current_wal_lsn()::text AS position",
            replayed: "SELECT pg_last_wal_replay_lsn()::text AS position",
            includes: crate::replay::lsn_includes,
        })
    }

    fn name(&self) -> &'static str {
        "postgres"
    }
    fn write_placeholder(&self, out: &mut String, index: usize) {
        out.push('$');
        push_number(out, index);
    }
    fn quote_char(&self) -> char {
        '"'
    }
    fn column_type(&self, ty: SqlType, _keyed: bool) -> Cow<'static, str> {
        Cow::Borrowed(match ty {
            SqlType::Bool => "BOOLEAN",
            SqlType::SmallInt => "SMALLINT",
            SqlType::Int => "INTEGER",
            SqlType::BigInt => "BIGINT",
            SqlType::Real => "REAL",
            SqlType::Double => "DOUBLE PRECISION",
            SqlType::Text => "TEXT",
            SqlType::Varchar(n) => return Cow::Owned(format!("VARCHAR({n})")),
            SqlType::Bytes => "BYTEA",
            SqlType::Date => "DATE",
            SqlType::Time => "TIME",
            SqlType::Timestamp => "TIMESTAMP",
            SqlType::TimestampTz => "TIMESTAMPTZ",
            SqlType::Uuid => "UUID",
            SqlType::Decimal => "NUMERIC",
            SqlType::Json => "JSONB",
            SqlType::Custom(name) => name,
            SqlType::Array(element) => {
                return Cow::Owned(format!("{}[]", self.column_type(element.sql_type(), false)))
            }
            SqlType::HStore => "HSTORE",
        })
    }
    fn auto_increment(&self, ty: SqlType) -> Cow<'static, str> {
        let int = self.column_type(ty, true);
        Cow::Owned(format!("{int} GENERATED BY DEFAULT AS IDENTITY"))
    }
    fn cast_type(&self, ty: SqlType) -> Cow<'static, str> {
        self.column_type(ty, false)
    }
    fn supports_returning(&self) -> bool {
        true
    }
    fn supports_for_update(&self) -> bool {
        true
    }
    fn supports_copy_in(&self) -> bool {
        true
    }
    fn supports_nulls_order(&self) -> bool {
        true
    }
    fn supports_ilike(&self) -> bool {
        true
    }
    fn supports_parenthesized_compound(&self) -> bool {
        true
    }
    fn upsert_style(&self) -> UpsertStyle {
        UpsertStyle::OnConflict
    }
    fn now(&self) -> &'static str {
        "now()"
    }
    fn json_syntax(&self, op: crate::tree::JsonOp) -> Option<JsonSyntax> {
        use crate::tree::JsonOp::*;
        use JsonArgStyle::*;
        Some(match op {
            Get => json_syntax("(", " -> ", ")", Key),
            GetText => json_syntax("(", " ->> ", ")", Key),
            Path => json_syntax("(", " #> CAST(CAST(", " AS TEXT) AS TEXT[]))", KeyArray),
            PathText => json_syntax("(", " #>> CAST(CAST(", " AS TEXT) AS TEXT[]))", KeyArray),
            Contains => json_syntax("(", " @> CAST(", " AS JSONB))", Document),
            ContainedBy => json_syntax("(", " <@ CAST(", " AS JSONB))", Document),
            HasKey => json_syntax("(", " ? ", ")", Key),
        })
    }
    fn ext_syntax(&self, op: crate::tree::ExtOp) -> Option<JsonSyntax> {
        use crate::tree::ExtOp::*;
        use JsonArgStyle::{None as NoArg, Value};
        Some(match op {
            ArrayContains | HStoreContains => json_syntax("(", " @> ", ")", Value),
            ArrayContainedBy => json_syntax("(", " <@ ", ")", Value),
            ArrayOverlaps => json_syntax("(", " && ", ")", Value),
            AnyEquals => JsonSyntax {
                swapped: true,
                ..json_syntax("(", " = ANY(", "))", Value)
            },
            EqualsAny => json_syntax("(", " = ANY(", "))", Value),
            HStoreGet => json_syntax("(", " -> ", ")", Value),
            HStoreHasKey => json_syntax("(", " ? ", ")", Value),
            HStoreKeys => json_syntax("akeys(", "", ")", NoArg),
            HStoreValues => json_syntax("avals(", "", ")", NoArg),
            HStoreSlice => json_syntax("slice(", ", ", ")", Value),
        })
    }
}

/// MySQL and MariaDB: `?` placeholders, backtick quotes, AUTO_INCREMENT,
/// ON DUPLICATE KEY UPDATE, no RETURNING, InnoDB with utf8mb4.
#[derive(Debug, Clone, Copy, Default)]
pub struct MySQLDialect;

impl Dialect for MySQLDialect {
    /// `SHOW SLAVE STATUS` (the user needs `SLAVE MONITOR` on MariaDB, `REPLICATION
    /// CLIENT` on MySQL); NULL while the replica's SQL thread is stopped.
    fn replica_lag(&self) -> Option<(&'static str, &'static str)> {
        Some(("SHOW SLAVE STATUS", "Seconds_Behind_Master"))
    }

    /// MariaDB's GTID positions: the primary's binary log, what a replica has applied.
    /// MySQL has no such variables: asking fails, and reads wait for a set time instead.
    fn replay_positions(&self) -> Option<crate::ReplayPositions> {
        Some(crate::ReplayPositions {
            written: "SELECT @@GLOBAL.gtid_binlog_pos AS position",
            replayed: "SELECT @@GLOBAL.gtid_slave_pos AS position",
            includes: crate::replay::gtid_includes,
        })
    }

    fn begin_statements(&self, options: &TxOptions) -> crate::Result<Vec<String>> {
        // `SET TRANSACTION` (no SESSION) sets the level of the next transaction only. The
        // timeouts are session settings: the session's own are kept in user variables and
        // put back when the transaction ends (`end_statements`).
        let mut statements = Vec::new();
        if let Some(timeout) = options.lock_timeout {
            statements.push("SET @orm_lock_wait = @@SESSION.innodb_lock_wait_timeout".into());
            statements.push(format!(
                "SET SESSION innodb_lock_wait_timeout = {}",
                timeout.as_secs_f64().ceil().max(1.0)
            ));
        }
        if let Some(timeout) = options.statement_timeout {
            // MariaDB's; MySQL refuses the variable, and the error says so.
            statements.push("SET @orm_statement_time = @@SESSION.max_statement_time".into());
            statements.push(format!(
                "SET SESSION max_statement_time = {}",
                timeout.as_secs_f64().max(0.001)
            ));
        }
        if let Some(timeout) = options.idle_timeout {
            // MariaDB's; MySQL refuses the variable, and the error says so.
            statements.push("SET @orm_idle = @@SESSION.idle_transaction_timeout".into());
            statements.push(format!(
                "SET SESSION idle_transaction_timeout = {}",
                timeout.as_secs_f64().ceil().max(1.0)
            ));
        }
        if let Some(level) = options.isolation {
            statements.push(format!(
                "SET TRANSACTION ISOLATION LEVEL {}",
                level.as_sql()
            ));
        }
        statements.push(if options.read_only {
            "START TRANSACTION READ ONLY".into()
        } else {
            "START TRANSACTION".into()
        });
        Ok(statements)
    }
    fn end_statements(&self, options: &TxOptions) -> Vec<String> {
        let mut statements = Vec::new();
        if options.lock_timeout.is_some() {
            statements.push("SET SESSION innodb_lock_wait_timeout = @orm_lock_wait".into());
        }
        if options.statement_timeout.is_some() {
            statements.push("SET SESSION max_statement_time = @orm_statement_time".into());
        }
        if options.idle_timeout.is_some() {
            statements.push("SET SESSION idle_transaction_timeout = @orm_idle".into());
        }
        statements
    }
    fn max_json_depth(&self) -> usize {
        // MariaDB's JSON functions (JSON_VALID in its CHECK) stop at 32 levels; MySQL at 100.
        32
    }
    fn share_lock(&self) -> &'static str {
        // MariaDB has no FOR SHARE; MySQL 8 takes both.
        " LOCK IN SHARE MODE"
    }
    fn name(&self) -> &'static str {
        "mysql"
    }
    fn write_placeholder(&self, out: &mut String, _index: usize) {
        out.push('?');
    }
    fn quote_char(&self) -> char {
        '`'
    }
    fn column_type(&self, ty: SqlType, keyed: bool) -> Cow<'static, str> {
        Cow::Borrowed(match ty {
            SqlType::Bool => "BOOLEAN",
            SqlType::SmallInt => "SMALLINT",
            SqlType::Int => "INT",
            SqlType::BigInt => "BIGINT",
            SqlType::Real => "FLOAT",
            SqlType::Double => "DOUBLE",
            SqlType::Text if keyed => "VARCHAR(255)",
            SqlType::Text => "LONGTEXT",
            SqlType::Varchar(n) => return Cow::Owned(format!("VARCHAR({n})")),
            SqlType::Bytes if keyed => "VARBINARY(255)",
            SqlType::Bytes => "LONGBLOB",
            SqlType::Date => "DATE",
            SqlType::Time => "TIME(6)",
            SqlType::Timestamp | SqlType::TimestampTz => "DATETIME(6)",
            SqlType::Uuid => "CHAR(36)",
            SqlType::Decimal => "DECIMAL(65, 28)",
            SqlType::Json => "JSON",
            SqlType::Custom(name) => name,
            // Refused by `supports_type` before any DDL is sent.
            SqlType::Array(_) => "ARRAY",
            SqlType::HStore => "HSTORE",
        })
    }
    fn supports_type(&self, ty: SqlType) -> bool {
        !matches!(ty, SqlType::Array(_) | SqlType::HStore)
    }
    fn auto_increment(&self, ty: SqlType) -> Cow<'static, str> {
        let int = self.column_type(ty, true);
        Cow::Owned(format!("{int} NOT NULL AUTO_INCREMENT"))
    }
    fn cast_type(&self, ty: SqlType) -> Cow<'static, str> {
        Cow::Borrowed(match ty {
            SqlType::SmallInt | SqlType::Int | SqlType::BigInt | SqlType::Bool => "SIGNED",
            SqlType::Real => "FLOAT",
            SqlType::Double => "DOUBLE",
            SqlType::Decimal => "DECIMAL(65, 28)",
            SqlType::Date => "DATE",
            SqlType::Time => "TIME(6)",
            SqlType::Timestamp | SqlType::TimestampTz => "DATETIME(6)",
            SqlType::Bytes => "BINARY",
            SqlType::Json => "JSON",
            _ => "CHAR",
        })
    }
    fn supports_returning(&self) -> bool {
        false
    }
    fn supports_for_update(&self) -> bool {
        true
    }
    fn supports_nulls_order(&self) -> bool {
        false
    }
    fn supports_ilike(&self) -> bool {
        false
    }
    fn supports_parenthesized_compound(&self) -> bool {
        true
    }
    fn like_operator(&self) -> &'static str {
        // LIKE follows the column's collation, case-insensitive by default; BINARY makes
        // it case-sensitive as on PostgreSQL.
        "LIKE BINARY"
    }
    fn upsert_style(&self) -> UpsertStyle {
        UpsertStyle::OnDuplicateKey
    }
    fn now(&self) -> &'static str {
        "UTC_TIMESTAMP(6)"
    }
    fn json_syntax(&self, op: crate::tree::JsonOp) -> Option<JsonSyntax> {
        use crate::tree::JsonOp::*;
        use JsonArgStyle::*;
        Some(match op {
            Get | Path => json_syntax("JSON_EXTRACT(", ", ", ")", JsonPath),
            GetText | PathText => json_syntax("JSON_UNQUOTE(JSON_EXTRACT(", ", ", "))", JsonPath),
            Contains => json_syntax("JSON_CONTAINS(", ", ", ")", Document),
            ContainedBy => JsonSyntax {
                swapped: true,
                ..json_syntax("JSON_CONTAINS(", ", ", ")", Document)
            },
            HasKey => json_syntax("JSON_CONTAINS_PATH(", ", 'one', ", ")", JsonPath),
        })
    }
    fn write_limit(
        &self,
        out: &mut String,
        limit_param: Option<usize>,
        offset_param: Option<usize>,
    ) {
        match (limit_param, offset_param) {
            (Some(l), _) => {
                out.push_str(" LIMIT ");
                self.write_placeholder(out, l);
            }
            // MySQL has no OFFSET without LIMIT; this is its documented "all rows".
            (None, Some(_)) => out.push_str(" LIMIT 18446744073709551615"),
            (None, None) => {}
        }
        if let Some(o) = offset_param {
            out.push_str(" OFFSET ");
            self.write_placeholder(out, o);
        }
    }
    fn inline_indexes(&self) -> bool {
        true
    }
    fn empty_insert(&self) -> &'static str {
        " () VALUES ()"
    }
    fn create_table_suffix(&self) -> &'static str {
        " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
    }
}

/// SQLite: `?N` placeholders, `"` quotes, `INTEGER PRIMARY KEY` keys, RETURNING,
/// ON CONFLICT; no FOR UPDATE.
#[derive(Debug, Clone, Copy, Default)]
pub struct SqliteDialect;

impl Dialect for SqliteDialect {
    fn like_handles_nul(&self) -> bool {
        false
    }
    fn name(&self) -> &'static str {
        "sqlite"
    }
    fn write_placeholder(&self, out: &mut String, index: usize) {
        out.push('?');
        push_number(out, index);
    }
    fn quote_char(&self) -> char {
        '"'
    }
    fn column_type(&self, ty: SqlType, _keyed: bool) -> Cow<'static, str> {
        Cow::Borrowed(match ty {
            SqlType::Bool | SqlType::SmallInt | SqlType::Int | SqlType::BigInt => "INTEGER",
            SqlType::Real | SqlType::Double => "REAL",
            SqlType::Varchar(n) => return Cow::Owned(format!("VARCHAR({n})")),
            SqlType::Bytes => "BLOB",
            SqlType::Custom(name) => name,
            // Dates, times, UUIDs, decimals and JSON are stored as text that sorts right.
            _ => "TEXT",
        })
    }
    fn begin_statements(&self, options: &TxOptions) -> crate::Result<Vec<String>> {
        if options.statement_timeout.is_some()
            || options.lock_timeout.is_some()
            || options.idle_timeout.is_some()
        {
            return Err(crate::Error::Config(
                "SQLite has no per-transaction timeouts; set SqliteConfig::statement_timeout \
                 or busy_timeout on the database"
                    .into(),
            ));
        }
        // Every SQLite transaction is serializable, whatever level was asked for.
        Ok(if options.read_only {
            // No write lock needed; `query_only` makes the server refuse writes.
            vec!["PRAGMA query_only = ON".into(), "BEGIN DEFERRED".into()]
        } else {
            // Take the write lock up front: two readers that both write later cannot
            // deadlock.
            vec!["BEGIN IMMEDIATE".into()]
        })
    }
    fn end_statements(&self, options: &TxOptions) -> Vec<String> {
        if options.read_only {
            vec!["PRAGMA query_only = OFF".into()]
        } else {
            Vec::new()
        }
    }
    fn supports_type(&self, ty: SqlType) -> bool {
        !matches!(ty, SqlType::Array(_) | SqlType::HStore)
    }
    fn auto_increment(&self, _ty: SqlType) -> Cow<'static, str> {
        // Only this exact spelling makes the column an alias of the rowid.
        Cow::Borrowed("INTEGER")
    }
    fn cast_type(&self, ty: SqlType) -> Cow<'static, str> {
        self.column_type(ty, false)
    }
    fn max_params(&self) -> usize {
        32_766
    }
    fn supports_returning(&self) -> bool {
        true
    }
    fn supports_for_update(&self) -> bool {
        false
    }
    fn supports_nulls_order(&self) -> bool {
        true
    }
    fn supports_ilike(&self) -> bool {
        false
    }
    fn supports_parenthesized_compound(&self) -> bool {
        false
    }
    fn upsert_style(&self) -> UpsertStyle {
        UpsertStyle::OnConflict
    }
    fn now(&self) -> &'static str {
        "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
    }
    fn json_syntax(&self, op: crate::tree::JsonOp) -> Option<JsonSyntax> {
        use crate::tree::JsonOp::*;
        use JsonArgStyle::*;
        match op {
            Get | Path => Some(json_syntax("(", " -> ", ")", JsonPath)),
            // `->>` gives numbers as numbers: text, as on the other databases.
            GetText | PathText => Some(json_syntax("CAST((", " ->> ", ") AS TEXT)", JsonPath)),
            HasKey => Some(json_syntax("(json_type(", ", ", ") IS NOT NULL)", JsonPath)),
            Contains | ContainedBy => Option::None,
        }
    }
    fn write_limit(
        &self,
        out: &mut String,
        limit_param: Option<usize>,
        offset_param: Option<usize>,
    ) {
        match (limit_param, offset_param) {
            (Some(l), _) => {
                out.push_str(" LIMIT ");
                self.write_placeholder(out, l);
            }
            (None, Some(_)) => out.push_str(" LIMIT -1"),
            (None, None) => {}
        }
        if let Some(o) = offset_param {
            out.push_str(" OFFSET ");
            self.write_placeholder(out, o);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_their_parameters() {
        let mut out = String::new();
        for n in [1, 9, 10, 123, 65535] {
            PostgresqlDialect.write_placeholder(&mut out, n);
            SqliteDialect.write_placeholder(&mut out, n);
            MySQLDialect.write_placeholder(&mut out, n);
        }
        assert_eq!(out, "$1?1?$9?9?$10?10?$123?123?$65535?65535?");
    }
}
