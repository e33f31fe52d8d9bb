//! Columns: types and their arguments, nullability, defaults, generated
//! columns, attributes, and the column names inside CHECK expressions.

use super::{Ctx, HubCtx, TableCtx};
use crate::ast::*;
use crate::diagnostics::{messages, Diagnostic};
use crate::types::{self, Arity, ColumnType};

/// Attributes a column may carry and whether each takes one argument.
/// `backfill` takes a SQL expression instead (see `parser::EXPR_ATTRIBUTES`).
pub const ATTRIBUTES: &[(&str, bool)] = &[
    ("sensitive", false),
    ("pii", false),
    ("touch", false),
    ("renamed_from", true),
    ("format", true),
    ("backfill", false),
    // `@encrypted` or `@encrypted(searchable)`: see `encryption`.
    ("encrypted", false),
];
pub const FORMATS: &[&str] = &["email", "uuid", "url", "phone"];

pub(super) fn check(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    for hub in &ctx.hubs {
        for table in &hub.tables {
            for column in &table.columns {
                check_column(hub, table, column, out);
            }
        }
    }
}

fn check_column(hub: &HubCtx, table: &TableCtx, column: &Column, out: &mut Vec<Diagnostic>) {
    let ty = check_type(hub, table.schema, &column.ty, out);
    let mut not_null = None;
    let mut null = None;
    let mut default = None;
    let mut generated = None;
    for modifier in &column.modifiers {
        match &modifier.kind {
            ModifierKind::NotNull | ModifierKind::PrimaryKey => not_null = not_null.or(Some(modifier.span)),
            ModifierKind::Null => null = Some(modifier.span),
            ModifierKind::Default(expr) => default = Some(expr),
            ModifierKind::Generated(expr) => generated = Some((modifier.span, expr)),
            ModifierKind::Check(expr) => {
                expression_columns(table, expr, "this check", out);
            }
            _ => {}
        }
    }
    if let (Some(null), Some(not_null)) = (null, not_null) {
        out.push(messages::conflicting_nullability(null, not_null, &column.name.name));
    }
    if let Some((span, expr)) = generated {
        if let Some(default) = default {
            out.push(messages::generated_with_default(default.span, span, &column.name.name));
        }
        expression_columns(table, expr, "this generated column", out);
        for ident in &expr.idents {
            if let Some(other) = table.column(&ident.name) {
                if other.has(|m| matches!(m, ModifierKind::Generated(_))) {
                    out.push(messages::generated_uses_generated(ident, &column.name.name));
                }
            }
        }
    }
    if let (Some(expr), Some(ty)) = (default, &ty) {
        check_default(hub, table.schema, column, ty, expr, out);
    }
    for attr in &column.attrs {
        let Some(&(_, takes_arg)) = ATTRIBUTES.iter().find(|(n, _)| *n == attr.name.name) else {
            out.push(messages::unknown_attribute(&attr.name, ATTRIBUTES.iter().map(|(n, _)| *n)));
            continue;
        };
        let wanted = usize::from(takes_arg);
        if crate::parser::EXPR_ATTRIBUTES.contains(&attr.name.name.as_str()) {
            match &attr.expr {
                Some(expr) => expression_columns(table, expr, "this backfill", out),
                None => out.push(messages::attribute_arity(attr, 1)),
            }
        } else if attr.name.name == "encrypted" {
            // Checked with the rest of encryption's rules.
        } else if attr.args.len() != wanted {
            out.push(messages::attribute_arity(attr, wanted));
        } else if attr.name.name == "format" && !FORMATS.contains(&attr.args[0].name.as_str()) {
            out.push(messages::unknown_format(&attr.args[0], FORMATS));
        }
    }
}

/// Resolves a written type, reporting unknown names and bad arguments.
pub(super) fn check_type(hub: &HubCtx, schema: &str, ty: &TypeRef, out: &mut Vec<Diagnostic>) -> Option<ColumnType> {
    match types::builtin(&ty.name.name) {
        Some(Arity(min, max)) => {
            let args: Vec<u32> = ty.args.iter().map(|(v, _)| *v).collect();
            let span = ty
                .args
                .first()
                .map_or(ty.name.span, |(_, s)| *s)
                .to(ty.args.last().map_or(ty.name.span, |(_, s)| *s));
            if args.len() < min || args.len() > max {
                out.push(messages::type_arity(span, &ty.name.name, max));
                return None;
            }
            let lower = ty.name.name.to_ascii_lowercase();
            match (lower.as_str(), args.as_slice()) {
                (_, [0, ..]) => {
                    out.push(messages::type_argument(span, &ty.name.name, "the size must be at least 1"));
                    return None;
                }
                ("varchar" | "char" | "character", [n]) if *n > 10_485_760 => {
                    out.push(messages::type_argument(span, &ty.name.name, "the length must be at most 10485760"));
                    return None;
                }
                ("numeric" | "decimal", [p, ..]) if *p > 1000 => {
                    out.push(messages::type_argument(span, &ty.name.name, "the precision must be at most 1000"));
                    return None;
                }
                ("numeric" | "decimal", [p, s]) if s > p => {
                    out.push(messages::type_argument(
                        span,
                        &ty.name.name,
                        "the scale must not exceed the precision",
                    ));
                    return None;
                }
                _ => {}
            }
            hub.resolve_type(schema, ty)
        }
        None => match hub.resolve_type(schema, ty) {
            Some(resolved) if !ty.args.is_empty() => {
                out.push(messages::type_arity(ty.args[0].1, &ty.name.name, 0));
                Some(resolved)
            }
            Some(resolved) => Some(resolved),
            None => {
                let enums = hub.enums.iter().map(|(_, e)| e.name.name.as_str());
                out.push(messages::unknown_type(&ty.name, types::BUILTIN_NAMES.iter().copied().chain(enums)));
                None
            }
        },
    }
}

/// Literal defaults that PostgreSQL would reject when the table is created
/// (or at the first insert): wrong kind of literal, too long, not an enum value.
fn check_default(hub: &HubCtx, schema: &str, column: &Column, ty: &ColumnType, expr: &Expr, out: &mut Vec<Diagnostic>) {
    if let Some(ident) = expr.idents.first() {
        out.push(messages::default_names_column(ident));
        return;
    }
    let text = expr.text.as_str();
    let lower = text.to_ascii_lowercase();
    let is_string = text.starts_with('\'') && text.ends_with('\'') && text.len() >= 2 && !text[1..text.len() - 1].contains('\'');
    let is_number = text.trim_start_matches('-').parse::<f64>().is_ok();
    let is_bool = lower == "true" || lower == "false";
    let name = &column.name.name;
    let problem = match ty {
        ColumnType::Boolean if is_number || (is_string && !is_bool_text(&text[1..text.len() - 1])) => {
            Some(format!("`{text}` is not a boolean"))
        }
        ColumnType::Uuid | ColumnType::Json | ColumnType::Jsonb | ColumnType::Date | ColumnType::Timestamp | ColumnType::Timestamptz
            if is_number || is_bool =>
        {
            Some(format!("`{text}` is not a valid {}", type_word(ty)))
        }
        _ if is_bool && !matches!(ty, ColumnType::Boolean) => Some(format!("`{text}` is a boolean, but `{name}` is {}", type_word(ty))),
        ColumnType::Varchar(Some(n)) | ColumnType::Char(n) if is_string && text[1..text.len() - 1].chars().count() > *n as usize => {
            Some(format!("`{text}` is longer than {n} characters"))
        }
        ColumnType::Integer
        | ColumnType::SmallInt
        | ColumnType::BigInt
        | ColumnType::Numeric(_)
        | ColumnType::Real
        | ColumnType::Double
            if is_string && text[1..text.len() - 1].trim().parse::<f64>().is_err() =>
        {
            Some(format!("`{text}` is not a number"))
        }
        ColumnType::Enum(enum_name) if is_string => {
            let value = &text[1..text.len() - 1];
            let def = hub.enum_def(schema, enum_name).map(|(_, e)| e);
            match def {
                Some(e) if !e.values.iter().any(|v| v.value == value) => {
                    let values: Vec<&str> = e.values.iter().map(|v| v.value.as_str()).collect();
                    out.push(messages::default_not_enum_value(expr, value, enum_name, &values));
                    return;
                }
                _ => None,
            }
        }
        _ => None,
    };
    if let Some(problem) = problem {
        out.push(messages::invalid_default(expr, name, &problem));
    }
}

fn is_bool_text(s: &str) -> bool {
    ["t", "f", "true", "false", "yes", "no", "on", "off", "1", "0", "y", "n"].contains(&s.to_ascii_lowercase().trim())
}

fn type_word(ty: &ColumnType) -> String {
    match ty {
        ColumnType::Enum(name) => format!("the enum `{name}`"),
        other => format!("`{other}`"),
    }
}

/// Every bare identifier in a table-level expression must be a column of the table.
pub(super) fn expression_columns(table: &TableCtx, expr: &Expr, context: &str, out: &mut Vec<Diagnostic>) {
    for ident in &expr.idents {
        if table.column(&ident.name).is_none() {
            out.push(messages::unknown_expression_column(
                ident,
                context,
                table.name(),
                table.column_names(),
            ));
        }
    }
}
