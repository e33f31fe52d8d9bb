//! `index-without-concurrently`: building an index (or a unique constraint)
//! on an existing table blocks writes to it until the build ends.

use super::Context;
use crate::plan::Change;
use hubgen_schema::diagnostics::Code;
use hubgen_schema::{Diagnostic, Severity};

pub fn check(ctx: &Context) -> Option<Diagnostic> {
    let (table, what) = match &ctx.step.change {
        Change::AddIndex { table, index } => (table, format!("index `{index}`")),
        Change::AddUnique { table, constraint } => (table, format!("unique constraint `{constraint}`")),
        _ => return None,
    };
    Some(Diagnostic::new(
        Severity::Warning,
        Code::IndexWithoutConcurrently,
        ctx.span,
        format!("building {what} on existing table `{table}` blocks writes to it until the build finishes"),
        "blocks writes",
        "on a big table build it first by hand with `CREATE INDEX CONCURRENTLY` and the same definition (the migration says IF NOT EXISTS, so it then keeps it), or apply in a quiet window".into(),
    ))
}

#[cfg(test)]
mod tests {
    use crate::plan::lint::lint;
    use crate::plan::{Change, Plan, Step};
    use hubgen_schema::Span;

    #[test]
    fn warns_for_indexes_on_existing_tables() {
        let change = Change::AddIndex {
            table: "t".into(),
            index: "i".into(),
        };
        let plan = Plan {
            steps: vec![Step {
                summary: String::new(),
                up: String::new(),
                down: None,
                change,
            }],
            errors: vec![],
        };
        assert_eq!(
            lint(&plan, &[Span::default()], false, &[])[0].code.as_str(),
            "index-without-concurrently"
        );
    }
}
