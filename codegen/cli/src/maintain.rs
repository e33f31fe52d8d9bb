//! `hubgen maintain`: the data lifecycle on a live database (see
//! `hubgen_runtime::maintain`), with the schema's row retention.

use crate::paint;
use hubgen_runtime::chrono::{DateTime, NaiveDate, Utc};
use hubgen_runtime::maintain::{self, DirectorySink, Options, RowRetention};
use std::path::Path;

pub fn run(
    schema: &Path,
    database_url: &str,
    hub: Option<&str>,
    archive_dir: &Path,
    now: Option<&str>,
    batch: i64,
) -> Result<bool, crate::Fatal> {
    let ir = crate::compile_or_fatal(schema, "maintaining")?;
    let hub = crate::check::target_hub(&ir, database_url, hub)?;
    let now = match now {
        None => Utc::now(),
        Some(text) => parse_now(text).ok_or_else(|| {
            crate::Fatal(format!(
                "--now `{text}` is neither an RFC 3339 time (2027-01-31T02:00:00Z) nor a date (2027-01-31)"
            ))
        })?,
    };
    let retention = hubgen_codegen::sql::upkeep::row_retention(hub);
    let retention: Vec<RowRetention> = retention
        .iter()
        .map(|(table, column, keep)| RowRetention { table, column, keep })
        .collect();
    let sink = DirectorySink::new(archive_dir)
        .map_err(|e| crate::Fatal(format!("cannot create archive directory {}: {e}", archive_dir.display())))?;
    let options = Options {
        batch,
        ..Options::new(now, &retention)
    };
    let report = crate::runtime()?
        .block_on(async {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(database_url).await.map_err(maintain::Error::Database)?;
            let report = maintain::run(&mut conn, &options, &sink).await;
            conn.close().await.ok();
            report
        })
        .map_err(|e| crate::Fatal(format!("maintenance of hub `{}` stopped: {e} (rerun to resume)", hub.name)))?;
    for (table, rows) in &report.archived {
        println!("archived {table}: {rows} row(s) → {}", sink.path(&table.replace('"', "")).display());
    }
    println!(
        "{} hub `{}` at {}: {} table(s) kept by pg_partman, {} partition(s) made, {} retired, {} archived, {} old row(s) deleted",
        paint("✓", "\x1b[1;32m"),
        hub.name,
        now.format("%Y-%m-%d %H:%M:%S UTC"),
        report.tables,
        report.created,
        report.retired,
        report.archived.len(),
        report.deleted_rows
    );
    Ok(true)
}

fn parse_now(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| Some(NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?.and_hms_opt(0, 0, 0)?.and_utc()))
}
