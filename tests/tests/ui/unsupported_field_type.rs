use orm_derive::Model;

struct Address {
    street: String,
}

#[derive(Model)]
struct Customer {
    #[orm(primary_key, auto)]
    id: i64,
    address: Address,
}

fn main() {}
