//! References: foreign keys inside a hub and shared IDs across hubs. The
//! target must exist, be a key, have the same column count and types; a
//! cross-hub reference has no FK, so it cannot carry ON DELETE/UPDATE.

use super::{Ctx, HubCtx, TableCtx, DEFAULT_SCHEMA};
use crate::ast::*;
use crate::diagnostics::{messages, Diagnostic};

/// Where a reference points.
pub(crate) struct Target<'c, 'a> {
    pub hub: &'c HubCtx<'a>,
    pub table: &'c TableCtx<'a>,
    pub cross_hub: bool,
    /// The named columns, or the target's primary key.
    pub columns: Vec<String>,
}

/// Resolves `[hub.][schema.]table(cols)` from a table in `hub`.
pub(crate) fn resolve<'c, 'a>(
    ctx: &'c Ctx<'a>,
    hub: &'c HubCtx<'a>,
    from_schema: &str,
    reference: &Reference,
) -> Result<Target<'c, 'a>, Diagnostic> {
    let path = &reference.path;
    let table_ident = &path[path.len() - 1];
    let hub_named = |ident: &Ident| ctx.hubs.iter().find(|h| h.name() == ident.name);
    let (target_hub, table) = match path.len() {
        1 => (hub, hub.table_from(from_schema, &table_ident.name)),
        2 if hub.has_schema(&path[0].name) => (hub, hub.table(&path[0].name, &table_ident.name)),
        2 => {
            let Some(other) = hub_named(&path[0]) else {
                let names = ctx
                    .hubs
                    .iter()
                    .map(|h| h.name())
                    .chain(hub.schema_blocks.iter().map(|s| s.name.name.as_str()));
                return Err(messages::unknown_hub(&path[0], names));
            };
            let table = other
                .table(DEFAULT_SCHEMA, &table_ident.name)
                .or_else(|| other.tables.iter().find(|t| t.name() == table_ident.name));
            (other, table)
        }
        _ => {
            let Some(other) = hub_named(&path[0]) else {
                return Err(messages::unknown_hub(&path[0], ctx.hubs.iter().map(|h| h.name())));
            };
            (other, other.table(&path[1].name, &table_ident.name))
        }
    };
    let Some(table) = table else {
        let names = target_hub.tables.iter().map(|t| t.name());
        return Err(messages::unknown_table(table_ident, target_hub.name(), names));
    };
    let columns = if reference.columns.is_empty() {
        table.primary_key().iter().map(|c| c.to_string()).collect()
    } else {
        reference.columns.iter().map(|c| c.name.clone()).collect()
    };
    Ok(Target {
        hub: target_hub,
        table,
        cross_hub: target_hub.name() != hub.name(),
        columns,
    })
}

pub(super) fn check(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    for hub in &ctx.hubs {
        for table in &hub.tables {
            for column in &table.columns {
                for modifier in &column.modifiers {
                    if let ModifierKind::References(reference) = &modifier.kind {
                        check_reference(ctx, hub, table, std::slice::from_ref(&column.name), reference, out);
                    }
                }
            }
            for item in &table.items {
                if let TableItemKind::ForeignKey { columns, target, .. } = &item.kind {
                    let mut all_known = true;
                    for c in columns {
                        if table.column(&c.name).is_none() {
                            out.push(messages::unknown_column(c, "this foreign key", table.name(), table.column_names()));
                            all_known = false;
                        }
                    }
                    if all_known {
                        check_reference(ctx, hub, table, columns, target, out);
                    }
                }
            }
        }
    }
}

fn check_reference(ctx: &Ctx, hub: &HubCtx, table: &TableCtx, columns: &[Ident], reference: &Reference, out: &mut Vec<Diagnostic>) {
    let target = match resolve(ctx, hub, table.schema, reference) {
        Ok(target) => target,
        Err(diagnostic) => {
            out.push(diagnostic);
            return;
        }
    };
    if target.cross_hub {
        for (_, span) in reference.on_delete.iter().chain(&reference.on_update) {
            out.push(messages::cross_hub_action(*span, target.hub.name()));
        }
    }
    let mut known = true;
    for c in &reference.columns {
        if target.table.column(&c.name).is_none() {
            out.push(messages::unknown_column(
                c,
                "this reference",
                target.table.name(),
                target.table.column_names(),
            ));
            known = false;
        }
    }
    if !known {
        return;
    }
    if target.columns.len() != columns.len() {
        out.push(messages::reference_column_count(
            reference.span,
            columns.len(),
            target.columns.len(),
            target.table.name(),
        ));
        return;
    }
    let target_set: Vec<&str> = target.columns.iter().map(String::as_str).collect();
    let is_key = target.table.unique_sets().iter().any(|set| {
        let mut a = set.clone();
        let mut b = target_set.clone();
        a.sort_unstable();
        b.sort_unstable();
        a == b
    });
    if !is_key {
        out.push(messages::reference_not_unique(reference.span, target.table.name(), &target_set));
    }
    for (local, remote) in columns.iter().zip(&target.columns) {
        let (Some(local_col), Some(remote_col)) = (table.column(&local.name), target.table.column(remote)) else {
            continue;
        };
        let local_ty = hub.resolve_type(table.schema, &local_col.ty);
        let remote_ty = target.hub.resolve_type(target.table.schema, &remote_col.ty);
        if let (Some(a), Some(b)) = (local_ty, remote_ty) {
            if !a.compatible_with(&b) {
                out.push(messages::reference_type_mismatch(local, &a, target.table.name(), remote, &b));
            }
        }
        for (action, span) in reference.on_delete.iter().chain(&reference.on_update) {
            if *action == FkAction::SetNull && !table.is_nullable(local_col) {
                out.push(messages::set_null_not_nullable(*span, &local.name));
            }
        }
    }
}
