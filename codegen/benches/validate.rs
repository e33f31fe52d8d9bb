//! Parse + validate synthetic schemas of growing size; prints the time per
//! size and the ratio between successive sizes (goal: 1,000 tables under
//! 200 ms in release, each doubling at most 2.2x slower).
//!
//! Run: `cargo bench -p hubgen --bench validate`

use std::fmt::Write;

// The same allocator as the `hubgen` binary, so the bench measures what users run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::time::{Duration, Instant};

/// `tables` tables of 10 columns, 2 foreign keys and 2 indexes each, in 10 hubs.
pub fn synthetic_schema(tables: usize) -> String {
    let hubs = 10;
    let per_hub = tables.div_ceil(hubs);
    let mut out = String::new();
    for h in 0..hubs {
        let _ = writeln!(out, "hub h{h} database db_{h} {{");
        for t in 0..per_hub.min(tables.saturating_sub(h * per_hub)) {
            let _ = writeln!(out, "  table t{t} tenant_scoped(tenant_id) {{");
            let _ = writeln!(out, "    id         uuid          primary key default gen_random_uuid()");
            let _ = writeln!(out, "    tenant_id  uuid          not null");
            // Two foreign keys to earlier tables (the first table refers to itself).
            let _ = writeln!(
                out,
                "    parent_id  uuid          references t{}(id) on delete cascade",
                t.saturating_sub(1)
            );
            let _ = writeln!(out, "    owner_id   uuid          references t{}(id)", t / 2);
            let _ = writeln!(out, "    name       varchar(255)  not null");
            let _ = writeln!(
                out,
                "    status     varchar(20)   not null default 'active' check (status in ('active', 'inactive'))"
            );
            let _ = writeln!(out, "    amount     numeric(19, 4) default 0");
            let _ = writeln!(out, "    payload    jsonb");
            let _ = writeln!(out, "    created_at timestamptz   not null default now()");
            let _ = writeln!(out, "    updated_at timestamptz   not null default now() @touch");
            let _ = writeln!(out, "    index idx_t{t}_tenant (tenant_id, created_at desc)");
            let _ = writeln!(out, "    index idx_t{t}_status (status) where (status = 'active')");
            let _ = writeln!(out, "  }}");
        }
        let _ = writeln!(out, "}}");
    }
    out
}

fn measure(text: &str) -> Duration {
    // Best of several runs: the least disturbed by the rest of the machine.
    (0..7)
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
    println!("parse + validate + lower (best of 7)");
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
