//! `index-without-concurrently`: building an index (or a unique key) on a
//! table that already exists blocks writes to it until the build ends. The
//! planner builds them concurrently where PostgreSQL can; this warns where
//! it cannot (partitioned tables).

use super::Context;
use crate::plan::Phase;
use crate::sql::statement::{Constraint, Statement};
use hubgen_schema::diagnostics::Code;
use hubgen_schema::{Diagnostic, Severity};

pub fn check(ctx: &Context) -> Vec<Diagnostic> {
    // A table created by this migration is empty: nothing to block.
    if ctx.step.phase == Phase::CreateTables {
        return Vec::new();
    }
    ctx.statements()
        .filter_map(|s| match s {
            Statement::CreateIndex {
                table,
                index,
                concurrently: false,
            } => Some((table, format!("index `{}`", index.name))),
            Statement::AddConstraint {
                table,
                constraint: c @ (Constraint::Unique(_) | Constraint::PrimaryKey(_)),
                ..
            } => Some((table, format!("{} `{}`", c.kind(), c.name()))),
            _ => None,
        })
        .map(|(table, what)| {
            Diagnostic::new(
                Severity::Warning,
                Code::IndexWithoutConcurrently,
                ctx.span,
                format!(
                    "building {what} on existing table `{}` blocks writes to it until the build finishes",
                    table.label()
                ),
                "blocks writes",
                "PostgreSQL cannot build it concurrently on a partitioned table: apply in a quiet window".into(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::plan::lint::test_support::lint_steps;
    use crate::plan::Phase;
    use crate::sql::statement::{Name, Statement};
    use hubgen_schema::ir;

    fn index(concurrently: bool) -> Statement {
        Statement::CreateIndex {
            table: Name::new("public", "t"),
            index: ir::Index {
                name: "i".into(),
                unique: false,
                method: ir::IndexMethod::Btree,
                columns: vec![],
                predicate: None,
            },
            concurrently,
        }
    }

    #[test]
    fn warns_only_for_blocking_builds_on_existing_tables() {
        assert_eq!(lint_steps(Phase::Attach, vec![vec![index(false)]], &[], false).len(), 1);
        assert_eq!(lint_steps(Phase::Concurrent, vec![vec![index(true)]], &[], false).len(), 0);
        assert_eq!(lint_steps(Phase::CreateTables, vec![vec![index(false)]], &[], false).len(), 0);
    }
}
