//! The results as Markdown tables and an SVG chart of ratios to the raw driver.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::harness::Row;
use crate::instructions::Count;

fn is_raw(implementation: &str) -> bool {
    implementation.contains("(raw)")
}

fn format_time(d: std::time::Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.1} µs")
    } else if us < 1e6 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// (backend, workload) -> rows, in first-seen order.
fn groups(rows: &[Row]) -> Vec<((&'static str, String), Vec<&Row>)> {
    let mut order = Vec::new();
    let mut map: BTreeMap<(usize, &'static str, String), Vec<&Row>> = BTreeMap::new();
    for row in rows {
        let key = (row.backend, row.workload.clone());
        let pos = order.iter().position(|k| *k == key).unwrap_or_else(|| {
            order.push(key.clone());
            order.len() - 1
        });
        map.entry((pos, row.backend, row.workload.clone()))
            .or_default()
            .push(row);
    }
    map.into_iter()
        .map(|((_, b, w), rows)| ((b, w), rows))
        .collect()
}

fn ratio(row: &Row, group: &[&Row]) -> Option<f64> {
    let raw = group.iter().find(|r| is_raw(r.implementation))?;
    Some(row.time.as_secs_f64() / raw.time.as_secs_f64())
}

pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::new();
    let mut backend = "";
    for ((b, workload), group) in groups(rows) {
        if b != backend {
            backend = b;
            let _ = writeln!(out, "\n### {b}\n\n| workload | implementation | median | ratio to raw | note |\n|---|---|---:|---:|---|");
        }
        for row in &group {
            let r = ratio(row, &group)
                .map(|r| format!("{r:.2}x"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "| {workload} | {} | {} | {r} | {} |",
                row.implementation,
                format_time(row.time),
                row.note
            );
        }
    }
    out
}

/// The instruction counts as a table per backend, with each implementation's ratio to the
/// raw driver's count for the same workload.
pub fn instructions(counts: &[Count]) -> String {
    let mut out = String::new();
    let mut backend = "";
    for c in counts {
        if c.backend != backend {
            backend = c.backend;
            let _ = writeln!(out, "\n### {backend}: client instructions per iteration\n\n| workload | implementation | instructions | ratio to raw |\n|---|---|---:|---:|");
        }
        let raw = counts.iter().find(|r| {
            r.backend == c.backend && r.workload == c.workload && is_raw(&r.implementation)
        });
        let ratio = raw
            .filter(|r| r.per_iteration > 0)
            .map(|r| format!("{:.2}x", c.per_iteration as f64 / r.per_iteration as f64))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {ratio} |",
            c.workload,
            c.implementation,
            thousands(c.per_iteration)
        );
    }
    out
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

pub fn page(tables: &str, instructions: &str) -> String {
    // Measured apart (`orm-bench compile-time`, minutes of builds), kept in its own file.
    let compile_time =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/COMPILE_TIME.md"))
            .unwrap_or_default();
    format!(
        "# Benchmarks\n\n\
         This ORM against the raw drivers (tokio-postgres, mysql_async, rusqlite) and the peer\n\
         ORMs (sqlx 0.9, SeaORM 2.0, diesel-async 0.9, each written in its own idiom, in\n\
         `bench/src/peers`), measured side by side in one run on the project's 2-core machine.\n\
         Implementations take turns within each workload (five rounds, after warm-up); a time\n\
         is the median of all rounds. A ratio is an implementation's time divided by the raw\n\
         driver's (for throughput workloads, time per query), so 1.00x is the floor. Rerun with:\n\n\
         ```sh\ncd bench && cargo run --release\n```\n\n\
         (`PG_URL` and `MYSQL_URL` as for the tests; `--no-default-features` leaves the peers\n\
         out of the build. The numbers below are from the last run.)\n\n\
         ![ratio to the raw driver](benchmarks.svg)\n{tables}\n\
         ## Client instructions\n\n\
         Wall clock on this machine moves by 15-40 % between runs; instruction counts do not.\n\
         Each workload and implementation below ran in a process of its own under\n\
         `valgrind --tool=callgrind`, once with one warm-up iteration and once with that and\n\
         N more; the difference over N is one iteration, with connecting and preparing left\n\
         out and every thread of the client counted (the server's work is not). One by hand:\n\
         `valgrind --tool=callgrind target/release/orm-bench profile pg insert-1000 orm 10`.\n\
         {instructions}\n{compile_time}\n{}",
        include_str!("../FINDINGS.md")
    )
}

pub fn svg(rows: &[Row]) -> String {
    let bars: Vec<(String, f64)> = groups(rows)
        .into_iter()
        .flat_map(|((b, w), group)| {
            group
                .iter()
                .filter(|r| !is_raw(r.implementation))
                .filter_map(|r| {
                    ratio(r, &group).map(|x| (format!("{b}: {w} — {}", r.implementation), x))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let (row_h, label_w, bar_w) = (18.0, 470.0, 300.0);
    let max = bars.iter().map(|(_, x)| *x).fold(1.5f64, f64::max);
    let height = 40.0 + row_h * bars.len() as f64;
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{height}" font-family="sans-serif" font-size="11">"#,
        label_w + bar_w + 60.0
    );
    let one = label_w + bar_w / max;
    let _ = write!(
        out,
        r#"<text x="{label_w}" y="14">time relative to the raw driver (1.0 = raw)</text>"#
    );
    let _ = write!(
        out,
        r##"<line x1="{one}" y1="20" x2="{one}" y2="{height}" stroke="#c00" stroke-dasharray="3,3"/>"##
    );
    for (i, (label, x)) in bars.iter().enumerate() {
        let y = 26.0 + row_h * i as f64;
        let w = bar_w * x / max;
        let label = label.replace('&', "&amp;").replace('<', "&lt;");
        let _ = write!(
            out,
            r##"<text x="{}" y="{}" text-anchor="end">{label}</text><rect x="{label_w}" y="{y}" width="{w}" height="{}" fill="#4a7"/><text x="{}" y="{}">{x:.2}x</text>"##,
            label_w - 6.0,
            y + 12.0,
            row_h - 4.0,
            label_w + w + 4.0,
            y + 12.0
        );
    }
    out.push_str("</svg>\n");
    out
}
