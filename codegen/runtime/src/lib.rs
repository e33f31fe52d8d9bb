//! The hand-written runtime every generated hub crate shares.
//!
//! - [`TenantTx`]: a transaction bound to one tenant. Tenant-scoped
//!   repositories accept nothing else, so forgetting the tenant does not compile.
//! - [`Page`] and [`PageRequest`]: keyset pagination.
//! - [`Error`]: unique, foreign-key and check violations as variants that name
//!   the constraint; `Conflict` for a stale optimistic-locking version.
//! - [`migrate`]: runs a hub's embedded migrations with sqlx's migrator.

use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use std::borrow::Cow;

pub use uuid::Uuid;

/// The PostgreSQL setting row-level security reads the tenant from.
pub const TENANT_SETTING: &str = "app.current_tenant_id";

/// A transaction that row-level security scopes to one tenant.
///
/// The tenant is set with `set_config(..., true)`: local to this
/// transaction, so a pooled connection never carries it into other work.
pub struct TenantTx<'c> {
    tx: Transaction<'c, Postgres>,
    tenant: Uuid,
}

/// What identifies a tenant: the tenant table's typed ID (generated crates
/// implement it for that type alone, so a `UserId` cannot begin a tenant's
/// transaction), or [`AnyTenant`] where the schema has no tenant table.
pub trait TenantKey: Into<Uuid> {}

/// A tenant given as a bare UUID: the explicit way in for schemas whose
/// tenant columns refer to no table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AnyTenant(pub Uuid);

impl From<AnyTenant> for Uuid {
    fn from(tenant: AnyTenant) -> Uuid {
        tenant.0
    }
}

impl TenantKey for AnyTenant {}

impl TenantTx<'static> {
    /// Begins a transaction on `pool` scoped to `tenant`.
    pub async fn begin(pool: &PgPool, tenant: impl TenantKey) -> Result<Self, Error> {
        let tx = pool.begin().await?;
        TenantTx::scope(tx, tenant).await
    }
}

impl<'c> TenantTx<'c> {
    /// Scopes an already open transaction to `tenant`.
    pub async fn scope(mut tx: Transaction<'c, Postgres>, tenant: impl TenantKey) -> Result<Self, Error> {
        let tenant: Uuid = tenant.into();
        sqlx::query("SELECT set_config($1, $2, true)")
            .bind(TENANT_SETTING)
            .bind(tenant.to_string())
            .execute(&mut *tx)
            .await?;
        Ok(TenantTx { tx, tenant })
    }

    pub fn tenant(&self) -> Uuid {
        self.tenant
    }

    /// The connection, for queries of your own inside the tenant's transaction.
    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    pub async fn commit(self) -> Result<(), Error> {
        Ok(self.tx.commit().await?)
    }

    pub async fn rollback(self) -> Result<(), Error> {
        Ok(self.tx.rollback().await?)
    }
}

/// Which page of a keyset-paginated list to read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PageRequest<K> {
    /// The cursor of the previous page (`Page::next`), or `None` for the first page.
    pub after: Option<K>,
    pub limit: u32,
}

impl<K> PageRequest<K> {
    pub fn first(limit: u32) -> Self {
        PageRequest { after: None, limit }
    }

    pub fn after(cursor: K, limit: u32) -> Self {
        PageRequest {
            after: Some(cursor),
            limit,
        }
    }

    /// The limit PostgreSQL sees: at least 1, at most 10,000.
    pub fn sql_limit(&self) -> i64 {
        i64::from(self.limit.clamp(1, 10_000))
    }
}

/// A page of rows and the cursor of the next one (`None` on the last page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Page<T, K> {
    pub items: Vec<T>,
    pub next: Option<K>,
}

impl<T, K> Page<T, K> {
    /// Builds a page from rows fetched with `LIMIT limit`: full pages have a next cursor.
    pub fn from_rows(items: Vec<T>, limit: i64, cursor: impl Fn(&T) -> K) -> Self {
        let next = if items.len() as i64 >= limit {
            items.last().map(cursor)
        } else {
            None
        };
        Page { items, next }
    }
}

/// One field that failed client-side validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Violation {
    pub field: &'static str,
    pub message: String,
}

/// What a repository call can fail with.
#[derive(Debug)]
pub enum Error {
    /// No row has that key (or it is soft-deleted).
    NotFound,
    /// Optimistic locking: the row changed since the version the caller read.
    Conflict {
        table: &'static str,
    },
    UniqueViolation {
        constraint: String,
    },
    ForeignKeyViolation {
        constraint: String,
    },
    CheckViolation {
        constraint: String,
    },
    /// Row-level security or a missing grant refused the statement.
    Forbidden {
        message: String,
    },
    /// Client-side validation failed; nothing was sent.
    Invalid(Vec<Violation>),
    Database(sqlx::Error),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::NotFound => write!(f, "no such row"),
            Error::Conflict { table } => write!(f, "{table}: the row was changed by someone else (version conflict)"),
            Error::UniqueViolation { constraint } => write!(f, "unique constraint {constraint} violated"),
            Error::ForeignKeyViolation { constraint } => write!(f, "foreign key {constraint} violated"),
            Error::CheckViolation { constraint } => write!(f, "check constraint {constraint} violated"),
            Error::Forbidden { message } => write!(f, "forbidden: {message}"),
            Error::Invalid(violations) => {
                let list: Vec<String> = violations.iter().map(|v| format!("{}: {}", v.field, v.message)).collect();
                write!(f, "invalid: {}", list.join("; "))
            }
            Error::Database(e) => write!(f, "database error: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Database(e) => Some(e),
            _ => None,
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &error {
            let constraint = db.constraint().unwrap_or_default().to_string();
            match db.code().as_deref() {
                Some("23505") => return Error::UniqueViolation { constraint },
                Some("23503") => return Error::ForeignKeyViolation { constraint },
                Some("23514") => return Error::CheckViolation { constraint },
                Some("42501") => {
                    return Error::Forbidden {
                        message: db.message().to_string(),
                    }
                }
                _ => {}
            }
        }
        Error::Database(error)
    }
}

/// One embedded migration: version, description, SQL.
pub type EmbeddedMigration = (i64, &'static str, &'static str);

/// Runs embedded migrations with sqlx's migrator: the same history table
/// and checksums as `sqlx migrate run` on the `migrations/<hub>/` folder.
pub async fn migrate(pool: &PgPool, migrations: &[EmbeddedMigration]) -> Result<(), sqlx::migrate::MigrateError> {
    let migrations: Vec<sqlx::migrate::Migration> = migrations
        .iter()
        .map(|(version, description, sql)| {
            sqlx::migrate::Migration::new(
                *version,
                Cow::Borrowed(*description),
                sqlx::migrate::MigrationType::Simple,
                Cow::Borrowed(*sql),
                // As sqlx does for files: this first line runs it outside a transaction.
                sql.starts_with("-- no-transaction"),
            )
        })
        .collect();
    let migrator = sqlx::migrate::Migrator {
        migrations: Cow::Owned(migrations),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    migrator.run(pool).await
}

/// Serde for a patch field of a nullable column (`Option<Option<T>>`): an
/// absent key leaves the column as it is (`None`), `null` sets it to NULL
/// (`Some(None)`), a value sets it (`Some(Some(v))`). Generated patches use it
/// with `skip_serializing_if = "Option::is_none"`, so a patch survives a JSON
/// round trip unchanged.
pub mod nullable_patch {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
    where
        T: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        // Called only when the key is present: `null` is then a value too.
        Option::<T>::deserialize(deserializer).map(Some)
    }
}

/// Client-side checks shared by generated `validate()` methods.
pub mod check {
    use super::Violation;

    pub fn max_chars(out: &mut Vec<Violation>, field: &'static str, value: &str, max: usize) {
        let n = value.chars().count();
        if n > max {
            out.push(Violation {
                field,
                message: format!("is {n} characters long; at most {max} allowed"),
            });
        }
    }

    pub fn one_of(out: &mut Vec<Violation>, field: &'static str, value: &str, allowed: &[&str]) {
        if !allowed.contains(&value) {
            out.push(Violation {
                field,
                message: format!("`{value}` is not one of {}", allowed.join(", ")),
            });
        }
    }

    /// [`one_of`] for a `@sensitive` field: the message does not repeat the value.
    pub fn one_of_redacted(out: &mut Vec<Violation>, field: &'static str, value: &str, allowed: &[&str]) {
        if !allowed.contains(&value) {
            out.push(Violation {
                field,
                message: format!("is not one of {}", allowed.join(", ")),
            });
        }
    }

    pub fn format(out: &mut Vec<Violation>, field: &'static str, value: &str, format: &str) {
        let ok = match format {
            "email" => value
                .split_once('@')
                .is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.') && !value.contains(char::is_whitespace)),
            "uuid" => uuid::Uuid::parse_str(value).is_ok(),
            "url" => value.starts_with("https://") || value.starts_with("http://"),
            "phone" => {
                let digits = value.chars().filter(char::is_ascii_digit).count();
                (6..=15).contains(&digits) && value.chars().all(|c| c.is_ascii_digit() || "+-() ".contains(c))
            }
            _ => true,
        };
        if !ok {
            out.push(Violation {
                field,
                message: format!("is not a valid {format}"),
            });
        }
    }
}

/// A throwaway database for tests of generated crates (feature `testing`).
#[cfg(feature = "testing")]
pub mod testing {
    use super::EmbeddedMigration;
    use sqlx::postgres::PgPoolOptions;
    use sqlx::{Connection, Executor, PgConnection, PgPool};

    /// `DATABASE_URL`, or the local PostgreSQL at 127.0.0.1:5432 as `postgres`.
    pub fn server_url() -> String {
        std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
    }

    /// The URL of `database` on the same server.
    pub fn url_for(database: &str) -> String {
        let server = server_url();
        match server.rfind('/') {
            Some(i) if !server[..i].ends_with('/') => format!("{}/{database}", &server[..i]),
            _ => format!("{server}/{database}"),
        }
    }

    /// A fresh database with a hub's migrations applied; dropped by [`TestDatabase::drop_db`].
    pub struct TestDatabase {
        pub name: String,
        pub pool: PgPool,
    }

    impl TestDatabase {
        /// Creates `hubgen_<name>` (dropping a leftover first) and migrates it.
        /// Every pooled connection first runs `session_setup` (e.g. `SET ROLE ...`).
        pub async fn create(
            name: &str,
            migrations: &[EmbeddedMigration],
            session_setup: &'static str,
            max_connections: u32,
        ) -> TestDatabase {
            let name = format!("hubgen_{name}");
            let mut admin = PgConnection::connect(&server_url())
                .await
                .expect("PostgreSQL reachable (set DATABASE_URL)");
            admin
                .execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str())
                .await
                .expect("drop leftover database");
            admin
                .execute(format!("CREATE DATABASE \"{name}\"").as_str())
                .await
                .expect("create database");
            let url = url_for(&name);
            let migrator_pool = PgPool::connect(&url).await.expect("connect");
            super::migrate(&migrator_pool, migrations).await.expect("migrations apply");
            migrator_pool.close().await;
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        if !session_setup.is_empty() {
                            conn.execute(session_setup).await?;
                        }
                        Ok(())
                    })
                })
                .connect(&url)
                .await
                .expect("pool");
            TestDatabase { name, pool }
        }

        pub async fn drop_db(self) {
            self.pool.close().await;
            let mut admin = PgConnection::connect(&server_url()).await.expect("PostgreSQL reachable");
            admin
                .execute(format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name).as_str())
                .await
                .expect("drop database");
        }
    }
}
