//! Erasure rules as written: one `data_subject` in a schema, with a key of
//! one column; `on erase` once per table; a column is anonymized or kept,
//! never deleted. What the rules reach is checked after lowering, in
//! [`crate::erasure`], where the whole schema's references are known.

use super::Ctx;
use crate::ast::*;
use crate::diagnostics::{messages, Diagnostic};

pub(super) fn check(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let mut subject: Option<String> = None;
    for hub in &ctx.hubs {
        for table in &hub.tables {
            if let Some(option) = table.option(TableOptionKind::DataSubject) {
                let label = format!("{}.{}", hub.name(), table.name());
                if let Some(arg) = &option.arg {
                    out.push(messages::invalid_erasure(
                        arg.span,
                        "`data_subject` takes no argument".to_string(),
                        "unexpected argument",
                        "write `data_subject` alone: erasure is given the table's primary key",
                    ));
                }
                match &subject {
                    Some(first) => out.push(messages::invalid_erasure(
                        option.span,
                        format!("`{label}` is a second data subject: erasure already keys on `{first}`"),
                        "second data subject",
                        format!("a schema erases one kind of person, keyed on `{first}`: remove `data_subject` here"),
                    )),
                    None => subject = Some(label.clone()),
                }
                if table.primary_key().len() != 1 {
                    out.push(messages::invalid_erasure(
                        option.span,
                        format!("data subject `{label}` needs a primary key of one column, which erasure is given"),
                        "no single-column key",
                        "give the table a one-column primary key, such as `id uuid primary key`",
                    ));
                }
            }
            let rules: Vec<&TableItem> = table
                .items
                .iter()
                .copied()
                .filter(|i| matches!(i.kind, TableItemKind::OnErase(_)))
                .collect();
            for extra in rules.iter().skip(1) {
                out.push(messages::invalid_erasure(
                    extra.span,
                    format!("`{}` has a second `on erase` rule", table.name()),
                    "second rule",
                    "a table has one rule for its rows: keep the one you mean",
                ));
            }
            for column in &table.columns {
                for modifier in &column.modifiers {
                    if let ModifierKind::OnErase(EraseAction::Delete) = modifier.kind {
                        out.push(messages::invalid_erasure(
                            modifier.span,
                            format!("column `{}` cannot be deleted on its own", column.name.name),
                            "a column's rule",
                            "a column is anonymized (`on erase anonymize`) or kept (`on erase keep`); \
                             to delete the rows, write `on erase delete` on a line of its own in the table",
                        ));
                    }
                }
            }
        }
    }
}
