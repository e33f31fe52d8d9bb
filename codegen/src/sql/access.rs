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
        let _ = writeln!(
            sql,
            "DO $$ BEGIN CREATE ROLE {} {options}; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;",
            ident(&name)
        );
    }
    sql
}

/// Ownership, grants, row-level security and policies.
pub(super) fn security(hub: &ir::Hub) -> Vec<String> {
    let roles = Roles::of(hub);
    let owner = ident(&roles.owner);
    let app = ident(&roles.app);
    let readonly = ident(&roles.readonly);
    let mut out = Vec::new();

    let mut ownership = String::from("-- The owner role owns every object; FORCE below keeps it subject to RLS too.\n");
    for schema in &hub.schemas {
        let _ = writeln!(ownership, "ALTER SCHEMA {} OWNER TO {owner};", ident(schema));
    }
    for e in &hub.enums {
        let _ = writeln!(ownership, "ALTER TYPE {} OWNER TO {owner};", qualified(&e.schema, &e.name));
    }
    for table in &hub.tables {
        let _ = writeln!(ownership, "ALTER TABLE {} OWNER TO {owner};", qualified(&table.schema, &table.name));
        for p in table.partitioning.iter().flat_map(|p| &p.partitions) {
            let _ = writeln!(ownership, "ALTER TABLE {} OWNER TO {owner};", qualified(&table.schema, &p.name));
        }
    }
    out.push(ownership);

    let write = if hub.readonly { "SELECT" } else { "SELECT, INSERT, UPDATE, DELETE" };
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
        let _ = writeln!(grants, "GRANT USAGE ON SCHEMA {} TO {app}, {readonly};", ident(schema));
    }
    for e in &hub.enums {
        let _ = writeln!(
            grants,
            "GRANT USAGE ON TYPE {} TO {app}, {readonly};",
            qualified(&e.schema, &e.name)
        );
    }
    for table in &hub.tables {
        let name = qualified(&table.schema, &table.name);
        let _ = writeln!(grants, "GRANT {write} ON TABLE {name} TO {app};");
        let _ = writeln!(grants, "GRANT SELECT ON TABLE {name} TO {readonly};");
        for grant in &table.grants {
            let privileges: Vec<String> = grant.privileges.iter().map(|p| p.to_uppercase()).collect();
            let _ = writeln!(grants, "GRANT USAGE ON SCHEMA {} TO {};", ident(&table.schema), ident(&grant.role));
            let _ = writeln!(grants, "GRANT {} ON TABLE {name} TO {};", privileges.join(", "), ident(&grant.role));
        }
    }
    out.push(grants);

    for table in hub.tables.iter().filter(|t| rls_enabled(t)) {
        let name = qualified(&table.schema, &table.name);
        let mut sql = String::new();
        let _ = writeln!(sql, "ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;");
        let _ = writeln!(sql, "ALTER TABLE {name} FORCE ROW LEVEL SECURITY;");
        if let Some(column) = &table.tenant_column {
            let predicate = tenant_predicate(column);
            let _ = writeln!(
                sql,
                "CREATE POLICY {} ON {name} USING ({predicate}) WITH CHECK ({predicate});",
                ident(TENANT_POLICY)
            );
        }
        for policy in &table.policies {
            let _ = write!(
                sql,
                "CREATE POLICY {} ON {name} FOR {} TO {}",
                ident(&policy.name),
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
        }
        out.push(sql);
    }
    out
}

/// Row-level security is on for tenant-scoped tables and tables with policies.
pub fn rls_enabled(table: &ir::Table) -> bool {
    table.tenant_column.is_some() || !table.policies.is_empty()
}
