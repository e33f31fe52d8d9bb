//! Keys, indexes and partitions: every named column exists, one primary
//! key per table, index methods fit their columns, partition keys fit
//! PostgreSQL's rules.

use super::{columns::expression_columns, Ctx, HubCtx, TableCtx};
use crate::ast::*;
use crate::diagnostics::{messages, Diagnostic};
use crate::ir::IndexMethod;
use crate::types::ColumnType;

pub(super) fn check(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    for hub in &ctx.hubs {
        for table in &hub.tables {
            check_table(hub, table, out);
        }
    }
}

fn known(table: &TableCtx, ident: &Ident, what: &str, out: &mut Vec<Diagnostic>) -> bool {
    if table.column(&ident.name).is_some() {
        return true;
    }
    out.push(messages::unknown_column(ident, what, table.name(), table.column_names()));
    false
}

fn check_table(hub: &HubCtx, table: &TableCtx, out: &mut Vec<Diagnostic>) {
    let name = table.name();
    // Primary key: exactly one declaration.
    let mut pk_spans: Vec<crate::span::Span> = table
        .columns
        .iter()
        .flat_map(|c| {
            c.modifiers
                .iter()
                .filter(|m| matches!(m.kind, ModifierKind::PrimaryKey))
                .map(|m| m.span)
        })
        .collect();
    pk_spans.extend(
        table
            .items
            .iter()
            .filter(|i| matches!(i.kind, TableItemKind::PrimaryKey(_)))
            .map(|i| i.span),
    );
    if pk_spans.is_empty() && !table.columns.is_empty() {
        out.push(messages::missing_primary_key(&table.ast.name));
    }
    if pk_spans.len() > 1 {
        pk_spans.sort();
        out.push(messages::multiple_primary_keys(pk_spans[1], pk_spans[0], name));
    }

    for item in &table.items {
        match &item.kind {
            TableItemKind::PrimaryKey(columns) => {
                for c in columns {
                    known(table, c, "the primary key", out);
                }
            }
            TableItemKind::Unique { columns, .. } => {
                for c in columns {
                    known(table, c, "this unique constraint", out);
                }
            }
            TableItemKind::Check { expr, .. } => expression_columns(table, expr, "this check", out),
            TableItemKind::Index(index) => check_index(hub, table, index, out),
            _ => {}
        }
    }
    check_partitions(hub, table, out);
}

fn check_index(hub: &HubCtx, table: &TableCtx, index: &Index, out: &mut Vec<Diagnostic>) {
    let what = format!("index `{}`", index.name.name);
    let mut method = IndexMethod::Btree;
    if let Some(m) = &index.method {
        match IndexMethod::parse(&m.name) {
            Some(parsed) => method = parsed,
            None => {
                out.push(messages::invalid_index_method(m, IndexMethod::ALL.iter().map(|(n, _)| *n)));
                return;
            }
        }
    }
    let mut types = Vec::new();
    for c in &index.columns {
        if known(table, &c.name, &what, out) {
            if let Some(column) = table.column(&c.name.name) {
                types.push((c, hub.resolve_type(table.schema, &column.ty)));
            }
        }
    }
    if let Some(predicate) = &index.predicate {
        expression_columns(table, predicate, "this index predicate", out);
    }
    if method == IndexMethod::Btree {
        return;
    }
    let m = method.as_str();
    if index.unique {
        out.push(messages::invalid_index_option(
            index.name.span,
            &format!("`{m}` indexes cannot be unique"),
            "use a btree index (drop `using`) for uniqueness",
        ));
    }
    for (c, _) in &types {
        if c.descending {
            out.push(messages::invalid_index_option(
                c.span,
                &format!("`{m}` indexes have no order, so `desc` means nothing"),
                "remove `desc`, or use a btree index",
            ));
        }
    }
    if method == IndexMethod::Hash && index.columns.len() > 1 {
        out.push(messages::invalid_index_option(
            index.name.span,
            "hash indexes cover exactly one column",
            "index one column, or use a btree index",
        ));
    }
    for (c, ty) in &types {
        let Some(ty) = ty else { continue };
        let fits = match method {
            IndexMethod::Gin => matches!(ty, ColumnType::Jsonb | ColumnType::Tsvector | ColumnType::Array(_)),
            IndexMethod::Gist => matches!(ty, ColumnType::Tsvector),
            _ => true,
        };
        if !fits {
            out.push(messages::invalid_index_option(
                c.span,
                &format!("`{m}` has no default operator class for `{}` (type `{ty}`)", c.name.name),
                "gin indexes jsonb, tsvector and arrays; gist indexes tsvector; use btree for scalar columns",
            ));
        }
    }
}

fn check_partitions(hub: &HubCtx, table: &TableCtx, out: &mut Vec<Diagnostic>) {
    let partition_by = table.items.iter().find_map(|i| match &i.kind {
        TableItemKind::PartitionBy { method, column, into, .. } => Some((*method, column, *into)),
        _ => None,
    });
    let declared: Vec<(&Ident, &PartitionBound)> = table
        .items
        .iter()
        .filter_map(|i| match &i.kind {
            TableItemKind::Partition { name, bound } => Some((name, bound)),
            _ => None,
        })
        .collect();
    let Some((method, column_ident, into)) = partition_by else {
        if let Some((name, _)) = declared.first() {
            out.push(messages::partition_without_range(name, table.name()));
        }
        return;
    };
    if !known(table, column_ident, "the partition key", out) {
        return;
    }
    if let (PartitionMethod::Range, Some(column)) = (method, table.column(&column_ident.name)) {
        if let Some(ty) = hub.resolve_type(table.schema, &column.ty) {
            if !(ty.is_temporal() || ty.is_integer()) {
                out.push(messages::partition_column_type(column_ident, &ty));
            }
        }
    }
    partition_bounds_match(method, into, column_ident, &declared, out);
    let partitions: Vec<(&Ident, &Expr, &Expr)> = declared
        .iter()
        .filter_map(|(name, bound)| match bound {
            PartitionBound::Range { from, to } => Some((*name, from, to)),
            _ => None,
        })
        .collect();
    // PostgreSQL: unique constraints on a partitioned table must include the partition key.
    let key = column_ident.name.as_str();
    let pk = table.primary_key();
    if !pk.is_empty() && !pk.contains(&key) {
        out.push(messages::partition_key_not_in_key(column_ident, "the primary key", &pk));
    }
    for column in &table.columns {
        if column.has(|m| matches!(m, ModifierKind::Unique)) && column.name.name != key {
            out.push(messages::partition_key_not_in_key(
                &column.name,
                &format!("the unique constraint on `{}`", column.name.name),
                &[&column.name.name],
            ));
        }
    }
    for item in &table.items {
        let (columns, what): (Vec<&str>, String) = match &item.kind {
            TableItemKind::Unique { columns, .. } => (columns.iter().map(|c| c.name.as_str()).collect(), "this unique constraint".into()),
            TableItemKind::Index(i) if i.unique => (
                i.columns.iter().map(|c| c.name.name.as_str()).collect(),
                format!("unique index `{}`", i.name.name),
            ),
            _ => continue,
        };
        if !columns.contains(&key) {
            out.push(messages::partition_key_not_in_key_span(item.span, column_ident, &what, &columns));
        }
    }
    let upkeep = table
        .items
        .iter()
        .any(|i| matches!(&i.kind, TableItemKind::PartitionBy { upkeep: Some(_), .. }));
    if declared.is_empty() && !upkeep && method != PartitionMethod::Hash {
        out.push(messages::no_partitions(column_ident, table.name()));
    }
    // Bounds: from < to, and no two ranges overlap (for comparable literals).
    let mut ranges: Vec<(&Ident, Bound, Bound)> = Vec::new();
    for (name, from, to) in &partitions {
        let (Some(lo), Some(hi)) = (Bound::parse(&from.text), Bound::parse(&to.text)) else {
            continue;
        };
        if !lo.lt(&hi) {
            out.push(messages::partition_bounds(
                from.span.to(to.span),
                &format!("the range is empty: `{}` is not before `{}`", from.text, to.text),
            ));
            continue;
        }
        if let Some((other, _, _)) = ranges.iter().find(|(_, olo, ohi)| lo.lt(ohi) && olo.lt(&hi)) {
            out.push(messages::partition_bounds(
                from.span.to(to.span),
                &format!("`{}` overlaps partition `{}`", name.name, other.name),
            ));
        }
        ranges.push((name, lo, hi));
    }
}

/// Each declared partition's bound suits the method; hash partitions are
/// counted, not declared; list values and the default partition appear once.
fn partition_bounds_match(
    method: PartitionMethod,
    into: Option<(u32, crate::span::Span)>,
    column: &Ident,
    declared: &[(&Ident, &PartitionBound)],
    out: &mut Vec<Diagnostic>,
) {
    match (method, into) {
        (PartitionMethod::Hash, None) => out.push(messages::partition_bounds_help(
            column.span,
            "hash partitioning needs a count",
            "say how many partitions: `partition by hash (tenant_id) into 16`",
        )),
        (PartitionMethod::Hash, Some((n, span))) if !(2..=1024).contains(&n) => out.push(messages::partition_bounds_help(
            span,
            "hash partitions number 2 to 1024",
            "pick a count in that range; a power of two splits evenly when it grows",
        )),
        (PartitionMethod::Range | PartitionMethod::List, Some((_, span))) => out.push(messages::partition_bounds_help(
            span,
            "`into` counts hash partitions",
            "remove `into`: range and list partitions are declared one by one",
        )),
        _ => {}
    }
    let mut values: Vec<&str> = Vec::new();
    let mut default: Option<&Ident> = None;
    for (name, bound) in declared {
        match (method, bound) {
            (PartitionMethod::Hash, _) => out.push(messages::partition_bounds_help(
                name.span,
                &format!("`{}`: hash partitions are made by `into`, not declared", name.name),
                "remove the line; `into N` makes partitions `<table>_h00` to `<table>_h<N-1>`",
            )),
            (PartitionMethod::List, PartitionBound::Range { from, .. }) => out.push(messages::partition_bounds_help(
                from.span,
                &format!("`{}`: a list partition takes values, not a range", name.name),
                "list its values: `partition regions_eu in ('eu', 'uk')`, or `default`",
            )),
            (PartitionMethod::Range, PartitionBound::In(v)) => out.push(messages::partition_bounds_help(
                v[0].span,
                &format!("`{}`: a range partition takes a range, not values", name.name),
                "write `from <first> to <after the last>`, or partition by list",
            )),
            (_, PartitionBound::Default(span)) => {
                if let Some(first) = default.replace(name) {
                    out.push(messages::partition_bounds_help(
                        *span,
                        &format!("`{}` is a second default partition after `{}`", name.name, first.name),
                        "keep one `default` partition",
                    ));
                }
            }
            (PartitionMethod::List, PartitionBound::In(vs)) => {
                for v in vs {
                    if values.contains(&v.text.as_str()) {
                        out.push(messages::partition_bounds_help(
                            v.span,
                            &format!("{} is listed by two partitions", v.text),
                            "list each value in one partition only",
                        ));
                    }
                    values.push(&v.text);
                }
            }
            (PartitionMethod::Range, PartitionBound::Range { .. }) => {}
        }
    }
}

/// A partition bound that can be ordered: a quoted string (ISO dates order
/// as text), a number, or MINVALUE/MAXVALUE.
#[derive(Debug, Clone, PartialEq)]
enum Bound {
    Min,
    Text(String),
    Number(f64),
    Max,
}

impl Bound {
    fn parse(text: &str) -> Option<Bound> {
        if text.eq_ignore_ascii_case("minvalue") {
            Some(Bound::Min)
        } else if text.eq_ignore_ascii_case("maxvalue") {
            Some(Bound::Max)
        } else if let Some(inner) = text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
            Some(Bound::Text(inner.to_string()))
        } else {
            text.parse().ok().map(Bound::Number)
        }
    }

    fn lt(&self, other: &Bound) -> bool {
        match (self, other) {
            (Bound::Min, Bound::Min) | (Bound::Max, _) => false,
            (Bound::Min, _) | (_, Bound::Max) => true,
            (_, Bound::Min) => false,
            (Bound::Text(a), Bound::Text(b)) => a < b,
            (Bound::Number(a), Bound::Number(b)) => a < b,
            // Mixed kinds cannot be compared here; PostgreSQL will judge.
            _ => true,
        }
    }
}
