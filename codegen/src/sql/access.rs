//! Roles, ownership, grants and row-level security.
//!
//! Every hub gets three roles: an owner (owns the objects, runs migrations),
//! an application role (NOLOGIN, never BYPASSRLS: services log in as a
//! member of it) and a read-only role. Tenant-scoped tables ENABLE and FORCE
//! row-level security, with one policy for every role and command.

use super::quote::{ident, qualified};
use hubgen_schema::ir;
use std::fmt::Write;

/// The setting a tenant-scoped transaction sets (`set_config(..., true)`).
pub const TENANT_SETTING: &str = "app.current_tenant_id";
/// The name of the tenant-isolation policy on every tenant-scoped table.
pub const TENANT_POLICY: &str = "tenant_isolation";

/// The per-hub role names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roles {
    pub owner: String,
    pub app: String,
    pub readonly: String,
}

impl Roles {
    pub fn of(hub: &ir::Hub) -> Roles {
        Roles {
            owner: format!("{}_owner", hub.name),
            app: format!("{}_app", hub.name),
            readonly: format!("{}_readonly", hub.name),
        }
    }
}

/// The tenant predicate. The sub-select is evaluated once (an InitPlan), so
/// the comparison can use an index; `nullif` turns the `''` a once-set,
/// now-reset setting reads back as into NULL, which matches no row.
pub fn tenant_predicate(column: &str) -> String {
    format!(
        "{} = (SELECT NULLIF(current_setting('{TENANT_SETTING}', true), '')::uuid)",
        ident(column)
    )
}

/// Roles are cluster-wide and shared by every database of the cluster, so
/// they are created only when missing, race-free.
pub(super) fn roles(hub: &ir::Hub) -> String {
    let roles = Roles::of(hub);
    let mut wanted: Vec<(String, &str)> = vec![
        (roles.owner.clone(), "NOLOGIN"),
        (roles.app.clone(), "NOLOGIN NOBYPASSRLS"),
        (roles.readonly.clone(), "NOLOGIN NOBYPASSRLS"),
    ];
    for role in &hub.roles {
        wanted.push((
            role.name.clone(),
            if role.bypass_rls {
                "NOLOGIN BYPASSRLS"
            } else {
                "NOLOGIN NOBYPASSRLS"
            },
        ));
    }
    let mut sql = String::from("-- Roles are shared by the whole cluster: create each one only if it is missing.\n");
    for (name, options) in wanted {
        sql.push_str(&create_role(&name, options));
    }
    sql
}

/// Ownership, grants, row-level security and policies.
pub(super) fn security(hub: &ir::Hub) -> Vec<String> {
    let roles = Roles::of(hub);
    let owner = ident(&roles.owner);
    let mut out = Vec::new();

    let mut ownership = String::from("-- The owner role owns every object; FORCE below keeps it subject to RLS too.\n");
    for schema in &hub.schemas {
        let _ = writeln!(ownership, "ALTER SCHEMA {} OWNER TO {owner};", ident(schema));
    }
    for e in &hub.enums {
        let _ = writeln!(ownership, "ALTER TYPE {} OWNER TO {owner};", qualified(&e.schema, &e.name));
    }
    for table in &hub.tables {
        ownership.push_str(&table_ownership(hub, table));
    }
    out.push(ownership);

    let mut grants = format!(
        "-- Least privilege: the application {}; the read-only role reads.\n",
        if hub.readonly {
            "reads (this hub is read-only)"
        } else {
            "reads and writes rows"
        }
    );
    let mut schemas: Vec<&str> = vec![hubgen_schema::DEFAULT_SCHEMA];
    schemas.extend(hub.schemas.iter().map(String::as_str));
    for schema in &schemas {
        grants.push_str(&schema_usage(hub, schema));
    }
    for e in &hub.enums {
        grants.push_str(&type_usage(hub, e));
    }
    for table in &hub.tables {
        grants.push_str(&table_grants(hub, table));
    }
    out.push(grants);

    for table in hub.tables.iter().filter(|t| rls_enabled(t)) {
        out.push(table_rls(table));
    }
    out
}

pub(crate) fn schema_usage(hub: &ir::Hub, schema: &str) -> String {
    let roles = Roles::of(hub);
    format!(
        "GRANT USAGE ON SCHEMA {} TO {}, {};\n",
        ident(schema),
        ident(&roles.app),
        ident(&roles.readonly)
    )
}

pub(crate) fn type_usage(hub: &ir::Hub, e: &ir::Enum) -> String {
    let roles = Roles::of(hub);
    format!(
        "GRANT USAGE ON TYPE {} TO {}, {};\n",
        qualified(&e.schema, &e.name),
        ident(&roles.app),
        ident(&roles.readonly)
    )
}

/// `ALTER TABLE ... OWNER TO <hub>_owner` for a table and its partitions.
pub(crate) fn table_ownership(hub: &ir::Hub, table: &ir::Table) -> String {
    let owner = ident(&Roles::of(hub).owner);
    let mut sql = format!("ALTER TABLE {} OWNER TO {owner};\n", qualified(&table.schema, &table.name));
    for p in table.partitioning.iter().flat_map(|p| &p.partitions) {
        let _ = writeln!(sql, "ALTER TABLE {} OWNER TO {owner};", qualified(&table.schema, &p.name));
    }
    sql
}

/// The privileges each role holds on a table: (role, privileges), roles in a stable order.
pub fn table_privileges(hub: &ir::Hub, table: &ir::Table) -> Vec<(String, Vec<String>)> {
    let roles = Roles::of(hub);
    let write: &[&str] = if hub.readonly {
        &["select"]
    } else {
        &["select", "insert", "update", "delete"]
    };
    let mut out = vec![
        (roles.app, write.iter().map(|p| p.to_string()).collect()),
        (roles.readonly, vec!["select".to_string()]),
    ];
    for grant in &table.grants {
        out.push((grant.role.clone(), grant.privileges.clone()));
    }
    out
}

pub(crate) fn table_grants(hub: &ir::Hub, table: &ir::Table) -> String {
    let name = qualified(&table.schema, &table.name);
    let roles = Roles::of(hub);
    let mut sql = String::new();
    for (role, privileges) in table_privileges(hub, table) {
        if role != roles.app && role != roles.readonly {
            let _ = writeln!(sql, "GRANT USAGE ON SCHEMA {} TO {};", ident(&table.schema), ident(&role));
        }
        let privileges: Vec<String> = privileges.iter().map(|p| p.to_uppercase()).collect();
        let _ = writeln!(sql, "GRANT {} ON TABLE {name} TO {};", privileges.join(", "), ident(&role));
    }
    sql
}

pub(crate) fn tenant_policy(table: &ir::Table, column: &str) -> String {
    let predicate = tenant_predicate(column);
    format!(
        "CREATE POLICY {} ON {} USING ({predicate}) WITH CHECK ({predicate});\n",
        ident(TENANT_POLICY),
        qualified(&table.schema, &table.name)
    )
}

pub(crate) fn policy(table: &ir::Table, policy: &ir::Policy) -> String {
    let mut sql = format!(
        "CREATE POLICY {} ON {} FOR {} TO {}",
        ident(&policy.name),
        qualified(&table.schema, &table.name),
        policy.command.to_uppercase(),
        ident(&policy.role)
    );
    if let Some(using) = &policy.using {
        let _ = write!(sql, " USING ({using})");
    }
    if let Some(check) = &policy.with_check {
        let _ = write!(sql, " WITH CHECK ({check})");
    }
    sql.push_str(";\n");
    sql
}

/// ENABLE and FORCE row-level security, and the table's policies.
pub(crate) fn table_rls(table: &ir::Table) -> String {
    let name = qualified(&table.schema, &table.name);
    let mut sql = String::new();
    let _ = writeln!(sql, "ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;");
    let _ = writeln!(sql, "ALTER TABLE {name} FORCE ROW LEVEL SECURITY;");
    if let Some(column) = &table.tenant_column {
        sql.push_str(&tenant_policy(table, column));
    }
    for p in &table.policies {
        sql.push_str(&policy(table, p));
    }
    sql
}

/// A role created only if missing.
pub(crate) fn create_role(name: &str, options: &str) -> String {
    format!(
        "DO $$ BEGIN CREATE ROLE {} {options}; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;\n",
        ident(name)
    )
}

/// Row-level security is on for tenant-scoped tables and tables with policies.
pub fn rls_enabled(table: &ir::Table) -> bool {
    table.tenant_column.is_some() || !table.policies.is_empty()
}
