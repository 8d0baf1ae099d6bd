//! Mixing sync and async: set-up code stays blocking, the service runs async, and the
//! sync guard catches blocking calls where they do not belong.

mod common;

use orm_manager::prelude::*;

#[derive(Model, Debug, Clone)]
struct Counter {
    #[orm(primary_key, max_length = 40)]
    name: String,
    hits: i64,
}

struct Mixed;

impl common::Example for Mixed {
    fn run<D: Database>(self, database: D) -> Result<(), Error> {
        // Sync set-up: migrations and seed data need no runtime.
        Counter::create_table(&database, true)?;
        Counter::insert_many(&[Counter::new("home", 0), Counter::new("about", 0)])
            .execute_sync(&database)?;

        let objects = Manager::new(database.clone());
        database.set_allow_sync(SyncPolicy::Deny);

        let hits = common::runtime().block_on(async {
            // Many tasks bump counters concurrently with `SET hits = hits + 1`.
            let tasks: Vec<_> = (0..20)
                .map(|i| {
                    let objects = objects.clone();
                    let page = if i % 2 == 0 { "home" } else { "about" };
                    tokio::spawn(async move {
                        let bump = Counter::update()
                            .set(Counter::HITS, Counter::HITS + 1)
                            .where_(Counter::NAME.eq(page));
                        objects.execute(bump).await
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("task")?;
            }
            // A blocking call inside the service is refused, not a hidden stall.
            let refused = Counter::select().fetch_all_sync(objects.database());
            assert!(matches!(refused, Err(Error::SyncNotAllowed(_))));
            objects
                .scalar(Counter::select().columns(sum(Counter::HITS)))
                .await
        })?;
        println!("total hits: {hits:?}");
        assert_eq!(hits, Some(Some(20)));

        // Back to sync for the report and the clean-up.
        let _sync = objects.allow_sync();
        for counter in Counter::select()
            .order_by(Counter::NAME)
            .fetch_all_sync(&database)?
        {
            println!("{}: {}", counter.name, counter.hits);
        }
        Counter::drop_table(&database, true)
    }
}

fn main() -> Result<(), Error> {
    common::run("mixed", Mixed)
}
