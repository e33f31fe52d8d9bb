//! `hubgen`: the command-line front end. Reads files, calls the pure core,
//! prints diagnostics, writes files only when their content changed.

mod allocator;
mod check;
mod config;
mod import;
mod init;
mod maintain;
mod migrate;
mod tenants;
mod verify;

use clap::{Parser, Subcommand};
use hubgen_schema::{diagnostics::render_all, SourceFile};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const DEFAULT_SCHEMA: &str = "schema/platform.hubs";

#[derive(Parser)]
#[command(
    name = "hubgen",
    version,
    about = "One schema file for every hub: migrations, RLS, typed crates and drift checks",
    after_help = "Exit codes:\n  0  clean\n  1  findings: schema errors, files not formatted, a refused migration, drift\n  2  usage or I/O error (and `check` on a schema with errors)\n\nColour is used only when stderr is a terminal and NO_COLOR is not set."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and validate schema files; print every diagnostic.
    Validate {
        /// Schema files (default: schema/platform.hubs).
        files: Vec<PathBuf>,
    },
    /// Generate every hub's migrations (the next one, when it has some), lock and Rust crate.
    Generate {
        /// Schema file (default: schema/platform.hubs).
        #[arg(long)]
        schema: Option<PathBuf>,
        /// Directory to write `migrations/<hub>/` into (default: the schema's project root).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Migration file naming: `sqlx` (0001_initial.sql) or `flyway` (V1__initial.sql).
        #[arg(long, value_enum, default_value = "sqlx")]
        flavor: FlavorArg,
        /// Let destructive changes (drop table/column/partition/enum, narrowing a type) into the next migration.
        #[arg(long)]
        allow_destructive: bool,
        /// After a merge in which both branches added a migration: remove this branch's generated
        /// migrations the lock does not record (take the merged branch's lock first) and plan them again after it.
        #[arg(long)]
        rebase: bool,
    },
    /// Check for drift: stale generated files, schema changes without a migration,
    /// edited migrations and, with --database-url, a live database that differs.
    Check {
        /// Schema file (default: schema/platform.hubs).
        #[arg(long)]
        schema: Option<PathBuf>,
        /// Project root holding migrations/ and generated/ (default: the schema's project root).
        #[arg(long)]
        root: Option<PathBuf>,
        /// Also compare a live database with the schema (read-only).
        #[arg(long)]
        database_url: Option<String>,
        /// The hub the database belongs to (default: the hub whose database name the URL names).
        #[arg(long)]
        hub: Option<String>,
        /// Output: human-readable text or JSON.
        #[arg(long, value_enum, default_value = "text")]
        format: check::Format,
    },
    /// Prove a hub's row-level security on a live database at the schema's version: per scoped
    /// table, own rows only, nothing without a context, other scopes out of reach for every
    /// write, FORCE on, partitions queried directly, the scope predicate in an Index Cond.
    /// Runs in one transaction that is rolled back; connect as a superuser.
    Verify {
        /// Schema file (default: schema/platform.hubs).
        #[arg(long)]
        schema: Option<PathBuf>,
        /// The database to verify.
        #[arg(long)]
        database_url: String,
        /// The hub the database belongs to (default: the hub whose database name the URL names).
        #[arg(long)]
        hub: Option<String>,
    },
    /// Write schema text for an existing database (to stdout or --out); what the language
    /// cannot express is named on stderr. Reads only.
    Import {
        /// The database to read.
        #[arg(long)]
        database_url: String,
        /// The hub's name (default: the database's name). hubgen's own roles and grants
        /// (<hub>_app, <hub>_readonly) are recognised by it.
        #[arg(long)]
        hub: Option<String>,
        /// Write here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Start a project in DIR (default: here): a schema with one hub, hubgen.toml, a Cargo
    /// workspace for the generated crates, a README. Its crates build without this repository.
    Init {
        /// The project's folder (made if missing; existing files are never overwritten).
        dir: Option<PathBuf>,
        /// hubgen-runtime from this folder (default: the runtime this hubgen was built from).
        #[arg(long, conflicts_with_all = ["runtime_git", "runtime_version"])]
        runtime_path: Option<PathBuf>,
        /// hubgen-runtime from this git repository.
        #[arg(long, conflicts_with = "runtime_version")]
        runtime_git: Option<String>,
        /// The git revision of --runtime-git.
        #[arg(long, requires = "runtime_git")]
        runtime_rev: Option<String>,
        /// hubgen-runtime of this version, from the registry.
        #[arg(long)]
        runtime_version: Option<String>,
    },
    /// Apply every hub's pending migrations to its database, in order, under the database's
    /// migration lock (the one sqlx takes: concurrent runs apply each migration once). A
    /// migration that times out waiting for a lock is retried with a growing wait, each try
    /// all or nothing. A hub's URL: --database-url, else $<HUB>_DATABASE_URL, else
    /// [databases] in hubgen.toml, else $DATABASE_URL's server with the hub's database.
    Migrate {
        #[command(flatten)]
        on: migrate::Request,
        /// Print what would run; run nothing.
        #[arg(long)]
        dry_run: bool,
        /// Tries after the first for a migration that timed out waiting for a lock.
        #[arg(long, default_value_t = 3)]
        retries: u32,
        /// The wait before the first retry, doubling for each next one (at most 30s).
        #[arg(long, default_value = "1s")]
        backoff: String,
    },
    /// Show each hub's applied and pending migrations (reads only); exit 1 if one is behind.
    Status {
        #[command(flatten)]
        on: migrate::Request,
    },
    /// Keep the data lifecycle on a live database: make partitions ahead, retire those past
    /// retention, archive them (gzip CSV, read back and counted) before dropping them, and delete
    /// old rows of tables with `retain ... by`. Every step commits on its own and can be rerun;
    /// connect as a role that bypasses row-level security.
    Maintain {
        /// Schema file (default: schema/platform.hubs).
        #[arg(long)]
        schema: Option<PathBuf>,
        /// The database to maintain.
        #[arg(long)]
        database_url: String,
        /// The hub the database belongs to (default: the hub whose database name the URL names).
        #[arg(long)]
        hub: Option<String>,
        /// Where archives go, one `<schema>.<partition>.csv.gz` each.
        #[arg(long, default_value = "archive")]
        archive_dir: PathBuf,
        /// The clock: an RFC 3339 time or a date (default: now).
        #[arg(long)]
        now: Option<String>,
        /// Rows deleted per batch by row retention.
        #[arg(long, default_value_t = 10_000)]
        batch: i64,
    },
    /// Schema per tenant: provision a tenant's copy of the hub's `per tenant` schema, list the
    /// copies, or bring every copy to the template's version (resumable: rerun after a failure).
    Tenants {
        #[command(subcommand)]
        action: TenantsAction,
        /// Schema file (default: schema/platform.hubs).
        #[arg(long, global = true)]
        schema: Option<PathBuf>,
        /// Project root holding migrations/ (default: the schema's project root).
        #[arg(long, global = true)]
        root: Option<PathBuf>,
        /// The database.
        #[arg(long, global = true)]
        database_url: Option<String>,
        /// The hub the database belongs to (default: the hub whose database name the URL names).
        #[arg(long, global = true)]
        hub: Option<String>,
    },
    /// Print what erasing one data subject does in every hub (or --hub): each table's rows
    /// deleted, anonymized or kept, in the order the hub's erase function runs them.
    ErasePlan {
        /// Schema file (default: schema/platform.hubs).
        #[arg(long)]
        schema: Option<PathBuf>,
        /// Only this hub.
        #[arg(long)]
        hub: Option<String>,
    },
    /// Print the resolved IR (what the generators see) as JSON.
    Ir {
        /// Schema file (default: schema/platform.hubs).
        file: Option<PathBuf>,
    },
    /// Rewrite schema files in the canonical layout.
    Fmt {
        /// Do not write; print a diff and exit 1 if a file is not formatted.
        #[arg(long)]
        check: bool,
        /// Schema files (default: schema/platform.hubs).
        files: Vec<PathBuf>,
    },
}

#[derive(Subcommand)]
enum TenantsAction {
    /// Provision the schema of each tenant id (at the template's version; an existing one is kept).
    Provision {
        /// Tenant ids: `123`, or a UUID (its dashes dropped in the schema name).
        #[arg(required = true)]
        tenants: Vec<String>,
    },
    /// List the tenant schemas and their versions.
    List,
    /// Bring every tenant schema to the template's version.
    Migrate,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum FlavorArg {
    Sqlx,
    Flyway,
}

/// A failure that is not a finding: unreadable file, unwritable output.
pub(crate) struct Fatal(pub(crate) String);

fn main() -> ExitCode {
    allocator::keep_freed_memory();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate { files } => validate(&files_or_default(files)),
        Command::Fmt { check, files } => fmt(&files_or_default(files), check),
        Command::Generate {
            schema,
            out,
            flavor,
            allow_destructive,
            rebase,
        } => generate(schema, out, flavor, allow_destructive, rebase),
        Command::Check {
            schema,
            root,
            database_url,
            hub,
            format,
        } => {
            let path = files_or_default(schema.into_iter().collect()).remove(0);
            let root = root.unwrap_or_else(|| project_root(&path));
            check::run(&path, &root, database_url.as_deref(), hub.as_deref(), format)
        }
        Command::Verify { schema, database_url, hub } => {
            let path = files_or_default(schema.into_iter().collect()).remove(0);
            verify::run(&path, &database_url, hub.as_deref())
        }
        Command::Import { database_url, hub, out } => import::run(&database_url, hub.as_deref(), out.as_deref()),
        Command::Init {
            dir,
            runtime_path,
            runtime_git,
            runtime_rev,
            runtime_version,
        } => {
            let runtime = match (runtime_path, runtime_git, runtime_version) {
                (Some(path), _, _) => init::Runtime::Path(path),
                (_, Some(url), _) => init::Runtime::Git { url, rev: runtime_rev },
                (_, _, Some(version)) => init::Runtime::Version(version),
                _ => init::Runtime::Default,
            };
            init::run(&dir.unwrap_or_else(|| PathBuf::from(".")), runtime)
        }
        Command::Migrate {
            on,
            dry_run,
            retries,
            backoff,
        } => migrate::migrate(&on, dry_run, retries, &backoff),
        Command::Status { on } => migrate::status(&on),
        Command::Maintain {
            schema,
            database_url,
            hub,
            archive_dir,
            now,
            batch,
        } => {
            let path = files_or_default(schema.into_iter().collect()).remove(0);
            maintain::run(&path, &database_url, hub.as_deref(), &archive_dir, now.as_deref(), batch)
        }
        Command::Tenants {
            action,
            schema,
            root,
            database_url,
            hub,
        } => {
            let path = files_or_default(schema.into_iter().collect()).remove(0);
            let root = root.unwrap_or_else(|| project_root(&path));
            tenants::run(&path, &root, database_url.as_deref(), hub.as_deref(), action)
        }
        Command::ErasePlan { schema, hub } => erase_plan(&files_or_default(schema.into_iter().collect())[0], hub.as_deref()),
        Command::Ir { file } => ir(&files_or_default(file.into_iter().collect())[0]),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(Fatal(message)) => {
            eprintln!("{}: {message}", paint("error", "\x1b[1;31m"));
            ExitCode::from(2)
        }
    }
}

pub(crate) fn color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

pub(crate) fn paint(text: &str, style: &str) -> String {
    if color() {
        format!("{style}{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// The platform schema, found from the current directory or any parent.
pub(crate) fn files_or_default(files: Vec<PathBuf>) -> Vec<PathBuf> {
    if !files.is_empty() {
        return files;
    }
    let mut dir = std::env::current_dir().ok();
    while let Some(d) = dir {
        let candidate = d.join(DEFAULT_SCHEMA);
        if candidate.is_file() {
            return vec![candidate
                .strip_prefix(std::env::current_dir().unwrap_or_default())
                .map(Path::to_path_buf)
                .unwrap_or(candidate)];
        }
        dir = d.parent().map(Path::to_path_buf);
    }
    vec![PathBuf::from(DEFAULT_SCHEMA)]
}

fn read(path: &Path) -> Result<SourceFile, Fatal> {
    let text = std::fs::read_to_string(path).map_err(|e| Fatal(format!("cannot read {}: {e}", path.display())))?;
    Ok(SourceFile::new(path.display().to_string(), text))
}

/// Compiles a schema for a command that needs its IR, printing every
/// diagnostic; errors are fatal ("fix them before <doing>").
pub(crate) fn compile_or_fatal(path: &Path, doing: &str) -> Result<hubgen_schema::ir::Schema, Fatal> {
    let file = read(path)?;
    let output = hubgen_schema::compile(&file.text);
    if !output.diagnostics.is_empty() {
        eprint!("{}", render_all(&output.diagnostics, &file, color()));
    }
    output
        .ir
        .ok_or_else(|| Fatal(format!("{} has errors; fix them before {doing}", path.display())))
}

/// One thread is enough: the live commands run one connection at a time.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Fatal> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Fatal(e.to_string()))
}

fn validate(files: &[PathBuf]) -> Result<bool, Fatal> {
    let mut clean = true;
    for path in files {
        let file = read(path)?;
        let output = hubgen_schema::compile(&file.text);
        if !output.diagnostics.is_empty() {
            eprint!("{}", render_all(&output.diagnostics, &file, color()));
            eprintln!();
        }
        let errors = output.diagnostics.iter().filter(|d| d.is_error()).count();
        let warnings = output.diagnostics.len() - errors;
        match &output.ir {
            Some(ir) if errors == 0 => {
                let tables: usize = ir.hubs.iter().map(|h| h.tables.len()).sum();
                let columns: usize = ir.hubs.iter().flat_map(|h| &h.tables).map(|t| t.columns.len()).sum();
                println!(
                    "{}: ok, {} hubs, {tables} tables, {columns} columns{}",
                    file.path,
                    ir.hubs.len(),
                    if warnings > 0 {
                        format!(", {warnings} warning(s)")
                    } else {
                        String::new()
                    }
                );
            }
            _ => {
                clean = false;
                eprintln!(
                    "{}: {} error(s), {warnings} warning(s) in {}",
                    paint("error", "\x1b[1;31m"),
                    errors,
                    file.path
                );
            }
        }
    }
    Ok(clean)
}

/// A schema in `<root>/schema/` belongs to the project at `<root>` (as
/// `hub!` assumes); any other schema's output goes to the current directory.
pub(crate) fn project_root(schema: &Path) -> PathBuf {
    match schema.parent() {
        Some(dir) if dir.file_name().is_some_and(|n| n == "schema") => dir.parent().map(Path::to_path_buf).unwrap_or_default(),
        _ => PathBuf::from("."),
    }
}

/// The schema path as headers name it: relative to the output root, so every checkout writes the same bytes.
pub(crate) fn header_path(schema: &Path, root: &Path) -> String {
    schema
        .canonicalize()
        .ok()
        .and_then(|p| root.canonicalize().ok().and_then(|o| p.strip_prefix(o).ok().map(Path::to_path_buf)))
        .unwrap_or_else(|| schema.to_path_buf())
        .display()
        .to_string()
}

fn generate(
    schema: Option<PathBuf>,
    out: Option<PathBuf>,
    flavor: FlavorArg,
    allow_destructive: bool,
    rebase: bool,
) -> Result<bool, Fatal> {
    let path = files_or_default(schema.into_iter().collect()).remove(0);
    let out = out.unwrap_or_else(|| project_root(&path));
    let file = read(&path)?;
    let output = hubgen_schema::compile(&file.text);
    if !output.diagnostics.is_empty() {
        // Warnings too: a schema that generates can still deserve a second look.
        eprint!("{}", render_all(&output.diagnostics, &file, color()));
    }
    let Some(ir) = output.ir else {
        eprintln!("{}: {} has errors; nothing generated", paint("error", "\x1b[1;31m"), file.path);
        return Ok(false);
    };
    let config = hubgen_codegen::Config {
        schema_path: header_path(&path, &out),
        flavor: match flavor {
            FlavorArg::Sqlx => hubgen_codegen::Flavor::Sqlx,
            FlavorArg::Flyway => hubgen_codegen::Flavor::Flyway,
        },
        allow_destructive,
        crates: config::ProjectConfig::read(&out)?.crates(),
        single_threaded: false,
    };
    let project = hubgen_codegen::Project::at(&out);
    let mut existing = project.existing().map_err(Fatal)?;
    if rebase {
        for (hub, state) in &mut existing.hubs {
            for name in hubgen_codegen::generate::unrecorded_generated(state) {
                let path = project.migrations_dir(hub).join(&name);
                std::fs::remove_file(&path).map_err(|e| Fatal(format!("cannot remove {}: {e}", path.display())))?;
                println!("removed {} (not in the lock: planned again below)", path.display());
                state.files.remove(&name);
            }
        }
    }
    let generated = hubgen_codegen::generate_from(&ir, &existing, &config);
    if !generated.refusals.is_empty() {
        let placed: Vec<_> = generated.refusals.iter().map(|r| r.placed(&output.ast)).collect();
        eprint!("{}", render_all(&placed, &file, color()));
    }
    for lint in &generated.lints {
        let source = SourceFile::new(lint.path.clone(), lint.text.clone());
        eprint!("{}", render_all(&lint.diagnostics, &source, color()));
        eprintln!();
    }
    if generated.refused() {
        eprintln!(
            "{}: the next migration is refused (see above); nothing was written",
            paint("error", "\x1b[1;31m")
        );
        return Ok(false);
    }
    let (mut written, mut unchanged) = (0, 0);
    for (relative, contents) in &generated.files {
        let target = out.join(relative);
        if std::fs::read(&target).is_ok_and(|existing| existing == contents.as_bytes()) {
            unchanged += 1;
            continue;
        }
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Fatal(format!("cannot create {}: {e}", dir.display())))?;
        }
        std::fs::write(&target, contents).map_err(|e| Fatal(format!("cannot write {}: {e}", target.display())))?;
        println!("wrote {}", target.display());
        written += 1;
    }
    println!(
        "{}: {} hubs, {written} file(s) written, {unchanged} unchanged",
        file.path,
        ir.hubs.len()
    );
    Ok(true)
}

fn erase_plan(path: &Path, hub: Option<&str>) -> Result<bool, Fatal> {
    let file = read(path)?;
    let output = hubgen_schema::compile(&file.text);
    eprint!("{}", render_all(&output.diagnostics, &file, color()));
    let Some(ir) = output.ir else { return Ok(false) };
    if let Some(name) = hub.filter(|h| !ir.hubs.iter().any(|x| x.name == *h)) {
        return Err(Fatal(format!("{}: no hub `{name}`", file.path)));
    }
    print!("{}", hubgen_codegen::erasure::plan_text(&ir, hub));
    Ok(true)
}

fn ir(path: &Path) -> Result<bool, Fatal> {
    let file = read(path)?;
    let output = hubgen_schema::compile(&file.text);
    match output.ir {
        Some(ir) => {
            println!("{}", serde_json::to_string_pretty(&ir).map_err(|e| Fatal(e.to_string()))?);
            Ok(true)
        }
        None => {
            eprint!("{}", render_all(&output.diagnostics, &file, color()));
            Ok(false)
        }
    }
}

fn fmt(files: &[PathBuf], check: bool) -> Result<bool, Fatal> {
    let mut clean = true;
    for path in files {
        let file = read(path)?;
        let formatted = match hubgen_schema::format::format_source(&file.text) {
            Ok(text) => text,
            Err(diagnostics) => {
                eprint!("{}", render_all(&diagnostics, &file, color()));
                eprintln!(
                    "{}: {} is not formatted because it does not parse",
                    paint("error", "\x1b[1;31m"),
                    file.path
                );
                clean = false;
                continue;
            }
        };
        if formatted == file.text {
            continue;
        }
        if check {
            clean = false;
            let diff = similar::TextDiff::from_lines(&file.text, &formatted);
            print!(
                "{}",
                diff.unified_diff()
                    .context_radius(2)
                    .header(&file.path, &format!("{} (formatted)", file.path))
            );
        } else {
            std::fs::write(path, &formatted).map_err(|e| Fatal(format!("cannot write {}: {e}", path.display())))?;
            println!("formatted {}", file.path);
        }
    }
    Ok(clean)
}
