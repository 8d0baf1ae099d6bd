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
    title: String,
}

fn main() {
    let _ = User::NAME.eq("a") & Post::TITLE.eq("b");
}
