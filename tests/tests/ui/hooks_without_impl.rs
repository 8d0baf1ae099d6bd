use orm_core::Model;
use orm_derive::Model;

#[derive(Model)]
#[orm(hooks)]
struct Article {
    #[orm(primary_key, auto)]
    id: i64,
}

fn main() {
    let _ = Article::select();
}
