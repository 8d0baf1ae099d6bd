//! This ORM, through the same public API a user writes: typed queries, `prefetch`,
//! `insert_many`, streams. Generic over the database, so one implementation serves
//! PostgreSQL and MariaDB, single connection or pool.

use futures_util::TryStreamExt;
use orm_manager::prelude::*;

use crate::contender::{Lookups, Tree, Workloads};
use crate::models::{Comment, NewUser, Post, User};

#[derive(Clone)]
pub struct Orm<D: Database> {
    objects: Manager<D>,
}

impl<D: Database> Orm<D> {
    pub fn new(db: D) -> Self {
        Orm {
            objects: Manager::new(db),
        }
    }

    pub fn database(&self) -> &D {
        self.objects.database()
    }
}

impl<D: Database> Workloads for Orm<D> {
    const NAME: &'static str = "this ORM (async)";

    async fn trivial(&self, limit: i64) -> usize {
        let users = User::select()
            .limit(limit as u64)
            .fetch_all(self.database())
            .await
            .expect("trivial");
        users.len()
    }

    async fn left_join(&self, max_id: i64) -> usize {
        let rows: Vec<(User, Option<Post>)> = User::select()
            .left_join::<Post>()
            .where_(User::ID.le(max_id))
            .fetch_all(self.database())
            .await
            .expect("left join");
        rows.len()
    }

    async fn associations(&self, max_id: i64) -> Tree {
        let users = self
            .objects
            .prefetch(
                User::select().where_(User::ID.le(max_id)),
                (Post::select(), Comment::select()),
            )
            .await
            .expect("prefetch");
        let posts: Vec<&Post> = users
            .rows()
            .iter()
            .flat_map(|u| users.related::<Post, _>(u))
            .collect();
        let comments: usize = posts
            .iter()
            .map(|p| users.related::<Comment, _>(*p).len())
            .sum();
        (users.rows().len(), posts.len(), comments)
    }

    async fn insert(&self, users: &[NewUser]) {
        let n = NewUser::insert_many(users)
            .execute(self.database())
            .await
            .expect("insert");
        assert_eq!(n, users.len() as u64);
    }

    async fn bulk_insert(&self, users: &[NewUser]) {
        let n = self.objects.bulk_insert(users).await.expect("bulk insert");
        assert_eq!(n, users.len() as u64);
    }

    async fn stream(&self) -> usize {
        let q = raw_query::<User>("SELECT id, name, hair_color FROM bench_stream", vec![]);
        let mut rows = q.stream(self.database());
        let mut n = 0;
        while let Some(u) = rows.try_next().await.expect("row") {
            n += usize::from(u.id > 0);
        }
        n
    }
}

impl<D: Database> Lookups for Orm<D> {
    const NAME: &'static str = "this ORM (pooled)";

    async fn lookup(&self, id: i64) -> i64 {
        User::select()
            .where_(User::ID.eq(id))
            .fetch_one(self.database())
            .await
            .expect("lookup")
            .id
    }
}
