//! SeaORM, written as its documentation suggests: entities, `find` / `find_also_related`,
//! the loader (`load_many`) for associations, `insert_many` and `stream`. Its connection
//! is always a pool; the sequential workloads use a pool of one.

use futures_util::TryStreamExt;
use sea_orm::entity::prelude::*;
use sea_orm::{
    ActiveValue::Set, ConnectOptions, Database, DatabaseConnection, QuerySelect, TransactionTrait,
};

use crate::contender::{Lookups, Tree, Workloads};
use crate::models::NewUser;

pub mod user {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "bench_users")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub hair_color: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::post::Entity")]
        Post,
    }

    impl Related<super::post::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Post.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod post {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "bench_posts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub user_id: i64,
        pub title: String,
        pub body: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::user::Entity",
            from = "Column::UserId",
            to = "super::user::Column::Id"
        )]
        User,
        #[sea_orm(has_many = "super::comment::Entity")]
        Comment,
    }

    impl Related<super::user::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::User.def()
        }
    }

    impl Related<super::comment::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Comment.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod comment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "bench_comments")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub post_id: i64,
        pub text: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::post::Entity",
            from = "Column::PostId",
            to = "super::post::Column::Id"
        )]
        Post,
    }

    impl Related<super::post::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Post.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod new_user {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "bench_new_users")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub hair_color: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod stream_user {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "bench_stream")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub hair_color: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A SeaORM connection (a pool of `size`); the same code for PostgreSQL and MariaDB.
#[derive(Clone)]
pub struct SeaOrm(DatabaseConnection);

impl SeaOrm {
    pub async fn connect(url: &str, size: u32) -> Self {
        let mut options = ConnectOptions::new(url);
        options
            .max_connections(size)
            .min_connections(size)
            .sqlx_logging(false);
        SeaOrm(Database::connect(options).await.expect("seaorm connect"))
    }

    fn active(users: &[NewUser]) -> impl Iterator<Item = new_user::ActiveModel> + '_ {
        users.iter().map(|u| new_user::ActiveModel {
            name: Set(u.name.clone()),
            hair_color: Set(u.hair_color.clone()),
            ..Default::default()
        })
    }
}

impl Workloads for SeaOrm {
    const NAME: &'static str = "SeaORM";

    async fn trivial(&self, limit: i64) -> usize {
        let users = user::Entity::find()
            .limit(limit as u64)
            .all(&self.0)
            .await
            .expect("trivial");
        users.len()
    }

    async fn left_join(&self, max_id: i64) -> usize {
        let pairs: Vec<(user::Model, Option<post::Model>)> = user::Entity::find()
            .find_also_related(post::Entity)
            .filter(user::Column::Id.lte(max_id))
            .all(&self.0)
            .await
            .expect("left join");
        pairs.len()
    }

    async fn associations(&self, max_id: i64) -> Tree {
        let users = user::Entity::find()
            .filter(user::Column::Id.lte(max_id))
            .all(&self.0)
            .await
            .expect("users");
        let posts: Vec<post::Model> = users
            .load_many(post::Entity, &self.0)
            .await
            .expect("posts")
            .into_iter()
            .flatten()
            .collect();
        let comments: Vec<comment::Model> = posts
            .load_many(comment::Entity, &self.0)
            .await
            .expect("comments")
            .into_iter()
            .flatten()
            .collect();
        crate::contender::group(users.len(), &posts, |p| p.user_id, &comments, |c| c.post_id)
    }

    async fn insert(&self, users: &[NewUser]) {
        let done = new_user::Entity::insert_many(Self::active(users))
            .exec_without_returning(&self.0)
            .await
            .expect("insert");
        assert_eq!(done, users.len() as u64);
    }

    async fn bulk_insert(&self, users: &[NewUser]) {
        let tx = self.0.begin().await.expect("begin");
        for chunk in users.chunks(10_000) {
            new_user::Entity::insert_many(Self::active(chunk))
                .exec_without_returning(&tx)
                .await
                .expect("bulk insert");
        }
        tx.commit().await.expect("commit");
    }

    async fn stream(&self) -> usize {
        let mut rows = stream_user::Entity::find()
            .stream(&self.0)
            .await
            .expect("stream");
        let mut n = 0;
        while let Some(u) = rows.try_next().await.expect("row") {
            n += usize::from(u.id > 0);
        }
        n
    }
}

impl Lookups for SeaOrm {
    const NAME: &'static str = "SeaORM (pool)";

    async fn lookup(&self, id: i64) -> i64 {
        user::Entity::find_by_id(id)
            .one(&self.0)
            .await
            .expect("lookup")
            .map_or(0, |u| u.id)
    }
}
