//! `hubgen.toml` at a project's root: the settings the schema does not hold.
//!
//! ```toml
//! # Where generated crates take hubgen-runtime from: { path = … }, { git = …, rev = … }
//! # or { version = … }. Without it they inherit the workspace's dependencies.
//! [crates]
//! runtime = { path = "../hubgen/codegen/runtime" }
//!
//! # Each hub's database, for `hubgen migrate` and `hubgen status`.
//! [databases]
//! identity = "postgres://localhost/chatbot_identity_db"
//! ```

use crate::Fatal;
use hubgen_codegen::Crates;
use std::collections::BTreeMap;
use std::path::Path;

pub const FILE: &str = "hubgen.toml";

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    #[serde(default)]
    pub crates: CratesConfig,
    #[serde(default)]
    pub databases: BTreeMap<String, String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CratesConfig {
    pub runtime: Option<toml::Table>,
}

impl ProjectConfig {
    /// The project's `hubgen.toml`, or the defaults when it has none.
    pub fn read(root: &Path) -> Result<ProjectConfig, Fatal> {
        let path = root.join(FILE);
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(ProjectConfig::default());
        };
        toml::from_str(&text).map_err(|e| Fatal(format!("{}: {e}", path.display())))
    }

    /// How generated crates name their dependencies. A relative runtime
    /// path is the project root's; crates sit two folders down.
    pub fn crates(&self) -> Crates {
        let Some(runtime) = &self.crates.runtime else {
            return Crates::Workspace;
        };
        let entries: Vec<String> = runtime
            .iter()
            .map(|(key, value)| match (key.as_str(), value.as_str()) {
                ("path", Some(path)) if Path::new(path).is_relative() => {
                    format!("path = {}", toml::Value::String(format!("../../{path}")))
                }
                _ => format!("{key} = {value}"),
            })
            .collect();
        Crates::Standalone {
            runtime: entries.join(", "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relative_runtime_path_is_seen_from_the_crates() {
        let config: ProjectConfig = toml::from_str("[crates]\nruntime = { path = \"vendor/runtime\" }\n").expect("valid");
        assert_eq!(
            config.crates(),
            Crates::Standalone {
                runtime: "path = \"../../vendor/runtime\"".into()
            }
        );
        let config: ProjectConfig =
            toml::from_str("[crates]\nruntime = { git = \"https://example.org/hubgen\", rev = \"abc\" }\n").expect("valid");
        assert_eq!(
            config.crates(),
            Crates::Standalone {
                runtime: "git = \"https://example.org/hubgen\", rev = \"abc\"".into()
            }
        );
        assert_eq!(ProjectConfig::default().crates(), Crates::Workspace);
    }
}
