//! Generated repositories against hand-written sqlx running the same SQL on
//! the same pool, interleaved in one run; and batch insert (UNNEST) against
//! row-by-row inserts in one transaction. Prints ratios (generated ÷
//! hand-written throughput; goal ≥ 0.95), and 100,000 rows by binary COPY,
//! by UNNEST and row by row (goals: COPY ≥ 1.5× UNNEST, UNNEST ≥ 10× row by row)
//! as the sign-up role, which bypasses the users' policies; then, for
//! comparison, COPY against UNNEST where the policies apply (staged COPY).
//!
//! Run: `cargo bench -p hubgen-e2e --bench repositories` (needs PostgreSQL, see README).

use hub_identity::{NewUser, User, UserFilter, UserRepo};
use hub_tenant::{NewTenantMember, TenantMemberRepo};
use hubgen_runtime::prelude::*;
use hubgen_runtime::testing::TestDatabase;
use hubgen_runtime::{PageRequest, PlatformTx, TenantTx};
use std::time::{Duration, Instant};

const INSERT: &str = "INSERT INTO \"public\".\"users\" (\"id\", \"email\", \"password_hash\", \"first_name\", \"last_name\", \"role\", \"status\", \"email_verified\", \"last_login_at\", \"created_at\", \"updated_at\") VALUES (COALESCE($1::uuid, gen_random_uuid()), $2::character varying(255), $3::character varying(255), $4::character varying(100), $5::character varying(100), COALESCE($6::character varying(50), 'USER'), COALESCE($7::character varying(50), 'ACTIVE'), COALESCE($8::boolean, FALSE), $9::timestamp without time zone, COALESCE($10::timestamp without time zone, CURRENT_TIMESTAMP), COALESCE($11::timestamp without time zone, CURRENT_TIMESTAMP)) RETURNING \"id\", \"email\", \"password_hash\", \"first_name\", \"last_name\", \"role\", \"status\", \"email_verified\", \"last_login_at\", \"created_at\", \"updated_at\"";
const GET: &str = "SELECT \"id\", \"email\", \"password_hash\", \"first_name\", \"last_name\", \"role\", \"status\", \"email_verified\", \"last_login_at\", \"created_at\", \"updated_at\" FROM \"public\".\"users\" WHERE \"id\" = $1::uuid";
const LIST: &str = "SELECT \"id\", \"email\", \"password_hash\", \"first_name\", \"last_name\", \"role\", \"status\", \"email_verified\", \"last_login_at\", \"created_at\", \"updated_at\" FROM \"public\".\"users\" WHERE ($1::text IS NULL OR (\"id\") > (($1::text::jsonb->>0)::uuid)) AND ($2::character varying(255)[] IS NULL OR \"email\" = ANY($2::character varying(255)[])) AND ($3::character varying(255) IS NULL OR \"email\" >= $3::character varying(255)) AND ($4::character varying(255) IS NULL OR \"email\" < $4::character varying(255)) AND ($5::bool IS NULL OR (\"email\" IS NULL) = $5::bool) AND ($6::character varying(50)[] IS NULL OR \"status\" = ANY($6::character varying(50)[])) AND ($7::character varying(50) IS NULL OR \"status\" >= $7::character varying(50)) AND ($8::character varying(50) IS NULL OR \"status\" < $8::character varying(50)) AND ($9::bool IS NULL OR (\"status\" IS NULL) = $9::bool) ORDER BY \"id\" LIMIT $10::bigint";

fn new_user(i: usize) -> NewUser {
    NewUser {
        id: None,
        email: format!("user{i}@example.com"),
        password_hash: "x".repeat(60),
        first_name: Some("Ada".into()),
        last_name: Some("Lovelace".into()),
        role: None,
        status: None,
        email_verified: None,
        last_login_at: None,
        created_at: None,
        updated_at: None,
    }
}

/// Runs the two contenders back to back in many short rounds, alternating
/// who goes first. This machine's speed drifts in phases longer than a
/// round (a get takes 20 µs in one phase and 70 µs in the next), so each
/// round's two timings are compared with each other, never across rounds.
struct Timing {
    /// Per round: (generated, hand-written).
    rounds: Vec<(Duration, Duration)>,
    ops_per_round: usize,
}

async fn interleaved<G, H, GF, HF>(rounds: usize, per_round: usize, mut generated: G, mut hand: H) -> Timing
where
    G: FnMut(usize) -> GF,
    H: FnMut(usize) -> HF,
    GF: std::future::Future<Output = ()>,
    HF: std::future::Future<Output = ()>,
{
    let mut timing = Timing {
        rounds: Vec::with_capacity(rounds),
        ops_per_round: per_round,
    };
    for round in 0..rounds {
        let (mut g, mut h) = (Duration::ZERO, Duration::ZERO);
        for pass in 0..2 {
            let generated_turn = (pass == 0) == (round % 2 == 0);
            let start = Instant::now();
            for i in 0..per_round {
                let n = round * per_round + i;
                if generated_turn {
                    generated(n).await;
                } else {
                    hand(n).await;
                }
            }
            if generated_turn {
                g = start.elapsed();
            } else {
                h = start.elapsed();
            }
        }
        timing.rounds.push((g, h));
    }
    timing
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Median COPY time, median UNNEST time and median of the trials' ratios.
fn paired(trials: &[(Duration, Duration)]) -> (Duration, Duration, f64) {
    (
        Duration::from_secs_f64(median(trials.iter().map(|t| t.0.as_secs_f64()).collect())),
        Duration::from_secs_f64(median(trials.iter().map(|t| t.1.as_secs_f64()).collect())),
        median(trials.iter().map(|(c, u)| u.as_secs_f64() / c.as_secs_f64()).collect()),
    )
}

/// For comparison, not a goal: where the policies apply to the role
/// (`tenant_app` in a tenant's transaction), PostgreSQL refuses `COPY FROM`,
/// so COPY lands in a staging table and moves with one policy-checked
/// `INSERT ... SELECT`; both contenders then pay that insert.
async fn staged_batch() {
    let db = TestDatabase::create(
        "bench_repositories_staged",
        hub_tenant::MIGRATIONS,
        "SET session_replication_role = replica; SET ROLE tenant_app",
        2,
    )
    .await;
    let tenant = hub_ids::TenantId::new();
    let mut trials = Vec::new();
    for trial in 0..3 {
        let mut pair = [Duration::ZERO; 2];
        for pass in 0..2 {
            let by_copy = (pass == 0) == (trial % 2 == 0);
            let rows: Vec<NewTenantMember> = (0..100_000)
                .map(|_| NewTenantMember::new(hub_ids::UserId::new(), "MEMBER".into()))
                .collect();
            let mut tx = TenantTx::begin(&db.pool, tenant).await.expect("begin as tenant_app");
            let start = Instant::now();
            let inserted = if by_copy {
                TenantMemberRepo::insert_copy(&mut tx, &rows).await.expect("copy insert")
            } else {
                TenantMemberRepo::insert_many(&mut tx, &rows).await.expect("batch insert")
            };
            pair[usize::from(!by_copy)] = start.elapsed();
            assert_eq!(inserted, 100_000);
            tx.rollback().await.expect("rollback");
        }
        trials.push((pair[0], pair[1]));
    }
    let (copy, unnest, ratio) = paired(&trials);
    println!(
        "staged 100k  insert_copy {:>7.0} ms   insert_many {:>7.0} ms   COPY vs UNNEST {ratio:.2}x under row-level security (tenant_members as tenant_app; median of 3 paired trials)",
        copy.as_secs_f64() * 1e3,
        unnest.as_secs_f64() * 1e3
    );
    db.drop_db().await;
}

/// Prints the median per-operation times and the median of the rounds'
/// ratios (hand-written time ÷ generated time: above 1, generated is faster).
fn report(name: &str, timing: Timing) {
    let per = |d: Duration| d.as_secs_f64() * 1e6 / timing.ops_per_round as f64;
    let ratio = median(timing.rounds.iter().map(|(g, h)| h.as_secs_f64() / g.as_secs_f64()).collect());
    println!(
        "{name:<12} generated {:>8.1} µs/op   hand-written {:>8.1} µs/op   ratio {ratio:.3}x (median of {} paired rounds)",
        median(timing.rounds.iter().map(|(g, _)| per(*g)).collect()),
        median(timing.rounds.iter().map(|(_, h)| per(*h)).collect()),
        timing.rounds.len()
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let db = TestDatabase::create("bench_repositories", hub_identity::MIGRATIONS, "", 2).await;
    let pool = db.pool.clone();
    // Users are owner-scoped: the bench runs in one transaction as the
    // identity hub's auth role (as sign-up does); both contenders share it.
    let mut conn = PlatformTx::begin(&pool, hub_identity::roles::IDENTITY_AUTH)
        .await
        .expect("begin as identity_auth");
    let (rounds, per_round) = (200, 30);

    // Warm up both paths (statement caches, buffers).
    for i in 0..200 {
        UserRepo::insert(&mut conn, &new_user(1_000_000 + i)).await.expect("warm-up");
    }

    // A tokio mutex lends the one connection to both contenders alike.
    let conn_cell = tokio::sync::Mutex::new(conn);
    let timing = interleaved(
        rounds,
        per_round,
        |n| {
            let new = new_user(n * 2);
            let conn = &conn_cell;
            async move {
                let mut c = conn.lock().await;
                UserRepo::insert(&mut *c, &new).await.expect("generated insert");
            }
        },
        |n| {
            let new = new_user(n * 2 + 1);
            let conn = &conn_cell;
            async move {
                let mut c = conn.lock().await;
                sqlx::query_as::<_, User>(INSERT)
                    .bind(new.id)
                    .bind(&new.email)
                    .bind(&new.password_hash)
                    .bind(&new.first_name)
                    .bind(&new.last_name)
                    .bind(&new.role)
                    .bind(&new.status)
                    .bind(new.email_verified)
                    .bind(new.last_login_at)
                    .bind(new.created_at)
                    .bind(new.updated_at)
                    .fetch_one(c.conn())
                    .await
                    .expect("hand-written insert");
            }
        },
    )
    .await;
    report("insert", timing);

    let ids: Vec<hub_ids::UserId> = sqlx::query_scalar("SELECT id FROM users")
        .fetch_all(conn_cell.lock().await.conn())
        .await
        .expect("ids");
    let timing = interleaved(
        rounds,
        per_round,
        |n| {
            let id = ids[n * 7 % ids.len()];
            let conn = &conn_cell;
            async move {
                let mut c = conn.lock().await;
                UserRepo::get(&mut *c, id).await.expect("generated get").expect("row");
            }
        },
        |n| {
            let id = ids[n * 7 % ids.len()];
            let conn = &conn_cell;
            async move {
                let mut c = conn.lock().await;
                sqlx::query_as::<_, User>(GET)
                    .bind(id)
                    .fetch_optional(c.conn())
                    .await
                    .expect("hand-written get")
                    .expect("row");
            }
        },
    )
    .await;
    report("get by id", timing);

    let timing = interleaved(
        rounds,
        5,
        |_| {
            let conn = &conn_cell;
            async move {
                let mut c = conn.lock().await;
                let page = UserRepo::list(&mut *c, &UserFilter::default(), &PageRequest::first(100))
                    .await
                    .expect("generated list");
                assert_eq!(page.items.len(), 100);
            }
        },
        |_| {
            let conn = &conn_cell;
            async move {
                let mut c = conn.lock().await;
                let rows = sqlx::query_as::<_, User>(LIST)
                    .bind(None::<&str>)
                    .bind(None::<&[String]>)
                    .bind(None::<&String>)
                    .bind(None::<&String>)
                    .bind(None::<bool>)
                    .bind(None::<&[String]>)
                    .bind(None::<&String>)
                    .bind(None::<&String>)
                    .bind(None::<bool>)
                    .bind(100i64)
                    .fetch_all(c.conn())
                    .await
                    .expect("hand-written list");
                assert_eq!(rows.len(), 100);
            }
        },
    )
    .await;
    report("list 100", timing);

    // Batch: 100,000 rows by binary COPY and by one UNNEST statement, paired
    // in 5 trials (the order alternating), each in a transaction of its own,
    // rolled back and vacuumed away: a service's batch meets a table, not the
    // dead index entries of the batches before it. Then row by row once.
    conn_cell.into_inner().commit().await.expect("commit the rounds' rows");
    let vacuum = || async {
        sqlx::raw_sql("VACUUM users").execute(&pool).await.expect("vacuum");
    };
    vacuum().await;
    let mut next_batch = 0;
    let mut batch = || {
        next_batch += 1;
        (0..100_000)
            .map(|i| new_user(next_batch * 10_000_000 + i))
            .collect::<Vec<NewUser>>()
    };
    let mut trials = Vec::new();
    for trial in 0..5 {
        let mut pair = [Duration::ZERO; 2];
        for pass in 0..2 {
            let by_copy = (pass == 0) == (trial % 2 == 0);
            let rows = batch();
            let mut tx = PlatformTx::begin(&pool, hub_identity::roles::IDENTITY_AUTH)
                .await
                .expect("begin as identity_auth");
            let start = Instant::now();
            let inserted = if by_copy {
                UserRepo::insert_copy(&mut tx, &rows).await.expect("copy insert")
            } else {
                UserRepo::insert_many(&mut tx, &rows).await.expect("batch insert")
            };
            pair[usize::from(!by_copy)] = start.elapsed();
            assert_eq!(inserted, 100_000);
            tx.rollback().await.expect("rollback");
            vacuum().await;
        }
        trials.push((pair[0], pair[1]));
    }
    let (copy, unnest, copy_vs_unnest) = paired(&trials);
    let rows = batch();
    let mut tx = PlatformTx::begin(&pool, hub_identity::roles::IDENTITY_AUTH)
        .await
        .expect("begin as identity_auth");
    let start = Instant::now();
    for row in &rows {
        UserRepo::insert(&mut tx, row).await.expect("row insert");
    }
    let single = start.elapsed();
    tx.rollback().await.expect("rollback");
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "batch 100k   insert_copy {:>7.0} ms   insert_many {:>7.0} ms   row by row {:>7.0} ms",
        ms(copy),
        ms(unnest),
        ms(single)
    );
    println!(
        "             COPY vs UNNEST {copy_vs_unnest:.2}x (median of 5 paired trials; goal >= 1.5)   UNNEST vs row by row {:.1}x (goal >= 10)   COPY vs row by row {:.1}x",
        single.as_secs_f64() / unnest.as_secs_f64(),
        single.as_secs_f64() / copy.as_secs_f64()
    );
    db.drop_db().await;
    staged_batch().await;
}
