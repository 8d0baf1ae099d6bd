//! The `orm-cli` binary, run as a user would, on an SQLite file (no server needed):
//! `status`, `up`, `down` from migration files, and clear errors for `generate` without
//! models, an unknown command and a missing `DATABASE_URL`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn cli(url: Option<&Path>, args: &str) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_orm-cli"));
    command.args(args.split_whitespace());
    command.env_remove("DATABASE_URL");
    if let Some(path) = url {
        command.env("DATABASE_URL", format!("sqlite:{}", path.display()));
    }
    command.output().expect("orm-cli runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn migrate_up_down_and_status_from_the_files() {
    let scratch =
        Scratch(std::env::temp_dir().join(format!("orm-cli-test-{}", std::process::id())));
    let dir = scratch.0.join("migrations");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("0001_books.sql"),
        "-- up\nCREATE TABLE books (id INTEGER PRIMARY KEY, title TEXT NOT NULL);\n\
         -- down\nDROP TABLE books;\n",
    )
    .expect("file");
    std::fs::write(
        dir.join("0002_pages.sql"),
        "-- up\nALTER TABLE books ADD COLUMN pages INTEGER;\n\
         -- down\nALTER TABLE books DROP COLUMN pages;\n",
    )
    .expect("file");
    let db = scratch.0.join("app.db");
    let dir_arg = format!("--dir {}", dir.display());

    let status = cli(Some(&db), &format!("migrate status {dir_arg}"));
    assert!(status.status.success(), "{}", text(&status.stderr));
    assert_eq!(
        text(&status.stdout),
        "  pending  0001_books\n  pending  0002_pages\n"
    );

    let up = cli(Some(&db), &format!("migrate up {dir_arg}"));
    assert!(up.status.success(), "{}", text(&up.stderr));
    let out = text(&up.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..4],
        [
            "applying 0001_books ...",
            "applying 0002_pages ...",
            "applied 0001_books",
            "applied 0002_pages"
        ],
        "{out}"
    );
    assert!(lines[4].starts_with("2 applied in "), "{out}");
    let again = cli(Some(&db), &format!("migrate up {dir_arg}"));
    assert_eq!(text(&again.stdout), "nothing to apply\n");

    let down = cli(Some(&db), &format!("migrate down {dir_arg}"));
    assert!(down.status.success(), "{}", text(&down.stderr));
    assert_eq!(
        text(&down.stdout),
        "undoing 0002_pages ...\nundone 0002_pages\n"
    );
    let status = cli(Some(&db), &format!("migrate status {dir_arg}"));
    assert_eq!(
        text(&status.stdout),
        "  applied  0001_books\n  pending  0002_pages\n"
    );

    // An applied migration whose file changed is reported, and blocks the next run.
    std::fs::write(
        dir.join("0001_books.sql"),
        "-- up\nCREATE TABLE books (id INTEGER PRIMARY KEY);\n-- down\nDROP TABLE books;\n",
    )
    .expect("file");
    let status = cli(Some(&db), &format!("migrate status {dir_arg}"));
    assert!(text(&status.stdout).contains("CHANGED since applied  0001_books"));
    let refused = cli(Some(&db), &format!("migrate up {dir_arg}"));
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("0001_books was applied and its file has changed"));
}

#[test]
fn mistakes_are_explained() {
    let db = std::env::temp_dir().join(format!("orm-cli-mistakes-{}.db", std::process::id()));
    let generate = cli(Some(&db), "migrate generate users");
    assert_eq!(generate.status.code(), Some(1));
    assert!(text(&generate.stderr).contains("no models are linked into this program"));
    let unknown = cli(Some(&db), "migrate sideways");
    assert_eq!(unknown.status.code(), Some(1));
    assert!(text(&unknown.stderr).contains("usage: migrate generate NAME"));
    let nowhere = cli(None, "migrate status");
    assert_eq!(nowhere.status.code(), Some(1));
    assert!(text(&nowhere.stderr).contains("set DATABASE_URL"));
    let _ = std::fs::remove_file(&db);
}

/// `PG_URL` / `MYSQL_URL` as the other tests read them, with a database of `name`
/// instead of theirs.
fn url_with_database(env: &str, default: &str, name: &str) -> (String, String) {
    let admin = std::env::var(env).unwrap_or_else(|_| default.to_string());
    let base = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(base, _)| base);
    (admin.clone(), format!("{base}/{name}"))
}

/// Runs `sql` on the server of `url`, for set-up.
fn admin(url: &str, sql: &str) {
    let db = orm_manager::AnyDatabase::connect_lazy(url).expect("URL");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        use orm_core::Query;
        orm_core::raw_query::<()>(sql, vec![])
            .execute(&db)
            .await
            .unwrap_or_else(|e| panic!("{sql} on {url}: {e} (is the server up? see the README)"));
        orm_core::Database::close(&db).await;
    });
}

/// Two `orm-cli migrate up` processes started together on one database apply each of six
/// migrations exactly once between them, and both succeed.
fn race(url: &str, name: &str) {
    let scratch =
        Scratch(std::env::temp_dir().join(format!("orm-cli-{name}-{}", std::process::id())));
    let dir = scratch.0.join("migrations");
    std::fs::create_dir_all(&dir).expect("dir");
    for i in 1..=6 {
        std::fs::write(
            dir.join(format!("{i:04}_t{i}.sql")),
            format!("-- up\nCREATE TABLE race_t{i} (id INTEGER PRIMARY KEY);\n-- down\nDROP TABLE race_t{i};\n"),
        )
        .expect("file");
    }
    let start = || {
        Command::new(env!("CARGO_BIN_EXE_orm-cli"))
            .args(["migrate", "up", "--dir"])
            .arg(&dir)
            .env("DATABASE_URL", url)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("orm-cli starts")
    };
    let (a, b) = (start(), start());
    let mut applied = Vec::new();
    for child in [a, b] {
        let out = child.wait_with_output().expect("orm-cli ends");
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        applied.extend(
            text(&out.stdout)
                .lines()
                .filter_map(|l| l.strip_prefix("applied ").map(String::from)),
        );
    }
    applied.sort();
    let all: Vec<String> = (1..=6).map(|i| format!("{i:04}_t{i}")).collect();
    assert_eq!(
        applied, all,
        "{name}: each migration applied once, by one of the two"
    );
    let status = cli_on(url, &format!("migrate status --dir {}", dir.display()));
    assert_eq!(text(&status.stdout).matches("applied").count(), 6, "{name}");
}

fn cli_on(url: &str, args: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_orm-cli"))
        .args(args.split_whitespace())
        .env("DATABASE_URL", url)
        .output()
        .expect("orm-cli runs")
}

#[test]
fn two_processes_apply_each_migration_once() {
    let file = std::env::temp_dir().join(format!("orm-cli-race-{}.db", std::process::id()));
    race(&format!("sqlite:{}", file.display()), "sqlite");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }

    let database = format!("orm_cli_race_{}", std::process::id());
    let (pg_admin, pg) = url_with_database(
        "PG_URL",
        "postgres://postgres@127.0.0.1:5432/test",
        &database,
    );
    admin(&pg_admin, &format!("DROP DATABASE IF EXISTS {database}"));
    admin(&pg_admin, &format!("CREATE DATABASE {database}"));
    race(&pg, "postgres");
    admin(&pg_admin, &format!("DROP DATABASE {database} WITH (FORCE)"));

    let (my_admin, my) =
        url_with_database("MYSQL_URL", "mysql://root@127.0.0.1:3306/test", &database);
    admin(&my_admin, &format!("DROP DATABASE IF EXISTS {database}"));
    admin(&my_admin, &format!("CREATE DATABASE {database}"));
    race(&my, "mysql");
    admin(&my_admin, &format!("DROP DATABASE {database}"));
}
