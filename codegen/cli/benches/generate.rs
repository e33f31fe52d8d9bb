//! `generate` (SQL only) for synthetic schemas of growing size; prints the
//! time per size and the ratio between successive sizes (goal: 1,000 tables
//! under 500 ms in release, each doubling at most 2.2x slower).
//!
//! Run: `cargo bench -p hubgen --bench generate`

#[path = "synthetic.rs"]
mod synthetic;

use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    println!("generate migrations from IR (best of 15)");
    println!("{:>7}  {:>10}  {:>8}  {:>10}", "tables", "time", "ratio", "SQL bytes");
    let mut previous: Option<Duration> = None;
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
                let output = hubgen_codegen::generate(std::hint::black_box(&ir), &config);
                let elapsed = start.elapsed();
                bytes = output.files.values().filter(|_| true).map(String::len).sum::<usize>();
                elapsed
            })
            .min()
            .expect("runs");
        let ratio = previous.map_or(String::from("-"), |p| format!("{:.2}x", time.as_secs_f64() / p.as_secs_f64()));
        println!("{tables:>7}  {:>8.2}ms  {ratio:>8}  {bytes:>10}", time.as_secs_f64() * 1e3);
        previous = Some(time);
    }
}
