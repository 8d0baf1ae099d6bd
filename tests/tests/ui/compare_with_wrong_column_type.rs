use orm_core::ExprExt;
use orm_derive::Model;

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
}

fn main() {
    let _ = User::NAME.eq(Post::ID);
}
