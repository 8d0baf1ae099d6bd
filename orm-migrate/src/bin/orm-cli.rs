//! `orm-cli migrate up|down|status` on the database `DATABASE_URL` names, from the
//! migration files. (`generate` needs the service's models: run it from a binary of the
//! service's crate that calls `orm_migrate::cli::main()`.)

fn main() {
    orm_migrate::cli::main()
}
