//! The data lifecycle on real PostgreSQL with pg_partman: the social inbox
//! example, migrated by sqlx's migrator, lives through a simulated year —
//! maintenance each simulated day, messages every day — and a run killed at
//! two points is resumed.

use hubgen_codegen::catalog;
use hubgen_e2e::TestDb;
use hubgen_runtime::chrono::{DateTime, Duration, TimeZone, Utc};
use hubgen_runtime::maintain::{ArchiveSink, ArchiveWriter, DirectorySink};
use sqlx::{Connection, Row};
use std::collections::BTreeSet;
use std::io::{self, BufRead};
use std::time::Instant;

/// Fails once, at the point a crash is simulated, and behaves after.
struct Crashing {
    inner: DirectorySink,
    /// `begin`: the partition is detached, no archive is written.
    /// `commit`: the archive is written and in place, the partition not yet dropped.
    at: std::cell::Cell<Option<&'static str>>,
}

struct CrashAfterCommit(Box<dyn ArchiveWriter>);

impl io::Write for CrashAfterCommit {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl ArchiveWriter for CrashAfterCommit {
    fn commit(self: Box<Self>) -> io::Result<()> {
        self.0.commit()?;
        Err(io::Error::other("killed after the archive was written"))
    }
}

impl ArchiveSink for Crashing {
    fn begin(&self, key: &str) -> io::Result<Box<dyn ArchiveWriter>> {
        match self.at.take() {
            Some("begin") => Err(io::Error::other("killed before archiving")),
            Some("commit") => Ok(Box::new(CrashAfterCommit(self.inner.begin(key)?))),
            _ => self.inner.begin(key),
        }
    }
    fn rows(&self, key: &str) -> io::Result<Option<u64>> {
        self.inner.rows(key)
    }
}

#[tokio::test]
async fn a_simulated_year_of_daily_maintenance_loses_and_duplicates_nothing() {
    let db = TestDb::create("lifecycle_year").await;
    let pool = sqlx::PgPool::connect(&db.url).await.expect("pool");
    hub_inbox::migrate(&pool).await.expect("the inbox's migrations, by sqlx's migrator");
    let mut conn = db.connect().await;
    sqlx::raw_sql(
        "INSERT INTO public.tenants (id, name, tier) VALUES ('00000000-0000-0000-0000-000000000001', 'acme', 'pro');
         INSERT INTO tenant_template.social_accounts (id, tenant_id, platform, account_id, access_token_encrypted)
           VALUES ('00000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-000000000001', 'x', 'acme', 'sealed');
         INSERT INTO tenant_template.conversations (id, tenant_id, social_account_id, platform_conversation_id, participant_id)
           VALUES ('00000000-0000-0000-0000-000000000003', '00000000-0000-0000-0000-000000000001',
                   '00000000-0000-0000-0000-000000000002', 'c1', 'p1');",
    )
    .execute(&mut conn)
    .await
    .expect("a conversation");

    let archive_dir = std::env::temp_dir().join(format!("hubgen-archive-{}", db.name));
    let _ = std::fs::remove_dir_all(&archive_dir);
    let sink = Crashing {
        inner: DirectorySink::new(&archive_dir).expect("archive dir"),
        at: std::cell::Cell::new(None),
    };

    let start: DateTime<Utc> = Utc.with_ymd_and_hms(2027, 1, 1, 2, 0, 0).unwrap();
    let mut inserted: BTreeSet<String> = BTreeSet::new();
    let mut maintenance = std::time::Duration::ZERO;
    let (mut runs, mut crashes) = (0, 0);
    for day in 0..365 {
        let now = start + Duration::days(day);
        // Two kills, at the next archive after these days: before it is
        // written, and after it is written but before its partition is dropped.
        match day {
            150 => sink.at.set(Some("begin")),
            210 => sink.at.set(Some("commit")),
            _ => {}
        }
        let began = Instant::now();
        let run = hub_inbox::maintain(&mut conn, now, &sink).await;
        maintenance += began.elapsed();
        runs += 1;
        if let Err(e) = run {
            assert!(day >= 150 && crashes < 2, "day {day}: {e}");
            crashes += 1;
            // A partition is left detached (and maybe archived): drift-free all the same.
            let left: i64 =
                sqlx::query_scalar("SELECT count(*) FROM pg_class WHERE relname ~ '^messages_p' AND relkind = 'r' AND NOT relispartition")
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
            assert!(left > 0, "day {day}: the crash left a retired partition to resume from");
        }
        // Messages arrive all day; none may lack a partition or land in the default one.
        let rows = sqlx::query(
            "INSERT INTO tenant_template.messages (conversation_id, platform_message_id, direction, content, received_at)
             SELECT '00000000-0000-0000-0000-000000000003', 'm' || $2 || '-' || h, 'inbound', 'hello, \"world\" ' || h,
                    $1::timestamptz + h * interval '7 hours'
             FROM generate_series(0, 3) h RETURNING id::text",
        )
        .bind(now)
        .bind(day)
        .fetch_all(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("day {day}: messages without a partition: {e}"));
        inserted.extend(rows.iter().map(|r| r.get::<String, _>(0)));
        let defaulted: i64 = sqlx::query_scalar("SELECT count(*) FROM tenant_template.messages_default")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(defaulted, 0, "day {day}: rows in the default partition");
    }
    assert_eq!(crashes, 2);

    // A last run at year end resumes nothing left behind and finds nothing to do twice.
    let end = start + Duration::days(365);
    hub_inbox::maintain(&mut conn, end, &sink).await.expect("final run");
    let again = hub_inbox::maintain(&mut conn, end, &sink).await.expect("idempotent run");
    assert_eq!((again.created, again.retired, again.archived.len()), (0, 0, 0), "{again:?}");

    // Hot storage: nothing past retention (90 days) plus the one partition a
    // row shares with younger ones (pg_partman retires whole partitions).
    let hot: Vec<String> = sqlx::query_scalar("SELECT id::text FROM tenant_template.messages")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let stale: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM tenant_template.messages WHERE received_at < $1::timestamptz - interval '90 days' - interval '1 month'",
    )
    .bind(end)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(stale, 0, "rows older than the retention left hot");
    let oldest_partition_end: Option<String> = sqlx::query_scalar(
        "SELECT max(c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'tenant_template.messages'::regclass AND c.relname ~ '^messages_p' AND c.relname < 'messages_p2027_10'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        oldest_partition_end, None,
        "partitions of months long past retention are still attached"
    );

    // The archive: every other row exactly once.
    let mut archived: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(&archive_dir).unwrap() {
        let path = entry.unwrap().path();
        assert!(
            path.to_string_lossy().ends_with(".csv.gz"),
            "a partial archive left: {}",
            path.display()
        );
        let reader = io::BufReader::new(flate2_reader(&path));
        archived.extend(reader.lines().skip(1).map(|l| l.unwrap().split(',').next().unwrap().to_string()));
    }
    let unique: BTreeSet<&String> = archived.iter().collect();
    assert_eq!(unique.len(), archived.len(), "rows archived twice");
    let hot_set: BTreeSet<String> = hot.into_iter().collect();
    assert!(unique.iter().all(|id| !hot_set.contains(*id)), "rows both archived and hot");
    let all: BTreeSet<String> = hot_set.iter().cloned().chain(archived.iter().cloned()).collect();
    assert_eq!(all, inserted, "every message is hot or archived");
    assert!(archived.len() > 1000, "{} archived", archived.len());

    // The database matches the schema: pg_partman's configuration, every partition secured.
    let schema = hubgen_e2e::load("examples/social_inbox/schema/social_inbox.hubs");
    let actual = hubgen_live::introspect(&mut conn).await.expect("introspect");
    let differences = catalog::diff(&catalog::expected(&schema.hubs[0]), &actual);
    assert!(differences.is_empty(), "drift after a year: {differences:#?}");

    println!(
        "a year of daily maintenance: {runs} runs in {:.2} s ({:.1} ms a run), {} rows archived in {} files, {} hot",
        maintenance.as_secs_f64(),
        maintenance.as_secs_f64() * 1000.0 / f64::from(runs),
        archived.len(),
        std::fs::read_dir(&archive_dir).unwrap().count(),
        hot_set.len()
    );
    let _ = std::fs::remove_dir_all(&archive_dir);
    conn.close().await.ok();
    pool.close().await;
    db.drop_db().await;
}

fn flate2_reader(path: &std::path::Path) -> Box<dyn io::Read> {
    // The sink's own reader counts rows; here the ids are read to compare sets.
    let file = std::fs::File::open(path).unwrap();
    Box::new(flate2::read::GzDecoder::new(file))
}

/// `schedule maintenance` becomes a pg_cron job in the cluster's cron
/// database that runs the upkeep in the hub's database: scheduled every
/// minute here, it is seen to run and to leave the database drift-free.
#[tokio::test]
async fn pg_cron_runs_the_scheduled_upkeep_in_the_hub_database() {
    let db = TestDb::create("lifecycle_cron").await;
    let pool = sqlx::PgPool::connect(&db.url).await.expect("pool");
    hub_inbox::migrate(&pool).await.expect("migrations");
    // The newest partition pg_partman made ahead goes missing; its job, on its own clock, remakes it.
    let mut conn = db.connect().await;
    let next: String = sqlx::query_scalar(
        "SELECT 'tenant_template.' || max(c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'tenant_template.messages'::regclass AND c.relname ~ '^messages_p'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    sqlx::raw_sql(&format!("DROP TABLE {next}"))
        .execute(&mut conn)
        .await
        .expect("drop a partition");

    let script = std::fs::read_to_string(hubgen_e2e::root().join("examples/social_inbox/generated/inbox/cron.sql")).unwrap();
    let script = script
        .replace("'social_inbox_db'", &format!("'{}'", db.name))
        .replace("'0 2 * * *'", "'* * * * *'")
        .replace("hubgen inbox maintenance", &format!("{} maintenance", db.name));
    let mut cron = sqlx::PgConnection::connect(&hubgen_e2e::url_for("postgres"))
        .await
        .expect("cron database");
    sqlx::raw_sql("CREATE EXTENSION IF NOT EXISTS pg_cron")
        .execute(&mut cron)
        .await
        .expect("pg_cron (shared_preload_libraries = 'pg_cron', cron.database_name = 'postgres'; .ci/run sets both)");
    sqlx::raw_sql(&script).execute(&mut cron).await.expect("cron.sql");
    sqlx::raw_sql(&script)
        .execute(&mut cron)
        .await
        .expect("cron.sql again: the job is updated, not doubled");
    let (jobs, job): (i64, i64) = sqlx::query_as("SELECT count(*), max(jobid) FROM cron.job WHERE database = $1")
        .bind(&db.name)
        .fetch_one(&mut cron)
        .await
        .unwrap();
    assert_eq!(jobs, 1, "one job for the hub");

    // pg_cron starts jobs on the minute: wait for a run to finish.
    let mut status = None;
    for _ in 0..90 {
        status = sqlx::query_scalar("SELECT status || ': ' || coalesce(return_message, '') FROM cron.job_run_details WHERE jobid = $1 AND status IN ('succeeded', 'failed') LIMIT 1")
            .bind(job)
            .fetch_optional(&mut cron)
            .await
            .unwrap();
        if status.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    sqlx::query("SELECT cron.unschedule($1)")
        .bind(job)
        .execute(&mut cron)
        .await
        .unwrap();
    let status: String = status.expect("the job ran within 90 s");
    assert!(status.starts_with("succeeded"), "{status}");
    let remade: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(&next)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(remade, "the job remade {next}");
    let schema = hubgen_e2e::load("examples/social_inbox/schema/social_inbox.hubs");
    let differences = catalog::diff(
        &catalog::expected(&schema.hubs[0]),
        &hubgen_live::introspect(&mut conn).await.unwrap(),
    );
    assert!(differences.is_empty(), "drift after the job: {differences:#?}");
    conn.close().await.ok();
    pool.close().await;
    db.drop_db().await;
}

/// `retain 30 days by created_at` on an unpartitioned table: `maintain`
/// deletes exactly the rows past retention, in bounded batches, and a
/// second run finds nothing more. Also the upkeep fixture's daily and
/// monthly partitioned tables get their partitions ahead of the clock.
#[tokio::test]
async fn row_retention_deletes_old_rows_in_batches() {
    let schema = hubgen_e2e::load("schema/tests/data/ok/upkeep.hubs");
    let hub = &schema.hubs[0];
    let db = TestDb::create("lifecycle_retention").await;
    let mut conn = db.connect().await;
    let sql = hubgen_e2e::initial_migration("schema/upkeep.hubs", &schema, "app");
    hubgen_live::apply(&mut conn, &sql).await.expect("the fixture's migration");
    let now: DateTime<Utc> = Utc.with_ymd_and_hms(2027, 6, 1, 0, 0, 0).unwrap();
    // 2,500 sessions, one every 6 hours back from `now`: 30 days keep 120 of them (121 with the boundary excluded).
    sqlx::query("INSERT INTO sessions (id, created_at) SELECT gen_random_uuid(), $1::timestamptz - i * interval '6 hours' FROM generate_series(0, 2499) i")
        .bind(now)
        .execute(&mut conn)
        .await
        .unwrap();
    let retention = hubgen_codegen::sql::upkeep::row_retention(hub);
    assert_eq!(retention.len(), 1, "{retention:?}");
    let rows: Vec<hubgen_runtime::maintain::RowRetention> = retention
        .iter()
        .map(|(table, column, keep)| hubgen_runtime::maintain::RowRetention { table, column, keep })
        .collect();
    let options = hubgen_runtime::maintain::Options {
        batch: 500,
        ..hubgen_runtime::maintain::Options::new(now, &rows)
    };
    let sink = DirectorySink::new(std::env::temp_dir().join(format!("hubgen-retention-{}", db.name))).unwrap();
    let report = hubgen_runtime::maintain::run(&mut conn, &options, &sink).await.expect("maintain");
    let expected_old: i64 = 2500 - 120 - 1; // rows at exactly 30 days stay (strictly older go)
    assert_eq!(report.deleted_rows, u64::try_from(expected_old).unwrap(), "{report:?}");
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, 121);
    let stale: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions WHERE created_at < $1::timestamptz - interval '30 days'")
        .bind(now)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(stale, 0);
    // Both partitioned tables have the partition holding `now` and those ahead.
    assert_eq!(report.tables, 2);
    for (table, ahead) in [("events", "events_p2027_09"), ("metrics", "metrics_p2027_06_05")] {
        let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
            .bind(ahead)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert!(exists, "{table}: {ahead} made ahead");
    }
    let again = hubgen_runtime::maintain::run(&mut conn, &options, &sink)
        .await
        .expect("maintain again");
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("hubgen-retention-{}", db.name)));
    assert_eq!((again.deleted_rows, again.created), (0, 0), "{again:?}");
    conn.close().await.ok();
    db.drop_db().await;
}

/// A year of daily partitions: the upkeep fixture's `metrics` table, kept
/// daily with 30 days hot and archive, maintained every simulated day.
#[tokio::test]
async fn a_year_of_daily_partitions() {
    let schema = hubgen_e2e::load("schema/tests/data/ok/upkeep.hubs");
    let db = TestDb::create("lifecycle_daily").await;
    let mut conn = db.connect().await;
    let sql = hubgen_e2e::initial_migration("schema/upkeep.hubs", &schema, "app");
    hubgen_live::apply(&mut conn, &sql).await.expect("the fixture's migration");
    let dir = std::env::temp_dir().join(format!("hubgen-daily-{}", db.name));
    let _ = std::fs::remove_dir_all(&dir);
    let sink = DirectorySink::new(&dir).unwrap();
    let start: DateTime<Utc> = Utc.with_ymd_and_hms(2027, 1, 1, 1, 0, 0).unwrap();
    let mut maintenance = std::time::Duration::ZERO;
    let mut inserted = 0i64;
    for day in 0..365 {
        let now = start + Duration::days(day);
        let began = Instant::now();
        let options = hubgen_runtime::maintain::Options::new(now, &[]);
        hubgen_runtime::maintain::run(&mut conn, &options, &sink)
            .await
            .unwrap_or_else(|e| panic!("day {day}: {e}"));
        maintenance += began.elapsed();
        let n = sqlx::query("INSERT INTO metrics (id, measured_at) SELECT gen_random_uuid(), $1::timestamptz + h * interval '1 hour' FROM generate_series(0, 20) h")
            .bind(now)
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("day {day}: {e}"))
            .rows_affected();
        inserted += i64::try_from(n).unwrap();
    }
    let hot: i64 = sqlx::query_scalar("SELECT count(*) FROM metrics")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let defaulted: i64 = sqlx::query_scalar("SELECT count(*) FROM metrics_default")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let attached: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_inherits WHERE inhparent = 'metrics'::regclass")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let mut archived = 0u64;
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        archived += hubgen_runtime::maintain::count_csv_rows(flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap())).unwrap();
        files += 1;
    }
    assert_eq!(defaulted, 0, "rows in the default partition");
    assert_eq!(i64::try_from(archived).unwrap() + hot, inserted, "every row hot or archived once");
    assert!(files >= 330, "{files} daily partitions archived");
    assert!(attached <= 40, "{attached} partitions attached: 30 days hot, a week ahead");
    println!(
        "a year of daily partitions: 365 maintenance runs in {:.2} s ({:.1} ms a run), {files} partitions archived ({archived} rows), {attached} attached",
        maintenance.as_secs_f64(),
        maintenance.as_secs_f64() * 1000.0 / 365.0
    );
    let _ = std::fs::remove_dir_all(&dir);
    db.drop_db().await;
}
