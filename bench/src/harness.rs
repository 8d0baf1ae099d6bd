//! Timing: warm up, run many iterations, keep the median.

use std::future::Future;
use std::time::{Duration, Instant};

/// Median of `iterations` runs of `f` after `warmup` runs.
pub async fn median<F, Fut>(warmup: usize, iterations: usize, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    for _ in 0..warmup {
        f().await;
    }
    let mut times = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let start = Instant::now();
        f().await;
        times.push(start.elapsed());
    }
    times.sort();
    times[times.len() / 2]
}

/// Median of a blocking closure.
pub fn median_sync(warmup: usize, iterations: usize, mut f: impl FnMut()) -> Duration {
    for _ in 0..warmup {
        f();
    }
    let mut times = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let start = Instant::now();
        f();
        times.push(start.elapsed());
    }
    times.sort();
    times[times.len() / 2]
}

/// Iterations for a workload of `rows` rows: fewer for the big ones.
pub fn iterations(rows: usize) -> (usize, usize) {
    match rows {
        0..=10 => (50, 500),
        11..=1000 => (20, 200),
        _ => (3, 20),
    }
}

/// One measured line: workload, implementation, time (or rate).
#[derive(Debug, Clone)]
pub struct Row {
    pub backend: &'static str,
    pub workload: String,
    pub implementation: &'static str,
    /// Median time, or for throughput workloads the time per operation.
    pub time: Duration,
    pub note: String,
}

impl Row {
    pub fn new(
        backend: &'static str,
        workload: impl Into<String>,
        implementation: &'static str,
        time: Duration,
    ) -> Self {
        Row {
            backend,
            workload: workload.into(),
            implementation,
            time,
            note: String::new(),
        }
    }
}

/// Adds `row` after the last row of the same backend and workload, so a table lists an
/// implementation measured later next to the others.
pub fn insert_after(rows: &mut Vec<Row>, row: Row) {
    let at = rows
        .iter()
        .rposition(|r| r.backend == row.backend && r.workload == row.workload)
        .map_or(rows.len(), |i| i + 1);
    rows.insert(at, row);
}
