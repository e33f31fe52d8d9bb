//! `hubgen check`: every kind of drift, one exit code. Read-only: it writes
//! no file and, with --database-url, runs only read-only catalog queries.

use crate::{header_path, paint};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub use hubgen_codegen::check::Finding;

pub fn run(schema: &Path, root: &Path, database_url: Option<&str>, hub: Option<&str>, format: Format) -> Result<bool, crate::Fatal> {
    let ir = crate::compile_or_fatal(schema, "checking for drift")?;
    let project = hubgen_codegen::Project::at(root);
    let existing = project.existing().map_err(crate::Fatal)?;
    let generated = project.generated_files().map_err(crate::Fatal)?;
    let config = hubgen_codegen::Config {
        schema_path: header_path(schema, root),
        crates: crate::config::ProjectConfig::read(root)?.crates(),
        ..Default::default()
    };
    let mut findings = hubgen_codegen::check::files(&ir, &existing, &generated, &config);

    if let Some(url) = database_url {
        let target = target_hub(&ir, url, hub)?;
        let runtime = crate::runtime()?;
        let (actual, queries) = runtime
            .block_on(hubgen_live::introspect_read_only(url))
            .map_err(|e| crate::Fatal(format!("cannot read the database: {e}")))?;
        findings.extend(hubgen_codegen::check::database(target, &actual));
        if format == Format::Text {
            eprintln!("read the live catalog of hub `{}` with {queries} queries", target.name);
        }
    }

    report(&findings, format);
    Ok(findings.is_empty())
}

/// The hub `--hub` names, or else the one whose database the URL names.
pub(crate) fn target_hub<'a>(
    ir: &'a hubgen_schema::ir::Schema,
    url: &str,
    hub: Option<&str>,
) -> Result<&'a hubgen_schema::ir::Hub, crate::Fatal> {
    match hub {
        Some(name) => ir.hub(name).ok_or_else(|| crate::Fatal(format!("the schema has no hub `{name}`"))),
        None => {
            let database = url.rsplit('/').next().unwrap_or_default().split('?').next().unwrap_or_default();
            ir.hubs
                .iter()
                .find(|h| h.database == database)
                .ok_or_else(|| crate::Fatal(format!("no hub uses database `{database}`; name the hub with --hub")))
        }
    }
}

fn report(findings: &[Finding], format: Format) {
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(findings).unwrap_or_default()),
        Format::Text => {
            for f in findings {
                println!("{}: {}", paint(&format!("drift[{}]", f.kind), "\x1b[1;31m"), f.message);
                if let Some(path) = &f.path {
                    println!("  --> {path}");
                }
                if let Some(diff) = &f.diff {
                    // The whole diff is in --format json; a screenful is enough here.
                    const SHOWN: usize = 40;
                    for line in diff.lines().take(SHOWN) {
                        println!("  {line}");
                    }
                    let rest = diff.lines().count().saturating_sub(SHOWN);
                    if rest > 0 {
                        println!("  ... {rest} more line(s)");
                    }
                }
            }
            if findings.is_empty() {
                println!("no drift");
            } else {
                println!("{} finding(s)", findings.len());
            }
        }
    }
    // GitHub Actions turns these lines into annotations on the pull request.
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        for f in findings {
            let file = f.path.as_deref().map(|p| format!(" file={p}")).unwrap_or_default();
            let message = f.message.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A");
            println!("::error{file},title=hubgen drift ({})::{message}", f.kind);
        }
    }
}
