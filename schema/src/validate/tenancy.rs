//! The tenancy lint: tenant data left unscoped, tenant tables whose keys
//! do not start with the tenant, and policies that let rows through
//! whatever the session says. `allow <code>` inside a table silences one
//! of its warnings (never an error).

use super::{Ctx, HubCtx, TableCtx};
use crate::ast::*;
use crate::diagnostics::{messages, Code, Diagnostic, Severity};
use crate::policy;

/// Warnings a table may `allow`.
pub const ALLOWABLE: &[Code] = &[
    Code::UnscopedTenantData,
    Code::TenantKeyOrder,
    Code::ScopeIndexMissing,
    Code::NoPartitions,
    Code::UnboundedAuditLog,
];

pub(super) fn check(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    for hub in &ctx.hubs {
        for table in &hub.tables {
            unscoped_tenant_data(hub, table, out);
            tenant_key_order(table, out);
            permissive_policies(table, out);
            for item in &table.items {
                if let TableItemKind::Allow(code) = &item.kind {
                    if !ALLOWABLE.iter().any(|c| c.as_str() == code.name) {
                        out.push(messages::invalid_allow(code, ALLOWABLE));
                    }
                }
            }
        }
    }
}

/// Drops the warnings a table allows; runs after every pass.
pub(super) fn apply_allows(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let allowed: Vec<(crate::span::Span, &str)> = ctx
        .hubs
        .iter()
        .flat_map(|hub| &hub.tables)
        .flat_map(|table| {
            table.items.iter().filter_map(|item| match &item.kind {
                TableItemKind::Allow(code) => Some((table.ast.span, code.name.as_str())),
                _ => None,
            })
        })
        .collect();
    out.retain(|d| {
        d.severity != Severity::Warning
            || !allowed
                .iter()
                .any(|(span, code)| *code == d.code.as_str() && span.start <= d.span.start && d.span.end <= span.end)
    });
}

fn is_unscoped(table: &TableCtx) -> bool {
    !table
        .ast
        .options
        .iter()
        .any(|o| o.kind.is_scope() || o.kind == TableOptionKind::Shared)
}

/// The tables tenant columns point to: those named `tenants`/`tenant`,
/// and whatever this hub's tenant-scoped tables reference.
fn is_tenant_table(hub: &HubCtx, target: &str) -> bool {
    if matches!(target, "tenants" | "tenant") {
        return true;
    }
    hub.tables.iter().any(|t| {
        let Some((_, (column, _))) = t.tenant_option() else {
            return false;
        };
        t.column(column)
            .and_then(Column::reference)
            .is_some_and(|r| r.path.last().is_some_and(|p| p.name == target))
    })
}

/// A column named like a tenant or referencing the tenant table, on a table
/// that is neither scoped nor declared `shared`.
fn unscoped_tenant_data(hub: &HubCtx, table: &TableCtx, out: &mut Vec<Diagnostic>) {
    if !is_unscoped(table) {
        return;
    }
    let tenant_like = table.columns.iter().find(|c| {
        let named = c.name.name == "tenant_id" || c.name.name.ends_with("_tenant_id");
        let refers = c
            .reference()
            .and_then(|r| r.path.last())
            .is_some_and(|t| is_tenant_table(hub, &t.name));
        named || refers
    });
    if let Some(column) = tenant_like {
        out.push(messages::unscoped_tenant_data(&column.name, table.name()));
    }
}

/// Unique keys and btree indexes of a tenant-scoped table that do not start
/// with the tenant column. The primary key is exempt: a generated id is
/// unique in every tenant at once.
fn tenant_key_order(table: &TableCtx, out: &mut Vec<Diagnostic>) {
    let Some((_, (tenant, _))) = table.tenant_option() else {
        return;
    };
    if table.primary_key() == [tenant] {
        return; // the tenant table itself: one row per tenant
    }
    let report = |span, what: &str, columns: &[&str], out: &mut Vec<Diagnostic>| {
        if columns.first() != Some(&tenant) {
            out.push(messages::tenant_key_order(span, table.name(), what, columns, tenant));
        }
    };
    for column in &table.columns {
        if let Some(m) = column.modifiers.iter().find(|m| matches!(m.kind, ModifierKind::Unique)) {
            report(m.span, "unique key", &[column.name.name.as_str()], out);
        }
    }
    for item in &table.items {
        match &item.kind {
            TableItemKind::Unique { columns, .. } => {
                let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
                report(item.span, "unique key", &names, out);
            }
            TableItemKind::Index(index) => {
                let btree = index.method.as_ref().is_none_or(|m| m.name.eq_ignore_ascii_case("btree"));
                if btree {
                    let names: Vec<&str> = index.columns.iter().map(|c| c.name.name.as_str()).collect();
                    let what = if index.unique { "unique index" } else { "index" };
                    report(index.name.span, what, &names, out);
                }
            }
            _ => {}
        }
    }
}

/// A declared policy that admits every row, or admits rows when the session
/// setting it reads is missing.
fn permissive_policies(table: &TableCtx, out: &mut Vec<Diagnostic>) {
    for item in &table.items {
        let TableItemKind::Policy(p) = &item.kind else { continue };
        for (clause, expr) in [("using", &p.using), ("with check", &p.with_check)] {
            let Some(expr) = expr else { continue };
            let Some(verdict) = policy::analyze(&expr.text) else { continue };
            if verdict.always_true {
                out.push(messages::permissive_policy(
                    expr,
                    &p.name.name,
                    clause,
                    "is true for every row, whatever the session",
                ));
            } else if verdict.admits_without_setting {
                out.push(messages::permissive_policy(
                    expr,
                    &p.name.name,
                    clause,
                    "admits rows when the setting it reads is missing",
                ));
            }
        }
    }
}
