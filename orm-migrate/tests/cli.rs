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
