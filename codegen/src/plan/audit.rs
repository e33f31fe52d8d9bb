//! Audit triggers: added, removed, or replaced when what they write changes
//! (the audit log, the key, the tenant column, the masked columns).

use super::{label, Phase, Plan, Renames, Step};
use crate::sql::audit;
use crate::sql::statement::{Name, Statement};
use hubgen_schema::ir;

pub(super) fn plan(old: &ir::Hub, new: &ir::Hub, renames: &Renames, plan: &mut Plan) {
    let matched = renames.matched(old, new);
    let log = audit::functions(new).map(|f| f.log.label());
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
                format!("audit {} into {}", label(t), log.as_deref().unwrap_or("the audit log")),
                vec![Statement::CreateAuditTrigger {
                    table: Name::of(t),
                    trigger,
                }],
            ));
        }
    }
    // The functions name the audit log: (re)installed with the triggers
    // that need them, and whenever the audit log they write to changes.
    let (before, after) = (audit::functions(old), audit::functions(new));
    let creates = plan.statements().any(|s| matches!(s, Statement::CreateAuditTrigger { .. }));
    let audited = new.tables.iter().any(|t| audit::trigger(new, t).is_some());
    if let Some(functions) = after.filter(|f| creates || (audited && before.as_ref() != Some(f))) {
        let previous = before.filter(|b| *b != functions);
        plan.push(Step::new(
            Phase::Setup,
            "install the audit trigger functions".into(),
            vec![Statement::InstallAudit {
                functions: Box::new(functions),
                previous: previous.map(Box::new),
            }],
        ));
    }
}
