//! Rendering statements to SQL text and parameters for a dialect.
//!
//! One pass over the tree writes the text; every value becomes a placeholder and joins
//! the parameter list in the same order. Identifiers are always quoted.

use std::cell::RefCell;

use crate::dialect::{Dialect, JsonArgStyle, UpsertStyle};
use crate::error::{Error, Result};
use crate::hash::FastMap;
use crate::meta::TableMeta;
use crate::statement::Statement;
use crate::tree::{
    model_items, BinOp, ConflictAction, DeleteStatement, ExprNode, ExtOp, Func, InsertSource,
    InsertStatement, JoinKind, JsonArg, JsonOp, Nulls, OrderItem, RowLock, SelectStatement, SetOp,
    TableRef, UpdateStatement,
};
use crate::value::{ElementType, SqlType, Value};

pub(crate) struct Writer<'d> {
    pub(crate) sql: String,
    pub(crate) params: Vec<Value>,
    pub(crate) dialect: &'d dyn Dialect,
    /// Columns are written with their table qualifier; off for ORDER BY of a compound
    /// SELECT, whose terms name output columns.
    qualify: bool,
}

impl<'d> Writer<'d> {
    pub(crate) fn new(dialect: &'d dyn Dialect) -> Self {
        Writer {
            sql: String::with_capacity(128),
            params: Vec::new(),
            dialect,
            qualify: true,
        }
    }

    /// The statement; fails when a parameter could not be encoded.
    pub(crate) fn finish(self) -> Result<Statement> {
        if let Some((i, why)) = self.first_refusal() {
            return Err(Error::InvalidValue {
                index: i + 1,
                message: why,
            });
        }
        let max = self.dialect.max_params();
        if self.params.len() > max {
            return Err(Error::Query(format!(
                "the statement has {} parameters; {} accepts at most {max} (split the rows, \
                 or use Manager::bulk_insert, which does)",
                self.params.len(),
                self.dialect.name()
            )));
        }
        Ok(Statement {
            sql: self.sql,
            params: self.params,
            limits: crate::statement::Limits::default(),
            columns: crate::statement::ColumnMatch::ByPosition,
            copy_in: None,
        })
    }

    /// The first parameter that must not be sent, with why (see `Value::refusal`).
    fn first_refusal(&self) -> Option<(usize, String)> {
        let max_depth = self.dialect.max_json_depth();
        self.params
            .iter()
            .enumerate()
            .find_map(|(i, v)| v.refusal(max_depth).map(|why| (i, why)))
    }

    pub(crate) fn push(&mut self, s: &str) {
        self.sql.push_str(s);
    }

    pub(crate) fn ident(&mut self, name: &str) {
        self.dialect.write_ident(&mut self.sql, name);
    }

    /// `(?, ?), (?, ?)`: `count` rows of `width` placeholders, numbered on from the
    /// parameters so far. Many rows' list is written once per thread, dialect and shape,
    /// then copied: writing 2,000 numbered placeholders was a tenth of a 1,000-row insert.
    fn placeholder_rows(&mut self, width: usize, count: usize) {
        thread_local! {
            static LISTS: RefCell<FastMap<[usize; 4], Box<str>>> = RefCell::default();
        }
        let start = self.params.len();
        let dialect = self.dialect;
        let write = |out: &mut String| {
            out.reserve(count * (width * 6 + 4));
            for r in 0..count {
                out.push_str(if r == 0 { "(" } else { ", (" });
                for c in 0..width {
                    if c > 0 {
                        out.push_str(", ");
                    }
                    dialect.write_placeholder(out, start + r * width + c + 1);
                }
                out.push(')');
            }
        };
        if count < 8 {
            return write(&mut self.sql);
        }
        let key = [dialect.name().as_ptr() as usize, start, width, count];
        LISTS.with(|lists| {
            let mut lists = lists.borrow_mut();
            if let Some(list) = lists.get(&key) {
                return self.sql.push_str(list);
            }
            let mut list = String::new();
            write(&mut list);
            self.sql.push_str(&list);
            // Bounded: a program inserting batches of every size keeps the latest shapes.
            if lists.len() >= 32 {
                lists.clear();
            }
            lists.insert(key, list.into_boxed_str());
        })
    }

    fn param(&mut self, value: Value) {
        self.params.push(value);
        self.dialect
            .write_placeholder(&mut self.sql, self.params.len());
    }

    pub(crate) fn table(&mut self, t: &TableRef) {
        if let Some(schema) = t.schema {
            self.ident(schema);
            self.push(".");
        }
        self.ident(t.name);
        if let Some(alias) = &t.alias {
            self.push(" AS ");
            self.ident(alias);
        }
    }

    fn list<T>(
        &mut self,
        items: &[T],
        mut each: impl FnMut(&mut Self, &T) -> Result<()>,
    ) -> Result<()> {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            each(self, item)?;
        }
        Ok(())
    }

    /// ` ("a", "b")`: a parenthesised list of quoted column names.
    fn columns(&mut self, names: &[&str]) -> Result<()> {
        self.push(" (");
        self.list(names, |w, c| {
            w.ident(c);
            Ok(())
        })?;
        self.push(")");
        Ok(())
    }

    fn raw(&mut self, sql: &str, params: &[Value]) -> Result<()> {
        let mut values = params.iter();
        let mut chars = sql.chars().peekable();
        while let Some(ch) = chars.next() {
            if ch != '?' {
                self.sql.push(ch);
            } else if chars.peek() == Some(&'?') {
                chars.next();
                self.sql.push('?');
            } else {
                let value = values.next().ok_or_else(|| {
                    Error::Query(format!(
                        "raw SQL has more `?` than the {} parameters given",
                        params.len()
                    ))
                })?;
                self.param(value.clone());
            }
        }
        if values.next().is_some() {
            return Err(Error::Query(format!(
                "raw SQL has fewer `?` than the {} parameters given",
                params.len()
            )));
        }
        Ok(())
    }

    /// Writes an expression. AND / OR / NOT and the other binary operators, however
    /// deeply nested (a condition built from thousands of `|`), are walked with a stack of
    /// their own, not by recursion: rendering never overflows the thread's stack.
    pub(crate) fn expr(&mut self, e: &ExprNode) -> Result<()> {
        let leaf = |e: &ExprNode| !matches!(e, ExprNode::Binary(..) | ExprNode::Not(_));
        match e {
            // The usual shapes (a column, `column = value`) need no stack of their own:
            // its allocation was a tenth of a point lookup's rendering.
            ExprNode::Binary(operands, op) if leaf(&operands.0) && leaf(&operands.1) => {
                self.push("(");
                self.expr_node(&operands.0)?;
                self.push(binop(*op));
                self.expr_node(&operands.1)?;
                self.push(")");
                Ok(())
            }
            ExprNode::Binary(..) | ExprNode::Not(_) => self.expr_deep(e),
            leaf => self.expr_node(leaf),
        }
    }

    /// [`expr`](Self::expr) for nested operators, walked with a stack of its own.
    fn expr_deep(&mut self, e: &ExprNode) -> Result<()> {
        enum Step<'e> {
            Node(&'e ExprNode),
            Text(&'static str),
        }
        let mut steps = Vec::with_capacity(16);
        steps.push(Step::Node(e));
        while let Some(step) = steps.pop() {
            match step {
                Step::Text(text) => self.push(text),
                Step::Node(ExprNode::Binary(operands, op)) => {
                    self.push("(");
                    steps.extend([
                        Step::Text(")"),
                        Step::Node(&operands.1),
                        Step::Text(binop(*op)),
                        Step::Node(&operands.0),
                    ]);
                }
                Step::Node(ExprNode::Not(inner)) => {
                    self.push("NOT ");
                    steps.push(Step::Node(inner));
                }
                Step::Node(node) => self.expr_node(node)?,
            }
        }
        Ok(())
    }

    /// Writes one node that is not a binary operator or NOT.
    fn expr_node(&mut self, e: &ExprNode) -> Result<()> {
        match e {
            ExprNode::Column { qualifier, name } => {
                if let (true, Some(q)) = (self.qualify, qualifier) {
                    self.ident(q);
                    self.push(".");
                }
                self.ident(name);
            }
            ExprNode::Param(v) => self.param(v.clone()),
            ExprNode::Binary(..) | ExprNode::Not(_) => self.expr(e)?,
            ExprNode::IsNull(inner, negated) => {
                self.push("(");
                self.expr(inner)?;
                self.push(if *negated {
                    " IS NOT NULL)"
                } else {
                    " IS NULL)"
                });
            }
            ExprNode::Between(x, lo, hi) => {
                self.push("(");
                self.expr(x)?;
                self.push(" BETWEEN ");
                self.expr(lo)?;
                self.push(" AND ");
                self.expr(hi)?;
                self.push(")");
            }
            ExprNode::InList(x, list, negated) => {
                if list.is_empty() {
                    // `IN ()` is a syntax error; an empty list matches nothing.
                    self.push(if *negated { "(1 = 1)" } else { "(1 = 0)" });
                    return Ok(());
                }
                self.push("(");
                self.expr(x)?;
                self.push(if *negated { " NOT IN (" } else { " IN (" });
                self.list(list, |w, item| w.expr(item))?;
                self.push("))");
            }
            ExprNode::InSelect(x, query, negated) => {
                self.push("(");
                self.expr(x)?;
                self.push(if *negated { " NOT IN (" } else { " IN (" });
                self.select(query)?;
                self.push("))");
            }
            ExprNode::Exists(query, negated) => {
                self.push(if *negated { "NOT EXISTS (" } else { "EXISTS (" });
                self.select(query)?;
                self.push(")");
            }
            ExprNode::Like {
                expr,
                pattern,
                case_insensitive,
                negated,
                escaped,
            } => self.like(expr, pattern, *case_insensitive, *negated, *escaped)?,
            ExprNode::Func(f, args) => self.func(*f, args)?,
            ExprNode::Cast(inner, ty) => {
                self.push("CAST(");
                self.expr(inner)?;
                self.push(" AS ");
                let name = self.dialect.cast_type(*ty);
                self.push(&name);
                self.push(")");
            }
            ExprNode::Raw(sql, params) => self.raw(sql, params)?,
            ExprNode::Json(op, doc, arg) => self.json(*op, doc, arg)?,
            ExprNode::Ext(op, doc, arg) => self.ext(*op, doc, arg.as_ref())?,
            ExprNode::Star => self.push("*"),
            ExprNode::Named(inner, name) => {
                self.expr(inner)?;
                self.push(" AS ");
                self.ident(name);
            }
        }
        Ok(())
    }

    fn like(
        &mut self,
        expr: &ExprNode,
        pattern: &ExprNode,
        case_insensitive: bool,
        negated: bool,
        escaped: bool,
    ) -> Result<()> {
        if let ExprNode::Param(Value::Text(text)) = pattern {
            if text.contains('\0') && !self.dialect.like_handles_nul() {
                return Err(Error::Query(
                    "this database's LIKE cannot compare a pattern holding a NUL (\\0) character"
                        .into(),
                ));
            }
        }
        let not = if negated { "NOT " } else { "" };
        self.push("(");
        if !case_insensitive {
            self.expr(expr)?;
            self.push(" ");
            self.push(not);
            self.push(self.dialect.like_operator());
            self.push(" ");
            self.expr(pattern)?;
        } else if self.dialect.supports_ilike() {
            self.expr(expr)?;
            self.push(" ");
            self.push(not);
            self.push("ILIKE ");
            self.expr(pattern)?;
        } else {
            self.push("LOWER(");
            self.expr(expr)?;
            self.push(") ");
            self.push(not);
            self.push("LIKE LOWER(");
            self.expr(pattern)?;
            self.push(")");
        }
        if escaped {
            self.push(" ESCAPE '!'");
        }
        self.push(")");
        Ok(())
    }

    fn json(&mut self, op: JsonOp, doc: &ExprNode, arg: &JsonArg) -> Result<()> {
        let syntax = self.dialect.json_syntax(op).ok_or_else(|| {
            Error::Query(format!(
                "{} has no JSON operator for {op:?}",
                self.dialect.name()
            ))
        })?;
        let value = match (syntax.argument, arg) {
            (JsonArgStyle::Key, JsonArg::Keys(keys)) => keys.join(""),
            (JsonArgStyle::KeyArray, JsonArg::Keys(keys)) => pg_text_array(keys),
            (JsonArgStyle::JsonPath, JsonArg::Keys(keys)) => json_path(keys),
            (JsonArgStyle::Document, JsonArg::Document(doc)) => doc.clone(),
            (_, arg) => return Err(Error::Query(format!("JSON {op:?} does not take {arg:?}"))),
        };
        self.push(syntax.prefix);
        if syntax.swapped {
            self.param(Value::Text(value.into()));
            self.push(syntax.infix);
            self.expr(doc)?;
        } else {
            self.expr(doc)?;
            self.push(syntax.infix);
            self.param(Value::Text(value.into()));
        }
        self.push(syntax.suffix);
        Ok(())
    }

    fn ext(&mut self, op: ExtOp, doc: &ExprNode, arg: Option<&Value>) -> Result<()> {
        let syntax = self.dialect.ext_syntax(op).ok_or_else(|| {
            Error::Query(format!(
                "{} has no {op:?} (arrays and hstore are PostgreSQL's)",
                self.dialect.name()
            ))
        })?;
        self.push(syntax.prefix);
        match (syntax.swapped, arg) {
            (true, Some(value)) => {
                self.param(value.clone());
                self.push(syntax.infix);
                self.expr(doc)?;
            }
            (false, Some(value)) => {
                self.expr(doc)?;
                self.push(syntax.infix);
                self.param(value.clone());
            }
            (_, None) => self.expr(doc)?,
        }
        self.push(syntax.suffix);
        Ok(())
    }

    fn func(&mut self, f: Func, args: &[ExprNode]) -> Result<()> {
        let name = match f {
            Func::Now => {
                self.push(self.dialect.now());
                return Ok(());
            }
            Func::Lower => "LOWER(",
            Func::Upper => "UPPER(",
            Func::Count => "COUNT(",
            Func::CountDistinct => "COUNT(DISTINCT ",
            Func::Sum => "SUM(",
            Func::Avg => "AVG(",
            Func::Min => "MIN(",
            Func::Max => "MAX(",
            Func::Coalesce => "COALESCE(",
        };
        self.push(name);
        self.list(args, |w, a| w.expr(a))?;
        self.push(")");
        Ok(())
    }

    fn order_item(&mut self, item: &OrderItem) -> Result<()> {
        let dir = if item.desc { " DESC" } else { " ASC" };
        match item.nulls {
            Some(nulls) if !self.dialect.supports_nulls_order() => {
                // `x IS NULL` is 1 for NULLs: sort on it first.
                self.push("(");
                self.expr(&item.node)?;
                self.push(match nulls {
                    Nulls::First => " IS NULL) DESC, ",
                    Nulls::Last => " IS NULL) ASC, ",
                });
                self.expr(&item.node)?;
                self.push(dir);
            }
            nulls => {
                self.expr(&item.node)?;
                self.push(dir);
                match nulls {
                    Some(Nulls::First) => self.push(" NULLS FIRST"),
                    Some(Nulls::Last) => self.push(" NULLS LAST"),
                    None => {}
                }
            }
        }
        Ok(())
    }

    /// ` WHERE filter`, and the soft-delete condition (`live`) AND-ed to it.
    fn filter(&mut self, filter: Option<&ExprNode>, live: Option<&ExprNode>) -> Result<()> {
        if filter.is_some() || live.is_some() {
            self.push(" WHERE ");
        }
        self.conjunction(filter, live)
    }

    /// `a`, `b`, or `(a) AND b` when both are there (`a` may be raw SQL with an OR in it).
    fn conjunction(&mut self, a: Option<&ExprNode>, b: Option<&ExprNode>) -> Result<()> {
        match (a, b) {
            (Some(a), Some(b)) => {
                self.push("(");
                self.expr(a)?;
                self.push(") AND ");
                self.expr(b)
            }
            (Some(only), None) | (None, Some(only)) => self.expr(only),
            (None, None) => Ok(()),
        }
    }

    pub(crate) fn select(&mut self, s: &SelectStatement) -> Result<()> {
        if let Some(err) = &s.error {
            return Err(Error::Query(err.clone()));
        }
        self.select_core(s)?;
        for (op, part) in &s.compound {
            self.push(match op {
                SetOp::Union => " UNION ",
                SetOp::UnionAll => " UNION ALL ",
                SetOp::Intersect => " INTERSECT ",
                SetOp::Except => " EXCEPT ",
            });
            if let Some(err) = &part.error {
                return Err(Error::Query(err.clone()));
            }
            if part.has_tail() || !part.compound.is_empty() {
                if !self.dialect.supports_parenthesized_compound() {
                    return Err(Error::Query(format!(
                        "{} cannot apply ORDER BY / LIMIT to one part of a compound SELECT",
                        self.dialect.name()
                    )));
                }
                self.push("(");
                self.select(part)?;
                self.push(")");
            } else {
                self.select_core(part)?;
            }
        }
        let qualify = self.qualify;
        self.qualify = s.compound.is_empty();
        let tail = self.select_tail(s);
        self.qualify = qualify;
        tail?;
        if let Some(lock) = s.lock {
            if !self.dialect.supports_for_update() {
                return Err(Error::Query(format!(
                    "{} has no row locks (SELECT ... FOR UPDATE / FOR SHARE)",
                    self.dialect.name()
                )));
            }
            self.push(match lock {
                RowLock::Update => " FOR UPDATE",
                RowLock::Share => self.dialect.share_lock(),
            });
        }
        Ok(())
    }

    /// SELECT ... FROM ... WHERE ... GROUP BY ... HAVING, without ORDER BY and LIMIT.
    fn select_core(&mut self, s: &SelectStatement) -> Result<()> {
        self.push(if s.distinct {
            "SELECT DISTINCT "
        } else {
            "SELECT "
        });
        match s.all_columns_of.0 {
            Some(table) if self.qualify => self.all_columns(table)?,
            Some(table) => self.list(&model_items(table, None), |w, e| w.expr(e))?,
            None => self.list(&s.items, |w, e| w.expr(e))?,
        }
        self.push(" FROM ");
        self.table(&s.from);
        for join in &s.joins {
            self.push(match join.kind {
                JoinKind::Inner => " INNER JOIN ",
                JoinKind::Left => " LEFT OUTER JOIN ",
            });
            self.table(&join.table);
            self.push(" ON ");
            let live = join.table.live_rows().filter(|_| !s.with_deleted);
            self.conjunction(Some(&join.on), live.as_ref())?;
        }
        let live = s.from.live_rows().filter(|_| !s.with_deleted);
        self.filter(s.filter.as_ref(), live.as_ref())?;
        if !s.group_by.is_empty() {
            self.push(" GROUP BY ");
            self.list(&s.group_by, |w, e| w.expr(e))?;
        }
        if let Some(having) = &s.having {
            self.push(" HAVING ");
            self.expr(having)?;
        }
        Ok(())
    }

    /// Every column of `table`, qualified by its name: written once per thread, model and
    /// dialect, then copied (writing the quoted names each time was a tenth of a one-row
    /// query's client instructions).
    fn all_columns(&mut self, table: &'static TableMeta) -> Result<()> {
        thread_local! {
            static LISTS: RefCell<FastMap<(usize, usize), Box<str>>> = RefCell::default();
        }
        let key = (
            table as *const TableMeta as usize,
            self.dialect.name().as_ptr() as usize,
        );
        let copied = LISTS.with(|lists| {
            let lists = lists.borrow();
            let list = lists.get(&key)?;
            self.sql.push_str(list);
            Some(())
        });
        if copied.is_none() {
            let start = self.sql.len();
            self.list(&model_items(table, None), |w, e| w.expr(e))?;
            let list: Box<str> = self.sql[start..].into();
            LISTS.with(|lists| lists.borrow_mut().insert(key, list));
        }
        Ok(())
    }

    fn select_tail(&mut self, s: &SelectStatement) -> Result<()> {
        if !s.order_by.is_empty() {
            self.push(" ORDER BY ");
            self.list(&s.order_by, |w, o| w.order_item(o))?;
        }
        let param = |w: &mut Self, n: u64| {
            w.params.push(limit_value(n));
            w.params.len()
        };
        let limit = s.limit.map(|n| param(self, n));
        let offset = s.offset.map(|n| param(self, n));
        self.dialect.write_limit(&mut self.sql, limit, offset);
        Ok(())
    }

    fn returning(&mut self, items: &[ExprNode]) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        if !self.dialect.supports_returning() {
            return Err(Error::Query(format!(
                "{} has no RETURNING",
                self.dialect.name()
            )));
        }
        self.push(" RETURNING ");
        self.list(items, |w, e| w.expr(e))
    }
}

/// `{"a","b"}`: a PostgreSQL array literal of the keys, each quoted and escaped.
fn pg_text_array(keys: &[String]) -> String {
    let quoted: Vec<String> = keys
        .iter()
        .map(|k| format!("\"{}\"", k.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{{{}}}", quoted.join(","))
}

/// `$."a"."b"`: a JSON path of the keys, each quoted and escaped.
fn json_path(keys: &[String]) -> String {
    let mut path = String::from("$");
    for key in keys {
        path.push_str(".\"");
        path.push_str(&key.replace('\\', "\\\\").replace('"', "\\\""));
        path.push('"');
    }
    path
}

fn limit_value(n: u64) -> Value {
    Value::I64(i64::try_from(n).unwrap_or(i64::MAX))
}

fn binop(op: BinOp) -> &'static str {
    match op {
        BinOp::Eq => " = ",
        BinOp::Ne => " <> ",
        BinOp::Lt => " < ",
        BinOp::Le => " <= ",
        BinOp::Gt => " > ",
        BinOp::Ge => " >= ",
        BinOp::And => " AND ",
        BinOp::Or => " OR ",
        BinOp::Add => " + ",
        BinOp::Sub => " - ",
        BinOp::Mul => " * ",
        BinOp::Div => " / ",
    }
}

pub(crate) fn select(s: &SelectStatement, dialect: &dyn Dialect) -> Result<Statement> {
    let mut w = Writer::new(dialect);
    w.select(s)?;
    w.finish()
}

pub(crate) fn count(s: &SelectStatement, dialect: &dyn Dialect) -> Result<Statement> {
    let mut w = Writer::new(dialect);
    w.push("SELECT COUNT(*) FROM (");
    w.select(s)?;
    w.push(") AS ");
    w.ident("_count");
    w.finish()
}

pub(crate) fn raw(sql: &str, params: &[Value], dialect: &dyn Dialect) -> Result<Statement> {
    let mut w = Writer::new(dialect);
    w.raw(sql, params)?;
    w.finish()
}

pub(crate) fn update(s: &UpdateStatement, dialect: &dyn Dialect) -> Result<Statement> {
    if s.sets.is_empty() {
        return Err(Error::Query("UPDATE with no columns to set".into()));
    }
    let mut w = Writer::new(dialect);
    w.push("UPDATE ");
    w.table(&s.table);
    w.push(" SET ");
    w.list(&s.sets, |w, (name, value)| {
        w.ident(name);
        w.push(" = ");
        w.expr(value)
    })?;
    let live = s.table.live_rows().filter(|_| !s.with_deleted);
    w.filter(s.filter.as_ref(), live.as_ref())?;
    w.returning(&s.returning)?;
    w.finish()
}

pub(crate) fn delete(s: &DeleteStatement, dialect: &dyn Dialect) -> Result<Statement> {
    let mut w = Writer::new(dialect);
    w.push("DELETE FROM ");
    w.table(&s.table);
    if let Some(filter) = &s.filter {
        w.push(" WHERE ");
        w.expr(filter)?;
    }
    w.returning(&s.returning)?;
    w.finish()
}

pub(crate) fn insert(s: &InsertStatement, dialect: &dyn Dialect) -> Result<Statement> {
    insert_rows(s, Taken::Nothing, dialect)
}

/// Renders an INSERT it owns, moving its values into the parameters instead of copying
/// them: the bulk-insert path pays for each value once.
pub(crate) fn insert_owned(mut s: InsertStatement, dialect: &dyn Dialect) -> Result<Statement> {
    let taken = match &mut s.source {
        InsertSource::Values(rows) => Taken::Nodes(std::mem::take(rows)),
        InsertSource::Rows { values, .. } => Taken::Values(std::mem::take(values)),
        InsertSource::Select(_) => Taken::Nothing,
    };
    insert_rows(&s, taken, dialect)
}

/// The rows taken out of an INSERT being rendered, or `Nothing` to render its own.
enum Taken {
    Nothing,
    Nodes(Vec<Vec<ExprNode>>),
    Values(Vec<Value>),
}

fn write_owned_row(w: &mut Writer<'_>, row: Vec<ExprNode>) -> Result<()> {
    w.push("(");
    for (i, node) in row.into_iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        match node.into_param() {
            Ok(value) => w.param(value),
            Err(other) => w.expr(&other)?,
        }
    }
    w.push(")");
    Ok(())
}

/// The plain values of an INSERT's rows, row after row; an error for a cell that is an
/// expression.
fn plain_values(source: &mut InsertSource) -> Result<Vec<Value>> {
    match source {
        InsertSource::Rows { values, .. } => Ok(std::mem::take(values)),
        InsertSource::Values(rows) => std::mem::take(rows)
            .into_iter()
            .flatten()
            .map(|node| {
                node.into_param()
                    .map_err(|_| Error::Query("UNNEST and COPY take plain values only".into()))
            })
            .collect(),
        InsertSource::Select(_) => Ok(Vec::new()),
    }
}

/// `COPY t (a, b) FROM STDIN (FORMAT binary)`, the rows of `s` as its parameters, row
/// after row: no parameter limit, and the server parses no SQL per row.
pub(crate) fn insert_copy(mut s: InsertStatement, dialect: &dyn Dialect) -> Result<Statement> {
    if !dialect.supports_copy_in() {
        return Err(Error::Query(format!(
            "{} has no binary COPY (it is PostgreSQL's)",
            dialect.name()
        )));
    }
    if s.on_conflict.is_some() || !s.returning.is_empty() {
        return Err(Error::Query(
            "COPY cannot skip or update conflicting rows, nor return them".into(),
        ));
    }
    let values = plain_values(&mut s.source)?;
    if values.is_empty() || s.columns.is_empty() {
        return Err(Error::Query(
            "COPY needs one or more rows of one or more columns".into(),
        ));
    }
    let mut w = Writer::new(dialect);
    w.push("SELECT ");
    w.list(&s.columns, |w, c| {
        w.ident(c);
        Ok(())
    })?;
    w.push(" FROM ");
    w.table(&s.table);
    w.push(" WHERE false");
    let types_of = std::mem::take(&mut w.sql);
    w.push("COPY ");
    w.table(&s.table);
    w.columns(&s.columns)?;
    w.push(" FROM STDIN (FORMAT binary)");
    // Not `finish`: COPY's rows are not bind parameters, so no parameter limit applies.
    w.params = values;
    if let Some((i, why)) = w.first_refusal() {
        let width = s.columns.len();
        return Err(Error::InvalidValue {
            index: i % width + 1,
            message: format!("row {}: {why}", i / width + 1),
        });
    }
    Ok(Statement {
        sql: w.sql,
        params: w.params,
        copy_in: Some(crate::statement::CopyIn { types_of }),
        ..Statement::new("")
    })
}

/// `INSERT INTO t (a, b) SELECT * FROM UNNEST($1::T[], $2::U[])`: the rows of `s`
/// turned into one array parameter per column, so the text and the parameter count do not
/// depend on the number of rows.
pub(crate) fn insert_unnest(
    mut s: InsertStatement,
    table: &TableMeta,
    dialect: &dyn Dialect,
) -> Result<Statement> {
    let width = s.columns.len();
    let values = plain_values(&mut s.source)?;
    if values.is_empty() || width == 0 {
        return Err(Error::Query(
            "UNNEST needs one or more rows of values".into(),
        ));
    }
    let count = values.len() / width;
    let elements = s
        .columns
        .iter()
        .map(|name| {
            table
                .columns
                .iter()
                .find(|c| c.name == *name)
                .and_then(|c| dialect.array_element(c.sql_type))
                .ok_or_else(|| {
                    Error::Query(format!(
                        "column {name} cannot travel as a {} array",
                        dialect.name()
                    ))
                })
        })
        .collect::<Result<Vec<ElementType>>>()?;
    let mut columns: Vec<Vec<Value>> = elements.iter().map(|_| Vec::with_capacity(count)).collect();
    for (i, value) in values.into_iter().enumerate() {
        let (r, c) = (i / width, i % width);
        match value {
            Value::Invalid(why) => {
                return Err(Error::InvalidValue {
                    index: c + 1,
                    message: format!("row {}: {why}", r + 1),
                })
            }
            value => columns[c].push(value),
        }
    }
    let mut w = Writer::new(dialect);
    w.push("INSERT INTO ");
    w.table(&s.table);
    w.columns(&s.columns)?;
    w.push(" SELECT * FROM UNNEST(");
    for (i, (element, values)) in elements.into_iter().zip(columns).enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.param(Value::Array(element, values));
        w.push("::");
        w.push(&dialect.cast_type(SqlType::Array(element)));
    }
    w.push(")");
    if let Some(conflict) = &s.on_conflict {
        upsert(&mut w, &s.columns, &conflict.target, &conflict.action)?;
    }
    w.returning(&s.returning)?;
    w.finish()
}

/// `taken`: the rows taken out of `s`, or [`Taken::Nothing`] to render `s`'s own.
fn insert_rows(s: &InsertStatement, taken: Taken, dialect: &dyn Dialect) -> Result<Statement> {
    let mut w = Writer::new(dialect);
    w.push("INSERT INTO ");
    w.table(&s.table);
    let row_count = match (&s.source, &taken) {
        (_, Taken::Nodes(rows)) => rows.len(),
        (InsertSource::Values(rows), _) => rows.len(),
        (InsertSource::Rows { count, .. }, _) => *count,
        (InsertSource::Select(_), _) => 1,
    };
    match &s.source {
        InsertSource::Values(_) | InsertSource::Rows { .. } if row_count == 0 => {
            return Err(Error::Query("INSERT with no rows".into()));
        }
        InsertSource::Values(_) | InsertSource::Rows { .. } if s.columns.is_empty() => {
            if row_count > 1 {
                return Err(Error::Query(
                    "a multi-row INSERT needs at least one column that is not auto-increment"
                        .into(),
                ));
            }
            w.push(dialect.empty_insert());
        }
        InsertSource::Rows { values, .. } => {
            w.columns(&s.columns)?;
            w.push(" VALUES ");
            w.placeholder_rows(s.columns.len(), row_count);
            match taken {
                Taken::Values(values) if w.params.is_empty() => w.params = values,
                Taken::Values(values) => w.params.extend(values),
                _ => w.params.extend_from_slice(values),
            }
        }
        InsertSource::Values(rows) => {
            w.columns(&s.columns)?;
            w.push(" VALUES ");
            // Room for every row's placeholders up front: a 1,000-row insert otherwise
            // grows the text a dozen times. (`($123, $124), ` is about 8 bytes a value.)
            let values = row_count * s.columns.len();
            w.sql.reserve(values * 8 + row_count * 4);
            w.params.reserve(values);
            match taken {
                Taken::Nodes(owned) => {
                    for (i, row) in owned.into_iter().enumerate() {
                        if i > 0 {
                            w.push(", ");
                        }
                        write_owned_row(&mut w, row)?;
                    }
                }
                _ => w.list(rows, |w, row| {
                    w.push("(");
                    w.list(row, |w, e| w.expr(e))?;
                    w.push(")");
                    Ok(())
                })?,
            }
        }
        InsertSource::Select(query) => {
            w.columns(&s.columns)?;
            w.push(" ");
            w.select(query)?;
        }
    }
    if let Some(conflict) = &s.on_conflict {
        upsert(&mut w, &s.columns, &conflict.target, &conflict.action)?;
    }
    w.returning(&s.returning)?;
    w.finish()
}

fn upsert(
    w: &mut Writer<'_>,
    columns: &[&'static str],
    target: &[&'static str],
    action: &ConflictAction,
) -> Result<()> {
    match w.dialect.upsert_style() {
        UpsertStyle::OnConflict => {
            w.push(" ON CONFLICT");
            if !target.is_empty() {
                w.columns(target)?;
            }
            match action {
                ConflictAction::Update(cols) if !cols.is_empty() => {
                    if target.is_empty() {
                        return Err(Error::Query(format!(
                            "{} needs the conflicting unique columns to update on conflict",
                            w.dialect.name()
                        )));
                    }
                    w.push(" DO UPDATE SET ");
                    w.list(cols, |w, c| {
                        w.ident(c);
                        w.push(" = EXCLUDED.");
                        w.ident(c);
                        Ok(())
                    })?;
                }
                _ => w.push(" DO NOTHING"),
            }
        }
        UpsertStyle::OnDuplicateKey => {
            w.push(" ON DUPLICATE KEY UPDATE ");
            match action {
                ConflictAction::Update(cols) if !cols.is_empty() => {
                    w.list(cols, |w, c| {
                        w.ident(c);
                        w.push(" = VALUES(");
                        w.ident(c);
                        w.push(")");
                        Ok(())
                    })?;
                }
                _ => {
                    // A no-op assignment: the row is kept and reported as unchanged.
                    let first = target.first().or(columns.first()).ok_or_else(|| {
                        Error::Query("INSERT ... ON DUPLICATE KEY needs a column".into())
                    })?;
                    w.ident(first);
                    w.push(" = ");
                    w.ident(first);
                }
            }
        }
    }
    Ok(())
}
