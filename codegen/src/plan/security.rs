//! Row-level security, policies, grants and table comments.

use super::{label, Phase, Plan, Renames, Step};
use crate::sql::statement::{Name, Object, PolicyDef, Statement};
use crate::sql::{access_rls_enabled as rls_enabled, table_privileges, tenant_predicate, Roles, TENANT_POLICY};
use hubgen_schema::ir;
use std::collections::BTreeSet;

/// The tenant-isolation policy: every role, every command.
pub(crate) fn tenant_policy(column: &str) -> PolicyDef {
    let predicate = tenant_predicate(column);
    PolicyDef {
        name: TENANT_POLICY.to_string(),
        command: None,
        role: None,
        using: Some(predicate.clone()),
        with_check: Some(predicate),
    }
}

fn declared(p: &ir::Policy) -> PolicyDef {
    PolicyDef {
        name: p.name.clone(),
        command: Some(p.command.clone()),
        role: Some(p.role.clone()),
        using: p.using.clone(),
        with_check: p.with_check.clone(),
    }
}

/// The grants of a new table: usage of its schema for declared roles, then
/// each role's privileges.
pub(super) fn grants(hub: &ir::Hub, t: &ir::Table) -> Vec<Statement> {
    let roles = Roles::of(hub);
    let mut out = Vec::new();
    for (role, privileges) in table_privileges(hub, t) {
        if role != roles.app && role != roles.readonly {
            out.push(Statement::Grant {
                object: Object::Schema(t.schema.clone()),
                privileges: vec!["USAGE".into()],
                roles: vec![role.clone()],
            });
        }
        out.push(Statement::Grant {
            object: Object::Table(Name::of(t)),
            privileges: privileges.iter().map(|p| p.to_uppercase()).collect(),
            roles: vec![role],
        });
    }
    out
}

/// ENABLE and FORCE row-level security and the policies of a new table.
pub(super) fn row_security(t: &ir::Table) -> Vec<Statement> {
    if !rls_enabled(t) {
        return Vec::new();
    }
    let table = Name::of(t);
    let mut out = vec![Statement::RowSecurity {
        table: table.clone(),
        enabled: true,
    }];
    let policies = t
        .tenant_column
        .iter()
        .map(|c| tenant_policy(c))
        .chain(t.policies.iter().map(declared));
    out.extend(policies.map(|policy| Statement::CreatePolicy {
        table: table.clone(),
        policy,
    }));
    out
}

pub(super) fn plan(hub: &ir::Hub, o: &ir::Table, t: &ir::Table, renames: &Renames, plan: &mut Plan) {
    let table = Name::of(t);
    let tl = label(t);
    let (was, is) = (rls_enabled(o), rls_enabled(t));
    if !was && is {
        plan.push(Step::new(
            Phase::Security,
            format!("enable row-level security on {tl}"),
            vec![Statement::RowSecurity {
                table: table.clone(),
                enabled: true,
            }],
        ));
    }

    // Policies: the tenant policy follows a renamed tenant column by itself.
    let mut before: Vec<PolicyDef> = o.policies.iter().map(declared).collect();
    let mut after: Vec<PolicyDef> = t.policies.iter().map(declared).collect();
    if let Some(c) = &o.tenant_column {
        // Compared under the column's new name (PostgreSQL follows a rename); dropped under the old one below.
        let renamed = renames.column(&t.schema, &t.name, c).cloned().unwrap_or_else(|| c.clone());
        before.push(tenant_policy(&renamed));
    }
    after.extend(t.tenant_column.iter().map(|c| tenant_policy(c)));
    for p in before.iter().filter(|p| !after.contains(p)) {
        let old = if p.name == TENANT_POLICY {
            tenant_policy(o.tenant_column.as_deref().unwrap_or_default())
        } else {
            p.clone()
        };
        let summary = if p.name == TENANT_POLICY && t.tenant_column.is_none() {
            format!("remove tenant scoping of {tl}")
        } else {
            format!("drop policy {} on {}", p.name, label(o))
        };
        plan.push(Step::new(
            Phase::Detach,
            summary,
            vec![Statement::DropPolicy {
                table: Name::of(o),
                policy: old,
            }],
        ));
    }
    for p in after.iter().filter(|p| !before.contains(p)) {
        let summary = if p.name == TENANT_POLICY {
            format!("scope {tl} to tenants by {}", t.tenant_column.as_deref().unwrap_or_default())
        } else {
            format!("create policy {} on {tl}", p.name)
        };
        plan.push(Step::new(
            Phase::Security,
            summary,
            vec![Statement::CreatePolicy {
                table: table.clone(),
                policy: p.clone(),
            }],
        ));
    }
    if was && !is {
        plan.push(Step::new(
            Phase::Security,
            format!("disable row-level security on {tl}"),
            vec![Statement::RowSecurity {
                table: table.clone(),
                enabled: false,
            }],
        ));
    }

    // Grants, per role.
    let (old_grants, new_grants) = (table_privileges(hub, o), table_privileges(hub, t));
    let held = |list: &[(String, Vec<String>)], role: &str| -> BTreeSet<String> {
        list.iter()
            .filter(|(r, _)| r == role)
            .flat_map(|(_, p)| p.iter().map(|p| p.to_uppercase()))
            .collect()
    };
    let roles: BTreeSet<&String> = old_grants.iter().chain(&new_grants).map(|(r, _)| r).collect();
    for role in roles {
        let (b, a) = (held(&old_grants, role), held(&new_grants, role));
        let added: Vec<String> = a.difference(&b).cloned().collect();
        let removed: Vec<String> = b.difference(&a).cloned().collect();
        if !added.is_empty() {
            // Undoing leaves the schema's usage: other tables may need it.
            let revoke = Statement::Revoke {
                object: Object::Table(table.clone()),
                privileges: added.clone(),
                roles: vec![role.clone()],
            };
            plan.push(Step {
                summary: format!("grant {} on {tl} to {role}", added.join(", ").to_lowercase()),
                phase: Phase::Security,
                statements: vec![
                    Statement::Grant {
                        object: Object::Schema(t.schema.clone()),
                        privileges: vec!["USAGE".into()],
                        roles: vec![role.clone()],
                    },
                    Statement::Grant {
                        object: Object::Table(table.clone()),
                        privileges: added,
                        roles: vec![role.clone()],
                    },
                ],
                down: Some(vec![revoke]),
            });
        }
        if !removed.is_empty() {
            plan.push(Step::new(
                Phase::Security,
                format!("revoke {} on {tl} from {role}", removed.join(", ").to_lowercase()),
                vec![Statement::Revoke {
                    object: Object::Table(table.clone()),
                    privileges: removed,
                    roles: vec![role.clone()],
                }],
            ));
        }
    }

    if t.docs != o.docs {
        plan.push(Step::new(
            Phase::Comments,
            format!("comment on table {tl}"),
            vec![Statement::Comment {
                object: Object::Table(table),
                text: t.docs.clone(),
                previous: o.docs.clone(),
            }],
        ));
    }
}
