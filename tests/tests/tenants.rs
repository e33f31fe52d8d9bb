//! Schema per tenant on real PostgreSQL: the social inbox example's
//! `tenant_template` provisioned for three tenants, the template evolved by
//! an edit (a column and an index), the hub migrated by sqlx's migrator and
//! the tenant schemas by two runners at once, `check` clean, and a tampered
//! tenant schema named by `check`.

use hubgen_codegen::{generate_from, Config, Project};
use hubgen_e2e::TestDb;
use hubgen_runtime::prelude::*;
use hubgen_runtime::tenants::{self, Template};
use sqlx::Connection;
use std::collections::BTreeMap;

/// A fixed tenant id.
const fn acme_u128() -> u128 {
    0xac3e_0000_0000_4000_8000_0000_0000_0001
}

const SCHEMA: &str = "examples/social_inbox/schema/social_inbox.hubs";

fn v2() -> hubgen_schema::ir::Schema {
    let text = std::fs::read_to_string(hubgen_e2e::root().join(SCHEMA)).unwrap();
    let text = text
        .replacen(
            "      mfa_enabled    boolean       default false\n",
            "      mfa_enabled    boolean       default false\n      nickname       text\n",
            1,
        )
        .replacen(
            "      index idx_users_email (email)\n",
            "      index idx_users_email (email)\n      index idx_users_nickname (tenant_id, nickname)\n",
            1,
        );
    let output = hubgen_schema::compile(&text);
    output.ir.unwrap_or_else(|| panic!("v2 validates: {:?}", output.diagnostics))
}

#[tokio::test]
async fn tenant_schemas_are_provisioned_migrated_and_checked() {
    let db = TestDb::create("tenants_three").await;
    let pool = sqlx::PgPool::connect(&db.url).await.expect("pool");
    hub_inbox::migrate(&pool).await.expect("the inbox's migrations");
    let mut conn = db.connect().await;
    for id in ["123", "456", "789"] {
        let schema = hub_inbox::provision_tenant(&mut conn, id).await.expect("provision");
        assert_eq!(schema.version, hub_inbox::TENANT_TEMPLATE.version);
        sqlx::raw_sql(&format!(
            "INSERT INTO public.tenants (id, name, tier) VALUES ('00000000-0000-0000-0000-000000000{id}', 't{id}', 'pro');
             INSERT INTO {s}.users (tenant_id, email, password_hash, role_id)
             VALUES ('00000000-0000-0000-0000-000000000{id}', 'a@{id}.io', 'x', gen_random_uuid());",
            s = schema.schema
        ))
        .execute(&mut conn)
        .await
        .expect("a tenant's row");
    }
    // The generated repositories address a tenant's own schema through its transaction.
    let acme = uuid::Uuid::from_u128(acme_u128());
    sqlx::query("INSERT INTO public.tenants (id, name, tier) VALUES ($1, 'acme', 'pro')")
        .bind(acme)
        .execute(&mut conn)
        .await
        .unwrap();
    let schema = hub_inbox::provision_tenant(&mut conn, &acme.to_string())
        .await
        .expect("provision by uuid");
    let mut tx = hub_inbox::begin_tenant(&pool, hub_inbox::ids::TenantId::from(acme))
        .await
        .expect("begin in the tenant's schema");
    let user = hub_inbox::UserRepo::insert(
        &mut tx,
        &hub_inbox::NewUser::new("ada@acme.io".into(), "x".into(), uuid::Uuid::nil()),
    )
    .await
    .expect("insert through the repository");
    assert_eq!(hub_inbox::UserRepo::count(&mut tx, &Default::default()).await.unwrap(), 1);
    tx.commit().await.unwrap();
    let (own, template): (i64, i64) = sqlx::query_as(&format!(
        "SELECT (SELECT count(*) FROM {}.users WHERE id = $1), (SELECT count(*) FROM tenant_template.users WHERE id = $1)",
        schema.schema
    ))
    .bind(user.id)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!((own, template), (1, 0), "the row is in {}, not in the template", schema.schema);

    // pg_partman keeps the tenants' copies too: maintenance half a year on makes their partitions.
    let later = hubgen_runtime::chrono::Utc::now() + hubgen_runtime::chrono::Duration::days(200);
    let sink =
        hubgen_runtime::maintain::DirectorySink::new(std::env::temp_dir().join(format!("hubgen-tenants-archive-{}", db.name))).unwrap();
    let report = hub_inbox::maintain(&mut conn, later, &sink).await.expect("maintain");
    assert_eq!(report.tables, 5, "the template and four tenant copies: {report:?}");
    let month: String = sqlx::query_scalar("SELECT 'tenant_123.messages_p' || to_char($1::timestamptz, 'YYYY_MM')")
        .bind(later)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let made: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(&month)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(made, "{month} made by maintenance");
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("hubgen-tenants-archive-{}", db.name)));

    // Provisioning again keeps the schema and its rows.
    hub_inbox::provision_tenant(&mut conn, "123").await.expect("provision again");
    assert_eq!(tenants::list(&mut conn).await.unwrap().len(), 4);

    // The edit, planned from the example's checked-in migrations.
    let schema = v2();
    let hub = &schema.hubs[0];
    let existing = Project::at(hubgen_e2e::root().join("examples/social_inbox"))
        .existing()
        .expect("existing");
    let config = Config {
        schema_path: "schema/social_inbox.hubs".into(),
        ..Default::default()
    };
    let out = generate_from(&schema, &existing, &config);
    assert!(!out.refused(), "{:?}", out.lints);
    let dir = std::env::temp_dir().join(format!("hubgen-tenants-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut upgrades: BTreeMap<String, String> = BTreeMap::new();
    for (path, text) in &out.files {
        let Some(name) = path.strip_prefix("migrations/inbox/") else {
            continue;
        };
        if let Some(file) = name.strip_prefix("tenant/") {
            // Only the edit's: the checked-in upgrades are already in the provisioned schemas.
            if !hubgen_e2e::root().join("examples/social_inbox").join(path).exists() {
                upgrades.insert(file.to_string(), text.clone());
            }
        } else if name.ends_with(".sql") {
            std::fs::write(dir.join(name), text).unwrap();
        }
    }
    assert!(!upgrades.is_empty(), "the edit has a tenant part");
    let migrator = sqlx::migrate::Migrator::new(dir.as_path()).await.expect("sqlx reads the folder");
    migrator.run(&pool).await.expect("the hub's new migration, by sqlx");
    let _ = std::fs::remove_dir_all(&dir);

    // The tenant schemas, by two runners at once: each upgrade applied once.
    let baseline = &out.files["generated/inbox/tenant_schema.sql"];
    let upgrades: Vec<(i64, &str)> = upgrades
        .iter()
        .filter(|(name, _)| !name.ends_with(".down.sql"))
        .map(|(name, sql)| (i64::from(hubgen_codegen::generate::version_of(name).unwrap()), sql.as_str()))
        .collect();
    let version = upgrades.iter().map(|(v, _)| *v).max().unwrap();
    let template = Template {
        naming: "tenant_{id}",
        version,
        baseline,
        upgrades: &upgrades,
    };
    let mut other = db.connect().await;
    let (a, b) = tokio::join!(tenants::migrate(&mut conn, &template), tenants::migrate(&mut other, &template));
    let (a, b) = (a.expect("runner a"), b.expect("runner b"));
    assert_eq!(
        a.applied + b.applied,
        4 * upgrades.len(),
        "each upgrade once per schema: {a:?} {b:?}"
    );
    let again = tenants::migrate(&mut conn, &template).await.unwrap();
    assert_eq!((again.applied, again.migrated), (0, 0), "nothing left");
    for s in tenants::list(&mut conn).await.unwrap() {
        assert_eq!(s.version, version, "{} at the template's version", s.schema);
        let rows: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {}.users WHERE nickname IS NULL", s.schema))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(rows, 1, "{}: the row survived and has the new column", s.schema);
    }
    // A tenant provisioned now starts at the new version.
    let fresh = tenants::provision(&mut conn, &template, "abc").await.unwrap();
    assert_eq!(fresh.version, version);

    // check: clean, then one tampered schema named.
    let findings = |catalog| hubgen_codegen::check::database(hub, &catalog);
    let clean = findings(hubgen_live::introspect(&mut conn).await.unwrap());
    assert!(clean.is_empty(), "drift: {clean:#?}");
    sqlx::raw_sql("DROP INDEX tenant_456.idx_users_nickname")
        .execute(&mut conn)
        .await
        .unwrap();
    let drift = findings(hubgen_live::introspect(&mut conn).await.unwrap());
    assert_eq!(drift.len(), 1, "{drift:#?}");
    assert_eq!(drift[0].kind, "tenant-schema-drift");
    assert!(
        drift[0].message.contains("tenant schema `tenant_456`") && drift[0].message.contains("idx_users_nickname"),
        "{}",
        drift[0].message
    );

    conn.close().await.ok();
    other.close().await.ok();
    pool.close().await;
    db.drop_db().await;
}
