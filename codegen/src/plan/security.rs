//! Row-level security, policies, grants and table comments.

use super::{label, Phase, Plan, Renames, Step};
use crate::sql::statement::{Name, Object, PolicyDef, Statement};
use crate::sql::{access_rls_enabled as rls_enabled, is_isolation_policy, scope_policies, table_privileges, Roles};
use hubgen_schema::ir;
use std::collections::BTreeSet;

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
pub(super) fn row_security(hub: &ir::Hub, t: &ir::Table) -> Vec<Statement> {
    if !rls_enabled(t) {
        return Vec::new();
    }
    let table = Name::of(t);
    let mut out = vec![Statement::RowSecurity {
        table: table.clone(),
        enabled: true,
    }];
    let policies = scope_policies(hub, t).into_iter().chain(t.policies.iter().map(declared));
    out.extend(policies.map(|policy| Statement::CreatePolicy {
        table: table.clone(),
        policy,
    }));
    out
}

/// The old table's scoping as it reads after this plan's renames.
fn renamed(o: &ir::Table, t: &ir::Table, renames: &Renames) -> ir::Table {
    let column = |c: &Option<String>| {
        c.as_ref()
            .map(|c| renames.column(&t.schema, &t.name, c).cloned().unwrap_or_else(|| c.clone()))
    };
    ir::Table {
        name: t.name.clone(),
        tenant_column: column(&o.tenant_column),
        owner_column: column(&o.owner_column),
        scoped_through: column(&o.scoped_through),
        columns: o
            .columns
            .iter()
            .map(|c| ir::Column {
                name: renames
                    .column(&t.schema, &t.name, &c.name)
                    .cloned()
                    .unwrap_or_else(|| c.name.clone()),
                ..c.clone()
            })
            .collect(),
        foreign_keys: o.foreign_keys.iter().map(|fk| renames.foreign_key(t, fk)).collect(),
        ..o.clone()
    }
}

pub(super) fn plan(old_hub: &ir::Hub, hub: &ir::Hub, o: &ir::Table, t: &ir::Table, renames: &Renames, plan: &mut Plan) {
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

    // Policies. PostgreSQL follows renamed columns and tables inside a
    // policy, so the old ones are compared as they read after the renames
    // and dropped under their old names.
    let mut before: Vec<PolicyDef> = scope_policies(old_hub, &renamed(o, t, renames));
    before.extend(o.policies.iter().map(declared));
    let mut after: Vec<PolicyDef> = scope_policies(hub, t);
    after.extend(t.policies.iter().map(declared));
    let isolated = after.iter().any(|p| is_isolation_policy(&p.name));
    for p in before.iter().filter(|p| !after.contains(p)) {
        let summary = if is_isolation_policy(&p.name) && !isolated {
            format!("remove the row scoping of {tl} ({})", p.name)
        } else {
            format!("drop policy {} on {}", p.name, label(o))
        };
        plan.push(Step::new(
            Phase::Detach,
            summary,
            vec![Statement::DropPolicy {
                table: Name::of(o),
                policy: p.clone(),
            }],
        ));
    }
    for p in after.iter().filter(|p| !before.contains(p)) {
        let summary = if is_isolation_policy(&p.name) {
            format!("scope {tl}: policy {}", p.name)
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
    let (old_grants, new_grants) = (table_privileges(old_hub, o), table_privileges(hub, t));
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
