use orm_core::{ExprExt, Model};
use orm_derive::Model;
use orm_manager::{Manager, SqliteDatabase};

#[derive(Model)]
struct User {
    #[orm(primary_key, auto)]
    id: i64,
    name: String,
}

#[derive(Model)]
struct Post {
    #[orm(primary_key, auto)]
    id: i64,
    #[orm(references = User)]
    author_id: i64,
    title: String,
}

async fn get(objects: Manager<SqliteDatabase>) {
    let _ = objects.get::<User, _>(Post::TITLE.eq("x")).await;
}

fn main() {
    let _ = User::select().where_(Post::TITLE.eq("x"));
    let _ = User::select().join::<Post>().where_(Post::TITLE.eq("x")); // joined: fine
    let _ = User::update().set(User::NAME, "y").where_(Post::ID.eq(1));
}
