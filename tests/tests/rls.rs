//! Row isolation, proven by PostgreSQL itself for every scoped table of
//! every hub and example (by tenant, by owner, or through a scoped parent),
//! with the checks `hubgen verify` runs (`hubgen_live::verify`): the
//! platform's and the examples' checked-in migrations are applied with
//! sqlx's migrator, as a service would, before each hub is verified.

use hubgen_e2e::{fixture_schemas, initial_migration, root, schemas, TestDb};
use hubgen_live::verify;
use hubgen_schema::ir;
use sqlx::{Connection, PgConnection};

/// Brings a fresh database to the schema's current version: the project's
/// own migration folder when it has one, else the planned first migration.
async fn migrate(db: &TestDb, path: &str, schema: &ir::Schema, hub: &str) -> PgConnection {
    let project = root()
        .join(path)
        .parent()
        .and_then(|p| p.parent())
        .expect("project root")
        .to_path_buf();
    let dir = project.join("migrations").join(hub);
    let mut conn = db.connect().await;
    if dir.is_dir() {
        let migrator = sqlx::migrate::Migrator::new(dir).await.expect("sqlx reads the folder");
        migrator.run(&mut conn).await.expect("sqlx applies the checked-in migrations");
    } else {
        hubgen_live::apply(&mut conn, &initial_migration(path, schema, hub))
            .await
            .expect("migrate");
    }
    conn
}

fn db_name(path: &str, hub: &str) -> String {
    format!("rls_{}_{hub}", path.rsplit('/').next().unwrap_or(path).trim_end_matches(".hubs"))
}

#[tokio::test]
async fn every_scoped_table_isolates_tenants_and_owners() {
    let (mut tables, mut checks, mut partitions) = (0, 0, 0);
    let mut failures = Vec::new();
    for (path, schema) in schemas().into_iter().chain(fixture_schemas()) {
        for hub in schema.hubs.iter().filter(|h| h.tables.iter().any(|t| t.is_scoped())) {
            let db = TestDb::create(&db_name(&path, &hub.name)).await;
            let mut conn = migrate(&db, &path, &schema, &hub.name).await;
            let report = verify::isolation(&mut conn, hub).await.expect("verify runs");
            tables += report.tables;
            checks += report.checks;
            partitions += report.partitions;
            for f in report.findings {
                failures.push(format!("{path} hub {}: {} [{}]: {}", hub.name, f.table, f.check, f.problem));
            }
            drop(conn);
            db.drop_db().await;
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    assert!(tables >= 65, "expected every scoped table to be verified, got {tables}");
    assert!(partitions > 0, "partitioned scoped tables are queried directly");
    println!("row isolation holds for {tables} scoped tables and {partitions} partitions: {checks} checks, 0 failures");
}

/// The verifier is not a rubber stamp: each way of breaking isolation is
/// reported against the table and check it breaks, and the verified
/// database keeps none of the rows the run wrote.
#[tokio::test]
async fn verify_reports_each_broken_table_and_leaves_no_rows() {
    let (path, schema) = schemas().into_iter().next().expect("platform schema");
    let hub = schema.hub("tenant").expect("tenant hub");
    let db = TestDb::create("rls_broken_tenant").await;
    let mut conn = migrate(&db, &path, &schema, "tenant").await;
    let clean = verify::isolation(&mut conn, hub).await.expect("verify runs");
    assert!(clean.findings.is_empty(), "{:?}", clean.findings);
    sqlx::raw_sql(
        "ALTER TABLE tenant_members NO FORCE ROW LEVEL SECURITY;
         CREATE POLICY leak ON tenant_profiles FOR SELECT USING (true);
         CREATE POLICY unset ON tenants USING (current_setting('app.current_tenant_id', true) = '');",
    )
    .execute(&mut conn)
    .await
    .expect("break isolation");
    let broken = verify::isolation(&mut conn, hub).await.expect("verify runs");
    let found = |table: &str, check: &str| broken.findings.iter().any(|f| f.table == table && f.check == check);
    assert!(found("public.tenant_members", "force"), "{:#?}", broken.findings);
    assert!(found("public.tenant_members", "own rows"), "the owner reads every row");
    assert!(found("public.tenant_profiles", "other rows"), "a permissive policy leaks");
    assert!(found("public.tenants", "no context"), "an empty setting admits rows");
    assert_eq!(broken.checks, clean.checks, "the same checks run");
    for table in ["tenants", "tenant_members", "tenant_profiles"] {
        let rows: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&mut conn)
            .await
            .expect("count");
        assert_eq!(rows, 0, "{table} keeps rows the verifier wrote");
    }
    conn.close().await.expect("close");
    db.drop_db().await;
}
