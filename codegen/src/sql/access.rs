//! Roles, ownership, grants and row-level security.
//!
//! Every hub gets three roles: an owner (owns the objects, runs migrations),
//! an application role (NOLOGIN, never BYPASSRLS: services log in as a
//! member of it) and a read-only role; a hub may declare a platform role,
//! which writes the rows that belong to no tenant or owner. Scoped tables
//! ENABLE and FORCE row-level security:
//!
//! - `*_isolation`, every role and command: the row's tenant is the
//!   transaction's, its owner the acting user, its parent visible (ANDed);
//! - `global_rows` (`tenant_or_global`): every tenant reads rows without one;
//! - `platform_rows`: the platform role, after `SET ROLE`, writes the rows
//!   whose scope column is NULL.

use super::quote::{ident, literal};
use super::statement::{Name, PolicyDef};
use hubgen_schema::ir;

/// The setting a tenant-scoped transaction sets (`set_config(..., true)`).
pub const TENANT_SETTING: &str = "app.current_tenant_id";
/// The setting a transaction acting for a user sets.
pub const OWNER_SETTING: &str = "app.current_user_id";
/// The name of the tenant-isolation policy on every tenant-scoped table.
pub const TENANT_POLICY: &str = "tenant_isolation";
/// Every tenant reads the rows of a `tenant_or_global` table that have no tenant.
pub const GLOBAL_POLICY: &str = "global_rows";
/// The platform role writes the rows without a tenant or owner.
pub const PLATFORM_POLICY: &str = "platform_rows";

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

/// The isolation policy's name: which scopes it ANDs.
fn isolation_name(t: &ir::Table) -> String {
    if t.scoped_through.is_some() {
        return "parent_isolation".into();
    }
    match (&t.tenant_column, &t.owner_column) {
        (Some(_), Some(_)) => "tenant_owner_isolation".into(),
        (None, Some(_)) => "owner_isolation".into(),
        _ => TENANT_POLICY.into(),
    }
}

/// Whether a policy is the one that isolates a scoped table.
pub fn is_isolation_policy(name: &str) -> bool {
    name.ends_with("_isolation")
}

/// `column = <setting as uuid>`: see [`tenant_predicate`].
fn setting_predicate(column: &str, setting: &str) -> String {
    format!("{} = (SELECT NULLIF(current_setting('{setting}', true), '')::uuid)", ident(column))
}

pub fn owner_predicate(column: &str) -> String {
    setting_predicate(column, OWNER_SETTING)
}

/// `parent_id IN (SELECT id FROM parent)`: the parent's own policies
/// filter the sub-select, so a child row is visible when its parent is.
fn through_predicate(t: &ir::Table) -> Option<String> {
    let fk = t.through_key()?;
    // Written as PostgreSQL prints it back, so drift checks compare like with like.
    Some(format!(
        "{} IN (SELECT {}.{} FROM {})",
        ident(&fk.columns[0]),
        ident(&fk.ref_table),
        ident(&fk.ref_columns[0]),
        Name::new(&fk.ref_schema, &fk.ref_table).sql()
    ))
}

/// The columns whose NULL leaves a row to the platform.
fn nullable_scope_columns(t: &ir::Table) -> Vec<&str> {
    [&t.tenant_column, &t.owner_column, &t.scoped_through]
        .into_iter()
        .flatten()
        .filter(|c| t.column(c).is_some_and(|c| c.nullable))
        .map(String::as_str)
        .collect()
}

/// The policies hubgen generates for a scoped table, in a stable order.
pub fn scope_policies(hub: &ir::Hub, t: &ir::Table) -> Vec<PolicyDef> {
    let mut out = isolation_policies(hub, t);
    if t.audit_log {
        // The audit trigger runs as the owner, which FORCE subjects to the
        // policies: it writes any tenant's audit rows (applications cannot insert).
        out.push(PolicyDef {
            name: super::audit::WRITER_POLICY.into(),
            command: Some("insert".into()),
            role: Some(Roles::of(hub).owner),
            using: None,
            with_check: Some("true".into()),
        });
    }
    out
}

fn isolation_policies(hub: &ir::Hub, t: &ir::Table) -> Vec<PolicyDef> {
    if !t.is_scoped() {
        return Vec::new();
    }
    let mut own: Vec<String> = Vec::new();
    own.extend(t.tenant_column.iter().map(|c| tenant_predicate(c)));
    own.extend(t.owner_column.iter().map(|c| owner_predicate(c)));
    own.extend(through_predicate(t));
    let own = own.join(" AND ");
    let mut out = vec![PolicyDef {
        name: isolation_name(t),
        command: None,
        role: None,
        using: Some(own.clone()),
        with_check: Some(own),
    }];
    if let (true, Some(tenant)) = (t.tenant_global, &t.tenant_column) {
        let mut shared = vec![format!("{} IS NULL", ident(tenant))];
        shared.extend(t.owner_column.iter().map(|c| owner_predicate(c)));
        out.push(PolicyDef {
            name: GLOBAL_POLICY.into(),
            command: Some("select".into()),
            role: None,
            using: Some(shared.join(" AND ")),
            with_check: None,
        });
    }
    let unscoped = nullable_scope_columns(t);
    if let (false, Some(platform)) = (unscoped.is_empty(), hub.platform_role()) {
        // `current_user`, not membership: a service that merely belongs to the
        // platform role must still `SET ROLE` (a platform transaction) to write.
        let nulls: Vec<String> = unscoped.iter().map(|c| format!("{} IS NULL", ident(c))).collect();
        let nulls = if nulls.len() == 1 {
            nulls[0].clone()
        } else {
            format!("({})", nulls.join(" OR "))
        };
        let predicate = format!("current_user = {} AND {nulls}", literal(&platform.name));
        out.push(PolicyDef {
            name: PLATFORM_POLICY.into(),
            command: None,
            role: Some(platform.name.clone()),
            using: Some(predicate.clone()),
            with_check: Some(predicate),
        });
    }
    out
}

/// The tenant predicate. The sub-select is evaluated once (an InitPlan), so
/// the comparison can use an index; `nullif` turns the `''` a once-set,
/// now-reset setting reads back as into NULL, which matches no row.
pub fn tenant_predicate(column: &str) -> String {
    setting_predicate(column, TENANT_SETTING)
}

/// The privileges each role holds on a table: (role, privileges), roles in a stable order.
pub fn table_privileges(hub: &ir::Hub, table: &ir::Table) -> Vec<(String, Vec<String>)> {
    let roles = Roles::of(hub);
    // The audit log is written by the audit trigger alone.
    let write: &[&str] = if hub.readonly || table.audit_log {
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
    let erasure = super::erasure::privileges(hub, table);
    if !erasure.is_empty() {
        out.push((super::erasure::role(&hub.name), erasure));
    }
    out
}

/// Row-level security is on for scoped tables and tables with policies.
pub fn rls_enabled(table: &ir::Table) -> bool {
    table.is_scoped() || !table.policies.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every generated policy passes the schema's own tenancy lint: none is
    /// true for every row, none admits a row when its setting is missing.
    #[test]
    fn generated_policies_admit_nothing_without_their_setting() {
        let schemas = [
            include_str!("../../../schema/platform.hubs"),
            include_str!("../../tests/fixtures/scopes.hubs"),
            include_str!("../../tests/fixtures/tenant_scoped.hubs"),
        ];
        let mut checked = 0;
        for text in schemas {
            let ir = hubgen_schema::compile(text).ir.expect("schema compiles");
            for hub in &ir.hubs {
                for table in &hub.tables {
                    for policy in scope_policies(hub, table) {
                        for expr in policy.using.iter().chain(&policy.with_check) {
                            let verdict = hubgen_schema::policy::analyze(expr)
                                .unwrap_or_else(|| panic!("{}.{}: cannot analyze {expr}", table.name, policy.name));
                            assert!(!verdict.always_true, "{}.{} is always true: {expr}", table.name, policy.name);
                            assert!(!verdict.admits_without_setting, "{}.{} leaks: {expr}", table.name, policy.name);
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked >= 60, "only {checked} policy clauses checked");
    }
}
