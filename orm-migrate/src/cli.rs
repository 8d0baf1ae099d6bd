//! The `migrate` command: `generate`, `up`, `down`, `status`, on any database, with the
//! models a program links in. [`run`] is the command as a library call, writing what it
//! does to `out`; with the `cli` feature, [`main`] is a whole program's `main` (the
//! database from `DATABASE_URL`, the models every `#[derive(Model)]` in the program
//! registered), and the `orm-cli` binary is that program without models (`up`, `down`
//! and `status` from the files; `generate` needs the models, so it runs from a binary of
//! the service's own crate: `fn main() { orm_migrate::cli::main() }`).
//!
//! ```text
//! migrate generate NAME [--dir DIR] [--allow-destructive]
//!         [--rename-table OLD=NEW] [--rename-column TABLE.OLD=NEW] [--drop-table NAME]
//! migrate up [--dir DIR]
//! migrate down [COUNT] [--dir DIR]
//! migrate status [--dir DIR]
//! ```

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use orm_core::{Database, Error, Result, TableMeta};

use crate::diff::Hints;
use crate::migration::load_dir;
use crate::runner::State;

/// What [`run`] was asked to do.
#[derive(Debug)]
enum Command {
    Generate {
        name: String,
        hints: Hints,
        allow_destructive: bool,
    },
    Up,
    Down(usize),
    Status,
}

const USAGE: &str = "usage: migrate generate NAME [--dir DIR] [--allow-destructive] \
[--rename-table OLD=NEW] [--rename-column TABLE.OLD=NEW] [--drop-table NAME]\n       \
migrate up|status [--dir DIR]\n       migrate down [COUNT] [--dir DIR]";

fn usage(why: &str) -> Error {
    Error::Config(format!("{why}\n{USAGE}"))
}

/// Reads the arguments after the program's name: the command, and the directory.
fn parse(args: &[String]) -> Result<(Command, PathBuf)> {
    let mut args = args.iter().map(String::as_str);
    if args.next() != Some("migrate") {
        return Err(usage("the command is `migrate`"));
    }
    let verb = args.next().ok_or_else(|| usage("migrate what?"))?;
    let mut dir = PathBuf::from("migrations");
    let mut positional = Vec::new();
    let mut hints = Hints::new();
    let mut allow_destructive = false;
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| {
            args.next()
                .map(str::to_string)
                .ok_or_else(|| usage(&format!("{flag} needs a value")))
        };
        match arg {
            "--dir" => dir = PathBuf::from(value(arg)?),
            "--allow-destructive" => allow_destructive = true,
            "--rename-table" => {
                let v = value(arg)?;
                let (old, new) = v
                    .split_once('=')
                    .ok_or_else(|| usage("--rename-table OLD=NEW"))?;
                hints = hints.rename_table(old, new);
            }
            "--rename-column" => {
                let v = value(arg)?;
                let (column, new) = v
                    .split_once('=')
                    .ok_or_else(|| usage("--rename-column TABLE.OLD=NEW"))?;
                let (table, old) = column
                    .split_once('.')
                    .ok_or_else(|| usage("--rename-column TABLE.OLD=NEW"))?;
                hints = hints.rename_column(table, old, new);
            }
            "--drop-table" => hints = hints.drop_table(&value(arg)?),
            flag if flag.starts_with("--") => return Err(usage(&format!("unknown option {flag}"))),
            other => positional.push(other.to_string()),
        }
    }
    let command = match (verb, positional.as_slice()) {
        ("generate", [name]) => Command::Generate {
            name: name.clone(),
            hints,
            allow_destructive,
        },
        ("generate", _) => return Err(usage("generate takes one NAME")),
        ("up", []) => Command::Up,
        ("down", []) => Command::Down(1),
        ("down", [count]) => Command::Down(
            count
                .parse()
                .map_err(|_| usage(&format!("`{count}` is not a count")))?,
        ),
        ("status", []) => Command::Status,
        (verb, _) => return Err(usage(&format!("unknown or malformed command `{verb}`"))),
    };
    Ok((command, dir))
}

/// Runs `migrate ...` (`args` without the program's name) on `db` with `models`, writing
/// one line per thing done to `out`.
///
/// ```
/// # use orm_sqlite::{SqliteConfig, SqliteDatabase};
/// # use orm_core::Table as _;
/// # #[derive(orm_derive::Model)]
/// # struct Tag { #[orm(primary_key, auto)] id: i64, #[orm(unique, max_length = 40)] name: String }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> orm_core::Result<()> {
/// let db = SqliteDatabase::new(SqliteConfig::memory())?;
/// let dir = std::env::temp_dir().join(format!("orm-cli-doc-{}", std::process::id()));
/// let args = |line: &str| line.split(' ').map(String::from).collect::<Vec<_>>();
/// let mut out = Vec::new();
/// let dir_arg = format!("--dir {}", dir.display());
/// orm_migrate::cli::run(&db, &args(&format!("migrate generate tags {dir_arg}")), &[Tag::TABLE], &mut out).await?;
/// orm_migrate::cli::run(&db, &args(&format!("migrate up {dir_arg}")), &[Tag::TABLE], &mut out).await?;
/// let out = String::from_utf8(out).unwrap();
/// assert!(out.contains("0001_tags.sql: 1 statement"), "{out}");
/// assert!(out.contains("applied 0001_tags"), "{out}");
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(()) }
/// ```
pub async fn run<D: Database>(
    db: &D,
    args: &[String],
    models: &[&TableMeta],
    out: &mut impl Write,
) -> Result<()> {
    let (command, dir) = parse(args)?;
    let mut say = |line: String| {
        // The output is a courtesy: a closed pipe does not stop the migration.
        let _ = writeln!(out, "{line}");
    };
    match command {
        Command::Generate {
            name,
            hints,
            allow_destructive,
        } => {
            if models.is_empty() {
                return Err(Error::Config(
                    "no models are linked into this program: run `migrate generate` from a \
                     binary of the crate that defines them (fn main() { \
                     orm_migrate::cli::main() })"
                        .into(),
                ));
            }
            match crate::generate(db, &dir, &name, models, &hints, allow_destructive).await? {
                None => say("no changes: the database matches the models".into()),
                Some(path) => {
                    let migration = load_dir(&dir)?
                        .into_iter()
                        .last()
                        .ok_or_else(|| Error::Query("the new migration is gone".into()))?;
                    let statements = migration.up.len();
                    say(format!(
                        "created {}: {statements} statement{}",
                        path.display(),
                        if statements == 1 { "" } else { "s" }
                    ));
                    for what in &migration.destructive {
                        say(format!("  destructive: {what}"));
                    }
                }
            }
        }
        Command::Up => {
            let migrations = load_dir(&dir)?;
            let started = Instant::now();
            let ran = crate::up(db, &migrations, |v| say(format!("applying {v} ..."))).await?;
            for version in &ran {
                say(format!("applied {version}"));
            }
            if ran.is_empty() {
                say("nothing to apply".into());
            } else {
                say(format!(
                    "{} applied in {:.1?}",
                    ran.len(),
                    started.elapsed()
                ));
            }
        }
        Command::Down(count) => {
            let migrations = load_dir(&dir)?;
            let undone =
                crate::down(db, &migrations, count, |v| say(format!("undoing {v} ..."))).await?;
            for version in &undone {
                say(format!("undone {version}"));
            }
            if undone.is_empty() {
                say("nothing to undo".into());
            }
        }
        Command::Status => {
            let migrations = load_dir(&dir)?;
            for (version, state) in crate::status(db, &migrations).await? {
                let state = match state {
                    State::Applied => "applied",
                    State::Pending => "pending",
                    State::Changed => "CHANGED since applied",
                    State::Missing => "MISSING its file",
                };
                say(format!("{state:>9}  {version}"));
            }
        }
    }
    Ok(())
}

/// A whole program's `main`: `migrate ...` from the command line on the database
/// `DATABASE_URL` names (`postgres://`, `mysql://`, `sqlite:`), with every model the
/// program links in. Exits with 1 and the reason on standard error when it fails.
#[cfg(feature = "cli")]
pub fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = (|| -> Result<()> {
        let url = std::env::var("DATABASE_URL")
            .map_err(|_| Error::Config("set DATABASE_URL to the database to migrate".into()))?;
        let db = orm_manager::AnyDatabase::connect_lazy(&url)?;
        let models: Vec<&TableMeta> = orm_core::registry::models().collect();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Config(format!("no runtime: {e}")))?;
        runtime.block_on(async {
            let done = run(&db, &args, &models, &mut std::io::stdout()).await;
            db.close().await;
            done
        })
    })();
    if let Err(e) = outcome {
        eprintln!("migrate: {e}");
        std::process::exit(1);
    }
}
