//! `hubgen verify`: proves a hub's row-level security on a live database,
//! inside one transaction that is rolled back (the database keeps no row).

use crate::paint;
use std::path::Path;

pub fn run(schema: &Path, database_url: &str, hub: Option<&str>) -> Result<bool, crate::Fatal> {
    let ir = crate::compile_or_fatal(schema, "verifying")?;
    let hub = crate::check::target_hub(&ir, database_url, hub)?;
    let report = crate::runtime()?
        .block_on(async {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(database_url).await?;
            let report = hubgen_live::verify::isolation(&mut conn, hub).await;
            conn.close().await?;
            report
        })
        .map_err(|e| crate::Fatal(format!("cannot verify hub `{}`: {e}", hub.name)))?;
    for finding in &report.findings {
        println!(
            "{} {} [{}]: {}",
            paint("✗", "\x1b[1;31m"),
            finding.table,
            finding.check,
            finding.problem
        );
    }
    let summary = format!(
        "hub `{}`: {} scoped table(s), {} partition(s) queried directly, {} check(s), {} failure(s)",
        hub.name,
        report.tables,
        report.partitions,
        report.checks,
        report.findings.len()
    );
    if report.findings.is_empty() {
        println!("{} isolation holds: {summary}", paint("✓", "\x1b[1;32m"));
    } else {
        println!("{} isolation does not hold: {summary}", paint("✗", "\x1b[1;31m"));
    }
    Ok(report.findings.is_empty())
}
