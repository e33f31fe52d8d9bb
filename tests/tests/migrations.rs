//! Every hub of every checked-in schema: its migration applies to an empty
//! database, and the catalog read back equals the catalog its IR describes.

use hubgen_codegen::catalog;
use hubgen_e2e::{fixture_schemas, initial_migration, schemas, TestDb};

#[tokio::test]
async fn migrations_apply_and_introspect_to_the_schema() {
    let mut checked = 0;
    for (path, schema) in schemas().into_iter().chain(fixture_schemas()) {
        for hub in &schema.hubs {
            let db = TestDb::create(&format!(
                "mig_{}_{}",
                path.rsplit('/').next().unwrap_or(&path).trim_end_matches(".hubs"),
                hub.name
            ))
            .await;
            let mut conn = db.connect().await;
            let sql = initial_migration(&path, &schema, &hub.name);
            hubgen_live::apply(&mut conn, &sql)
                .await
                .unwrap_or_else(|e| panic!("{path} hub {}: migration failed: {e}", hub.name));
            let actual = hubgen_live::introspect(&mut conn).await.expect("introspect");
            let expected = catalog::expected(hub);
            let differences = catalog::diff(&expected, &actual);
            assert!(
                differences.is_empty(),
                "{path} hub {}: {} difference(s) between schema and database:\n{}",
                hub.name,
                differences.len(),
                differences.iter().map(|d| format!("  {d}")).collect::<Vec<_>>().join("\n")
            );
            assert_eq!(actual.tables.len(), hub.tables.len());
            checked += 1;
            drop(conn);
            db.drop_db().await;
        }
    }
    assert!(
        checked >= 9 + 4 + 9,
        "nine platform hubs, four example hubs and every fixture hub; checked {checked}"
    );
}

/// The diff is not vacuous: a database changed by hand shows up.
#[tokio::test]
async fn introspection_sees_a_hand_made_change() {
    let (path, schema) = schemas().into_iter().next().expect("platform");
    let hub = schema.hub("identity").expect("identity hub");
    let db = TestDb::create("mig_hand_change").await;
    let mut conn = db.connect().await;
    hubgen_live::apply(&mut conn, &initial_migration(&path, &schema, "identity"))
        .await
        .expect("migrate");
    sqlx::raw_sql(
        "ALTER TABLE users ALTER COLUMN last_name TYPE text; DROP INDEX idx_users_status; ALTER TABLE users NO FORCE ROW LEVEL SECURITY",
    )
    .execute(&mut conn)
    .await
    .expect("hand-made change");
    let differences = catalog::diff(
        &catalog::expected(hub),
        &hubgen_live::introspect(&mut conn).await.expect("introspect"),
    );
    let text: Vec<String> = differences.iter().map(ToString::to_string).collect();
    assert!(
        text.iter().any(|d| d.contains("tables.public.users.columns.last_name.ty")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|d| d.contains("missing tables.public.users.indexes.idx_users_status")),
        "{text:#?}"
    );
    drop(conn);
    db.drop_db().await;
}

/// A migration that fails part-way leaves the database as it was.
#[tokio::test]
async fn a_failing_migration_changes_nothing() {
    let (path, schema) = schemas().into_iter().next().expect("platform");
    let db = TestDb::create("mig_failing").await;
    let mut conn = db.connect().await;
    let broken = format!("{}\nSELECT 1 / 0;\n", initial_migration(&path, &schema, "wallet"));
    assert!(hubgen_live::apply(&mut conn, &broken).await.is_err());
    let catalog = hubgen_live::introspect(&mut conn).await.expect("introspect");
    assert!(
        catalog.tables.is_empty() && catalog.enums.is_empty(),
        "nothing was left behind: {catalog:?}"
    );
    drop(conn);
    db.drop_db().await;
}

/// The number of catalog queries does not grow with the schema.
#[tokio::test]
async fn introspection_uses_a_fixed_small_number_of_queries() {
    let mut counts = Vec::new();
    for (hub, tables) in [("small", 1), ("big", 60)] {
        let db = TestDb::create(&format!("mig_queries_{hub}")).await;
        let mut conn = db.connect().await;
        let ddl: String = (0..tables)
            .map(|i| format!("CREATE TABLE t{i} (id uuid PRIMARY KEY, v text); CREATE INDEX t{i}_v ON t{i} (v);"))
            .collect();
        sqlx::raw_sql(&ddl).execute(&mut conn).await.expect("tables");
        let (catalog, queries) = hubgen_live::introspect_counted(&mut conn).await.expect("introspect");
        assert_eq!(catalog.tables.len(), tables);
        counts.push(queries);
        drop(conn);
        db.drop_db().await;
    }
    assert_eq!(counts[0], counts[1], "same number of queries for 1 and 60 tables");
    assert!(counts[0] <= 20, "{} catalog queries", counts[0]);
}

/// `sqlx migrate` accepts the generated folders as they are.
#[tokio::test]
async fn sqlx_migrator_runs_the_checked_in_folders() {
    for hub in ["identity", "tenant", "billing"] {
        let db = TestDb::create(&format!("mig_sqlx_{hub}")).await;
        let pool = sqlx::PgPool::connect(&db.url).await.expect("pool");
        let dir = hubgen_e2e::root().join("migrations").join(hub);
        // However many migrations the hub has by now: sqlx sees each forward file once.
        let forward = std::fs::read_dir(&dir)
            .expect("folder")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|name| hubgen_codegen::generate::is_forward(name))
            .count();
        let migrator = sqlx::migrate::Migrator::new(dir).await.expect("sqlx reads the folder");
        let ups = migrator.iter().filter(|m| !m.migration_type.is_down_migration()).count();
        assert_eq!(ups, forward);
        migrator.run(&pool).await.expect("sqlx runs the migrations");
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
            .fetch_one(&pool)
            .await
            .expect("history");
        assert_eq!(count as usize, forward, "every migration of {hub} applied");
        pool.close().await;
        db.drop_db().await;
    }
}

/// Each checked-in `migrations/<hub>/` applies with plain `psql -v ON_ERROR_STOP=1`.
#[tokio::test]
async fn checked_in_migrations_apply_with_psql() {
    let root = hubgen_e2e::root();
    let mut hubs: Vec<_> = std::fs::read_dir(root.join("migrations"))
        .expect("migrations/")
        .map(|e| e.expect("entry").path())
        .collect();
    hubs.sort();
    assert_eq!(hubs.len(), 9);
    for dir in hubs {
        let hub = dir.file_name().expect("hub").to_string_lossy().into_owned();
        let db = TestDb::create(&format!("psql_{hub}")).await;
        let status = std::process::Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &db.url, "-f"])
            .arg(dir.join("0001_initial.sql"))
            .stdout(std::process::Stdio::null())
            .status()
            .expect("psql is installed");
        assert!(status.success(), "psql failed on migrations/{hub}");
        db.drop_db().await;
    }
}
