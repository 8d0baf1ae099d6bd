use orm_derive::Model;

#[derive(Model)]
struct Customer {
    #[orm(primary_key)]
    id: i64,
    #[orm(max_length = "forty")]
    name: String,
    #[orm(references = User, on_delete = "explode")]
    owner_id: i64,
}

fn main() {}
