//! Schema per tenant at scale, on the social inbox example: 1,000 tenant
//! schemas provisioned, a one-column change brought to all of them, and the
//! drift check of the database with every schema. Prints the times against
//! the goals (< 60 s, < 30 s, < 5 s) and the catalog queries the check sends
//! for 3 and for 1,000 schemas (goal: the same number).
//!
//! Run: `cargo bench -p hubgen-e2e --bench tenants` (needs PostgreSQL, see
//! README). `TENANTS=200` runs a smaller set; `RUNNERS` sets the connections (default 4).

use hubgen_e2e::TestDb;
use hubgen_runtime::tenants::{self, Template};
use sqlx::Connection;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

#[tokio::main]
async fn main() {
    let count: usize = std::env::var("TENANTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let runners: usize = std::env::var("RUNNERS").ok().and_then(|v| v.parse().ok()).unwrap_or(4);
    let db = TestDb::create("bench_tenants").await;
    let pool = sqlx::PgPool::connect(&db.url).await.expect("pool");
    hub_inbox::migrate(&pool).await.expect("migrations");
    let schema = hubgen_e2e::load("examples/social_inbox/schema/social_inbox.hubs");
    let hub = &schema.hubs[0];

    // Three first, for the query count of a small check.
    for id in 0..3 {
        hub_inbox::provision_tenant(&mut db.connect().await, &format!("t{id:05}"))
            .await
            .expect("provision");
    }
    let (_, small_queries) = hubgen_live::introspect_counted(&mut db.connect().await).await.unwrap();

    let next = AtomicUsize::new(3);
    let started = Instant::now();
    let provision = |_| async {
        let mut conn = db.connect().await;
        loop {
            let id = next.fetch_add(1, Ordering::Relaxed);
            if id >= count {
                break;
            }
            hub_inbox::provision_tenant(&mut conn, &format!("t{id:05}"))
                .await
                .expect("provision");
        }
        conn.close().await.ok();
    };
    futures_join((0..runners).map(provision)).await;
    let provisioned = started.elapsed();

    // The template gains a column; every schema gets it.
    let column = "ALTER TABLE \"hubgen_tenant_schema\".\"users\" ADD COLUMN \"nickname\" text;";
    let upgrades = [(hub_inbox::TENANT_TEMPLATE.version + 1, column)];
    let template = Template {
        version: hub_inbox::TENANT_TEMPLATE.version + 1,
        upgrades: &upgrades,
        ..hub_inbox::TENANT_TEMPLATE
    };
    let started = Instant::now();
    let migrate = |_| async {
        let mut conn = db.connect().await;
        let report = tenants::migrate(&mut conn, &template).await.expect("migrate");
        conn.close().await.ok();
        report.applied
    };
    let applied: usize = futures_join((0..runners).map(migrate)).await.into_iter().sum();
    let migrated = started.elapsed();
    assert_eq!(applied, count, "each schema upgraded once");

    let started = Instant::now();
    let (catalog, queries) = hubgen_live::introspect_counted(&mut db.connect().await).await.unwrap();
    let mut hub_v2 = hub.clone();
    if let Some(users) = hub_v2
        .tables
        .iter_mut()
        .find(|t| t.schema == "tenant_template" && t.name == "users")
    {
        let mut nickname = users.columns.iter().find(|c| c.name == "last_login").cloned().unwrap();
        nickname.name = "nickname".into();
        nickname.ty = hubgen_schema::types::ColumnType::Text;
        users.columns.push(nickname);
    }
    let findings = hubgen_codegen::check::database(&hub_v2, &catalog);
    let checked = started.elapsed();
    let tenant_findings = findings.iter().filter(|f| f.kind == "tenant-schema-drift").count();
    assert_eq!(tenant_findings, 0, "tenant schemas drift: {:?}", findings.first());

    println!("{count} tenant schemas of the social inbox ({runners} connections):");
    println!(
        "  provisioned in {:.1} s (goal < 60 s), {:.1} ms each",
        provisioned.as_secs_f64(),
        provisioned.as_secs_f64() * 1000.0 / count as f64
    );
    println!(
        "  one-column change applied to all in {:.1} s (goal < 30 s)",
        migrated.as_secs_f64()
    );
    println!(
        "  drift check of all in {:.2} s (goal < 5 s), {queries} catalog queries (3 schemas: {small_queries})",
        checked.as_secs_f64()
    );
    pool.close().await;
    db.drop_db().await;
}

/// Runs the futures at once on this task and collects their outputs in order.
async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    futures_util::future::join_all(futures).await
}
