//! Audit: `audited` tables write every change, by trigger, to their hub's
//! `audit_log` table. The trigger fills the audit log's columns by name, so
//! the audit log must have them, with types that can hold what it writes,
//! and every audited table must fit them (its key, its tenant).

use super::{Ctx, HubCtx, TableCtx};
use crate::ast::*;
use crate::diagnostics::{messages, Diagnostic};
use crate::types::ColumnType;

/// The audit log's columns, as the trigger names them: (name, types it accepts).
const AUDIT_COLUMNS: [(&str, &str); 7] = [
    ("tenant_id", "uuid"),
    ("actor_id", "uuid"),
    ("action", "text or varchar"),
    ("entity_type", "text or varchar"),
    ("entity_id", "uuid, text, varchar or jsonb"),
    ("changes", "jsonb"),
    ("occurred_at", "timestamptz or timestamp"),
];

/// What `help` suggests to a hub without an audit log.
const AUDIT_LOG_HELP: &str = "declare the hub's audit log: `table audit_log tenant_scoped(tenant_id) audit_log { ... }` with the columns \
     tenant_id uuid, actor_id uuid, action text, entity_type text, entity_id text, changes jsonb and occurred_at timestamptz \
     (and, to keep it small, `partition by range (occurred_at) every 1 month retain 1 year`)";

/// Whether the audit log's column `name` can hold what the trigger writes into it.
fn accepts(name: &str, ty: &ColumnType) -> bool {
    match name {
        "tenant_id" | "actor_id" => *ty == ColumnType::Uuid,
        "action" | "entity_type" => matches!(ty, ColumnType::Text | ColumnType::Varchar(_)),
        "entity_id" => matches!(ty, ColumnType::Uuid | ColumnType::Text | ColumnType::Varchar(_) | ColumnType::Jsonb),
        "changes" => *ty == ColumnType::Jsonb,
        "occurred_at" => matches!(ty, ColumnType::Timestamptz | ColumnType::Timestamp),
        _ => true,
    }
}

pub(super) fn check(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    for hub in &ctx.hubs {
        for table in &hub.tables {
            for option in table.ast.options.iter().filter(|o| is_audit_option(o.kind)) {
                if let Some(arg) = &option.arg {
                    out.push(messages::invalid_audit(
                        arg.span,
                        format!("`{}` takes no argument", option.name.name),
                        "unexpected argument",
                        format!("write `{}` alone", option.name.name),
                    ));
                }
            }
        }
        let logs: Vec<&TableCtx> = hub
            .tables
            .iter()
            .filter(|t| t.option(TableOptionKind::AuditLog).is_some())
            .collect();
        for extra in logs.iter().skip(1) {
            out.push(messages::invalid_audit(
                option_span(extra, TableOptionKind::AuditLog),
                format!("`{}` is the second audit log of hub `{}`", extra.name(), hub.name()),
                "second audit log",
                format!("a hub has one audit log, `{}`: remove `audit_log` here", logs[0].name()),
            ));
        }
        if let Some(log) = logs.first() {
            check_log(hub, log, out);
        }
        for table in hub.tables.iter().filter(|t| t.option(TableOptionKind::Audited).is_some()) {
            check_audited(hub, table, logs.first().copied(), out);
        }
    }
}

fn is_audit_option(kind: TableOptionKind) -> bool {
    matches!(kind, TableOptionKind::Audited | TableOptionKind::AuditLog)
}

fn option_span(table: &TableCtx, kind: TableOptionKind) -> crate::span::Span {
    table.option(kind).map_or(table.ast.name.span, |o| o.span)
}

/// The audit log's column `name`, with its resolved type.
fn log_column<'a>(hub: &HubCtx, log: &TableCtx<'a>, name: &str) -> Option<(&'a Column, Option<ColumnType>)> {
    let column = log.column(name)?;
    Some((column, hub.resolve_type(log.schema, &column.ty)))
}

fn check_log(hub: &HubCtx, log: &TableCtx, out: &mut Vec<Diagnostic>) {
    let span = option_span(log, TableOptionKind::AuditLog);
    let retained = log.items.iter().any(|item| match &item.kind {
        TableItemKind::PartitionBy { upkeep, .. } => upkeep.as_ref().is_some_and(|u| u.retain.is_some()),
        TableItemKind::Retain { .. } => true,
        _ => false,
    });
    if !retained {
        out.push(messages::unbounded_audit_log(span, log.name()));
    }
    if log.option(TableOptionKind::Audited).is_some() {
        out.push(messages::invalid_audit(
            option_span(log, TableOptionKind::Audited),
            format!(
                "audit log `{}` is itself `audited`: every audit row would write another",
                log.name()
            ),
            "audits itself",
            "remove `audited` from the audit log",
        ));
    }
    if hub
        .schema_blocks
        .iter()
        .any(|s| s.per_tenant.is_some() && s.name.name == log.schema)
    {
        out.push(messages::invalid_audit(
            span,
            format!(
                "audit log `{}` is in schema `{}`, which is copied per tenant",
                log.name(),
                log.schema
            ),
            "in a per-tenant schema",
            "declare the audit log in a schema every tenant shares",
        ));
    }
    match log.tenant_option() {
        Some((TableOptionKind::TenantScoped, ("tenant_id", _))) => {}
        _ => out.push(messages::invalid_audit(
            span,
            format!(
                "audit log `{}` is not `tenant_scoped(tenant_id)`: every tenant would read every tenant's audit rows",
                log.name()
            ),
            "not scoped by tenant",
            "declare it `tenant_scoped(tenant_id)`",
        )),
    }
    for (name, types) in AUDIT_COLUMNS {
        match log_column(hub, log, name) {
            None => out.push(messages::invalid_audit(
                log.ast.name.span,
                format!("audit log `{}` has no column `{name}`, which the audit trigger writes", log.name()),
                "column missing",
                format!("add `{name}` ({types}); the trigger fills tenant_id, actor_id, action, entity_type, entity_id, changes and occurred_at"),
            )),
            Some((column, Some(ty))) if !accepts(name, &ty) => out.push(messages::invalid_audit(
                column.ty.span,
                format!("audit log column `{name}` is `{ty}`, which cannot hold what the audit trigger writes"),
                "wrong type",
                format!("declare `{name}` as {types}"),
            )),
            Some((column, _)) if name == "action" && varchar_shorter_than(hub, log, column, "delete".len()) => {
                out.push(messages::invalid_audit(
                    column.ty.span,
                    format!("audit log column `{name}` is too short for `insert`, `update` and `delete`"),
                    "too short",
                    "declare `action varchar(10)` or `text`",
                ))
            }
            _ => {}
        }
    }
    // The trigger fills only its own columns: the others need a default.
    for column in &log.columns {
        let filled = AUDIT_COLUMNS.iter().any(|(name, _)| *name == column.name.name);
        let has_value = column.has(|m| matches!(m, ModifierKind::Default(_) | ModifierKind::Generated(_)));
        if !filled && !has_value && !log.is_nullable(column) {
            out.push(messages::invalid_audit(
                column.name.span,
                format!(
                    "audit log column `{}` is not null without a default, and the audit trigger does not fill it",
                    column.name.name
                ),
                "no value on insert",
                format!("give `{}` a default, or make it nullable", column.name.name),
            ));
        }
    }
}

fn varchar_shorter_than(hub: &HubCtx, table: &TableCtx, column: &Column, len: usize) -> bool {
    matches!(hub.resolve_type(table.schema, &column.ty), Some(ColumnType::Varchar(Some(n))) if (n as usize) < len)
}

fn check_audited(hub: &HubCtx, table: &TableCtx, log: Option<&TableCtx>, out: &mut Vec<Diagnostic>) {
    let span = option_span(table, TableOptionKind::Audited);
    let Some(log) = log else {
        out.push(messages::invalid_audit(
            span,
            format!("`{}` is audited, but hub `{}` has no audit log", table.name(), hub.name()),
            "nowhere to write",
            AUDIT_LOG_HELP,
        ));
        return;
    };
    if log.schema == table.schema && log.name() == table.name() {
        return; // reported by check_log
    }
    if hub
        .schema_blocks
        .iter()
        .any(|s| s.per_tenant.is_some() && s.name.name == table.schema)
    {
        out.push(messages::invalid_audit(
            span,
            format!(
                "`{}` is in schema `{}`, which is copied per tenant: its copies are not audited",
                table.name(),
                table.schema
            ),
            "in a per-tenant schema",
            "audit tables of shared schemas, or keep an audit table in the template",
        ));
    }
    let key = table.primary_key();
    if key.is_empty() {
        out.push(messages::invalid_audit(
            span,
            format!("audited table `{}` has no primary key to name its rows by", table.name()),
            "no primary key",
            "declare a primary key",
        ));
    }
    if let Some((entity, Some(ColumnType::Uuid))) = log_column(hub, log, "entity_id") {
        let uuid_key = match key.as_slice() {
            [only] => table
                .column(only)
                .and_then(|c| hub.resolve_type(table.schema, &c.ty))
                .is_some_and(|t| t == ColumnType::Uuid),
            _ => false,
        };
        if !key.is_empty() && !uuid_key {
            out.push(messages::invalid_audit(
                span,
                format!(
                    "audited table `{}` has the key ({}), but the audit log's `entity_id` holds one uuid",
                    table.name(),
                    key.join(", ")
                ),
                "key does not fit",
                format!("declare `{} text` (or jsonb) in `{}` to hold any key", entity.name.name, log.name()),
            ));
        }
    }
    if let Some((entity_type, _)) = log_column(hub, log, "entity_type") {
        let label = format!("{}.{}", table.schema, table.name());
        if varchar_shorter_than(hub, log, entity_type, label.len()) {
            out.push(messages::invalid_audit(
                span,
                format!("the audit log's `entity_type` is too short for `{label}`"),
                "name does not fit",
                "declare `entity_type text` in the audit log",
            ));
        }
    }
    if let Some((tenant, _)) = log_column(hub, log, "tenant_id") {
        let tenant_not_null = !log.is_nullable(tenant);
        let has_tenant = match table.tenant_option() {
            Some((TableOptionKind::TenantScoped, (column, _))) => table.column(column).is_some_and(|c| !table.is_nullable(c)),
            _ => false,
        };
        if tenant_not_null && !has_tenant {
            out.push(messages::invalid_audit(
                span,
                format!(
                    "audited table `{}` has rows without a tenant, but the audit log's `tenant_id` is not null",
                    table.name()
                ),
                "rows without a tenant",
                format!("make `{}.tenant_id` nullable, or audit only tenant-scoped tables", log.name()),
            ));
        }
    }
}
