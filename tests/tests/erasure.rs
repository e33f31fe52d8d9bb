//! The right to be forgotten on real PostgreSQL: the nine platform hubs,
//! each in its own database at its generated migrations, seeded with two
//! people's data (typed references from every hub to `identity.users`).
//! Erasing one through each hub crate's `erase_subject` leaves no value of
//! theirs in any column of any table, except the columns the erasure plan
//! keeps on purpose (`on erase keep`); the other person's data is untouched;
//! a second erasure changes nothing; only the erasure role may run it.

use hubgen_runtime::erasure::Report;
use hubgen_runtime::testing::TestDatabase;
use hubgen_runtime::EmbeddedMigration;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

const HUBS: [(&str, &[EmbeddedMigration]); 9] = [
    ("identity", hub_identity::MIGRATIONS),
    ("user", hub_user::MIGRATIONS),
    ("tenant", hub_tenant::MIGRATIONS),
    ("app", hub_app::MIGRATIONS),
    ("billing", hub_billing::MIGRATIONS),
    ("wallet", hub_wallet::MIGRATIONS),
    ("config", hub_config::MIGRATIONS),
    ("message", hub_message::MIGRATIONS),
    ("spokes", hub_spokes::MIGRATIONS),
];

/// A login-less role the test erases as: a member of every hub's erasure role.
const ERASER: &str = "hubgen_test_eraser";

/// One person: their id and a marker every personal value of theirs contains.
struct Person {
    id: Uuid,
    marker: String,
}

impl Person {
    fn new(initial: char) -> Person {
        let id = Uuid::new_v4();
        Person {
            id,
            marker: format!("{initial}{}", &id.simple().to_string()[..7]),
        }
    }

    /// What a scan looks for: the id, and anything holding the marker.
    fn patterns(&self) -> Vec<String> {
        vec![format!("%{}%", self.id), format!("%{}%", self.marker)]
    }
}

/// The shared rows (tenants, apps, plans) and each person's own.
fn seed(hub: &str, a: &Person, b: &Person, tenants: (Uuid, Uuid)) -> String {
    let (t1, t2) = tenants;
    let mut sql = String::new();
    for (p, other, own_tenant) in [(a, b, t1), (b, a, t2)] {
        let (id, m) = (p.id, &p.marker);
        let wallet = Uuid::new_v4();
        let payment = Uuid::new_v4();
        sql.push_str(&match hub {
            "identity" => format!(
                "INSERT INTO users (id, email, password_hash, first_name, last_name) VALUES ('{id}', '{m}@example.com', 'hash-{m}', '{m}-first', '{m}-last');
                 INSERT INTO user_sessions (user_id, token_hash, expires_at, ip_address, user_agent)
                   SELECT '{id}', 'token-{m}-' || n, now() + interval '1 day', '10.0.0.1', 'agent-{m}' FROM generate_series(1, 2) n;"
            ),
            "user" => format!(
                "INSERT INTO user_profiles (user_id, first_name, last_name, phone, bio, date_of_birth) VALUES ('{id}', '{m}-first', '{m}-last', 'p-{m}', 'about {m}', '1990-01-01');
                 INSERT INTO user_preferences (user_id) VALUES ('{id}');
                 INSERT INTO user_activities (user_id, activity_type, description, user_agent)
                   SELECT '{id}', 'LOGIN', 'signed in as {m}', 'agent-{m}' FROM generate_series(1, 3);
                 INSERT INTO user_addresses (user_id, address_type, street_address, city) VALUES ('{id}', 'HOME', '1 {m} street', '{m}-city');"
            ),
            // Each owns a workspace, belongs to both, and invited the other into theirs.
            "tenant" => format!(
                "INSERT INTO tenants (id, name, owner_id) VALUES ('{own_tenant}', 'workspace', '{id}');
                 INSERT INTO tenant_members (tenant_id, user_id, role) VALUES ('{own_tenant}', '{id}', 'OWNER');
                 INSERT INTO tenant_members (tenant_id, user_id, role, invited_by) VALUES ('{own_tenant}', '{}', 'MEMBER', '{id}');",
                other.id
            ),
            "wallet" => format!(
                "INSERT INTO wallets (id, user_id, tenant_id) VALUES ('{wallet}', '{id}', '{own_tenant}');
                 INSERT INTO transactions (id, wallet_id, transaction_type, amount, currency, description)
                   VALUES ('{payment}', '{wallet}', 'TOPUP', 10, 'USD', 'top-up by {m}');
                 INSERT INTO ledger (wallet_id, transaction_id, account_type, account_code, debit_amount, description)
                   VALUES ('{wallet}', '{payment}', 'ASSET', '1000', 10, 'top-up by {m}'),
                          ('{wallet}', NULL, 'LIABILITY', '2000', 0, 'opening balance of {m}');"
            ),
            "config" => format!(
                "INSERT INTO runtime_configs (config_key, config_value, scope, tenant_id, user_id) VALUES ('theme.{m}', 'dark', 'USER', '{own_tenant}', '{id}');"
            ),
            "spokes" => format!(
                "INSERT INTO facebook_users (facebook_user_id, user_id, tenant_id, first_name, last_name, profile_pic_url)
                   VALUES ('fb-{m}', '{id}', '{own_tenant}', '{m}-first', '{m}-last', 'https://pics/{m}.png');"
            ),
            _ => String::new(),
        });
    }
    // Data that is nobody's: it must survive.
    sql.push_str(&match hub {
        "tenant" => format!("INSERT INTO tenant_profiles (tenant_id, industry) VALUES ('{t1}', 'retail');"),
        "app" => format!(
            "INSERT INTO app_registry (id, name) VALUES ('{t1}', 'crm');
             INSERT INTO app_subscriptions (app_id, tenant_id) VALUES ('{t1}', '{t1}');"
        ),
        "billing" => format!(
            "INSERT INTO plans (id, code, name) VALUES ('{t1}', 'pro', 'Pro');
             INSERT INTO invoices (tenant_id, plan_id, invoice_number) VALUES ('{t1}', '{t1}', 'INV-1');"
        ),
        "config" => "INSERT INTO runtime_configs (config_key, config_value, scope) VALUES ('maintenance', 'off', 'GLOBAL');".into(),
        "message" => format!(
            "INSERT INTO conversations (id, tenant_id, participant_id, participant_type, channel) VALUES ('{t2}', '{t1}', '{t2}', 'BOT', 'web');
             INSERT INTO messages (tenant_id, conversation_id, content, sender_id, sender_type, channel) VALUES ('{t1}', '{t2}', 'hello', '{t2}', 'BOT', 'web');"
        ),
        "spokes" => format!("INSERT INTO facebook_connections (tenant_id, page_id) VALUES ('{t1}', 'page-1');"),
        _ => String::new(),
    });
    sql
}

/// Every column of every table (partitions included) → how many rows hold one of `patterns`.
async fn scan(pool: &sqlx::PgPool, patterns: &[String]) -> BTreeMap<String, i64> {
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT c.table_schema::text, c.table_name::text, c.column_name::text
           FROM information_schema.columns c
           JOIN information_schema.tables t ON (t.table_schema, t.table_name) = (c.table_schema, c.table_name)
          WHERE t.table_type = 'BASE TABLE' AND c.table_name <> '_sqlx_migrations'
            AND c.table_schema NOT IN ('pg_catalog', 'information_schema', 'hubgen', 'partman', 'cron')",
    )
    .fetch_all(pool)
    .await
    .expect("columns");
    let mut found = BTreeMap::new();
    for (schema, table, column) in columns {
        let sql = format!("SELECT count(*) FROM \"{schema}\".\"{table}\" WHERE \"{column}\"::text LIKE ANY($1)");
        let n: i64 = sqlx::query_scalar(&sql).bind(patterns).fetch_one(pool).await.expect("scan");
        if n > 0 {
            found.insert(format!("{schema}.{table}.{column}"), n);
        }
    }
    found
}

/// Runs one hub's `erase_subject` as the eraser role.
async fn erase(hub: &str, pool: &sqlx::PgPool, subject: Uuid) -> Result<Report, hubgen_runtime::Error> {
    let mut conn = pool.acquire().await.expect("conn");
    sqlx::query(&format!("SET ROLE {ERASER}"))
        .execute(&mut *conn)
        .await
        .expect("set role");
    let id = hub_ids::UserId::from(subject);
    let report = match hub {
        "identity" => hub_identity::erase_subject(&mut conn, id).await,
        "user" => hub_user::erase_subject(&mut conn, id).await,
        "tenant" => hub_tenant::erase_subject(&mut conn, id).await,
        "app" => hub_app::erase_subject(&mut conn, id).await,
        "billing" => hub_billing::erase_subject(&mut conn, id).await,
        "wallet" => hub_wallet::erase_subject(&mut conn, id).await,
        "config" => hub_config::erase_subject(&mut conn, id).await,
        "message" => hub_message::erase_subject(&mut conn, id).await,
        "spokes" => hub_spokes::erase_subject(&mut conn, id).await,
        other => panic!("no hub {other}"),
    };
    sqlx::query("RESET ROLE").execute(&mut *conn).await.expect("reset role");
    report
}

/// `(table, action) → rows` of a report, for comparing with what was seeded.
fn counts(report: &Report) -> BTreeMap<(String, String), u64> {
    let mut out = BTreeMap::new();
    for step in &report.steps {
        *out.entry((step.table.clone(), format!("{:?}", step.action).to_lowercase()))
            .or_default() += step.rows;
    }
    out
}

#[tokio::test]
async fn erasing_a_person_leaves_nothing_of_theirs_in_nine_hubs() {
    let schema = hubgen_schema::compile(include_str!("../../schema/platform.hubs"))
        .ir
        .expect("platform schema");
    let (alice, bob) = (Person::new('a'), Person::new('b'));
    let tenants = (Uuid::new_v4(), Uuid::new_v4());
    let mut databases = Vec::new();
    for (hub, migrations) in HUBS {
        let db = TestDatabase::create(&format!("erasure_{hub}"), migrations, "", 2).await;
        sqlx::raw_sql(&seed(hub, &alice, &bob, tenants))
            .execute(&db.pool)
            .await
            .expect("seed");
        // The eraser may run every erase function: it is a member of each hub's erasure role.
        let mut grant = format!("DO $$ BEGIN CREATE ROLE {ERASER} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;");
        if schema.hubs.iter().any(|h| h.name == hub && h.erasure.is_some()) {
            grant.push_str(&format!("GRANT {hub}_erasure TO {ERASER};"));
        }
        sqlx::raw_sql(&grant).execute(&db.pool).await.expect("eraser role");
        // The migrations left exactly the schema's catalog, erase function included (what `check` compares).
        let ir = schema.hubs.iter().find(|h| h.name == hub).expect("hub");
        let mut conn = db.pool.acquire().await.expect("conn");
        let live = hubgen_live::introspect(&mut conn).await.expect("introspect");
        let drift = hubgen_codegen::catalog::diff(&hubgen_codegen::catalog::expected(ir), &live);
        assert!(drift.is_empty(), "hub {hub}: {drift:?}");
        assert_eq!(live.functions.is_empty(), ir.erasure.is_none(), "hub {hub}: the erase function");
        if hub == "identity" {
            // An erase function edited by hand is drift, named as such.
            let mut tx = sqlx::Connection::begin(&mut *conn).await.expect("begin");
            sqlx::raw_sql(
                "CREATE OR REPLACE FUNCTION hubgen.erase_identity_subject(erased_subject uuid) \
                 RETURNS TABLE (step_table text, step_action text, step_rows bigint) LANGUAGE plpgsql AS $$ BEGIN RETURN; END $$",
            )
            .execute(&mut *tx)
            .await
            .expect("replace the function");
            let edited = hubgen_live::introspect(&mut tx).await.expect("introspect");
            let drift = hubgen_codegen::catalog::diff(&hubgen_codegen::catalog::expected(ir), &edited);
            assert!(
                drift.len() == 1 && drift[0].path.starts_with("functions."),
                "an edited erase function is drift: {drift:?}"
            );
            tx.rollback().await.expect("rollback");
        }
        drop(conn);
        databases.push((hub, db));
    }

    // The application role cannot erase anyone.
    let mut conn = databases[0].1.pool.acquire().await.expect("conn");
    sqlx::query("SET ROLE identity_app").execute(&mut *conn).await.expect("set role");
    let refused = hub_identity::erase_subject(&mut conn, hub_ids::UserId::from(alice.id)).await;
    assert!(refused.is_err(), "the application role ran the erase function: {refused:?}");
    sqlx::query("RESET ROLE").execute(&mut *conn).await.expect("reset role");
    drop(conn);

    let mut seen_before = 0;
    for (hub, db) in &databases {
        let erased = schema.hubs.iter().find(|h| h.name == *hub).expect("hub").erasure.clone();
        let kept: BTreeSet<String> = erased
            .iter()
            .flat_map(|e| e.steps.iter())
            .flat_map(|s| s.kept.iter().map(move |c| format!("{}.{}.{c}", s.schema, s.table)))
            .collect();
        let (alice_before, bob_before) = (scan(&db.pool, &alice.patterns()).await, scan(&db.pool, &bob.patterns()).await);
        seen_before += alice_before.len();

        let report = erase(hub, &db.pool, alice.id).await.expect("erase");
        let alice_after = scan(&db.pool, &alice.patterns()).await;
        let left: Vec<&String> = alice_after.keys().filter(|c| !kept.contains(*c)).collect();
        assert!(left.is_empty(), "hub {hub}: the erased person's values are still in {left:?}");
        for column in alice_after.keys() {
            assert_eq!(
                alice_before.get(column),
                alice_after.get(column),
                "hub {hub}: kept column {column} changed"
            );
        }
        // Bob's data stays, but for his name as the inviter on Alice's membership, which went with her.
        let mut bob_expected = bob_before;
        if *hub == "tenant" {
            bob_expected.remove("public.tenant_members.invited_by");
        }
        assert_eq!(
            scan(&db.pool, &bob.patterns()).await,
            bob_expected,
            "hub {hub}: the other person's data changed"
        );

        // What the report says matches what was seeded.
        let c = counts(&report);
        let row = |table: &str, action: &str| c.get(&(table.to_string(), action.to_string())).copied().unwrap_or(0);
        match *hub {
            "identity" => {
                assert_eq!((row("public.users", "deleted"), row("public.user_sessions", "deleted")), (1, 2));
            }
            "user" => {
                assert_eq!(row("public.user_activities", "deleted"), 3);
                assert_eq!(report.deleted(), 6, "{report:?}");
            }
            "tenant" => {
                // Alice's two memberships go; Bob's membership names her as inviter; her workspace stays, ownerless.
                assert_eq!(row("public.tenant_members", "deleted"), 2, "{report:?}");
                assert_eq!(report.anonymized(), 2, "{report:?}");
            }
            "wallet" => {
                assert_eq!(
                    (row("public.transactions", "anonymized"), row("public.ledger", "anonymized")),
                    (1, 2)
                );
                assert_eq!(report.deleted(), 0, "the books keep their rows: {report:?}");
                assert!(
                    alice_after.contains_key("public.wallets.user_id"),
                    "the kept wallet still names its owner"
                );
            }
            "config" => assert_eq!(row("public.runtime_configs", "deleted"), 1),
            "spokes" => assert_eq!(row("public.facebook_users", "deleted"), 1),
            _ => assert!(report.steps.is_empty(), "hub {hub} holds no one's data: {report:?}"),
        }

        println!(
            "{hub}: deleted {}, anonymized {}; the person's values in {} column(s) before, {} after (kept)",
            report.deleted(),
            report.anonymized(),
            alice_before.len(),
            alice_after.len()
        );

        // Erasing again changes nothing.
        let again = erase(hub, &db.pool, alice.id).await.expect("erase again");
        assert!(again.is_empty(), "hub {hub}: a second erasure changed rows: {again:?}");
        assert_eq!(scan(&db.pool, &alice.patterns()).await, alice_after, "hub {hub}");
    }
    assert!(seen_before >= 20, "the seed put the person's values in {seen_before} columns only");

    for (_, db) in databases {
        db.drop_db().await;
    }
}
