//! `destructive-change`: dropping a table, column, partition or enum, or
//! narrowing a type, loses data. Refused unless acknowledged.

use super::Context;
use crate::plan::{Change, TypeChange};
use hubgen_schema::diagnostics::Code;
use hubgen_schema::{Diagnostic, Severity};

pub fn check(ctx: &Context) -> Option<Diagnostic> {
    // Targets are `schema.table[.column]`; an acknowledgement may leave out `public.`.
    let (what, target) = match &ctx.step.change {
        Change::DropTable { table } => (format!("drops table `{table}` and every row in it"), table.clone()),
        Change::DropColumn { table, column } => (format!("drops column `{table}.{column}` and its data"), format!("{table}.{column}")),
        Change::DropPartition { table, partition } => {
            let schema = table.split('.').next().unwrap_or("public");
            (
                format!("drops partition `{partition}` of `{table}` and its rows"),
                format!("{schema}.{partition}"),
            )
        }
        Change::DropEnum { name } => (format!("drops enum type `{name}`"), name.clone()),
        Change::AlterType {
            table,
            column,
            change: TypeChange::Narrowing,
            from,
            to,
        } => (
            format!("narrows `{table}.{column}` from `{from}` to `{to}`: values that do not fit fail the migration or lose precision"),
            format!("{table}.{column}"),
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
    use crate::plan::lint::lint;
    use crate::plan::{Change, Plan, Step};
    use hubgen_schema::{Severity, Span};

    fn drop_column() -> Plan {
        let change = Change::DropColumn {
            table: "public.users".into(),
            column: "nickname".into(),
        };
        Plan {
            steps: vec![Step {
                summary: "drop column".into(),
                up: String::new(),
                down: None,
                change,
            }],
            errors: vec![],
        }
    }

    #[test]
    fn refused_unless_acknowledged() {
        let refused = lint(&drop_column(), &[Span::default()], false, &[]);
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].severity, Severity::Error);
        let allowed = lint(&drop_column(), &[Span::default()], true, &[]);
        assert_eq!(allowed[0].severity, Severity::Warning);
        let acknowledged = lint(&drop_column(), &[Span::default()], false, &["users.nickname".to_string()]);
        assert_eq!(acknowledged[0].severity, Severity::Warning);
        let other = lint(&drop_column(), &[Span::default()], false, &["users.email".to_string()]);
        assert_eq!(other[0].severity, Severity::Error);
    }
}
