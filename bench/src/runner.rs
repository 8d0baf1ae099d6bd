//! Runs the workloads through every implementation and records a row per measurement.
//!
//! Implementations take turns: each workload runs in rounds, every implementation doing a
//! share of its iterations per round, so a slow phase of the machine (a checkpoint, the
//! other core busy) lands on all of them rather than on whichever ran then. Every
//! implementation must load the same rows as the first (the raw driver).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::contender::{Lookups, Tree, Workloads};
use crate::harness::{iterations, Row};
use crate::models::{self, NewUser};

/// Rows in the bulk load.
pub const BULK_ROWS: usize = 100_000;
/// Turns per workload.
const ROUNDS: usize = 5;

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// [`Workloads`] as a trait object, so implementations can take turns in one loop.
pub trait Sequential: Send + Sync {
    fn name(&self) -> &'static str;
    fn trivial(&self, limit: i64) -> Boxed<'_, usize>;
    fn left_join(&self, max_id: i64) -> Boxed<'_, usize>;
    fn associations(&self, max_id: i64) -> Boxed<'_, Tree>;
    fn insert<'a>(&'a self, users: &'a [NewUser]) -> Boxed<'a, ()>;
    fn bulk_insert<'a>(&'a self, users: &'a [NewUser]) -> Boxed<'a, ()>;
}

impl<C: Workloads> Sequential for C {
    fn name(&self) -> &'static str {
        C::NAME
    }
    fn trivial(&self, limit: i64) -> Boxed<'_, usize> {
        Box::pin(Workloads::trivial(self, limit))
    }
    fn left_join(&self, max_id: i64) -> Boxed<'_, usize> {
        Box::pin(Workloads::left_join(self, max_id))
    }
    fn associations(&self, max_id: i64) -> Boxed<'_, Tree> {
        Box::pin(Workloads::associations(self, max_id))
    }
    fn insert<'a>(&'a self, users: &'a [NewUser]) -> Boxed<'a, ()> {
        Box::pin(Workloads::insert(self, users))
    }
    fn bulk_insert<'a>(&'a self, users: &'a [NewUser]) -> Boxed<'a, ()> {
        Box::pin(Workloads::bulk_insert(self, users))
    }
}

/// [`Lookups`] as a trait object.
pub trait Concurrent: Send + Sync {
    fn name(&self) -> &'static str;
    fn lookup(&self, id: i64) -> Boxed<'_, i64>;
}

impl<L: Lookups> Concurrent for L {
    fn name(&self) -> &'static str {
        L::NAME
    }
    fn lookup(&self, id: i64) -> Boxed<'_, i64> {
        Box::pin(Lookups::lookup(self, id))
    }
}

pub struct Runner<'r, T> {
    pub backend: &'static str,
    pub rows: &'r mut Vec<Row>,
    /// Counts then empties `bench_new_users`.
    truncate: T,
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
        }
    }

    /// Runs `one` (which returns what it loaded) for every implementation in turns;
    /// records each one's median and checks they all loaded the same.
    async fn measure<'c, R, G>(
        &mut self,
        workload: &str,
        size: usize,
        all: &[&'c dyn Sequential],
        one: G,
    ) where
        R: PartialEq + std::fmt::Debug,
        G: Fn(&'c dyn Sequential) -> Boxed<'c, R>,
    {
        let (warmup, total) = iterations(size);
        let per_round = total.div_ceil(ROUNDS);
        let mut times: Vec<Vec<Duration>> = vec![Vec::new(); all.len()];
        let mut loaded: Vec<Option<R>> = all.iter().map(|_| None).collect();
        for round in 0..ROUNDS {
            for (i, c) in all.iter().enumerate() {
                if round == 0 {
                    for _ in 0..warmup {
                        one(*c).await;
                    }
                }
                for _ in 0..per_round {
                    let start = Instant::now();
                    let got = one(*c).await;
                    times[i].push(start.elapsed());
                    loaded[i] = Some(got);
                }
            }
        }
        for (i, c) in all.iter().enumerate() {
            assert_eq!(
                loaded[i],
                loaded[0],
                "{} loaded what the others did: {workload}",
                c.name()
            );
            times[i].sort();
            let median = times[i][times[i].len() / 2];
            self.rows
                .push(Row::new(self.backend, workload, c.name(), median));
        }
    }

    /// Every sequential workload through every implementation.
    pub async fn sequential(&mut self, all: &[&dyn Sequential]) {
        for n in [1i64, 100, 10_000] {
            let workload = format!("trivial query, {n} rows");
            self.measure(&workload, n as usize, all, |c| c.trivial(n))
                .await;
        }
        for n in [1i64, 100, 1000] {
            let workload = format!("users LEFT JOIN posts, {n} users");
            self.measure(&workload, n as usize, all, |c| c.left_join(n))
                .await;
        }
        let workload = "100 users + posts + comments";
        self.measure(workload, 100, all, |c| c.associations(100))
            .await;

        for n in [1usize, 100, 1000] {
            (self.truncate)().await;
            let users = models::users(n);
            let workload = format!("insert {n} users");
            let users = &users;
            self.measure(&workload, n, all, |c| c.insert(users)).await;
            let (warmup, total) = iterations(n);
            let runs = warmup + total.div_ceil(ROUNDS) * ROUNDS;
            let stored = (self.truncate)().await;
            assert_eq!(stored, n * runs * all.len(), "every insert stored its rows");
        }

        let users = models::users(BULK_ROWS);
        let mut times: Vec<Vec<Duration>> = vec![Vec::new(); all.len()];
        for _ in 0..ROUNDS {
            for (i, c) in all.iter().enumerate() {
                (self.truncate)().await;
                let start = Instant::now();
                c.bulk_insert(&users).await;
                times[i].push(start.elapsed());
                let stored = (self.truncate)().await;
                assert_eq!(stored, BULK_ROWS, "{} stored every row", c.name());
            }
        }
        let workload = format!("bulk load {BULK_ROWS} users");
        for (i, c) in all.iter().enumerate() {
            times[i].sort();
            let median = times[i][ROUNDS / 2];
            self.rows
                .push(Row::new(self.backend, &workload, c.name(), median));
        }
    }

    /// Concurrent point lookups, 64 tasks x 200 lookups through each pool of 8: three
    /// rounds in turns, the median round's rate.
    pub async fn lookups(&mut self, all: &[Arc<dyn Concurrent>]) {
        let (tasks, per_task) = (64usize, 200i64);
        let ops = tasks * per_task as usize;
        let mut times: Vec<Vec<Duration>> = vec![Vec::new(); all.len()];
        for _ in 0..3 {
            for (i, pool) in all.iter().enumerate() {
                let start = Instant::now();
                let handles: Vec<_> = (0..tasks)
                    .map(|t| {
                        let pool = Arc::clone(pool);
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
                times[i].push(start.elapsed());
            }
        }
        for (i, pool) in all.iter().enumerate() {
            times[i].sort();
            let elapsed = times[i][1];
            let workload = "concurrent point lookups (64 tasks x 200, pool 8)";
            let mut row = Row::new(self.backend, workload, pool.name(), elapsed / ops as u32);
            row.note = format!("{:.0} queries/s", ops as f64 / elapsed.as_secs_f64());
            self.rows.push(row);
        }
    }
}
