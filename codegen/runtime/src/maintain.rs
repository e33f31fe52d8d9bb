//! Data lifecycle upkeep (`hubgen maintain`, and every hub crate's `maintain`).
//!
//! For each table pg_partman keeps (its `part_config`, written by the
//! migration that added the upkeep), one run:
//!
//! 1. makes the partitions from the current one to `premake` ahead of `now`,
//!    moves rows that landed in the default partition into partitions of
//!    their own, and gives every partition the parent's security
//!    (`hubgen.secure_partitions`);
//! 2. detaches the partitions past retention (pg_partman's own rule: a
//!    partition retires once its upper bound is older than the retention);
//! 3. archives each retired partition: `COPY … TO STDOUT` into an
//!    [`ArchiveSink`], reads the archive back to count its rows, and drops the
//!    table only when the count matches.
//!
//! Then rows of unpartitioned tables past their retention are deleted in
//! bounded batches. Each step commits on its own and every step can be
//! repeated, so a run killed anywhere loses nothing and the next run picks up
//! what is left without archiving a row twice (an archive is replaced whole,
//! never appended to).
//!
//! `now` is a parameter so that tests, and catch-up runs, can move the clock.
//! Run it as a role that bypasses row-level security (the migration role or a
//! superuser): with `row_security = off`, PostgreSQL refuses rather than
//! silently skipping rows it would hide.

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use sqlx::{Connection, PgConnection, Row};
use std::io::{self, Read, Write};
use std::path::PathBuf;

/// `retain 30 days by created_at` on an unpartitioned table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowRetention<'a> {
    /// `"schema"."table"`, quoted.
    pub table: &'a str,
    /// The time column, quoted.
    pub column: &'a str,
    /// A PostgreSQL interval: `30 days`.
    pub keep: &'a str,
}

/// What one run does besides `now`.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    pub now: DateTime<Utc>,
    /// Unpartitioned tables whose old rows are deleted.
    pub retention: &'a [RowRetention<'a>],
    /// Rows deleted per statement (and per transaction).
    pub batch: i64,
}

impl<'a> Options<'a> {
    pub fn new(now: DateTime<Utc>, retention: &'a [RowRetention<'a>]) -> Self {
        Options {
            now,
            retention,
            batch: 10_000,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Tables pg_partman keeps.
    pub tables: usize,
    /// Partitions made ahead.
    pub created: usize,
    /// Partitions detached past retention (archived, or dropped without `archive`).
    pub retired: usize,
    /// Retired partitions archived and dropped, with their row counts.
    pub archived: Vec<(String, u64)>,
    /// Rows of unpartitioned tables deleted past retention.
    pub deleted_rows: u64,
}

/// Where retired partitions go. An archive is keyed by the partition's
/// qualified name; writing one again replaces it whole.
pub trait ArchiveSink {
    /// Starts the archive `key`; nothing is visible under `key` until [`ArchiveWriter::commit`].
    fn begin(&self, key: &str) -> io::Result<Box<dyn ArchiveWriter>>;
    /// Data rows of the complete archive `key` (read back, not remembered), or
    /// `None` when there is none.
    fn rows(&self, key: &str) -> io::Result<Option<u64>>;
}

/// An archive being written: CSV with a header line, as COPY produces it.
pub trait ArchiveWriter: Write {
    /// Makes the archive durable and visible under its key, replacing any other.
    fn commit(self: Box<Self>) -> io::Result<()>;
}

/// The default sink: one gzip-compressed CSV per partition, `<dir>/<key>.csv.gz`,
/// written beside it first and renamed into place once complete.
#[derive(Debug, Clone)]
pub struct DirectorySink {
    dir: PathBuf,
}

impl DirectorySink {
    pub fn new(dir: impl Into<PathBuf>) -> io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(DirectorySink { dir })
    }

    pub fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{}.csv.gz", key.replace(['/', '\\', '"'], "")))
    }
}

struct GzipFile {
    encoder: flate2::write::GzEncoder<std::fs::File>,
    partial: PathBuf,
    target: PathBuf,
}

impl Write for GzipFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.encoder.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.encoder.flush()
    }
}

impl ArchiveWriter for GzipFile {
    fn commit(self: Box<Self>) -> io::Result<()> {
        let file = self.encoder.finish()?;
        file.sync_all()?;
        std::fs::rename(&self.partial, &self.target)?;
        // The rename itself is durable once the directory is.
        if let Some(dir) = self.target.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

impl ArchiveSink for DirectorySink {
    fn begin(&self, key: &str) -> io::Result<Box<dyn ArchiveWriter>> {
        let target = self.path(key);
        let partial = target.with_extension("gz.partial");
        let file = std::fs::File::create(&partial)?;
        Ok(Box::new(GzipFile {
            encoder: flate2::write::GzEncoder::new(file, flate2::Compression::default()),
            partial,
            target,
        }))
    }

    fn rows(&self, key: &str) -> io::Result<Option<u64>> {
        let path = self.path(key);
        if !path.exists() {
            return Ok(None);
        }
        count_csv_rows(flate2::read::GzDecoder::new(std::fs::File::open(&path)?)).map(Some)
    }
}

/// Data rows of CSV with a header line: line ends outside quotes, less one.
/// (A quoted field may hold line breaks, so lines are not rows.)
pub fn count_csv_rows(mut reader: impl Read) -> io::Result<u64> {
    let mut buf = [0u8; 64 * 1024];
    let (mut records, mut quoted, mut pending) = (0u64, false, false);
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        for &b in &buf[..n] {
            match b {
                b'"' => quoted = !quoted,
                b'\n' if !quoted => {
                    records += 1;
                    pending = false;
                    continue;
                }
                _ => {}
            }
            pending = true;
        }
    }
    records += u64::from(pending);
    Ok(records.saturating_sub(1))
}

/// Why a run stopped. Whatever finished before stays finished.
#[derive(Debug)]
pub enum Error {
    Database(sqlx::Error),
    /// The sink could not write or read the archive of `table`.
    Archive {
        table: String,
        source: io::Error,
    },
    /// The archive read back does not hold the partition's rows: it is kept
    /// for inspection and the partition is not dropped.
    Mismatch {
        table: String,
        rows: u64,
        archived: Option<u64>,
    },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Database(e) => write!(f, "maintenance: {e}"),
            Error::Archive { table, source } => write!(f, "archiving {table}: {source}"),
            Error::Mismatch { table, rows, archived } => write!(
                f,
                "archive of {table} holds {} rows, the table {rows}: the table is kept",
                archived.map_or("no".to_string(), |n| n.to_string())
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Database(e) => Some(e),
            Error::Archive { source, .. } => Some(source),
            Error::Mismatch { .. } => None,
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Database(e)
    }
}

/// One table pg_partman keeps, as its configuration says.
struct Kept {
    parent: String,
    archive: bool,
    retain: bool,
}

/// One maintenance run; see the module documentation.
#[inline(never)]
pub fn run<'a>(
    conn: &'a mut PgConnection,
    options: &'a Options<'_>,
    sink: &'a dyn ArchiveSink,
) -> crate::LocalBoxFuture<'a, Result<Report, Error>> {
    Box::pin(run_all(conn, options, sink))
}

async fn run_all(conn: &mut PgConnection, options: &Options<'_>, sink: &dyn ArchiveSink) -> Result<Report, Error> {
    let mut report = Report::default();
    let installed: bool = sqlx::query_scalar("SELECT to_regclass('partman.part_config') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await?;
    let kept: Vec<Kept> = if installed {
        sqlx::query("SELECT parent_table, retention_keep_table, retention IS NOT NULL FROM partman.part_config ORDER BY 1")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| Kept {
                parent: r.get(0),
                archive: r.get(1),
                retain: r.get(2),
            })
            .collect()
    } else {
        Vec::new()
    };
    report.tables = kept.len();
    for table in &kept {
        report.created += make_ahead(conn, &table.parent, options.now).await?;
        if table.retain {
            report.retired += retire(conn, &table.parent, options.now).await?;
        }
        if table.archive {
            for retired in retired_tables(conn, &table.parent).await? {
                let rows = archive(conn, &retired, sink).await?;
                report.archived.push((retired, rows));
            }
        }
    }
    for retention in options.retention {
        report.deleted_rows += delete_old_rows(conn, retention, options).await?;
    }
    Ok(report)
}

/// Partitions from the one holding `now` to `premake` ahead, made by
/// pg_partman (existing ones are skipped) and secured. Returns how many were new.
async fn make_ahead(conn: &mut PgConnection, parent: &str, now: DateTime<Utc>) -> Result<usize, Error> {
    let mut tx = conn.begin().await?;
    let before = partition_count(&mut tx, parent).await?;
    sqlx::query(
        "SELECT partman.create_partition_time(c.parent_table, ARRAY(\
           SELECT generate_series(date_trunc(CASE c.partition_interval::interval \
               WHEN '1 hour' THEN 'hour' WHEN '1 day' THEN 'day' WHEN '7 days' THEN 'week' \
               WHEN '3 months' THEN 'quarter' WHEN '1 year' THEN 'year' ELSE 'month' END, $2::timestamptz), \
             $2::timestamptz + c.partition_interval::interval * c.premake, c.partition_interval::interval)), false) \
         FROM partman.part_config c WHERE c.parent_table = $1",
    )
    .bind(parent)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    // Rows that arrived while their partition was missing wait in the
    // default partition; pg_partman moves them into partitions of their own.
    sqlx::query("SELECT partman.partition_data_time($1, p_batch_count := 10000, p_analyze := false)")
        .bind(parent)
        .execute(&mut *tx)
        .await?;
    sqlx::query("SELECT hubgen.secure_partitions($1::regclass)")
        .bind(parent)
        .execute(&mut *tx)
        .await?;
    let after = partition_count(&mut tx, parent).await?;
    tx.commit().await?;
    Ok(after.saturating_sub(before))
}

async fn partition_count(conn: &mut PgConnection, parent: &str) -> Result<usize, sqlx::Error> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_inherits WHERE inhparent = $1::regclass")
        .bind(parent)
        .fetch_one(conn)
        .await?;
    Ok(usize::try_from(n).unwrap_or_default())
}

/// pg_partman detaches (keeping the table, to archive) or drops the
/// partitions past retention, as configured, with `now` as its clock.
async fn retire(conn: &mut PgConnection, parent: &str, now: DateTime<Utc>) -> Result<usize, Error> {
    let mut tx = conn.begin().await?;
    let n: i32 = sqlx::query_scalar("SELECT partman.drop_partition_time($1, p_reference_timestamp := $2)")
        .bind(parent)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(usize::try_from(n).unwrap_or_default())
}

/// Tables pg_partman detached from `parent` and left to archive: named
/// `<parent>_p<suffix>` in its schema, no longer partitions. Oldest first.
async fn retired_tables(conn: &mut PgConnection, parent: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_class p ON p.oid = $1::regclass \
         WHERE c.relnamespace = p.relnamespace AND c.relkind = 'r' AND NOT c.relispartition \
           AND c.relname ~ ('^' || p.relname || '_p[0-9]') ORDER BY c.relname",
    )
    .bind(parent)
    .fetch_all(conn)
    .await
}

/// Archives one retired partition and drops it once the archive, read back,
/// holds all of its rows. An archive already complete (a run killed before
/// the drop) is not written again.
async fn archive(conn: &mut PgConnection, table: &str, sink: &dyn ArchiveSink) -> Result<u64, Error> {
    let failed = |source| Error::Archive {
        table: table.to_string(),
        source,
    };
    let key = table.replace('"', "");
    let mut tx = conn.begin().await?;
    sqlx::query("SET LOCAL row_security = off").execute(&mut *tx).await?;
    // No one writes a detached partition; the lock makes sure while it is copied.
    sqlx::query(&format!("LOCK TABLE {table} IN SHARE MODE")).execute(&mut *tx).await?;
    let rows: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&mut *tx)
        .await?;
    let rows = u64::try_from(rows).unwrap_or_default();
    if sink.rows(&key).map_err(failed)? != Some(rows) {
        let mut writer = sink.begin(&key).map_err(failed)?;
        let mut stream = tx
            .copy_out_raw(&format!("COPY {table} TO STDOUT WITH (FORMAT csv, HEADER)"))
            .await?;
        while let Some(chunk) = stream.try_next().await? {
            writer.write_all(&chunk).map_err(failed)?;
        }
        drop(stream);
        writer.commit().map_err(failed)?;
        let archived = sink.rows(&key).map_err(failed)?;
        if archived != Some(rows) {
            return Err(Error::Mismatch {
                table: table.to_string(),
                rows,
                archived,
            });
        }
    }
    sqlx::query(&format!("DROP TABLE {table}")).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(rows)
}

/// Deletes rows older than the retention, `batch` at a time, each batch
/// committed on its own so locks stay short.
async fn delete_old_rows(conn: &mut PgConnection, retention: &RowRetention<'_>, options: &Options<'_>) -> Result<u64, Error> {
    let RowRetention { table, column, keep } = retention;
    let sql = format!(
        "DELETE FROM {table} WHERE ctid = ANY(ARRAY(\
           SELECT ctid FROM {table} WHERE {column} < $1::timestamptz - $2::interval LIMIT $3))"
    );
    let mut deleted = 0;
    loop {
        let mut tx = conn.begin().await?;
        sqlx::query("SET LOCAL row_security = off").execute(&mut *tx).await?;
        let n = sqlx::query(&sql)
            .bind(options.now)
            .bind(*keep)
            .bind(options.batch)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        deleted += n;
        if n < u64::try_from(options.batch).unwrap_or(u64::MAX) {
            return Ok(deleted);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::count_csv_rows;

    #[test]
    fn csv_rows_are_records_not_lines() {
        let csv = b"id,content\n1,\"two\nlines\"\n2,\"a \"\"quote\"\"\"\n3,last";
        assert_eq!(count_csv_rows(&csv[..]).unwrap(), 3);
        assert_eq!(count_csv_rows(&b"id,content\n"[..]).unwrap(), 0);
        assert_eq!(count_csv_rows(&b""[..]).unwrap(), 0);
    }
}
