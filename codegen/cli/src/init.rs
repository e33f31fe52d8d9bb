//! `hubgen init [DIR]`: a new project that builds without this repository —
//! a schema with one hub, `hubgen.toml` naming where the generated crates
//! take `hubgen-runtime` from and the hub's database, a Cargo workspace for
//! the generated crates, a README and a `.gitignore`. Nothing is overwritten.

use crate::{paint, Fatal};
use std::path::{Path, PathBuf};

/// Where the new project's crates take `hubgen-runtime` from.
pub enum Runtime {
    Path(PathBuf),
    Git {
        url: String,
        rev: Option<String>,
    },
    Version(String),
    /// The runtime this hubgen was built with, if its source is still there.
    Default,
}

pub fn run(dir: &Path, runtime: Runtime) -> Result<bool, Fatal> {
    let name = project_name(dir);
    let runtime = runtime_table(runtime)?;
    let schema = hubgen_schema::format::format_source(&schema_text(&name))
        .map_err(|_| Fatal("the starter schema does not parse (a hubgen bug)".into()))?;
    let files: [(&str, String); 5] = [
        ("schema/platform.hubs", schema),
        (crate::config::FILE, config_text(&name, &runtime)),
        ("Cargo.toml", WORKSPACE.to_string()),
        ("README.md", readme_text(&name)),
        (".gitignore", "/target\n".to_string()),
    ];
    let taken: Vec<&str> = files.iter().map(|(f, _)| *f).filter(|f| dir.join(f).exists()).collect();
    if !taken.is_empty() {
        eprintln!(
            "{}: {} already has {}; nothing was written (init makes new projects only)",
            paint("error", "\x1b[1;31m"),
            dir.display(),
            taken.join(", ")
        );
        return Ok(false);
    }
    for (file, text) in &files {
        let path = dir.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Fatal(format!("cannot create {}: {e}", parent.display())))?;
        }
        std::fs::write(&path, text).map_err(|e| Fatal(format!("cannot write {}: {e}", path.display())))?;
        println!("wrote {}", path.display());
    }
    println!(
        "{} project `{name}` in {}: next, `hubgen generate` there, then `cargo build`",
        paint("✓", "\x1b[1;32m"),
        dir.display()
    );
    Ok(true)
}

/// The directory's name as an identifier: `my-shop` → `my_shop`.
fn project_name(dir: &Path) -> String {
    let base = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let name: String = base
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    match name.trim_matches('_') {
        "" => "project".to_string(),
        n if n.starts_with(|c: char| c.is_ascii_digit()) => format!("p_{n}"),
        n => n.to_string(),
    }
}

/// `hubgen-runtime`'s source as a TOML inline table.
fn runtime_table(runtime: Runtime) -> Result<String, Fatal> {
    let quoted = |s: &str| toml::Value::String(s.to_string()).to_string();
    Ok(match runtime {
        Runtime::Path(path) => {
            // As the user named it from here; the config reads it from the project folder.
            let path = path
                .canonicalize()
                .map_err(|e| Fatal(format!("--runtime-path {}: {e}", path.display())))?;
            format!("{{ path = {} }}", quoted(&path.display().to_string()))
        }
        Runtime::Git { url, rev: Some(rev) } => format!("{{ git = {}, rev = {} }}", quoted(&url), quoted(&rev)),
        Runtime::Git { url, rev: None } => format!("{{ git = {} }}", quoted(&url)),
        Runtime::Version(version) => format!("{{ version = {} }}", quoted(&version)),
        Runtime::Default => {
            let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime");
            let path = built.canonicalize().map_err(|_| {
                Fatal("say where the generated crates get hubgen-runtime: --runtime-path, --runtime-git or --runtime-version".into())
            })?;
            format!("{{ path = {} }}", quoted(&path.display().to_string()))
        }
    })
}

fn schema_text(name: &str) -> String {
    format!(
        r#"/// {name}: one hub to begin with. Add tables to it and hubs beside it;
/// `hubgen generate` turns them into migrations and a crate per hub.
hub main database {name}_main {{
  /// The people who sign in, each reaching only their own row. Erasing one
  /// (`erase_subject`) removes what is theirs from every hub.
  table users owner_scoped(id) data_subject {{
    id uuid primary key default gen_random_uuid()
    email text unique not null @pii
    name text @pii
  }}

  /// What the service keeps, one tenant's rows apart from another's: replace it with your own.
  table notes tenant_scoped(tenant_id) {{
    id uuid primary key default gen_random_uuid()
    tenant_id uuid not null
    author_id uuid references users(id)
    title text not null
    body text
    created_at timestamptz not null default now()

    index idx_notes_tenant_id_created_at (tenant_id, created_at)
  }}
}}
"#
    )
}

fn config_text(name: &str, runtime: &str) -> String {
    format!(
        r#"# hubgen's settings for this project (the schema is schema/platform.hubs).

# Where the generated crates take hubgen-runtime from: {{ path = … }},
# {{ git = …, rev = … }} or {{ version = … }}. A relative path is this folder's.
[crates]
runtime = {runtime}

# Each hub's database, for `hubgen migrate` and `hubgen status`
# ($<HUB>_DATABASE_URL wins; $DATABASE_URL names a server for all hubs).
[databases]
main = "postgres://postgres@127.0.0.1:5432/{name}_main"
"#
    )
}

const WORKSPACE: &str = r#"# The generated crates (hubgen generate writes generated/<hub>/); add your services here.
[workspace]
resolver = "2"
members = ["generated/*"]

# Dependencies (sqlx, its drivers) optimized a little even in debug builds.
[profile.dev.package."*"]
opt-level = 1
"#;

fn readme_text(name: &str) -> String {
    format!(
        r#"# {name}

The schema is `schema/platform.hubs`: one file for every hub's tables,
tenant isolation and roles. From it, hubgen writes each hub's migrations
(`migrations/<hub>/`) and a typed Rust crate (`generated/<hub>/`, with its
README and ER diagram).

```sh
hubgen generate        # schema → migrations/<hub>/ and generated/<hub>/
cargo build            # the generated crates
hubgen migrate         # apply pending migrations (databases: hubgen.toml)
hubgen status          # what is applied and pending, per hub
hubgen check           # drift between schema, migrations and generated files
hubgen erase-plan      # what erasing one person does, hub by hub
```

Change the schema, run `hubgen generate` again: each hub with a change gets
its next migration, never a rewritten one. `hubgen.toml` says where the
crates find `hubgen-runtime` and where each hub's database is.
"#
    )
}
