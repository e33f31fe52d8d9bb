//! The hand-written runtime every generated hub crate shares.
//!
//! - [`TenantTx`]: a transaction bound to one tenant. Tenant-scoped
//!   repositories accept nothing else, so forgetting the tenant does not compile.
//!   [`ActorTx`] acts for one user (owner-scoped tables); [`PlatformTx`] runs
//!   as the hub's platform role, which writes rows without a tenant or owner.
//! - [`Page`], [`PageRequest`] and [`Cursor`]: keyset pagination in any
//!   indexed order; [`Condition`]: `IN`, ranges and `IS NULL` in filters.
//! - [`Error`]: unique, foreign-key and check violations as variants that name
//!   the constraint; `Conflict` for a stale optimistic-locking version.
//! - [`migrate`]: runs a hub's embedded migrations with sqlx's migrator.
//! - [`table`]: the repository traits (`use hubgen_runtime::prelude::*` to
//!   call them); a generated repository implements them with its statements.
//!   [`repo`]: what every repository method runs, generic over the table's
//!   row, insert, patch and filter types.
//! - [`Id`]: the typed IDs (`UserId` is `Id<kind::User>`), one generic newtype.
//! - [`de`] and [`pg_enum`]: what generated structs and enums share instead
//!   of derives (less code in every hub crate).

use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use std::borrow::Cow;

pub use id::{ActorIdKind, Id, IdKind, TenantIdKind};
pub use uuid::Uuid;

// What a service needs besides the hub crates and an async runtime, at the
// versions the hub crates were built with (a newer major of sqlx or schemars
// in the service would not match the generated derives).
pub use futures_util::{StreamExt, TryStreamExt};
pub use {chrono, rust_decimal, schemars, serde, serde_json, sqlx, uuid};

/// What the runtime's entry points for generated non-generic code return
/// (`migrate`, `erase_subject`, `maintain`, ...): a future boxed where the
/// runtime defines it. Awaiting it, a hub crate compiles a call through a
/// pointer; awaiting the future itself, it would compile sqlx's pool and
/// executor code again, as release builds share no generic code across crates.
pub type BoxFuture<'a, T> = futures_util::future::BoxFuture<'a, T>;
/// [`BoxFuture`] for the entry points whose futures are not `Send`
/// (maintenance holds a `dyn ArchiveSink`; tenant schema upkeep).
pub type LocalBoxFuture<'a, T> = futures_util::future::LocalBoxFuture<'a, T>;

/// The PostgreSQL setting row-level security reads the tenant from.
pub const TENANT_SETTING: &str = "app.current_tenant_id";
/// The PostgreSQL setting row-level security reads the acting user from.
pub const OWNER_SETTING: &str = "app.current_user_id";

/// A transaction whose rows row-level security scopes: what repositories of
/// scoped tables run in. Settings are set with `set_config(..., true)`, local
/// to the transaction, so a pooled connection never carries them into other work.
pub trait Scope: Send {
    /// The connection, for queries of your own inside the transaction.
    fn conn(&mut self) -> &mut PgConnection;
    /// The tenant new rows get; `None` in a platform transaction (rows without a tenant).
    fn tenant_id(&self) -> Option<Uuid>;
}

/// Transactions a table with rows of no tenant (`tenant_or_global`, or a
/// nullable tenant column) accepts: a tenant's, or the platform's.
pub trait TenantOrPlatform: Scope {}

/// Transactions an owner-scoped table accepts: one acting for a user
/// ([`ActorTx`], or a [`TenantTx`] after [`TenantTx::act_as`]), or the platform's.
pub trait Acting: Scope {}

/// A transaction that row-level security scopes to one tenant (and, after
/// [`TenantTx::act_as`], to one acting user).
pub struct TenantTx<'c> {
    tx: Transaction<'c, Postgres>,
    tenant: Uuid,
    actor: Option<Uuid>,
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

/// What identifies the acting user: the typed ID of the table owner
/// columns refer to, or [`AnyActor`] where they refer to none.
pub trait ActorKey: Into<Uuid> {}

/// An acting user given as a bare UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AnyActor(pub Uuid);

impl From<AnyActor> for Uuid {
    fn from(actor: AnyActor) -> Uuid {
        actor.0
    }
}

impl ActorKey for AnyActor {}

async fn set_local(conn: &mut PgConnection, setting: &str, value: Uuid) -> Result<(), Error> {
    sqlx::query("SELECT set_config($1, $2, true)")
        .bind(setting)
        .bind(value.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

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
        set_local(&mut tx, TENANT_SETTING, tenant).await?;
        Ok(TenantTx { tx, tenant, actor: None })
    }

    /// From now on the transaction addresses `schema`, a tenant's copy of
    /// the hub's per-tenant template (`tenants::provision`): the template's
    /// tables resolve there (`search_path`, local to the transaction).
    pub async fn in_schema(mut self, schema: &str) -> Result<Self, Error> {
        tenants::enter_local(&mut self.tx, schema).await?;
        Ok(self)
    }

    /// From now on the transaction acts for `user`: owner-scoped tables
    /// show and take that user's rows (within this tenant where they are
    /// tenant-scoped too).
    pub async fn act_as(&mut self, user: impl ActorKey) -> Result<(), Error> {
        let user: Uuid = user.into();
        set_local(&mut self.tx, OWNER_SETTING, user).await?;
        self.actor = Some(user);
        Ok(())
    }

    pub fn tenant(&self) -> Uuid {
        self.tenant
    }

    /// The user this transaction acts for, if any.
    pub fn actor(&self) -> Option<Uuid> {
        self.actor
    }

    /// The connection, for queries of your own inside the tenant's transaction.
    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// A savepoint inside this transaction, scoped to the same tenant: if a
    /// statement in it fails, roll it back (or drop it) and this transaction
    /// goes on; `commit` releases it into this one.
    pub async fn savepoint(&mut self) -> Result<TenantTx<'_>, Error> {
        let tx = sqlx::Connection::begin(&mut *self.tx).await?;
        Ok(TenantTx {
            tx,
            tenant: self.tenant,
            actor: self.actor,
        })
    }

    pub async fn commit(self) -> Result<(), Error> {
        Ok(self.tx.commit().await?)
    }

    pub async fn rollback(self) -> Result<(), Error> {
        Ok(self.tx.rollback().await?)
    }
}

impl Scope for TenantTx<'_> {
    fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    fn tenant_id(&self) -> Option<Uuid> {
        Some(self.tenant)
    }
}

impl TenantOrPlatform for TenantTx<'_> {}

/// A plain connection: what repositories of tables without row-level
/// security take; rows get no tenant from it.
impl Scope for PgConnection {
    fn conn(&mut self) -> &mut PgConnection {
        self
    }

    fn tenant_id(&self) -> Option<Uuid> {
        None
    }
}

/// A transaction on a plain connection, as [`PgConnection`].
impl Scope for Transaction<'_, Postgres> {
    fn conn(&mut self) -> &mut PgConnection {
        self
    }

    fn tenant_id(&self) -> Option<Uuid> {
        None
    }
}

/// A pooled connection, as [`PgConnection`].
impl Scope for sqlx::pool::PoolConnection<Postgres> {
    fn conn(&mut self) -> &mut PgConnection {
        self
    }

    fn tenant_id(&self) -> Option<Uuid> {
        None
    }
}
impl Acting for TenantTx<'_> {}

/// A transaction acting for one user, outside any tenant: owner-scoped
/// tables show and take only that user's rows.
pub struct ActorTx<'c> {
    tx: Transaction<'c, Postgres>,
    actor: Uuid,
}

impl ActorTx<'static> {
    /// Begins a transaction on `pool` acting for `user`.
    pub async fn begin(pool: &PgPool, user: impl ActorKey) -> Result<Self, Error> {
        let mut tx = pool.begin().await?;
        let actor: Uuid = user.into();
        set_local(&mut tx, OWNER_SETTING, actor).await?;
        Ok(ActorTx { tx, actor })
    }
}

impl ActorTx<'_> {
    pub fn actor(&self) -> Uuid {
        self.actor
    }

    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// A savepoint acting for the same user.
    pub async fn savepoint(&mut self) -> Result<ActorTx<'_>, Error> {
        let tx = sqlx::Connection::begin(&mut *self.tx).await?;
        Ok(ActorTx { tx, actor: self.actor })
    }

    pub async fn commit(self) -> Result<(), Error> {
        Ok(self.tx.commit().await?)
    }

    pub async fn rollback(self) -> Result<(), Error> {
        Ok(self.tx.rollback().await?)
    }
}

impl Scope for ActorTx<'_> {
    fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    fn tenant_id(&self) -> Option<Uuid> {
        None
    }
}

impl Acting for ActorTx<'_> {}

/// A transaction run as a declared role (`SET LOCAL ROLE`): the hub's
/// platform role, which writes the rows without a tenant or owner, or a role
/// that bypasses row-level security. The login role must be a member of it;
/// merely being a member grants nothing until a platform transaction begins.
pub struct PlatformTx<'c> {
    tx: Transaction<'c, Postgres>,
}

impl PlatformTx<'static> {
    /// Begins a transaction on `pool` as `role` (the generated crate's
    /// `PLATFORM_ROLE`, or another role the hub declares).
    pub async fn begin(pool: &PgPool, role: &str) -> Result<Self, Error> {
        let mut tx = pool.begin().await?;
        // `set_config('role', ...)` is `SET LOCAL ROLE` with the name bound, not spliced.
        sqlx::query("SELECT set_config('role', $1, true)")
            .bind(role)
            .execute(&mut *tx)
            .await?;
        Ok(PlatformTx { tx })
    }
}

impl PlatformTx<'_> {
    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// A savepoint in the platform's transaction.
    pub async fn savepoint(&mut self) -> Result<PlatformTx<'_>, Error> {
        let tx = sqlx::Connection::begin(&mut *self.tx).await?;
        Ok(PlatformTx { tx })
    }

    pub async fn commit(self) -> Result<(), Error> {
        Ok(self.tx.commit().await?)
    }

    pub async fn rollback(self) -> Result<(), Error> {
        Ok(self.tx.rollback().await?)
    }
}

impl Scope for PlatformTx<'_> {
    fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    fn tenant_id(&self) -> Option<Uuid> {
        None
    }
}

impl TenantOrPlatform for PlatformTx<'_> {}
impl Acting for PlatformTx<'_> {}

/// Where the next page of a list starts. Opaque to callers: it holds the
/// order it was made for and the last row's sort value and key, as JSON the
/// list query reads back with PostgreSQL's own casts, so one cursor type
/// serves every ordering, and a cursor of another order is refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct Cursor(String);

impl Cursor {
    /// The cursor of a row in `order`, from its sort value and key columns.
    pub fn of(order: &str, values: &impl Serialize) -> Cursor {
        // Serializing plain values (strings, numbers, ids, times) cannot fail.
        Cursor(serde_json::to_string(&(order, values)).unwrap_or_default())
    }

    /// The order the cursor was made for, if it is a cursor at all.
    fn order(&self) -> Option<String> {
        serde_json::from_str::<(String, serde_json::Value)>(&self.0)
            .ok()
            .map(|(order, _)| order)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for Cursor {
    /// A cursor as a client sent it back (one that does not parse makes the list fail, not skip).
    fn from(text: String) -> Cursor {
        Cursor(text)
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Sort direction of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    #[default]
    Asc,
    Desc,
}

/// Which page of a list to read, in which order: `S` is the table's sort
/// enum (its indexed columns; the primary key by default). Ties are broken
/// by the primary key, so every order is total and pages never overlap.
///
/// ```
/// # #[derive(Default, Debug, Clone, Copy, PartialEq)] enum Sort { #[default] Id, CreatedAt }
/// use hubgen_runtime::{Direction, PageRequest};
/// let first = PageRequest::first(50).by(Sort::CreatedAt).desc();
/// assert_eq!((first.sort, first.direction, first.limit), (Sort::CreatedAt, Direction::Desc, 50));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(bound = "S: schemars::JsonSchema + Default + Serialize")]
pub struct PageRequest<S> {
    #[serde(default)]
    pub sort: S,
    #[serde(default)]
    pub direction: Direction,
    /// The previous page's `next`, or `None` for the first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Cursor>,
    pub limit: u32,
}

impl<S: Default> PageRequest<S> {
    /// The first page, in primary-key order.
    pub fn first(limit: u32) -> Self {
        PageRequest {
            sort: S::default(),
            direction: Direction::Asc,
            after: None,
            limit,
        }
    }
}

impl<S> PageRequest<S> {
    /// Ordered by `sort`, ascending.
    pub fn by(self, sort: S) -> Self {
        PageRequest {
            sort,
            direction: Direction::Asc,
            ..self
        }
    }

    pub fn desc(self) -> Self {
        PageRequest {
            direction: Direction::Desc,
            ..self
        }
    }

    /// The page after `cursor`, in the same order.
    pub fn after(self, cursor: Cursor) -> Self {
        PageRequest {
            after: Some(cursor),
            ..self
        }
    }

    /// The cursor as the list query in `order` binds it: refused when it was
    /// made for another order or is no cursor at all.
    pub fn cursor_for(&self, order: &str) -> Result<Option<&str>, Error> {
        let Some(cursor) = &self.after else {
            return Ok(None);
        };
        match cursor.order() {
            Some(made_for) if made_for == order => Ok(Some(cursor.as_str())),
            made_for => Err(Error::Invalid(vec![Violation::new(
                "after",
                match made_for {
                    Some(other) => format!("the cursor is for the order `{other}`, not `{order}`: keep the order while paging"),
                    None => "is not a cursor this list returned".to_string(),
                },
            )])),
        }
    }

    pub fn is_desc(&self) -> bool {
        self.direction == Direction::Desc
    }

    /// The limit PostgreSQL sees: at least 1, at most 10,000.
    pub fn sql_limit(&self) -> i64 {
        i64::from(self.limit.clamp(1, 10_000))
    }
}

/// A page of rows and the cursor of the next one (`None` on the last page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// Builds a page from rows fetched with `LIMIT limit`: full pages have a next cursor.
    pub fn from_rows(items: Vec<T>, limit: i64, cursor: impl Fn(&T) -> Cursor) -> Self {
        let next = if items.len() as i64 >= limit {
            items.last().map(cursor)
        } else {
            None
        };
        Page { items, next }
    }
}

/// A condition on one column of a filter; the default matches every row.
/// (Absent parts deserialize as `None`: serde does that for `Option` fields
/// without `default`, which would otherwise demand `T: Default`.)
/// Its parts combine with AND: `any_of` is SQL's `IN`, `at_least` and
/// `below` a half-open range, `is_null` tests for NULL.
///
/// ```
/// use hubgen_runtime::Condition;
/// let active: Condition<String> = "ACTIVE".to_string().into();
/// assert_eq!(active, Condition::any_of(["ACTIVE".to_string()]));
/// assert!(Condition::<i32>::default().matches_all());
/// assert!(!Condition::between(1, 10).matches_all());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Condition<T> {
    /// Equal to one of these.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub any_of: Option<Vec<T>>,
    /// At least this (inclusive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_least: Option<T>,
    /// Below this (exclusive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub below: Option<T>,
    /// `true`: only NULL; `false`: only values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_null: Option<bool>,
}

impl<T> Default for Condition<T> {
    fn default() -> Self {
        Condition {
            any_of: None,
            at_least: None,
            below: None,
            is_null: None,
        }
    }
}

impl<T> From<T> for Condition<T> {
    /// Equal to `value`.
    fn from(value: T) -> Self {
        Condition::equals(value)
    }
}

impl<T> Condition<T> {
    pub fn equals(value: T) -> Self {
        Condition::any_of([value])
    }

    /// SQL's `IN`: equal to one of `values` (none matches no row).
    pub fn any_of(values: impl IntoIterator<Item = T>) -> Self {
        Condition {
            any_of: Some(values.into_iter().collect()),
            ..Condition::default()
        }
    }

    pub fn at_least(value: T) -> Self {
        Condition {
            at_least: Some(value),
            ..Condition::default()
        }
    }

    pub fn below(value: T) -> Self {
        Condition {
            below: Some(value),
            ..Condition::default()
        }
    }

    /// `from <= value < below`.
    pub fn between(from: T, below: T) -> Self {
        Condition {
            at_least: Some(from),
            below: Some(below),
            ..Condition::default()
        }
    }

    pub fn is_null() -> Self {
        Condition {
            is_null: Some(true),
            ..Condition::default()
        }
    }

    pub fn not_null() -> Self {
        Condition {
            is_null: Some(false),
            ..Condition::default()
        }
    }

    /// Whether it leaves every row in.
    pub fn matches_all(&self) -> bool {
        self.any_of.is_none() && self.at_least.is_none() && self.below.is_none() && self.is_null.is_none()
    }
}

/// Rows read one at a time (a streaming read for large scans).
pub type RowStream<'a, T> = futures_util::stream::BoxStream<'a, Result<T, Error>>;

/// A sqlx row stream with this crate's errors.
pub fn row_stream<'a, T: Send + 'a>(rows: futures_util::stream::BoxStream<'a, Result<T, sqlx::Error>>) -> RowStream<'a, T> {
    use futures_util::StreamExt;
    rows.map(|row| row.map_err(Error::from)).boxed()
}

/// One field that failed client-side validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Violation {
    /// The row's index, when a batch (`insert_many`) was checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    pub field: &'static str,
    pub message: String,
}

impl Violation {
    pub fn new(field: &'static str, message: String) -> Violation {
        Violation { row: None, field, message }
    }

    /// The violations of each row of a batch, each naming its row's index.
    pub fn of_rows<'r, R: 'r>(
        rows: impl IntoIterator<Item = &'r R>,
        validate: impl Fn(&R) -> Result<(), Vec<Violation>>,
    ) -> Result<(), Vec<Violation>> {
        let violations: Vec<Violation> = rows
            .into_iter()
            .enumerate()
            .filter_map(|(i, row)| validate(row).err().map(|v| (i, v)))
            .flat_map(|(i, v)| v.into_iter().map(move |v| Violation { row: Some(i), ..v }))
            .collect();
        if violations.is_empty() {
            Ok(())
        } else {
            Err(violations)
        }
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(row) = self.row {
            write!(f, "row {row}: ")?;
        }
        write!(f, "{}: {}", self.field, self.message)
    }
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
    /// The database refused row `row` of a batch (`error` says why); nothing of the batch was inserted.
    InRow {
        row: usize,
        error: Box<Error>,
    },
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
                let list: Vec<String> = violations.iter().map(Violation::to_string).collect();
                write!(f, "invalid: {}", list.join("; "))
            }
            Error::InRow { row, error } => write!(f, "row {row}: {error}"),
            Error::Database(e) => write!(f, "database error: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Database(e) => Some(e),
            Error::InRow { error, .. } => Some(error.as_ref()),
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
#[inline(never)]
pub fn migrate<'a>(pool: &'a PgPool, migrations: &'a [EmbeddedMigration]) -> BoxFuture<'a, Result<(), sqlx::migrate::MigrateError>> {
    Box::pin(run_migrations(pool, migrations))
}

async fn run_migrations(pool: &PgPool, migrations: &[EmbeddedMigration]) -> Result<(), sqlx::migrate::MigrateError> {
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

#[cfg(feature = "encryption")]
pub mod crypto;
pub mod de;
pub mod erasure;
pub mod id;
pub mod maintain;
pub mod pg_enum;
pub mod repo;
pub mod ser;
pub mod table;
pub mod tenants;

/// What a service imports to call repositories: the [`table`] traits, whose
/// methods (`get`, `list`, `insert`, `update`, ...) every repository has.
pub mod prelude {
    pub use crate::table::{SoftDelete as _, Table as _, Update as _, Write as _};
}

/// Bulk insert through `COPY ... FROM STDIN (FORMAT binary)`: values are
/// encoded by sqlx's own binary encoders, so a row lands exactly as the
/// UNNEST insert would store it. Columns an insert struct leaves `None` take
/// their database default, as with `insert`: rows are sent in groups that
/// leave the same columns out (usually one group).
///
/// PostgreSQL refuses `COPY FROM` into a table whose row-level security
/// applies to the current role, so for those the rows are copied into a
/// temporary table shaped like it (defaults included, no policies, no
/// indexes) and moved with one `INSERT ... SELECT`, which the policies check
/// as any insert. Where the policies do not apply to the role (its owner
/// without FORCE, a `BYPASSRLS` role such as a hub's sign-up role), the rows
/// go straight in: the staging copy would only add a second insert.
pub mod copy {
    use super::repo::{Param, Sink};
    use super::Error;
    use sqlx::encode::{Encode, IsNull};
    use sqlx::postgres::{PgArgumentBuffer, PgConnection, Postgres};
    use uuid::Uuid;

    /// Where a table's rows go by COPY: its repository's `Write::COPY`,
    /// where every column has a binary format sqlx writes.
    pub struct CopyTarget {
        /// The quoted table name.
        pub table: &'static str,
        /// The quoted columns the insert struct holds, in the order it binds them.
        pub columns: &'static [&'static str],
        /// The unquoted table name, for the staging table under row-level security.
        pub staging: &'static str,
        /// Whether the table is under row-level security (COPY goes through staging).
        pub row_security: bool,
    }

    /// Where a row's fields go on their way to COPY, through the same
    /// `bind` as `insert` (so both send the same): first to find the columns
    /// the row leaves to their defaults (without a writer), then into the
    /// stream, but those columns.
    pub struct CopySink<'w> {
        writer: Option<&'w mut CopyWriter>,
        /// Bit `i` set: column `i` is left to its default.
        defaulted: u64,
        column: u32,
        error: Option<Error>,
    }

    impl CopySink<'_> {
        /// The writer, if the next column is to be written.
        fn next(&mut self, left_to_default: bool) -> Option<&mut CopyWriter> {
            let column = self.column;
            self.column += 1;
            match &mut self.writer {
                None => {
                    self.defaulted |= u64::from(left_to_default) << column;
                    None
                }
                Some(writer) => (self.defaulted & (1 << column) == 0 && self.error.is_none()).then_some(&mut **writer),
            }
        }

        fn written(&mut self, result: Option<Result<(), Error>>) {
            if let Some(Err(error)) = result {
                self.error = Some(error);
            }
        }
    }

    impl Sink for CopySink<'_> {
        fn value<'q, T: Param<'q>>(&mut self, value: &'q T) {
            let result = self.next(false).map(|writer| writer.field(value));
            self.written(result);
        }
        fn or_default<'q, T: Param<'q>>(&mut self, value: &'q Option<T>) {
            let result = self.next(value.is_none()).map(|writer| writer.field(value));
            self.written(result);
        }
        fn json(&mut self, value: Option<&serde_json::Value>, or_default: bool) {
            let result = self.next(or_default && value.is_none()).map(|writer| writer.json(value));
            self.written(result);
        }
    }

    /// A row's fields, as its insert struct sends them.
    pub type Bind<R> = dyn Fn(&R, &mut CopySink<'_>) + Sync;

    /// Bit `i` set: column `i` is left to its default in this row.
    fn defaulted<R>(row: &R, bind: &Bind<R>) -> u64 {
        let mut mask = CopySink {
            writer: None,
            defaulted: 0,
            column: 0,
            error: None,
        };
        bind(row, &mut mask);
        mask.defaulted
    }

    /// The binary COPY stream being built.
    pub struct CopyWriter {
        buf: PgArgumentBuffer,
    }

    /// Flushed to the server in chunks of this size.
    const CHUNK: usize = 1 << 20;

    impl CopyWriter {
        fn new() -> CopyWriter {
            let mut buf = PgArgumentBuffer::default();
            buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
            buf.extend_from_slice(&0i32.to_be_bytes()); // flags
            buf.extend_from_slice(&0i32.to_be_bytes()); // header extension length
            CopyWriter { buf }
        }

        fn row(&mut self, fields: usize) {
            self.buf.extend_from_slice(&(fields as i16).to_be_bytes());
        }

        /// One value, in the binary format sqlx sends it in.
        pub fn field<'q, T: Encode<'q, Postgres>>(&mut self, value: &T) -> Result<(), Error> {
            let at = self.buf.len();
            self.buf.extend_from_slice(&0i32.to_be_bytes());
            let null = value
                .encode_by_ref(&mut self.buf)
                .map_err(|e| Error::Database(sqlx::Error::Encode(e)))?;
            let len = match null {
                IsNull::Yes => {
                    self.buf.truncate(at + 4);
                    -1
                }
                IsNull::No => i32::try_from(self.buf.len() - at - 4)
                    .map_err(|_| Error::Database(sqlx::Error::Protocol("a value over 2 GiB".into())))?,
            };
            self.buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
            Ok(())
        }

        /// A `json` (not `jsonb`) value: its binary format is the text alone.
        pub fn json(&mut self, value: Option<&serde_json::Value>) -> Result<(), Error> {
            let text = value
                .map(serde_json::to_vec)
                .transpose()
                .map_err(|e| Error::Database(sqlx::Error::Encode(Box::new(e))))?;
            self.field(&text.as_deref())
        }
    }

    /// Inserts `rows` into `target` by binary COPY, each row's fields sent
    /// by `bind`, with `tenant` (from a `TenantTx`) as the last column where
    /// the table is tenant-scoped; returns how many.
    pub async fn insert<R: Sync>(
        conn: &mut PgConnection,
        target: &CopyTarget,
        rows: &[R],
        bind: &Bind<R>,
        tenant: Option<(&str, Uuid)>,
    ) -> Result<u64, Error> {
        if rows.is_empty() {
            return Ok(0);
        }
        // Rows leaving the same columns to their defaults travel together.
        let mut groups: Vec<(u64, Vec<&R>)> = Vec::new();
        for row in rows {
            let defaulted = defaulted(row, bind);
            match groups.iter_mut().find(|(d, _)| *d == defaulted) {
                Some((_, group)) => group.push(row),
                None => groups.push((defaulted, vec![row])),
            }
        }
        let groups: Vec<Group> = groups
            .into_iter()
            .map(|(defaulted, group)| Group {
                defaulted,
                rows: group.len(),
                encode: Box::new(move |i, writer: &mut CopyWriter| {
                    let mut fields = CopySink {
                        writer: Some(writer),
                        defaulted,
                        column: 0,
                        error: None,
                    };
                    bind(group[i], &mut fields);
                    fields.error.map_or(Ok(()), Err)
                }),
            })
            .collect();
        copy_in(conn, target, tenant, groups).await
    }

    /// Writes row `i` of a group's fields.
    type EncodeRow<'a> = Box<dyn Fn(usize, &mut CopyWriter) -> Result<(), Error> + Send + Sync + 'a>;

    /// The rows that leave the same columns (`defaulted`) to their defaults.
    struct Group<'a> {
        defaulted: u64,
        rows: usize,
        encode: EncodeRow<'a>,
    }

    // Not generic (the rows come encoded by `Group::encode`): the COPY
    // protocol's futures are compiled once per calling crate, not per table.
    // (Not boxed like the repository's statements: the compiler cannot
    // prove this future `Send` behind a `dyn`.)
    async fn copy_in(
        conn: &mut PgConnection,
        table: &CopyTarget,
        tenant: Option<(&str, Uuid)>,
        groups: Vec<Group<'_>>,
    ) -> Result<u64, Error> {
        let staged = table.row_security
            && sqlx::query_scalar::<_, bool>("SELECT row_security_active($1::text::regclass)")
                .bind(table.table)
                .fetch_one(&mut *conn)
                .await?;
        if !staged {
            return copy_groups(conn, table, tenant, groups, false).await;
        }
        // The staging table lives until commit: a transaction (or a savepoint in one) holds it.
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let inserted = copy_groups(&mut tx, table, tenant, groups, true).await?;
        tx.commit().await?;
        Ok(inserted)
    }

    async fn copy_groups(
        conn: &mut PgConnection,
        table: &CopyTarget,
        tenant: Option<(&str, Uuid)>,
        groups: Vec<Group<'_>>,
        staged: bool,
    ) -> Result<u64, Error> {
        let mut inserted = 0;
        for group in groups {
            let mut columns: Vec<&str> = table
                .columns
                .iter()
                .enumerate()
                .filter(|(i, _)| group.defaulted & (1 << i) == 0)
                .map(|(_, c)| *c)
                .collect();
            if let Some((column, _)) = tenant {
                columns.push(column);
            }
            let fields = columns.len();
            let columns = columns.join(", ");
            let target = if staged {
                // Temporary: private to this session, and gone at commit.
                let staging = format!("\"hubgen_copy_{}\"", table.staging);
                let create = format!(
                    "CREATE TEMP TABLE IF NOT EXISTS {staging} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP",
                    table.table
                );
                sqlx::raw_sql(&create).execute(&mut *conn).await?;
                staging
            } else {
                table.table.to_string()
            };
            let statement = format!("COPY {target} ({columns}) FROM STDIN (FORMAT binary)");
            let mut copy = conn.copy_in_raw(&statement).await?;
            let mut writer = CopyWriter::new();
            for row in 0..group.rows {
                writer.row(fields);
                let written = (group.encode)(row, &mut writer).and_then(|()| match tenant {
                    Some((_, id)) => writer.field(&id),
                    None => Ok(()),
                });
                if let Err(error) = written {
                    copy.abort("a value could not be encoded").await?;
                    return Err(error);
                }
                if writer.buf.len() >= CHUNK {
                    copy.send(writer.buf.as_slice()).await?;
                    writer.buf.clear();
                }
            }
            writer.buf.extend_from_slice(&(-1i16).to_be_bytes());
            copy.send(writer.buf.as_slice()).await?;
            let copied = copy.finish().await?;
            inserted += if staged {
                let moved = format!("INSERT INTO {} ({columns}) SELECT {columns} FROM {target}", table.table);
                let moved = sqlx::query(&moved).execute(&mut *conn).await?.rows_affected();
                sqlx::raw_sql(&format!("TRUNCATE {target}")).execute(&mut *conn).await?;
                moved
            } else {
                copied
            };
        }
        Ok(inserted)
    }
}

/// Client-side checks of generated `validate()` methods: each text field
/// against its rules (`varchar(n)`, a CHECK's `in (...)` list, a `@format`).
pub mod check {
    use super::Violation;

    /// One rule a text value must keep.
    #[derive(Debug, Clone, Copy)]
    pub enum Rule {
        /// At most this many characters.
        MaxChars(usize),
        /// One of these values.
        OneOf(&'static [&'static str]),
        /// [`Rule::OneOf`] for a `@sensitive` or `@pii` field: the message does not repeat the value.
        OneOfRedacted(&'static [&'static str]),
        /// `email`, `uuid`, `url` or `phone`.
        Format(&'static str),
    }

    /// A text field as `validate` sees it: its value, or none to check
    /// (`None` in an insert struct or a patch).
    pub trait Text {
        fn text(&self) -> Option<&str>;
    }

    impl Text for String {
        fn text(&self) -> Option<&str> {
            Some(self)
        }
    }

    impl<T: Text> Text for Option<T> {
        fn text(&self) -> Option<&str> {
            self.as_ref().and_then(Text::text)
        }
    }

    /// The violations found so far.
    #[derive(Debug, Default)]
    pub struct Checks(Vec<Violation>);

    impl Checks {
        /// Checks `value` (if there is one) against `rules`.
        pub fn text(&mut self, field: &'static str, value: &impl Text, rules: &[Rule]) {
            let Some(value) = value.text() else { return };
            for rule in rules {
                if let Some(message) = broken(*rule, value) {
                    self.0.push(Violation::new(field, message));
                }
            }
        }

        pub fn finish(self) -> Result<(), Vec<Violation>> {
            if self.0.is_empty() {
                Ok(())
            } else {
                Err(self.0)
            }
        }
    }

    /// What is wrong with `value` under `rule`, if anything.
    fn broken(rule: Rule, value: &str) -> Option<String> {
        match rule {
            Rule::MaxChars(max) => {
                let n = value.chars().count();
                (n > max).then(|| format!("is {n} characters long; at most {max} allowed"))
            }
            Rule::OneOf(allowed) => (!allowed.contains(&value)).then(|| format!("`{value}` is not one of {}", allowed.join(", "))),
            Rule::OneOfRedacted(allowed) => (!allowed.contains(&value)).then(|| format!("is not one of {}", allowed.join(", "))),
            Rule::Format(format) => (!formatted(format, value)).then(|| format!("is not a valid {format}")),
        }
    }

    fn formatted(format: &str, value: &str) -> bool {
        match format {
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
        }
    }
}

/// A throwaway database for tests of generated crates (feature `testing`).
#[cfg(feature = "testing")]
pub mod testing {
    use super::{EmbeddedMigration, Error, Page, PageRequest};
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

    /// A text sample: `v{variant}-{n}`, cut to `max` characters, so rows differ by `n`.
    pub fn text(variant: u32, n: u32, max: usize) -> String {
        format!("v{variant}-{n}").chars().take(max).collect()
    }

    /// One of a check constraint's `values`, chosen by `n`.
    pub fn pick(values: &[&str], n: u32) -> String {
        values[n as usize % values.len()].to_string()
    }

    /// Noon on a day: a timestamp sample (`.and_utc()` for `timestamptz`).
    pub fn noon(year: i32, month: u32, day: u32) -> chrono::NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(year, month, day)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .expect("a valid sample day")
    }

    /// Pages through the `rows` rows of a table two at a time with `list`
    /// (the repository's, on the test's transaction): every page but the
    /// last is full and has a cursor, the last has none, the pages hold
    /// `rows` rows and `row` among them. Returns the first page's rows.
    pub async fn check_pages<S: Default, R: PartialEq + std::fmt::Debug>(
        rows: usize,
        row: &R,
        mut list: impl AsyncFnMut(PageRequest<S>) -> Result<Page<R>, Error>,
    ) -> Result<Vec<R>, Error> {
        let mut pages: Vec<Vec<R>> = Vec::new();
        let mut request = Some(PageRequest::first(2));
        while let Some(now) = request.take() {
            let page = list(now).await?;
            assert!(page.items.len() <= 2, "a page holds at most its limit");
            if let Some(cursor) = page.next {
                assert_eq!(page.items.len(), 2, "a page with a cursor is full");
                request = Some(PageRequest::first(2).after(cursor));
            }
            pages.push(page.items);
            assert!(pages.len() <= rows / 2 + 1, "the last page has no cursor");
        }
        let listed: Vec<&R> = pages.iter().flatten().collect();
        assert_eq!(listed.len(), rows, "the pages hold every row once");
        assert!(listed.contains(&row), "list finds the row: {row:?}");
        Ok(pages.swap_remove(0))
    }

    /// The conditions on one column split a table's rows as SQL does, counted
    /// by `count` (the repository's, with the condition on that column):
    /// IS NULL and IS NOT NULL split every row, `at_least` and `below` a
    /// `value` split the rows with one, and IN finds `value`.
    pub async fn check_conditions<T: Clone>(
        column: &str,
        value: Option<T>,
        mut count: impl AsyncFnMut(super::Condition<T>) -> Result<i64, Error>,
    ) -> Result<(), Error> {
        use super::Condition;
        let all = count(Condition::default()).await?;
        let values = count(Condition::not_null()).await?;
        assert_eq!(
            count(Condition::is_null()).await? + values,
            all,
            "`{column}`: IS NULL and IS NOT NULL split the rows"
        );
        if let Some(value) = value {
            let halves = count(Condition::at_least(value.clone())).await? + count(Condition::below(value.clone())).await?;
            assert_eq!(halves, values, "`{column}`: a range's two halves split the rows with a value");
            assert!(count(Condition::any_of([value])).await? >= 1, "`{column}`: IN finds the row");
        }
        Ok(())
    }

    /// Lists the `rows` rows of a table in every order of `sorts`, both
    /// ways, through `list` (the repository's, on the test's transaction):
    /// pages of one row read exactly the rows of one big page (the keyset
    /// skips and repeats nothing), and descending is ascending reversed
    /// (NULLs last one way, first the other).
    pub async fn check_orders<S: Copy + Default + std::fmt::Debug, R: PartialEq + std::fmt::Debug>(
        sorts: &[S],
        rows: i64,
        mut list: impl AsyncFnMut(PageRequest<S>) -> Result<Page<R>, Error>,
    ) -> Result<(), Error> {
        for &sort in sorts {
            let mut ways = Vec::new();
            for desc in [false, true] {
                let mut request = PageRequest::first(1).by(sort);
                if desc {
                    request = request.desc();
                }
                let whole = list(PageRequest {
                    limit: 100,
                    ..request.clone()
                })
                .await?
                .items;
                let mut paged = Vec::new();
                loop {
                    let page = list(request.clone()).await?;
                    paged.extend(page.items);
                    match page.next {
                        Some(cursor) => request = request.after(cursor),
                        None => break,
                    }
                }
                assert_eq!(paged, whole, "{sort:?} desc={desc}: pages of one row read the rows of one page");
                assert_eq!(whole.len() as i64, rows, "{sort:?} desc={desc}: one page holds every row");
                ways.push(whole);
            }
            ways[1].reverse();
            assert_eq!(ways[0], ways[1], "{sort:?}: descending is ascending reversed");
        }
        Ok(())
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
