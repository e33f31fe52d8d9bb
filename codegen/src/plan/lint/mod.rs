//! The safety lint: every planned step is checked by each rule (one rule per
//! file). Destructive changes are errors unless acknowledged; changes that
//! lock or rewrite a big table are warnings with help.

mod concurrent_index;
mod destructive;
mod not_null;
mod rewrite;
mod tenant_scope;

use super::{Plan, Step};
use hubgen_schema::{Diagnostic, Span};

/// What a rule sees: the step, where its SQL sits in the migration file, and
/// whether destructive changes were acknowledged.
pub struct Context<'a> {
    pub step: &'a Step,
    pub span: Span,
    pub allow_destructive: bool,
    /// `acknowledge destructive ...` entries of the hub's schema.
    pub acknowledged: &'a [String],
}

type Rule = fn(&Context) -> Option<Diagnostic>;

const RULES: &[Rule] = &[
    destructive::check,
    not_null::check,
    rewrite::check,
    concurrent_index::check,
    tenant_scope::check,
];

/// Lints a plan whose steps start at `spans` in the migration text.
pub fn lint(plan: &Plan, spans: &[Span], allow_destructive: bool, acknowledged: &[String]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (step, span) in plan.steps.iter().zip(spans) {
        let ctx = Context {
            step,
            span: *span,
            allow_destructive,
            acknowledged,
        };
        out.extend(RULES.iter().filter_map(|rule| rule(&ctx)));
    }
    out
}
