//! Parse + validate synthetic schemas of growing size; prints the time per
//! size and the ratio between successive sizes (goal: 1,000 tables under
//! 200 ms in release, each doubling at most 2.2x slower).
//!
//! Run: `cargo bench -p hubgen --bench validate`

#[path = "synthetic.rs"]
mod synthetic;

use synthetic::synthetic_schema;

// The same allocator as the `hubgen` binary, so the bench measures what users run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::time::{Duration, Instant};

fn measure(text: &str) -> Duration {
    // Best of several runs: the least disturbed by the rest of the machine.
    (0..15)
        .map(|_| {
            let start = Instant::now();
            let output = hubgen_schema::compile(std::hint::black_box(text));
            assert!(!output.has_errors(), "synthetic schema must be valid");
            start.elapsed()
        })
        .min()
        .expect("at least one run")
}

fn main() {
    if let Some(n) = std::env::var("ONLY").ok().and_then(|v| v.parse().ok()) {
        std::hint::black_box(hubgen_schema::parse(&synthetic_schema(n)));
        return;
    }
    println!("parse + validate + lower (best of 15)");
    println!("{:>7}  {:>10}  {:>8}", "tables", "time", "ratio");
    let mut previous: Option<Duration> = None;
    for tables in [250, 500, 1_000, 2_000] {
        let text = synthetic_schema(tables);
        let time = measure(&text);
        let ratio = previous.map_or(String::from("-"), |p| format!("{:.2}x", time.as_secs_f64() / p.as_secs_f64()));
        println!("{tables:>7}  {:>8.2}ms  {ratio:>8}", time.as_secs_f64() * 1e3);

        previous = Some(time);
    }
}
