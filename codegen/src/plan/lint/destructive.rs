//! `destructive-change`: dropping a table, column, partition or enum, or
//! narrowing a type, loses data. Refused unless acknowledged.

use super::Context;
use crate::plan::TypeChange;
use crate::sql::statement::Statement;
use hubgen_schema::diagnostics::Code;
use hubgen_schema::{Diagnostic, Severity};

pub fn check(ctx: &Context) -> Vec<Diagnostic> {
    ctx.statements().filter_map(|s| finding(ctx, s)).collect()
}

fn finding(ctx: &Context, statement: &Statement) -> Option<Diagnostic> {
    // Targets are `schema.table[.column]`; an acknowledgement may leave out `public.`.
    let (what, target) = match statement {
        Statement::DropTable { name } => (format!("drops table `{}` and every row in it", name.label()), name.label()),
        Statement::DropColumn { table, column } => (
            format!("drops column `{}.{column}` and its data", table.label()),
            format!("{}.{column}", table.label()),
        ),
        Statement::DropPartition { name, parent } => (
            format!("drops partition `{}` of `{}` and its rows", name.name, parent.label()),
            name.label(),
        ),
        Statement::DropEnum { name } => (format!("drops enum type `{}`", name.label()), name.label()),
        Statement::AlterType {
            table,
            column,
            change: TypeChange::Narrowing,
            from,
            to,
        } => (
            format!(
                "narrows `{}.{column}` from `{from}` to `{to}`: the migration stops if a value does not fit, and cannot be undone",
                table.label()
            ),
            format!("{}.{column}", table.label()),
        ),
        _ => return None,
    };
    let acknowledged = ctx.acknowledged.iter().any(|a| *a == target || format!("public.{a}") == target);
    let severity = if ctx.allow_destructive || acknowledged {
        Severity::Warning
    } else {
        Severity::Error
    };
    let short = target.strip_prefix("public.").unwrap_or(&target).to_string();
    Some(Diagnostic::new(
        severity,
        Code::DestructiveChange,
        ctx.span,
        format!("this migration {what}"),
        "destructive",
        if acknowledged {
            format!("acknowledged in the schema (`acknowledge destructive {short}`); back up what you need before applying")
        } else if ctx.allow_destructive {
            "acknowledged with --allow-destructive; back up what you need before applying".into()
        } else {
            format!("if that is intended, add `acknowledge destructive {short}` to the hub (or run `hubgen generate --allow-destructive`); if not, restore the schema (a rename needs a `renamed_from` hint)")
        },
    ))
}

#[cfg(test)]
mod tests {
    use crate::plan::lint::test_support::lint_steps;
    use crate::plan::Phase;
    use crate::sql::statement::{Name, Statement};
    use hubgen_schema::Severity;

    fn drop_column(acknowledged: &[&str], allow: bool) -> Vec<Severity> {
        let statement = Statement::DropColumn {
            table: Name::new("public", "users"),
            column: "nickname".into(),
        };
        let acknowledged: Vec<String> = acknowledged.iter().map(|s| s.to_string()).collect();
        lint_steps(Phase::Drop, vec![vec![statement]], &acknowledged, allow)
            .iter()
            .map(|d| d.severity)
            .collect()
    }

    #[test]
    fn refused_unless_acknowledged() {
        assert_eq!(drop_column(&[], false), [Severity::Error]);
        assert_eq!(drop_column(&[], true), [Severity::Warning]);
        assert_eq!(drop_column(&["users.nickname"], false), [Severity::Warning]);
        assert_eq!(drop_column(&["users.email"], false), [Severity::Error]);
    }
}
