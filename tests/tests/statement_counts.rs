//! Statements counted through their tracing spans. The capture is a thread's default
//! subscriber, and tracing caches per call site whether anyone listens; other tests
//! running at the same time could make that cache miss spans, so these checks run alone,
//! one after the other, in this binary.

use orm_core::*;
use orm_manager::Manager;
use orm_postgres::PooledPostgresqlDatabase;
use orm_sqlite::PooledSqliteDatabase;
use orm_tests::harness::{pg_config, sqlite_config};
use orm_tests::models::User;

#[test]
fn prefetch_statement_counts() {
    a_thousand_parents_with_two_relations_cost_three_statements();
    large_key_lists_are_chunked_under_the_bind_parameter_limit();
}

fn a_thousand_parents_with_two_relations_cost_three_statements() {
    let db = PooledPostgresqlDatabase::new(pg_config("prefetch_count")).expect("pool");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let objects = orm_manager::Manager::new(db.clone());
    rt.block_on(async {
        for model in [
            orm_tests::models::User::create_table_async(&db, false).await,
            orm_tests::models::Post::create_table_async(&db, false).await,
            orm_tests::models::Comment::create_table_async(&db, false).await,
        ] {
            model.expect("create");
        }
        orm_tests::manager_suite::seed_relations(&objects, 1000, 1, 2).await;
    });
    let capture = orm_tests::capture::Capture::default();
    let result = capture.run(|| {
        rt.block_on(objects.prefetch(
            User::select(),
            (
                orm_tests::models::Post::select(),
                orm_tests::models::Comment::select(),
            ),
        ))
    });
    let result = result.expect("prefetch");
    let statements = capture
        .lines()
        .into_iter()
        .filter(|l| l.name == "orm.query")
        .count();
    assert_eq!(
        statements, 3,
        "one query for the users and one per relation"
    );
    assert_eq!(result.rows().len(), 1000);
    let comments: usize = result
        .rows()
        .iter()
        .flat_map(|u| result.related::<orm_tests::models::Post, _>(u))
        .map(|p| result.related::<orm_tests::models::Comment, _>(p).len())
        .sum();
    assert_eq!(comments, 2000, "reached without another query");
}

fn large_key_lists_are_chunked_under_the_bind_parameter_limit() {
    use orm_tests::models::Post;
    let db = PooledSqliteDatabase::new(sqlite_config("prefetch_chunks")).expect("open");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let objects = Manager::new(db.clone());
    let parents = orm_manager::KEYS_PER_QUERY + 1000;
    rt.block_on(async {
        User::create_table_async(&db, false).await.expect("create");
        Post::create_table_async(&db, false).await.expect("create");
        let users: Vec<User> = (0..parents)
            .map(|i| User::new(format!("u{i}"), 1, None))
            .collect();
        for chunk in users.chunks(5000) {
            User::insert_many(chunk).execute(&db).await.expect("users");
        }
        let ids: Vec<i64> = User::select()
            .columns(User::ID)
            .fetch_all(&db)
            .await
            .expect("ids");
        let posts: Vec<Post> = ids.iter().map(|id| Post::new(*id, "p", 0.0)).collect();
        for chunk in posts.chunks(5000) {
            Post::insert_many(chunk).execute(&db).await.expect("posts");
        }
    });
    let capture = orm_tests::capture::Capture::default();
    let result = capture
        .run(|| rt.block_on(objects.prefetch(User::select(), (Post::select(),))))
        .expect("prefetch");
    let statements = capture
        .lines()
        .into_iter()
        .filter(|l| l.name == "orm.query")
        .count();
    assert_eq!(statements, 3, "the users, then the posts in two chunks");
    assert!(result
        .rows()
        .iter()
        .all(|u| result.related::<Post, _>(u).len() == 1));
}
