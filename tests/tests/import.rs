//! `hubgen import` round trips: a hub's checked-in migrations applied to a
//! database, the database imported as schema text, that text generated into
//! a first migration and applied to an empty database — and the two
//! catalogs equal. For every platform hub and every example.

use hubgen_codegen::catalog::diff;
use hubgen_runtime::testing::TestDatabase;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// What a round trip found.
struct Trip {
    /// Differences between the original's catalog and the regenerated one's, with the imported text.
    differences: String,
    /// What the import could not express.
    notes: Vec<String>,
    tables: usize,
    /// The imported schema text, formatted.
    text: String,
}

/// Imports the database `original` holds as hub `hub`, generates the import's first
/// migration, applies it to an empty database and compares the two catalogs. A
/// database hubgen did not make (`by_hubgen` false) lacks what every hub gets by
/// design: the grants to `<hub>_app` and `<hub>_readonly` are left out of the comparison.
async fn trip(name: &str, original: TestDatabase, hub: &str, by_hubgen: bool) -> Trip {
    let mut conn = original.pool.acquire().await.expect("connection");
    let (db, mut notes, queries) = hubgen_live::import::read(&mut conn).await.expect("import reads");
    assert!(queries <= 13, "a fixed number of catalog queries: {queries}");
    let imported = hubgen_codegen::import::schema_text(&db, hub);
    notes.extend(imported.unsupported.clone());
    let formatted =
        hubgen_schema::format::format_source(&imported.text).unwrap_or_else(|_| panic!("{name}: the import parses:\n{}", imported.text));
    let output = hubgen_schema::compile(&formatted);
    let errors: Vec<_> = output.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{name}: the import validates: {errors:#?}\n{formatted}");
    let generated = hubgen_codegen::generate(&output.ir.expect("IR"), &hubgen_codegen::Config::default());
    let copy = TestDatabase::create(&format!("import_{name}_b"), &[], "", 1).await;
    let mut fresh = copy.pool.acquire().await.expect("connection");
    hubgen_live::apply(&mut fresh, &generated.files[&format!("migrations/{hub}/0001_initial.sql")])
        .await
        .unwrap_or_else(|e| panic!("{name}: the regenerated migration applies: {e}\n{formatted}"));
    let mut before = hubgen_live::introspect(&mut conn).await.expect("introspect the original");
    // Erasure follows from rules this database does not hold (the data subject
    // lives in another hub's database, typed references have no foreign key):
    // the import names it, and its function and role's grants are not compared.
    if notes.iter().any(|n| is_erasure_note(n)) {
        before.functions.clear();
        for table in before.tables.values_mut() {
            table.grants.remove(&format!("{hub}_erasure"));
        }
    }
    let mut after = hubgen_live::introspect(&mut fresh).await.expect("introspect the copy");
    assert!(!before.tables.is_empty(), "{name}: the original has tables");
    assert_eq!(before.tables.len(), db.tables.len(), "{name}: every table imported");
    if !by_hubgen {
        for table in after.tables.values_mut() {
            table
                .grants
                .retain(|role, _| *role != format!("{hub}_app") && *role != format!("{hub}_readonly"));
        }
    }
    let differences: Vec<String> = diff(&before, &after)
        .iter()
        .map(|d| format!("{}: {:?} → {:?}", d.path, d.expected, d.actual))
        .collect();
    drop(conn);
    drop(fresh);
    original.drop_db().await;
    copy.drop_db().await;
    Trip {
        differences: if differences.is_empty() {
            String::new()
        } else {
            format!("{name}:\n  {}\n{formatted}", differences.join("\n  "))
        },
        notes,
        tables: before.tables.len(),
        text: formatted,
    }
}

fn is_erasure_note(note: &str) -> bool {
    note.starts_with("erasure (")
}

/// A hub's checked-in migrations, applied by sqlx's migrator, round-tripped.
async fn round_trip(dir: &Path, hub: &str) -> (String, Vec<String>) {
    let original = TestDatabase::create(&format!("import_{hub}_a"), &[], "", 1).await;
    sqlx::migrate::Migrator::new(dir.to_path_buf())
        .await
        .expect("migrations load")
        .run(&original.pool)
        .await
        .unwrap_or_else(|e| panic!("{hub}: migrations apply: {e}"));
    let trip = trip(hub, original, hub, true).await;
    (trip.differences, trip.notes)
}

/// SQL applied as written, round-tripped.
async fn sql_round_trip(name: &str, sql: &str, hub: &str, by_hubgen: bool) -> Trip {
    let original = TestDatabase::create(&format!("import_{name}_a"), &[], "", 1).await;
    let mut conn = original.pool.acquire().await.expect("connection");
    hubgen_live::apply(&mut conn, sql)
        .await
        .unwrap_or_else(|e| panic!("{name}: the SQL applies: {e}"));
    drop(conn);
    trip(name, original, hub, by_hubgen).await
}

#[tokio::test]
async fn every_platform_hub_round_trips() {
    let mut failures = Vec::new();
    for hub in [
        "identity", "user", "tenant", "app", "billing", "wallet", "config", "message", "spokes",
    ] {
        let (differences, notes) = round_trip(&root().join("migrations").join(hub), hub).await;
        assert!(notes.iter().all(|n| is_erasure_note(n)), "{hub}: {notes:?}");
        if !differences.is_empty() {
            failures.push(differences);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn every_example_round_trips() {
    let mut failures = Vec::new();
    for (example, hub) in [
        ("commerce", "commerce"),
        ("netia", "netia"),
        ("social_inbox", "inbox"),
        ("waha", "waha"),
    ] {
        let (differences, notes) = round_trip(&root().join("examples").join(example).join("migrations").join(hub), hub).await;
        println!("{hub}: not expressed: {notes:?}");
        if !differences.is_empty() {
            failures.push(differences);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn seed_000_round_trips() {
    let mut failures = Vec::new();
    let mut tables = 0;
    for hub in ["identity", "user", "tenant", "app", "wallet", "config", "message", "spokes"] {
        let sql = std::fs::read_to_string(root().join(format!("tests/data/seed_000/{hub}.sql"))).expect("seed SQL");
        let trip = sql_round_trip(&format!("seed_000_{hub}"), &sql, hub, false).await;
        tables += trip.tables;
        assert_eq!(trip.notes.len(), 1, "only the owner: {:?}", trip.notes);
        if !trip.differences.is_empty() {
            failures.push(trip.differences);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(tables, 23, "seed 000 defines 23 tables");
}

/// Seeds 001 (Netia: row-level security, a policy for a role of its own) and
/// 002 (social inbox: a partitioned table, a generated column, partial, GIN
/// and descending indexes, empty tenant schemas, a function): their SQL as
/// written. The only differences allowed are the ones the import names.
#[tokio::test]
async fn seeds_001_and_002_round_trip() {
    for (seed, hub) in [("001", "netia"), ("002", "inbox")] {
        let sql = std::fs::read_to_string(root().join(format!("tests/data/seed_{seed}/{hub}.sql"))).expect("seed SQL");
        let Trip {
            differences,
            notes,
            tables,
            text,
        } = sql_round_trip(&format!("seed_{seed}"), &sql, hub, false).await;
        insta::with_settings!({ snapshot_path => "snapshots/import", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(format!("seed_{seed}"), format!("{text}\n-- not expressed:\n{}", notes.join("\n")));
        });
        println!("seed {seed}: {tables} tables; not expressed: {notes:#?}");
        let unexplained: Vec<&str> = differences
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .filter(|l| {
                // `tables.public.leads.rls_forced: Some("false") → Some("true")` is explained by
                // the note on `public.leads`: PostgreSQL's FORCE, which hubgen always sets.
                let explained = |flag: &str, note: &str| {
                    let table = l.trim().strip_prefix("tables.").and_then(|p| p.split(flag).next());
                    l.contains(flag) && table.is_some_and(|t| notes.iter().any(|n| n.starts_with(&format!("{t}: {note}"))))
                };
                !(explained(".rls_forced", "row-level security enabled but not forced")
                    || explained(".rls_enabled", "row-level security enabled without a policy"))
            })
            .collect();
        assert!(unexplained.is_empty(), "seed {seed}: {unexplained:#?}\n{differences}");
        let expected_tables = if seed == "001" { 7 } else { 8 };
        assert_eq!(tables, expected_tables, "seed {seed}'s tables");
        if seed == "002" {
            assert!(notes.iter().any(|n| n == "function public.archive_old_messages()"), "{notes:?}");
        }
    }
}

/// Each codegen fixture (one construct each: enums, partitions, partial and
/// GIN indexes, generated columns, schemas and FK cycles, scopes, policies
/// and roles, a read-only hub, cross-hub references), generated, applied,
/// imported and generated again.
#[tokio::test]
async fn every_fixture_round_trips() {
    let mut failures = Vec::new();
    let mut trips = 0;
    for (path, schema) in hubgen_e2e::fixture_schemas() {
        for hub in &schema.hubs {
            let sql = hubgen_e2e::initial_migration(&path, &schema, &hub.name);
            let stem = Path::new(&path).file_stem().expect("name").to_string_lossy().into_owned();
            let trip = sql_round_trip(&format!("fixture_{stem}_{}", hub.name), &sql, &hub.name, true).await;
            assert!(
                trip.notes.iter().all(|n| is_erasure_note(n)),
                "{path} {}: {:?}",
                hub.name,
                trip.notes
            );
            trips += 1;
            if !trip.differences.is_empty() {
                failures.push(trip.differences);
            }
        }
    }
    assert!(trips >= 12, "{trips}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
