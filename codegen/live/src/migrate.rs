//! Applying a hub's migrations the way sqlx does — its `_sqlx_migrations`
//! table, its checksums, its advisory lock on the database — so that
//! `hubgen migrate`, `sqlx migrate run` and a hub crate's `migrate()` take
//! turns on one database and agree on what is applied. What sqlx leaves out:
//! a migration that timed out waiting for a lock is retried with a bounded
//! backoff (each try is one transaction, so a failed one leaves nothing),
//! a `CREATE INDEX CONCURRENTLY` that failed has its invalid index dropped
//! before the retry, and the caller sees every step (progress, dry runs,
//! status).

use sqlx::migrate::{Migrate, MigrateError, Migration, Migrator};
use sqlx::{PgConnection, Row};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// How `run` treats a migration that waits on a lock.
#[derive(Debug, Clone)]
pub struct Options {
    /// Tries after the first one, for a migration that timed out waiting for a lock.
    pub retries: u32,
    /// The wait before the first retry; each next one waits twice as long (at most [`MAX_BACKOFF`]).
    pub backoff: Duration,
    /// `lock_timeout` for files run outside a transaction (the others set their own).
    pub lock_timeout: String,
}

/// How often a run waiting for the migration lock asks for it again.
const LOCK_POLL: Duration = Duration::from_millis(200);

/// The longest wait between two tries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

impl Options {
    /// The wait before retry `attempt` (1-based).
    pub fn wait(&self, attempt: u32) -> Duration {
        self.backoff.saturating_mul(1 << attempt.saturating_sub(1).min(16)).min(MAX_BACKOFF)
    }
}

/// A migration file, as status and progress name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub version: i64,
    pub description: String,
    /// Runs outside a transaction (`-- no-transaction`).
    pub no_transaction: bool,
}

impl Step {
    fn of(migration: &Migration) -> Step {
        Step {
            version: migration.version,
            description: migration.description.to_string(),
            no_transaction: migration.no_tx,
        }
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04} {}", self.version, self.description)
    }
}

/// Why a database's history does not fit the migration files: `run` refuses to go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A migration run outside a transaction failed halfway (sqlx marks it unsuccessful).
    Dirty(i64),
    /// An applied migration's file changed since.
    Edited(Step),
    /// The database applied a version no file here has (another branch's?).
    Unknown(i64),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Dirty(version) => write!(
                f,
                "migration {version:04} failed partway outside a transaction; repair the database by hand, then delete its row from _sqlx_migrations"
            ),
            Problem::Edited(step) => write!(
                f,
                "migration {step} was edited after it was applied; restore the file as applied (migrations are never edited: `hubgen generate` plans a new one)"
            ),
            Problem::Unknown(version) => write!(
                f,
                "the database applied migration {version:04}, which no file here has; check out the branch that made it, or revert it there"
            ),
        }
    }
}

/// Where a database stands against the migration files.
#[derive(Debug, Clone, Default)]
pub struct Status {
    pub applied: Vec<Step>,
    pub pending: Vec<Step>,
    pub problems: Vec<Problem>,
}

/// What `run` reports as it goes.
#[derive(Debug)]
pub enum Event<'a> {
    /// Another session holds the migration lock of this database; `run` waits for it.
    Waiting(&'a str),
    Applying(&'a Step),
    Applied(&'a Step, Duration),
    /// The try timed out waiting for a lock and left nothing; the next starts after `wait`.
    Retrying {
        step: &'a Step,
        attempt: u32,
        wait: Duration,
        error: String,
    },
}

/// Why `run` stopped.
#[derive(Debug)]
pub enum Failure {
    /// The history does not fit the files; nothing was applied.
    Refused(Vec<Problem>),
    /// A migration failed; it left nothing behind, and those before it stay applied.
    Failed {
        step: Step,
        error: String,
        /// How many times it was tried.
        tries: u32,
        /// It failed waiting for a lock every time.
        lock_timeout: bool,
        /// Other sessions holding locks in the database when it gave up.
        holders: Vec<String>,
    },
    /// The connection or the migration table failed.
    Database(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Refused(problems) => {
                write!(f, "nothing applied:")?;
                for problem in problems {
                    write!(f, "\n  - {problem}")?;
                }
                Ok(())
            }
            Failure::Failed {
                step,
                error,
                tries,
                lock_timeout,
                holders,
            } => {
                if *lock_timeout {
                    write!(
                        f,
                        "migration {step} was not applied: it waited longer than lock_timeout for a lock on each of {tries} tries ({error}); nothing of it is in the database"
                    )?;
                    if holders.is_empty() {
                        write!(f, "\n  run `hubgen migrate` again once the sessions using its tables are done")
                    } else {
                        write!(f, "\n  sessions holding locks in the database:")?;
                        for holder in holders {
                            write!(f, "\n    {holder}")?;
                        }
                        write!(
                            f,
                            "\n  run `hubgen migrate` again once they are done (or end them with pg_terminate_backend)"
                        )
                    }
                } else {
                    write!(f, "migration {step} failed: {error}; nothing of it is in the database")
                }
            }
            Failure::Database(error) => write!(f, "{error}"),
        }
    }
}

impl From<sqlx::Error> for Failure {
    fn from(error: sqlx::Error) -> Failure {
        Failure::Database(error.to_string())
    }
}

impl From<MigrateError> for Failure {
    fn from(error: MigrateError) -> Failure {
        Failure::Database(error.to_string())
    }
}

/// The migrations in `dir` (sqlx's naming: `0001_initial.sql`,
/// `0002_x.up.sql` with its `.down.sql`).
pub async fn load(dir: &Path) -> Result<Migrator, String> {
    let flyway = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .flatten()
        .any(|entry| entry.file_name().to_string_lossy().starts_with('V'));
    if flyway {
        return Err(format!(
            "{} holds Flyway's file names (V1__initial.sql); apply them with Flyway, or generate with --flavor sqlx",
            dir.display()
        ));
    }
    Migrator::new(dir).await.map_err(|e| format!("cannot load {}: {e}", dir.display()))
}

fn ups(migrator: &Migrator) -> impl Iterator<Item = &Migration> {
    migrator.iter().filter(|m| m.migration_type.is_up_migration())
}

/// Where the database stands. Reads only: a database sqlx never migrated
/// has every migration pending.
pub async fn status(conn: &mut PgConnection, migrator: &Migrator) -> Result<Status, Failure> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await?;
    let history: Vec<(i64, Vec<u8>, bool)> = if exists {
        sqlx::query("SELECT version, checksum, success FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| (row.get(0), row.get(1), row.get(2)))
            .collect()
    } else {
        Vec::new()
    };
    Ok(compare(migrator, &history))
}

fn compare(migrator: &Migrator, history: &[(i64, Vec<u8>, bool)]) -> Status {
    let files: BTreeMap<i64, &Migration> = ups(migrator).map(|m| (m.version, m)).collect();
    let mut status = Status::default();
    for (version, checksum, success) in history {
        match files.get(version) {
            _ if !success => status.problems.push(Problem::Dirty(*version)),
            None => status.problems.push(Problem::Unknown(*version)),
            Some(m) if m.checksum.as_ref() != checksum.as_slice() => status.problems.push(Problem::Edited(Step::of(m))),
            Some(m) => status.applied.push(Step::of(m)),
        }
    }
    let done: Vec<i64> = history.iter().map(|(v, _, _)| *v).collect();
    status.pending = files.values().filter(|m| !done.contains(&m.version)).map(|m| Step::of(m)).collect();
    status
}

/// Applies every pending migration in order, under the database's migration
/// lock (the one sqlx takes). With `dry_run`, takes the lock, reports what
/// would run and runs nothing. Returns the steps applied (or, dry, pending).
pub async fn run(
    conn: &mut PgConnection,
    migrator: &Migrator,
    options: &Options,
    dry_run: bool,
    mut on: impl FnMut(Event),
) -> Result<Vec<Step>, Failure> {
    let database: String = sqlx::query_scalar("SELECT current_database()").fetch_one(&mut *conn).await?;
    let lock = lock_id(&database);
    // Polled, not waited for in one statement: a session blocked in
    // pg_advisory_lock is a transaction in progress, which the other run's
    // CREATE INDEX CONCURRENTLY waits for while holding the lock (a deadlock).
    let mut waited = false;
    while !sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)")
        .bind(lock)
        .fetch_one(&mut *conn)
        .await?
    {
        if !waited {
            on(Event::Waiting(&database));
            waited = true;
        }
        tokio::time::sleep(LOCK_POLL).await;
    }
    let result = run_locked(conn, migrator, options, dry_run, &mut on).await;
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)").bind(lock).execute(&mut *conn).await;
    let applied = result?;
    unlocked?;
    Ok(applied)
}

async fn run_locked(
    conn: &mut PgConnection,
    migrator: &Migrator,
    options: &Options,
    dry_run: bool,
    on: &mut impl FnMut(Event),
) -> Result<Vec<Step>, Failure> {
    // Read under the lock: a run that waited sees what the other one applied.
    // A dry run writes nothing, not even sqlx's table.
    if !dry_run {
        conn.ensure_migrations_table().await?;
    }
    let status = status(conn, migrator).await?;
    if !status.problems.is_empty() {
        return Err(Failure::Refused(status.problems));
    }
    if dry_run {
        return Ok(status.pending);
    }
    let timeout = format!("SET lock_timeout = '{}'", options.lock_timeout.replace('\'', "''"));
    sqlx::raw_sql(&timeout).execute(&mut *conn).await?;
    let mut applied = Vec::new();
    for step in status.pending {
        let migration = ups(migrator)
            .find(|m| m.version == step.version)
            .expect("pending comes from the files");
        on(Event::Applying(&step));
        let start = Instant::now();
        let mut tries = 1;
        loop {
            match conn.apply(migration).await {
                Ok(_) => break,
                Err(error) => {
                    let waited = waited_for_lock(&error);
                    let message = match &error {
                        MigrateError::ExecuteMigration(e, _) | MigrateError::Execute(e) => match e.as_database_error() {
                            Some(db) => db.message().to_string(),
                            None => e.to_string(),
                        },
                        other => other.to_string(),
                    };
                    if migration.no_tx {
                        drop_invalid_index(conn, &migration.sql).await?;
                    }
                    if !waited || tries > options.retries {
                        let holders = if waited {
                            lock_holders(conn).await.unwrap_or_default()
                        } else {
                            Vec::new()
                        };
                        return Err(Failure::Failed {
                            step,
                            error: message,
                            tries,
                            lock_timeout: waited,
                            holders,
                        });
                    }
                    let wait = options.wait(tries);
                    on(Event::Retrying {
                        step: &step,
                        attempt: tries,
                        wait,
                        error: message,
                    });
                    tokio::time::sleep(wait).await;
                    tries += 1;
                }
            }
        }
        on(Event::Applied(&step, start.elapsed()));
        applied.push(step);
    }
    sqlx::raw_sql("RESET lock_timeout").execute(&mut *conn).await?;
    Ok(applied)
}

/// The advisory lock sqlx's migrator takes on the database: a key from the
/// database name (CRC-32 times a constant), so that concurrent `hubgen
/// migrate`, `sqlx migrate run` and `migrate()` wait for each other.
fn lock_id(database: &str) -> i64 {
    const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);
    0x3d32ad9e * i64::from(CRC.checksum(database.as_bytes()))
}

/// Whether a try failed waiting for a lock (`lock_timeout`) or lost a deadlock: worth a retry.
fn waited_for_lock(error: &MigrateError) -> bool {
    let (MigrateError::ExecuteMigration(e, _) | MigrateError::Execute(e)) = error else {
        return false;
    };
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| code == "55P03" || code == "40P01")
}

/// A failed `CREATE INDEX CONCURRENTLY` leaves an invalid index behind; it
/// is dropped so the file can run again.
async fn drop_invalid_index(conn: &mut PgConnection, sql: &str) -> Result<(), sqlx::Error> {
    let Some(name) = concurrent_index_name(sql) else { return Ok(()) };
    let invalid: Option<String> = sqlx::query_scalar(
        "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = $1 AND NOT i.indisvalid",
    )
    .bind(name)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(index) = invalid {
        sqlx::raw_sql(&format!("DROP INDEX CONCURRENTLY IF EXISTS {index}"))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The index a generated `CREATE [UNIQUE] INDEX CONCURRENTLY "name" ON ...` makes.
fn concurrent_index_name(sql: &str) -> Option<String> {
    let rest = &sql[sql.find("INDEX CONCURRENTLY ")? + "INDEX CONCURRENTLY ".len()..];
    let rest = rest.strip_prefix("IF NOT EXISTS ").unwrap_or(rest).strip_prefix('"')?;
    let mut name = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if chars.peek() == Some(&'"') => {
                chars.next();
                name.push('"');
            }
            '"' => return Some(name),
            c => name.push(c),
        }
    }
    None
}

/// Other sessions holding locks on relations of this database, to name in the error.
async fn lock_holders(conn: &mut PgConnection) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT format('pid %s holds %s on %s (%s: %s)', a.pid, l.mode, l.relation::regclass, a.state, \
         left(regexp_replace(a.query, '\\s+', ' ', 'g'), 80)) \
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.granted AND l.locktype = 'relation' AND l.pid <> pg_backend_pid() \
         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         AND l.relation >= 16384 ORDER BY a.pid, 1 LIMIT 5",
    )
    .fetch_all(&mut *conn)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_concurrent_index_a_file_makes() {
        let sql = "-- no-transaction\n-- header\n\nCREATE INDEX CONCURRENTLY \"idx_a\"\"b\" ON \"public\".\"t\" (\"x\");\n";
        assert_eq!(concurrent_index_name(sql).as_deref(), Some("idx_a\"b"));
        let unique = "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \"u\" ON \"s\".\"t\" (\"x\");";
        assert_eq!(concurrent_index_name(unique).as_deref(), Some("u"));
        assert_eq!(concurrent_index_name("ALTER TABLE t ADD COLUMN x int;"), None);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let options = Options {
            retries: 10,
            backoff: Duration::from_millis(500),
            lock_timeout: "5s".into(),
        };
        let waits: Vec<_> = (1..=8).map(|a| options.wait(a).as_millis()).collect();
        assert_eq!(waits, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    }
}
