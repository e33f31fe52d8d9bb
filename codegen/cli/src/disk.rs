//! What `generate` and `check` read from disk: each hub's lock and migration files.

use hubgen_codegen::generate::{Lock, LOCK_FILE};
use hubgen_codegen::{Existing, HubState};
use std::path::Path;

/// Reads `<root>/migrations/<hub>/` for every hub directory there.
pub fn existing(root: &Path) -> Result<Existing, String> {
    let mut existing = Existing::default();
    let Ok(entries) = std::fs::read_dir(root.join("migrations")) else {
        return Ok(existing);
    };
    for entry in entries.flatten() {
        let dir = entry.path();
        if !dir.is_dir() {
            continue;
        }
        let hub = entry.file_name().to_string_lossy().into_owned();
        let mut state = HubState::default();
        for file in std::fs::read_dir(&dir)
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
            .flatten()
        {
            let name = file.file_name().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(file.path()).map_err(|e| format!("cannot read {}: {e}", file.path().display()))?;
            if name == LOCK_FILE {
                let lock: Lock = serde_json::from_str(&text).map_err(|e| format!("{} is not a valid lock: {e}", file.path().display()))?;
                state.lock = Some(lock);
            } else if name.ends_with(".sql") {
                state.files.insert(name, text);
            }
        }
        existing.hubs.insert(hub, state);
    }
    Ok(existing)
}
