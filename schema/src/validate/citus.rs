//! Citus's rules for a hub declared `distributed by <column>`: every table
//! is either sharded by the distribution column (all colocated, so a
//! tenant's rows live on one node) or a `shared` reference table copied to
//! every node; keys include the distribution column; foreign keys stay on
//! one node.

use super::{references, Ctx, HubCtx, TableCtx};
use crate::ast::*;
use crate::diagnostics::{messages, Diagnostic};
use crate::span::Span;

/// The column a table of a distributed hub is sharded by: its tenant
/// scope's column (the tenant table's own `id`), else the hub's column if
/// the table has it. `None` for reference (`shared`) tables and tables that
/// cannot be distributed.
pub(crate) fn distribution_column<'a>(hub: &HubCtx<'a>, table: &TableCtx<'a>) -> Option<&'a str> {
    let hub_column = &hub.distributed.first()?.column.name;
    if table.option(TableOptionKind::Shared).is_some() {
        return None;
    }
    if let Some((_, (column, _))) = table.tenant_option() {
        return Some(column);
    }
    table.column(hub_column).map(|c| c.name.name.as_str())
}

pub(super) fn check(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    for hub in &ctx.hubs {
        for extra in hub.distributed.iter().skip(1) {
            out.push(messages::duplicate_distribution(&extra.column, &hub.distributed[0].column));
        }
        let Some(declared) = hub.distributed.first() else {
            continue;
        };
        for table in &hub.tables {
            let shared = table.option(TableOptionKind::Shared).is_some();
            match distribution_column(hub, table) {
                Some(column) => distributed_table(ctx, hub, table, column, out),
                None if shared => reference_table(ctx, hub, table, out),
                None => out.push(messages::undistributed_table(
                    &table.ast.name,
                    hub.name(),
                    &declared.column.name,
                    "has no distribution column and is not `shared`",
                )),
            }
        }
    }
}

/// A table's unique keys, each with the place to point at.
fn keys<'a>(table: &TableCtx<'a>) -> Vec<(Span, &'static str, Vec<&'a str>)> {
    let mut keys = Vec::new();
    let pk = table.primary_key();
    let pk_span = table
        .items
        .iter()
        .find_map(|i| matches!(i.kind, TableItemKind::PrimaryKey(_)).then_some(i.span))
        .or_else(|| {
            table.columns.iter().find_map(|c| {
                c.modifiers
                    .iter()
                    .find(|m| matches!(m.kind, ModifierKind::PrimaryKey))
                    .map(|m| m.span)
            })
        });
    if let (false, Some(span)) = (pk.is_empty(), pk_span) {
        keys.push((span, "primary key", pk));
    }
    for column in &table.columns {
        if let Some(m) = column.modifiers.iter().find(|m| matches!(m.kind, ModifierKind::Unique)) {
            keys.push((m.span, "unique key", vec![column.name.name.as_str()]));
        }
    }
    for item in &table.items {
        match &item.kind {
            TableItemKind::Unique { columns, .. } => {
                keys.push((item.span, "unique key", columns.iter().map(|c| c.name.as_str()).collect()));
            }
            TableItemKind::Index(index) if index.unique => {
                let columns = index.columns.iter().map(|c| c.name.name.as_str()).collect();
                keys.push((index.name.span, "unique index", columns));
            }
            _ => {}
        }
    }
    keys
}

/// Every same-hub foreign key of a table: its span, local columns and target.
fn foreign_keys<'c, 'a>(
    ctx: &'c Ctx<'a>,
    hub: &'c HubCtx<'a>,
    table: &TableCtx<'a>,
) -> Vec<(Span, Vec<&'a str>, references::Target<'c, 'a>)> {
    let mut out = Vec::new();
    let mut push = |span: Span, local: Vec<&'a str>, reference: &Reference| {
        if let Ok(target) = references::resolve(ctx, hub, table.schema, reference) {
            if !target.cross_hub {
                out.push((span, local, target));
            }
        }
    };
    for column in &table.columns {
        if let Some(r) = column.reference() {
            push(r.span, vec![column.name.name.as_str()], r);
        }
    }
    for item in &table.items {
        if let TableItemKind::ForeignKey { columns, target, .. } = &item.kind {
            push(item.span, columns.iter().map(|c| c.name.as_str()).collect(), target);
        }
    }
    out
}

fn distributed_table(ctx: &Ctx, hub: &HubCtx, table: &TableCtx, column: &str, out: &mut Vec<Diagnostic>) {
    if let Some(c) = table.column(column) {
        if table.is_nullable(c) {
            out.push(messages::undistributed_table(
                &table.ast.name,
                hub.name(),
                column,
                &format!("distributes by `{column}`, which is nullable (Citus refuses a row without one)"),
            ));
        }
    }
    for (span, what, columns) in keys(table) {
        if !columns.contains(&column) {
            out.push(messages::distribution_key(span, table.name(), what, &columns, column));
        }
    }
    for (span, local, target) in foreign_keys(ctx, hub, table) {
        if target.table.option(TableOptionKind::Shared).is_some() {
            continue; // to a reference table: every node has it
        }
        let Some(remote) = distribution_column(hub, target.table) else {
            continue; // the target's own placement is reported on it
        };
        let on_one_node = local.iter().zip(&target.columns).any(|(l, r)| *l == column && r.as_str() == remote);
        if !on_one_node {
            out.push(messages::distribution_foreign_key(
                span,
                table.name(),
                target.table.name(),
                &format!(
                    "does not pair `{column}` with `{}.{remote}`, so the two rows may live on different nodes",
                    target.table.name()
                ),
                &format!(
                    "reference `({column}, ...) references {}({remote}, ...)` (a key of the target that includes `{remote}`)",
                    target.table.name()
                ),
            ));
        }
    }
}

fn reference_table(ctx: &Ctx, hub: &HubCtx, table: &TableCtx, out: &mut Vec<Diagnostic>) {
    for (span, _, target) in foreign_keys(ctx, hub, table) {
        if distribution_column(hub, target.table).is_some() {
            out.push(messages::distribution_foreign_key(
                span,
                table.name(),
                target.table.name(),
                "goes from a reference table to a distributed one, which Citus refuses",
                "drop the reference, or make the referencing table distributed",
            ));
        }
    }
}
