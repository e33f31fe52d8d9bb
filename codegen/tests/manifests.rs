//! Generated crates' manifests: inheriting this workspace's dependencies,
//! or naming them themselves for a project of their own (`hubgen init`).

use hubgen_codegen::generate::EXPLICIT_DEPENDENCIES;
use hubgen_codegen::{Config, Crates};

/// A standalone crate pins what this repository's crates build with.
#[test]
fn explicit_dependencies_are_the_workspace_dependencies() {
    let workspace = include_str!("../../Cargo.toml");
    for (name, spec) in EXPLICIT_DEPENDENCIES {
        let line = format!("{name} = {spec}");
        assert!(
            workspace.lines().any(|l| l == line),
            "Cargo.toml's [workspace.dependencies] has no `{line}`"
        );
    }
}

#[test]
fn standalone_crates_name_every_dependency() {
    let ir = hubgen_schema::compile(include_str!("../../schema/platform.hubs"))
        .ir
        .expect("valid");
    let config = Config {
        schema_path: "schema/platform.hubs".into(),
        crates: Crates::Standalone {
            runtime: "path = \"../../runtime\"".into(),
        },
        ..Default::default()
    };
    let output = hubgen_codegen::generate(&ir, &config);
    let manifests: Vec<(&String, &String)> = output.files.iter().filter(|(n, _)| n.ends_with("Cargo.toml")).collect();
    assert_eq!(manifests.len(), 10, "nine hubs and their ids");
    for (name, text) in manifests {
        assert!(!text.contains("workspace"), "{name}:\n{text}");
        // Hubs with `@encrypted` columns take the runtime's cryptography.
        assert!(
            text.contains("hubgen-runtime = { path = \"../../runtime\" }\n")
                || text.contains("hubgen-runtime = { path = \"../../runtime\", features = [\"encryption\"] }\n"),
            "{name}:\n{text}"
        );
        if name == "generated/ids/Cargo.toml" {
            // The typed IDs' impls live in the runtime: it is all the crate needs.
            assert!(!text.contains("sqlx") && !text.contains("schemars"), "{name}:\n{text}");
        } else {
            assert!(text.contains("sqlx = { version = \"0.8\""), "{name}:\n{text}");
            assert!(
                text.contains("schemars = { version = \"0.8\", features = [\"chrono\", \"uuid1\", \"rust_decimal\"], optional = true }\n"),
                "{name}:\n{text}"
            );
            assert!(
                text.contains("hubgen-runtime = { path = \"../../runtime\", features = [\"testing\"] }\n"),
                "{name}:\n{text}"
            );
        }
    }
}
