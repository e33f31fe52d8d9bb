//! SQL for the data lifecycle: pg_partman's configuration of a partitioned
//! table's upkeep, its removal, and `hubgen.secure_partitions`, which gives
//! every partition its parent's row-level security, policies and grants.
//!
//! pg_partman makes partitions (in a migration, in `maintain`, from pg_cron)
//! and copies grants, but not row-level security: a partition queried
//! directly would show every tenant's rows. So whatever makes partitions
//! calls `secure_partitions` after it.

use super::quote::literal;
use super::statement::Name;
use hubgen_schema::ir;

/// The schema pg_partman is installed in.
pub const PARTMAN_SCHEMA: &str = "partman";

/// hubgen's helper functions live here, apart from the hub's own schemas.
pub const HELPER_SCHEMA: &str = "hubgen";

/// Schemas that hold tools' objects rather than the hub's: never drift.
pub const TOOL_SCHEMAS: [&str; 3] = [PARTMAN_SCHEMA, HELPER_SCHEMA, "cron"];

/// Installs (or replaces) `hubgen.partman_like(parent, template)`: a
/// tenant's copy of a table pg_partman keeps joins pg_partman with the
/// template's configuration and its first partitions (the current period
/// and `premake` ahead, named as pg_partman names them, and the default).
/// pg_partman's `create_parent` does the same but costs more with every
/// set it manages (tens of milliseconds at a few hundred tenants), which
/// provisioning thousands of tenant schemas cannot afford; from then on
/// pg_partman keeps the copy like any other set.
const PARTMAN_LIKE_FN: &str = r#"CREATE OR REPLACE FUNCTION hubgen.partman_like(parent text, template text) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
    cfg record;
    unit text;
    start timestamptz;
    parent_schema text := split_part(parent, '.', 1);
    parent_name text := split_part(parent, '.', 2);
BEGIN
    SELECT * INTO cfg FROM partman.part_config WHERE parent_table = template;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pg_partman does not keep %: migrate the hub before provisioning tenants', template;
    END IF;
    INSERT INTO partman.part_config
        SELECT (jsonb_populate_record(NULL::partman.part_config, to_jsonb(c) || jsonb_build_object('parent_table', parent))).*
          FROM partman.part_config c WHERE c.parent_table = template;
    unit := CASE cfg.partition_interval::interval WHEN '1 hour' THEN 'hour' WHEN '1 day' THEN 'day' WHEN '7 days' THEN 'week'
                 WHEN '3 months' THEN 'quarter' WHEN '1 year' THEN 'year' ELSE 'month' END;
    FOR i IN 0..cfg.premake LOOP
        start := date_trunc(unit, now()) + cfg.partition_interval::interval * i;
        EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.%I FOR VALUES FROM (%L) TO (%L)', parent_schema,
                       parent_name || '_p' || to_char(start, cfg.datetime_string), parent_schema, parent_name,
                       start, start + cfg.partition_interval::interval);
    END LOOP;
    EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.%I DEFAULT', parent_schema, parent_name || '_default', parent_schema, parent_name);
END
$fn$;
"#;

/// Installs (or replaces) `hubgen.secure_partitions(parent)`. Idempotent:
/// it changes only what differs, and returns how many partitions it changed.
const SECURE_PARTITIONS_FN: &str = r#"CREATE SCHEMA IF NOT EXISTS hubgen;
CREATE OR REPLACE FUNCTION hubgen.secure_partitions(parent regclass) RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
    p pg_class;
    c pg_class;
    pol record;
    acl record;
    changed integer := 0;
    touched boolean;
BEGIN
    SELECT * INTO p FROM pg_class WHERE oid = parent;
    FOR c IN SELECT k.* FROM pg_partition_tree(parent) t JOIN pg_class k ON k.oid = t.relid WHERE t.relid <> parent LOOP
        touched := false;
        IF c.relowner <> p.relowner THEN
            EXECUTE format('ALTER TABLE %s OWNER TO %I', c.oid::regclass, pg_get_userbyid(p.relowner));
            touched := true;
        END IF;
        IF c.relrowsecurity <> p.relrowsecurity THEN
            EXECUTE format('ALTER TABLE %s %s ROW LEVEL SECURITY', c.oid::regclass, CASE WHEN p.relrowsecurity THEN 'ENABLE' ELSE 'DISABLE' END);
            touched := true;
        END IF;
        IF c.relforcerowsecurity <> p.relforcerowsecurity THEN
            EXECUTE format('ALTER TABLE %s %s ROW LEVEL SECURITY', c.oid::regclass, CASE WHEN p.relforcerowsecurity THEN 'FORCE' ELSE 'NO FORCE' END);
            touched := true;
        END IF;
        -- Policies: drop those that differ from the parent's, create the missing.
        FOR pol IN
            SELECT cp.polname FROM pg_policy cp WHERE cp.polrelid = c.oid AND NOT EXISTS (
                SELECT 1 FROM pg_policy pp WHERE pp.polrelid = parent AND pp.polname = cp.polname
                   AND pp.polcmd = cp.polcmd AND pp.polpermissive = cp.polpermissive AND pp.polroles = cp.polroles
                   AND pg_get_expr(pp.polqual, pp.polrelid) IS NOT DISTINCT FROM pg_get_expr(cp.polqual, cp.polrelid)
                   AND pg_get_expr(pp.polwithcheck, pp.polrelid) IS NOT DISTINCT FROM pg_get_expr(cp.polwithcheck, cp.polrelid))
        LOOP
            EXECUTE format('DROP POLICY %I ON %s', pol.polname, c.oid::regclass);
            touched := true;
        END LOOP;
        FOR pol IN
            SELECT pp.polname,
                   CASE pp.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END AS cmd,
                   CASE WHEN pp.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END AS kind,
                   (SELECT string_agg(CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END, ', ') FROM unnest(pp.polroles) r) AS roles,
                   pg_get_expr(pp.polqual, pp.polrelid) AS qual,
                   pg_get_expr(pp.polwithcheck, pp.polrelid) AS with_check
              FROM pg_policy pp
             WHERE pp.polrelid = parent AND NOT EXISTS (SELECT 1 FROM pg_policy cp WHERE cp.polrelid = c.oid AND cp.polname = pp.polname)
        LOOP
            EXECUTE format('CREATE POLICY %I ON %s AS %s FOR %s TO %s', pol.polname, c.oid::regclass, pol.kind, pol.cmd, pol.roles)
                || COALESCE(' USING (' || pol.qual || ')', '')
                || COALESCE(' WITH CHECK (' || pol.with_check || ')', '');
            touched := true;
        END LOOP;
        -- Grants: exactly the parent's.
        FOR acl IN
            SELECT a.grantee, a.privilege_type FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner
            EXCEPT SELECT a.grantee, a.privilege_type FROM aclexplode(p.relacl) a WHERE a.grantee <> p.relowner
        LOOP
            EXECUTE format('REVOKE %s ON %s FROM %s', acl.privilege_type, c.oid::regclass,
                           CASE WHEN acl.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(acl.grantee)) END);
            touched := true;
        END LOOP;
        FOR acl IN
            SELECT a.grantee, a.privilege_type FROM aclexplode(p.relacl) a WHERE a.grantee <> p.relowner
            EXCEPT SELECT a.grantee, a.privilege_type FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner
        LOOP
            EXECUTE format('GRANT %s ON %s TO %s', acl.privilege_type, c.oid::regclass,
                           CASE WHEN acl.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(acl.grantee)) END);
            touched := true;
        END LOOP;
        IF touched THEN
            changed := changed + 1;
        END IF;
    END LOOP;
    RETURN changed;
END
$fn$;
"#;

/// Installs hubgen's helper functions (idempotent).
pub fn install_helpers() -> String {
    format!("{SECURE_PARTITIONS_FN}{PARTMAN_LIKE_FN}")
}

/// A tenant's copy of `template` joins pg_partman like it, and is secured.
pub fn configure_like(table: &Name, template: &Name) -> String {
    format!(
        "SELECT hubgen.partman_like({}, {});\n{}",
        literal(&table.label()),
        literal(&template.label()),
        secure_partitions(table)
    )
}

/// Gives `table`'s partitions its security.
pub fn secure_partitions(table: &Name) -> String {
    format!("SELECT hubgen.secure_partitions({});\n", literal(&table.sql()))
}

/// pg_partman installed, the table registered with it (which makes the
/// current partition and `premake` ahead: rows of the past go to the
/// default partition, which `maintain` empties into partitions of their
/// own), retention configured, and the partitions secured.
pub fn configure(table: &Name, column: &str, upkeep: &ir::Upkeep) -> String {
    let parent = literal(&table.label());
    let retention = upkeep.retain.as_deref().map_or_else(|| "NULL".to_string(), literal);
    format!(
        "CREATE SCHEMA IF NOT EXISTS {PARTMAN_SCHEMA};\n\
         CREATE EXTENSION IF NOT EXISTS pg_partman SCHEMA {PARTMAN_SCHEMA};\n\
         SELECT {PARTMAN_SCHEMA}.create_parent({parent}, {column}, 'native', {interval}, p_premake := {premake}, \
         p_start_partition := date_trunc({unit}, now())::text, p_jobmon := false);\n\
         UPDATE {PARTMAN_SCHEMA}.part_config SET retention = {retention}, retention_keep_table = {archive}, \
         infinite_time_partitions = true, inherit_privileges = true WHERE parent_table = {parent};\n{secure}",
        column = literal(column),
        interval = literal(&upkeep.interval),
        unit = literal(upkeep.truncation_unit()),
        premake = upkeep.premake,
        archive = upkeep.archive,
        secure = secure_partitions(table),
    )
}

/// pg_partman's settings changed in place (same interval).
pub fn reconfigure(table: &Name, upkeep: &ir::Upkeep) -> String {
    format!(
        "UPDATE {PARTMAN_SCHEMA}.part_config SET premake = {premake}, retention = {retention}, retention_keep_table = {archive} \
         WHERE parent_table = {parent};\n",
        parent = literal(&table.label()),
        premake = upkeep.premake,
        retention = upkeep.retain.as_deref().map_or_else(|| "NULL".to_string(), literal),
        archive = upkeep.archive,
    )
}

/// The table leaves pg_partman: its configuration and template go, and so
/// do the partitions it made, except `kept` (declared ones) — but only when
/// empty: a partition holding rows stops the migration, which rolls back.
pub fn remove(table: &Name, kept: &[String]) -> String {
    let kept: Vec<String> = kept.iter().map(|k| literal(k)).collect();
    let kept = if kept.is_empty() {
        "ARRAY[]::text[]".to_string()
    } else {
        format!("ARRAY[{}]", kept.join(", "))
    };
    format!(
        "DO $$\n\
         DECLARE\n    part regclass;\n    has_rows boolean;\n\
         BEGIN\n    \
             FOR part IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = {parent}::regclass \
             AND (SELECT relname FROM pg_class WHERE oid = inhrelid) <> ALL ({kept}) LOOP\n        \
                 EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s)', part) INTO has_rows;\n        \
                 IF has_rows THEN\n            \
                     RAISE EXCEPTION 'partition % holds rows: declare it in the schema or move its rows before removing upkeep', part;\n        \
                 END IF;\n        \
                 EXECUTE format('DROP TABLE %s', part);\n    \
             END LOOP;\n    \
             DELETE FROM {PARTMAN_SCHEMA}.part_config WHERE parent_table = {label};\n    \
             EXECUTE format('DROP TABLE IF EXISTS {PARTMAN_SCHEMA}.%I', 'template_' || {schema} || '_' || {name});\n\
         END $$;\n",
        parent = literal(&table.sql()),
        label = literal(&table.label()),
        schema = literal(&table.schema),
        name = literal(&table.name),
    )
}

/// `retain ... by` of the hub's tables: (quoted table, quoted column, interval).
pub fn row_retention(hub: &ir::Hub) -> Vec<(String, String, String)> {
    hub.tables
        .iter()
        .filter_map(|t| {
            let r = t.retention.as_ref()?;
            Some((Name::of(t).sql(), super::quote::ident(&r.column), r.keep.clone()))
        })
        .collect()
}

/// The pg_cron job of a hub that schedules its maintenance, or `None`.
/// pg_cron lives in one database of the cluster (`cron.database_name`); the
/// job runs the upkeep in the hub's database: pg_partman's maintenance (its
/// own clock), then the partitions' security. Archiving and row retention
/// stay with `hubgen maintain`, which can write outside the database.
pub fn cron_script(hub: &ir::Hub) -> Option<String> {
    let schedule = hub.maintenance_schedule.as_ref()?;
    let job = format!("hubgen {} maintenance", hub.name);
    let command = format!(
        "SELECT {PARTMAN_SCHEMA}.run_maintenance(p_jobmon := false); \
         SELECT {HELPER_SCHEMA}.secure_partitions(parent_table::regclass) FROM {PARTMAN_SCHEMA}.part_config"
    );
    Some(format!(
        "-- hub {hub} on pg_cron: its partition upkeep on {schedule}.\n\
         -- Run in the database pg_cron is installed in (cron.database_name); re-running\n\
         -- updates the job. Retired partitions wait for `hubgen maintain` to archive them.\n\
         SELECT cron.schedule_in_database({job}, {schedule}, {command}, {database});\n",
        hub = hub.name,
        job = literal(&job),
        schedule = literal(schedule),
        command = literal(&command),
        database = literal(&hub.database),
    ))
}
