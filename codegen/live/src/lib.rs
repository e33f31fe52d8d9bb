//! hubgen against a live PostgreSQL. Kept apart from the pure core: this is
//! the only crate that opens connections.
//!
//! - [`introspect`] reads a database's catalog into a [`Catalog`] with a
//!   fixed number of queries ([`CATALOG_QUERIES`]), whatever the table count;
//! - [`apply`] runs a migration in one transaction, so a failing migration
//!   leaves the database as it was;
//! - [`migrate`] applies a hub's migration files as sqlx does, with retries
//!   for a migration that timed out waiting for a lock (`hubgen migrate`);
//! - [`verify::isolation`] proves every scoped table's row-level security
//!   with the database's own answers (`hubgen verify`).

pub mod import;
pub mod migrate;
pub mod verify;

use hubgen_codegen::catalog::{normalize_bound, normalize_expr, Catalog, Column, Enum, ForeignKey, Index, Key, Policy, Table};
use sqlx::{Connection, PgConnection, Row};

/// Runs one migration in a transaction: all of it, or nothing.
pub async fn apply(conn: &mut PgConnection, sql: &str) -> Result<(), sqlx::Error> {
    let mut tx = conn.begin().await?;
    sqlx::raw_sql(sql).execute(&mut *tx).await?;
    tx.commit().await
}

/// Connects to `url` in a read-only session and reads its catalog: what
/// `hubgen check --database-url` does. Returns the catalog and the query count.
pub async fn introspect_read_only(url: &str) -> Result<(Catalog, usize), sqlx::Error> {
    let mut conn = PgConnection::connect(url).await?;
    // Read-only by construction: the session cannot write even by mistake.
    sqlx::raw_sql("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        .execute(&mut conn)
        .await?;
    let result = introspect_counted(&mut conn).await?;
    conn.close().await?;
    Ok(result)
}

/// Schemas of the hub: not PostgreSQL's, not tools' (pg_partman, hubgen's helpers, pg_cron).
pub(crate) const USER_SCHEMAS: &str =
    "n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT IN ('information_schema', 'partman', 'hubgen', 'cron')";

/// The migration tools' own history tables: bookkeeping, not the schema.
pub const HISTORY_TABLES: &[&str] = &["public._sqlx_migrations", "public.flyway_schema_history"];

/// Reads every user schema of the connected database.
pub async fn introspect(conn: &mut PgConnection) -> Result<Catalog, sqlx::Error> {
    Ok(introspect_counted(conn).await?.0)
}

/// [`introspect`], also returning how many queries it sent.
pub async fn introspect_counted(conn: &mut PgConnection) -> Result<(Catalog, usize), sqlx::Error> {
    let mut queries = 0usize;
    let mut fetch = async |conn: &mut PgConnection, sql: String| {
        queries += 1;
        sqlx::query(&sql).fetch_all(conn).await
    };
    let mut catalog = Catalog::default();

    let q = format!("SELECT n.nspname FROM pg_namespace n WHERE {USER_SCHEMAS} AND n.nspname <> 'public' ORDER BY 1");
    for row in fetch(&mut *conn, q).await? {
        catalog.schemas.insert(row.get(0));
    }

    let q = format!(
        "SELECT n.nspname, t.typname, array(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder), \
         obj_description(t.oid, 'pg_type') \
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typtype = 'e' AND {USER_SCHEMAS}"
    );
    for row in fetch(&mut *conn, q).await? {
        let key = format!("{}.{}", row.get::<String, _>(0), row.get::<String, _>(1));
        catalog.enums.insert(
            key,
            Enum {
                values: row.get(2),
                comment: row.get(3),
            },
        );
    }

    let q = format!(
        "SELECT n.nspname, c.relname, obj_description(c.oid, 'pg_class'), c.relrowsecurity, c.relforcerowsecurity, \
         CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END, \
         array(SELECT a.grantee::regrole::text || ':' || lower(a.privilege_type) FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner AND a.grantee <> 0) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND {USER_SCHEMAS}"
    );
    for row in fetch(&mut *conn, q).await? {
        let mut table = Table {
            comment: row.get(2),
            rls_enabled: row.get(3),
            rls_forced: row.get(4),
            partition_key: row.get::<Option<String>, _>(5).map(|k| partition_column(&k)),
            ..Table::default()
        };
        for grant in row.get::<Vec<String>, _>(6) {
            if let Some((role, privilege)) = grant.rsplit_once(':') {
                table
                    .grants
                    .entry(role.trim_matches('"').to_string())
                    .or_default()
                    .insert(privilege.to_string());
            }
        }
        catalog.tables.insert(key(&row), table);
    }

    let q = format!(
        "SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, \
         pg_get_expr(d.adbin, d.adrelid), a.attgenerated::text, col_description(c.oid, a.attnum), ty.typtype::text \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_type ty ON ty.oid = a.atttypid \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND {USER_SCHEMAS} \
         ORDER BY n.nspname, c.relname, a.attnum"
    );
    for row in fetch(&mut *conn, q).await? {
        let Some(table) = catalog.tables.get_mut(&key(&row)) else {
            continue;
        };
        let name: String = row.get(2);
        let mut ty: String = row.get(3);
        if row.get::<String, _>(8) == "e" {
            // Enums compare by name, wherever the search path puts them.
            ty = ty.rsplit('.').next().unwrap_or(&ty).trim_matches('"').to_string();
        }
        let expr: Option<String> = row.get(5);
        let generated = row.get::<String, _>(6) == "s";
        table.column_order.push(name.clone());
        table.columns.insert(
            name,
            Column {
                ty,
                nullable: !row.get::<bool, _>(4),
                default: if generated { None } else { expr.as_deref().map(normalize_expr) },
                generated: if generated { expr.as_deref().map(normalize_expr) } else { None },
                comment: row.get(7),
            },
        );
    }

    let q = format!(
        "SELECT n.nspname, c.relname, k.conname, k.contype::text, \
         array(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(attnum, ord) JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum ORDER BY u.ord), \
         pg_get_expr(k.conbin, k.conrelid), fn.nspname, fc.relname, \
         array(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(attnum, ord) JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.attnum ORDER BY u.ord), \
         k.confdeltype::text, k.confupdtype::text \
         FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_class fc ON fc.oid = k.confrelid LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace \
         WHERE k.contype IN ('p', 'u', 'c', 'f') AND NOT c.relispartition AND {USER_SCHEMAS}"
    );
    for row in fetch(&mut *conn, q).await? {
        let Some(table) = catalog.tables.get_mut(&key(&row)) else {
            continue;
        };
        let name: String = row.get(2);
        let columns: Vec<String> = row.get(4);
        match row.get::<String, _>(3).as_str() {
            "p" => table.primary_key = Some(Key { name, columns }),
            "u" => {
                table.uniques.insert(name, columns);
            }
            "c" => {
                table.checks.insert(name, normalize_expr(&row.get::<String, _>(5)));
            }
            _ => {
                let references = format!("{}.{}", row.get::<String, _>(6), row.get::<String, _>(7));
                let action = |code: String| {
                    match code.as_str() {
                        "r" => "restrict",
                        "c" => "cascade",
                        "n" => "set null",
                        "d" => "set default",
                        _ => "no action",
                    }
                    .to_string()
                };
                table.foreign_keys.insert(
                    name,
                    ForeignKey {
                        columns,
                        references,
                        ref_columns: row.get(8),
                        on_delete: action(row.get(9)),
                        on_update: action(row.get(10)),
                    },
                );
            }
        }
    }

    // Indexes that back a constraint are the constraint's, not the schema's.
    let q = format!(
        "SELECT n.nspname, c.relname, i.relname, x.indisunique, am.amname::text, pg_get_expr(x.indpred, x.indrelid), \
         array(SELECT a.attname::text || CASE WHEN (o.opt & 1) = 1 THEN ' desc' ELSE '' END \
               FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, ord) \
               JOIN unnest(x.indoption::int2[]) WITH ORDINALITY o(opt, ord) ON o.ord = k.ord \
               JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum ORDER BY k.ord) \
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am am ON am.oid = i.relam \
         WHERE NOT c.relispartition AND {USER_SCHEMAS} \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid)"
    );
    for row in fetch(&mut *conn, q).await? {
        let Some(table) = catalog.tables.get_mut(&key(&row)) else {
            continue;
        };
        let predicate: Option<String> = row.get(5);
        table.indexes.insert(
            row.get(2),
            Index {
                unique: row.get(3),
                method: row.get(4),
                columns: row.get(6),
                predicate: predicate.as_deref().map(normalize_expr),
            },
        );
    }

    let q = format!(
        "SELECT n.nspname, p.relname, c.relname, pg_get_expr(c.relpartbound, c.oid) \
         FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid JOIN pg_class p ON p.oid = h.inhparent \
         JOIN pg_namespace n ON n.oid = p.relnamespace WHERE c.relispartition AND c.relkind IN ('r', 'p') AND {USER_SCHEMAS}"
    );
    for row in fetch(&mut *conn, q).await? {
        let Some(table) = catalog.tables.get_mut(&key(&row)) else {
            continue;
        };
        table.partitions.insert(row.get(2), partition_bounds(&row.get::<String, _>(3)));
    }

    let q = format!(
        "SELECT n.nspname, c.relname, p.polname, p.polcmd::text, \
         array(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END FROM unnest(p.polroles) r ORDER BY 1), \
         pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid) \
         FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER_SCHEMAS}"
    );
    for row in fetch(&mut *conn, q).await? {
        let Some(table) = catalog.tables.get_mut(&key(&row)) else {
            continue;
        };
        let command = match row.get::<String, _>(3).as_str() {
            "r" => "select",
            "a" => "insert",
            "w" => "update",
            "d" => "delete",
            _ => "all",
        };
        let using: Option<String> = row.get(5);
        let with_check: Option<String> = row.get(6);
        table.policies.insert(
            row.get(2),
            Policy {
                command: command.to_string(),
                roles: row.get(4),
                using: using.as_deref().map(normalize_expr),
                with_check: with_check.as_deref().map(normalize_expr),
            },
        );
    }
    // hubgen's erase function: compared by a hash of its body, as written.
    let q = "SELECT p.oid::regprocedure::text, p.prosrc FROM pg_proc p \
             WHERE p.pronamespace::regnamespace::text = 'hubgen' AND p.proname LIKE 'erase\\_%\\_subject'"
        .to_string();
    for row in fetch(&mut *conn, q).await? {
        let body: String = row.get(1);
        catalog.functions.insert(row.get(0), hubgen_codegen::hash::hex(body.as_bytes()));
    }
    // Audit triggers (a partitioned table's partitions inherit its triggers).
    let q = format!(
        "SELECT n.nspname, c.relname, string_agg(t.tgname || ': ' || f.pronamespace::regnamespace::text || '.' || f.proname \
           || '(' || encode(t.tgargs, 'escape') || ')', '; ' ORDER BY t.tgname) \
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_proc f ON f.oid = t.tgfoid WHERE t.tgname LIKE '{}%' AND t.tgparentid = 0 AND {USER_SCHEMAS} GROUP BY 1, 2",
        hubgen_codegen::sql::audit::TRIGGER_PREFIX
    );
    for row in fetch(&mut *conn, q).await? {
        if let Some(table) = catalog.tables.get_mut(&key(&row)) {
            // `encode(…, 'escape')` ends each argument in `\000`: back to `a, b, c`.
            let triggers: Vec<String> = row
                .get::<String, _>(2)
                .split("; ")
                .map(|t| match t.split_once('(') {
                    Some((head, args)) => format!("{head}({})", trigger_args(args.trim_end_matches(')')).join(", ")),
                    None => t.to_string(),
                })
                .collect();
            table.audit = Some(triggers.join("; "));
        }
    }
    // Partitions whose security differs from their parent's.
    let q = format!(
        "SELECT n.nspname, p.relname, c.relname, concat_ws('; ', \
           CASE WHEN (c.relrowsecurity, c.relforcerowsecurity) <> (p.relrowsecurity, p.relforcerowsecurity) \
                THEN 'row-level security ' || CASE WHEN c.relrowsecurity THEN 'on' ELSE 'off' END \
                     || CASE WHEN c.relforcerowsecurity THEN ', forced' ELSE ', not forced' END END, \
           CASE WHEN ({POLICIES} c.oid) IS DISTINCT FROM ({POLICIES} p.oid) THEN 'policies differ' END, \
           CASE WHEN ({GRANTS} c.oid) IS DISTINCT FROM ({GRANTS} p.oid) THEN 'grants differ' END) \
         FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid JOIN pg_class p ON p.oid = h.inhparent \
         JOIN pg_namespace n ON n.oid = p.relnamespace WHERE c.relispartition AND {USER_SCHEMAS}"
    );
    for row in fetch(&mut *conn, q).await? {
        let how: String = row.get(3);
        if let (false, Some(table)) = (how.is_empty(), catalog.tables.get_mut(&key(&row))) {
            table.insecure_partitions.insert(row.get(2), how);
        }
    }

    // pg_partman's configuration and the tenant schemas' registry, where they are.
    let q = "SELECT to_regclass('partman.part_config') IS NOT NULL, to_regclass('hubgen.tenant_schemas') IS NOT NULL".to_string();
    let tools = fetch(&mut *conn, q).await?;
    let partman: bool = tools.first().is_some_and(|r| r.get(0));
    if tools.first().is_some_and(|r| r.get::<bool, _>(1)) {
        let q = "SELECT schema_name FROM hubgen.tenant_schemas".to_string();
        catalog.tenant_schemas = fetch(&mut *conn, q).await?.iter().map(|r| r.get(0)).collect();
    }
    if partman {
        let q = "SELECT split_part(parent_table, '.', 1), split_part(parent_table, '.', 2), partition_interval, premake, \
                 retention, retention_keep_table FROM partman.part_config"
            .to_string();
        for row in fetch(&mut *conn, q).await? {
            let name = key(&row);
            let interval: String = row.get(2);
            let upkeep = hubgen_schema::ir::Upkeep {
                interval: partman_interval(&interval).unwrap_or(&interval).to_string(),
                premake: row.get::<i32, _>(3).try_into().unwrap_or_default(),
                retain: row.get(4),
                archive: row.get(5),
            };
            let Some(table) = catalog.tables.get_mut(&name) else {
                continue;
            };
            table.upkeep = Some(hubgen_codegen::catalog::upkeep_label(&upkeep));
            // Partitions come and go with the calendar; their security is checked above.
            table.partitions.clear();
            // Partitions retired but not yet archived (`maintain` finishes them) are not drift.
            let retired = format!("{name}_p");
            catalog
                .tables
                .retain(|t, _| !(t.starts_with(&retired) && t[retired.len()..].starts_with(|c: char| c.is_ascii_digit())));
        }
    }

    catalog.tables.retain(|name, _| !HISTORY_TABLES.contains(&name.as_str()));
    Ok((catalog, queries))
}

/// A partition's policies, comparable across tables (append the table's oid).
const POLICIES: &str = "SELECT array_agg(row(polname, polcmd, polpermissive, polroles, \
    pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid))::text ORDER BY polname) FROM pg_policy WHERE polrelid =";

/// A table's grants other than its owner's (append the table's oid).
// Sorted by what it lists (`ORDER BY 1` in an aggregate sorts by the constant 1):
// ACL entries come in the order the grants were made, which may differ between a table and its partitions.
const GRANTS: &str = "SELECT array_agg(a.grantee::text || ' ' || a.privilege_type ORDER BY a.grantee::text, a.privilege_type) \
    FROM pg_class t, aclexplode(t.relacl) a WHERE a.grantee <> t.relowner AND t.oid =";

/// A trigger's arguments from `encode(tgargs, 'escape')`: each ends in a NUL
/// byte, which the escape format writes as `\000` (and a backslash as `\\`).
pub(crate) fn trigger_args(escaped: &str) -> Vec<String> {
    let mut args: Vec<String> = escaped.split("\\000").map(|a| a.replace("\\\\", "\\")).collect();
    args.pop();
    args
}

/// pg_partman's stored interval → the name hubgen configures it by.
pub(crate) fn partman_interval(stored: &str) -> Option<&'static str> {
    Some(match stored {
        "01:00:00" => "hourly",
        "1 day" => "daily",
        "7 days" => "weekly",
        "1 mon" => "monthly",
        "3 mons" => "quarterly",
        "1 year" => "yearly",
        _ => return None,
    })
}

fn key(row: &sqlx::postgres::PgRow) -> String {
    format!("{}.{}", row.get::<String, _>(0), row.get::<String, _>(1))
}

/// `RANGE (received_at)` → `received_at`; `LIST (region)` → `list (region)`
/// (as the expected catalog writes keys).
fn partition_column(definition: &str) -> String {
    let (method, rest) = definition.split_once(' ').unwrap_or(("RANGE", definition));
    let column = rest.trim().trim_start_matches('(').trim_end_matches(')').trim_matches('"');
    match method {
        "RANGE" => column.to_string(),
        other => format!("{} ({column})", other.to_ascii_lowercase()),
    }
}

/// A partition bound as the expected catalog writes it:
/// `FOR VALUES FROM ('2026-02-01 00:00:00') TO ('2026-03-01 00:00:00')` → `'2026-02-01' .. '2026-03-01'`,
/// `FOR VALUES IN ('eu', 'uk')` → `in ('eu', 'uk')`, `DEFAULT` → `default`,
/// `FOR VALUES WITH (modulus 16, remainder 3)` → `modulus 16 remainder 3`.
fn partition_bounds(definition: &str) -> String {
    let inner = |s: &str| s.trim().trim_start_matches('(').trim_end_matches(')').to_string();
    if definition == "DEFAULT" {
        return "default".into();
    }
    if let Some(values) = definition.strip_prefix("FOR VALUES IN ") {
        let values: Vec<String> = inner(values).split(", ").map(normalize_bound).collect();
        return format!("in ({})", values.join(", "));
    }
    if let Some(hash) = definition.strip_prefix("FOR VALUES WITH ") {
        return inner(hash).replace(',', "");
    }
    match definition.split_once(" FROM ").and_then(|(_, rest)| rest.split_once(" TO ")) {
        Some((from, to)) => format!("{} .. {}", normalize_bound(&inner(from)), normalize_bound(&inner(to))),
        None => definition.to_string(),
    }
}
