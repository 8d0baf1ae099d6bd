use orm_derive::Model;

#[derive(Model)]
#[orm(tabel = "customers")]
struct Customer {
    #[orm(primry_key)]
    id: i64,
}

fn main() {}
