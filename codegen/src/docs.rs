//! Docs: `generated/<hub>/README.md`, the hub crate's readme — a Mermaid ER
//! diagram (tables, keys, foreign keys; references into other hubs drawn
//! apart, dashed, to entities named after their hub) and a reference of
//! every table (columns, types, defaults, keys, indexes, row-level
//! security, grants, comments) — and `generated/README.md`, the platform's
//! hubs and the references between them. Pure text from the IR, in
//! declaration order, so the same schema writes the same bytes.

use crate::sql::access::{rls_enabled, scope_policies, table_privileges};
use hubgen_schema::ir::{self, PartitionMethod};
use hubgen_schema::types::ColumnType;
use std::fmt::Write;

/// The crate readme of `hub`.
pub fn hub_readme(schema: &ir::Schema, hub: &ir::Hub, header: &str) -> String {
    let mut out = String::new();
    out.push_str(header);
    let _ = writeln!(out, "# hub-{}\n", hub.name);
    let _ = writeln!(
        out,
        "Typed models and repositories for the {} hub, database `{}`{}.\n",
        hub.name,
        hub.database,
        if hub.readonly { " (read-only for applications)" } else { "" }
    );
    if let Some(docs) = &hub.docs {
        let _ = writeln!(out, "{}\n", docs.trim());
    }
    let _ = writeln!(
        out,
        "## Tables\n\n{} table(s). Solid lines are foreign keys; dashed lines are references into another hub's database (shared IDs, no foreign key).\n",
        hub.tables.len()
    );
    let _ = writeln!(out, "```mermaid\n{}```\n", er_diagram(schema, hub));
    if !hub.enums.is_empty() {
        out.push_str("## Enums\n\n| enum | values | |\n|---|---|---|\n");
        for e in &hub.enums {
            let values: Vec<String> = e.values.iter().map(|v| format!("`{}`", cell(v))).collect();
            let _ = writeln!(
                out,
                "| `{}` | {} | {} |",
                qualified(&e.schema, &e.name),
                values.join(", "),
                doc_cell(&e.docs)
            );
        }
        out.push('\n');
    }
    for table in &hub.tables {
        table_reference(&mut out, hub, table);
    }
    out
}

/// The platform overview: every hub, and which hub's rows point at which.
pub fn platform_readme(schema: &ir::Schema, header: &str) -> String {
    let mut out = String::new();
    out.push_str(header);
    out.push_str("# Hubs\n\nOne PostgreSQL database per hub; each hub's crate documents its tables (`<hub>/README.md`).\n\n");
    out.push_str("| hub | database | tables | references into |\n|---|---|---|---|\n");
    for hub in &schema.hubs {
        let targets = referenced_hubs(hub);
        let targets: Vec<String> = targets.iter().map(|h| format!("[{h}]({h}/README.md)")).collect();
        let _ = writeln!(
            out,
            "| [{0}]({0}/README.md) | `{1}`{2} | {3} | {4} |",
            hub.name,
            hub.database,
            if hub.readonly { " (read-only)" } else { "" },
            hub.tables.len(),
            targets.join(", ")
        );
    }
    out.push_str("\nHubs are entities here; an edge is a column holding another hub's IDs (no foreign key crosses databases).\n\n");
    out.push_str("```mermaid\nerDiagram\n");
    for hub in &schema.hubs {
        let _ = writeln!(out, "    {}[\"{} ({})\"] {{", hub_entity(&hub.name), hub.name, hub.database);
        for table in &hub.tables {
            let _ = writeln!(out, "        table {}", attribute_word(&qualified(&table.schema, &table.name)));
        }
        out.push_str("    }\n");
    }
    for hub in &schema.hubs {
        for target in referenced_hubs(hub) {
            let columns: Vec<String> = hub
                .tables
                .iter()
                .flat_map(|t| {
                    t.cross_hub_refs
                        .iter()
                        .filter(|r| r.hub == target)
                        .map(move |r| format!("{}.{}", t.name, r.columns.join(",")))
                })
                .collect();
            let _ = writeln!(
                out,
                "    {} }}o..o{{ {} : \"{}\"",
                hub_entity(&hub.name),
                hub_entity(&target),
                label(&columns.join(" "))
            );
        }
    }
    out.push_str("```\n");
    out
}

/// The hub's ER diagram, as Mermaid text.
pub fn er_diagram(schema: &ir::Schema, hub: &ir::Hub) -> String {
    let mut out = String::from("erDiagram\n");
    for table in &hub.tables {
        let _ = writeln!(out, "    {} {{", entity(table));
        for column in &table.columns {
            let mut keys = Vec::new();
            if table.primary_key.as_ref().is_some_and(|k| k.columns.contains(&column.name)) {
                keys.push("PK");
            }
            if table.foreign_keys.iter().any(|fk| fk.columns.contains(&column.name))
                || table.cross_hub_refs.iter().any(|r| r.columns.contains(&column.name))
            {
                keys.push("FK");
            }
            if table.uniques.iter().any(|k| k.columns.contains(&column.name)) {
                keys.push("UK");
            }
            let _ = write!(
                out,
                "        {} {}",
                attribute_word(&short_type(&column.ty)),
                attribute_word(&column.name)
            );
            if !keys.is_empty() {
                let _ = write!(out, " {}", keys.join(", "));
            }
            out.push('\n');
        }
        out.push_str("    }\n");
    }
    // Foreign keys: parent ||--o{ child (|o when the child's columns may be NULL; o| when they are unique).
    for table in &hub.tables {
        for fk in &table.foreign_keys {
            let Some(parent) = hub.tables.iter().find(|t| t.schema == fk.ref_schema && t.name == fk.ref_table) else {
                // A template's reference to a shared table outside it is drawn like any other in the hub.
                continue;
            };
            let _ = writeln!(
                out,
                "    {} {}--{} {} : \"{}\"",
                entity_id(parent),
                parent_end(table, &fk.columns),
                child_end(table, &fk.columns),
                entity_id(table),
                label(&fk.columns.join(", "))
            );
        }
    }
    // References into other hubs: dashed, to an entity named after the hub.
    let mut foreign: Vec<(String, String)> = Vec::new();
    for table in &hub.tables {
        for r in &table.cross_hub_refs {
            let key = (r.hub.clone(), qualified(&r.schema, &r.table));
            if !foreign.contains(&key) {
                foreign.push(key);
            }
        }
    }
    for (other, name) in &foreign {
        let known = schema.hub(other).is_some();
        let _ = writeln!(
            out,
            "    {}[\"{other} hub: {name}{}\"] {{\n    }}",
            foreign_id(other, name),
            if known { "" } else { " (unknown hub)" }
        );
    }
    for table in &hub.tables {
        for r in &table.cross_hub_refs {
            let _ = writeln!(
                out,
                "    {} {}..{} {} : \"{}\"",
                foreign_id(&r.hub, &qualified(&r.schema, &r.table)),
                parent_end(table, &r.columns),
                child_end(table, &r.columns),
                entity_id(table),
                label(&r.columns.join(", "))
            );
        }
    }
    out
}

fn table_reference(out: &mut String, hub: &ir::Hub, table: &ir::Table) {
    let _ = writeln!(out, "## `{}`\n", qualified(&table.schema, &table.name));
    if let Some(docs) = &table.docs {
        let _ = writeln!(out, "{}\n", docs.trim());
    }
    let mut traits = Vec::new();
    if let Some(c) = &table.tenant_column {
        traits.push(format!(
            "rows of one tenant (`{c}`{})",
            if table.tenant_global {
                "; NULL: every tenant reads them"
            } else {
                ""
            }
        ));
    }
    if let Some(c) = &table.owner_column {
        traits.push(format!("rows of one user (`{c}`)"));
    }
    if let Some(c) = &table.scoped_through {
        traits.push(format!("visible when its parent is (`{c}`)"));
    }
    if table.shared {
        traits.push("shared reference data, read by every tenant".into());
    }
    if let Some(soft) = &table.soft_delete {
        traits.push(format!("soft delete (`{}`)", soft.column));
    }
    if let Some(c) = &table.version_column {
        traits.push(format!("optimistic locking (`{c}`)"));
    }
    if let Some(p) = &table.partitioning {
        let method = match p.method {
            PartitionMethod::Range => "range".to_string(),
            PartitionMethod::List => "list".to_string(),
            PartitionMethod::Hash { modulus } => format!("hash into {modulus}"),
        };
        let mut text = format!("partitioned by {method} on `{}`", p.column);
        if let Some(upkeep) = &p.upkeep {
            let _ = write!(text, ", {} partitions made {} ahead", upkeep.interval, upkeep.premake);
            if let Some(retain) = &upkeep.retain {
                let _ = write!(text, ", kept {retain}{}", if upkeep.archive { " then archived" } else { "" });
            }
        }
        traits.push(text);
    }
    if let Some(r) = &table.retention {
        traits.push(format!("rows older than {} by `{}` deleted", r.keep, r.column));
    }
    if let (true, Some(log)) = (table.audited, hub.audit_log()) {
        traits.push(format!(
            "audited: every insert, update and delete writes a row to `{}`{}",
            log.name,
            if table.columns.iter().any(|c| c.sensitive) {
                ", sensitive values masked"
            } else {
                ""
            }
        ));
    }
    if table.audit_log {
        traits.push("the hub's audit log: written by the audit trigger only; applications read it".into());
    }
    if let Some(erasure) = &hub.erasure {
        let steps: Vec<String> = erasure
            .steps
            .iter()
            .filter(|s| s.schema == table.schema && s.table == table.name)
            .map(crate::erasure::describe)
            .collect();
        if !steps.is_empty() {
            traits.push(format!("erasing a person (`{}`): {}", erasure.subject, steps.join(", then ")));
        }
    }
    if !traits.is_empty() {
        let _ = writeln!(out, "{}.\n", capitalize(&traits.join("; ")));
    }

    out.push_str("| column | type | null | default | notes |\n|---|---|---|---|---|\n");
    for column in &table.columns {
        let mut notes = Vec::new();
        if table.primary_key.as_ref().is_some_and(|k| k.columns.contains(&column.name)) {
            notes.push("primary key".to_string());
        }
        for fk in table.foreign_keys.iter().filter(|fk| fk.columns.contains(&column.name)) {
            notes.push(format!("→ `{}`", qualified(&fk.ref_schema, &fk.ref_table)));
        }
        for r in table.cross_hub_refs.iter().filter(|r| r.columns.contains(&column.name)) {
            notes.push(format!("→ {} hub `{}`", r.hub, qualified(&r.schema, &r.table)));
        }
        if let Some(expr) = &column.generated {
            notes.push(format!("generated: `{}`", cell(expr)));
        }
        if column.sensitive {
            notes.push("sensitive".into());
        }
        if column.pii {
            notes.push("personal (pii)".into());
        }
        if let Some(docs) = &column.docs {
            notes.push(cell(docs.trim()));
        }
        let _ = writeln!(
            out,
            "| `{}` | `{}` | {} | {} | {} |",
            column.name,
            column.ty,
            if column.nullable { "yes" } else { "no" },
            column.default.as_deref().map(|d| format!("`{}`", cell(d))).unwrap_or_default(),
            notes.join("; ")
        );
    }
    out.push('\n');

    let mut keys = Vec::new();
    if let Some(pk) = &table.primary_key {
        keys.push(format!("- primary key `{}` ({})", pk.name, columns(&pk.columns)));
    }
    for u in &table.uniques {
        keys.push(format!("- unique `{}` ({})", u.name, columns(&u.columns)));
    }
    for c in &table.checks {
        keys.push(format!("- check `{}`: `{}`", c.name, cell(&c.expr)));
    }
    for fk in &table.foreign_keys {
        keys.push(format!(
            "- foreign key `{}` ({}) → `{}` ({}), on delete {}",
            fk.name,
            columns(&fk.columns),
            qualified(&fk.ref_schema, &fk.ref_table),
            columns(&fk.ref_columns),
            fk.on_delete.sql()
        ));
    }
    for i in &table.indexes {
        let cols: Vec<String> = i
            .columns
            .iter()
            .map(|c| format!("`{}`{}", c.name, if c.descending { " desc" } else { "" }))
            .collect();
        keys.push(format!(
            "- {}index `{}` {} ({}){}",
            if i.unique { "unique " } else { "" },
            i.name,
            i.method.as_str(),
            cols.join(", "),
            i.predicate.as_deref().map(|p| format!(" where `{}`", cell(p))).unwrap_or_default()
        ));
    }
    if !keys.is_empty() {
        let _ = writeln!(out, "Keys and indexes:\n\n{}\n", keys.join("\n"));
    }

    if rls_enabled(table) {
        let mut policies: Vec<String> = scope_policies(hub, table)
            .iter()
            .map(|p| {
                policy_line(
                    &p.name,
                    p.command.as_deref(),
                    p.role.as_deref(),
                    p.using.as_deref(),
                    p.with_check.as_deref(),
                )
            })
            .collect();
        policies.extend(table.policies.iter().map(|p| {
            policy_line(
                &p.name,
                Some(p.command.as_str()),
                Some(p.role.as_str()),
                p.using.as_deref(),
                p.with_check.as_deref(),
            )
        }));
        let _ = writeln!(out, "Row-level security, enabled and forced:\n\n{}\n", policies.join("\n"));
    }
    let grants: Vec<String> = table_privileges(hub, table)
        .iter()
        .map(|(role, privileges)| format!("`{role}`: {}", privileges.join(", ")))
        .collect();
    let _ = writeln!(out, "Grants: {}.\n", grants.join("; "));
}

fn policy_line(name: &str, command: Option<&str>, role: Option<&str>, using: Option<&str>, check: Option<&str>) -> String {
    let mut line = format!("- `{name}` ({}", command.unwrap_or("all"));
    if let Some(role) = role.filter(|r| *r != "public") {
        let _ = write!(line, ", to `{role}`");
    }
    line.push(')');
    if let Some(using) = using {
        let _ = write!(line, ": using `{}`", cell(using));
    }
    if let Some(check) = check.filter(|c| Some(*c) != using) {
        let _ = write!(line, ", with check `{}`", cell(check));
    }
    line
}

fn referenced_hubs(hub: &ir::Hub) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in hub.tables.iter().flat_map(|t| &t.cross_hub_refs) {
        if !out.contains(&r.hub) {
            out.push(r.hub.clone());
        }
    }
    out
}

/// `users`, or `schema.users` outside `public`.
fn qualified(schema: &str, name: &str) -> String {
    if schema == "public" {
        name.to_string()
    } else {
        format!("{schema}.{name}")
    }
}

/// The entity's identifier in a diagram: letters, digits and `_` only.
fn entity_id(table: &ir::Table) -> String {
    if table.schema == "public" {
        identifier(&table.name)
    } else {
        identifier(&format!("{}__{}", table.schema, table.name))
    }
}

/// The entity's declaration: its identifier, labelled with the schema outside `public`.
fn entity(table: &ir::Table) -> String {
    if table.schema == "public" {
        entity_id(table)
    } else {
        format!("{}[\"{}\"]", entity_id(table), qualified(&table.schema, &table.name))
    }
}

fn foreign_id(hub: &str, name: &str) -> String {
    identifier(&format!("hub_{hub}__{name}"))
}

fn hub_entity(hub: &str) -> String {
    identifier(&format!("hub_{hub}"))
}

fn identifier(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' })
        .collect()
}

/// A type or name as Mermaid's attribute grammar takes it (no spaces or dots).
fn attribute_word(text: &str) -> String {
    let word: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_-()[],".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if word.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        word
    } else {
        format!("_{word}")
    }
}

/// The short spelling of a type, for the diagram.
fn short_type(ty: &ColumnType) -> String {
    match ty {
        ColumnType::Varchar(None) => "varchar".into(),
        ColumnType::Varchar(Some(n)) => format!("varchar({n})"),
        ColumnType::Char(n) => format!("char({n})"),
        ColumnType::Double => "float8".into(),
        ColumnType::Time => "time".into(),
        ColumnType::Timestamp => "timestamp".into(),
        ColumnType::Timestamptz => "timestamptz".into(),
        ColumnType::Array(inner) => format!("{}[]", short_type(inner)),
        other => other.to_string(),
    }
}

/// The `one` end of a relationship: `||`, or `|o` when the referencing columns may be NULL.
fn parent_end(child: &ir::Table, columns: &[String]) -> &'static str {
    if columns.iter().any(|c| child.column(c).is_some_and(|c| c.nullable)) {
        "|o"
    } else {
        "||"
    }
}

/// The `many` end: `o{`, or `o|` when the referencing columns are a key of their own.
fn child_end(child: &ir::Table, columns: &[String]) -> &'static str {
    let keyed = child.primary_key.iter().chain(&child.uniques).any(|k| k.columns == columns);
    if keyed {
        "o|"
    } else {
        "o{"
    }
}

/// A relationship label: quoted, so no quote inside.
fn label(text: &str) -> String {
    text.replace('"', "'")
}

/// Text in a Markdown table cell: one line, no bare pipe.
fn cell(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").replace('|', "\\|")
}

fn doc_cell(docs: &Option<String>) -> String {
    docs.as_deref().map(|d| cell(d.trim())).unwrap_or_default()
}

/// `` `a`, `b` ``
pub(crate) fn columns(names: &[String]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
