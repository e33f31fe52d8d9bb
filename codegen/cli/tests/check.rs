//! `hubgen check` for each kind of drift, and the schema-evolution loop a
//! reviewer runs: edit the platform schema, `generate`, apply, `check`.

use sqlx::{Connection, Executor, PgConnection};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn hubgen(args: &[&str], dir: &Path, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hubgen"));
    command.args(args).current_dir(dir).env_remove("GITHUB_ACTIONS");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("hubgen runs")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("workspace root")
        .to_path_buf()
}

/// A project with the platform schema, generated.
fn project(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hubgen-check-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("schema")).expect("project dir");
    std::fs::copy(root().join("schema/platform.hubs"), dir.join("schema/platform.hubs")).expect("copy schema");
    let out = hubgen(&["generate"], &dir, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    dir
}

fn kinds(out: &Output) -> Vec<String> {
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON findings");
    findings
        .as_array()
        .expect("array")
        .iter()
        .map(|f| f["kind"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn server() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

async fn fresh_database(name: &str) -> String {
    let mut admin = PgConnection::connect(&server()).await.expect("PostgreSQL reachable");
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await
        .expect("drop");
    admin.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("create");
    let base = server();
    format!("{}/{name}", &base[..base.rfind('/').expect("url has a database")])
}

async fn apply(url: &str, file: &Path) {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    let sql = std::fs::read_to_string(file).expect("migration");
    let mut tx = conn.begin().await.expect("begin");
    sqlx::raw_sql(&sql)
        .execute(&mut *tx)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    tx.commit().await.expect("commit");
}

#[test]
fn clean_after_generate() {
    let dir = project("clean");
    let out = hubgen(&["check"], &dir, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no drift"));
}

#[test]
fn a_hand_edited_generated_file_is_stale() {
    let dir = project("stale");
    let lib = dir.join("generated/identity/src/lib.rs");
    let text = std::fs::read_to_string(&lib)
        .expect("lib.rs")
        .replace("pub struct User {", "pub struct User { // tweaked");
    std::fs::write(&lib, text).expect("edit");
    let out = hubgen(&["check", "--format", "json"], &dir, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(kinds(&out), ["stale-generated-file"]);
}

#[test]
fn a_schema_change_without_a_migration_is_unrecorded() {
    let dir = project("unrecorded");
    let schema = dir.join("schema/platform.hubs");
    let text = std::fs::read_to_string(&schema).expect("schema").replacen(
        "    last_login_at   timestamp\n",
        "    last_login_at   timestamp\n    nickname        varchar(50)\n",
        1,
    );
    std::fs::write(&schema, text).expect("edit");
    let out = hubgen(&["check", "--format", "json"], &dir, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(kinds(&out).contains(&"unrecorded-change".to_string()), "{:?}", kinds(&out));
    let text = String::from_utf8_lossy(&hubgen(&["check"], &dir, &[]).stdout).into_owned();
    assert!(text.contains("+ add column public.users.nickname"), "{text}");
}

#[test]
fn an_edited_migration_is_caught_by_its_checksum() {
    let dir = project("edited");
    let migration = dir.join("migrations/wallet/0001_initial.sql");
    let mut text = std::fs::read_to_string(&migration).expect("migration");
    text.push_str("CREATE INDEX sneaky ON wallets (balance);\n");
    std::fs::write(&migration, text).expect("edit");
    let out = hubgen(&["check", "--format", "json"], &dir, &[("GITHUB_ACTIONS", "false")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(kinds(&out).contains(&"edited-migration".to_string()), "{:?}", kinds(&out));
    // On GitHub Actions the findings are also annotations.
    let out = hubgen(&["check"], &dir, &[("GITHUB_ACTIONS", "true")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("::error file=migrations/wallet/0001_initial.sql,title=hubgen drift (edited-migration)::"),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_live_database_changed_by_hand_drifts() {
    let dir = project("live");
    let url = fresh_database("hubgen_check_live").await;
    apply(&url, &dir.join("migrations/identity/0001_initial.sql")).await;
    let args = ["check", "--database-url", url.as_str(), "--hub", "identity", "--format", "json"];
    let out = hubgen(&args, &dir, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));

    let mut conn = PgConnection::connect(&url).await.expect("connect");
    sqlx::raw_sql(
        "ALTER TABLE users ADD COLUMN shadow text; ALTER TABLE users ALTER COLUMN role DROP DEFAULT; DROP INDEX idx_users_status",
    )
    .execute(&mut conn)
    .await
    .expect("hand-made change");
    let out = hubgen(&args, &dir, &[]);
    assert_eq!(out.status.code(), Some(1));
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let messages: Vec<&str> = findings
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|f| f["message"].as_str())
        .collect();
    for expected in [
        "extra tables.public.users.columns.shadow",
        "missing tables.public.users.columns.role.default",
        "missing tables.public.users.indexes.idx_users_status",
    ] {
        assert!(messages.iter().any(|m| m.starts_with(expected)), "{expected} not in {messages:#?}");
    }
    // Read-only: the check wrote nothing (the shadow column is still the only change).
    let columns: i64 = sqlx::query_scalar("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users'")
        .fetch_one(&mut conn)
        .await
        .expect("count");
    assert_eq!(columns, 12);
    // Unreachable database: an error, not drift.
    let out = hubgen(
        &["check", "--database-url", "postgres://postgres@127.0.0.1:1/x", "--hub", "identity"],
        &dir,
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
}

/// The reviewer's loop: add a column, rename one with a hint, add an index,
/// add an enum value; `generate` writes exactly one new migration per touched
/// hub; it applies on top of the old ones; `check` is clean.
#[tokio::test]
async fn editing_the_platform_yields_one_migration_per_touched_hub() {
    let dir = project("evolve");
    let schema = dir.join("schema/platform.hubs");
    let edit = |from: &str, to: &str| {
        let text = std::fs::read_to_string(&schema).expect("schema");
        assert!(text.contains(from), "{from}");
        std::fs::write(&schema, text.replacen(from, to, 1)).expect("edit");
    };
    // v1 gets an enum to extend later.
    edit(
        "/// Message routing and storage.\nhub message database chatbot_message_db {\n",
        "/// Message routing and storage.\nhub message database chatbot_message_db {\n  enum delivery {\n    queued\n    sent\n  }\n\n",
    );
    edit(
        "    read_at              timestamp\n",
        "    read_at              timestamp\n    delivery             delivery  not null default 'queued'\n",
    );
    let out = hubgen(&["generate"], &dir, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));

    let touched = ["identity", "user", "wallet", "message"];
    let mut urls = Vec::new();
    for hub in touched {
        let url = fresh_database(&format!("hubgen_evolve_{hub}")).await;
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("migrations").join(hub))
            .expect("dir")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        for file in files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "sql") && !f.to_string_lossy().ends_with(".down.sql"))
        {
            apply(&url, file).await;
        }
        urls.push(url);
    }
    let before: Vec<usize> = touched
        .iter()
        .map(|h| std::fs::read_dir(dir.join("migrations").join(h)).expect("dir").count())
        .collect();
    let untouched_before = std::fs::read_dir(dir.join("migrations/tenant")).expect("dir").count();

    edit(
        "    last_login_at   timestamp\n",
        "    last_login_at   timestamp\n    nickname        varchar(50)\n",
    );
    edit("    bio            text\n", "    about          text  @renamed_from(bio)\n");
    edit(
        "    index idx_transactions_created_at (created_at)\n",
        "    index idx_transactions_created_at (created_at)\n    index idx_transactions_wallet_created (wallet_id, created_at desc)\n",
    );
    edit("    queued\n    sent\n", "    queued\n    sent\n    read\n");
    let out = hubgen(&["generate"], &dir, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));

    for ((hub, url), count) in touched.iter().zip(&urls).zip(&before) {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("migrations").join(hub))
            .expect("dir")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        let new: Vec<&PathBuf> = files.iter().filter(|f| !f.ends_with("hubgen.lock")).collect();
        let added = files.len() - count;
        assert!(
            added == 1 || added == 2,
            "{hub}: one new migration (an .up/.down pair counts once), got {added}"
        );
        let up = new
            .iter()
            .rev()
            .find(|f| !f.to_string_lossy().ends_with(".down.sql"))
            .expect("new migration");
        apply(url, up).await;
        let out = hubgen(&["check", "--database-url", url, "--hub", hub], &dir, &[]);
        assert_eq!(out.status.code(), Some(0), "{hub}: {}", String::from_utf8_lossy(&out.stdout));
    }
    assert_eq!(
        std::fs::read_dir(dir.join("migrations/tenant")).expect("dir").count(),
        untouched_before,
        "untouched hubs get no migration"
    );
    let out = hubgen(&["check"], &dir, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
}
