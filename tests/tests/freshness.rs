//! Running `hubgen generate` on the repository as it is changes nothing:
//! every file under `migrations/` and `generated/` is what the schema and
//! the migrations already on disk produce (a hub with migrations gets its
//! next one planned from its lock, so this holds after any schema change
//! that has been generated).

use hubgen_e2e::{examples, load, root};

#[test]
fn checked_in_output_is_fresh() {
    let stale = hubgen_e2e::stale_files(&root(), "schema/platform.hubs", &load("schema/platform.hubs"));
    assert!(stale.is_empty(), "run `cargo run -p hubgen -- generate`:\n{}", stale.join("\n"));
}

/// Each example is a project of its own: `examples/<name>/{schema,migrations,generated}`.
#[test]
fn checked_in_examples_are_fresh() {
    for schema in examples() {
        let project = schema.split("/schema/").next().expect("examples/<name>");
        let relative = schema.strip_prefix(&format!("{project}/")).expect("inside the project");
        let stale = hubgen_e2e::stale_files(&root().join(project), relative, &load(&schema));
        assert!(
            stale.is_empty(),
            "run `cargo run -p hubgen -- generate --schema {schema}`:\n{}",
            stale.join("\n")
        );
    }
}
