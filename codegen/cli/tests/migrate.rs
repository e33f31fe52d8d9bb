//! `hubgen migrate` and `hubgen status` against real databases: the nine
//! platform hubs migrated by two concurrent runs, sqlx's own migrator taking
//! turns with it, and a migration blocked by a held lock that retries, then
//! fails leaving nothing, then goes through once the lock is released.

mod common;

use common::{copy_tree, fresh_database, root, server};
use sqlx::migrate::Migrate;
use sqlx::{Connection, PgConnection};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn hubgen(args: &[&str], dir: &Path, env: &[(String, String)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hubgen"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    command
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

async fn scalar<T>(url: &str, sql: &str) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    let mut conn = PgConnection::connect(url).await.expect("connect");
    let value = sqlx::query_scalar(sql).fetch_one(&mut conn).await.expect(sql);
    conn.close().await.ok();
    value
}

const HUBS: &[&str] = &[
    "identity", "user", "tenant", "app", "billing", "wallet", "config", "message", "spokes",
];

fn up_files(hub: &str) -> usize {
    std::fs::read_dir(root().join("migrations").join(hub))
        .expect("migrations")
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.ends_with(".sql") && !name.ends_with(".down.sql")
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_runs_migrate_the_nine_hubs_once() {
    let mut env = Vec::new();
    for hub in HUBS {
        let url = fresh_database(&format!("migrate_twice_{hub}")).await;
        env.push((format!("{}_DATABASE_URL", hub.to_uppercase()), url));
    }
    // The wallet hub is migrated by sqlx's own migrator first: hubgen takes over where it stopped.
    let wallet = &env[5].1;
    let mut conn = PgConnection::connect(wallet).await.expect("connect");
    let migrator = sqlx::migrate::Migrator::new(root().join("migrations/wallet")).await.expect("load");
    migrator.run(&mut conn).await.expect("sqlx migrates the wallet hub");
    conn.close().await.ok();

    let status = hubgen(&["status"], &root(), &env).output().expect("status");
    assert_eq!(status.status.code(), Some(1), "behind: {}", text(&status));
    assert!(
        text(&status).contains("identity (chatbot_identity_db): 0 applied, "),
        "{}",
        text(&status)
    );

    let first = hubgen(&["migrate"], &root(), &env).spawn().expect("first run");
    let second = hubgen(&["migrate"], &root(), &env).spawn().expect("second run");
    let (first, second) = (first.wait_with_output().expect("first"), second.wait_with_output().expect("second"));
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    let both = text(&first) + &text(&second);
    for (i, hub) in HUBS.iter().enumerate() {
        let url = &env[i].1;
        let files = up_files(hub);
        let (rows, versions): (i64, i64) = (
            scalar(url, "SELECT count(*) FROM _sqlx_migrations WHERE success").await,
            scalar(url, "SELECT count(DISTINCT version) FROM _sqlx_migrations").await,
        );
        assert_eq!((rows, versions), (files as i64, files as i64), "hub {hub}");
        // Each migration applied by exactly one of the two runs (wallet's by sqlx before them).
        let applied = both.lines().filter(|l| l.starts_with(&format!("{hub}: applied "))).count();
        assert_eq!(applied, if *hub == "wallet" { 0 } else { files }, "hub {hub}:\n{both}");
    }

    let status = hubgen(&["status"], &root(), &env).output().expect("status");
    assert_eq!(status.status.code(), Some(0), "{}", text(&status));
    // The live databases match the schema.
    for (i, hub) in HUBS.iter().enumerate() {
        let check = hubgen(&["check", "--hub", hub, "--database-url", &env[i].1], &root(), &[])
            .output()
            .expect("check");
        assert_eq!(check.status.code(), Some(0), "{hub}: {}", text(&check));
    }
}

/// A one-hub project whose migrations wait at most 200 ms for a lock.
fn project(name: &str, database: &str, extra_column: bool) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hubgen-migrate-{}-{name}", std::process::id()));
    std::fs::create_dir_all(dir.join("schema")).expect("project dir");
    let column = if extra_column { "\n    title text" } else { "" };
    std::fs::write(
        dir.join("schema/platform.hubs"),
        format!(
            "hub notes database {database} {{\n  set lock_timeout '200ms'\n\n  table notes {{\n    id uuid primary key default gen_random_uuid(){column}\n  }}\n}}\n"
        ),
    )
    .expect("schema");
    let out = hubgen(&["generate"], &dir, &[]).output().expect("generate");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    dir
}

#[tokio::test]
async fn a_migration_blocked_by_a_lock_retries_fails_cleanly_then_goes_through() {
    let url = fresh_database("migrate_blocked").await;
    // The server alone: the hub's declared database is the one to migrate.
    let env = vec![("DATABASE_URL".to_string(), server())];
    let dir = project("blocked", "migrate_blocked", false);
    let out = hubgen(&["migrate"], &dir, &env).output().expect("migrate v1");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    project("blocked", "migrate_blocked", true);

    // Another session reads the table in an open transaction: ALTER TABLE must wait.
    let mut holder = PgConnection::connect(&url).await.expect("connect");
    sqlx::raw_sql("BEGIN; LOCK TABLE notes IN ACCESS SHARE MODE")
        .execute(&mut holder)
        .await
        .expect("hold a lock");

    let dry = hubgen(&["migrate", "--dry-run"], &dir, &env).output().expect("dry run");
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry));
    assert!(
        text(&dry).contains("notes: would apply 0002 add column notes title"),
        "{}",
        text(&dry)
    );

    let out = hubgen(&["migrate", "--retries", "2", "--backoff", "100ms"], &dir, &env)
        .output()
        .expect("migrate v2");
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("try 2 of 3") && said.contains("try 3 of 3"), "{said}");
    assert!(
        said.contains("waited longer than lock_timeout for a lock on each of 3 tries"),
        "{said}"
    );
    assert!(said.contains("AccessShareLock on notes"), "names the session in the way: {said}");
    assert!(said.contains("nothing of it is in the database"), "{said}");
    let column: bool = scalar(
        &url,
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'notes' AND column_name = 'title')",
    )
    .await;
    let recorded: i64 = scalar(&url, "SELECT count(*) FROM _sqlx_migrations").await;
    assert_eq!((column, recorded), (false, 1), "the failed migration left nothing");
    let status = hubgen(&["status"], &dir, &env).output().expect("status");
    assert_eq!(status.status.code(), Some(1));
    assert!(text(&status).contains("pending 0002 add column notes title"), "{}", text(&status));

    // Released while the next run backs off: it goes through.
    let run = hubgen(&["migrate", "--retries", "10", "--backoff", "200ms"], &dir, &env)
        .spawn()
        .expect("migrate again");
    tokio::time::sleep(Duration::from_millis(500)).await;
    sqlx::raw_sql("ROLLBACK").execute(&mut holder).await.expect("release");
    let out = run.wait_with_output().expect("migrate again");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("notes: applied 0002 add column notes title"), "{}", text(&out));
    let column: bool = scalar(
        &url,
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'notes' AND column_name = 'title')",
    )
    .await;
    assert!(column);
    let check = hubgen(&["check", "--database-url", &url], &dir, &[]).output().expect("check");
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));
    let _ = std::fs::remove_dir_all(&dir);
}

/// sqlx's migrator holding the database's migration lock makes `hubgen
/// migrate` wait (the same advisory lock), then apply after it.
#[tokio::test]
async fn waits_for_the_lock_sqlx_holds() {
    let url = fresh_database("migrate_sqlx_lock").await;
    let dir = project("sqlx_lock", "some_other_db", false);
    // The project's config names the hub's database.
    std::fs::write(dir.join("hubgen.toml"), format!("[databases]\nnotes = \"{url}\"\n")).expect("config");
    let env = vec![("DATABASE_URL".to_string(), "postgres://nobody@127.0.0.1:1/nothing".to_string())];
    // A dry run on a database never migrated: it says what would run and writes nothing.
    let dry = hubgen(&["migrate", "--dry-run"], &dir, &env).output().expect("dry run");
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry));
    assert!(text(&dry).contains("notes: would apply 0001 initial"), "{}", text(&dry));
    let untouched: bool = scalar(&url, "SELECT to_regclass('_sqlx_migrations') IS NULL").await;
    assert!(untouched, "a dry run made no table");
    let mut sqlx_side = PgConnection::connect(&url).await.expect("connect");
    sqlx_side.lock().await.expect("sqlx's migration lock");
    let run = hubgen(&["migrate"], &dir, &env).spawn().expect("migrate");
    tokio::time::sleep(Duration::from_millis(700)).await;
    let table: bool = scalar(&url, "SELECT to_regclass('notes') IS NOT NULL").await;
    assert!(!table, "nothing applied while sqlx holds the lock");
    sqlx_side.unlock().await.expect("unlock");
    let out = run.wait_with_output().expect("migrate");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("another migration holds migrate_sqlx_lock's migration lock"),
        "{}",
        text(&out)
    );
    let table: bool = scalar(&url, "SELECT to_regclass('notes') IS NOT NULL").await;
    assert!(table);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Day two of a hub with a schema per tenant: a column added to the
/// template reaches the provisioned tenants through `hubgen migrate`, and
/// their registry versions end at the template's.
#[tokio::test]
async fn migrate_brings_the_tenant_schemas_along() {
    let url = fresh_database("migrate_tenants").await;
    let dir = std::env::temp_dir().join(format!("hubgen-migrate-{}-tenants", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let example = root().join("examples/social_inbox");
    copy_tree(&example.join("schema"), &dir.join("schema"));
    copy_tree(&example.join("migrations"), &dir.join("migrations"));
    let schema = "schema/social_inbox.hubs";
    let on_db = ["--schema", schema, "--database-url", &url, "--hub", "inbox"];
    let run = |args: &[&str]| {
        let out = hubgen(&[args, &on_db].concat(), &dir, &[]).output().expect("hubgen");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out));
        text(&out)
    };
    run(&["migrate"]);
    run(&["tenants", "provision", "1", "2"]);

    let path = dir.join(schema);
    let edited = std::fs::read_to_string(&path).expect("schema").replacen(
        "      last_login     timestamp\n",
        "      last_login     timestamp\n      nickname       text\n",
        1,
    );
    std::fs::write(&path, edited).expect("edit");
    let out = hubgen(&["generate", "--schema", schema], &dir, &[]).output().expect("generate");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // The edit's upgrades: those the example does not have already.
    let upgrades: Vec<String> = std::fs::read_dir(dir.join("migrations/inbox/tenant"))
        .expect("tenant upgrades")
        .flatten()
        .filter(|e| !example.join("migrations/inbox/tenant").join(e.file_name()).exists())
        .map(|e| std::fs::read_to_string(e.path()).expect("upgrade"))
        .collect();
    assert_eq!(upgrades.len(), 1, "one upgrade for one change: {upgrades:?}");
    assert!(upgrades[0].contains("ADD COLUMN \"nickname\" text"), "{}", upgrades[0]);
    assert!(
        !upgrades[0].contains("DROP CONSTRAINT"),
        "references to shared tables stay: {}",
        upgrades[0]
    );

    // The edit is the version after the example's last.
    let next = std::fs::read_dir(example.join("migrations/inbox"))
        .expect("migrations")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.split('_').next()?.parse::<u32>().ok())
        .max()
        .expect("the example has migrations")
        + 1;
    let said = run(&["migrate"]);
    assert!(
        said.contains(&format!("inbox: applied {next:04} add column tenant template users nickname")),
        "{said}"
    );
    assert!(
        said.contains(&format!(
            "inbox: 2 tenant schema(s) at version {next}: 2 migrated, 2 upgrade(s) applied"
        )),
        "{said}"
    );
    let listed = run(&["tenants", "list"]);
    assert_eq!(listed.matches(&format!("version {next}")).count(), 2, "{listed}");
    let nicknames: i64 = scalar(
        &url,
        "SELECT count(*) FROM information_schema.columns WHERE table_schema IN ('tenant_1', 'tenant_2') AND table_name = 'users' AND column_name = 'nickname'",
    )
    .await;
    assert_eq!(nicknames, 2);
    let check = hubgen(&["check", "--schema", schema, "--database-url", &url, "--hub", "inbox"], &dir, &[])
        .output()
        .expect("check");
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));
    let _ = std::fs::remove_dir_all(&dir);
}
