//! What every implementation in the bench does: the same workloads, each written the way
//! its library is meant to be used. Each method returns what it loaded (row counts) so the
//! runner can check every implementation did the same work.

use std::future::Future;

use crate::models::NewUser;

/// Rows loaded by the associations workload: (users, posts, comments).
pub type Tree = (usize, usize, usize);

/// The sequential workloads, on one connection (or the library's pool of one, where it
/// has no other way).
pub trait Workloads: Send + Sync + 'static {
    /// The implementation's name in the report.
    const NAME: &'static str;

    /// `SELECT` every column of `limit` users into structs.
    fn trivial(&self, limit: i64) -> impl Future<Output = usize> + Send;

    /// Users with `id <= max_id` LEFT JOIN their posts, into (user, optional post).
    fn left_join(&self, max_id: i64) -> impl Future<Output = usize> + Send;

    /// Users with `id <= max_id`, their posts and the posts' comments, grouped in memory.
    fn associations(&self, max_id: i64) -> impl Future<Output = Tree> + Send;

    /// The users in one INSERT statement.
    fn insert(&self, users: &[NewUser]) -> impl Future<Output = ()> + Send;

    /// Loads many users by the library's fastest way (as many statements as it needs).
    fn bulk_insert(&self, users: &[NewUser]) -> impl Future<Output = ()> + Send;

    /// Reads every row of `bench_stream` one at a time; returns how many.
    fn stream(&self) -> impl Future<Output = usize> + Send;
}

/// Point lookups through the library's usual pool, from many tasks at once.
pub trait Lookups: Clone + Send + Sync + 'static {
    /// The implementation's name in the report.
    const NAME: &'static str;

    /// `SELECT ... WHERE id = $1`; returns the id it found.
    fn lookup(&self, id: i64) -> impl Future<Output = i64> + Send;
}

/// Groups comments by post and posts by user, in memory, as every implementation's
/// associations workload does; returns how many of each were loaded.
pub fn group<P, C>(
    users: usize,
    posts: &[P],
    user_of: impl Fn(&P) -> i64,
    comments: &[C],
    post_of: impl Fn(&C) -> i64,
) -> Tree {
    use std::collections::HashMap;
    let mut by_post: HashMap<i64, Vec<&C>> = HashMap::new();
    for c in comments {
        by_post.entry(post_of(c)).or_default().push(c);
    }
    let mut by_user: HashMap<i64, Vec<&P>> = HashMap::new();
    for p in posts {
        by_user.entry(user_of(p)).or_default().push(p);
    }
    (
        users,
        by_user.values().map(Vec::len).sum::<usize>(),
        by_post.values().map(Vec::len).sum::<usize>(),
    )
}
