use orm_derive::Model;

#[derive(Model)]
struct Article {
    #[orm(primary_key, auto)]
    id: i64,
    #[orm(version)]
    version: String,
    #[orm(created_at)]
    created_at: i64,
    #[orm(soft_delete)]
    deleted_at: chrono::NaiveDateTime,
}

fn main() {}
