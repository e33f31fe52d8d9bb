//! `tenant-scope-removed`: dropping a table's tenant policy lets every
//! tenant's session see every row (or, with RLS still forced, none).

use super::Context;
use crate::plan::Change;
use hubgen_schema::diagnostics::Code;
use hubgen_schema::{Diagnostic, Severity};

pub fn check(ctx: &Context) -> Option<Diagnostic> {
    let Change::RemoveTenantScope { table } = &ctx.step.change else {
        return None;
    };
    Some(Diagnostic::new(
        Severity::Warning,
        Code::TenantScopeRemoved,
        ctx.span,
        format!("this migration removes tenant isolation from `{table}`"),
        "tenant policy dropped",
        "keep `tenant_scoped` unless the table really holds no tenant's data; services using its repositories must stop passing a TenantTx"
            .into(),
    ))
}

#[cfg(test)]
mod tests {
    use crate::plan::lint::lint;
    use crate::plan::{Change, Plan, Step};
    use hubgen_schema::Span;

    #[test]
    fn warns() {
        let change = Change::RemoveTenantScope { table: "t".into() };
        let plan = Plan {
            steps: vec![Step {
                summary: String::new(),
                up: String::new(),
                down: None,
                change,
            }],
            errors: vec![],
        };
        assert_eq!(lint(&plan, &[Span::default()], false, &[])[0].code.as_str(), "tenant-scope-removed");
    }
}
