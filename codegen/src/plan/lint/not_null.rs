//! `not-null-without-default` and `set-not-null-scan`: a NOT NULL column
//! added without a default or a backfill fails on a table with rows; SET NOT
//! NULL scans the whole table under an exclusive lock.

use super::Context;
use crate::sql::statement::{Guard, Statement};
use hubgen_schema::diagnostics::Code;
use hubgen_schema::{Diagnostic, Severity};

pub fn check(ctx: &Context) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for statement in ctx.statements() {
        match statement {
            Statement::AddColumn { table, column } if column.not_null && column.default.is_none() && column.generated.is_none() => {
                let (table, column) = (table.label(), &column.name);
                out.push(Diagnostic::new(
                    Severity::Error,
                    Code::NotNullWithoutDefault,
                    ctx.span,
                    format!("`{table}.{column}` is added NOT NULL without a default or a backfill: the migration fails if `{table}` has rows"),
                    "no value for existing rows",
                    format!("give `{column}` a default, or say how to fill existing rows with `@backfill(<sql>)` (added nullable, filled, then made NOT NULL)"),
                ));
            }
            Statement::SetNotNull { table, column } => {
                // Backfilled or not, the guard before it names the rows that are still NULL.
                let guarded = ctx
                    .statements()
                    .any(|s| matches!(s, Statement::Guard(Guard::NoNulls { column: c, .. }) if c == column));
                let (table, column) = (table.label(), column);
                out.push(Diagnostic::new(
                    Severity::Warning,
                    Code::SetNotNullScan,
                    ctx.span,
                    format!("SET NOT NULL on `{table}.{column}` scans the whole table under an ACCESS EXCLUSIVE lock"),
                    "full-table scan",
                    format!(
                        "on a big table add `CHECK ({column} IS NOT NULL) NOT VALID`, VALIDATE it, then SET NOT NULL (PostgreSQL then skips the scan){}",
                        if guarded { "; rows that are still NULL stop the migration with their count" } else { "" }
                    ),
                ));
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::plan::lint::test_support::lint_steps;
    use crate::plan::Phase;
    use crate::sql::statement::{ColumnDef, Name, Statement};

    fn add(not_null: bool, default: Option<&str>) -> Statement {
        Statement::AddColumn {
            table: Name::new("public", "t"),
            column: ColumnDef {
                name: "c".into(),
                ty: "text".into(),
                generated: None,
                default: default.map(str::to_string),
                not_null,
            },
        }
    }

    #[test]
    fn refuses_not_null_without_a_value_and_warns_on_the_scan() {
        let set = Statement::SetNotNull {
            table: Name::new("public", "t"),
            column: "c".into(),
        };
        let found = lint_steps(
            Phase::Columns,
            vec![vec![add(true, None)], vec![add(true, Some("''"))], vec![add(false, None), set]],
            &[],
            false,
        );
        assert_eq!(
            found.iter().map(|d| (d.code.as_str(), d.is_error())).collect::<Vec<_>>(),
            [("not-null-without-default", true), ("set-not-null-scan", false)]
        );
    }
}
