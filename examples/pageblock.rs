//! The seed's high-level API walk-through with PageBlock: create_or_get, get, update,
//! atomic, select with a filter, delete.

mod common;

use orm_manager::prelude::*;

#[derive(Model, Debug)]
#[orm(table = "page_block")]
struct PageBlock {
    #[orm(primary_key, auto)]
    id: i64,
    #[orm(unique, max_length = 40)]
    key: String,
    #[orm(default = "''")]
    text: String,
}

struct Walkthrough;

impl common::Example for Walkthrough {
    fn run<D: Database>(self, database: D) -> Result<(), Error> {
        PageBlock::create_table(&database, true)?; // sync, like plain peewee
        let objects = Manager::new(database.clone());
        database.set_allow_sync(SyncPolicy::Deny);

        common::runtime().block_on(async {
            // Add a new page block.
            let (_, created) = objects.create_or_get(PageBlock::new("title", "Peewee is AWESOME with async!")).await?;
            assert!(created);
            // Get one by key.
            let mut title: PageBlock = objects.get(PageBlock::KEY.eq("title")).await?;
            println!("Was: {}", title.text);
            // Save with new text.
            title.text = "Peewee is SUPER awesome with async!".into();
            objects.update(&mut title).await?;
            println!("New: {}", title.text);

            objects
                .atomic(|tx| async move {
                    tx.create(PageBlock::new(
                        "intro",
                        "There are more things in heaven and earth, Horatio, than are dreamt of in your philosophy.",
                    ))
                    .await?;
                    tx.create(PageBlock::new("signature", "William Shakespeare")).await?;
                    Ok::<_, Error>(())
                })
                .await?;

            let shakespeare: Vec<PageBlock> = objects
                .execute(PageBlock::select().where_(PageBlock::TEXT.contains("shakespeare")).order_by(PageBlock::ID.desc()))
                .await?;
            assert_eq!(shakespeare.len(), 1);
            assert_eq!(objects.count_ignoring_limit(PageBlock::select()).await?, 3);
            let stored: PageBlock = objects.get(PageBlock::ID.eq(title.id)).await?;
            assert_eq!(stored.text, "Peewee is SUPER awesome with async!");
            objects.delete(&stored).await?;
            Ok::<_, Error>(())
        })?;

        let _sync = objects.allow_sync();
        PageBlock::drop_table(&database, true)
    }
}

fn main() -> Result<(), Error> {
    common::run("pageblock", Walkthrough)
}
