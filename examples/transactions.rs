//! The seed's transaction example: an error inside `atomic` rolls back its work, so 'FOO'
//! stays and 'BAR' is never saved. Also a savepoint and a guard.

mod common;

use orm_manager::prelude::*;

#[derive(Model, Debug)]
struct TestModel {
    #[orm(primary_key, auto)]
    id: i64,
    #[orm(unique, max_length = 40)]
    text: String,
}

#[derive(Debug)]
enum AppError {
    Db(Error),
    Rejected(&'static str),
}

impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        AppError::Db(e)
    }
}

struct Transactions;

impl common::Example for Transactions {
    fn run<D: Database>(self, database: D) -> Result<(), Error> {
        TestModel::create_table(&database, true)?;
        let objects = Manager::new(database.clone());

        let texts = common::runtime().block_on(async {
            objects.create(TestModel::new("FOO")).await?;
            let failed = objects
                .atomic(|tx| async move {
                    tx.create(TestModel::new("BAR")).await?;
                    Err::<(), _>(AppError::Rejected("something went wrong after BAR"))
                })
                .await;
            assert!(matches!(failed, Err(AppError::Rejected(_))));

            // A failing savepoint rolls back only itself.
            objects
                .atomic(|tx| async move {
                    tx.create(TestModel::new("BAZ")).await?;
                    let inner = tx
                        .atomic(|sp| async move {
                            sp.create(TestModel::new("QUX")).await?;
                            Err::<(), _>(AppError::Rejected("inner"))
                        })
                        .await;
                    assert!(inner.is_err());
                    Ok::<_, AppError>(())
                })
                .await
                .map_err(|e| match e {
                    AppError::Db(e) => e,
                    AppError::Rejected(why) => Error::Transaction(why.into()),
                })?;

            // A guard rolls back when dropped without commit.
            let guard = objects.begin_transaction().await?;
            guard.create(TestModel::new("DROPPED")).await?;
            drop(guard);

            let rows = objects
                .execute(TestModel::select().order_by(TestModel::ID))
                .await?;
            Ok::<_, Error>(rows.into_iter().map(|r| r.text).collect::<Vec<_>>())
        })?;
        println!("{texts:?}");
        assert_eq!(texts, ["FOO", "BAZ"]);
        TestModel::drop_table(&database, true)
    }
}

fn main() -> Result<(), Error> {
    common::run("transactions", Transactions)
}
