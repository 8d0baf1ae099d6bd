//! Benchmarks: this ORM against the raw drivers, the same workloads side by side, in one
//! run. Prints a table per backend (median times and each implementation's ratio to the
//! raw driver) and writes `docs/BENCHMARKS.md` with the table and an SVG chart.
//!
//! ```sh
//! cd bench && cargo run --release            # PG_URL / MYSQL_URL as for the tests
//! ```

mod harness;
mod models;
mod mysql;
mod pg;
mod report;
mod sqlite;

use harness::Row;

/// Peak resident memory of this process, in KiB (Linux `VmHWM`).
pub fn peak_rss_kib() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn pg_url() -> String {
    std::env::var("PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn mysql_url() -> String {
    std::env::var("MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

/// Streams 1,000,000 rows in a child process and returns its (time, peak RSS).
fn stream_in_child(implementation: &str) -> Row {
    let exe = std::env::current_exe().expect("own path");
    let out = std::process::Command::new(exe)
        .args(["stream-child", implementation])
        .output()
        .expect("child");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split_whitespace();
    let micros: u64 = parts
        .next()
        .and_then(|p| p.parse().ok())
        .expect("child time");
    let rss: usize = parts
        .next()
        .and_then(|p| p.parse().ok())
        .expect("child rss");
    let name = if implementation == "raw" {
        "tokio-postgres (raw)"
    } else {
        "this ORM (async)"
    };
    let mut row = Row::new(
        "PostgreSQL",
        "stream 1,000,000 rows",
        name,
        std::time::Duration::from_micros(micros),
    );
    row.note = format!("peak RSS {:.1} MiB", rss as f64 / 1024.0);
    row
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = || tokio::runtime::Runtime::new().expect("runtime");
    if args.get(1).map(String::as_str) == Some("stream-child") {
        let implementation = args.get(2).cloned().unwrap_or_default();
        let (time, rss) = runtime().block_on(pg::stream_child(&pg_url(), &implementation));
        println!("{} {}", time.as_micros(), rss);
        return;
    }
    let mut rows: Vec<Row> = Vec::new();
    let sqlite_db = sqlite::run_sync(&mut rows);
    let rt = runtime();
    rt.block_on(async {
        sqlite::run_async(sqlite_db, &mut rows).await;
        pg::run(&pg_url(), &mut rows).await;
        mysql::run(&mysql_url(), &mut rows).await;
    });
    rows.push(stream_in_child("raw"));
    rows.push(stream_in_child("orm"));
    let markdown = report::markdown(&rows);
    println!("{markdown}");
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    std::fs::write(docs.join("benchmarks.svg"), report::svg(&rows)).expect("write chart");
    std::fs::write(docs.join("BENCHMARKS.md"), report::page(&markdown))
        .expect("write BENCHMARKS.md");
}
