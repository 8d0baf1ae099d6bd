use orm_derive::Model;

#[derive(Model)]
struct Customer {
    #[orm(primary_key, auto)]
    id: String,
    #[orm(max_length = 10)]
    age: i32,
}

fn main() {}
