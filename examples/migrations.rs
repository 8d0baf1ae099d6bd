//! Migrations generated from the models and applied at start, on any database:
//! `generate` writes `migrations/NNNN_name.sql` when the models and the database differ
//! (reviewed, then committed with the code), and the service applies what is pending
//! when it starts.
//!
//! ```sh
//! cargo run --example migrations                                   # SQLite, no server
//! DATABASE_URL=postgres://postgres@127.0.0.1/test cargo run --example migrations
//! ```

mod common;

use orm_manager::prelude::*;
use orm_migrate::{generate, load_dir, Hints};

#[derive(Model, Debug)]
#[orm(table = "shop_customer")]
struct Customer {
    #[orm(primary_key, auto)]
    id: i64,
    #[orm(unique, max_length = 80)]
    email: String,
}

#[derive(Model, Debug)]
#[orm(table = "shop_order")]
struct Order {
    #[orm(primary_key, auto)]
    id: i64,
    #[orm(references = Customer, on_delete = "cascade")]
    customer_id: i64,
    #[orm(default = "0")]
    cents: i64,
}

struct Migrations;

impl common::Example for Migrations {
    fn run<D: Database>(self, database: D) -> Result<(), Error> {
        let dir =
            std::env::temp_dir().join(format!("orm-example-migrations-{}", std::process::id()));
        let models = [Customer::TABLE, Order::TABLE];
        common::runtime().block_on(async {
            // Development: the models changed, so write the migration that follows them.
            let written = generate(&database, &dir, "shop", &models, &Hints::new(), false).await?;
            println!("generated {written:?}");

            // Service start: apply what is pending, once, even with several instances.
            let applied = orm_migrate::up(&database, &load_dir(&dir)?, |version| {
                println!("applying {version}")
            })
            .await?;
            println!("applied {applied:?}");

            let objects = Manager::new(database.clone());
            let ann = objects.create(Customer::new("ann@example.com")).await?;
            objects.create(Order::new(ann.id, 1250)).await?;
            let nothing = generate(&database, &dir, "again", &models, &Hints::new(), false).await?;
            assert_eq!(nothing, None, "the database follows the models");

            // Undone again, so that the example leaves the database as it found it.
            orm_migrate::down(&database, &load_dir(&dir)?, 1, |_| {}).await?;
            objects
                .execute_raw("DROP TABLE orm_migrations", vec![])
                .await?;
            let _ = std::fs::remove_dir_all(&dir);
            Ok(())
        })
    }
}

fn main() -> Result<(), Error> {
    common::run("migrations", Migrations)
}
