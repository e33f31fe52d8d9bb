//! Table traits and column markers: tenant scoping, soft delete,
//! optimistic locking, `@touch`, and rename hints.

use super::{Ctx, HubCtx, TableCtx};
use crate::ast::*;
use crate::diagnostics::{messages, Diagnostic};
use crate::types::ColumnType;

pub(super) fn check(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    for hub in &ctx.hubs {
        for table in &hub.tables {
            check_table(hub, table, out);
        }
        // A table rename hint must not name a table that still exists.
        for table in &hub.tables {
            if let Some((old, span)) = table.option_column(TableOptionKind::RenamedFrom) {
                if hub.table(table.schema, old).is_some() {
                    out.push(messages::rename_conflict(span, "table", old));
                }
            }
        }
    }
}

fn column_of<'a>(table: &TableCtx<'a>, name: &str, span: crate::span::Span, what: &str, out: &mut Vec<Diagnostic>) -> Option<&'a Column> {
    let column = table.column(name);
    if column.is_none() {
        let ident = Ident {
            name: name.to_string(),
            span,
        };
        out.push(messages::unknown_column(&ident, what, table.name(), table.column_names()));
    }
    column
}

fn check_table(hub: &HubCtx, table: &TableCtx, out: &mut Vec<Diagnostic>) {
    let ty = |c: &Column| hub.resolve_type(table.schema, &c.ty);
    for option in &table.ast.options {
        if option.kind == TableOptionKind::RenamedFrom && option.arg.is_none() {
            out.push(messages::missing_option_argument(
                option.span,
                "renamed_from",
                "renamed_from(old_name)",
            ));
        }
    }
    if let Some((name, span)) = table.option_column(TableOptionKind::TenantScoped) {
        if let Some(column) = column_of(table, name, span, "`tenant_scoped`", out) {
            if let Some(t) = ty(column) {
                if t != ColumnType::Uuid {
                    out.push(messages::tenant_column_type(&column.ty, name, &t));
                }
            }
            if table.is_nullable(column) {
                out.push(messages::tenant_column_nullable(&column.name, table.name()));
            }
            // RLS adds `tenant = ...` to every query; without an index it scans.
            let leads = |cols: &[&str]| cols.first() == Some(&name);
            let mut indexed = leads(&table.primary_key());
            for item in &table.items {
                indexed |= match &item.kind {
                    TableItemKind::Index(i) => i.columns.first().is_some_and(|c| c.name.name == name) && i.predicate.is_none(),
                    TableItemKind::Unique { columns, .. } => columns.first().is_some_and(|c| c.name == name),
                    _ => false,
                };
            }
            indexed |= column.has(|m| matches!(m, ModifierKind::Unique));
            if !indexed {
                out.push(messages::tenant_index_missing(span, table.name(), name));
            }
        }
    }
    if let Some((name, span)) = table.option_column(TableOptionKind::SoftDelete) {
        if let Some(column) = column_of(table, name, span, "`soft_delete`", out) {
            match ty(column) {
                Some(ColumnType::Timestamp | ColumnType::Timestamptz) if !table.is_nullable(column) => {
                    out.push(messages::soft_delete_column_type(
                        &column.ty,
                        name,
                        "a timestamp column must be nullable (null means live)",
                    ));
                }
                Some(ColumnType::Boolean) if table.is_nullable(column) || !column.has(|m| matches!(m, ModifierKind::Default(_))) => {
                    out.push(messages::soft_delete_column_type(
                        &column.ty,
                        name,
                        "a boolean flag must be `not null default false`",
                    ));
                }
                Some(ColumnType::Timestamp | ColumnType::Timestamptz | ColumnType::Boolean) | None => {}
                Some(other) => out.push(messages::soft_delete_column_type(
                    &column.ty,
                    name,
                    &format!("it is `{other}`, not a timestamp or boolean"),
                )),
            }
        }
    }
    if let Some((name, span)) = table.option_column(TableOptionKind::Versioned) {
        if let Some(column) = column_of(table, name, span, "`versioned`", out) {
            let integer = ty(column).is_none_or(|t| t.is_integer());
            let has_default = column.has(|m| matches!(m, ModifierKind::Default(_)));
            if !integer || table.is_nullable(column) || !has_default {
                out.push(messages::version_column_type(&column.ty, name));
            }
        }
    }
    for column in &table.columns {
        if let Some(attr) = column.attr("touch") {
            if let Some(t) = ty(column) {
                if !t.is_temporal() {
                    out.push(messages::touch_column_type(attr.span, &column.name.name, &t));
                }
            }
        }
        if let Some(attr) = column.attr("renamed_from") {
            if let Some(old) = attr.args.first() {
                if table.column(&old.name).is_some() {
                    out.push(messages::rename_conflict(old.span, "column", &old.name));
                }
            }
        }
    }
}
