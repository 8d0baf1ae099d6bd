use orm_derive::Model;

#[derive(Model)]
struct Article {
    #[orm(primary_key, auto, version)]
    id: i64,
    #[orm(version, created_at)]
    version: i32,
    #[orm(version)]
    other_version: i32,
}

fn main() {}
