use orm_derive::Model;

#[derive(Model)]
struct Membership {
    #[orm(primary_key)]
    user_id: i64,
    #[orm(primary_key)]
    group_id: i64,
}

fn main() {}
