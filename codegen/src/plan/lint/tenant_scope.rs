//! `tenant-scope-removed`: dropping a table's isolation policy (tenant,
//! owner or parent) without a new one lets every session see every row
//! (or, with RLS still forced, none).

use super::Context;
use crate::sql::is_isolation_policy;
use crate::sql::statement::Statement;
use hubgen_schema::diagnostics::Code;
use hubgen_schema::{Diagnostic, Severity};

pub fn check(ctx: &Context) -> Vec<Diagnostic> {
    ctx.statements()
        .filter_map(|s| match s {
            Statement::DropPolicy { table, policy } if is_isolation_policy(&policy.name) => {
                // The table as it is called after this plan's renames.
                let now = ctx
                    .plan
                    .statements()
                    .find_map(|s| match s {
                        Statement::RenameTable { from, to } if from == table => Some(from.sibling(to)),
                        _ => None,
                    })
                    .unwrap_or_else(|| table.clone());
                let rescoped = ctx
                    .plan
                    .statements()
                    .any(|s| matches!(s, Statement::CreatePolicy { table: t, policy } if *t == now && is_isolation_policy(&policy.name)));
                (!rescoped).then(|| {
                    Diagnostic::new(
                        Severity::Warning,
                        Code::TenantScopeRemoved,
                        ctx.span,
                        format!("this migration removes row isolation ({}) from `{}`", policy.name, now.label()),
                        "isolation policy dropped",
                        "keep the table scoped unless it really holds no tenant's or person's data; services using its repositories must stop passing a scoped transaction"
                            .into(),
                    )
                })
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::plan::lint::test_support::lint_steps;
    use crate::plan::Phase;
    use crate::sql::statement::{Name, Statement};

    #[test]
    fn warns_when_no_tenant_policy_replaces_the_dropped_one() {
        let table = Name::new("public", "t");
        let policy = crate::sql::statement::PolicyDef {
            name: crate::sql::TENANT_POLICY.into(),
            command: None,
            role: None,
            using: Some(crate::sql::tenant_predicate("tenant_id")),
            with_check: Some(crate::sql::tenant_predicate("tenant_id")),
        };
        let drop = Statement::DropPolicy {
            table: table.clone(),
            policy: policy.clone(),
        };
        let create = Statement::CreatePolicy { table, policy };
        assert_eq!(lint_steps(Phase::Detach, vec![vec![drop.clone()]], &[], false).len(), 1);
        assert_eq!(lint_steps(Phase::Detach, vec![vec![drop], vec![create]], &[], false).len(), 0);
    }
}
