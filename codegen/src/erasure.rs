//! The erasure plan as people read it: `hubgen erase-plan` prints it per
//! hub, and each hub's README says what erasure does to each table.

use hubgen_schema::ast::EraseAction;
use hubgen_schema::ir::{self, RowMatch};
use std::fmt::Write;

/// `user_id` is the subject, or the rows reference `public.wallets` rows erasure reaches.
fn rows(step: &ir::ErasureStep) -> String {
    let parts: Vec<String> = step
        .rows
        .iter()
        .map(|m| match m {
            RowMatch::Column(c) => format!("`{c}` is the subject"),
            RowMatch::Parent {
                columns, schema, table, ..
            } => format!("`{}` → a `{schema}.{table}` row of theirs", columns.join("`, `")),
        })
        .collect();
    parts.join(" or ")
}

/// One line per step: what it does to which rows.
pub fn describe(step: &ir::ErasureStep) -> String {
    if step.is_mention() {
        let (column, value) = &step.set[0];
        return format!("clear `{column}` where it names the subject (set to {value})");
    }
    let mut text = match step.action {
        EraseAction::Delete => format!("delete the rows where {}", rows(step)),
        EraseAction::Anonymize => format!("anonymize the rows where {}", rows(step)),
        EraseAction::Keep => format!("keep the rows where {}", rows(step)),
    };
    if step.action != EraseAction::Delete {
        let set: Vec<String> = step.set.iter().map(|(c, v)| format!("`{c}` = {v}")).collect();
        if set.is_empty() {
            text.push_str("; nothing in them to anonymize");
        } else {
            let _ = write!(text, "; set {}", set.join(", "));
        }
    }
    if !step.kept.is_empty() {
        let _ = write!(text, "; kept: {}", crate::docs::columns(&step.kept));
    }
    text
}

/// `hubgen erase-plan`: every hub's steps, in the order its erase function runs them.
pub fn plan_text(schema: &ir::Schema, only: Option<&str>) -> String {
    let Some((subject_hub, subject)) = schema.data_subject() else {
        return "No table is the data subject: declare one with `data_subject` (`table users data_subject { ... }`).\n".into();
    };
    let mut out = format!(
        "Erasing one `{}.{}`: each hub's `erase_subject` runs its steps in order, in one statement.\n",
        subject_hub.name, subject.name
    );
    for hub in schema.hubs.iter().filter(|h| only.is_none_or(|o| o == h.name)) {
        let _ = write!(out, "\nhub {} (database {})", hub.name, hub.database);
        let Some(erasure) = &hub.erasure else {
            out.push_str(": nothing to erase\n");
            continue;
        };
        let function = crate::sql::erasure::function_name(hub);
        let _ = writeln!(out, ": {} as {}", function.label(), crate::sql::erasure::role(&hub.name));
        let width = erasure.steps.iter().map(|s| s.schema.len() + s.table.len() + 1).max().unwrap_or(0);
        for (i, step) in erasure.steps.iter().enumerate() {
            let table = format!("{}.{}", step.schema, step.table);
            let _ = writeln!(out, "  {:>2}. {table:<width$}  {}", i + 1, describe(step));
        }
    }
    out
}
