//! A minimal `tracing` subscriber that records what was logged, for tests that check the
//! query spans and the sync guard's log lines.

use std::fmt::Write;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// One recorded span or event: its level, name and fields as `name=value` text.
#[derive(Debug, Clone)]
pub struct Line {
    /// The level.
    pub level: Level,
    /// The span or event name.
    pub name: String,
    /// The fields, `name=value` separated by spaces.
    pub fields: String,
}

/// Records every span and event at any level.
#[derive(Clone, Default)]
pub struct Capture {
    lines: Arc<Mutex<Vec<Line>>>,
}

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, "{}={} ", field.name(), value);
    }
}

impl Capture {
    /// Everything recorded so far.
    pub fn lines(&self) -> Vec<Line> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Runs `f` with this subscriber as the thread's default.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        tracing::subscriber::with_default(self.clone(), f)
    }

    fn push(&self, level: Level, name: &str, fields: String) {
        if let Ok(mut lines) = self.lines.lock() {
            lines.push(Line {
                level,
                name: name.to_owned(),
                fields,
            });
        }
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut fields = String::new();
        span.record(&mut Fields(&mut fields));
        self.push(*span.metadata().level(), span.metadata().name(), fields);
        let n = self.lines.lock().map(|l| l.len()).unwrap_or(1);
        Id::from_u64(n as u64)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut fields = String::new();
        values.record(&mut Fields(&mut fields));
        if let Ok(mut lines) = self.lines.lock() {
            if let Some(line) = lines.get_mut(span.into_u64() as usize - 1) {
                line.fields.push_str(&fields);
            }
        }
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = String::new();
        event.record(&mut Fields(&mut fields));
        self.push(*event.metadata().level(), event.metadata().name(), fields);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}
