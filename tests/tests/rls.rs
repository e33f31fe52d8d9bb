//! Row isolation, proven by PostgreSQL itself for every scoped table of
//! every hub and example (by tenant, by owner, or through a scoped parent):
//! connected as the application role (and as the owner), a tenant or user
//! sees and changes only its own rows, and missing context means no rows
//! and no writes.

use hubgen_codegen::sql::{Roles, OWNER_SETTING, TENANT_SETTING};
use hubgen_e2e::{fixture_schemas, initial_migration, schemas, TestDb};
use hubgen_schema::ir;
use hubgen_schema::types::ColumnType;
use sqlx::{Connection, PgConnection, Row};
use uuid::Uuid;

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
    match &column.ty {
        ColumnType::Uuid => format!("'{}'", Uuid::new_v4()),
        ColumnType::Varchar(max) => text(*max),
        ColumnType::Char(len) => format!(
            "'{}'",
            format!("{n:0>width$}", width = *len as usize)
                .chars()
                .rev()
                .take(*len as usize)
                .collect::<String>()
        ),
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
            let e = hub.enums.iter().find(|e| &e.name == name).expect("enum of this hub");
            format!("'{}'", e.values[0])
        }
        ColumnType::Array(_) => "'{}'".into(),
    }
}

/// INSERT for one row of `principal` (the tenant and the acting user alike):
/// every column without a default, the scope columns, and `given` values.
fn insert_sql(hub: &ir::Hub, table: &ir::Table, principal: Uuid, given: &[(&str, Uuid)], n: usize) -> String {
    let scoped = |c: &str| table.tenant_column.as_deref() == Some(c) || table.owner_column.as_deref() == Some(c);
    let mut columns = Vec::new();
    let mut values = Vec::new();
    for column in &table.columns {
        if column.generated.is_some() {
            continue;
        }
        let partition_key = table.partitioning.as_ref().filter(|p| p.column == column.name);
        let v = if let Some((_, value)) = given.iter().find(|(c, _)| *c == column.name) {
            format!("'{value}'")
        } else if scoped(&column.name) {
            format!("'{principal}'")
        } else if let Some(p) = partition_key {
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

/// Runs `sql` in a transaction as `role`, acting as `principal` (tenant and
/// user alike) if given; rolls back.
async fn as_role(
    conn: &mut PgConnection,
    role: &str,
    principal: Option<Uuid>,
    sql: &str,
) -> Result<Vec<sqlx::postgres::PgRow>, sqlx::Error> {
    let mut tx = conn.begin().await?;
    sqlx::query(&format!("SET LOCAL ROLE \"{role}\"")).execute(&mut *tx).await?;
    if let Some(principal) = principal {
        for setting in [TENANT_SETTING, OWNER_SETTING] {
            sqlx::query("SELECT set_config($1, $2, true)")
                .bind(setting)
                .bind(principal.to_string())
                .execute(&mut *tx)
                .await?;
        }
    }
    let result = sqlx::query(sql).fetch_all(&mut *tx).await;
    tx.rollback().await?;
    result
}

fn is_rejected(result: &Result<Vec<sqlx::postgres::PgRow>, sqlx::Error>) -> bool {
    matches!(result, Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42501"))
}

async fn check_table(conn: &mut PgConnection, hub: &ir::Hub, table: &ir::Table) -> Result<(), String> {
    let roles = Roles::of(hub);
    let name = format!("\"{}\".\"{}\"", table.schema, table.name);
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    // The column RLS compares, and the value it holds for A's and B's rows:
    // the tenant or owner itself, or (scoped through a parent) a parent row
    // of A's or B's, seeded here.
    let (col, key_a, key_b) = match (&table.tenant_column, &table.owner_column, table.through_key()) {
        (Some(c), _, _) | (None, Some(c), _) => (c.as_str(), a, b),
        (None, None, Some(fk)) => {
            let parent = hub.table(&fk.ref_schema, &fk.ref_table).ok_or("parent table")?;
            let (pa, pb) = (Uuid::new_v4(), Uuid::new_v4());
            for (principal, id) in [(a, pa), (b, pb)] {
                sqlx::raw_sql(&insert_sql(hub, parent, principal, &[(fk.ref_columns[0].as_str(), id)], 0))
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| format!("seed the parent of {name}: {e}"))?;
            }
            (fk.columns[0].as_str(), pa, pb)
        }
        _ => return Err(format!("{name} is not scoped")),
    };
    let seed = |principal: Uuid, key: Uuid, n: usize| insert_sql(hub, table, principal, &[(col, key)], n);
    // Seed as the superuser (who bypasses RLS): 2 rows for A, 3 for B, or
    // one each where a tenant has at most one row (`tenant_id unique`).
    let one_per_tenant = table.uniques.iter().any(|u| u.columns == [col]) || table.primary_key.as_ref().is_some_and(|k| k.columns == [col]);
    let (rows_a, rows_b) = if one_per_tenant { (1, 1) } else { (2, 3) };
    let mut n = 0;
    for (principal, key, count) in [(a, key_a, rows_a), (b, key_b, rows_b)] {
        for _ in 0..count {
            n += 1;
            sqlx::raw_sql(&seed(principal, key, n))
                .execute(&mut *conn)
                .await
                .map_err(|e| format!("seed {name}: {e}"))?;
        }
    }
    let count = |rows: Result<Vec<sqlx::postgres::PgRow>, sqlx::Error>| -> Result<i64, String> {
        rows.map_err(|e| e.to_string())
            .map(|r| r.first().map_or(-1, |row| row.get::<i64, _>(0)))
    };
    let select_count = format!("SELECT count(*) FROM {name}");
    let foreign = format!("SELECT count(*) FROM {name} WHERE \"{col}\" <> '{key_a}'");
    for role in [&roles.app, &roles.readonly, &roles.owner] {
        let seen = count(as_role(conn, role, Some(a), &select_count).await)?;
        if seen != rows_a {
            return Err(format!("{name}: {role} with tenant A's context sees {seen} rows, not A's {rows_a}"));
        }
        if count(as_role(conn, role, Some(a), &foreign).await)? != 0 {
            return Err(format!("{name}: {role} sees another tenant's rows"));
        }
        let none = count(as_role(conn, role, None, &select_count).await)?;
        if none != 0 {
            return Err(format!("{name}: {role} without a tenant context sees {none} rows"));
        }
    }
    let app = &roles.app;
    // Writing another tenant's row, or a row with no context: rejected.
    n += 1;
    let insert_b = seed(b, key_b, n);
    if !is_rejected(&as_role(conn, app, Some(a), &insert_b).await) {
        return Err(format!("{name}: tenant A could insert a row for tenant B"));
    }
    if !is_rejected(&as_role(conn, app, None, &insert_b).await) {
        return Err(format!("{name}: an insert without tenant context was not rejected"));
    }
    if !hub.readonly {
        if !one_per_tenant {
            let insert_a = seed(a, key_a, n + 1);
            as_role(conn, app, Some(a), &insert_a)
                .await
                .map_err(|e| format!("{name}: tenant A cannot insert its own row: {e}"))?;
        }
        let update_b =
            format!("WITH u AS (UPDATE {name} SET \"{col}\" = \"{col}\" WHERE \"{col}\" = '{key_b}' RETURNING 1) SELECT count(*) FROM u");
        let delete_b = format!("WITH d AS (DELETE FROM {name} WHERE \"{col}\" = '{key_b}' RETURNING 1) SELECT count(*) FROM d");
        if count(as_role(conn, app, Some(a), &update_b).await)? != 0 || count(as_role(conn, app, Some(a), &delete_b).await)? != 0 {
            return Err(format!("{name}: tenant A updated or deleted tenant B's rows"));
        }
        let move_to_b = format!("UPDATE {name} SET \"{col}\" = '{key_b}' WHERE \"{col}\" = '{key_a}'");
        if !is_rejected(&as_role(conn, app, Some(a), &move_to_b).await) {
            return Err(format!("{name}: tenant A could move its row to tenant B"));
        }
    }
    if hub.readonly {
        let delete_b = format!("DELETE FROM {name} WHERE \"{col}\" = '{key_b}'");
        if !is_rejected(&as_role(conn, app, Some(a), &delete_b).await) {
            return Err(format!("{name}: the read-only hub's application role could delete"));
        }
    }
    // After a committed transaction that set a context, the session sees nothing.
    {
        let mut tx = conn.begin().await.map_err(|e| e.to_string())?;
        sqlx::query("SELECT set_config($1, $2, true)")
            .bind(TENANT_SETTING)
            .bind(a.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
        let after = count(as_role(conn, app, None, &select_count).await).map_err(|e| format!("{name}: after a committed context: {e}"))?;
        if after != 0 {
            return Err(format!("{name}: after a committed context the session sees {after} rows"));
        }
    }
    // The tenant predicate reaches an index.
    let explain = format!("EXPLAIN SELECT * FROM {name} WHERE \"{col}\" = '{key_a}'");
    let mut tx = conn.begin().await.map_err(|e| e.to_string())?;
    sqlx::raw_sql(&format!("SET LOCAL enable_seqscan = off; SET LOCAL ROLE \"{app}\""))
        .execute(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
    for setting in [TENANT_SETTING, OWNER_SETTING] {
        sqlx::query("SELECT set_config($1, $2, true)")
            .bind(setting)
            .bind(a.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| e.to_string())?;
    }
    let plan: Vec<String> = sqlx::query(&explain)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
    tx.rollback().await.map_err(|e| e.to_string())?;
    if !plan.iter().any(|line| line.contains("Index Cond") && line.contains(col)) {
        return Err(format!(
            "{name}: the tenant predicate is not in an Index Cond:\n{}",
            plan.join("\n")
        ));
    }
    Ok(())
}

#[tokio::test]
async fn every_scoped_table_isolates_tenants_and_owners() {
    let mut tables = 0;
    let mut failures = Vec::new();
    for (path, schema) in schemas().into_iter().chain(fixture_schemas()) {
        for hub in schema.hubs.iter().filter(|h| h.tables.iter().any(|t| t.is_scoped())) {
            let db = TestDb::create(&format!(
                "rls_{}_{}",
                path.rsplit('/').next().unwrap_or(&path).trim_end_matches(".hubs"),
                hub.name
            ))
            .await;
            let mut conn = db.connect().await;
            hubgen_live::apply(&mut conn, &initial_migration(&path, &schema, &hub.name))
                .await
                .expect("migrate");
            // Foreign keys are triggers; replica mode skips them so rows need no parents.
            // Row-level security is not a trigger and still applies.
            sqlx::raw_sql("SET session_replication_role = replica")
                .execute(&mut conn)
                .await
                .expect("replica mode");
            let roles = Roles::of(hub);
            let bypass: bool = sqlx::query_scalar("SELECT rolbypassrls FROM pg_roles WHERE rolname = $1")
                .bind(&roles.app)
                .fetch_one(&mut conn)
                .await
                .expect("app role exists");
            assert!(!bypass, "{}: the application role must not bypass RLS", roles.app);
            for table in hub.tables.iter().filter(|t| t.is_scoped()) {
                tables += 1;
                if let Err(failure) = check_table(&mut conn, hub, table).await {
                    failures.push(format!("{path} hub {}: {failure}", hub.name));
                }
            }
            drop(conn);
            db.drop_db().await;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {tables} tables leak:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(tables >= 55, "expected every scoped table to be checked, got {tables}");
    println!("row isolation holds for {tables} scoped tables");
}
