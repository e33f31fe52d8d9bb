//! Proof of isolation on a live database: what `hubgen verify` runs.
//!
//! For every scoped table of a hub, rows of two tenants (or users, or
//! parents) A and B are written, then PostgreSQL itself is asked, as the
//! application, read-only and owner roles: does A's context see exactly
//! A's rows, does no context see none, are B's rows out of A's reach for
//! insert, update and delete, is FORCE on, do partitions queried directly
//! hide B's rows, do rows without a scope belong to the platform role
//! alone, and does the scope predicate reach an index?
//!
//! Everything happens in one transaction that is rolled back: a verified
//! database is left exactly as it was. The connection must be allowed to
//! `SET ROLE` to the hub's roles and to set `session_replication_role`
//! (which lets rows in without their foreign-key parents): a superuser.

use hubgen_codegen::sql::{Roles, OWNER_SETTING, TENANT_SETTING};
use hubgen_schema::ir;
use hubgen_schema::types::ColumnType;
use sqlx::postgres::PgRow;
use sqlx::{Connection, PgConnection, Row};
use std::fmt::Write as _;

/// One failed check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `schema.table`.
    pub table: String,
    pub check: &'static str,
    pub problem: String,
}

/// What a run proved.
#[derive(Debug, Default)]
pub struct Report {
    /// Scoped tables verified.
    pub tables: usize,
    /// Checks run (each against PostgreSQL).
    pub checks: usize,
    /// Partitions queried directly.
    pub partitions: usize,
    pub findings: Vec<Finding>,
}

/// Verifies every scoped table of `hub` in the connected database, which
/// must be at the schema's current version.
pub async fn isolation(conn: &mut PgConnection, hub: &ir::Hub) -> Result<Report, sqlx::Error> {
    // A transaction that sets a context and commits: custom settings then
    // read '' rather than NULL for the rest of the session, the classic
    // way a policy leaks. Every "no context" check below runs after it.
    let mut tx = conn.begin().await?;
    for setting in [TENANT_SETTING, OWNER_SETTING] {
        sqlx::query("SELECT set_config($1, $2, true)")
            .bind(setting)
            .bind(principal(0).to_string())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;

    let mut report = Report::default();
    let mut tx = conn.begin().await?;
    sqlx::raw_sql("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await?;
    for (i, table) in hub.tables.iter().filter(|t| t.is_scoped()).enumerate() {
        report.tables += 1;
        sqlx::raw_sql("SAVEPOINT hubgen_table").execute(&mut *tx).await?;
        let mut verifier = Verifier {
            conn: &mut tx,
            hub,
            table,
            report: &mut report,
            n: i * 100,
        };
        verifier.run().await?;
        sqlx::raw_sql("ROLLBACK TO SAVEPOINT hubgen_table").execute(&mut *tx).await?;
    }
    tx.rollback().await?;
    Ok(report)
}

/// A fixed principal per index, so a run's output is reproducible.
fn principal(n: u128) -> uuid::Uuid {
    uuid::Uuid::from_u128(0x6875_6267_656e_0000_0000_0000_0000_0000 | n)
}

struct Verifier<'a, 'c> {
    conn: &'c mut PgConnection,
    hub: &'a ir::Hub,
    table: &'a ir::Table,
    report: &'c mut Report,
    /// Makes generated values unique.
    n: usize,
}

/// The column RLS compares, and the value it holds for A's and B's rows.
struct Scope {
    column: String,
    a: uuid::Uuid,
    b: uuid::Uuid,
    /// Rows of A's and B's seeded.
    rows_a: i64,
    rows_b: i64,
    /// Rows without a scope (NULL column) seeded, read by every tenant when global.
    unscoped: i64,
}

impl Verifier<'_, '_> {
    fn name(&self) -> String {
        format!("\"{}\".\"{}\"", self.table.schema, self.table.name)
    }

    fn fail(&mut self, check: &'static str, problem: String) {
        self.report.findings.push(Finding {
            table: format!("{}.{}", self.table.schema, self.table.name),
            check,
            problem,
        });
    }

    /// Runs `sql` as `role`, acting as `principal` (tenant and user alike)
    /// when given, in a savepoint that is rolled back.
    async fn probe(
        &mut self,
        role: &str,
        principal: Option<uuid::Uuid>,
        sql: &str,
    ) -> Result<Result<Vec<PgRow>, sqlx::Error>, sqlx::Error> {
        self.report.checks += 1;
        sqlx::raw_sql("SAVEPOINT hubgen_probe").execute(&mut *self.conn).await?;
        sqlx::raw_sql(&format!("SET LOCAL ROLE \"{role}\""))
            .execute(&mut *self.conn)
            .await?;
        if let Some(principal) = principal {
            for setting in [TENANT_SETTING, OWNER_SETTING] {
                sqlx::query("SELECT set_config($1, $2, true)")
                    .bind(setting)
                    .bind(principal.to_string())
                    .execute(&mut *self.conn)
                    .await?;
            }
        }
        let result = sqlx::query(sql).fetch_all(&mut *self.conn).await;
        sqlx::raw_sql("ROLLBACK TO SAVEPOINT hubgen_probe").execute(&mut *self.conn).await?;
        Ok(result)
    }

    async fn count(&mut self, role: &str, principal: Option<uuid::Uuid>, sql: &str) -> Result<Result<i64, String>, sqlx::Error> {
        Ok(self
            .probe(role, principal, sql)
            .await?
            .map_err(|e| e.to_string())
            .map(|rows| rows.first().map_or(-1, |row| row.get::<i64, _>(0))))
    }

    /// Inserts as the connected (superuser) role, which bypasses RLS.
    async fn seed(&mut self, table: &ir::Table, principal: uuid::Uuid, given: &[(&str, Option<uuid::Uuid>)]) -> Result<(), sqlx::Error> {
        self.n += 1;
        let sql = insert_sql(self.hub, table, principal, given, self.n);
        sqlx::raw_sql(&sql).execute(&mut *self.conn).await.map(|_| ())
    }

    async fn run(&mut self) -> Result<(), sqlx::Error> {
        let Some(mut scope) = self.seed_rows().await? else {
            return Ok(());
        };
        self.force().await?;
        self.visibility(&scope).await?;
        self.writes(&scope).await?;
        self.platform_rows(&mut scope).await?;
        self.partitions(&scope).await?;
        self.index(&scope).await
    }

    /// 2 rows for A and 3 for B (1 each where a scope holds one row), and
    /// for a nullable scope column one row without a scope.
    async fn seed_rows(&mut self) -> Result<Option<Scope>, sqlx::Error> {
        let table = self.table;
        let (a, b) = (principal(1), principal(2));
        let (column, key_a, key_b) = match (&table.tenant_column, &table.owner_column, table.through_key()) {
            (Some(c), _, _) | (None, Some(c), _) => (c.clone(), a, b),
            (None, None, Some(fk)) => {
                let Some(parent) = self.hub.table(&fk.ref_schema, &fk.ref_table) else {
                    self.fail("seed", format!("its parent {} is not in the schema", fk.ref_table));
                    return Ok(None);
                };
                let (pa, pb) = (principal(11), principal(12));
                for (who, id) in [(a, pa), (b, pb)] {
                    self.seed(parent, who, &[(fk.ref_columns[0].as_str(), Some(id))]).await?;
                }
                (fk.columns[0].clone(), pa, pb)
            }
            _ => return Ok(None),
        };
        let one_per_scope = table.uniques.iter().any(|u| u.columns == [column.as_str()])
            || table.primary_key.as_ref().is_some_and(|k| k.columns == [column.as_str()]);
        let (rows_a, rows_b) = if one_per_scope { (1, 1) } else { (2, 3) };
        for (who, key, count) in [(a, key_a, rows_a), (b, key_b, rows_b)] {
            for _ in 0..count {
                self.seed(table, who, &[(column.as_str(), Some(key))]).await?;
            }
        }
        // A key column is never nullable, so the tenant table seeds no such row.
        let unscoped = i64::from(table.column(&column).is_some_and(|c| c.nullable));
        if unscoped == 1 {
            self.seed(table, a, &[(column.as_str(), None)]).await?;
        }
        Ok(Some(Scope {
            column,
            a: key_a,
            b: key_b,
            rows_a,
            rows_b,
            unscoped,
        }))
    }

    async fn force(&mut self) -> Result<(), sqlx::Error> {
        self.report.checks += 1;
        let row = sqlx::query("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = $1::regclass")
            .bind(self.name())
            .fetch_one(&mut *self.conn)
            .await?;
        if !(row.get::<bool, _>(0) && row.get::<bool, _>(1)) {
            self.fail("force", "row-level security is not enabled and forced".into());
        }
        Ok(())
    }

    async fn visibility(&mut self, scope: &Scope) -> Result<(), sqlx::Error> {
        let name = self.name();
        let roles = Roles::of(self.hub);
        let global = if self.table.tenant_global { scope.unscoped } else { 0 };
        // Global rows of an owner-scoped table are still their owner's.
        let global_without_context = if self.table.owner_column.is_some() { 0 } else { global };
        let all = format!("SELECT count(*) FROM {name}");
        let foreign = format!("SELECT count(*) FROM {name} WHERE \"{}\" <> '{}'", scope.column, scope.a);
        for role in [&roles.app, &roles.readonly, &roles.owner] {
            match self.count(role, Some(principal(1)), &all).await? {
                Ok(seen) if seen == scope.rows_a + global => {}
                Ok(seen) => self.fail(
                    "own rows",
                    format!("{role} in A's context sees {seen} rows, not {}", scope.rows_a + global),
                ),
                Err(e) => self.fail("own rows", format!("{role} in A's context cannot read: {e}")),
            }
            match self.count(role, Some(principal(1)), &foreign).await? {
                Ok(0) => {}
                Ok(seen) => self.fail("other rows", format!("{role} in A's context sees {seen} of another scope's rows")),
                Err(e) => self.fail("other rows", format!("{role}: {e}")),
            }
            match self.count(role, None, &all).await? {
                Ok(seen) if seen == global_without_context => {}
                Ok(seen) => self.fail(
                    "no context",
                    format!("{role} without a context (after a committed one) sees {seen} rows, not {global_without_context}"),
                ),
                Err(e) => self.fail("no context", format!("{role}: {e}")),
            }
        }
        Ok(())
    }

    async fn writes(&mut self, scope: &Scope) -> Result<(), sqlx::Error> {
        let name = self.name();
        let app = Roles::of(self.hub).app;
        let col = &scope.column;
        self.n += 1;
        let insert_b = insert_sql(self.hub, self.table, principal(2), &[(col, Some(scope.b))], self.n);
        if !is_rejected(&self.probe(&app, Some(principal(1)), &insert_b).await?) {
            self.fail("insert", "A's context could insert a row of B's".into());
        }
        if !is_rejected(&self.probe(&app, None, &insert_b).await?) {
            self.fail("insert", "an insert without a context was not rejected".into());
        }
        // A read-only hub, or the audit log: the application role writes nothing, not even its own rows.
        if !self.hub.writes(self.table) {
            self.n += 1;
            let insert_a = insert_sql(self.hub, self.table, principal(1), &[(col, Some(scope.a))], self.n);
            let update_a = format!("UPDATE {name} SET \"{col}\" = \"{col}\" WHERE \"{col}\" = '{}'", scope.a);
            let delete_a = format!("DELETE FROM {name} WHERE \"{col}\" = '{}'", scope.a);
            for (check, sql) in [("insert", insert_a), ("update", update_a), ("delete", delete_a)] {
                if !is_rejected(&self.probe(&app, Some(principal(1)), &sql).await?) {
                    self.fail(
                        "read-only",
                        format!("the application role could {check} its own rows of a table it only reads"),
                    );
                }
            }
            return Ok(());
        }
        if scope.rows_a > 1 {
            self.n += 1;
            let insert_a = insert_sql(self.hub, self.table, principal(1), &[(col, Some(scope.a))], self.n);
            if let Err(e) = self.probe(&app, Some(principal(1)), &insert_a).await? {
                self.fail("insert", format!("A's context cannot insert its own row: {e}"));
            }
        }
        let update_b = format!(
            "WITH u AS (UPDATE {name} SET \"{col}\" = \"{col}\" WHERE \"{col}\" = '{}' RETURNING 1) SELECT count(*) FROM u",
            scope.b
        );
        let delete_b = format!(
            "WITH d AS (DELETE FROM {name} WHERE \"{col}\" = '{}' RETURNING 1) SELECT count(*) FROM d",
            scope.b
        );
        for (check, sql) in [("update", update_b), ("delete", delete_b)] {
            match self.count(&app, Some(principal(1)), &sql).await? {
                Ok(0) => {}
                Ok(n) => self.fail(check, format!("A's context reached {n} of B's {} rows", scope.rows_b)),
                Err(e) => self.fail(check, e),
            }
        }
        let move_to_b = format!("UPDATE {name} SET \"{col}\" = '{}' WHERE \"{col}\" = '{}'", scope.b, scope.a);
        if !is_rejected(&self.probe(&app, Some(principal(1)), &move_to_b).await?) {
            self.fail("update", "A's context could move its row to B".into());
        }
        Ok(())
    }

    /// Rows without a scope: a tenant's context never writes one; the
    /// platform role, in a platform transaction, does.
    async fn platform_rows(&mut self, scope: &mut Scope) -> Result<(), sqlx::Error> {
        if scope.unscoped == 0 || !self.hub.writes(self.table) {
            return Ok(());
        }
        let app = Roles::of(self.hub).app;
        self.n += 1;
        let insert_null = insert_sql(self.hub, self.table, principal(1), &[(&scope.column, None)], self.n);
        if !is_rejected(&self.probe(&app, Some(principal(1)), &insert_null).await?) {
            self.fail("platform rows", "A's context could write a row without a scope".into());
        }
        if let Some(platform) = self.hub.platform_role() {
            let platform = platform.name.clone();
            if let Err(e) = self.probe(&platform, None, &insert_null).await? {
                self.fail(
                    "platform rows",
                    format!("the platform role {platform} cannot write a row without a scope: {e}"),
                );
            }
        }
        Ok(())
    }

    /// A partition queried directly hides other scopes' rows (or refuses).
    async fn partitions(&mut self, scope: &Scope) -> Result<(), sqlx::Error> {
        if self.table.partitioning.is_none() {
            return Ok(());
        }
        // The partitions that exist, declared or made by pg_partman.
        let partitions: Vec<String> =
            sqlx::query_scalar("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = $1::regclass ORDER BY 1")
                .bind(format!("\"{}\".\"{}\"", self.table.schema, self.table.name))
                .fetch_all(&mut *self.conn)
                .await?;
        let roles = Roles::of(self.hub);
        for name in partitions {
            self.report.partitions += 1;
            let foreign = format!(
                "SELECT count(*) FROM {name} WHERE \"{}\" IS DISTINCT FROM '{}'",
                scope.column, scope.a
            );
            let global = if self.table.tenant_global { scope.unscoped } else { 0 };
            for role in [&roles.app, &roles.readonly] {
                for (who, context) in [("A's context", Some(principal(1))), ("no context", None)] {
                    match self.probe(role, context, &foreign).await? {
                        Err(e) if is_denied(&e) => {}
                        Err(e) => self.fail("partition", format!("{role} on {name}: {e}")),
                        Ok(rows) => {
                            let seen = rows.first().map_or(0, |r| r.get::<i64, _>(0));
                            if seen > global {
                                self.fail(
                                    "partition",
                                    format!("{role} in {who} sees {seen} rows of other scopes in partition {name}"),
                                );
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The scope predicate is an `Index Cond`, not a filter over a scan.
    async fn index(&mut self, scope: &Scope) -> Result<(), sqlx::Error> {
        let app = Roles::of(self.hub).app;
        sqlx::raw_sql("SAVEPOINT hubgen_plan").execute(&mut *self.conn).await?;
        sqlx::raw_sql("SET LOCAL enable_seqscan = off; SET LOCAL jit = off")
            .execute(&mut *self.conn)
            .await?;
        let explain = format!("EXPLAIN SELECT * FROM {} WHERE \"{}\" = '{}'", self.name(), scope.column, scope.a);
        let plan = self.probe(&app, Some(principal(1)), &explain).await?;
        sqlx::raw_sql("ROLLBACK TO SAVEPOINT hubgen_plan").execute(&mut *self.conn).await?;
        let plan: Vec<String> = match plan {
            Ok(rows) => rows.iter().map(|r| r.get::<String, _>(0)).collect(),
            Err(e) => {
                self.fail("index", e.to_string());
                return Ok(());
            }
        };
        if !plan
            .iter()
            .any(|line| line.contains("Index Cond") && line.contains(scope.column.as_str()))
        {
            let mut text = String::new();
            for line in &plan {
                let _ = write!(text, "\n    {line}");
            }
            self.fail("index", format!("`{}` is not in an Index Cond:{text}", scope.column));
        }
        Ok(())
    }
}

fn is_denied(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(e) if e.code().as_deref() == Some("42501"))
}

/// Refused by a policy or a privilege (`42501`).
fn is_rejected(result: &Result<Vec<PgRow>, sqlx::Error>) -> bool {
    matches!(result, Err(e) if is_denied(e))
}

/// A literal for `column` that satisfies its type and, for `col in (...)`
/// checks, its first allowed value. `n` makes values unique.
fn value(hub: &ir::Hub, table: &ir::Table, column: &ir::Column, n: usize) -> String {
    let prefix = format!("{} in (", column.name);
    if let Some(check) = table.checks.iter().find(|c| c.expr.starts_with(&prefix)) {
        let first = check.expr[prefix.len()..]
            .split(',')
            .next()
            .unwrap_or("''")
            .trim()
            .trim_end_matches(')');
        return first.to_string();
    }
    let text = |max: Option<u32>| {
        let v = format!("v{n}");
        let v: String = v.chars().take(max.unwrap_or(64) as usize).collect();
        format!("'{v}'")
    };
    // Numbers that identify rows (keys) differ per row; others are 1, which most checks allow.
    let keyed = table
        .primary_key
        .iter()
        .chain(&table.uniques)
        .any(|k| k.columns.contains(&column.name));
    match &column.ty {
        ColumnType::Uuid => format!("'{}'", principal(1_000_000 + n as u128)),
        ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt | ColumnType::Numeric(_) if keyed => (n + 1).to_string(),
        ColumnType::Varchar(max) => text(*max),
        ColumnType::Char(len) => {
            let digits = format!("{n:0>width$}", width = *len as usize);
            format!("'{}'", &digits[digits.len() - *len as usize..])
        }
        ColumnType::Text => text(None),
        ColumnType::Boolean => "true".into(),
        ColumnType::SmallInt
        | ColumnType::Integer
        | ColumnType::BigInt
        | ColumnType::Numeric(_)
        | ColumnType::Real
        | ColumnType::Double => "1".into(),
        ColumnType::Date => "current_date".into(),
        ColumnType::Time => "current_time".into(),
        ColumnType::Timestamp | ColumnType::Timestamptz => "now()".into(),
        ColumnType::Interval => "'1 day'".into(),
        ColumnType::Json | ColumnType::Jsonb => "'{}'".into(),
        ColumnType::Inet => "'127.0.0.1'".into(),
        ColumnType::Tsvector => "''".into(),
        ColumnType::Bytea => "'\\x00'".into(),
        ColumnType::Enum(name) => {
            let first = hub.enums.iter().find(|e| &e.name == name).and_then(|e| e.values.first());
            format!("'{}'", first.map_or("", String::as_str))
        }
        ColumnType::Array(_) => "'{}'".into(),
    }
}

/// INSERT for one row acting as `principal` (tenant and user alike): every
/// column without a default, the scope columns, and `given` values (`None`
/// writes NULL).
fn insert_sql(hub: &ir::Hub, table: &ir::Table, principal: uuid::Uuid, given: &[(&str, Option<uuid::Uuid>)], n: usize) -> String {
    let scoped = |c: &str| table.tenant_column.as_deref() == Some(c) || table.owner_column.as_deref() == Some(c);
    let mut columns = Vec::new();
    let mut values = Vec::new();
    for column in &table.columns {
        if column.generated.is_some() {
            continue;
        }
        let partition_key = table.partitioning.as_ref().filter(|p| p.column == column.name);
        let v = if let Some((_, value)) = given.iter().find(|(c, _)| *c == column.name) {
            value.map_or("NULL".into(), |v| format!("'{v}'"))
        } else if scoped(&column.name) {
            format!("'{principal}'")
        } else if let Some(p) = partition_key.filter(|p| p.method == ir::PartitionMethod::List) {
            // A value some partition lists (else the default partition takes it).
            p.partitions
                .iter()
                .find_map(|x| x.values.first().cloned())
                .unwrap_or_else(|| value(hub, table, column, n))
        } else if let Some(p) = partition_key.filter(|p| p.method == ir::PartitionMethod::Range) {
            // Inside the first partition, whatever today's date is.
            p.partitions.first().map_or("now()".into(), |first| first.from.clone())
        } else if column.default.is_some() || column.nullable {
            continue;
        } else {
            value(hub, table, column, n)
        };
        columns.push(format!("\"{}\"", column.name));
        values.push(v);
    }
    format!(
        "INSERT INTO \"{}\".\"{}\" ({}) VALUES ({})",
        table.schema,
        table.name,
        columns.join(", "),
        values.join(", ")
    )
}
