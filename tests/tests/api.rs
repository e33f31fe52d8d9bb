//! The generated crates under load, as services use them: optimistic
//! locking under contention, and tenant isolation across a shared pool.

use hub_tenant::{NewTenantMember, TenantMemberFilter, TenantMemberRepo};
use hub_wallet::{NewWallet, WalletPatch, WalletRepo};
use hubgen_runtime::prelude::*;
use hubgen_runtime::testing::TestDatabase;
use hubgen_runtime::{ActorTx, AnyActor, Error, PageRequest, PlatformTx, Scope, TenantTx};
use rust_decimal::Decimal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A transaction for tests connected as the superuser, whom row-level
/// security lets through: any acting user will do.
async fn as_superuser(pool: &sqlx::PgPool) -> ActorTx<'static> {
    ActorTx::begin(pool, AnyActor(uuid::Uuid::new_v4())).await.expect("begin")
}

/// Sign-up's transaction: the identity hub's auth role.
async fn as_auth(pool: &sqlx::PgPool) -> PlatformTx<'static> {
    PlatformTx::begin(pool, hub_identity::roles::IDENTITY_AUTH)
        .await
        .expect("begin as identity_auth")
}

/// Whether `insert_copy` made its session-private staging table for `table`
/// in the open transaction (it is dropped at commit).
async fn has_staging_table(tx: &mut impl Scope, table: &str) -> bool {
    sqlx::query_scalar("SELECT to_regclass('pg_temp.hubgen_copy_' || $1) IS NOT NULL")
        .bind(table)
        .fetch_one(tx.conn())
        .await
        .expect("staging table lookup")
}

/// 32 tasks update one wallet from the same version: exactly one wins each
/// version, the others get `Conflict` and retry; no increment is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn optimistic_locking_under_contention() {
    let db = TestDatabase::create("api_locking", hub_wallet::MIGRATIONS, "", 8).await;
    let owner = hub_ids::UserId::new();
    let wallet = {
        let mut tx = ActorTx::begin(&db.pool, owner).await.expect("begin");
        let new = NewWallet {
            id: None,
            user_id: owner,
            tenant_id: None,
            currency: None,
            balance: Some(Decimal::ZERO),
            available_balance: None,
            frozen_balance: None,
            status: None,
            wallet_type: None,
            metadata: None,
            created_at: None,
            updated_at: None,
        };
        let wallet = WalletRepo::insert(&mut tx, &new).await.expect("insert wallet");
        tx.commit().await.expect("commit");
        wallet
    };
    let tasks = 32;
    let barrier = Arc::new(tokio::sync::Barrier::new(tasks));
    let first_round_wins = Arc::new(AtomicUsize::new(0));
    let conflicts = Arc::new(AtomicUsize::new(0));
    let versions = Arc::new(Mutex::new(Vec::new()));
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (pool, barrier, first_round_wins, conflicts, versions) = (
            db.pool.clone(),
            barrier.clone(),
            first_round_wins.clone(),
            conflicts.clone(),
            versions.clone(),
        );
        let id = wallet.id;
        let start = wallet.clone();
        handles.push(tokio::spawn(async move {
            let mut seen = start;
            let mut first = true;
            loop {
                if first {
                    // Everyone tries from the same version at once.
                    barrier.wait().await;
                }
                let mut tx = ActorTx::begin(&pool, owner).await.expect("begin");
                let patch = WalletPatch {
                    balance: Some(Some(seen.balance.unwrap_or_default() + Decimal::ONE)),
                    ..Default::default()
                };
                match WalletRepo::update(&mut tx, id, &patch, seen.version).await {
                    Ok(updated) => {
                        tx.commit().await.expect("commit");
                        if first {
                            first_round_wins.fetch_add(1, Ordering::SeqCst);
                        }
                        versions.lock().expect("lock").push(updated.version);
                        return;
                    }
                    Err(Error::Conflict { .. }) => {
                        conflicts.fetch_add(1, Ordering::SeqCst);
                        seen = WalletRepo::get(&mut tx, id).await.expect("get").expect("wallet exists");
                        first = false;
                    }
                    Err(other) => panic!("unexpected error: {other}"),
                }
            }
        }));
    }
    for handle in handles {
        handle.await.expect("task");
    }
    let mut conn = ActorTx::begin(&db.pool, owner).await.expect("begin");
    let end = WalletRepo::get(&mut conn, wallet.id).await.expect("get").expect("wallet");
    assert_eq!(
        first_round_wins.load(Ordering::SeqCst),
        1,
        "exactly one of 32 wins the first version"
    );
    assert!(
        conflicts.load(Ordering::SeqCst) >= tasks - 1,
        "the others were told about the conflict"
    );
    assert_eq!(end.balance, Some(Decimal::from(tasks)), "no increment is lost");
    assert_eq!(end.version, wallet.version + tasks as i32);
    let mut won: Vec<i32> = versions.lock().expect("lock").clone();
    won.sort_unstable();
    let expected: Vec<i32> = (wallet.version + 1..=wallet.version + tasks as i32).collect();
    assert_eq!(won, expected, "each version was won exactly once");
    drop(conn);
    db.drop_db().await;
}

/// 64 tasks on a 4-connection pool, alternating between two tenants, 10,000
/// transactions in all, connected as the application role: no task ever
/// sees or changes the other tenant's rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tenant_isolation_across_a_shared_pool() {
    // Replica mode skips the tenants(id) foreign key; RLS still applies to `tenant_app`.
    let db = TestDatabase::create(
        "api_isolation",
        hub_tenant::MIGRATIONS,
        "SET session_replication_role = replica; SET ROLE tenant_app",
        4,
    )
    .await;
    let tenants = [hub_ids::TenantId::new(), hub_ids::TenantId::new()];
    let new_member = || NewTenantMember {
        id: None,
        user_id: hub_ids::UserId::new(),
        role: "MEMBER".into(),
        status: None,
        invited_by: None,
        joined_at: None,
        updated_at: None,
    };
    // One known row per tenant.
    let mut known = Vec::new();
    for tenant in tenants {
        let mut tx = TenantTx::begin(&db.pool, tenant).await.expect("begin");
        known.push(TenantMemberRepo::insert(&mut tx, &new_member()).await.expect("insert").id);
        tx.commit().await.expect("commit");
    }
    let total = 10_000;
    let tasks = 64;
    let done = Arc::new(AtomicUsize::new(0));
    let inserted = Arc::new([AtomicUsize::new(1), AtomicUsize::new(1)]);
    let mut handles = Vec::new();
    for task in 0..tasks {
        let (pool, done, inserted, known) = (db.pool.clone(), done.clone(), inserted.clone(), known.clone());
        handles.push(tokio::spawn(async move {
            let mut i = task;
            while done.fetch_add(1, Ordering::SeqCst) < total {
                let side = i % 2;
                i += 1;
                let (tenant, other_row) = (tenants[side], known[1 - side]);
                let mut tx = TenantTx::begin(&pool, tenant).await.expect("begin");
                let row = TenantMemberRepo::insert(&mut tx, &new_member()).await.expect("insert");
                assert_eq!(row.tenant_id, tenant, "the tenant comes from the transaction");
                let page = TenantMemberRepo::list(&mut tx, &TenantMemberFilter::default(), &PageRequest::first(50))
                    .await
                    .expect("list");
                assert!(page.items.iter().all(|m| m.tenant_id == tenant), "saw another tenant's row");
                assert_eq!(
                    TenantMemberRepo::get(&mut tx, other_row).await.expect("get"),
                    None,
                    "read another tenant's row"
                );
                let patch = hub_tenant::TenantMemberPatch {
                    role: Some("OWNER".into()),
                    ..Default::default()
                };
                assert!(
                    matches!(TenantMemberRepo::update(&mut tx, other_row, &patch).await, Err(Error::NotFound)),
                    "changed another tenant's row"
                );
                assert!(
                    matches!(TenantMemberRepo::delete(&mut tx, other_row).await, Err(Error::NotFound)),
                    "deleted another tenant's row"
                );
                tx.commit().await.expect("commit");
                inserted[side].fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    for handle in handles {
        handle.await.expect("task");
    }
    for (side, tenant) in tenants.iter().enumerate() {
        let mut tx = TenantTx::begin(&db.pool, *tenant).await.expect("begin");
        let count = TenantMemberRepo::count(&mut tx, &TenantMemberFilter::default())
            .await
            .expect("count");
        assert_eq!(
            count as usize,
            inserted[side].load(Ordering::SeqCst),
            "every row landed with its own tenant"
        );
        let known_row = TenantMemberRepo::get(&mut tx, known[side]).await.expect("get").expect("own row");
        assert_eq!(known_row.role, "MEMBER", "the other tenant never changed it");
    }
    let sum: usize = inserted.iter().map(|c| c.load(Ordering::SeqCst)).sum();
    assert_eq!(sum, total + 2);
    db.drop_db().await;
}

/// Constraint violations come back as variants that name the constraint.
#[tokio::test]
async fn violations_name_their_constraint() {
    let db = TestDatabase::create("api_errors", hub_identity::MIGRATIONS, "", 2).await;
    let mut conn = as_auth(&db.pool).await;
    let user = |email: &str| hub_identity::NewUser {
        id: None,
        email: email.into(),
        password_hash: "x".into(),
        first_name: None,
        last_name: None,
        role: None,
        status: None,
        email_verified: None,
        last_login_at: None,
        created_at: None,
        updated_at: None,
    };
    hub_identity::UserRepo::insert(&mut conn, &user("a@example.com"))
        .await
        .expect("first insert");
    // Each refused statement in a savepoint, so the transaction goes on.
    let mut savepoint = conn.savepoint().await.expect("savepoint");
    match hub_identity::UserRepo::insert(&mut savepoint, &user("a@example.com")).await {
        Err(Error::UniqueViolation { constraint }) => assert_eq!(constraint, "users_email_key"),
        other => panic!("expected a unique violation, got {other:?}"),
    }
    savepoint.rollback().await.expect("rollback");
    let session = hub_identity::NewUserSession {
        id: None,
        user_id: hub_ids::UserId::new(),
        token_hash: "h".into(),
        expires_at: chrono::NaiveDate::from_ymd_opt(2030, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("date"),
        ip_address: None,
        user_agent: None,
        created_at: None,
    };
    let mut savepoint = conn.savepoint().await.expect("savepoint");
    match hub_identity::UserSessionRepo::insert(&mut savepoint, &session).await {
        Err(Error::ForeignKeyViolation { constraint }) => assert_eq!(constraint, "user_sessions_user_id_fkey"),
        other => panic!("expected a foreign-key violation, got {other:?}"),
    }
    savepoint.rollback().await.expect("rollback");
    // Client-side validation catches what it can before sending.
    match hub_identity::UserRepo::insert(&mut conn, &user(&"x".repeat(300))).await {
        Err(Error::Invalid(violations)) => assert!(violations.iter().any(|v| v.field == "email"), "{violations:?}"),
        other => panic!("expected a validation error, got {other:?}"),
    }
    let check = sqlx::raw_sql("CREATE TEMP TABLE t (n int CONSTRAINT t_n_positive CHECK (n > 0)); INSERT INTO t VALUES (-1)")
        .execute(conn.conn())
        .await;
    match check.map_err(Error::from) {
        Err(Error::CheckViolation { constraint }) => assert_eq!(constraint, "t_n_positive"),
        other => panic!("expected a check violation, got {other:?}"),
    }
    drop(conn);
    db.drop_db().await;
}

/// Forgetting the tenant is a compile error, pinned by trybuild.
#[test]
fn tenant_scoped_repositories_need_a_tenant_transaction() {
    trybuild::TestCases::new().compile_fail("ui/*.rs");
}

/// A JSON patch means what it says: an absent key leaves the column, `null`
/// clears it, and a patch survives a JSON round trip unchanged.
#[tokio::test]
async fn a_json_patch_clears_with_null_and_leaves_what_is_absent() {
    use hub_identity::{NewUser, UserPatch, UserRepo};
    let patch: UserPatch = serde_json::from_str(r#"{"first_name": null, "role": "ADMIN"}"#).expect("patch JSON");
    assert_eq!(patch.first_name, Some(None), "null clears");
    assert_eq!(patch.last_name, None, "absent leaves");
    let json = serde_json::to_value(&patch).expect("serializes");
    assert_eq!(json, serde_json::json!({"first_name": null, "role": "ADMIN"}));
    assert_eq!(serde_json::from_value::<UserPatch>(json).expect("round trip"), patch);

    let db = TestDatabase::create("api_json_patch", hub_identity::MIGRATIONS, "", 2).await;
    let mut conn = as_auth(&db.pool).await;
    let mut new: NewUser = serde_json::from_value(serde_json::json!({
        "email": "ada@example.com", "password_hash": "x", "first_name": "Ada", "last_name": "Lovelace"
    }))
    .expect("a new user from JSON");
    new.password_hash = "argon2$secret".into();
    let row = UserRepo::insert(&mut conn, &new).await.expect("insert");
    let updated = UserRepo::update(&mut conn, row.id, &patch).await.expect("update");
    assert_eq!(updated.first_name, None, "cleared");
    assert_eq!(updated.last_name.as_deref(), Some("Lovelace"), "left as it was");
    assert_eq!(updated.role.as_deref(), Some("ADMIN"));
    drop(conn);
    db.drop_db().await;
}

/// Filters, sort orders and enums write the JSON serde's derive wrote (the
/// generated crates write their `Serialize` impls out): a condition that
/// matches everything is left out, a sort order by its snake_case name, an
/// enum by its PostgreSQL value; each reads back as it was.
#[test]
fn filters_sort_orders_and_enums_serialize_as_the_derive_did() {
    use hub_commerce::TeamRole;
    use hub_wallet::{Condition, WalletFilter, WalletSort};
    let filter = WalletFilter {
        currency: Condition::any_of(["EUR".to_string(), "USD".to_string()]),
        ..WalletFilter::default()
    };
    let json = serde_json::to_value(&filter).expect("serializes");
    assert_eq!(json, serde_json::json!({"currency": {"any_of": ["EUR", "USD"]}}));
    assert_eq!(serde_json::from_value::<WalletFilter>(json).expect("reads back"), filter);
    assert_eq!(
        serde_json::to_value(WalletFilter::default()).expect("serializes"),
        serde_json::json!({})
    );

    assert_eq!(
        serde_json::to_value(WalletSort::TenantId).expect("serializes"),
        serde_json::json!("tenant_id")
    );
    assert_eq!(
        serde_json::to_value(TeamRole::Viewer).expect("serializes"),
        serde_json::json!("viewer")
    );
    assert_eq!(
        serde_json::from_str::<TeamRole>(r#""viewer""#).expect("reads back"),
        TeamRole::Viewer
    );
}

/// `@sensitive` values never leave by accident: not in JSON, `writeOnly` in
/// the JSON Schema, redacted in `Debug` and in validation messages.
#[test]
fn sensitive_values_do_not_serialize_or_print() {
    use hub_identity::{NewUser, User};
    let secret = "argon2$do-not-leak";
    let user = User {
        id: hub_ids::UserId::new(),
        email: "ada@example.com".into(),
        password_hash: secret.into(),
        first_name: None,
        last_name: None,
        role: None,
        status: None,
        email_verified: None,
        last_login_at: None,
        created_at: None,
        updated_at: None,
    };
    let json = serde_json::to_string(&user).expect("serializes");
    assert!(!json.contains(secret) && !json.contains("password_hash"), "{json}");
    assert!(!format!("{user:?}").contains(secret));
    let read_back: User = serde_json::from_str(&json).expect("a row reads back without it");
    assert_eq!(read_back.password_hash, "");

    let new: NewUser = serde_json::from_value(serde_json::json!({"email": "a@b.io", "password_hash": secret})).expect("accepted as input");
    assert_eq!(new.password_hash, secret, "written in");
    assert!(
        !serde_json::to_string(&new).expect("serializes").contains(secret),
        "never written out"
    );

    let schema = serde_json::to_value(schemars::schema_for!(User)).expect("schema");
    assert_eq!(
        schema["properties"]["password_hash"]["writeOnly"],
        serde_json::json!(true),
        "{schema:#}"
    );
}

/// Lists in any indexed order, both ways, with NULLs among the values and
/// ties broken by the key: pages of 7 read exactly what PostgreSQL's own
/// `ORDER BY` returns; filters with `IN`, ranges and `IS NULL` count what
/// SQL counts.
#[tokio::test]
async fn ordered_pages_and_conditions_agree_with_sql() {
    use hub_wallet::{Condition, WalletFilter, WalletSort};
    let db = TestDatabase::create("api_ordering", hub_wallet::MIGRATIONS, "", 2).await;
    let mut conn = as_superuser(&db.pool).await;
    let tenants = [hub_ids::TenantId::new(), hub_ids::TenantId::new()];
    let statuses = [None, Some("ACTIVE"), Some("FROZEN"), Some("CLOSED")];
    let rows: Vec<NewWallet> = (0..60)
        .map(|i| NewWallet {
            // Every fifth wallet is personal: a NULL tenant among repeated values.
            tenant_id: (i % 5 != 0).then(|| tenants[i % 2]),
            status: statuses[i % 4].map(str::to_string),
            currency: Some(["EUR", "USD", "GBP"][i % 3].to_string()),
            ..NewWallet::new(hub_ids::UserId::new())
        })
        .collect();
    assert_eq!(WalletRepo::insert_many(&mut conn, &rows).await.expect("insert_many"), 60);
    conn.commit().await.expect("commit");
    let mut conn = as_superuser(&db.pool).await;

    for (sort, column) in [
        (WalletSort::Id, "id"),
        (WalletSort::TenantId, "tenant_id"),
        (WalletSort::Status, "status"),
        (WalletSort::Currency, "currency"),
    ] {
        for desc in [false, true] {
            let direction = if desc { "DESC" } else { "ASC" };
            let expected: Vec<hub_ids::WalletId> =
                sqlx::query_scalar(&format!("SELECT id FROM wallets ORDER BY {column} {direction}, id {direction}"))
                    .fetch_all(conn.conn())
                    .await
                    .expect("sql order");
            let mut request = PageRequest::first(7).by(sort);
            if desc {
                request = request.desc();
            }
            let mut read = Vec::new();
            loop {
                let page = WalletRepo::list(&mut conn, &WalletFilter::default(), &request).await.expect("page");
                read.extend(page.items.iter().map(|w| w.id));
                match page.next {
                    Some(cursor) => request = request.after(cursor),
                    None => break,
                }
            }
            assert_eq!(read, expected, "{sort:?} {direction}");
        }
    }

    let count = |filter: WalletFilter| {
        let pool = db.pool.clone();
        async move { WalletRepo::count(&mut as_superuser(&pool).await, &filter).await.expect("count") }
    };
    let sql = |condition: &str| {
        let (pool, q) = (db.pool.clone(), format!("SELECT count(*) FROM wallets WHERE {condition}"));
        async move { sqlx::query_scalar::<_, i64>(&q).fetch_one(&pool).await.expect("sql count") }
    };
    let cases = [
        (
            WalletFilter {
                tenant_id: Condition::is_null(),
                ..Default::default()
            },
            "tenant_id IS NULL",
        ),
        (
            WalletFilter {
                status: Condition::any_of(["ACTIVE".to_string(), "CLOSED".to_string()]),
                ..Default::default()
            },
            "status IN ('ACTIVE', 'CLOSED')",
        ),
        (
            WalletFilter {
                currency: Condition::between("EUR".to_string(), "USD".to_string()),
                status: Condition::not_null(),
                ..Default::default()
            },
            "currency >= 'EUR' AND currency < 'USD' AND status IS NOT NULL",
        ),
        (
            WalletFilter {
                tenant_id: tenants[0].into(),
                ..Default::default()
            },
            &format!("tenant_id = '{}'", tenants[0]),
        ),
    ];
    for (filter, condition) in cases {
        let expected = sql(condition).await;
        assert!(expected > 0, "{condition}: the data has matches");
        assert_eq!(count(filter).await, expected, "{condition}");
    }
    drop(conn);
    db.drop_db().await;
}

/// A failed statement inside a savepoint is rolled back alone: the tenant's
/// transaction goes on and commits what came before and after.
#[tokio::test]
async fn a_savepoint_recovers_the_tenant_transaction() {
    let db = TestDatabase::create("api_savepoint", hub_tenant::MIGRATIONS, "SET session_replication_role = replica", 2).await;
    let tenant = hub_ids::TenantId::new();
    let user = hub_ids::UserId::new();
    let mut tx = TenantTx::begin(&db.pool, tenant).await.expect("begin");
    let member = NewTenantMember::new(user, "OWNER".into());
    TenantMemberRepo::insert(&mut tx, &member).await.expect("first insert");

    let mut savepoint = tx.savepoint().await.expect("savepoint");
    let duplicate = TenantMemberRepo::insert(&mut savepoint, &member).await;
    assert!(matches!(duplicate, Err(Error::UniqueViolation { .. })), "{duplicate:?}");
    savepoint.rollback().await.expect("rolled back to the savepoint");

    let other = NewTenantMember::new(hub_ids::UserId::new(), "MEMBER".into());
    TenantMemberRepo::insert(&mut tx, &other).await.expect("the transaction goes on");
    tx.commit().await.expect("commit");

    let mut tx = TenantTx::begin(&db.pool, tenant).await.expect("begin");
    assert_eq!(
        TenantMemberRepo::count(&mut tx, &TenantMemberFilter::default())
            .await
            .expect("count"),
        2
    );
    drop(tx);
    db.drop_db().await;
}

/// A batch that does not validate is refused whole, each violation naming
/// the row it came from.
#[tokio::test]
async fn insert_many_names_the_rows_that_do_not_validate() {
    let db = TestDatabase::create(
        "api_batch_rows",
        hub_tenant::MIGRATIONS,
        "SET session_replication_role = replica",
        2,
    )
    .await;
    let mut tx = TenantTx::begin(&db.pool, hub_ids::TenantId::new()).await.expect("begin");
    let too_long = "x".repeat(51);
    let rows: Vec<NewTenantMember> = ["OWNER", too_long.as_str(), "MEMBER", too_long.as_str()]
        .iter()
        .map(|role| NewTenantMember::new(hub_ids::UserId::new(), role.to_string()))
        .collect();
    let Err(Error::Invalid(violations)) = TenantMemberRepo::insert_many(&mut tx, &rows).await else {
        panic!("the batch is refused");
    };
    let rows_named: Vec<Option<usize>> = violations.iter().map(|v| v.row).collect();
    assert!(rows_named.contains(&Some(1)) && rows_named.contains(&Some(3)), "{violations:?}");
    assert!(!rows_named.contains(&Some(0)) && !rows_named.contains(&Some(2)), "{violations:?}");
    assert!(violations[0].to_string().starts_with("row 1: role: "), "{}", violations[0]);
    assert_eq!(
        TenantMemberRepo::count(&mut tx, &TenantMemberFilter::default())
            .await
            .expect("count"),
        0,
        "nothing sent"
    );
    drop(tx);
    db.drop_db().await;
}

/// Binary COPY stores exactly what the UNNEST insert stores: the same rows
/// (explicit keys, defaulted and NULL fields mixed, so COPY sends several
/// column groups) through both paths into two databases, checksummed.
#[tokio::test]
async fn copy_and_unnest_store_identical_rows() {
    use hub_identity::{NewUser, UserRepo};
    let users: Vec<NewUser> = (0..500)
        .map(|i| NewUser {
            id: Some(hub_ids::UserId::new()),
            first_name: (i % 3 != 0).then(|| format!("Ada {i} ✓")),
            role: (i % 2 == 0).then(|| "ADMIN".to_string()),
            email_verified: (i % 5 == 0).then_some(true),
            last_login_at: (i % 7 == 0).then(|| {
                chrono::NaiveDate::from_ymd_opt(2026, 1, 1 + i as u32 % 28)
                    .expect("date")
                    .and_hms_micro_opt(12, 0, 0, i as u32)
                    .expect("time")
            }),
            ..NewUser::new(format!("user{i}@example.com"), format!("hash-{i}"))
        })
        .collect();
    let wallets: Vec<NewWallet> = (0..500)
        .map(|i| NewWallet {
            id: Some(hub_ids::WalletId::new()),
            balance: (i % 2 == 0).then(|| Decimal::new(i as i64 * 12345, 4)),
            metadata: (i % 3 == 0).then(|| serde_json::json!({"i": i, "tags": ["a", "b"], "nested": {"ok": true}})),
            status: (i % 4 != 0).then(|| "ACTIVE".to_string()),
            tenant_id: (i % 5 != 0).then(hub_ids::TenantId::new),
            ..NewWallet::new(hub_ids::UserId::new())
        })
        .collect();
    let checksums = |db: &TestDatabase| {
        let pool = db.pool.clone();
        async move {
            let mut out = Vec::new();
            for query in [
                "SELECT count(*), md5(string_agg(u::text, ',' ORDER BY id)) FROM (SELECT id, email, password_hash, first_name, last_name, role, status, email_verified, last_login_at FROM users) u",
                "SELECT count(*), md5(string_agg(w::text, ',' ORDER BY id)) FROM (SELECT id, user_id, tenant_id, currency, balance, available_balance, frozen_balance, status, wallet_type, metadata, version FROM wallets) w",
            ] {
                if let Ok(row) = sqlx::query_as::<_, (i64, String)>(query).fetch_one(&pool).await {
                    out.push(row);
                }
            }
            out
        }
    };
    let mut sums = Vec::new();
    for (name, by_copy) in [("api_unnest_rows", false), ("api_copy_rows", true)] {
        let identity = TestDatabase::create(&format!("{name}_identity"), hub_identity::MIGRATIONS, "", 2).await;
        let wallet = TestDatabase::create(&format!("{name}_wallet"), hub_wallet::MIGRATIONS, "", 2).await;
        let (mut a, mut b) = (as_auth(&identity.pool).await, as_superuser(&wallet.pool).await);
        let (n_users, n_wallets) = if by_copy {
            (
                UserRepo::insert_copy(&mut a, &users).await.expect("copy users"),
                WalletRepo::insert_copy(&mut b, &wallets).await.expect("copy wallets"),
            )
        } else {
            (
                UserRepo::insert_many(&mut a, &users).await.expect("unnest users"),
                WalletRepo::insert_many(&mut b, &wallets).await.expect("unnest wallets"),
            )
        };
        assert_eq!((n_users, n_wallets), (500, 500));
        // identity_auth bypasses the users' policies: COPY went straight in, no staging table.
        assert!(!has_staging_table(&mut a, "public_users").await, "no staging for a BYPASSRLS role");
        a.commit().await.expect("commit");
        b.commit().await.expect("commit");
        sums.push([checksums(&identity).await, checksums(&wallet).await].concat());
        identity.drop_db().await;
        wallet.drop_db().await;
    }
    assert_eq!(sums[0].len(), 2);
    assert_eq!(sums[0], sums[1], "COPY and UNNEST store the same rows");
}

/// COPY into a table under row-level security, as the application role
/// (which PostgreSQL refuses a direct `COPY FROM`): the rows go through a
/// staging table, land in the transaction's tenant and nowhere else.
#[tokio::test]
async fn copy_into_a_tenant_scoped_table_as_the_application_role() {
    let db = TestDatabase::create(
        "api_copy_rls",
        hub_tenant::MIGRATIONS,
        "SET session_replication_role = replica; SET ROLE tenant_app",
        2,
    )
    .await;
    let (ours, theirs) = (hub_ids::TenantId::new(), hub_ids::TenantId::new());
    let members: Vec<NewTenantMember> = (0..20_000)
        .map(|i| NewTenantMember::new(hub_ids::UserId::new(), if i % 10 == 0 { "ADMIN" } else { "MEMBER" }.into()))
        .collect();
    let mut tx = TenantTx::begin(&db.pool, ours).await.expect("begin");
    assert_eq!(
        TenantMemberRepo::insert_copy(&mut tx, &members).await.expect("copy as tenant_app"),
        20_000
    );
    assert!(
        has_staging_table(&mut tx, "public_tenant_members").await,
        "staged under the policies"
    );
    // Twice in one transaction: the staging table is reused, not re-created.
    let more: Vec<NewTenantMember> = (0..10)
        .map(|_| NewTenantMember::new(hub_ids::UserId::new(), "MEMBER".into()))
        .collect();
    assert_eq!(TenantMemberRepo::insert_copy(&mut tx, &more).await.expect("second copy"), 10);
    tx.commit().await.expect("commit");

    let mut tx = TenantTx::begin(&db.pool, ours).await.expect("begin");
    assert_eq!(
        TenantMemberRepo::count(&mut tx, &TenantMemberFilter::default())
            .await
            .expect("count"),
        20_010
    );
    let admins = TenantMemberFilter {
        role: "ADMIN".to_string().into(),
        ..Default::default()
    };
    assert_eq!(TenantMemberRepo::count(&mut tx, &admins).await.expect("count"), 2_000);
    drop(tx);
    let mut tx = TenantTx::begin(&db.pool, theirs).await.expect("begin");
    assert_eq!(
        TenantMemberRepo::count(&mut tx, &TenantMemberFilter::default())
            .await
            .expect("count"),
        0,
        "another tenant sees none"
    );
    drop(tx);
    db.drop_db().await;
}

/// A batch the database refuses inserts nothing, and the error names the
/// first row it refuses: here a duplicate of an earlier row of the batch.
#[tokio::test]
async fn insert_many_names_the_row_the_database_refuses() {
    use hub_identity::{NewUser, UserFilter, UserRepo};
    let db = TestDatabase::create("api_batch_refused", hub_identity::MIGRATIONS, "", 2).await;
    let mut tx = as_auth(&db.pool).await;
    let rows: Vec<NewUser> = ["a@example.com", "b@example.com", "c@example.com", "b@example.com", "d@example.com"]
        .iter()
        .map(|email| NewUser::new(email.to_string(), "hash".into()))
        .collect();
    match UserRepo::insert_many(&mut tx, &rows).await {
        Err(Error::InRow { row: 3, error }) => {
            assert!(
                matches!(*error, Error::UniqueViolation { ref constraint } if constraint == "users_email_key"),
                "{error}"
            );
        }
        other => panic!("expected row 3 refused: {other:?}"),
    }
    assert_eq!(
        UserRepo::count(&mut tx, &UserFilter::default()).await.expect("count"),
        0,
        "all or none"
    );
    assert_eq!(
        UserRepo::insert_many(&mut tx, &rows[..3]).await.expect("the transaction goes on"),
        3
    );
    tx.commit().await.expect("commit");
    db.drop_db().await;
}

/// A cursor names the order it was made for: another order, or a string
/// that is no cursor, is refused with a message instead of a wrong page.
#[tokio::test]
async fn a_cursor_of_another_order_is_refused() {
    use hub_wallet::{WalletFilter, WalletSort};
    let db = TestDatabase::create("api_cursor_order", hub_wallet::MIGRATIONS, "", 2).await;
    let mut conn = as_superuser(&db.pool).await;
    let rows: Vec<NewWallet> = (0..5).map(|_| NewWallet::new(hub_ids::UserId::new())).collect();
    WalletRepo::insert_many(&mut conn, &rows).await.expect("insert");
    let by_currency = PageRequest::first(2).by(WalletSort::Currency);
    let page = WalletRepo::list(&mut conn, &WalletFilter::default(), &by_currency)
        .await
        .expect("page");
    let cursor = page.next.expect("a full page has a cursor");
    let next = WalletRepo::list(&mut conn, &WalletFilter::default(), &by_currency.clone().after(cursor.clone())).await;
    assert_eq!(next.expect("same order").items.len(), 2);
    for request in [
        by_currency.clone().desc().after(cursor.clone()),
        PageRequest::first(2).by(WalletSort::Status).after(cursor),
        by_currency.after(hubgen_runtime::Cursor::from("not a cursor".to_string())),
    ] {
        match WalletRepo::list(&mut conn, &WalletFilter::default(), &request).await {
            Err(Error::Invalid(violations)) => assert_eq!(violations[0].field, "after", "{violations:?}"),
            other => panic!("{request:?}: expected a refusal, got {other:?}"),
        }
    }
    drop(conn);
    db.drop_db().await;
}

/// A `json` column (no schema here has one yet) travels by COPY as its text,
/// not in jsonb's binary format; NULL stays NULL.
#[tokio::test]
async fn copy_writes_json_columns_as_text() {
    use hubgen_runtime::copy::CopyTarget;
    use hubgen_runtime::repo::Sink;
    struct Doc(Option<serde_json::Value>);
    let target = CopyTarget {
        table: "\"public\".\"docs\"",
        columns: &["\"body\""],
        staging: "public_docs",
        row_security: false,
    };
    let db = TestDatabase::create("api_copy_json", hub_identity::MIGRATIONS, "", 2).await;
    let mut conn = db.pool.acquire().await.expect("connection");
    sqlx::raw_sql("CREATE TABLE docs (body json)")
        .execute(&mut *conn)
        .await
        .expect("table");
    let docs = [Doc(Some(serde_json::json!({"a": [1, 2], "b": "ü"}))), Doc(None)];
    let bind = |doc: &Doc, sink: &mut hubgen_runtime::copy::CopySink<'_>| sink.json(doc.0.as_ref(), false);
    let copied = hubgen_runtime::copy::insert(&mut conn, &target, &docs, &bind, None).await;
    assert_eq!(copied.expect("copy"), 2);
    let stored: Vec<Option<String>> = sqlx::query_scalar("SELECT body::text FROM docs ORDER BY body::text NULLS LAST")
        .fetch_all(&mut *conn)
        .await
        .expect("read");
    assert_eq!(stored, [Some(r#"{"a":[1,2],"b":"ü"}"#.to_string()), None]);
    drop(conn);
    db.drop_db().await;
}
