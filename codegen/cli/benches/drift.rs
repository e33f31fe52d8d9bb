//! Planning a one-column change in the synthetic 1,000-table schema (goal:
//! under 100 ms), a live drift check against a 1,000-table database (goal:
//! under 2 s, at most 20 catalog queries — counted and printed), and
//! `hubgen import` of that database end to end (goal: under 2 s).
//!
//! Run: `cargo bench -p hubgen --bench drift` (needs PostgreSQL, see README).

#[path = "synthetic.rs"]
mod synthetic;

use sqlx::{Connection, Executor, PgConnection};
use std::time::Instant;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn compile(text: &str) -> hubgen_schema::ir::Schema {
    hubgen_schema::compile(text).ir.expect("valid synthetic schema")
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    // Planning: every hub's lock against the schema; one table gained a column.
    let v1_text = synthetic::synthetic_schema(1_000);
    let v2_text = v1_text.replacen("    payload    jsonb\n", "    payload    jsonb\n    extra      text\n", 1);
    let (v1, v2) = (compile(&v1_text), compile(&v2_text));
    let best = (0..15)
        .map(|_| {
            let start = Instant::now();
            let mut steps = 0;
            for (old, new) in v1.hubs.iter().zip(&v2.hubs) {
                if old != new {
                    steps += hubgen_codegen::plan::plan(Some(old), new).steps.len();
                }
            }
            assert_eq!(steps, 1, "one column added");
            start.elapsed()
        })
        .min()
        .expect("runs");
    println!(
        "plan a one-column change, 1,000 tables: {:.2} ms (best of 15)",
        best.as_secs_f64() * 1e3
    );

    // Live drift check: one database with 1,000 tables.
    let one_hub = compile(&synthetic::synthetic_schema_in(1_000, 1));
    let hub = &one_hub.hubs[0];
    let config = hubgen_codegen::Config {
        schema_path: "synthetic.hubs".into(),
        ..Default::default()
    };
    let sql = hubgen_codegen::generate(&one_hub, &config).files[&format!("migrations/{}/0001_initial.sql", hub.name)].clone();
    let server = std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    let mut admin = PgConnection::connect(&server).await.expect("PostgreSQL reachable");
    admin
        .execute("DROP DATABASE IF EXISTS hubgen_bench_drift WITH (FORCE)")
        .await
        .expect("drop");
    admin.execute("CREATE DATABASE hubgen_bench_drift").await.expect("create");
    let url = format!("{}/hubgen_bench_drift", &server[..server.rfind('/').expect("url")]);
    let mut conn = PgConnection::connect(&url).await.expect("connect");
    hubgen_live::apply(&mut conn, &sql).await.expect("1,000-table migration");
    let expected = hubgen_codegen::catalog::expected(hub);
    let mut times = Vec::new();
    let mut queries = 0;
    for _ in 0..5 {
        let start = Instant::now();
        let (actual, count) = hubgen_live::introspect_read_only(&url).await.expect("introspect");
        let differences = hubgen_codegen::catalog::diff(&expected, &actual);
        times.push(start.elapsed());
        assert!(differences.is_empty(), "{} differences", differences.len());
        assert_eq!(actual.tables.len(), 1_000);
        queries = count;
    }
    let best = times.iter().min().expect("runs");
    println!(
        "check --database-url, 1,000 tables: {:.0} ms (best of 5, connect included), {queries} catalog queries, 0 differences",
        best.as_secs_f64() * 1e3
    );

    // Import: the hubgen binary reads the database and writes schema text,
    // which must compile back to the same 1,000 tables.
    let out = std::env::temp_dir().join(format!("hubgen-bench-import-{}.hubs", std::process::id()));
    let mut times = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_hubgen"))
            .args(["import", "--database-url", &url, "--hub", &hub.name, "--out"])
            .arg(&out)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("hubgen runs");
        times.push(start.elapsed());
        assert!(status.success(), "hubgen import failed");
    }
    let imported = compile(&std::fs::read_to_string(&out).expect("imported schema"));
    assert_eq!(imported.hubs[0].tables.len(), 1_000);
    let _ = std::fs::remove_file(&out);
    let best = times.iter().min().expect("runs");
    println!(
        "hubgen import, 1,000 tables: {:.0} ms (best of 5, process start and writing included)",
        best.as_secs_f64() * 1e3
    );

    drop(conn);
    admin
        .execute("DROP DATABASE IF EXISTS hubgen_bench_drift WITH (FORCE)")
        .await
        .expect("drop");
}
