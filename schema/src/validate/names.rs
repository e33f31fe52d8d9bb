//! Names: valid identifiers, and nothing declared twice in one namespace.

use super::{Ctx, HubCtx};
use crate::ast::*;
use crate::diagnostics::{messages, Diagnostic};
use std::collections::HashMap;

pub(super) fn check(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let mut hubs = HashMap::new();
    let mut databases = HashMap::new();
    for mixin in &ctx.global_mixins {
        identifier(&mixin.name, out);
    }
    duplicates(ctx.global_mixins.iter().map(|m| &m.name), out, messages::duplicate_mixin);
    for hub in &ctx.hubs {
        identifier(&hub.ast.name, out);
        if let Some(previous) = hubs.insert(hub.name(), &hub.ast.name) {
            out.push(messages::duplicate_hub(&hub.ast.name, previous));
        }
        if let Some(db) = &hub.ast.database {
            identifier(db, out);
            if let Some(previous) = databases.insert(db.name.as_str(), db) {
                out.push(messages::duplicate_database(db, previous));
            }
        }
        check_hub(hub, out);
    }
}

fn check_hub(hub: &HubCtx, out: &mut Vec<Diagnostic>) {
    for block in &hub.schema_blocks {
        identifier(&block.name, out);
    }
    duplicates(hub.schema_blocks.iter().map(|s| &s.name), out, messages::duplicate_schema);
    for mixin in &hub.mixins {
        identifier(&mixin.name, out);
    }
    duplicates(hub.mixins.iter().map(|m| &m.name), out, messages::duplicate_mixin);
    for role in &hub.roles {
        identifier(&role.name, out);
    }
    duplicates(hub.roles.iter().map(|r| &r.name), out, messages::duplicate_role);

    // Tables, enums and index names share PostgreSQL's per-schema namespaces.
    let mut tables: HashMap<(&str, &str), &Ident> = HashMap::new();
    let mut relations: HashMap<(&str, &str), &Ident> = HashMap::new();
    for table in &hub.tables {
        identifier(&table.ast.name, out);
        if let Some(previous) = tables.insert((table.schema, table.name()), &table.ast.name) {
            out.push(messages::duplicate_table(&table.ast.name, previous));
        }
        relations.entry((table.schema, table.name())).or_insert(&table.ast.name);
    }
    let mut enums: HashMap<(&str, &str), &Ident> = HashMap::new();
    for (schema, e) in &hub.enums {
        identifier(&e.name, out);
        if let Some(previous) = enums.insert((schema, &e.name.name), &e.name) {
            out.push(messages::duplicate_enum(&e.name, previous));
        }
        let mut values: HashMap<&str, &EnumValue> = HashMap::new();
        for value in &e.values {
            if let Some(previous) = values.insert(&value.value, value) {
                out.push(messages::duplicate_enum_value(value, previous, &e.name.name));
            }
        }
        if e.values.is_empty() {
            out.push(messages::empty_enum(&e.name));
        }
    }

    for table in &hub.tables {
        let name = table.name();
        if table.columns.is_empty() {
            out.push(messages::empty_table(&table.ast.name));
        }
        for column in &table.columns {
            identifier(&column.name, out);
        }
        duplicates(table.columns.iter().map(|c| &c.name), out, |dup, prev| {
            messages::duplicate_column(dup, prev, name)
        });
        let mut constraints: HashMap<&str, &Ident> = HashMap::new();
        let mut partitions: HashMap<&str, &Ident> = HashMap::new();
        let mut policies: HashMap<&str, &Ident> = HashMap::new();
        for item in &table.items {
            match &item.kind {
                TableItemKind::Index(index) => {
                    identifier(&index.name, out);
                    if let Some(previous) = relations.insert((table.schema, &index.name.name), &index.name) {
                        out.push(messages::duplicate_index(&index.name, previous));
                    }
                }
                TableItemKind::Unique { name: Some(n), .. } => {
                    identifier(n, out);
                    if let Some(previous) = relations.insert((table.schema, &n.name), n) {
                        out.push(messages::duplicate_index(n, previous));
                    }
                    if let Some(previous) = constraints.insert(&n.name, n) {
                        out.push(messages::duplicate_constraint(n, previous, name));
                    }
                }
                TableItemKind::Check { name: Some(n), .. } | TableItemKind::ForeignKey { name: Some(n), .. } => {
                    identifier(n, out);
                    if let Some(previous) = constraints.insert(&n.name, n) {
                        out.push(messages::duplicate_constraint(n, previous, name));
                    }
                }
                TableItemKind::Partition { name: n, .. } => {
                    identifier(n, out);
                    if let Some(previous) = partitions.insert(&n.name, n) {
                        out.push(messages::duplicate_partition(n, previous));
                    } else if let Some(previous) = relations.insert((table.schema, &n.name), n) {
                        out.push(messages::duplicate_partition(n, previous));
                    }
                }
                TableItemKind::Policy(policy) => {
                    identifier(&policy.name, out);
                    if let Some(previous) = policies.insert(&policy.name.name, &policy.name) {
                        out.push(messages::duplicate_policy(&policy.name, previous, name));
                    }
                }
                _ => {}
            }
        }
        // Table options and column modifiers each at most once.
        let mut seen = HashMap::new();
        for option in &table.ast.options {
            if let Some(previous) = seen.insert(option.kind, option.span) {
                out.push(messages::duplicate_modifier(option.span, previous, option.kind.keyword()));
            }
        }
        for column in &table.columns {
            let mut seen = HashMap::new();
            for modifier in &column.modifiers {
                let key = std::mem::discriminant(&modifier.kind);
                if let Some(previous) = seen.insert(key, modifier.span) {
                    out.push(messages::duplicate_modifier(
                        modifier.span,
                        previous,
                        &modifier_name(&modifier.kind),
                    ));
                }
            }
            let mut seen = HashMap::new();
            for attr in &column.attrs {
                if let Some(previous) = seen.insert(attr.name.name.as_str(), attr.span) {
                    out.push(messages::duplicate_modifier(attr.span, previous, &format!("@{}", attr.name.name)));
                }
            }
        }
    }
}

pub(super) fn modifier_name(kind: &ModifierKind) -> String {
    match kind {
        ModifierKind::PrimaryKey => "primary key",
        ModifierKind::Unique => "unique",
        ModifierKind::NotNull => "not null",
        ModifierKind::Null => "null",
        ModifierKind::Default(_) => "default",
        ModifierKind::References(_) => "references",
        ModifierKind::Check(_) => "check",
        ModifierKind::Generated(_) => "generated",
        ModifierKind::OnErase(_) => "on erase",
    }
    .to_string()
}

fn duplicates<'a>(names: impl Iterator<Item = &'a Ident>, out: &mut Vec<Diagnostic>, report: impl Fn(&Ident, &Ident) -> Diagnostic) {
    let mut seen: HashMap<&str, &Ident> = HashMap::new();
    for name in names {
        if let Some(previous) = seen.insert(&name.name, name) {
            out.push(report(name, previous));
        }
    }
}

/// Lowercase snake_case, at most 63 bytes: the names PostgreSQL keeps as written
/// and Rust can use as field and module names.
fn identifier(ident: &Ident, out: &mut Vec<Diagnostic>) {
    let name = &ident.name;
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        out.push(messages::invalid_identifier(ident));
    } else if name.len() > 63 {
        out.push(messages::identifier_too_long(ident));
    }
}
