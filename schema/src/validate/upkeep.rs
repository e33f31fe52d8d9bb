//! Data lifecycle: partition upkeep (`partition by range (c) every 1 month
//! premake 3 retain 90 days archive`) and row retention (`retain 30 days by
//! c`). pg_partman runs the upkeep, so what it cannot do is an error here.

use super::{Ctx, HubCtx, TableCtx};
use crate::ast::*;
use crate::diagnostics::{messages, Diagnostic};
use crate::ir;

/// Units an interval may be written in (singular; a trailing `s` is allowed).
const UNITS: [&str; 5] = ["hour", "day", "week", "month", "year"];

pub(super) fn check(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    for hub in &ctx.hubs {
        schedules(hub, out);
        tenant_templates(hub, out);
        for table in &hub.tables {
            let mut retains = table.items.iter().filter_map(|i| match &i.kind {
                TableItemKind::Retain { keep, column } => Some((i, keep, column)),
                _ => None,
            });
            let partitioned = table.items.iter().find_map(|i| match &i.kind {
                TableItemKind::PartitionBy {
                    method, column, upkeep, ..
                } => Some((column, upkeep, *method)),
                _ => None,
            });
            if let Some((item, keep, column)) = retains.next() {
                retention(hub, table, item, keep, column, partitioned.is_some(), out);
            }
            for (item, _, _) in retains {
                out.push(messages::invalid_upkeep(
                    item.span,
                    format!("table `{}` declares `retain` twice", table.name()),
                    "second `retain`",
                    "keep one `retain ... by column` line",
                ));
            }
            if let Some((column, Some(upkeep), method)) = partitioned {
                if method == PartitionMethod::Range {
                    partition_upkeep(hub, table, column, upkeep, out);
                } else {
                    out.push(messages::invalid_upkeep(
                        upkeep.every.span,
                        format!(
                            "upkeep by time needs range partitions; `{}` is partitioned by {}",
                            table.name(),
                            method.as_str()
                        ),
                        "not a range",
                        "partition by range on a time column: `partition by range (created_at) every 1 month`",
                    ));
                }
            }
        }
    }
}

/// One `schedule maintenance` with a five-field cron expression, in a hub
/// with something to maintain.
fn schedules(hub: &HubCtx, out: &mut Vec<Diagnostic>) {
    for extra in hub.schedules.iter().skip(1) {
        out.push(messages::invalid_upkeep(
            extra.cron.span,
            "a second `schedule maintenance`",
            "second schedule",
            "keep one: pg_cron runs the hub's upkeep on one schedule",
        ));
    }
    let Some(schedule) = hub.schedules.first() else {
        return;
    };
    let cron = schedule.cron.text.trim_matches('\'');
    let fields: Vec<&str> = cron.split_whitespace().collect();
    let valid = fields.len() == 5 && fields.iter().all(|f| f.chars().all(|c| c.is_ascii_digit() || "*/,-".contains(c)));
    if !valid {
        out.push(messages::invalid_upkeep(
            schedule.cron.span,
            format!("`{cron}` is not a cron schedule pg_cron reads"),
            "not five cron fields",
            "write minute hour day month weekday, e.g. '0 2 * * *' for 02:00 every day",
        ));
    }
    let upkeep = hub.tables.iter().any(|t| {
        t.items
            .iter()
            .any(|i| matches!(&i.kind, TableItemKind::PartitionBy { upkeep: Some(_), .. }))
    });
    if !upkeep {
        out.push(messages::invalid_upkeep(
            schedule.cron.span,
            format!(
                "hub `{}` schedules maintenance but no table has partition upkeep",
                hub.ast.name.name
            ),
            "nothing to schedule",
            "add upkeep to a partitioned table (`partition by range (c) every 1 month`) or remove the schedule",
        ));
    }
}

/// One template schema per hub, named by a rule that makes valid, distinct names.
fn tenant_templates(hub: &HubCtx, out: &mut Vec<Diagnostic>) {
    let templates: Vec<&SchemaBlock> = hub.schema_blocks.iter().copied().filter(|s| s.per_tenant.is_some()).collect();
    for extra in templates.iter().skip(1) {
        out.push(messages::invalid_upkeep(
            extra.per_tenant.as_ref().map_or(extra.name.span, |p| p.span),
            format!(
                "a second per-tenant schema `{}` after `{}`",
                extra.name.name, templates[0].name.name
            ),
            "second template",
            "put every per-tenant table in one `schema ... per tenant` block",
        ));
    }
    for template in &templates {
        // Template tables are queried through `search_path` (the tenant's
        // schema, then `public`): a namesake in `public` would answer for a
        // connection that entered no tenant schema.
        for table in hub.tables.iter().filter(|t| t.schema == template.name.name) {
            if hub
                .tables
                .iter()
                .any(|o| o.schema == super::DEFAULT_SCHEMA && o.ast.name.name == table.ast.name.name)
            {
                out.push(messages::invalid_upkeep(
                    table.ast.name.span,
                    format!("per-tenant table `{}` has a namesake in `public`", table.ast.name.name),
                    "ambiguous through search_path",
                    "rename one of them: tenant schemas are searched before `public`",
                ));
            }
        }
    }
    for template in templates {
        let Some(rule) = template.per_tenant.as_ref().and_then(|p| p.naming.as_ref()) else {
            continue;
        };
        let naming = rule.text.trim_matches('\'');
        let rest = naming.replacen("{id}", "", 1);
        let valid = naming.matches("{id}").count() == 1
            && rest.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && rest.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && naming.len() + 28 <= 63;
        if !valid {
            out.push(messages::invalid_upkeep(
                rule.span,
                format!("`{naming}` cannot name tenant schemas"),
                "not a naming rule",
                "write a lower-case prefix and `{id}` once, e.g. 'tenant_{id}' (the id is at most 32 characters)",
            ));
        }
    }
}

fn partition_upkeep(hub: &HubCtx, table: &TableCtx, column: &Ident, upkeep: &Upkeep, out: &mut Vec<Diagnostic>) {
    let every = upkeep.every.sql();
    if !ir::Upkeep::INTERVALS.iter().any(|(e, _)| *e == every) {
        let known: Vec<String> = ir::Upkeep::INTERVALS.iter().map(|(e, _)| format!("`every {e}`")).collect();
        out.push(messages::invalid_upkeep(
            upkeep.every.span,
            format!("pg_partman cannot keep partitions of `{every}`"),
            "not a partition interval pg_partman names",
            format!("write one of {}", known.join(", ")),
        ));
    }
    if let Some((0, span)) = upkeep.premake {
        out.push(messages::invalid_upkeep(
            span,
            "`premake 0` makes no partition ahead, so the first insert of a new period fails",
            "no partitions ahead",
            "make at least one ahead: `premake 1` (pg_partman's default is 4)",
        ));
    }
    if let Some(keep) = &upkeep.retain {
        interval_unit(keep, out);
    }
    if let (Some(span), None) = (upkeep.archive, &upkeep.retain) {
        out.push(messages::invalid_upkeep(
            span,
            "`archive` without `retain`: no partition ever retires, so nothing is archived",
            "nothing to archive",
            "say how long partitions stay: `retain 90 days archive`",
        ));
    }
    if let Some(c) = table.column(&column.name) {
        let temporal = hub.resolve_type(table.schema, &c.ty).is_some_and(|t| t.is_temporal());
        if !temporal {
            out.push(messages::invalid_upkeep(
                upkeep.every.span,
                format!("upkeep by time needs a time partition key; `{}` is not one", column.name),
                "not a time column",
                "partition by a `timestamp`, `timestamptz` or `date` column",
            ));
        } else if c.is_nullable() && !table.primary_key().contains(&column.name.as_str()) {
            out.push(messages::invalid_upkeep(
                column.span,
                format!("pg_partman needs the partition key `{}` to be NOT NULL", column.name),
                "nullable",
                format!("add `not null` to `{}` or put it in the primary key", column.name),
            ));
        }
    }
    for item in &table.items {
        if let TableItemKind::Partition { name, .. } = &item.kind {
            out.push(messages::invalid_upkeep(
                name.span,
                format!(
                    "partition `{}` is declared, but pg_partman makes this table's partitions",
                    name.name
                ),
                "declared partition",
                "remove the line: adding upkeep renames existing partitions to pg_partman's names, and `maintain` makes new ones",
            ));
        }
    }
}

fn retention(
    hub: &HubCtx,
    table: &TableCtx,
    item: &TableItem,
    keep: &Interval,
    column: &Ident,
    partitioned: bool,
    out: &mut Vec<Diagnostic>,
) {
    if partitioned {
        out.push(messages::invalid_upkeep(
            item.span,
            format!("table `{}` is partitioned: whole partitions retire, not rows", table.name()),
            "row retention on a partitioned table",
            "move it to the partition key: `partition by range (c) every 1 month retain 30 days`",
        ));
        return;
    }
    interval_unit(keep, out);
    let Some(c) = table.column(&column.name) else {
        out.push(messages::unknown_column(
            column,
            "the retention column",
            table.name(),
            table.column_names(),
        ));
        return;
    };
    if !hub.resolve_type(table.schema, &c.ty).is_some_and(|t| t.is_temporal()) {
        out.push(messages::invalid_upkeep(
            column.span,
            format!("rows are aged by `{}`, which is not a time column", column.name),
            "not a time column",
            "name a `timestamp`, `timestamptz` or `date` column, e.g. `retain 30 days by created_at`",
        ));
    }
}

fn interval_unit(interval: &Interval, out: &mut Vec<Diagnostic>) {
    if !UNITS.contains(&interval.unit().as_str()) {
        out.push(messages::invalid_upkeep(
            interval.unit.span,
            format!("`{}` is not a unit of time hubgen knows", interval.unit.name),
            "unknown unit",
            "write hours, days, weeks, months or years",
        ));
    } else if interval.count == 0 {
        out.push(messages::invalid_upkeep(
            interval.span,
            "a retention of zero drops data as soon as it is written",
            "zero",
            "keep rows for a while: `retain 30 days`",
        ));
    }
}
