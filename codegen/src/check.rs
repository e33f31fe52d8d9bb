//! Drift that the files alone show: a migrations folder that would not
//! apply as the lock says. Pure: what is on disk in, findings out; the CLI
//! adds generated-file and live-database drift.

use crate::generate::{forward_migrations, version_of, HubState, LOCK_FILE};
use crate::hash;
use serde::Serialize;
use std::collections::BTreeMap;

/// One drift finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `stale-generated-file`, `unrecorded-change`, `edited-migration`,
    /// `missing-migration`, `unknown-migration`, `version-conflict`,
    /// `version-gap`, `missing-lock` or `database-drift`.
    pub kind: &'static str,
    pub hub: Option<String>,
    /// The file to look at, relative to the project root.
    pub path: Option<String>,
    pub message: String,
    /// A unified diff or the planned steps, where there is one.
    pub diff: Option<String>,
}

fn finding(kind: &'static str, hub: &str, path: String, message: String) -> Finding {
    Finding {
        kind,
        hub: Some(hub.to_string()),
        path: Some(path),
        message,
        diff: None,
    }
}

/// Checks one hub's migrations folder against its lock: every file recorded
/// with its checksum (up, down and Flyway configuration alike), nothing
/// unknown, versions unique and contiguous from 1.
pub fn folder(hub: &str, state: &HubState) -> Vec<Finding> {
    let dir = format!("migrations/{hub}");
    let mut out = Vec::new();
    let Some(lock) = &state.lock else {
        if state.lock_error.is_some() || !state.files.is_empty() {
            let why = state
                .lock_error
                .as_deref()
                .map_or("it is missing".to_string(), |e| format!("it is damaged ({e})"));
            out.push(finding(
                "missing-lock",
                hub,
                format!("{dir}/{LOCK_FILE}"),
                format!("`{dir}/{LOCK_FILE}` cannot be used: {why}; after a merge, take the lock of the branch you merged (`git checkout --theirs {dir}/{LOCK_FILE}`) and run `hubgen generate --rebase`; otherwise restore it from version control"),
            ));
        }
        out.extend(conflicts(hub, &state.files));
        return out;
    };
    let recorded: BTreeMap<&str, &str> = lock.migrations.iter().map(|m| (m.file.as_str(), m.checksum.as_str())).collect();
    for (file, checksum) in &recorded {
        let path = format!("{dir}/{file}");
        match state.files.get(*file) {
            None => out.push(finding(
                "missing-migration",
                hub,
                path.clone(),
                format!("{path} is recorded in the lock but missing: restore it; migrations are append-only"),
            )),
            Some(text) if hash::hex(text.as_bytes()) != *checksum => out.push(finding(
                "edited-migration",
                hub,
                path.clone(),
                format!("{path} was edited after it was generated (checksum differs): migrations are append-only; restore it and put the change in the schema"),
            )),
            Some(_) => {}
        }
    }
    for file in state.files.keys().filter(|f| !recorded.contains_key(f.as_str())) {
        let path = format!("{dir}/{file}");
        out.push(finding(
            "unknown-migration",
            hub,
            path.clone(),
            format!("{path} is not recorded in the lock: hubgen did not write it (or another branch did); put the change in the schema, or after a merge run `hubgen generate --rebase`"),
        ));
    }
    out.extend(conflicts(hub, &state.files));
    // Versions run 1, 2, 3, … without a hole.
    let versions: Vec<u32> = forward_migrations(&state.files).iter().filter_map(|(n, _)| version_of(n)).collect();
    let mut expected = 1;
    for v in versions {
        if v > expected {
            out.push(finding(
                "version-gap",
                hub,
                dir.clone(),
                format!("hub `{hub}` has no migration {expected} but has {v}: versions must run without a hole"),
            ));
        }
        expected = v + 1;
    }
    out
}

/// Two forward migrations with one version: two branches each added it.
fn conflicts(hub: &str, files: &BTreeMap<String, String>) -> Vec<Finding> {
    let mut by_version: BTreeMap<u32, Vec<&str>> = BTreeMap::new();
    for (name, _) in forward_migrations(files) {
        if let Some(v) = version_of(&name) {
            by_version
                .entry(v)
                .or_default()
                .push(files.get_key_value(&name).map_or("", |(k, _)| k.as_str()));
        }
    }
    by_version
        .into_iter()
        .filter(|(_, names)| names.len() > 1)
        .map(|(v, names)| {
            let listed: Vec<String> = names.iter().map(|n| format!("migrations/{hub}/{n}")).collect();
            finding(
                "version-conflict",
                hub,
                listed[0].clone(),
                format!(
                    "hub `{hub}` has {} migrations numbered {v}: {} (two branches each added one); take the lock of the branch you merged (`git checkout --theirs migrations/{hub}/{LOCK_FILE}`) and run `hubgen generate --rebase` to plan this branch's change after it",
                    names.len(),
                    listed.join(" and ")
                ),
            )
        })
        .collect()
}
