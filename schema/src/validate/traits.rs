//! Table traits and column markers: tenant scoping, soft delete,
//! optimistic locking, `@touch`, and rename hints.

use super::{references, Ctx, HubCtx, TableCtx};
use crate::ast::*;
use crate::diagnostics::{messages, Diagnostic};
use crate::types::ColumnType;

pub(super) fn check(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    for hub in &ctx.hubs {
        for table in &hub.tables {
            check_table(ctx, hub, table, out);
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

/// Tenant, owner and parent scoping: the column exists, is a uuid (or a
/// reference), leads an index, and rows it leaves without a scope have a
/// platform role to own them.
fn check_scopes(ctx: &Ctx, hub: &HubCtx, table: &TableCtx, out: &mut Vec<Diagnostic>) {
    let scoping: Vec<&TableOption> = table
        .ast
        .options
        .iter()
        .filter(|o| o.kind.is_scope() || o.kind == TableOptionKind::Shared)
        .collect();
    for (i, second) in scoping.iter().enumerate() {
        let conflict = scoping[..i].iter().find(|first| {
            let tenant = |k| matches!(k, TableOptionKind::TenantScoped | TableOptionKind::TenantOrGlobal);
            (tenant(first.kind) && tenant(second.kind))
                || [first.kind, second.kind].contains(&TableOptionKind::Shared)
                || first.kind == TableOptionKind::ScopedThrough
                || second.kind == TableOptionKind::ScopedThrough
        });
        if let Some(first) = conflict {
            out.push(messages::conflicting_scopes(
                second.span,
                table.name(),
                first.kind.keyword(),
                second.kind.keyword(),
            ));
        }
    }
    let platform = hub.roles.iter().any(|r| r.platform);
    let scoped_columns = [
        (TableOptionKind::TenantScoped, "tenant", "app.current_tenant_id"),
        (TableOptionKind::TenantOrGlobal, "tenant", "app.current_tenant_id"),
        (TableOptionKind::OwnerScoped, "owner", "app.current_user_id"),
    ];
    for (kind, who, setting) in scoped_columns {
        let Some((name, span)) = table.option_column(kind) else {
            continue;
        };
        if kind == TableOptionKind::TenantOrGlobal && table.option(TableOptionKind::TenantScoped).is_some() {
            continue; // reported as conflicting scopes
        }
        let keyword = format!("`{}`", kind.keyword());
        let Some(column) = column_of(table, name, span, &keyword, out) else {
            continue;
        };
        if let Some(t) = hub.resolve_type(table.schema, &column.ty) {
            if t != ColumnType::Uuid {
                out.push(messages::scope_column_type(&column.ty, who, name, &t, setting));
            }
        }
        let nullable = table.is_nullable(column);
        if kind == TableOptionKind::TenantOrGlobal && !nullable {
            out.push(messages::global_column_not_null(&column.name, table.name()));
        } else if nullable && !platform {
            out.push(messages::missing_platform_role(&column.name, table.name(), hub.name(), who));
        }
        if !leads_an_index(table, name) {
            out.push(messages::scope_index_missing(span, table.name(), name));
        }
    }
    if let Some((name, span)) = table.option_column(TableOptionKind::ScopedThrough) {
        if let Some(column) = column_of(table, name, span, "`scoped_through`", out) {
            let parent = through_parent(ctx, hub, table, name);
            let problem = match parent {
                None => Some("it is not a single-column reference to a table of this hub"),
                Some(parent) if !is_scoped(parent) => Some("the table it references is not scoped"),
                Some(_) => None,
            };
            if let Some(problem) = problem {
                out.push(messages::invalid_scoped_through(span, table.name(), name, problem));
            } else if scoped_through_cycle(ctx, hub, table) {
                out.push(messages::invalid_scoped_through(
                    span,
                    table.name(),
                    name,
                    "the chain of parents comes back to this table",
                ));
            } else if table.is_nullable(column) && !platform {
                out.push(messages::missing_platform_role(&column.name, table.name(), hub.name(), "parent"));
            }
            if !leads_an_index(table, name) {
                out.push(messages::scope_index_missing(span, table.name(), name));
            }
        }
    }
}

/// RLS adds `column = ...` to every query; without an index that starts with it, it scans.
fn leads_an_index(table: &TableCtx, name: &str) -> bool {
    let mut indexed = table.primary_key().first() == Some(&name);
    for item in &table.items {
        indexed |= match &item.kind {
            TableItemKind::Index(i) => i.columns.first().is_some_and(|c| c.name.name == name) && i.predicate.is_none(),
            TableItemKind::Unique { columns, .. } => columns.first().is_some_and(|c| c.name == name),
            _ => false,
        };
    }
    indexed || table.column(name).is_some_and(|c| c.has(|m| matches!(m, ModifierKind::Unique)))
}

fn is_scoped(table: &TableCtx) -> bool {
    table.ast.options.iter().any(|o| o.kind.is_scope())
}

/// The same-hub table a single-column reference on `column` points to.
fn through_parent<'c, 'a>(ctx: &'c Ctx<'a>, hub: &'c HubCtx<'a>, table: &TableCtx, column: &str) -> Option<&'c TableCtx<'a>> {
    let on_column = table.column(column).and_then(Column::reference);
    let reference = on_column.or_else(|| {
        table.items.iter().find_map(|item| match &item.kind {
            TableItemKind::ForeignKey { columns, target, .. } if columns.len() == 1 && columns[0].name == column => Some(target),
            _ => None,
        })
    })?;
    let target = references::resolve(ctx, hub, table.schema, reference).ok()?;
    (!target.cross_hub).then_some(target.table)
}

fn scoped_through_cycle(ctx: &Ctx, hub: &HubCtx, table: &TableCtx) -> bool {
    let mut current = table;
    for _ in 0..=hub.tables.len() {
        let Some((column, _)) = current.option_column(TableOptionKind::ScopedThrough) else {
            return false;
        };
        match through_parent(ctx, hub, current, column) {
            Some(parent) if parent.schema == table.schema && parent.name() == table.name() => return true,
            Some(parent) => current = parent,
            None => return false,
        }
    }
    true
}

fn check_table(ctx: &Ctx, hub: &HubCtx, table: &TableCtx, out: &mut Vec<Diagnostic>) {
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
    check_scopes(ctx, hub, table, out);
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
