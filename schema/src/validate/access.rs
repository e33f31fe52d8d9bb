//! Roles, extra policies and grants: every role named is declared in the
//! hub, commands and privileges are ones PostgreSQL knows.

use super::{columns::expression_columns, Ctx};
use crate::ast::*;
use crate::diagnostics::{messages, Diagnostic};

pub const POLICY_COMMANDS: &[&str] = &["all", "select", "insert", "update", "delete"];
pub const PRIVILEGES: &[&str] = &["select", "insert", "update", "delete", "truncate", "references", "trigger"];

pub(super) fn check(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    for hub in &ctx.hubs {
        let role_names = || hub.roles.iter().map(|r| r.name.name.as_str());
        let mut platform_roles = hub.roles.iter().filter(|r| r.platform);
        platform_roles.next();
        for extra in platform_roles {
            out.push(messages::invalid_platform_role(&extra.name, "is the hub's second platform role"));
        }
        for role in hub.roles.iter().filter(|r| r.platform && r.bypass_rls) {
            out.push(messages::invalid_platform_role(&role.name, "also bypasses row-level security"));
        }
        for table in &hub.tables {
            for item in &table.items {
                match &item.kind {
                    TableItemKind::Policy(policy) => {
                        if hub.role(&policy.role.name).is_none() {
                            out.push(messages::unknown_role(&policy.role, hub.name(), role_names()));
                        }
                        if let Some(command) = &policy.command {
                            let lower = command.name.to_ascii_lowercase();
                            if !POLICY_COMMANDS.contains(&lower.as_str()) {
                                out.push(messages::invalid_policy_command(command, POLICY_COMMANDS));
                            } else if policy.with_check.is_some() && (lower == "select" || lower == "delete") {
                                // PostgreSQL: a SELECT or DELETE policy has no rows to check.
                                out.push(messages::policy_clause(command, "with check", "using"));
                            } else if policy.using.is_some() && lower == "insert" {
                                out.push(messages::policy_clause(command, "using", "with check"));
                            }
                        }
                        for expr in policy.using.iter().chain(&policy.with_check) {
                            expression_columns(table, expr, "this policy", out);
                        }
                    }
                    TableItemKind::Grant { privileges, role } => {
                        if hub.role(&role.name).is_none() {
                            out.push(messages::unknown_role(role, hub.name(), role_names()));
                        }
                        for privilege in privileges {
                            let lower = privilege.name.to_ascii_lowercase();
                            if !PRIVILEGES.contains(&lower.as_str()) {
                                out.push(messages::invalid_privilege(privilege, PRIVILEGES));
                            } else if hub.ast.readonly && lower != "select" {
                                out.push(messages::readonly_write_grant(privilege, hub.name()));
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}
