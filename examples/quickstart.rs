//! The seed's quickstart: sync set-up, async work through the Manager, sync clean-up.
//!
//! ```sh
//! cargo run --example quickstart                                   # SQLite, no server
//! DATABASE_URL=postgres://postgres@127.0.0.1/test cargo run --example quickstart
//! DATABASE_URL=mysql://root@127.0.0.1/test cargo run --example quickstart
//! ```

mod common;

use orm_manager::prelude::*;

// Nothing special, just define the model.
#[derive(Model, Debug)]
struct TestModel {
    #[orm(primary_key, auto)]
    id: i64,
    text: String,
}

struct Quickstart;

impl common::Example for Quickstart {
    fn run<D: Database>(self, database: D) -> Result<(), Error> {
        // Look, sync code is working!
        TestModel::create_table(&database, true)?;
        TestModel::new("Yo, I can do it sync!")
            .insert()
            .execute_sync(&database)?;
        database.close_sync();

        // Create the async models manager; no need for sync any more.
        let objects = Manager::new(database.clone());
        database.set_allow_sync(SyncPolicy::Deny);

        let texts = common::runtime().block_on(async {
            objects
                .create(TestModel::new("Not bad. Watch this, I'm async!"))
                .await?;
            let all_objects = objects
                .execute(TestModel::select().order_by(TestModel::ID))
                .await?;
            for obj in &all_objects {
                println!("{}", obj.text);
            }
            Ok::<_, Error>(all_objects.into_iter().map(|o| o.text).collect::<Vec<_>>())
        })?;
        assert_eq!(
            texts,
            ["Yo, I can do it sync!", "Not bad. Watch this, I'm async!"]
        );

        // Clean up, can do it sync again.
        let _sync = objects.allow_sync();
        TestModel::drop_table(&database, true)
    }
}

fn main() -> Result<(), Error> {
    common::run("quickstart", Quickstart)
}
