// A held connection's transaction state belongs to the runtime: user code cannot mark a
// connection that is inside a transaction as clean and hand it to the next pool user.
use orm_core::Database;
use orm_sqlite::SqliteDatabase;

async fn misuse(db: SqliteDatabase) {
    let conn = db.acquire().await.unwrap();
    conn.set_dirty(false);
}

fn main() {
    let _ = misuse;
}
