//! Audited tables on real PostgreSQL, through the commerce example's crate:
//! every write path — the generated repositories (insert, batch, COPY,
//! update, soft delete, restore, upsert) and raw SQL — writes exactly one
//! audit row per row changed, in the same transaction, with sensitive values
//! masked; each tenant reads only its own audit rows; the application role
//! can neither write nor change them.

use hub_commerce::ids::{SellerProfileId, TenantId, UserId};
use hub_commerce::{
    AuditLogFilter, AuditLogRepo, BuyerProfilePatch, BuyerProfileRepo, NewBuyerProfile, NewOrder, NewProduct, OrderRepo, ProductPatch,
    ProductRepo,
};
use hubgen_runtime::prelude::*;
use hubgen_runtime::testing::{url_for, TestDatabase};
use hubgen_runtime::{AnyActor, TenantTx};
use rust_decimal::Decimal;
use uuid::Uuid;

const PHONE: &str = "+49 30 1234567";
const FULL_NAME: &str = "Ann Example";

struct Shop {
    db: TestDatabase,
    /// The superuser, whom row-level security lets through: for seeding and for reading every audit row.
    admin: sqlx::PgPool,
    tenant: TenantId,
    other: TenantId,
    user: Uuid,
    seller: SellerProfileId,
}

/// The commerce database migrated; the application connects as `commerce_app`.
async fn shop(name: &str) -> Shop {
    let db = TestDatabase::create(name, hub_commerce::MIGRATIONS, "SET ROLE commerce_app", 2).await;
    let admin = sqlx::PgPool::connect(&url_for(&db.name)).await.expect("admin pool");
    let (tenant, other, user, seller) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    sqlx::query(
        "WITH t AS (INSERT INTO tenant (id, name) VALUES ($1, 'A'), ($2, 'B')), \
              u AS (INSERT INTO users (id, email, tenant_id) VALUES ($3, 'seller@a.io', $1)) \
         INSERT INTO seller_profile (id, tenant_id, user_id, business_name) VALUES ($4, $1, $3, 'Lamps')",
    )
    .bind(tenant)
    .bind(other)
    .bind(user)
    .bind(seller)
    .execute(&admin)
    .await
    .expect("seed");
    Shop {
        db,
        admin,
        tenant: TenantId::from(tenant),
        other: TenantId::from(other),
        user,
        seller: SellerProfileId::from(seller),
    }
}

impl Shop {
    /// A transaction of the tenant, acting for its seller.
    async fn tx(&self) -> TenantTx<'static> {
        let mut tx = TenantTx::begin(&self.db.pool, self.tenant).await.expect("begin");
        tx.act_as(AnyActor(self.user)).await.expect("act as");
        tx
    }

    fn product(&self, name: &str) -> NewProduct {
        NewProduct::new(self.seller, name.into(), Decimal::new(1999, 2))
    }

    /// Audit rows per (table, action), over every tenant.
    async fn counts(&self) -> Vec<(String, String, i64)> {
        sqlx::query_as("SELECT entity_type::text, action::text, count(*) FROM audit_logs GROUP BY 1, 2 ORDER BY 1, 2")
            .fetch_all(&self.admin)
            .await
            .expect("audit counts")
    }
}

fn expected(rows: &[(&str, &str, i64)]) -> Vec<(String, String, i64)> {
    rows.iter().map(|(t, a, n)| (t.to_string(), a.to_string(), *n)).collect()
}

#[tokio::test]
async fn every_write_path_writes_one_audit_row_per_row_changed() {
    let shop = shop("audit_writes").await;
    let mut tx = shop.tx().await;

    // The generated repositories.
    let buyer = BuyerProfileRepo::insert(
        &mut tx,
        &NewBuyerProfile {
            phone_number: Some(PHONE.into()),
            full_name: Some(FULL_NAME.into()),
            ..NewBuyerProfile::new(UserId::from(shop.user))
        },
    )
    .await
    .expect("buyer");
    let lamp = ProductRepo::insert(&mut tx, &shop.product("lamp")).await.expect("insert");
    assert_eq!(
        ProductRepo::insert_many(&mut tx, &[shop.product("shade"), shop.product("bulb")])
            .await
            .expect("insert_many"),
        2
    );
    let copied: Vec<NewProduct> = (0..3).map(|i| shop.product(&format!("copied {i}"))).collect();
    assert_eq!(ProductRepo::insert_copy(&mut tx, &copied).await.expect("insert_copy"), 3);
    let patch = ProductPatch {
        price: Some(Decimal::new(2499, 2)),
        ..Default::default()
    };
    ProductRepo::update(&mut tx, lamp.id, &patch, lamp.version).await.expect("update");
    ProductRepo::delete(&mut tx, lamp.id).await.expect("soft delete");
    ProductRepo::restore(&mut tx, lamp.id).await.expect("restore");
    ProductRepo::upsert_by_id(&mut tx, &shop.product("desk")).await.expect("upsert");
    BuyerProfileRepo::update(
        &mut tx,
        buyer.id,
        &BuyerProfilePatch {
            phone_number: Some(Some("+49 30 7654321".into())),
            ..Default::default()
        },
    )
    .await
    .expect("buyer update");
    OrderRepo::insert(
        &mut tx,
        &NewOrder::new(shop.seller, buyer.id, "whatsapp".into(), Decimal::new(2499, 2)),
    )
    .await
    .expect("order");

    // Raw SQL in the same transaction, as the application role.
    let raised = sqlx::query("UPDATE products SET inventory_count = inventory_count + 1")
        .execute(tx.conn())
        .await
        .expect("raw update");
    assert_eq!(raised.rows_affected(), 7);
    sqlx::query("DELETE FROM products WHERE name = 'copied 2'")
        .execute(tx.conn())
        .await
        .expect("raw delete");
    tx.commit().await.expect("commit");

    // products: 1 + 2 (batch) + 3 (COPY) + 1 (upsert) inserts; update, soft
    // delete, restore and 7 raw updates; 1 raw delete.
    assert_eq!(
        shop.counts().await,
        expected(&[
            ("public.buyer_profile", "insert", 1),
            ("public.buyer_profile", "update", 1),
            ("public.orders", "insert", 1),
            ("public.products", "delete", 1),
            ("public.products", "insert", 7),
            ("public.products", "update", 10),
        ])
    );
    // One row per changed row: each product's audit rows name it.
    let per_row: Vec<(String, i64)> = sqlx::query_as(
        "SELECT p.name::text, count(a.id) FROM products p LEFT JOIN audit_logs a ON a.entity_id = p.id \
         GROUP BY p.name ORDER BY p.name",
    )
    .fetch_all(&shop.admin)
    .await
    .expect("per row");
    let per_row: Vec<(&str, i64)> = per_row.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    assert_eq!(
        per_row,
        [
            ("bulb", 2),
            ("copied 0", 2),
            ("copied 1", 2),
            ("desk", 2),
            ("lamp", 5),
            ("shade", 2)
        ]
    );

    // Who, where, what: the acting user, the row's tenant, the changed columns.
    let (actors, tenants): (i64, i64) =
        sqlx::query_as("SELECT count(*) FILTER (WHERE actor_id = $1), count(*) FILTER (WHERE tenant_id = $2) FROM audit_logs")
            .bind(shop.user)
            .bind(shop.tenant.0)
            .fetch_one(&shop.admin)
            .await
            .expect("actors");
    assert_eq!((actors, tenants), (21, 21));
    let price: serde_json::Value =
        sqlx::query_scalar("SELECT changes FROM audit_logs WHERE entity_id = $1 AND action = 'update' ORDER BY occurred_at, id LIMIT 1")
            .bind(lamp.id.0)
            .fetch_one(&shop.admin)
            .await
            .expect("price change");
    assert_eq!(price["price"], serde_json::json!({"old": 19.99, "new": 24.99}));
    assert!(price["version"].is_object(), "the version moved too: {price}");
    assert!(price.get("name").is_none(), "unchanged columns are left out: {price}");

    // Sensitive values are masked: no audit row holds them.
    let buyer_changes: Vec<serde_json::Value> =
        sqlx::query_scalar("SELECT changes FROM audit_logs WHERE entity_type = 'public.buyer_profile' ORDER BY action")
            .fetch_all(&shop.admin)
            .await
            .expect("buyer audit");
    assert_eq!(
        buyer_changes[0]["phone_number"],
        serde_json::json!({"old": null, "new": "<redacted>"})
    );
    assert_eq!(
        buyer_changes[1]["phone_number"],
        serde_json::json!({"old": "<redacted>", "new": "<redacted>"})
    );
    let leaks: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_logs a WHERE a::text LIKE '%' || $1 || '%' OR a::text LIKE '%' || $2 || '%' OR a::text LIKE '%7654321%'")
        .bind(PHONE)
        .bind(FULL_NAME)
        .fetch_one(&shop.admin)
        .await
        .expect("leak scan");
    assert_eq!(leaks, 0, "sensitive values reached the audit log");
    shop.admin.close().await;
    shop.db.drop_db().await;
}

#[tokio::test]
async fn audit_rows_belong_to_their_transaction_and_their_tenant_and_cannot_be_changed() {
    let shop = shop("audit_rules").await;

    // Rolled back: the change and its audit row go together.
    let mut tx = shop.tx().await;
    ProductRepo::insert(&mut tx, &shop.product("never")).await.expect("insert");
    tx.rollback().await.expect("rollback");
    assert_eq!(shop.counts().await, expected(&[]));

    let mut tx = shop.tx().await;
    let lamp = ProductRepo::insert(&mut tx, &shop.product("lamp")).await.expect("insert");
    tx.commit().await.expect("commit");

    // Each tenant reads its own audit rows only.
    let mut tx = shop.tx().await;
    let ours = AuditLogRepo::count(&mut tx, &AuditLogFilter::default()).await.expect("count");
    assert_eq!(ours, 1);
    let page = AuditLogRepo::list(&mut tx, &AuditLogFilter::default(), &hubgen_runtime::PageRequest::first(10))
        .await
        .expect("list");
    assert_eq!(page.items[0].entity_id, lamp.id.0);
    assert_eq!(page.items[0].action, "insert");
    drop(tx);
    let mut theirs = TenantTx::begin(&shop.db.pool, shop.other).await.expect("begin");
    assert_eq!(
        AuditLogRepo::count(&mut theirs, &AuditLogFilter::default()).await.expect("count"),
        0,
        "another tenant reads none"
    );
    drop(theirs);

    // The application role may not write the audit log, not even its own tenant's rows.
    for sql in [
        "INSERT INTO audit_logs (tenant_id, action, entity_type, entity_id) VALUES (current_setting('app.current_tenant_id')::uuid, 'insert', 'public.products', gen_random_uuid())",
        "UPDATE audit_logs SET action = 'forged'",
        "DELETE FROM audit_logs",
        "TRUNCATE audit_logs",
    ] {
        let mut tx = shop.tx().await;
        let error = sqlx::query(sql).execute(tx.conn()).await.expect_err(sql);
        let code = error.as_database_error().and_then(|e| e.code()).map(|c| c.to_string());
        assert_eq!(code.as_deref(), Some("42501"), "{sql}: {error}");
    }
    assert_eq!(shop.counts().await, expected(&[("public.products", "insert", 1)]));

    // Drift: the database matches the schema, audit triggers included, until one goes.
    let schema = hubgen_e2e::load("examples/commerce/schema/commerce.hubs");
    let hub = &schema.hubs[0];
    let drift = || async {
        let mut conn = shop.admin.acquire().await.expect("conn");
        let live = hubgen_live::introspect(&mut conn).await.expect("introspect");
        hubgen_codegen::catalog::diff(&hubgen_codegen::catalog::expected(hub), &live)
    };
    let clean = drift().await;
    assert!(clean.is_empty(), "no drift after the migrations: {clean:?}");
    sqlx::query("DROP TRIGGER hubgen_audit_update ON orders")
        .execute(&shop.admin)
        .await
        .expect("drop a trigger");
    let found: Vec<String> = drift().await.iter().map(|d| d.path.clone()).collect();
    assert_eq!(found, ["tables.public.orders.audit"], "the missing trigger is drift");
    shop.admin.close().await;
    shop.db.drop_db().await;
}
