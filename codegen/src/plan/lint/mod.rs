//! The safety lint: every planned step is checked by each rule (one rule per
//! file), and rules match on the step's typed statements. Destructive
//! changes are errors unless acknowledged; changes that lock or rewrite a
//! big table are warnings with help.

mod concurrent_index;
mod destructive;
mod not_null;
mod rewrite;
mod tenant_scope;

use super::{Plan, Step};
use crate::sql::statement::Statement;
use hubgen_schema::{Diagnostic, Span};

/// What a rule sees: the step, the whole plan, where the step's SQL sits in
/// its migration file, and whether destructive changes were acknowledged.
pub struct Context<'a> {
    pub step: &'a Step,
    pub plan: &'a Plan,
    pub span: Span,
    pub allow_destructive: bool,
    /// `acknowledge destructive ...` entries of the hub's schema.
    pub acknowledged: &'a [String],
}

impl Context<'_> {
    pub fn statements(&self) -> impl Iterator<Item = &Statement> {
        self.step.statements.iter()
    }
}

type Rule = fn(&Context) -> Vec<Diagnostic>;

const RULES: &[Rule] = &[
    destructive::check,
    not_null::check,
    rewrite::check,
    concurrent_index::check,
    tenant_scope::check,
];

/// Lints the steps of a plan at the given places (step index, span in its file).
pub fn lint(plan: &Plan, steps: &[(usize, Span)], allow_destructive: bool, acknowledged: &[String]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for &(i, span) in steps {
        let ctx = Context {
            step: &plan.steps[i],
            plan,
            span,
            allow_destructive,
            acknowledged,
        };
        for rule in RULES {
            out.extend(rule(&ctx));
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod test_support {
    use crate::plan::{Phase, Plan, Step};
    use crate::sql::statement::Statement;
    use hubgen_schema::{Diagnostic, Span};

    /// Lints a plan of one step per statement list.
    pub fn lint_steps(phase: Phase, steps: Vec<Vec<Statement>>, acknowledged: &[String], allow: bool) -> Vec<Diagnostic> {
        let plan = Plan {
            steps: steps.into_iter().map(|s| Step::new(phase, String::new(), s)).collect(),
            errors: vec![],
        };
        let places: Vec<(usize, Span)> = (0..plan.steps.len()).map(|i| (i, Span::default())).collect();
        super::lint(&plan, &places, allow, acknowledged)
    }
}
