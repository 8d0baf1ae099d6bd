use orm_derive::Model;

struct Account {
    id: i64,
}

#[derive(Model)]
struct Invoice {
    #[orm(primary_key, auto)]
    id: i64,
    #[orm(references = Account)]
    account_id: i64,
}

fn main() {}
