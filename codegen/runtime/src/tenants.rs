//! Schema per tenant: provisioning a tenant's copy of the hub's template
//! schema, and bringing every copy to the template's version.
//!
//! A registry, `hubgen.tenant_schemas`, records each tenant schema and the
//! version it is at. Provisioning runs the template's baseline (the whole
//! schema at the current version) with the tenant's schema name in place of
//! [`PLACEHOLDER`], and registers it, in one transaction. Migrating applies
//! each later tenant upgrade to each schema behind it, one schema and one
//! upgrade per transaction, the registry row locked and updated in the same
//! transaction: a run stopped anywhere resumes where it stopped, and two runs
//! at once apply each upgrade once.

use sqlx::{Connection, PgConnection, Row};

/// Stands for the tenant's schema name in the template's scripts.
pub const PLACEHOLDER: &str = "hubgen_tenant_schema";

/// A file that must run outside a transaction (`CREATE INDEX CONCURRENTLY`).
const NO_TRANSACTION: &str = "-- no-transaction";

/// A hub's tenant template, as generated: the baseline and the upgrades.
#[derive(Debug, Clone, Copy)]
pub struct Template<'a> {
    /// How schemas are named: `tenant_{id}`.
    pub naming: &'a str,
    /// The version the baseline is at (the hub's latest migration).
    pub version: i64,
    /// The whole tenant schema at `version`.
    pub baseline: &'a str,
    /// Tenant upgrades in order: (version, SQL).
    pub upgrades: &'a [(i64, &'a str)],
}

/// A registered tenant schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantSchema {
    pub schema: String,
    pub tenant: String,
    pub version: i64,
}

/// What a migration run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Schemas registered.
    pub schemas: usize,
    /// Schemas that were behind and are now at the template's version.
    pub migrated: usize,
    /// Upgrade scripts applied, over all schemas.
    pub applied: usize,
}

#[derive(Debug)]
pub enum Error {
    Database(sqlx::Error),
    /// The tenant id cannot be part of a schema name.
    InvalidTenant(String),
    /// A schema's upgrade failed; the schema stays at its last version.
    Upgrade {
        schema: String,
        version: i64,
        source: sqlx::Error,
    },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Database(e) => write!(f, "tenant schemas: {e}"),
            Error::InvalidTenant(id) => write!(
                f,
                "tenant id `{id}` cannot name a schema: use 1 to 32 letters, digits or `_` (a UUID's dashes are dropped)"
            ),
            Error::Upgrade { schema, version, source } => {
                write!(
                    f,
                    "upgrading {schema} to version {version}: {source} (it stays at its last version; rerun to resume)"
                )
            }
        }
    }
}

impl std::error::Error for Error {}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Database(e)
    }
}

/// The schema name a tenant gets: the id lower-cased, a UUID's dashes dropped.
pub fn schema_name(naming: &str, tenant: &str) -> Result<String, Error> {
    let id: String = tenant.chars().filter(|c| *c != '-').collect::<String>().to_ascii_lowercase();
    let valid = (1..=32).contains(&id.len()) && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        return Err(Error::InvalidTenant(tenant.to_string()));
    }
    Ok(naming.replace("{id}", &id))
}

/// Points a connection's `search_path` at `schema` (then `public`) for the
/// session: the hub crate's queries on template tables then reach that
/// tenant's copy (or the template itself, given its name).
pub async fn enter(conn: &mut PgConnection, schema: &str) -> Result<(), sqlx::Error> {
    search_path(conn, schema, false).await
}

/// [`enter`] for the current transaction only.
pub async fn enter_local(conn: &mut PgConnection, schema: &str) -> Result<(), sqlx::Error> {
    search_path(conn, schema, true).await
}

async fn search_path(conn: &mut PgConnection, schema: &str, local: bool) -> Result<(), sqlx::Error> {
    // The name is quoted by PostgreSQL, bound rather than spliced.
    sqlx::query("SELECT set_config('search_path', quote_ident($1) || ', public', $2)")
        .bind(schema)
        .bind(local)
        .execute(conn)
        .await?;
    Ok(())
}

/// The schema of a tenant whose id is a UUID (what [`schema_name`] gives
/// for its text): always a valid name.
pub fn schema_of(naming: &str, tenant: uuid::Uuid) -> String {
    naming.replace("{id}", &tenant.simple().to_string())
}

/// The template's script for one schema.
fn script(sql: &str, schema: &str) -> String {
    sql.replace(PLACEHOLDER, schema)
}

const REGISTRY: &str = "CREATE SCHEMA IF NOT EXISTS hubgen;
CREATE TABLE IF NOT EXISTS hubgen.tenant_schemas (
    schema_name  text         PRIMARY KEY,
    tenant       text         NOT NULL UNIQUE,
    version      bigint       NOT NULL,
    created_at   timestamptz  NOT NULL DEFAULT now(),
    migrated_at  timestamptz
);";

/// The registry, made once (serialized: concurrent `IF NOT EXISTS` can collide).
async fn registry(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('hubgen.tenant_schemas') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await?;
    if !exists {
        let mut tx = conn.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('hubgen tenant registry'))")
            .execute(&mut *tx)
            .await?;
        sqlx::raw_sql(REGISTRY).execute(&mut *tx).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Provisions `tenant`'s schema at the template's version, or returns it as
/// registered if it exists (then `migrate` brings it forward).
#[inline(never)]
pub fn provision<'a>(
    conn: &'a mut PgConnection,
    template: &'a Template<'_>,
    tenant: &'a str,
) -> crate::LocalBoxFuture<'a, Result<TenantSchema, Error>> {
    Box::pin(provision_schema(conn, template, tenant))
}

async fn provision_schema(conn: &mut PgConnection, template: &Template<'_>, tenant: &str) -> Result<TenantSchema, Error> {
    let schema = schema_name(template.naming, tenant)?;
    registry(conn).await?;
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('hubgen tenant ' || $1))")
        .bind(&schema)
        .execute(&mut *tx)
        .await?;
    let existing = sqlx::query("SELECT tenant, version FROM hubgen.tenant_schemas WHERE schema_name = $1")
        .bind(&schema)
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(row) = existing {
        return Ok(TenantSchema {
            schema,
            tenant: row.get(0),
            version: row.get(1),
        });
    }
    // Losing a provisioning to a crash loses its registry row with it: no
    // need to wait for the disk before answering.
    sqlx::query("SET LOCAL synchronous_commit = off").execute(&mut *tx).await?;
    sqlx::raw_sql(&script(template.baseline, &schema)).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO hubgen.tenant_schemas (schema_name, tenant, version) VALUES ($1, $2, $3)")
        .bind(&schema)
        .bind(tenant)
        .bind(template.version)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(TenantSchema {
        schema,
        tenant: tenant.to_string(),
        version: template.version,
    })
}

/// Every registered tenant schema, by name.
pub async fn list(conn: &mut PgConnection) -> Result<Vec<TenantSchema>, Error> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('hubgen.tenant_schemas') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await?;
    if !exists {
        return Ok(Vec::new());
    }
    let rows = sqlx::query("SELECT schema_name, tenant, version FROM hubgen.tenant_schemas ORDER BY schema_name")
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows
        .iter()
        .map(|r| TenantSchema {
            schema: r.get(0),
            tenant: r.get(1),
            version: r.get(2),
        })
        .collect())
}

/// Brings every tenant schema to the template's version. Runners started
/// at once share the work: each takes the schemas no other runner holds,
/// then waits for the rest and finds them done.
#[inline(never)]
pub fn migrate<'a>(conn: &'a mut PgConnection, template: &'a Template<'_>) -> crate::LocalBoxFuture<'a, Result<Report, Error>> {
    Box::pin(migrate_schemas(conn, template))
}

async fn migrate_schemas(conn: &mut PgConnection, template: &Template<'_>) -> Result<Report, Error> {
    let schemas = list(conn).await?;
    let mut report = Report {
        schemas: schemas.len(),
        ..Report::default()
    };
    let mut pending: Vec<String> = schemas
        .into_iter()
        .filter(|s| s.version < template.version)
        .map(|s| s.schema)
        .collect();
    while !pending.is_empty() {
        let mut held = Vec::new();
        for schema in pending {
            match migrate_one(conn, template, &schema).await? {
                Turn::Held => held.push(schema),
                Turn::Done(None) => {}
                Turn::Done(Some(applied)) => {
                    report.migrated += 1;
                    report.applied += applied;
                }
            }
        }
        if !held.is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        pending = held;
    }
    Ok(report)
}

enum Turn {
    /// Another runner holds the schema.
    Held,
    /// Upgrades applied here, or `None` when the schema was already current.
    Done(Option<usize>),
}

/// One schema's pending upgrades, under a session lock on the schema (a
/// runner waiting for it holds no transaction open, which `CREATE INDEX
/// CONCURRENTLY` would otherwise wait for).
async fn migrate_one(conn: &mut PgConnection, template: &Template<'_>, schema: &str) -> Result<Turn, Error> {
    let key = format!("hubgen tenant {schema}");
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext($1))")
        .bind(&key)
        .fetch_one(&mut *conn)
        .await?;
    if !locked {
        return Ok(Turn::Held);
    }
    let result = async {
        let version: i64 = sqlx::query_scalar("SELECT version FROM hubgen.tenant_schemas WHERE schema_name = $1")
            .bind(schema)
            .fetch_one(&mut *conn)
            .await?;
        if version >= template.version {
            return Ok(Turn::Done(None));
        }
        let mut applied = 0;
        for (to, sql) in template.upgrades.iter().filter(|(v, _)| *v > version) {
            upgrade(conn, schema, *to, sql).await?;
            applied += 1;
        }
        // Later migrations that left the template alone.
        sqlx::query("UPDATE hubgen.tenant_schemas SET version = $2, migrated_at = now() WHERE schema_name = $1 AND version < $2")
            .bind(schema)
            .bind(template.version)
            .execute(&mut *conn)
            .await?;
        Ok(Turn::Done(Some(applied)))
    }
    .await;
    sqlx::query("SELECT pg_advisory_unlock(hashtext($1))")
        .bind(&key)
        .execute(&mut *conn)
        .await?;
    result
}

/// One upgrade of one schema and its registry row, in one transaction; a
/// script that cannot run in a transaction runs on its own, then the row.
async fn upgrade(conn: &mut PgConnection, schema: &str, version: i64, sql: &str) -> Result<(), Error> {
    let failed = |source| Error::Upgrade {
        schema: schema.to_string(),
        version,
        source,
    };
    let sql = script(sql, schema);
    let mark = "UPDATE hubgen.tenant_schemas SET version = $2, migrated_at = now() WHERE schema_name = $1";
    if sql.contains(NO_TRANSACTION) {
        sqlx::raw_sql(&sql).execute(&mut *conn).await.map_err(failed)?;
        sqlx::query(mark).bind(schema).bind(version).execute(&mut *conn).await?;
        return Ok(());
    }
    let mut tx = conn.begin().await?;
    sqlx::raw_sql(&sql).execute(&mut *tx).await.map_err(failed)?;
    sqlx::query(mark).bind(schema).bind(version).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::schema_name;

    #[test]
    fn tenant_ids_become_schema_names() {
        assert_eq!(schema_name("tenant_{id}", "123").unwrap(), "tenant_123");
        assert_eq!(
            schema_name("tenant_{id}", "6F9619FF-8B86-D011-B42D-00C04FC964FF").unwrap(),
            "tenant_6f9619ff8b86d011b42d00c04fc964ff"
        );
        assert!(schema_name("tenant_{id}", "a; DROP SCHEMA public").is_err());
        assert!(schema_name("tenant_{id}", "").is_err());
    }
}
