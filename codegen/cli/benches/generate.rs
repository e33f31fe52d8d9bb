//! `generate` for synthetic schemas of growing size (10 hubs): the SQL
//! migrations alone (goal: 1,000 tables under 500 ms in release, each
//! doubling at most 2.2x slower), and everything `hubgen generate` writes
//! (SQL, locks, docs and the Rust crates, printed by prettyplease on every
//! core; goal: 1,000 tables under 1 s, each doubling at most 2.2x).
//!
//! Run: `cargo bench -p hubgen --bench generate`

#[path = "synthetic.rs"]
mod synthetic;

use std::time::{Duration, Instant};

// The allocator `hubgen` runs with, tuned as it is.
#[path = "../src/allocator.rs"]
mod allocator;

fn main() {
    allocator::keep_freed_memory();
    println!("generate from IR (best of 15 for SQL, of 5 for everything)");
    println!(
        "{:>7}  {:>10}  {:>8}  {:>10}  {:>12}  {:>8}",
        "tables", "SQL", "ratio", "SQL bytes", "everything", "ratio"
    );
    let mut previous: Option<Duration> = None;
    let mut previous_everything: Option<Duration> = None;
    for tables in [250, 500, 1_000, 2_000] {
        let ir = hubgen_schema::compile(&synthetic::synthetic_schema(tables))
            .ir
            .expect("valid synthetic schema");
        let config = hubgen_codegen::Config {
            schema_path: "synthetic.hubs".into(),
            ..Default::default()
        };
        let mut bytes = 0;
        let time = (0..15)
            .map(|_| {
                let start = Instant::now();
                bytes = 0;
                for hub in &std::hint::black_box(&ir).hubs {
                    let sql = format!(
                        "{}{}",
                        hubgen_codegen::generate::header(hub, &config),
                        hubgen_codegen::sql::initial_migration(hub)
                    );
                    bytes += sql.len();
                }
                start.elapsed()
            })
            .min()
            .expect("runs");
        let everything = (0..5)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(hubgen_codegen::generate(&ir, &config));
                start.elapsed()
            })
            .min()
            .expect("runs");
        let ratio = |now: Duration, before: Option<Duration>| {
            before.map_or(String::from("-"), |p| format!("{:.2}x", now.as_secs_f64() / p.as_secs_f64()))
        };
        println!(
            "{tables:>7}  {:>8.2}ms  {:>8}  {bytes:>10}  {:>10.0}ms  {:>8}",
            time.as_secs_f64() * 1e3,
            ratio(time, previous),
            everything.as_secs_f64() * 1e3,
            ratio(everything, previous_everything)
        );
        previous = Some(time);
        previous_everything = Some(everything);
    }
}
