//! Reads a database for `hubgen import`: PostgreSQL's own text for every
//! expression (`pg_get_expr`), in a fixed number of catalog queries,
//! whatever the table count. The pure part, writing schema text, is
//! `hubgen_codegen::import`.

use crate::{partman_interval, HISTORY_TABLES, USER_SCHEMAS};
use hubgen_codegen::import::{Column, Constraint, Database, Enum, Index, Policy, Role, Table};
use sqlx::{PgConnection, Row};
use std::collections::{BTreeMap, BTreeSet};

/// The database as its catalog describes it, and how many queries that took.
pub async fn read(conn: &mut PgConnection) -> Result<(Database, Vec<String>, usize), sqlx::Error> {
    let mut queries = 0usize;
    let mut fetch = async |conn: &mut PgConnection, sql: String| {
        queries += 1;
        sqlx::query(&sql).fetch_all(conn).await
    };
    let mut notes = Vec::new();
    let mut db = Database::default();

    let row = fetch(
        &mut *conn,
        "SELECT current_database()::text, shobj_description(d.oid, 'pg_database'), \
         to_regclass('hubgen.tenant_schemas') IS NOT NULL, to_regclass('partman.part_config') IS NOT NULL \
         FROM pg_database d WHERE d.datname = current_database()"
            .into(),
    )
    .await?
    .remove(0);
    db.name = row.get(0);
    db.comment = row.get(1);
    let (registry, partman): (bool, bool) = (row.get(2), row.get(3));
    let tenants: BTreeSet<String> = if registry {
        notes.push("schema per tenant: the tenant copies are left out; mark the template schema `per tenant` by hand".into());
        fetch(&mut *conn, "SELECT schema_name FROM hubgen.tenant_schemas".into())
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect()
    } else {
        BTreeSet::new()
    };
    let own = |schema: &str| !tenants.contains(schema);

    db.extensions = fetch(
        &mut *conn,
        "SELECT extname::text FROM pg_extension WHERE extname NOT IN ('plpgsql', 'pg_partman', 'pg_cron') ORDER BY 1".into(),
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect();

    db.schemas = fetch(
        &mut *conn,
        format!("SELECT n.nspname::text FROM pg_namespace n WHERE {USER_SCHEMAS} AND n.nspname <> 'public' ORDER BY 1"),
    )
    .await?
    .iter()
    .map(|r| r.get::<String, _>(0))
    .filter(|s| own(s))
    .collect();

    for row in fetch(
        &mut *conn,
        format!(
            "SELECT n.nspname::text, t.typname::text, array(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder), \
             obj_description(t.oid, 'pg_type') FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
             WHERE t.typtype = 'e' AND {USER_SCHEMAS} ORDER BY t.oid"
        ),
    )
    .await?
    {
        let schema: String = row.get(0);
        if own(&schema) {
            db.enums.push(Enum {
                schema,
                name: row.get(1),
                values: row.get(2),
                comment: row.get(3),
            });
        }
    }

    // Tables, in creation order (oid), keyed by oid for the queries below.
    let mut tables: BTreeMap<u32, Table> = BTreeMap::new();
    let mut order: Vec<u32> = Vec::new();
    for row in fetch(
        &mut *conn,
        format!(
            "SELECT c.oid::int8, n.nspname::text, c.relname::text, obj_description(c.oid, 'pg_class'), pg_get_userbyid(c.relowner)::text, \
             c.relrowsecurity, c.relforcerowsecurity, CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END, \
             array(SELECT CASE WHEN a.grantee = 0 THEN 'public' ELSE pg_get_userbyid(a.grantee)::text END || ':' || lower(a.privilege_type) \
                   FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner ORDER BY 1) \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND {USER_SCHEMAS} ORDER BY c.oid"
        ),
    )
    .await?
    {
        let (schema, name): (String, String) = (row.get(1), row.get(2));
        if !own(&schema) || HISTORY_TABLES.contains(&format!("{schema}.{name}").as_str()) {
            continue;
        }
        let oid = oid(&row);
        let mut grants: Vec<(String, Vec<String>)> = Vec::new();
        for grant in row.get::<Vec<String>, _>(8) {
            let Some((role, privilege)) = grant.rsplit_once(':') else { continue };
            match grants.iter_mut().find(|(r, _)| r == role) {
                Some((_, privileges)) => privileges.push(privilege.to_string()),
                None => grants.push((role.to_string(), vec![privilege.to_string()])),
            }
        }
        for (_, privileges) in &mut grants {
            let rank = |p: &String| ["select", "insert", "update", "delete", "truncate", "references", "trigger"].iter().position(|x| x == p);
            privileges.sort_by_key(rank);
        }
        order.push(oid);
        tables.insert(
            oid,
            Table {
                schema,
                name,
                comment: row.get(3),
                owner: row.get(4),
                rls_enabled: row.get(5),
                rls_forced: row.get(6),
                partition_key: row.get(7),
                grants,
                ..Table::default()
            },
        );
    }

    for row in fetch(
        &mut *conn,
        "SELECT a.attrelid::int8, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, \
         pg_get_expr(d.adbin, d.adrelid), a.attgenerated::text, col_description(a.attrelid, a.attnum), \
         ty.typtype::text = 'e' OR coalesce((SELECT e.typtype::text FROM pg_type e WHERE e.oid = ty.typelem) = 'e', false) \
         FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attrelid, a.attnum"
            .into(),
    )
    .await?
    {
        let Some(table) = tables.get_mut(&oid(&row)) else { continue };
        let expr: Option<String> = row.get(4);
        let generated = row.get::<String, _>(5) == "s";
        table.columns.push(Column {
            name: row.get(1),
            ty: row.get(2),
            not_null: row.get(3),
            default: if generated { None } else { expr.clone() },
            generated: if generated { expr } else { None },
            comment: row.get(6),
            is_enum: row.get(7),
            sensitive: false,
        });
    }

    for row in fetch(
        &mut *conn,
        "SELECT c.conrelid::int8, c.conname::text, c.contype::text, \
         array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i), \
         pg_get_expr(c.conbin, c.conrelid), \
         (SELECT n.nspname || '.' || r.relname FROM pg_class r JOIN pg_namespace n ON n.oid = r.relnamespace WHERE r.oid = c.confrelid), \
         array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i), \
         c.confdeltype::text, c.confupdtype::text \
         FROM pg_constraint c WHERE c.contype IN ('p', 'u', 'c', 'f') AND c.conrelid <> 0 ORDER BY c.conrelid, c.oid"
            .into(),
    )
    .await?
    {
        let Some(table) = tables.get_mut(&oid(&row)) else { continue };
        let kind = row.get::<String, _>(2).chars().next().unwrap_or(' ');
        let action = |i: usize| row.get::<String, _>(i).chars().next().unwrap_or('a');
        table.constraints.push(Constraint {
            name: row.get(1),
            kind,
            columns: row.get(3),
            check: row.get(4),
            references: row
                .get::<Option<String>, _>(5)
                .map(|target| (target, row.get(6), action(7), action(8))),
        });
    }

    for row in fetch(
        &mut *conn,
        "SELECT i.indrelid::int8, c.relname::text, i.indisunique, am.amname::text, \
         array(SELECT CASE WHEN i.indkey[k - 1] = 0 THEN NULL ELSE pg_get_indexdef(i.indexrelid, k, true) END FROM generate_series(1, i.indnkeyatts) k ORDER BY k), \
         array(SELECT (i.indoption[k - 1] & 1) = 1 FROM generate_series(1, i.indnkeyatts) k ORDER BY k), \
         pg_get_expr(i.indpred, i.indrelid) \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam \
         WHERE NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x')) \
         ORDER BY i.indrelid, c.oid"
            .into(),
    )
    .await?
    {
        let Some(table) = tables.get_mut(&oid(&row)) else { continue };
        let columns: Vec<Option<String>> = row.get(4);
        table.indexes.push(Index {
            name: row.get(1),
            unique: row.get(2),
            method: row.get(3),
            columns: columns.into_iter().map(|c| c.map(|c| c.trim_matches('"').to_string())).collect(),
            descending: row.get(5),
            predicate: row.get(6),
        });
    }

    for row in fetch(
        &mut *conn,
        "SELECT i.inhparent::int8, c.relname::text, pg_get_expr(c.relpartbound, c.oid) \
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relispartition ORDER BY i.inhparent, c.relname"
            .into(),
    )
    .await?
    {
        if let Some(table) = tables.get_mut(&oid(&row)) {
            table.partitions.push((row.get(1), row.get(2)));
        }
    }

    for row in fetch(
        &mut *conn,
        "SELECT p.polrelid::int8, p.polname::text, \
         CASE p.polcmd WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert' WHEN 'w' THEN 'update' WHEN 'd' THEN 'delete' ELSE 'all' END, \
         array(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END FROM unnest(p.polroles) r ORDER BY 1), \
         pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid) \
         FROM pg_policy p ORDER BY p.polrelid, p.oid"
            .into(),
    )
    .await?
    {
        let Some(table) = tables.get_mut(&oid(&row)) else { continue };
        table.policies.push(Policy {
            name: row.get(1),
            command: row.get(2),
            roles: row.get(3),
            using: row.get(4),
            with_check: row.get(5),
        });
    }

    if partman {
        for row in fetch(
            &mut *conn,
            "SELECT to_regclass(parent_table)::oid::int8, partition_interval, premake, retention, retention_keep_table FROM partman.part_config".into(),
        )
        .await?
        {
            let Some(table) = row.try_get::<Option<i64>, _>(0)?.and_then(|o| tables.get_mut(&(o as u32))) else {
                continue;
            };
            let interval: String = row.get(1);
            // pg_partman's stored interval → its name → the `every` clause that configures it.
            let every = partman_interval(&interval)
                .and_then(|name| hubgen_schema::ir::Upkeep::INTERVALS.iter().find(|(_, n)| *n == name))
                .map(|(every, _)| *every);
            let Some(every) = every else {
                notes.push(format!("{}.{}: pg_partman interval `{interval}`", table.schema, table.name));
                continue;
            };
            let mut upkeep = format!("every {every} premake {}", row.get::<i32, _>(2));
            if let Some(retain) = row.get::<Option<String>, _>(3) {
                upkeep.push_str(&format!(" retain {retain}"));
                if row.get::<bool, _>(4) {
                    upkeep.push_str(" archive");
                }
            }
            table.upkeep = Some(upkeep);
        }
    }

    // What the language has no words for, by name.
    for row in fetch(
        &mut *conn,
        format!(
            "SELECT 'function ' || format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)), NULL::int8, NULL \
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
             WHERE {USER_SCHEMAS} AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e') \
             UNION ALL \
             SELECT CASE c.relkind WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized view ' WHEN 'f' THEN 'foreign table ' ELSE 'sequence ' END \
                    || format('%I.%I', n.nspname, c.relname), NULL::int8, NULL \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE {USER_SCHEMAS} AND c.relkind IN ('v', 'm', 'f', 'S') \
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('e', 'a', 'i')) \
             UNION ALL \
             SELECT 'trigger ' || format('%I on %I.%I', t.tgname, n.nspname, c.relname), \
                    CASE WHEN t.tgname LIKE 'hubgen\\_audit\\_%' AND f.pronamespace::regnamespace::text = 'hubgen' THEN c.oid::int8 END, \
                    encode(t.tgargs, 'escape') \
             FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_proc f ON f.oid = t.tgfoid \
             WHERE {USER_SCHEMAS} AND NOT t.tgisinternal AND t.tgparentid = 0 \
             ORDER BY 1"
        ),
    )
    .await?
    {
        // hubgen's own audit trigger is the `audited` trait; the columns it masks are `@sensitive`.
        if let Some(table) = row.try_get::<Option<i64>, _>(1)?.and_then(|o| tables.get_mut(&(o as u32))) {
            table.audited = true;
            let args = crate::trigger_args(&row.get::<String, _>(2));
            let masked: Vec<&str> = args
                .get(hubgen_codegen::sql::audit::MASKED_ARG)
                .map(|m| m.split(',').collect()).unwrap_or_default();
            for column in table.columns.iter_mut().filter(|c| masked.contains(&c.name.as_str())) {
                column.sensitive = true;
            }
            continue;
        }
        let what: String = row.get(0);
        let schema = what.split_whitespace().last().unwrap_or_default().split('.').next().unwrap_or_default();
        if own(schema.trim_matches('"')) {
            notes.push(what);
        }
    }

    // The roles grants and policies name, with their attributes.
    let mut named: BTreeSet<String> = BTreeSet::new();
    for table in tables.values() {
        named.extend(table.grants.iter().map(|(r, _)| r.clone()));
        named.extend(table.policies.iter().flat_map(|p| p.roles.iter().cloned()));
    }
    named.remove("public");
    let names: Vec<String> = named.into_iter().collect();
    queries += 1;
    for row in sqlx::query("SELECT rolname::text, rolbypassrls FROM pg_roles WHERE rolname = ANY($1) ORDER BY 1")
        .bind(&names)
        .fetch_all(&mut *conn)
        .await?
    {
        db.roles.push(Role {
            name: row.get(0),
            bypass_rls: row.get(1),
        });
    }

    db.tables = order.into_iter().filter_map(|oid| tables.remove(&oid)).collect();
    Ok((db, notes, queries))
}

fn oid(row: &sqlx::postgres::PgRow) -> u32 {
    row.get::<i64, _>(0) as u32
}
