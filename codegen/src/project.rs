//! The layout of a hubgen project, shared by the CLI, the macro and the
//! tests: `schema/` holds the schema, `migrations/<hub>/` each hub's
//! migrations and lock, `generated/<hub>/` each hub's crate. The one module
//! of this crate that reads files; everything it returns feeds the pure core.

use crate::generate::{Existing, HubState, Lock, LOCK_FILE};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A project rooted at `root`.
#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
}

impl Project {
    pub fn at(root: impl Into<PathBuf>) -> Project {
        Project { root: root.into() }
    }

    /// The project whose `schema/` folder holds `schema_file`.
    pub fn of_schema(schema_file: &Path) -> Project {
        let root = schema_file.parent().and_then(Path::parent).unwrap_or(Path::new("."));
        Project::at(root)
    }

    pub fn migrations_dir(&self, hub: &str) -> PathBuf {
        self.root.join("migrations").join(hub)
    }

    /// Every hub folder under `migrations/`: its lock and its migration files.
    /// A lock that does not parse is reported in the hub's state, not as an
    /// error, so `generate` and `check` can say what to do about it.
    pub fn existing(&self) -> Result<Existing, String> {
        let mut existing = Existing::default();
        let Ok(entries) = std::fs::read_dir(self.root.join("migrations")) else {
            return Ok(existing);
        };
        for entry in entries.flatten() {
            let dir = entry.path();
            if dir.is_dir() {
                let hub = entry.file_name().to_string_lossy().into_owned();
                existing.hubs.insert(hub, read_hub(&dir)?);
            }
        }
        Ok(existing)
    }

    /// Every file under `generated/`: path relative to the root (with `/`) → contents.
    pub fn generated_files(&self) -> Result<BTreeMap<String, String>, String> {
        let mut out = BTreeMap::new();
        self.read_tree(&self.root.join("generated"), &mut out)?;
        Ok(out)
    }

    fn read_tree(&self, dir: &Path, out: &mut BTreeMap<String, String>) -> Result<(), String> {
        let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                self.read_tree(&path, out)?;
            } else if let Ok(relative) = path.strip_prefix(&self.root) {
                let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                let relative: Vec<String> = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.insert(relative.join("/"), String::from_utf8_lossy(&bytes).into_owned());
            }
        }
        Ok(())
    }

    /// The migrations a hub crate embeds (forward, then the tenant schemas' upgrades), as on disk.
    pub fn forward_migrations(&self, hub: &str) -> Result<Vec<(String, String)>, String> {
        let dir = self.migrations_dir(hub);
        if !dir.is_dir() {
            return Ok(Vec::new());
        }
        Ok(crate::generate::embedded_migrations(&read_hub(&dir)?.files))
    }
}

fn read_hub(dir: &Path) -> Result<HubState, String> {
    let mut state = HubState::default();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for file in entries.flatten() {
        let name = file.file_name().to_string_lossy().into_owned();
        if name != LOCK_FILE && !is_migration_file(&name) {
            continue;
        }
        let text = std::fs::read_to_string(file.path()).map_err(|e| format!("cannot read {}: {e}", file.path().display()))?;
        if name == LOCK_FILE {
            match serde_json::from_str::<Lock>(&text) {
                Ok(lock) => state.lock = Some(lock),
                Err(e) => state.lock_error = Some(e.to_string()),
            }
        } else {
            state.files.insert(name, text);
        }
    }
    // The tenant schemas' upgrades, keyed `tenant/<file>`.
    let tenant = dir.join(crate::tenant::FOLDER);
    if let Ok(entries) = std::fs::read_dir(&tenant) {
        for file in entries.flatten() {
            let name = file.file_name().to_string_lossy().into_owned();
            if name.ends_with(".sql") {
                let text = std::fs::read_to_string(file.path()).map_err(|e| format!("cannot read {}: {e}", file.path().display()))?;
                state.files.insert(format!("{}/{name}", crate::tenant::FOLDER), text);
            }
        }
    }
    Ok(state)
}

/// Files a migrations folder may hold besides the lock: SQL, and Flyway's per-script configuration.
pub fn is_migration_file(name: &str) -> bool {
    name.ends_with(".sql") || name.ends_with(".sql.conf")
}
