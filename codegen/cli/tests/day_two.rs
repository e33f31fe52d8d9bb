//! Day two, as a team lives it, on a full copy of this repository: an enum
//! and a column of that enum are added to the wallet hub. In the copy,
//! `generate` writes migration 2 and then nothing more, `check` is clean,
//! the migrations apply with sqlx's migrator (and migration 2 reverts), `hub!` still expands to
//! exactly the generated crate, and the wallet crate compiles and
//! round-trips rows with the new column on PostgreSQL.

mod common;

use common::{copy_tree, fresh_database, outside_target_dir, root};
use std::path::Path;
use std::process::{Command, Output};

fn run(program: &str, args: &[&str], dir: &Path) -> Output {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", outside_target_dir())
        .env_remove("GITHUB_ACTIONS");
    let out = command.output().unwrap_or_else(|e| panic!("{program} runs: {e}"));
    assert!(
        out.status.success(),
        "{program} {} failed in {}:\n{}\n{}",
        args.join(" "),
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn edit(file: &Path, edits: &[(&str, &str)]) {
    let mut text = std::fs::read_to_string(file).expect("readable");
    for (from, to) in edits {
        assert!(text.contains(from), "edit target not found: {from}");
        text = text.replacen(from, to, 1);
    }
    std::fs::write(file, text).expect("writable");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_edit_of_the_wallet_hub_holds_end_to_end_in_a_copy_of_the_repository() {
    let copy = std::env::temp_dir().join(format!("hubgen-day-two-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&copy);
    copy_tree(&root(), &copy);
    let hubgen = env!("CARGO_BIN_EXE_hubgen");
    let v1 = hubgen_schema::compile(&std::fs::read_to_string(copy.join("schema/platform.hubs")).expect("schema"))
        .ir
        .expect("the platform schema validates");

    // Day one: the wallet database as it runs today, holding rows.
    let url = fresh_database("hubgen_day_two_wallet").await;
    let pool = sqlx::PgPool::connect(&url).await.expect("connect");
    let folder = copy.join("migrations/wallet");
    sqlx::migrate::Migrator::new(folder.as_path())
        .await
        .expect("migrations")
        .run(&pool)
        .await
        .expect("the migrations so far apply");
    // The version the wallet hub is at today; the edit makes the next one.
    let today = std::fs::read_dir(&folder)
        .expect("migrations folder")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| !e.file_name().to_string_lossy().ends_with(".down.sql") && e.file_name().to_string_lossy().ends_with(".sql"))
        })
        .count() as i64;
    sqlx::raw_sql(SEED).execute(&pool).await.expect("seed");
    let before = fingerprint(&pool, "account_code").await;

    // Day two: one edit, generated, checked.
    edit(&copy.join("schema/platform.hubs"), EDITS);
    run(hubgen, &["fmt"], &copy); // as a reviewer would: the new lines take the table's alignment
    let first = run(hubgen, &["generate"], &copy);
    let stdout = String::from_utf8_lossy(&first.stdout);
    let next = format!("migrations/wallet/{:04}_", today + 1);
    assert!(stdout.contains(&next), "{next} is written:\n{stdout}");
    let again = run(hubgen, &["generate"], &copy);
    let again = String::from_utf8_lossy(&again.stdout);
    assert!(again.contains(" 0 file(s) written"), "a second generate writes nothing: {again}");
    assert!(String::from_utf8_lossy(&run(hubgen, &["check"], &copy).stdout).contains("no drift"));

    // Applied with sqlx on the rows: none lost, the backfill filled, the live catalog is the schema's.
    let migrator = sqlx::migrate::Migrator::new(folder.as_path()).await.expect("migrations");
    migrator.run(&pool).await.expect("the new migrations apply");
    assert_eq!(
        fingerprint(&pool, "ledger_code").await,
        before,
        "every row survives, renamed column included"
    );
    let (settled, channel): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE settled = (completed_at IS NOT NULL)), count(*) FILTER (WHERE channel = 'web') FROM transactions",
    )
    .fetch_one(&pool)
    .await
    .expect("new columns");
    assert_eq!((settled, channel), (ROWS, ROWS), "backfill and default reach every row");
    let live = run(hubgen, &["check", "--database-url", &url, "--hub", "wallet"], &copy);
    assert!(String::from_utf8_lossy(&live.stdout).contains("no drift"));

    // Reverted: the catalog is day one's again, the rows still there.
    migrator.undo(&pool, today).await.expect("the new migration reverts");
    let (catalog, _) = hubgen_live::introspect_read_only(&url).await.expect("introspect");
    let wallet_v1 = v1.hub("wallet").expect("wallet hub");
    let differences = hubgen_codegen::check::database(wallet_v1, &catalog);
    assert!(differences.is_empty(), "{differences:#?}");
    assert_eq!(fingerprint(&pool, "account_code").await, before);
    pool.close().await;

    // The copy's own tests: the wallet crate, the macro's equality, freshness.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let wallet = run(&cargo, &["test", "-p", "hub-wallet"], &copy);
    let wallet = String::from_utf8_lossy(&wallet.stdout);
    for table in ["wallets", "transactions", "ledger"] {
        assert!(wallet.contains(&format!("test {table}_round_trip ... ok")), "{wallet}");
    }
    run(
        &cargo,
        &["test", "-q", "-p", "hubgen-macros", "--lib", "expansion_equals_the_generated_crate"],
        &copy,
    );
    run(&cargo, &["test", "-q", "-p", "hubgen-e2e", "--test", "freshness"], &copy);
    let _ = std::fs::remove_dir_all(&copy);
}

/// An enum column, a hinted rename of an indexed column, a NOT NULL column with a backfill.
const EDITS: &[(&str, &str)] = &[
    (
        "  /// A balance held by a user, optionally inside a tenant.\n",
        "  enum transaction_channel {\n    web\n    api\n  }\n\n  /// A balance held by a user, optionally inside a tenant.\n",
    ),
    (
        "    completed_at             timestamp\n",
        "    completed_at             timestamp\n    channel                  transaction_channel  not null default 'web'\n    settled                  boolean         not null @backfill(completed_at is not null)\n",
    ),
    ("    account_code    varchar(100)    not null\n", "    ledger_code     varchar(100)    not null @renamed_from(account_code)\n"),
    ("    index idx_ledger_account_code (account_code)\n", "    index idx_ledger_account_code (ledger_code)\n"),
];

const ROWS: i64 = 200;

const SEED: &str = "
INSERT INTO wallets (user_id, currency) SELECT gen_random_uuid(), 'EUR' FROM generate_series(1, 200);
INSERT INTO transactions (wallet_id, transaction_type, amount, currency, completed_at)
  SELECT id, 'TOPUP', 10.5, 'EUR', CASE WHEN random() < 0.5 THEN now() END FROM wallets;
INSERT INTO ledger (wallet_id, transaction_id, account_type, account_code, debit_amount)
  SELECT wallet_id, id, 'ASSET', 'acct-' || left(id::text, 8), amount FROM transactions;
";

/// Row counts and a checksum of the rows' day-one columns, per table.
async fn fingerprint(pool: &sqlx::PgPool, code_column: &str) -> Vec<(i64, String)> {
    let queries = [
        "SELECT count(*), md5(coalesce(string_agg(w::text, ',' ORDER BY id), '')) FROM (SELECT id, user_id, currency, balance, version FROM wallets) w".to_string(),
        "SELECT count(*), md5(coalesce(string_agg(t::text, ',' ORDER BY id), '')) FROM (SELECT id, wallet_id, amount, completed_at FROM transactions) t".to_string(),
        format!("SELECT count(*), md5(coalesce(string_agg(l::text, ',' ORDER BY id), '')) FROM (SELECT id, transaction_id, {code_column} FROM ledger) l"),
    ];
    let mut out: Vec<(i64, String)> = Vec::new();
    for q in queries {
        out.push(sqlx::query_as(&q).fetch_one(pool).await.expect("fingerprint"));
    }
    assert_eq!(out[0].0, ROWS, "seeded");
    out
}
