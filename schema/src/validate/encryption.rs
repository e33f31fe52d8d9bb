//! `@encrypted` columns: the database holds ciphertext it cannot read, so
//! nothing that needs the plain value in SQL may use one — keys, checks,
//! references, partitioning, scopes, defaults. Unique keys and indexes may,
//! through the blind index of `@encrypted(searchable)`.

use super::{HubCtx, TableCtx};
use crate::ast::*;
use crate::diagnostics::{messages, Diagnostic};
use crate::types::ColumnType;

pub(super) fn check(ctx: &super::Ctx, out: &mut Vec<Diagnostic>) {
    for hub in &ctx.hubs {
        for table in &hub.tables {
            for column in &table.columns {
                if let Some(attr) = column.attr("encrypted") {
                    check_column(hub, table, column, attr, out);
                }
            }
            check_uses(table, out);
        }
        check_references(ctx, hub, out);
    }
}

fn encrypted<'a>(table: &TableCtx<'a>, name: &str) -> Option<(&'a Column, bool)> {
    let column = table.column(name)?;
    let attr = column.attr("encrypted")?;
    Some((column, attr.args.iter().any(|a| a.name == "searchable")))
}

fn check_column(hub: &HubCtx, table: &TableCtx, column: &Column, attr: &Attr, out: &mut Vec<Diagnostic>) {
    let name = &column.name.name;
    match attr.args.as_slice() {
        [] => {}
        [arg] if arg.name == "searchable" => {}
        [arg, ..] => out.push(messages::invalid_encryption(
            arg.span,
            format!("`@encrypted` takes `searchable` or nothing, not `{}`", arg.name),
            "not an option",
            "write `@encrypted`, or `@encrypted(searchable)` for equality lookups",
        )),
    }
    if let Some(ty) = hub.resolve_type(table.schema, &column.ty) {
        if !matches!(ty, ColumnType::Text | ColumnType::Varchar(_) | ColumnType::Char(_)) {
            out.push(messages::invalid_encryption(
                column.ty.span,
                format!("`{name}` is `{ty}`: only text is encrypted"),
                "not text",
                "declare it `text` or `varchar(n)`; keep other types plain",
            ));
        }
    }
    for modifier in &column.modifiers {
        let what = match modifier.kind {
            ModifierKind::Default(_) => "a default",
            ModifierKind::Generated(_) => "a generated value",
            _ => continue,
        };
        out.push(messages::invalid_encryption(
            modifier.span,
            format!("encrypted column `{name}` has {what}, which the database would store unencrypted"),
            "computed by the database",
            "remove it: the service encrypts every value it writes",
        ));
    }
    let index = crate::ir::Encryption::index_column(name);
    if attr.args.iter().any(|a| a.name == "searchable") && table.column(&index).is_some() {
        out.push(messages::invalid_encryption(
            attr.span,
            format!(
                "`@encrypted(searchable)` adds the column `{index}`, which `{}` already has",
                table.name()
            ),
            "name taken",
            format!("rename the other `{index}`"),
        ));
    }
}

/// Keys, checks, indexes, partitioning and scopes that name an encrypted column.
fn check_uses(table: &TableCtx, out: &mut Vec<Diagnostic>) {
    let blocked = |ident: &Ident, what: &str, searchable_helps: bool, out: &mut Vec<Diagnostic>| {
        let Some((_, searchable)) = encrypted(table, &ident.name) else {
            return;
        };
        if searchable_helps && searchable {
            return;
        }
        let help = if searchable_helps {
            format!(
                "declare `{}` `@encrypted(searchable)`: its blind index keeps the lookup",
                ident.name
            )
        } else {
            format!("keep `{}` plain, or leave it out of {what}", ident.name)
        };
        out.push(messages::invalid_encryption(
            ident.span,
            format!("{what} uses `{}`, which is encrypted: the database cannot read it", ident.name),
            "encrypted",
            help,
        ));
    };
    for column in &table.columns {
        for modifier in &column.modifiers {
            match &modifier.kind {
                ModifierKind::PrimaryKey => blocked(&column.name, "the primary key", false, out),
                ModifierKind::Unique => blocked(&column.name, "a unique key", true, out),
                ModifierKind::References(_) => blocked(&column.name, "a foreign key", false, out),
                ModifierKind::Check(expr) => expr.idents.iter().for_each(|i| blocked(i, "a check", false, out)),
                _ => {}
            }
        }
    }
    for item in &table.items {
        match &item.kind {
            TableItemKind::PrimaryKey(columns) => columns.iter().for_each(|c| blocked(c, "the primary key", false, out)),
            TableItemKind::Unique { columns, .. } => columns.iter().for_each(|c| blocked(c, "a unique key", true, out)),
            TableItemKind::Index(index) => {
                index.columns.iter().for_each(|c| blocked(&c.name, "an index", true, out));
                if let Some(predicate) = &index.predicate {
                    predicate.idents.iter().for_each(|i| blocked(i, "an index predicate", false, out));
                }
            }
            TableItemKind::Check { expr, .. } => expr.idents.iter().for_each(|i| blocked(i, "a check", false, out)),
            TableItemKind::ForeignKey { columns, .. } => columns.iter().for_each(|c| blocked(c, "a foreign key", false, out)),
            TableItemKind::PartitionBy { column, .. } => blocked(column, "the partition key", false, out),
            TableItemKind::Retain { column, .. } => blocked(column, "retention", false, out),
            TableItemKind::Policy(policy) => {
                for expr in policy.using.iter().chain(&policy.with_check) {
                    expr.idents.iter().for_each(|i| blocked(i, "a policy", false, out));
                }
            }
            _ => {}
        }
    }
    for option in &table.ast.options {
        if let Some(arg) = &option.arg {
            blocked(arg, &format!("`{}`", option.kind.keyword()), false, out);
        }
    }
}

/// Foreign keys of other tables that point at an encrypted column.
fn check_references(ctx: &super::Ctx, hub: &HubCtx, out: &mut Vec<Diagnostic>) {
    for table in &hub.tables {
        let references = table
            .columns
            .iter()
            .filter_map(|c| c.reference())
            .chain(table.items.iter().filter_map(|i| match &i.kind {
                TableItemKind::ForeignKey { target, .. } => Some(target),
                _ => None,
            }));
        for reference in references {
            let Ok(target) = super::references::resolve(ctx, hub, table.schema, reference) else {
                continue;
            };
            for column in &target.columns {
                if encrypted(target.table, column).is_some() {
                    out.push(messages::invalid_encryption(
                        reference.span,
                        format!("this reference points at `{}.{column}`, which is encrypted", target.table.name()),
                        "encrypted target",
                        "reference the table's primary key instead",
                    ));
                }
            }
        }
    }
}
