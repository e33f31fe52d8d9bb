//! `table-rewrite`: a type change that is not a pure catalog change rewrites
//! the table (and its indexes) under an ACCESS EXCLUSIVE lock.

use super::Context;
use crate::plan::TypeChange;
use crate::sql::statement::Statement;
use hubgen_schema::diagnostics::Code;
use hubgen_schema::{Diagnostic, Severity};

pub fn check(ctx: &Context) -> Vec<Diagnostic> {
    ctx.statements()
        .filter_map(|s| match s {
            Statement::AlterType {
                table,
                column,
                change,
                from,
                to,
            } if *change != TypeChange::Widening => Some(Diagnostic::new(
                Severity::Warning,
                Code::TableRewrite,
                ctx.span,
                format!(
                    "changing `{}.{column}` from `{from}` to `{to}` rewrites the whole table under an exclusive lock",
                    table.label()
                ),
                "rewrites the table",
                "on a big table add a new column, backfill it in batches, and switch over; or run this in a maintenance window".into(),
            )),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::plan::lint::test_support::lint_steps;
    use crate::plan::{Phase, TypeChange};
    use crate::sql::statement::{Name, Statement};

    fn alter(change: TypeChange) -> usize {
        let statement = Statement::AlterType {
            table: Name::new("public", "t"),
            column: "c".into(),
            from: "integer".into(),
            to: "bigint".into(),
            change,
        };
        lint_steps(Phase::Columns, vec![vec![statement]], &[], false).len()
    }

    #[test]
    fn only_rewriting_changes_warn() {
        assert_eq!(alter(TypeChange::WideningRewrite), 1);
        assert_eq!(alter(TypeChange::Widening), 0);
    }
}
