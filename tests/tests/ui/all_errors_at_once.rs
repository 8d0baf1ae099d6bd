use orm_derive::Model;

#[derive(Model)]
#[orm(unique(nme))]
struct Customer {
    #[orm(primary_key, auto)]
    id: i64,
    #[orm(primary_key)]
    code: String,
    #[orm(colour = "red")]
    name: String,
    #[orm(auto)]
    rank: i32,
}

fn main() {}
