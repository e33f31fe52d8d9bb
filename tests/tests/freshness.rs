//! Running `hubgen generate` on the repository as it is changes nothing:
//! every file under `migrations/` and `generated/` is what the schema and
//! the migrations already on disk produce (a hub with migrations gets its
//! next one planned from its lock, so this holds after any schema change
//! that has been generated).

use hubgen_e2e::{load, root};

#[test]
fn checked_in_output_is_fresh() {
    let stale = hubgen_e2e::stale_files(&root(), &load("schema/platform.hubs"));
    assert!(stale.is_empty(), "run `cargo run -p hubgen -- generate`:\n{}", stale.join("\n"));
}
