//! `generate`: the schema's IR in, every generated file out, as a sorted
//! map from relative path to contents. Writing (only what changed) is the
//! front end's job.

use crate::hash;
use crate::plan::files;
use hubgen_schema::ir;
use serde::Serialize;
use std::collections::BTreeMap;

/// How migration files are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flavor {
    /// `0001_initial.sql`: `sqlx migrate run` and `sqlx::migrate!` accept the folder.
    #[default]
    Sqlx,
    /// `V1__initial.sql`, for teams on Flyway.
    Flyway,
}

impl Flavor {
    pub fn file_name(self, version: u32, description: &str) -> String {
        match self {
            Flavor::Sqlx => format!("{version:04}_{description}.sql"),
            Flavor::Flyway => format!("V{version}__{description}.sql"),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The schema path as the user named it; it appears in every header.
    pub schema_path: String,
    pub flavor: Flavor,
    /// Let destructive changes (drops, narrowing) into a migration.
    pub allow_destructive: bool,
    /// Where generated crates take their dependencies from.
    pub crates: Crates,
    /// Render on the calling thread only: inside a proc macro, whose tokens
    /// (proc_macro2 decides once per process) cannot cross threads.
    pub single_threaded: bool,
}

/// Where generated crates take their dependencies from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Crates {
    /// `sqlx.workspace = true`: the enclosing workspace pins them (this repository).
    #[default]
    Workspace,
    /// Each crate names its dependencies itself ([`EXPLICIT_DEPENDENCIES`]),
    /// and `hubgen-runtime` from this source: the inside of a TOML inline
    /// table relative to the crate, such as `path = "../../runtime"`.
    Standalone { runtime: String },
}

fn explicit(name: &str) -> &'static str {
    EXPLICIT_DEPENDENCIES
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("\"*\"", |(_, spec)| spec)
}

/// The dependencies of generated crates as a standalone crate names them;
/// the same as this repository's `[workspace.dependencies]` (a test holds them equal).
pub const EXPLICIT_DEPENDENCIES: &[(&str, &str)] = &[
    (
        "sqlx",
        r#"{ version = "0.8", default-features = false, features = ["runtime-tokio", "postgres", "migrate", "uuid", "chrono", "rust_decimal", "json", "ipnet"] }"#,
    ),
    (
        "tokio",
        r#"{ version = "1", features = ["rt-multi-thread", "macros", "sync", "time"] }"#,
    ),
    ("uuid", r#"{ version = "1", features = ["v4", "serde"] }"#),
    (
        "chrono",
        r#"{ version = "0.4", default-features = false, features = ["std", "clock", "serde"] }"#,
    ),
    ("rust_decimal", r#"{ version = "1", features = ["serde-with-str"] }"#),
    ("schemars", r#"{ version = "0.8", features = ["chrono", "uuid1", "rust_decimal"] }"#),
    ("serde", r#"{ version = "1", features = ["derive"] }"#),
    ("serde_json", r#""1""#),
];

impl Crates {
    /// One dependency line of a generated manifest.
    fn dependency(&self, name: &str, features: &[&str]) -> String {
        let features = features.iter().map(|f| format!("\"{f}\"")).collect::<Vec<_>>().join(", ");
        match self {
            Crates::Workspace if features.is_empty() => format!("{name}.workspace = true\n"),
            Crates::Workspace => format!("{name} = {{ workspace = true, features = [{features}] }}\n"),
            Crates::Standalone { runtime } if name == "hubgen-runtime" => match features.is_empty() {
                true => format!("{name} = {{ {runtime} }}\n"),
                false => format!("{name} = {{ {runtime}, features = [{features}] }}\n"),
            },
            Crates::Standalone { .. } => format!("{name} = {}\n", explicit(name)),
        }
    }

    fn dependencies(&self, names: &[&str]) -> String {
        names.iter().map(|name| self.dependency(name, &[])).collect()
    }

    /// schemars, only with the `json-schema` feature: its derive is a third
    /// of a hub crate's build, and most services never ask for a schema.
    fn schemars(&self) -> String {
        match self {
            Crates::Workspace => "schemars = { workspace = true, optional = true }\n".into(),
            Crates::Standalone { .. } => {
                let inside = explicit("schemars").trim_start_matches("{ ").trim_end_matches(" }");
                format!("schemars = {{ {inside}, optional = true }}\n")
            }
        }
    }
}

/// Relative path → contents, sorted: the same schema always yields the same map.
#[derive(Debug, Clone, Default)]
pub struct Output {
    pub files: BTreeMap<String, String>,
    /// Findings of the migration safety lint, per new migration.
    pub lints: Vec<HubLint>,
    /// Refusals about the schema itself, each anchored to the declaration
    /// that causes it; the front end places them with [`hubgen_schema::locate`].
    pub refusals: Vec<Refusal>,
}

/// A reason nothing may be generated for a hub, located in the schema.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub at: hubgen_schema::Anchor,
    /// Its span is empty until placed in the schema text.
    pub diagnostic: hubgen_schema::Diagnostic,
}

impl Refusal {
    fn new(at: hubgen_schema::Anchor, code: hubgen_schema::diagnostics::Code, message: String, label: &str, help: String) -> Refusal {
        Refusal {
            at,
            diagnostic: hubgen_schema::Diagnostic::new(
                hubgen_schema::Severity::Error,
                code,
                hubgen_schema::Span::default(),
                message,
                label,
                help,
            ),
        }
    }

    /// The diagnostic, pointing at its declaration in `ast` (the hub's name when that is gone).
    pub fn placed(&self, ast: &hubgen_schema::ast::SchemaFile) -> hubgen_schema::Diagnostic {
        hubgen_schema::Diagnostic {
            span: hubgen_schema::locate(ast, &self.at).unwrap_or_default(),
            ..self.diagnostic.clone()
        }
    }
}

/// The lock of a hub: the IR its latest migration was generated from, and
/// each migration's checksum (so an edited migration is detected).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Lock {
    pub hub: String,
    pub migrations: Vec<LockedMigration>,
    pub ir: ir::Hub,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct LockedMigration {
    pub file: String,
    pub checksum: String,
}

pub const LOCK_FILE: &str = "hubgen.lock";

/// What is already on disk for each hub: its lock and its migration files.
#[derive(Debug, Clone, Default)]
pub struct Existing {
    pub hubs: BTreeMap<String, HubState>,
}

#[derive(Debug, Clone, Default)]
pub struct HubState {
    pub lock: Option<Lock>,
    /// Why the lock file could not be read, when it is there but damaged.
    pub lock_error: Option<String>,
    /// Migration file name → contents (the lock excluded).
    pub files: BTreeMap<String, String>,
}

impl HubState {
    /// A refusal when migrations exist but the lock is missing or damaged:
    /// planning from scratch would rewrite migrations databases have applied.
    fn lock_problem(&self, hub: &str) -> Option<Refusal> {
        if self.lock_error.is_none() && self.files.is_empty() {
            return None;
        }
        let path = format!("migrations/{hub}/{LOCK_FILE}");
        let message = match &self.lock_error {
            Some(error) => format!("`{path}` is damaged ({error}), so hubgen cannot tell what the migrations of hub `{hub}` already do"),
            None => format!(
                "hub `{hub}` has {} migration file(s) but no `{path}`, so hubgen cannot tell what they already do",
                self.files.len()
            ),
        };
        Some(Refusal::new(
            hubgen_schema::Anchor::Hub { hub: hub.to_string() },
            hubgen_schema::diagnostics::Code::MissingLock,
            message,
            "its lock is missing",
            format!("restore it from version control (`git checkout -- {path}`); committed migrations are never regenerated"),
        ))
    }
}

/// The safety lint's findings on one new migration.
#[derive(Debug, Clone)]
pub struct HubLint {
    pub hub: String,
    /// The planned migration file, relative to the output root.
    pub path: String,
    pub text: String,
    pub diagnostics: Vec<hubgen_schema::Diagnostic>,
}

impl Output {
    /// Lint errors and refusals mean nothing may be written.
    pub fn refused(&self) -> bool {
        !self.refusals.is_empty() || self.lints.iter().flat_map(|l| &l.diagnostics).any(|d| d.is_error())
    }
}

/// Everything from scratch: an initial migration per hub.
pub fn generate(schema: &ir::Schema, config: &Config) -> Output {
    generate_from(schema, &Existing::default(), config)
}

/// Everything, given what is on disk: hubs with a lock get their next
/// migration planned from it (committed migrations are never rewritten).
pub fn generate_from(schema: &ir::Schema, existing: &Existing, config: &Config) -> Output {
    let mut output = Output::default();
    let rust_header = format!("// @generated by hubgen from {} — do not edit\n\n", config.schema_path);
    let toml_header = format!("# @generated by hubgen from {} — do not edit\n\n", config.schema_path);
    let markdown_header = format!("<!-- @generated by hubgen from {} — do not edit -->\n\n", config.schema_path);
    output
        .files
        .insert("generated/README.md".into(), crate::docs::platform_readme(schema, &markdown_header));
    let shares_ids = crate::rust::shares_ids(schema);
    // Rust sources take most of the time (printed through syn and
    // prettyplease): planned here, rendered below on every core.
    let mut rust_files: Vec<(String, RustFile)> = Vec::new();
    if shares_ids {
        output.files.insert(
            "generated/ids/Cargo.toml".into(),
            format!("{toml_header}{}", ids_manifest(&config.crates)),
        );
        rust_files.push(("generated/ids/src/lib.rs".into(), RustFile::Ids));
    }
    // Each hub's migrations, docs and scripts, on every core; merged in the
    // hubs' order, so the output does not depend on which thread did what.
    let headers = Headers {
        toml: &toml_header,
        markdown: &markdown_header,
        sql: &format!("-- @generated by hubgen from {} — do not edit\n", config.schema_path),
    };
    let hub_file = |hub: &&ir::Hub| hub_files(schema, hub, existing, config, shares_ids, &headers);
    let hubs: Vec<&ir::Hub> = schema.hubs.iter().collect();
    let planned = if config.single_threaded {
        hubs.iter().map(hub_file).collect()
    } else {
        parallel_map(&hubs, hub_file)
    };
    for (hub, (hub_output, embedded)) in hubs.into_iter().zip(planned) {
        output.files.extend(hub_output.files);
        output.lints.extend(hub_output.lints);
        output.refusals.extend(hub_output.refusals);
        if let Some(migrations) = embedded {
            rust_files.push((format!("generated/{}/src/lib.rs", hub.name), RustFile::Crate(hub, migrations)));
            rust_files.push((format!("generated/{}/tests/roundtrip.rs", hub.name), RustFile::Tests(hub)));
        }
    }
    // Largest first, so no core is left with a big file at the end.
    rust_files.sort_by_key(|(_, file)| file.rank());
    let render = |(_, file): &(String, RustFile)| file.render(schema, &rust_header);
    let rendered = if config.single_threaded {
        rust_files.iter().map(render).collect()
    } else {
        parallel_map(&rust_files, render)
    };
    for ((path, _), text) in rust_files.into_iter().zip(rendered) {
        output.files.insert(path, text);
    }
    output
}

/// The `@generated` first lines of the files `generate` writes, by format.
struct Headers<'a> {
    toml: &'a str,
    markdown: &'a str,
    sql: &'a str,
}

/// One hub's files but its Rust sources (migrations, lock, manifest,
/// scripts, README), its lints and refusals; and, where its migrations could
/// be planned, the migrations its crate embeds.
fn hub_files(
    schema: &ir::Schema,
    hub: &ir::Hub,
    existing: &Existing,
    config: &Config,
    shares_ids: bool,
    headers: &Headers,
) -> (Output, Option<Vec<(String, String)>>) {
    let mut output = Output::default();
    let dir = format!("migrations/{}", hub.name);
    let Some((migrations, lock)) = hub_migrations(hub, existing.hubs.get(&hub.name), config, &mut output) else {
        return (output, None);
    };
    for (file, contents) in &migrations {
        output.files.insert(format!("{dir}/{file}"), contents.clone());
    }
    output.files.insert(
        format!("{dir}/{LOCK_FILE}"),
        serde_json::to_string_pretty(&lock).unwrap_or_default() + "\n",
    );
    output.files.insert(
        format!("generated/{}/Cargo.toml", hub.name),
        format!("{}{}", headers.toml, hub_manifest(hub, shares_ids, &config.crates)),
    );
    if let Some(script) = crate::sql::citus::distribution_script(hub) {
        output
            .files
            .insert(format!("generated/{}/citus.sql", hub.name), format!("{}{script}", headers.sql));
    }
    let version = migrations
        .keys()
        .filter(|n| is_forward(n))
        .filter_map(|n| version_of(n))
        .max()
        .unwrap_or(1);
    if let Some(script) = crate::tenant::baseline(hub, version) {
        output.files.insert(
            format!("generated/{}/tenant_schema.sql", hub.name),
            format!("{}{script}", headers.sql),
        );
    }
    if let Some(script) = crate::sql::upkeep::cron_script(hub) {
        output
            .files
            .insert(format!("generated/{}/cron.sql", hub.name), format!("{}{script}", headers.sql));
    }
    output.files.insert(
        format!("generated/{}/README.md", hub.name),
        crate::docs::hub_readme(schema, hub, headers.markdown),
    );
    (output, Some(embedded_migrations(&migrations)))
}

/// A Rust source `generate` writes.
enum RustFile<'a> {
    /// `generated/ids`: the typed IDs hubs share.
    Ids,
    /// A hub's crate, with the migrations it embeds.
    Crate(&'a ir::Hub, Vec<(String, String)>),
    /// A hub's round-trip tests.
    Tests(&'a ir::Hub),
}

impl RustFile<'_> {
    /// Crates, then tests, then the IDs: roughly by size.
    fn rank(&self) -> u8 {
        match self {
            RustFile::Crate(..) => 0,
            RustFile::Tests(_) => 1,
            RustFile::Ids => 2,
        }
    }

    fn render(&self, schema: &ir::Schema, header: &str) -> String {
        let tokens = match self {
            RustFile::Ids => crate::rust::ids_crate(&crate::rust::Ids::of(schema)),
            RustFile::Crate(hub, migrations) => crate::rust::hub_crate(schema, hub, migrations),
            RustFile::Tests(hub) => crate::rust::hub_tests(schema, hub),
        };
        crate::rust::render(tokens, header)
    }
}

/// `f` of every item, computed on every core; the results in the items'
/// order, so the output does not depend on which thread did what.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<Option<R>>> = items.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let result = f(item);
                *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
            });
        }
    });
    slots
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every item is computed once")
        })
        .collect()
}

/// The migrations that run forward, in version order: simple and `.up.sql`
/// files, not `.down.sql` (sqlx) or `U…` (Flyway undo) or Flyway's `.conf`.
pub fn forward_migrations(files: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let mut forward: Vec<(String, String)> = files
        .iter()
        .filter(|(name, _)| is_forward(name))
        .map(|(n, c)| (n.clone(), c.clone()))
        .collect();
    // Flyway's `V10__` sorts before `V2__` as text.
    forward.sort_by_key(|(name, _)| (version_of(name), name.clone()));
    forward
}

/// What a hub crate embeds: [`forward_migrations`], then the tenant
/// schemas' upgrades (`tenant/…`) in version order.
pub fn embedded_migrations(files: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let mut out = forward_migrations(files);
    let mut tenant: Vec<(String, String)> = files
        .iter()
        .filter(|(name, _)| name.starts_with(&format!("{}/", crate::tenant::FOLDER)) && !name.ends_with(".down.sql"))
        .map(|(n, c)| (n.clone(), c.clone()))
        .collect();
    tenant.sort_by_key(|(name, _)| (version_of(name.rsplit('/').next().unwrap_or_default()), name.clone()));
    out.extend(tenant);
    out
}

/// Migrations that run forward: simple and `.up.sql` ones, not `.down.sql`
/// (sqlx) or `U…` (Flyway undo), nor the tenant schemas' (in `tenant/`).
pub fn is_forward(name: &str) -> bool {
    name.ends_with(".sql") && !name.ends_with(".down.sql") && !name.starts_with('U') && !name.contains('/')
}

/// The version in `0002_add_x.up.sql` or `V2__add_x.sql`.
pub fn version_of(name: &str) -> Option<u32> {
    let digits: String = name
        .trim_start_matches(['V', 'U'])
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// A hub's migration files and lock after this run: the first migration for
/// a hub without any, the next ones for a hub with a lock. `None` (and a
/// refusal in `output`) when committed migrations exist without a usable
/// lock: they are never rewritten.
fn hub_migrations(
    hub: &ir::Hub,
    state: Option<&HubState>,
    config: &Config,
    output: &mut Output,
) -> Option<(BTreeMap<String, String>, Lock)> {
    let layout = files::Layout {
        flavor: config.flavor,
        header: &header(hub, config),
        lock_timeout: hub.lock_timeout.as_deref().unwrap_or(files::DEFAULT_LOCK_TIMEOUT),
    };
    let state = state.cloned().unwrap_or_default();
    let Some(lock) = &state.lock else {
        if let Some(problem) = state.lock_problem(&hub.name) {
            output.refusals.push(problem);
            return None;
        }
        let plan = crate::plan::plan(None, hub);
        let file = files::initial(&plan, &layout);
        let lock = Lock {
            hub: hub.name.clone(),
            migrations: locked(&file),
            ir: hub.clone(),
        };
        return Some((file.all().map(|(n, t)| (n.clone(), t.clone())).collect(), lock));
    };
    let mut files = state.files.clone();
    let mut lock = lock.clone();
    if lock.ir == *hub {
        return Some((files, lock));
    }
    let plan = crate::plan::plan(Some(&lock.ir), hub);
    let version = lock.migrations.iter().filter_map(|m| version_of(&m.file)).max().unwrap_or(0) + 1;
    let planned = files::next(&plan, version, &layout);
    // A plan that cannot be made is reported where the schema asks for it.
    output.refusals.extend(plan.errors.iter().map(|error| {
        Refusal::new(
            error.at.clone(),
            hubgen_schema::diagnostics::Code::ImpossibleChange,
            error.message.clone(),
            "cannot plan this change",
            error.help.into(),
        )
    }));
    for file in &planned {
        let diagnostics = crate::plan::lint::lint(&plan, &file.steps, config.allow_destructive, &hub.acknowledged);
        if !diagnostics.is_empty() {
            output.lints.push(HubLint {
                hub: hub.name.clone(),
                path: format!("migrations/{}/{}", hub.name, file.name),
                text: file.text.clone(),
                diagnostics,
            });
        }
        lock.migrations.extend(locked(file));
        files.extend(file.all().map(|(n, t)| (n.clone(), t.clone())));
    }
    // The template's part of the change, for the tenant schemas.
    for (name, text) in crate::tenant::upgrade(&lock.ir, hub, version, layout.header) {
        lock.migrations.push(LockedMigration {
            file: name.clone(),
            checksum: hash::hex(text.as_bytes()),
        });
        files.insert(name, text);
    }
    // Changes PostgreSQL does not store (markers, hints) update the lock alone.
    lock.ir = hub.clone();
    Some((files, lock))
}

/// Migration files hubgen wrote that the lock does not record: after a merge
/// in which the lock was taken from the other branch, this branch's own.
/// `--rebase` removes them so the change is planned again after the lock's.
pub fn unrecorded_generated(state: &HubState) -> Vec<String> {
    let Some(lock) = &state.lock else {
        return Vec::new();
    };
    state
        .files
        .iter()
        .filter(|(name, _)| !lock.migrations.iter().any(|m| &m.file == *name))
        .filter(|(_, text)| {
            let text = text.strip_prefix(files::NO_TRANSACTION).map_or(text.as_str(), str::trim_start);
            text.starts_with("-- @generated by hubgen") || text == "executeInTransaction=false\n"
        })
        .map(|(name, _)| name.clone())
        .collect()
}

/// Lock entries for every file of a planned migration.
fn locked(file: &files::MigrationFile) -> Vec<LockedMigration> {
    file.all()
        .map(|(name, text)| LockedMigration {
            file: name.clone(),
            checksum: hash::hex(text.as_bytes()),
        })
        .collect()
}

/// The package name of a hub's crate: `hub-identity` (crate `hub_identity`).
pub fn hub_package(hub: &str) -> String {
    format!("hub-{}", hub.replace('_', "-"))
}

fn hub_manifest(hub: &ir::Hub, shares_ids: bool, crates: &Crates) -> String {
    let ids = if shares_ids { "hub-ids = { path = \"../ids\" }\n" } else { "" };
    // `@encrypted` columns need the runtime's cryptography.
    let encrypted = hub.tables.iter().flat_map(|t| &t.columns).any(|c| c.encrypted.is_some());
    let runtime_features: &[&str] = if encrypted { &["encryption"] } else { &[] };
    format!(
        r#"[package]
name = "{}"
description = "Typed models and repositories for the {} hub (database {})"
version = "0.1.0"
edition = "2021"
publish = false
readme = "README.md"

[dependencies]
{ids}{}{}
[features]
# `JsonSchema` for the models and filters (schemars; the IDs have it always).
json-schema = ["dep:schemars"]

[dev-dependencies]
{}{}"#,
        hub_package(&hub.name),
        hub.name,
        hub.database,
        crates.dependency("hubgen-runtime", runtime_features) + &crates.dependencies(&["sqlx", "serde", "serde_json"]),
        crates.schemars() + &crates.dependencies(&["uuid", "chrono", "rust_decimal"]),
        crates.dependency("hubgen-runtime", &["testing"]),
        crates.dependency("tokio", &[]),
    )
}

fn ids_manifest(crates: &Crates) -> String {
    // Every impl of a typed ID lives in the runtime (`Id<K>`): the crate
    // declares markers and aliases, and needs nothing else.
    format!(
        r#"[package]
name = "hub-ids"
description = "Typed IDs shared by every hub crate"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
{}"#,
        crates.dependency("hubgen-runtime", &[])
    )
}

/// `-- @generated by hubgen from <schema> — do not edit`, and what the file was made from.
pub fn header(hub: &ir::Hub, config: &Config) -> String {
    let ir_json = serde_json::to_string(hub).unwrap_or_default();
    format!(
        "-- @generated by hubgen from {} — do not edit\n-- hub {} (database {}), schema hash {}\n",
        config.schema_path,
        hub.name,
        hub.database,
        hash::hex(ir_json.as_bytes())
    )
}
