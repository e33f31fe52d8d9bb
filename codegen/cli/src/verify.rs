//! `hubgen verify`: proves a hub's row-level security on a live database,
//! inside one transaction that is rolled back (the database keeps no row).

use crate::{color, paint};
use hubgen_schema::diagnostics::render_all;
use hubgen_schema::SourceFile;
use std::path::Path;

pub fn run(schema: &Path, database_url: &str, hub: Option<&str>) -> Result<bool, crate::Fatal> {
    let text = std::fs::read_to_string(schema).map_err(|e| crate::Fatal(format!("cannot read {}: {e}", schema.display())))?;
    let output = hubgen_schema::compile(&text);
    let file = SourceFile::new(schema.display().to_string(), text);
    if !output.diagnostics.is_empty() {
        eprint!("{}", render_all(&output.diagnostics, &file, color()));
    }
    let Some(ir) = output.ir else {
        return Err(crate::Fatal(format!("{} has errors; fix them before verifying", schema.display())));
    };
    let hub = crate::check::target_hub(&ir, database_url, hub)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| crate::Fatal(e.to_string()))?;
    let report = runtime
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
