use orm_core::ExprExt;
use orm_derive::Model;

#[derive(Model)]
struct User {
    #[orm(primary_key, auto)]
    id: i64,
    name: String,
}

fn main() {
    let _ = User::ID.eq("seven");
}
