//! Runs the workloads through each implementation and records a row per measurement.
//! Every implementation must load the same number of rows as the first (the raw driver).

use std::cell::Cell;
use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};

use crate::contender::{Lookups, Workloads};
use crate::harness::{iterations, median, Row};
use crate::models;

/// Rows in the bulk load.
pub const BULK_ROWS: usize = 100_000;

pub struct Runner<'r, T> {
    pub backend: &'static str,
    pub rows: &'r mut Vec<Row>,
    /// Empties `bench_new_users` between insert workloads.
    pub truncate: T,
    expected: HashMap<String, String>,
}

impl<'r, T, F> Runner<'r, T>
where
    T: Fn() -> F,
    F: Future<Output = usize>,
{
    pub fn new(backend: &'static str, rows: &'r mut Vec<Row>, truncate: T) -> Self {
        Runner {
            backend,
            rows,
            truncate,
            expected: HashMap::new(),
        }
    }

    fn record(&mut self, workload: &str, name: &'static str, time: Duration, loaded: String) {
        let expected = self
            .expected
            .entry(workload.to_owned())
            .or_insert_with(|| loaded.clone());
        assert_eq!(
            *expected, loaded,
            "{name} loaded different rows for {workload}"
        );
        self.rows.push(Row::new(self.backend, workload, name, time));
    }

    /// Every sequential workload through `c`.
    pub async fn sequential<C: Workloads>(&mut self, c: &C) {
        for n in [1i64, 100, 10_000] {
            let (w, it) = iterations(n as usize);
            let loaded = Cell::new(0);
            let t = median(w, it, || async { loaded.set(c.trivial(n).await) }).await;
            assert_eq!(loaded.get(), n as usize);
            let workload = format!("trivial query, {n} rows");
            self.record(&workload, C::NAME, t, loaded.get().to_string());
        }
        for n in [1i64, 100, 1000] {
            let (w, it) = iterations(n as usize);
            let loaded = Cell::new(0);
            let t = median(w, it, || async { loaded.set(c.left_join(n).await) }).await;
            let workload = format!("users LEFT JOIN posts, {n} users");
            self.record(&workload, C::NAME, t, loaded.get().to_string());
        }
        let (w, it) = iterations(100);
        let tree = Cell::new((0, 0, 0));
        let t = median(w, it, || async { tree.set(c.associations(100).await) }).await;
        assert_eq!(tree.get().0, 100);
        let loaded = format!("{:?}", tree.get());
        self.record("100 users + posts + comments", C::NAME, t, loaded);

        for n in [1usize, 100, 1000] {
            (self.truncate)().await;
            let users = models::users(n);
            let (w, it) = iterations(n);
            let t = median(w, it, || c.insert(&users)).await;
            let stored = (self.truncate)().await;
            assert_eq!(stored, n * (w + it), "{} stored every row", C::NAME);
            self.record(&format!("insert {n} users"), C::NAME, t, String::new());
        }

        let users = models::users(BULK_ROWS);
        let mut times = Vec::new();
        for _ in 0..5 {
            (self.truncate)().await;
            let start = Instant::now();
            c.bulk_insert(&users).await;
            times.push(start.elapsed());
            assert_eq!((self.truncate)().await, BULK_ROWS);
        }
        times.sort();
        let workload = format!("bulk load {BULK_ROWS} users");
        self.record(&workload, C::NAME, times[times.len() / 2], String::new());
    }

    /// Concurrent point lookups: 64 tasks x 200 lookups through a pool of 8.
    pub async fn lookups<L: Lookups>(&mut self, pool: L) {
        let (tasks, per_task) = (64usize, 200i64);
        let start = Instant::now();
        let handles: Vec<_> = (0..tasks)
            .map(|t| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    for i in 0..per_task {
                        let id = (t as i64 * per_task + i) % 10_000 + 1;
                        assert_eq!(pool.lookup(id).await, id);
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.expect("lookup task");
        }
        let elapsed = start.elapsed();
        let ops = tasks * per_task as usize;
        let mut row = Row::new(
            self.backend,
            "concurrent point lookups (64 tasks x 200, pool 8)",
            L::NAME,
            elapsed / ops as u32,
        );
        row.note = format!("{:.0} queries/s", ops as f64 / elapsed.as_secs_f64());
        self.rows.push(row);
    }
}
