use orm_derive::Model;

#[derive(Model)]
struct Customer {
    #[orm(primary_key)]
    id: i64,
    name: String,
    #[orm(column = "name")]
    display_name: String,
}

fn main() {}
