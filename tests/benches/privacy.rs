//! What privacy costs, in short interleaved rounds on one database (this
//! machine's speed drifts between phases, so each round's two timings are
//! compared with each other), as throughput ratios:
//!
//! - audit: inserts into an audited table (commerce's products) with the
//!   audit triggers on and off, single rows and batches (UNNEST);
//! - encryption: the inbox crate's insert and get of a social account, whose
//!   tokens it seals and opens, against the same statements hand-written
//!   with bytes of the same length bound plainly.
//!
//! Run: `cargo bench -p hubgen-e2e --bench privacy` (needs PostgreSQL and pg_partman, see README).

use hub_commerce::ids::{SellerProfileId, TenantId};
use hub_commerce::{NewProduct, ProductRepo};
use hub_inbox::{NewSocialAccount, SocialAccountRepo};
use hubgen_runtime::crypto::{self, Secret, StaticKeyRing};
use hubgen_runtime::prelude::*;
use hubgen_runtime::testing::{url_for, TestDatabase};
use hubgen_runtime::{AnyActor, TenantTx};
use rust_decimal::Decimal;
use std::time::{Duration, Instant};
use uuid::Uuid;

const ROUNDS: usize = 12;
const SINGLE: usize = 200;
const BATCH: usize = 2_000;

struct Bench {
    db: TestDatabase,
    admin: sqlx::PgPool,
    tenant: TenantId,
    actor: Uuid,
    seller: SellerProfileId,
}

impl Bench {
    async fn tx(&self) -> TenantTx<'static> {
        let mut tx = TenantTx::begin(&self.db.pool, self.tenant).await.expect("begin");
        tx.act_as(AnyActor(self.actor)).await.expect("act as");
        tx
    }

    fn product(&self, i: usize) -> NewProduct {
        NewProduct::new(self.seller, format!("product {i}"), Decimal::new(1999, 2))
    }

    async fn audit(&self, on: bool) {
        let verb = if on { "ENABLE" } else { "DISABLE" };
        sqlx::query(&format!("ALTER TABLE products {verb} TRIGGER USER"))
            .execute(&self.admin)
            .await
            .expect("toggle the audit triggers");
    }

    /// `SINGLE` inserts one by one in a transaction.
    async fn single(&self) -> Duration {
        let mut tx = self.tx().await;
        let start = Instant::now();
        for i in 0..SINGLE {
            ProductRepo::insert(&mut tx, &self.product(i)).await.expect("insert");
        }
        tx.commit().await.expect("commit");
        start.elapsed()
    }

    /// One batch of `BATCH` rows.
    async fn batch(&self) -> Duration {
        let rows: Vec<NewProduct> = (0..BATCH).map(|i| self.product(i)).collect();
        let mut tx = self.tx().await;
        let start = Instant::now();
        ProductRepo::insert_many(&mut tx, &rows).await.expect("insert_many");
        tx.commit().await.expect("commit");
        start.elapsed()
    }

    /// Empties the tables between rounds so both contenders insert into the same sizes.
    async fn reset(&self) {
        sqlx::raw_sql("TRUNCATE products CASCADE; TRUNCATE audit_logs")
            .execute(&self.admin)
            .await
            .expect("truncate");
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

const INSERT_PLAIN: &str = "INSERT INTO \"social_accounts\" (\"tenant_id\", \"platform\", \"account_id\", \"access_token_encrypted\", \"refresh_token_encrypted\") VALUES ($1, $2, $3, $4, $5) RETURNING \"id\"";
const GET_PLAIN: &str = "SELECT \"id\", \"tenant_id\", \"platform\", \"account_id\", \"account_name\", \"access_token_encrypted\", \"refresh_token_encrypted\", \"token_expires_at\", \"metadata\", \"connected_at\", \"active\" FROM \"social_accounts\" WHERE \"id\" = $1::uuid";
const TOKEN: &str = "EAAGm0PX4ZCpsBAKZCZBexampletokenvalue0123456789abcdefghijklmnopqrstuvwxyz";

type PlainRow = (
    Uuid,
    Uuid,
    String,
    String,
    Option<String>,
    Vec<u8>,
    Option<Vec<u8>>,
    Option<hubgen_runtime::chrono::NaiveDateTime>,
    Option<serde_json::Value>,
    Option<hubgen_runtime::chrono::NaiveDateTime>,
    Option<bool>,
);

/// Sealed by the crate against plain bytes of the same length, for `SINGLE` inserts then gets a round.
async fn encryption() {
    use base64::Engine;
    let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    crypto::install(std::sync::Arc::new(
        StaticKeyRing::parse(&format!("key 1 {key}\nindex {key}\n")).expect("ring"),
    ));
    let db = TestDatabase::create(
        "bench_encryption",
        hub_inbox::MIGRATIONS,
        "SET session_replication_role = replica; SET search_path = tenant_template, public",
        2,
    )
    .await;
    let tenant = hub_inbox::ids::TenantId::new();
    // What the crate stores: the sealed token's length.
    let sealed_len = crypto::seal(TOKEN.as_bytes()).expect("seal").len();
    let (mut inserts, mut gets) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let mut times = [(Duration::ZERO, Duration::ZERO); 2];
        for sealed in if round % 2 == 0 { [true, false] } else { [false, true] } {
            let mut tx = TenantTx::begin(&db.pool, tenant).await.expect("begin");
            let start = Instant::now();
            let mut ids = Vec::with_capacity(SINGLE);
            for i in 0..SINGLE {
                if sealed {
                    let new = NewSocialAccount {
                        refresh_token_encrypted: Some(Secret::new(TOKEN.to_string())),
                        ..NewSocialAccount::new("facebook".into(), format!("acct-{round}-{i}"), Secret::new(TOKEN.to_string()))
                    };
                    ids.push(SocialAccountRepo::insert(&mut tx, &new).await.expect("insert").id.0);
                } else {
                    let bytes = vec![1u8; sealed_len];
                    let id: Uuid = sqlx::query_scalar(INSERT_PLAIN)
                        .bind(tenant.0)
                        .bind("facebook")
                        .bind(format!("plain-{round}-{i}"))
                        .bind(&bytes)
                        .bind(Some(&bytes))
                        .fetch_one(tx.conn())
                        .await
                        .expect("plain insert");
                    ids.push(id);
                }
            }
            let inserted = start.elapsed();
            let start = Instant::now();
            for id in &ids {
                if sealed {
                    let row = SocialAccountRepo::get(&mut tx, hub_inbox::ids::SocialAccountId::from(*id))
                        .await
                        .expect("get")
                        .expect("row");
                    assert_eq!(row.access_token_encrypted.expose(), TOKEN);
                } else {
                    let row: PlainRow = sqlx::query_as(GET_PLAIN).bind(id).fetch_one(tx.conn()).await.expect("plain get");
                    assert_eq!(row.5.len(), sealed_len);
                }
            }
            times[usize::from(!sealed)] = (inserted, start.elapsed());
            tx.commit().await.expect("commit");
        }
        inserts.push(times[1].0.as_secs_f64() / times[0].0.as_secs_f64());
        gets.push(times[1].1.as_secs_f64() / times[0].1.as_secs_f64());
    }
    println!("encryption: {ROUNDS} interleaved rounds of {SINGLE} rows, two sealed tokens a row ({sealed_len} bytes each)");
    println!("  insert: encrypted ÷ plain throughput = {:.2} (median)", median(inserts));
    println!("  get: encrypted ÷ plain throughput = {:.2} (median)", median(gets));
    db.drop_db().await;
}

#[tokio::main]
async fn main() {
    let db = TestDatabase::create("bench_privacy", hub_commerce::MIGRATIONS, "SET ROLE commerce_app", 2).await;
    let admin = sqlx::PgPool::connect(&url_for(&db.name)).await.expect("admin pool");
    let (tenant, actor, seller) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    sqlx::query(
        "WITH t AS (INSERT INTO tenant (id, name) VALUES ($1, 'A')), \
              u AS (INSERT INTO users (id, email, tenant_id) VALUES ($2, 'seller@a.io', $1)) \
         INSERT INTO seller_profile (id, tenant_id, user_id, business_name) VALUES ($3, $1, $2, 'Lamps')",
    )
    .bind(tenant)
    .bind(actor)
    .bind(seller)
    .execute(&admin)
    .await
    .expect("seed");
    let bench = Bench {
        db,
        admin,
        tenant: TenantId::from(tenant),
        actor,
        seller: SellerProfileId::from(seller),
    };

    let (mut single, mut batch) = (Vec::new(), Vec::new());
    let (mut audited_rows, mut plain_rows) = (0f64, 0f64);
    for round in 0..ROUNDS {
        let mut times = [(Duration::ZERO, Duration::ZERO); 2];
        // Alternate who goes first; index 0 is audited, 1 plain.
        let order = if round % 2 == 0 { [true, false] } else { [false, true] };
        for on in order {
            bench.reset().await;
            bench.audit(on).await;
            let t = (bench.single().await, bench.batch().await);
            times[usize::from(!on)] = t;
            let written: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_logs")
                .fetch_one(&bench.admin)
                .await
                .expect("audit rows");
            if on {
                audited_rows += written as f64;
            } else {
                plain_rows += written as f64;
            }
        }
        // Throughput ratio = plain time ÷ audited time.
        single.push(times[1].0.as_secs_f64() / times[0].0.as_secs_f64());
        batch.push(times[1].1.as_secs_f64() / times[0].1.as_secs_f64());
    }
    bench.audit(true).await;
    assert_eq!(audited_rows as usize, ROUNDS * (SINGLE + BATCH), "one audit row per audited insert");
    assert_eq!(plain_rows, 0.0, "no audit rows with the trigger off");
    println!(
        "audit: {ROUNDS} interleaved rounds, {} audit rows written (one per row)",
        audited_rows as usize
    );
    println!(
        "  single-row inserts ({SINGLE} a round): audited ÷ plain throughput = {:.2} (median)",
        median(single)
    );
    println!(
        "  batch inserts (UNNEST, {BATCH} rows a round): audited ÷ plain throughput = {:.2} (median)",
        median(batch)
    );
    bench.admin.close().await;
    bench.db.drop_db().await;
    encryption().await;
}
