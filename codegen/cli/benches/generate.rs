//! `generate` for synthetic schemas of growing size (10 hubs): the SQL
//! migrations alone (goal: 1,000 tables under 500 ms in release, each
//! doubling at most 2.2x slower), and everything `hubgen generate` writes
//! (SQL, locks, docs and the Rust crates, printed by prettyplease on every
//! core), and `hubgen generate` end to end: the binary run on the schema
//! text into an empty directory, parsing, planning, rendering and writing
//! every file (goal: 1,000 tables under 1 s, each doubling at most 2.2x).
//!
//! Run: `cargo bench -p hubgen --bench generate`

#[path = "synthetic.rs"]
mod synthetic;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

// The allocator `hubgen` runs with, tuned as it is.
#[path = "../src/allocator.rs"]
mod allocator;

fn main() {
    allocator::keep_freed_memory();
    println!("generate from IR (best of 15 for SQL, of 5 for everything), and `hubgen generate` end to end (best of 5)");
    println!(
        "{:>7}  {:>10}  {:>8}  {:>10}  {:>12}  {:>8}  {:>12}  {:>8}",
        "tables", "SQL", "ratio", "SQL bytes", "everything", "ratio", "end to end", "ratio"
    );
    let dir = std::env::temp_dir().join(format!("hubgen-generate-bench-{}", std::process::id()));
    let mut previous: Option<Duration> = None;
    let mut previous_everything: Option<Duration> = None;
    let mut previous_end_to_end: Option<Duration> = None;
    for tables in [250, 500, 1_000, 2_000] {
        let text = synthetic::synthetic_schema(tables);
        let ir = hubgen_schema::compile(&text).ir.expect("valid synthetic schema");
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
        let end_to_end = (0..5).map(|_| end_to_end(&dir, &text)).min().expect("runs");
        let ratio = |now: Duration, before: Option<Duration>| {
            before.map_or(String::from("-"), |p| format!("{:.2}x", now.as_secs_f64() / p.as_secs_f64()))
        };
        println!(
            "{tables:>7}  {:>8.2}ms  {:>8}  {bytes:>10}  {:>10.0}ms  {:>8}  {:>10.0}ms  {:>8}",
            time.as_secs_f64() * 1e3,
            ratio(time, previous),
            everything.as_secs_f64() * 1e3,
            ratio(everything, previous_everything),
            end_to_end.as_secs_f64() * 1e3,
            ratio(end_to_end, previous_end_to_end)
        );
        previous = Some(time);
        previous_everything = Some(everything);
        previous_end_to_end = Some(end_to_end);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `hubgen generate` on `schema` in a fresh project directory: every file written.
fn end_to_end(dir: &Path, schema: &str) -> Duration {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("schema")).expect("bench directory");
    let path = dir.join("schema/synthetic.hubs");
    std::fs::write(&path, schema).expect("schema file");
    let start = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_hubgen"))
        .arg("generate")
        .arg("--schema")
        .arg(&path)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("hubgen runs");
    let elapsed = start.elapsed();
    assert!(status.success(), "hubgen generate failed");
    elapsed
}
