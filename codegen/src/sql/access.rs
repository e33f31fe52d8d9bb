//! Roles, ownership, grants and row-level security.
//!
//! Every hub gets three roles: an owner (owns the objects, runs migrations),
//! an application role (NOLOGIN, never BYPASSRLS: services log in as a
//! member of it) and a read-only role. Tenant-scoped tables ENABLE and FORCE
//! row-level security, with one policy for every role and command.

use super::quote::ident;
use hubgen_schema::ir;

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

/// Row-level security is on for tenant-scoped tables and tables with policies.
pub fn rls_enabled(table: &ir::Table) -> bool {
    table.tenant_column.is_some() || !table.policies.is_empty()
}
