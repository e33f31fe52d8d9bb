//! `hubgen import` round trips: a hub's checked-in migrations applied to a
//! database, the database imported as schema text, that text generated into
//! a first migration and applied to an empty database — and the two
//! catalogs equal. For every platform hub and every example.

use hubgen_codegen::catalog::diff;
use hubgen_runtime::testing::TestDatabase;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// Imports the database `hub`'s migrations in `dir` make, regenerates it from the import,
/// and returns the differences between the two (none expected), and what was not expressed.
async fn round_trip(dir: &Path, hub: &str) -> (String, Vec<String>) {
    let original = TestDatabase::create(&format!("import_{hub}_a"), &[], "", 1).await;
    sqlx::migrate::Migrator::new(dir.to_path_buf())
        .await
        .expect("migrations load")
        .run(&original.pool)
        .await
        .unwrap_or_else(|e| panic!("{hub}: migrations apply: {e}"));
    let mut conn = original.pool.acquire().await.expect("connection");
    let (db, mut notes, queries) = hubgen_live::import::read(&mut conn).await.expect("import reads");
    assert!(queries <= 12, "a fixed number of catalog queries: {queries}");
    let imported = hubgen_codegen::import::schema_text(&db, hub);
    notes.extend(imported.unsupported.clone());
    let formatted = hubgen_schema::format::format_source(&imported.text)
        .unwrap_or_else(|_| panic!("{hub}: the import parses:\n{}", imported.text));
    let output = hubgen_schema::compile(&formatted);
    let errors: Vec<_> = output.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{hub}: the import validates: {errors:#?}\n{formatted}");
    let ir = output.ir.expect("IR");
    let generated = hubgen_codegen::generate(
        &ir,
        &hubgen_codegen::Config {
            schema_path: "imported.hubs".into(),
            ..Default::default()
        },
    );
    let sql = &generated.files[&format!("migrations/{hub}/0001_initial.sql")];
    let copy = TestDatabase::create(&format!("import_{hub}_b"), &[], "", 1).await;
    let mut fresh = copy.pool.acquire().await.expect("connection");
    hubgen_live::apply(&mut fresh, sql)
        .await
        .unwrap_or_else(|e| panic!("{hub}: the regenerated migration applies: {e}\n{formatted}"));
    let before = hubgen_live::introspect(&mut conn).await.expect("introspect the original");
    let after = hubgen_live::introspect(&mut fresh).await.expect("introspect the copy");
    assert!(!before.tables.is_empty(), "{hub}: the original has tables");
    assert_eq!(before.tables.len(), db.tables.len(), "{hub}: every table imported");
    let differences: Vec<String> = diff(&before, &after)
        .iter()
        .map(|d| format!("{}: {:?} → {:?}", d.path, d.expected, d.actual))
        .collect();
    drop(conn);
    drop(fresh);
    original.drop_db().await;
    copy.drop_db().await;
    (
        if differences.is_empty() {
            String::new()
        } else {
            format!("{hub}:\n  {}\n{formatted}", differences.join("\n  "))
        },
        notes,
    )
}

#[tokio::test]
async fn every_platform_hub_round_trips() {
    let mut failures = Vec::new();
    for hub in ["identity", "user", "tenant", "app", "billing", "wallet", "config", "message", "spokes"] {
        let (differences, notes) = round_trip(&root().join("migrations").join(hub), hub).await;
        assert!(notes.is_empty(), "{hub}: {notes:?}");
        if !differences.is_empty() {
            failures.push(differences);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn every_example_round_trips() {
    let mut failures = Vec::new();
    for (example, hub) in [("commerce", "commerce"), ("netia", "netia"), ("social_inbox", "inbox"), ("waha", "waha")] {
        let (differences, notes) = round_trip(&root().join("examples").join(example).join("migrations").join(hub), hub).await;
        println!("{hub}: not expressed: {notes:?}");
        if !differences.is_empty() {
            failures.push(differences);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
