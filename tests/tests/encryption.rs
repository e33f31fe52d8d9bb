//! `@encrypted` columns on real PostgreSQL, through seed 002's inbox crate
//! (social tokens and CRM credentials): the database holds only ciphertext
//! naming its key; the crate reads it back; keys rotate without downtime
//! (old rows stay readable, `reencrypt` converges); plaintext written before
//! the migration that encrypted the column stays readable until `reencrypt`
//! seals it, and the way back refuses sealed values. One test: the key ring
//! is process-wide.

use base64::Engine;
use hub_inbox::ids::TenantId;
use hub_inbox::{NewSocialAccount, SocialAccountRepo};
use hubgen_runtime::crypto::{self, Secret, StaticKeyRing};
use hubgen_runtime::prelude::*;
use hubgen_runtime::testing::{url_for, TestDatabase};
use hubgen_runtime::TenantTx;
use std::sync::Arc;

/// A schema of one's own with a searchable encrypted column, expanded by `hub!`.
mod vault {
    hubgen_macros::hub!("data/vault.hubs", vault);
}

const TOKEN: &str = "tok_live_5f3a9c";
/// Template tables resolve through `search_path`; foreign keys are not the point here.
const SETUP: &str = "SET session_replication_role = replica; SET search_path = tenant_template, public";

/// A ring of `ids` (key `id` is 32 bytes of `id`), sealing with `active`.
fn install(active: u32, ids: &[u32]) {
    let b64 = |byte: u8| base64::engine::general_purpose::STANDARD.encode([byte; 32]);
    let mut text: String = ids.iter().map(|id| format!("key {id} {}\n", b64(*id as u8))).collect();
    text.push_str(&format!("active {active}\nindex {}\n", b64(99)));
    crypto::install(Arc::new(StaticKeyRing::parse(&text).expect("ring")));
}

fn account(n: u32, token: &str) -> NewSocialAccount {
    NewSocialAccount::new("whatsapp".into(), format!("acct-{n}"), Secret::new(token.to_string()))
}

/// The stored bytes of every access token, by account.
async fn stored(admin: &sqlx::PgPool) -> Vec<(String, Vec<u8>)> {
    sqlx::query_as("SELECT account_id::text, access_token_encrypted FROM tenant_template.social_accounts ORDER BY account_id")
        .fetch_all(admin)
        .await
        .expect("stored tokens")
}

/// A connection in the template schema, where `reencrypt` finds the template's tables
/// (a tenant's copy: its schema first on the `search_path`).
async fn template(admin: &sqlx::PgPool) -> sqlx::pool::PoolConnection<sqlx::Postgres> {
    let mut conn = admin.acquire().await.expect("conn");
    sqlx::query("SET search_path = tenant_template, public")
        .execute(&mut *conn)
        .await
        .expect("search_path");
    conn
}

#[tokio::test]
async fn encrypted_columns_seal_rotate_and_carry_plaintext_over() {
    install(1, &[1]);
    let db = TestDatabase::create("encryption", hub_inbox::MIGRATIONS, SETUP, 2).await;
    let admin = sqlx::PgPool::connect(&url_for(&db.name)).await.expect("admin");
    let tenant = TenantId::new();

    // Sealed on the way in, opened on the way out.
    let mut tx = TenantTx::begin(&db.pool, tenant).await.expect("begin");
    let first = SocialAccountRepo::insert(&mut tx, &account(1, TOKEN)).await.expect("insert");
    tx.commit().await.expect("commit");
    let mut tx = TenantTx::begin(&db.pool, tenant).await.expect("begin");
    let read = SocialAccountRepo::get(&mut tx, first.id).await.expect("get").expect("row");
    assert_eq!(read.access_token_encrypted.expose(), TOKEN);
    drop(tx);
    let bytes = &stored(&admin).await[0].1;
    assert_eq!(bytes[..5], [1, 0, 0, 0, 1], "sealed, naming key 1");
    assert!(
        !bytes.windows(8).any(|w| w == &TOKEN.as_bytes()[..8]),
        "no plaintext in the database"
    );
    // Neither Debug nor JSON shows it.
    assert!(!format!("{read:?}").contains(TOKEN));
    let json = serde_json::to_string(&read).expect("json");
    assert!(!json.contains(TOKEN) && !json.contains("access_token_encrypted"), "{json}");

    // Rotation: key 2 seals new values; key 1 still opens the old ones.
    install(2, &[1, 2]);
    let mut tx = TenantTx::begin(&db.pool, tenant).await.expect("begin");
    SocialAccountRepo::insert(&mut tx, &account(2, "tok_live_second"))
        .await
        .expect("insert under key 2");
    let old = SocialAccountRepo::get(&mut tx, first.id).await.expect("old row").expect("row");
    assert_eq!(old.access_token_encrypted.expose(), TOKEN);
    tx.commit().await.expect("commit");
    let keys: Vec<Option<u32>> = stored(&admin).await.iter().map(|(_, b)| crypto::key_id(b)).collect();
    assert_eq!(keys, [Some(1), Some(2)]);
    let mut conn = template(&admin).await;
    assert_eq!(
        hub_inbox::reencrypt(&mut conn, 1).await.expect("reencrypt"),
        1,
        "only the row under key 1"
    );
    assert_eq!(hub_inbox::reencrypt(&mut conn, 1).await.expect("rerun"), 0, "converged");
    drop(conn);
    // Key 1 retired: everything still reads.
    install(2, &[2]);
    let mut tx = TenantTx::begin(&db.pool, tenant).await.expect("begin");
    let again = SocialAccountRepo::get(&mut tx, first.id).await.expect("get").expect("row");
    assert_eq!(again.access_token_encrypted.expose(), TOKEN);
    drop(tx);

    // A value under a key the ring lacks is an error that names the key, not the value.
    install(3, &[3]);
    let mut tx = TenantTx::begin(&db.pool, tenant).await.expect("begin");
    let error = SocialAccountRepo::get(&mut tx, first.id).await.expect_err("key 2 is gone");
    drop(tx);
    assert!(error.to_string().contains("key 2"), "{error}");
    assert!(!error.to_string().contains(TOKEN));
    admin.close().await;
    db.drop_db().await;

    // Searchable: the unique key and the lookup work on the blind index the value carries.
    searchable().await;

    // Day two: plaintext tokens written before the migration that encrypts the column.
    install(1, &[1]);
    let before = &hub_inbox::MIGRATIONS[..2];
    let db = TestDatabase::create("encryption_day_two", before, SETUP, 2).await;
    let admin = sqlx::PgPool::connect(&url_for(&db.name)).await.expect("admin");
    sqlx::query(
        "WITH t AS (INSERT INTO public.tenants (id, name, tier) VALUES ($1, 'T', 'free')) \
         INSERT INTO tenant_template.social_accounts (tenant_id, platform, account_id, access_token_encrypted) \
         SELECT $1, 'whatsapp', 'acct-' || i, 'tok_plain_' || i FROM generate_series(1, 3) i",
    )
    .bind(tenant.0)
    .execute(&admin)
    .await
    .expect("plaintext rows");
    hubgen_runtime::migrate(&admin, hub_inbox::MIGRATIONS)
        .await
        .expect("migration 3 encrypts the column");
    assert!(
        stored(&admin).await.iter().all(|(_, b)| b[0] == 0),
        "carried over as marked plaintext"
    );
    let mut tx = TenantTx::begin(&db.pool, tenant).await.expect("begin");
    let page = SocialAccountRepo::list(&mut tx, &Default::default(), &hubgen_runtime::PageRequest::first(10))
        .await
        .expect("list");
    let tokens: Vec<&str> = page.items.iter().map(|a| a.access_token_encrypted.expose().as_str()).collect();
    assert_eq!(tokens.len(), 3);
    assert!(tokens.iter().all(|t| t.starts_with("tok_plain_")), "{tokens:?}");
    drop(tx);

    // The way back works while nothing is sealed, and refuses once something is.
    let down = std::fs::read_dir(hubgen_e2e::root().join("examples/social_inbox/migrations/inbox"))
        .expect("migrations")
        .map(|e| e.expect("entry").path())
        .find(|p| p.to_string_lossy().contains("/0003_") && p.to_string_lossy().ends_with(".down.sql"))
        .expect("the down migration of 0003");
    let down = std::fs::read_to_string(down).expect("down sql");
    let mut tx = admin.begin().await.expect("begin");
    sqlx::raw_sql(&down).execute(&mut *tx).await.expect("down while nothing is sealed");
    tx.rollback().await.expect("rollback");
    let mut conn = template(&admin).await;
    assert_eq!(hub_inbox::reencrypt(&mut conn, 2).await.expect("seal the carried-over rows"), 3);
    drop(conn);
    assert!(stored(&admin).await.iter().all(|(_, b)| crypto::key_id(b) == Some(1)));
    let mut tx = admin.begin().await.expect("begin");
    let refused = sqlx::raw_sql(&down)
        .execute(&mut *tx)
        .await
        .expect_err("sealed values block the way back");
    assert!(refused.to_string().contains("sealed"), "{refused}");
    drop(tx);
    admin.close().await;
    db.drop_db().await;
}

/// `@encrypted(searchable)` through a `hub!` expansion: sealed with the blind
/// index in front, which the database copies into `email_bidx`; unique and
/// looked up by the plain value, across a rotation and an update.
async fn searchable() {
    use crypto::SearchableSecret;
    use vault::{AccountPatch, AccountRepo, NewAccount};
    install(1, &[1]);
    let db = TestDatabase::create("encryption_vault", vault::MIGRATIONS, "", 2).await;
    let mut conn = db.pool.acquire().await.expect("conn");
    let new = |email: &str| NewAccount::new(SearchableSecret::new(email.to_string()));
    let a = AccountRepo::insert(&mut conn, &new("a@x.io")).await.expect("insert a");
    AccountRepo::insert(&mut conn, &new("b@x.io")).await.expect("insert b");
    let found = AccountRepo::get_by_email(&mut conn, "a@x.io")
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!((found.id, found.email.expose().as_str()), (a.id, "a@x.io"));
    assert!(AccountRepo::get_by_email(&mut conn, "c@x.io").await.expect("lookup").is_none());
    let again = AccountRepo::insert(&mut conn, &new("a@x.io"))
        .await
        .expect_err("the email is unique");
    assert!(matches!(again, hubgen_runtime::Error::UniqueViolation { .. }), "{again}");
    let (email, index): (Vec<u8>, Vec<u8>) = sqlx::query_as("SELECT email, email_bidx FROM accounts WHERE id = $1")
        .bind(a.id.0)
        .fetch_one(&mut *conn)
        .await
        .expect("stored");
    assert_eq!(email[0], 2, "sealed with its index");
    assert_eq!(index, email[1..33], "the database copies the index");
    assert!(!email.windows(6).any(|w| w == b"a@x.io"));

    // Rotation: reencrypt seals both again under key 2; lookups still find them.
    install(2, &[1, 2]);
    assert_eq!(vault::reencrypt(&mut conn, 10).await.expect("reencrypt"), 2);
    assert_eq!(vault::reencrypt(&mut conn, 10).await.expect("rerun"), 0);
    let keys: Vec<Option<u32>> = sqlx::query_scalar::<_, Vec<u8>>("SELECT email FROM accounts ORDER BY email_bidx")
        .fetch_all(&mut *conn)
        .await
        .expect("stored")
        .iter()
        .map(|e| crypto::key_id(e))
        .collect();
    assert_eq!(keys, [Some(2), Some(2)]);
    install(2, &[2]);
    assert!(AccountRepo::get_by_email(&mut conn, "b@x.io").await.expect("lookup").is_some());

    // An update moves the index with the value.
    let patch = AccountPatch {
        email: Some(SearchableSecret::new("z@x.io".to_string())),
        ..Default::default()
    };
    AccountRepo::update(&mut conn, a.id, &patch).await.expect("update");
    assert!(AccountRepo::get_by_email(&mut conn, "a@x.io").await.expect("lookup").is_none());
    assert_eq!(
        AccountRepo::get_by_email(&mut conn, "z@x.io").await.expect("lookup").map(|r| r.id),
        Some(a.id)
    );
    drop(conn);
    db.drop_db().await;
}
