//! Audit triggers: added, removed, or replaced when what they write changes
//! (the audit log, the key, the tenant column, the masked columns).

use super::{label, Phase, Plan, Renames, Step};
use crate::sql::audit::{self, Trigger};
use crate::sql::statement::{Name, Statement};
use crate::sql::Roles;
use hubgen_schema::ir;

pub(super) fn plan(old: &ir::Hub, new: &ir::Hub, renames: &Renames, plan: &mut Plan) {
    let matched = renames.matched(old, new);
    for t in &new.tables {
        let o = matched.iter().find(|(_, n)| std::ptr::eq(*n, t)).map(|(o, _)| *o);
        let before = o.and_then(|o| audit::trigger(old, o));
        let after = audit::trigger(new, t);
        if before == after {
            continue;
        }
        if let (Some(o), Some(trigger)) = (o, before) {
            plan.push(Step::new(
                Phase::Detach,
                format!("stop auditing {}", label(o)),
                vec![Statement::DropAuditTrigger {
                    table: Name::of(o),
                    trigger,
                }],
            ));
        }
        if let Some(trigger) = after {
            plan.push(Step::new(
                Phase::Security,
                format!("audit {} into {}", label(t), audit_log_label(&trigger)),
                vec![Statement::CreateAuditTrigger {
                    table: Name::of(t),
                    trigger,
                }],
            ));
        }
    }
    let creates = plan.statements().any(|s| matches!(s, Statement::CreateAuditTrigger { .. }));
    if creates {
        plan.push(Step::new(
            Phase::Setup,
            "install the audit trigger function".into(),
            vec![Statement::InstallAudit {
                function: audit::function(new),
                owner: Roles::of(new).owner,
            }],
        ));
    }
}

/// The audit log a trigger writes to, as summaries name tables.
fn audit_log_label(trigger: &Trigger) -> String {
    trigger.args[0].replace('"', "")
}
