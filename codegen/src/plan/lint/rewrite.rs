//! `table-rewrite`: a type change that is not a pure catalog change rewrites
//! the table (and its indexes) under an ACCESS EXCLUSIVE lock.

use super::Context;
use crate::plan::{Change, TypeChange};
use hubgen_schema::diagnostics::Code;
use hubgen_schema::{Diagnostic, Severity};

pub fn check(ctx: &Context) -> Option<Diagnostic> {
    let Change::AlterType {
        table,
        column,
        change,
        from,
        to,
    } = &ctx.step.change
    else {
        return None;
    };
    if *change == TypeChange::Widening {
        return None;
    }
    Some(Diagnostic::new(
        Severity::Warning,
        Code::TableRewrite,
        ctx.span,
        format!("changing `{table}.{column}` from `{from}` to `{to}` rewrites the whole table under an exclusive lock"),
        "rewrites the table",
        "on a big table add a new column, backfill it in batches, and switch over; or run this in a maintenance window".into(),
    ))
}

#[cfg(test)]
mod tests {
    use crate::plan::lint::lint;
    use crate::plan::{Change, Plan, Step, TypeChange};
    use hubgen_schema::Span;

    fn alter(change: TypeChange) -> Plan {
        let change = Change::AlterType {
            table: "t".into(),
            column: "c".into(),
            change,
            from: "integer".into(),
            to: "bigint".into(),
        };
        Plan {
            steps: vec![Step {
                summary: String::new(),
                up: String::new(),
                down: None,
                change,
            }],
            errors: vec![],
        }
    }

    #[test]
    fn only_rewriting_changes_warn() {
        assert_eq!(lint(&alter(TypeChange::WideningRewrite), &[Span::default()], false, &[]).len(), 1);
        assert!(lint(&alter(TypeChange::Widening), &[Span::default()], false, &[]).is_empty());
    }
}
