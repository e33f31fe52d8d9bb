//! `hubgen check`: every kind of drift, one exit code. Read-only: it writes
//! no file and, with --database-url, runs only read-only catalog queries.

use crate::{color, header_path, paint};
use hubgen_codegen::catalog;
use hubgen_schema::diagnostics::render_all;
use hubgen_schema::SourceFile;
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// One drift finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// `stale-generated-file`, `unrecorded-change`, `edited-migration` or `database-drift`.
    pub kind: &'static str,
    pub hub: Option<String>,
    /// The file to look at, relative to the project root.
    pub path: Option<String>,
    pub message: String,
    /// A unified diff or the planned steps, where there is one.
    pub diff: Option<String>,
}

pub fn run(schema: &Path, root: &Path, database_url: Option<&str>, hub: Option<&str>, format: Format) -> Result<bool, crate::Fatal> {
    let text = std::fs::read_to_string(schema).map_err(|e| crate::Fatal(format!("cannot read {}: {e}", schema.display())))?;
    let output = hubgen_schema::compile(&text);
    let file = SourceFile::new(schema.display().to_string(), text);
    if !output.diagnostics.is_empty() {
        eprint!("{}", render_all(&output.diagnostics, &file, color()));
    }
    let Some(ir) = output.ir else {
        return Err(crate::Fatal(format!(
            "{} has errors; fix them before checking for drift",
            schema.display()
        )));
    };
    let existing = hubgen_codegen::Project::at(root).existing().map_err(crate::Fatal)?;
    let mut findings = Vec::new();

    for h in &ir.hubs {
        let state = existing.hubs.get(&h.name);
        let Some(lock) = state.and_then(|s| s.lock.as_ref()) else {
            findings.push(Finding {
                kind: "unrecorded-change",
                hub: Some(h.name.clone()),
                path: Some(format!("migrations/{}", h.name)),
                message: format!("hub `{}` has no migrations yet: run `hubgen generate`", h.name),
                diff: None,
            });
            continue;
        };
        if lock.ir != *h {
            let plan = hubgen_codegen::plan::plan(Some(&lock.ir), h);
            let steps: Vec<String> = plan
                .steps
                .iter()
                .map(|s| format!("+ {}", s.summary))
                .chain(plan.errors.iter().map(|e| format!("! {e}")))
                .collect();
            findings.push(Finding {
                kind: "unrecorded-change",
                hub: Some(h.name.clone()),
                path: Some(format!("migrations/{}/{}", h.name, hubgen_codegen::generate::LOCK_FILE)),
                message: format!(
                    "the schema of hub `{}` changed since its last migration ({} step(s) to plan): run `hubgen generate`",
                    h.name,
                    plan.steps.len()
                ),
                diff: (!steps.is_empty()).then(|| steps.join("\n")),
            });
        }
        for locked in &lock.migrations {
            let path = format!("migrations/{}/{}", h.name, locked.file);
            match state.and_then(|s| s.files.get(&locked.file)) {
                None => findings.push(Finding {
                    kind: "edited-migration",
                    hub: Some(h.name.clone()),
                    path: Some(path.clone()),
                    message: format!("{path} was generated and recorded in the lock, but it is missing"),
                    diff: None,
                }),
                Some(text) if hubgen_codegen::hash::hex(text.as_bytes()) != locked.checksum => findings.push(Finding {
                    kind: "edited-migration",
                    hub: Some(h.name.clone()),
                    path: Some(path.clone()),
                    message: format!("{path} was edited after it was generated (checksum differs): migrations are append-only; restore it and put the change in the schema"),
                    diff: None,
                }),
                Some(_) => {}
            }
        }
    }

    // Generated code: what generate would write now, against what is on disk.
    let config = hubgen_codegen::Config {
        schema_path: header_path(schema, root),
        ..Default::default()
    };
    let expected = hubgen_codegen::generate_from(&ir, &existing, &config);
    for (path, contents) in expected.files.iter().filter(|(p, _)| p.starts_with("generated/")) {
        let on_disk = std::fs::read_to_string(root.join(path)).unwrap_or_default();
        if &on_disk != contents {
            let diff = similar::TextDiff::from_lines(&on_disk, contents)
                .unified_diff()
                .context_radius(2)
                .header(path, &format!("{path} (expected)"))
                .to_string();
            findings.push(Finding {
                kind: "stale-generated-file",
                hub: path.split('/').nth(1).map(str::to_string),
                path: Some(path.clone()),
                message: format!("{path} differs from what the schema generates: run `hubgen generate`"),
                diff: Some(diff),
            });
        }
    }

    // Files under generated/ that the schema no longer produces (a removed hub, a renamed crate).
    let mut on_disk = Vec::new();
    collect_files(&root.join("generated"), root, &mut on_disk);
    for path in on_disk.iter().filter(|p| !expected.files.contains_key(*p)) {
        findings.push(Finding {
            kind: "stale-generated-file",
            hub: path.split('/').nth(1).map(str::to_string),
            path: Some(path.clone()),
            message: format!("{path} is not generated by the schema any more: delete it"),
            diff: None,
        });
    }

    if let Some(url) = database_url {
        let target = match hub {
            Some(name) => ir
                .hub(name)
                .ok_or_else(|| crate::Fatal(format!("the schema has no hub `{name}`")))?,
            None => {
                let database = url.rsplit('/').next().unwrap_or_default().split('?').next().unwrap_or_default();
                ir.hubs
                    .iter()
                    .find(|h| h.database == database)
                    .ok_or_else(|| crate::Fatal(format!("no hub uses database `{database}`; name the hub with --hub")))?
            }
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| crate::Fatal(e.to_string()))?;
        let (actual, queries) = runtime
            .block_on(hubgen_live::introspect_read_only(url))
            .map_err(|e| crate::Fatal(format!("cannot read the database: {e}")))?;
        let differences = catalog::diff(&catalog::expected(target), &actual);
        for d in differences {
            findings.push(Finding {
                kind: "database-drift",
                hub: Some(target.name.clone()),
                path: None,
                message: d.to_string(),
                diff: None,
            });
        }
        if format == Format::Text {
            eprintln!("read the live catalog of hub `{}` with {queries} queries", target.name);
        }
    }

    report(&findings, format);
    Ok(findings.is_empty())
}

/// Every file below `dir`, as paths relative to `root` with `/` separators.
fn collect_files(dir: &Path, root: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, root, out);
        } else if let Ok(relative) = path.strip_prefix(root) {
            out.push(
                relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/"),
            );
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
