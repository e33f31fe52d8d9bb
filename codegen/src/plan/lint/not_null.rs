//! `not-null-without-default` and `set-not-null-scan`: a NOT NULL column
//! added without a default fails on a table with rows; SET NOT NULL scans
//! the whole table under an exclusive lock.

use super::Context;
use crate::plan::Change;
use hubgen_schema::diagnostics::Code;
use hubgen_schema::{Diagnostic, Severity};

pub fn check(ctx: &Context) -> Option<Diagnostic> {
    match &ctx.step.change {
        Change::AddColumn { table, column, not_null_without_default: true } => Some(Diagnostic::new(
            Severity::Warning,
            Code::NotNullWithoutDefault,
            ctx.span,
            format!("`{table}.{column}` is added NOT NULL without a default: the migration fails if `{table}` has rows"),
            "no default for existing rows",
            format!("give `{column}` a default, or add it nullable, backfill it, then make it not null"),
        )),
        Change::SetNotNull { table, column } => Some(Diagnostic::new(
            Severity::Warning,
            Code::SetNotNullScan,
            ctx.span,
            format!("SET NOT NULL on `{table}.{column}` scans the whole table under an ACCESS EXCLUSIVE lock, and fails if a row is NULL"),
            "full-table scan",
            format!("on a big table add `CHECK ({column} IS NOT NULL) NOT VALID`, VALIDATE it, then SET NOT NULL (PostgreSQL then skips the scan)"),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::plan::lint::lint;
    use crate::plan::{Change, Plan, Step};
    use hubgen_schema::Span;

    #[test]
    fn warns_on_both() {
        let steps = vec![
            Step {
                summary: String::new(),
                up: String::new(),
                down: None,
                change: Change::AddColumn {
                    table: "t".into(),
                    column: "c".into(),
                    not_null_without_default: true,
                },
            },
            Step {
                summary: String::new(),
                up: String::new(),
                down: None,
                change: Change::SetNotNull {
                    table: "t".into(),
                    column: "c".into(),
                },
            },
            Step {
                summary: String::new(),
                up: String::new(),
                down: None,
                change: Change::AddColumn {
                    table: "t".into(),
                    column: "d".into(),
                    not_null_without_default: false,
                },
            },
        ];
        let found = lint(&Plan { steps, errors: vec![] }, &[Span::default(); 3], false, &[]);
        assert_eq!(
            found.iter().map(|d| d.code.as_str()).collect::<Vec<_>>(),
            ["not-null-without-default", "set-not-null-scan"]
        );
    }
}
