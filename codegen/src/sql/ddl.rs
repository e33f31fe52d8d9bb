//! Schemas, extensions, enums, tables (columns, constraints, partitions),
//! indexes and comments, in dependency order.

use super::quote::{ident, ident_list, literal, qualified};
use hubgen_schema::ast::FkAction;
use hubgen_schema::ir;
use std::collections::BTreeSet;
use std::fmt::Write;

pub(super) fn schemas_and_extensions(hub: &ir::Hub) -> Vec<String> {
    let mut out = Vec::new();
    for schema in &hub.schemas {
        out.push(format!("CREATE SCHEMA IF NOT EXISTS {};\n", ident(schema)));
    }
    for extension in super::required_extensions(hub) {
        out.push(format!("CREATE EXTENSION IF NOT EXISTS {};\n", ident(&extension)));
    }
    out
}

pub(super) fn enums(hub: &ir::Hub) -> Vec<String> {
    hub.enums
        .iter()
        .map(|e| {
            let values: Vec<String> = e.values.iter().map(|v| literal(v)).collect();
            let mut sql = format!("CREATE TYPE {} AS ENUM ({});\n", qualified(&e.schema, &e.name), values.join(", "));
            if let Some(docs) = &e.docs {
                let _ = writeln!(sql, "COMMENT ON TYPE {} IS {};", qualified(&e.schema, &e.name), literal(docs));
            }
            sql
        })
        .collect()
}

/// Tables ordered so that every foreign key points at a table created
/// before it; tables in a cycle get their foreign keys afterwards.
pub(super) fn tables(hub: &ir::Hub) -> Vec<String> {
    let order = dependency_order(hub);
    let mut created: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut out = Vec::new();
    let mut deferred = Vec::new();
    for &index in &order {
        let table = &hub.tables[index];
        created.insert((&table.schema, &table.name));
        let (inline, later): (Vec<&ir::ForeignKey>, Vec<&ir::ForeignKey>) = table
            .foreign_keys
            .iter()
            .partition(|fk| created.contains(&(fk.ref_schema.as_str(), fk.ref_table.as_str())));
        out.push(table_sql(hub, table, &inline));
        deferred.extend(
            later
                .into_iter()
                .map(|fk| format!("ALTER TABLE {} ADD {};\n", qualified(&table.schema, &table.name), foreign_key(fk))),
        );
    }
    if !deferred.is_empty() {
        out.push(deferred.concat());
    }
    out
}

fn dependency_order(hub: &ir::Hub) -> Vec<usize> {
    let position = |schema: &str, name: &str| hub.tables.iter().position(|t| t.schema == schema && t.name == name);
    let mut state = vec![0u8; hub.tables.len()]; // 0 new, 1 visiting, 2 done
    let mut order = Vec::with_capacity(hub.tables.len());
    fn visit(i: usize, hub: &ir::Hub, state: &mut [u8], order: &mut Vec<usize>, position: &dyn Fn(&str, &str) -> Option<usize>) {
        if state[i] != 0 {
            return; // done, or a cycle: its foreign key is deferred
        }
        state[i] = 1;
        for fk in &hub.tables[i].foreign_keys {
            if let Some(j) = position(&fk.ref_schema, &fk.ref_table) {
                visit(j, hub, state, order, position);
            }
        }
        state[i] = 2;
        order.push(i);
    }
    for i in 0..hub.tables.len() {
        visit(i, hub, &mut state, &mut order, &position);
    }
    order
}

pub(crate) fn foreign_key(fk: &ir::ForeignKey) -> String {
    let mut sql = format!(
        "CONSTRAINT {} FOREIGN KEY {} REFERENCES {} {}",
        ident(&fk.name),
        ident_list(&fk.columns),
        qualified(&fk.ref_schema, &fk.ref_table),
        ident_list(&fk.ref_columns)
    );
    if fk.on_delete != FkAction::NoAction {
        sql.push_str(&format!(" ON DELETE {}", fk.on_delete.sql().to_uppercase()));
    }
    if fk.on_update != FkAction::NoAction {
        sql.push_str(&format!(" ON UPDATE {}", fk.on_update.sql().to_uppercase()));
    }
    sql
}

/// CREATE TABLE with its constraints, partitions, indexes and comments.
pub(crate) fn table_sql(hub: &ir::Hub, table: &ir::Table, foreign_keys: &[&ir::ForeignKey]) -> String {
    let name = qualified(&table.schema, &table.name);
    let mut lines: Vec<String> = Vec::new();
    for column in &table.columns {
        lines.push(column_sql(hub, column));
    }
    if let Some(pk) = &table.primary_key {
        lines.push(format!("CONSTRAINT {} PRIMARY KEY {}", ident(&pk.name), ident_list(&pk.columns)));
    }
    for unique in &table.uniques {
        lines.push(format!("CONSTRAINT {} UNIQUE {}", ident(&unique.name), ident_list(&unique.columns)));
    }
    for check in &table.checks {
        lines.push(format!("CONSTRAINT {} CHECK ({})", ident(&check.name), check.expr));
    }
    for fk in foreign_keys {
        lines.push(foreign_key(fk));
    }
    let mut sql = format!("CREATE TABLE {name} (\n    {}\n)", lines.join(",\n    "));
    if let Some(partitioning) = &table.partitioning {
        sql.push_str(&format!(" PARTITION BY RANGE ({})", ident(&partitioning.column)));
    }
    sql.push_str(";\n");
    if let Some(partitioning) = &table.partitioning {
        for p in &partitioning.partitions {
            let _ = writeln!(
                sql,
                "CREATE TABLE {} PARTITION OF {name} FOR VALUES FROM ({}) TO ({});",
                qualified(&table.schema, &p.name),
                p.from,
                p.to
            );
        }
    }
    for index in &table.indexes {
        sql.push_str(&create_index(table, index, false));
    }
    if let Some(docs) = &table.docs {
        let _ = writeln!(sql, "COMMENT ON TABLE {name} IS {};", literal(docs));
    }
    for column in &table.columns {
        if let Some(docs) = &column.docs {
            let _ = writeln!(sql, "COMMENT ON COLUMN {name}.{} IS {};", ident(&column.name), literal(docs));
        }
    }
    sql
}

/// The SQL spelling of a column type; enums are schema-qualified.
pub fn column_type(hub: &ir::Hub, ty: &hubgen_schema::types::ColumnType) -> String {
    use hubgen_schema::types::ColumnType;
    match ty {
        ColumnType::Enum(name) => {
            let schema = hub.enums.iter().find(|e| &e.name == name).map_or("public", |e| e.schema.as_str());
            qualified(schema, name)
        }
        ColumnType::Array(inner) => format!("{}[]", column_type(hub, inner)),
        other => other.to_string(),
    }
}

/// `CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON table USING method (columns) WHERE (predicate);`
/// Planned migrations say IF NOT EXISTS, so an index built CONCURRENTLY by hand beforehand is kept.
pub(crate) fn create_index(table: &ir::Table, index: &ir::Index, if_not_exists: bool) -> String {
    let columns: Vec<String> = index
        .columns
        .iter()
        .map(|c| format!("{}{}", ident(&c.name), if c.descending { " DESC" } else { "" }))
        .collect();
    let mut sql = format!(
        "CREATE {}INDEX {}{} ON {}{} ({})",
        if index.unique { "UNIQUE " } else { "" },
        if if_not_exists { "IF NOT EXISTS " } else { "" },
        ident(&index.name),
        qualified(&table.schema, &table.name),
        match index.method {
            ir::IndexMethod::Btree => String::new(),
            other => format!(" USING {}", other.as_str()),
        },
        columns.join(", ")
    );
    if let Some(predicate) = &index.predicate {
        let _ = write!(sql, " WHERE ({predicate})");
    }
    sql.push_str(";\n");
    sql
}

/// One column's definition: `"name" type [GENERATED ...] [DEFAULT ...] [NOT NULL]`.
pub(crate) fn column_sql(hub: &ir::Hub, column: &ir::Column) -> String {
    let mut line = format!("{} {}", ident(&column.name), column_type(hub, &column.ty));
    if let Some(expr) = &column.generated {
        line.push_str(&format!(" GENERATED ALWAYS AS ({expr}) STORED"));
    }
    if let Some(default) = &column.default {
        line.push_str(&format!(" DEFAULT {default}"));
    }
    if !column.nullable {
        line.push_str(" NOT NULL");
    }
    line
}
