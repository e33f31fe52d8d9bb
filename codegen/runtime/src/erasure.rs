//! Erasing a data subject (GDPR's right to be forgotten): each hub crate's
//! `erase_subject` runs its hub's erase function and returns what changed.
//!
//! The function (`hubgen.erase_<hub>_subject`) is generated from the
//! schema's `on erase` rules and runs in one statement, so a hub is erased
//! entirely or not at all. It belongs to the hub's erasure role, which may
//! read every tenant's rows: connect as a member of `<hub>_erasure`. Erase
//! a person from every hub; each call is idempotent, so a run that failed
//! half-way is finished by running it again.

use crate::{BoxFuture, Error};
use sqlx::postgres::{PgArguments, PgConnection};

/// What one erasure changed in one hub, step by step.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    pub steps: Vec<Step>,
}

/// One step of the hub's erase function.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Step {
    /// `schema.table`.
    pub table: String,
    pub action: Action,
    /// Rows this run changed (0 when they were erased before).
    pub rows: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Deleted,
    /// Kept, with their personal values replaced (`anonymize`, and `keep` rows).
    Anonymized,
}

impl Report {
    /// Rows deleted, all tables.
    pub fn deleted(&self) -> u64 {
        self.count(Action::Deleted)
    }

    /// Rows anonymized, all tables.
    pub fn anonymized(&self) -> u64 {
        self.count(Action::Anonymized)
    }

    /// Whether this run changed nothing (the subject was erased before, or never had data here).
    pub fn is_empty(&self) -> bool {
        self.steps.iter().all(|s| s.rows == 0)
    }

    fn count(&self, action: Action) -> u64 {
        self.steps.iter().filter(|s| s.action == action).map(|s| s.rows).sum()
    }
}

/// Runs an erase function (`sql` selects its rows, the subject's key bound as `$1`).
pub fn erase<'a, K>(conn: &'a mut PgConnection, sql: &'static str, subject: K) -> BoxFuture<'a, Result<Report, Error>>
where
    K: for<'q> sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send,
{
    let mut args = crate::repo::Args::default();
    args.add(subject);
    run(conn, sql, args.finish())
}

// Not generic: the statement's futures are compiled here, once.
#[inline(never)]
fn run<'a>(conn: &'a mut PgConnection, sql: &'static str, args: Result<PgArguments, Error>) -> BoxFuture<'a, Result<Report, Error>> {
    Box::pin(run_erase(conn, sql, args))
}

async fn run_erase(conn: &mut PgConnection, sql: &'static str, args: Result<PgArguments, Error>) -> Result<Report, Error> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as_with(sql, args?).fetch_all(conn).await?;
    let steps = rows
        .into_iter()
        .map(|(table, action, rows)| Step {
            table,
            action: if action == "deleted" { Action::Deleted } else { Action::Anonymized },
            rows: u64::try_from(rows).unwrap_or_default(),
        })
        .collect();
    Ok(Report { steps })
}
