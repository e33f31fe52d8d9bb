//! The erase function: installed when erasure first reaches the hub (with
//! the erasure role that owns it), replaced when its steps change, dropped
//! when nothing here holds a subject's data any more.

use super::{Phase, Plan, Step};
use crate::sql::erasure;
use crate::sql::statement::Statement;
use hubgen_schema::ir;

pub(super) fn plan(old: &ir::Hub, new: &ir::Hub, plan: &mut Plan) {
    let (before, after) = (erasure::function(old), erasure::function(new));
    if before == after {
        return;
    }
    match (before, after) {
        (before, Some(function)) => {
            if before.is_none() {
                let role = erasure::role(&new.name);
                plan.push(Step::new(
                    Phase::Setup,
                    format!("create role {role}"),
                    vec![Statement::CreateRole {
                        name: role,
                        bypass_rls: Some(true),
                    }],
                ));
            }
            let verb = if before.is_some() { "replace" } else { "install" };
            plan.push(Step::new(
                Phase::Security,
                format!("{verb} the erase function {}", function.name.label()),
                vec![Statement::InstallErasure {
                    function: Box::new(function),
                    previous: before.map(Box::new),
                }],
            ));
        }
        (Some(function), None) => plan.push(Step::new(
            Phase::Detach,
            format!("drop the erase function {}", function.name.label()),
            vec![Statement::DropErasure {
                function: Box::new(function),
            }],
        )),
        (None, None) => {}
    }
}
