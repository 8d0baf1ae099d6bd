use orm_core::Model as _;
use orm_derive::Model;

#[derive(Model)]
struct User {
    #[orm(primary_key, auto)]
    id: i64,
    age: i32,
}

fn main() {
    let _ = User::update().set(User::AGE, "old");
}
