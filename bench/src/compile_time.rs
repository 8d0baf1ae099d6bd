//! Compile time, measured from outside: the same generated application (100 models of 10
//! fields, three typical queries each, one file per model) written for this ORM, SeaORM
//! and Diesel (with diesel-async), built in debug with their dependencies already built.
//!
//! `orm-bench compile-time` writes the three crates into one workspace under
//! `bench/target/compile-time` (so shared dependencies build once), builds everything
//! once, then times, per crate and round: a clean build of the crate alone, a build after
//! one model's file changed, and a clean `cargo check`. It prints a table and writes it
//! to `bench/COMPILE_TIME.md`, which docs/BENCHMARKS.md includes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Models per crate.
const MODELS: usize = 100;
/// Rounds of each measurement; the median is reported.
const ROUNDS: usize = 3;

/// The nine fields after the key: name, Rust type, SQL type for Diesel's `table!`.
const FIELDS: [(&str, &str, &str); 9] = [
    ("title", "String", "Text"),
    ("body", "Option<String>", "Nullable<Text>"),
    ("views", "i32", "Integer"),
    ("score", "i64", "BigInt"),
    ("rating", "f64", "Double"),
    ("published", "bool", "Bool"),
    ("slug", "String", "Text"),
    ("owner", "Option<i64>", "Nullable<BigInt>"),
    ("rank", "i32", "Integer"),
];

struct Flavor {
    name: &'static str,
    title: &'static str,
    manifest: fn(&Path) -> String,
    lib: fn() -> String,
    model: fn(usize) -> String,
}

const FLAVORS: [Flavor; 3] = [
    Flavor {
        name: "ours",
        title: "this ORM",
        manifest: |repo| {
            format!(
                "[dependencies]\norm-manager = {{ path = \"{}/orm-manager\", features = [\"postgres\"] }}\n",
                repo.display()
            )
        },
        lib: || "use orm_manager::prelude::*;\n".into(),
        model: ours_model,
    },
    Flavor {
        name: "seaorm",
        title: "SeaORM 2",
        manifest: |_| {
            "[dependencies]\nsea-orm = { version = \"2\", default-features = false, features = [\"macros\", \"runtime-tokio\", \"sqlx-postgres\"] }\n".into()
        },
        lib: String::new,
        model: seaorm_model,
    },
    Flavor {
        name: "diesel",
        title: "Diesel 2 + diesel-async",
        manifest: |_| {
            "[dependencies]\ndiesel = { version = \"2.3\", default-features = false, features = [\"postgres_backend\"] }\ndiesel-async = { version = \"0.9\", features = [\"postgres\"] }\n".into()
        },
        lib: || {
            "use diesel::prelude::*;\nuse diesel_async::{AsyncPgConnection, RunQueryDsl};\n".into()
        },
        model: diesel_model,
    },
];

fn fields(out: &mut String, indent: &str) {
    for (name, ty, _) in FIELDS {
        let _ = writeln!(out, "{indent}pub {name}: {ty},");
    }
}

fn ours_model(i: usize) -> String {
    let mut s = format!(
        "use orm_manager::prelude::*;\n\n#[derive(Model, Debug, Clone, PartialEq)]\n\
         #[orm(table = \"model_{i}\")]\npub struct Model{i} {{\n    #[orm(primary_key, auto)]\n    pub id: i64,\n"
    );
    fields(&mut s, "    ");
    let _ = write!(
        s,
        "}}\n\n\
         pub async fn by_id(db: &PostgresqlDatabase, id: i64) -> Result<Model{i}, Error> {{\n    \
             Model{i}::select().where_(Model{i}::ID.eq(id)).fetch_one(db).await\n}}\n\n\
         pub async fn top(db: &PostgresqlDatabase) -> Result<Vec<Model{i}>, Error> {{\n    \
             Model{i}::select()\n        .where_(Model{i}::PUBLISHED.eq(true) & Model{i}::VIEWS.gt(10))\n        \
             .order_by(Model{i}::SCORE.desc())\n        .limit(20)\n        .fetch_all(db)\n        .await\n}}\n\n\
         pub async fn add(db: &PostgresqlDatabase, row: &Model{i}) -> Result<u64, Error> {{\n    \
             row.insert().execute(db).await\n}}\n"
    );
    s
}

fn seaorm_model(i: usize) -> String {
    let mut s = format!(
        "use sea_orm::entity::prelude::*;\nuse sea_orm::{{QueryOrder, QuerySelect, Set}};\n\n\
         #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]\n\
         #[sea_orm(table_name = \"model_{i}\")]\npub struct Model {{\n    #[sea_orm(primary_key)]\n    pub id: i64,\n"
    );
    fields(&mut s, "    ");
    let _ = write!(
        s,
        "}}\n\n#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]\npub enum Relation {{}}\n\n\
         impl ActiveModelBehavior for ActiveModel {{}}\n\n\
         pub async fn by_id(db: &DatabaseConnection, id: i64) -> Result<Option<Model>, DbErr> {{\n    \
             Entity::find_by_id(id).one(db).await\n}}\n\n\
         pub async fn top(db: &DatabaseConnection) -> Result<Vec<Model>, DbErr> {{\n    \
             Entity::find()\n        .filter(Column::Published.eq(true))\n        .filter(Column::Views.gt(10))\n        \
             .order_by_desc(Column::Score)\n        .limit(20)\n        .all(db)\n        .await\n}}\n\n\
         pub async fn add(db: &DatabaseConnection, row: Model) -> Result<Model, DbErr> {{\n    \
             ActiveModel {{\n        title: Set(row.title),\n        body: Set(row.body),\n        views: Set(row.views),\n        \
             score: Set(row.score),\n        rating: Set(row.rating),\n        published: Set(row.published),\n        \
             slug: Set(row.slug),\n        owner: Set(row.owner),\n        rank: Set(row.rank),\n        ..Default::default()\n    }}\n    \
             .insert(db)\n    .await\n}}\n"
    );
    s
}

fn diesel_model(i: usize) -> String {
    let mut s = format!(
        "use diesel::prelude::*;\nuse diesel_async::{{AsyncPgConnection, RunQueryDsl}};\n\n\
         diesel::table! {{\n    model_{i} (id) {{\n        id -> BigInt,\n"
    );
    for (name, _, sql) in FIELDS {
        let _ = writeln!(s, "        {name} -> {sql},");
    }
    let _ = write!(
        s,
        "    }}\n}}\n\n#[derive(Queryable, Selectable, Insertable, Debug, Clone, PartialEq)]\n\
         #[diesel(table_name = model_{i})]\npub struct Model{i} {{\n    pub id: i64,\n"
    );
    fields(&mut s, "    ");
    let _ = write!(
        s,
        "}}\n\n\
         pub async fn by_id(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Model{i}> {{\n    \
             model_{i}::table.find(id).select(Model{i}::as_select()).first(conn).await\n}}\n\n\
         pub async fn top(conn: &mut AsyncPgConnection) -> QueryResult<Vec<Model{i}>> {{\n    \
             model_{i}::table\n        .filter(model_{i}::published.eq(true).and(model_{i}::views.gt(10)))\n        \
             .order(model_{i}::score.desc())\n        .limit(20)\n        .select(Model{i}::as_select())\n        \
             .load(conn)\n        .await\n}}\n\n\
         pub async fn add(conn: &mut AsyncPgConnection, row: &Model{i}) -> QueryResult<usize> {{\n    \
             diesel::insert_into(model_{i}::table).values(row).execute(conn).await\n}}\n"
    );
    s
}

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("directory");
    }
    std::fs::write(path, text).expect("write");
}

/// Writes the workspace and its three crates; returns the workspace's path.
fn generate(repo: &Path) -> PathBuf {
    let root = repo.join("bench/target/compile-time");
    let members: Vec<String> = FLAVORS.iter().map(|f| format!("\"{}\"", f.name)).collect();
    write(
        &root.join("Cargo.toml"),
        &format!(
            "[workspace]\nresolver = \"2\"\nmembers = [{}]\n",
            members.join(", ")
        ),
    );
    // The bench's lock file: the peers at the versions the bench measures.
    let _ = std::fs::copy(repo.join("bench/Cargo.lock"), root.join("Cargo.lock"));
    for f in &FLAVORS {
        let dir = root.join(f.name);
        write(
            &dir.join("Cargo.toml"),
            &format!(
                "[package]\nname = \"app-{}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n{}",
                f.name,
                (f.manifest)(repo)
            ),
        );
        let mut lib = (f.lib)();
        lib.insert_str(0, "#![allow(unused_imports, dead_code)]\n");
        for i in 0..MODELS {
            let _ = writeln!(lib, "pub mod m{i:03};");
            write(&dir.join(format!("src/m{i:03}.rs")), &(f.model)(i));
        }
        write(&dir.join("src/lib.rs"), &lib);
    }
    root
}

fn cargo(root: &Path, args: &[&str]) -> Duration {
    let started = Instant::now();
    let status = Command::new("cargo")
        .args(args)
        .current_dir(root)
        .status()
        .expect("cargo");
    assert!(status.success(), "cargo {args:?} failed");
    started.elapsed()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Builds the three crates and times them; returns the Markdown table.
pub fn run(repo: &Path) -> String {
    let root = generate(repo);
    eprintln!("building the dependencies once, in {}", root.display());
    cargo(&root, &["build", "--quiet"]);
    cargo(&root, &["check", "--quiet"]);
    let mut table = String::from(
        "| crate (100 models x 10 fields, 3 queries each) | clean build | after touching one model | clean check |\n|---|---:|---:|---:|\n",
    );
    for f in &FLAVORS {
        let package = format!("app-{}", f.name);
        let (mut clean, mut touched, mut check) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            cargo(&root, &["clean", "--quiet", "-p", &package]);
            clean.push(cargo(&root, &["build", "--quiet", "-p", &package]));
            let model = root.join(f.name).join("src/m042.rs");
            let text = std::fs::read_to_string(&model).expect("model");
            write(&model, &format!("{text}\n// touched {round}\n"));
            touched.push(cargo(&root, &["build", "--quiet", "-p", &package]));
            cargo(&root, &["clean", "--quiet", "-p", &package]);
            check.push(cargo(&root, &["check", "--quiet", "-p", &package]));
        }
        let line = format!(
            "| {} | {:.1} s | {:.1} s | {:.1} s |\n",
            f.title,
            median(clean).as_secs_f64(),
            median(touched).as_secs_f64(),
            median(check).as_secs_f64()
        );
        eprint!("{line}");
        table.push_str(&line);
    }
    let page = format!(
        "## Compile time\n\n\
         The same generated application for each library: {MODELS} models of 10 fields, one \
         file each, with three typical queries per model (one row by key; a filtered, ordered, \
         limited list; an insert), for PostgreSQL. Debug builds on the project's 2-core \
         machine, dependencies already built, the median of {ROUNDS} rounds. Rerun with \
         `cd bench && cargo run --release -- compile-time` (the generator is \
         `bench/src/compile_time.rs`).\n\n{table}"
    );
    write(&repo.join("bench/COMPILE_TIME.md"), &page);
    page
}
