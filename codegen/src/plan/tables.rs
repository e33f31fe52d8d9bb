//! Tables created and dropped, and the partitions of tables that stay.

use super::{label, security, Phase, Plan, Renames, Step};
use crate::sql::statement::{ColumnDef, Constraint, Name, Object, Statement};
use crate::sql::Roles;
use hubgen_schema::ir;
use std::collections::BTreeSet;

pub(super) fn plan(old: &ir::Hub, new: &ir::Hub, renames: &Renames, plan: &mut Plan) {
    // New tables, each after the tables its foreign keys point at; a foreign
    // key that closes a cycle is added once both tables exist.
    let new_tables: Vec<&ir::Table> = new.tables.iter().filter(|t| !renames.has_old(t)).collect();
    let mut created: BTreeSet<(&str, &str)> = new
        .tables
        .iter()
        .filter(|t| renames.has_old(t))
        .map(|t| (t.schema.as_str(), t.name.as_str()))
        .collect();
    for t in dependency_order(&new_tables) {
        created.insert((&t.schema, &t.name));
        let (inline, later): (Vec<&ir::ForeignKey>, Vec<&ir::ForeignKey>) = t
            .foreign_keys
            .iter()
            .partition(|fk| created.contains(&(fk.ref_schema.as_str(), fk.ref_table.as_str())));
        plan.push(Step::owning(
            Phase::CreateTables,
            format!("create table {}", label(t)),
            create_table(new, t, &inline),
        ));
        for fk in later {
            plan.push(Step::new(
                Phase::Attach,
                format!("add foreign key {}.{}", label(t), fk.name),
                vec![Statement::AddConstraint {
                    table: Name::of(t),
                    constraint: Constraint::ForeignKey(fk.clone()),
                    not_valid: false,
                }],
            ));
        }
    }

    // Partitions of tables that stay.
    for (o, t) in renames.matched(old, new) {
        if super::upkeep::plan(o, t, plan) {
            continue;
        }
        let old_parts = o.partitioning.as_ref().map(|p| p.partitions.as_slice()).unwrap_or_default();
        let new_parts = t.partitioning.as_ref().map(|p| p.partitions.as_slice()).unwrap_or_default();
        for p in new_parts.iter().filter(|p| !old_parts.contains(p)) {
            plan.push(Step::owning(
                Phase::Attach,
                format!("add partition {}", p.name),
                partition(new, t, p),
            ));
        }
        for p in old_parts.iter().filter(|p| !new_parts.contains(p)) {
            plan.push(Step::new(
                Phase::Drop,
                format!("drop partition {}", p.name),
                vec![Statement::DropPartition {
                    name: Name::new(&t.schema, &p.name),
                    parent: Name::of(t),
                }],
            ));
        }
    }

    // Tables that go: those that point at others first.
    let dropped: Vec<&ir::Table> = old.tables.iter().filter(|o| !renames.kept(o)).collect();
    for o in dependency_order(&dropped).into_iter().rev() {
        plan.push(Step::new(
            Phase::Drop,
            format!("drop table {}", label(o)),
            vec![Statement::DropTable { name: Name::of(o) }],
        ));
    }
}

/// `tables` ordered so that each comes after the tables (of the list) its foreign keys point at.
fn dependency_order<'a>(tables: &[&'a ir::Table]) -> Vec<&'a ir::Table> {
    let position = |schema: &str, name: &str| tables.iter().position(|t| t.schema == schema && t.name == name);
    let mut state = vec![0u8; tables.len()]; // 0 new, 1 visiting, 2 done
    let mut order = Vec::with_capacity(tables.len());
    fn visit<'a>(
        i: usize,
        tables: &[&'a ir::Table],
        state: &mut [u8],
        order: &mut Vec<&'a ir::Table>,
        position: &dyn Fn(&str, &str) -> Option<usize>,
    ) {
        if state[i] != 0 {
            return; // done, or a cycle: its foreign key is added after both tables
        }
        state[i] = 1;
        for fk in &tables[i].foreign_keys {
            if let Some(j) = position(&fk.ref_schema, &fk.ref_table) {
                visit(j, tables, state, order, position);
            }
        }
        state[i] = 2;
        order.push(tables[i]);
    }
    for i in 0..tables.len() {
        visit(i, tables, &mut state, &mut order, &position);
    }
    order
}

/// CREATE TABLE with its constraints, partitions, indexes, comments, owner,
/// grants and row-level security.
fn create_table(hub: &ir::Hub, t: &ir::Table, foreign_keys: &[&ir::ForeignKey]) -> Vec<Statement> {
    let name = Name::of(t);
    let mut constraints: Vec<Constraint> = Vec::new();
    constraints.extend(t.primary_key.clone().map(Constraint::PrimaryKey));
    constraints.extend(t.uniques.iter().cloned().map(Constraint::Unique));
    constraints.extend(t.checks.iter().cloned().map(Constraint::Check));
    constraints.extend(foreign_keys.iter().map(|fk| Constraint::ForeignKey((*fk).clone())));
    let mut out = vec![Statement::CreateTable {
        name: name.clone(),
        columns: t.columns.iter().map(|c| ColumnDef::of(hub, c)).collect(),
        constraints,
        partition_by: t
            .partitioning
            .as_ref()
            .map(|p| format!("{} ({})", p.method.keyword(), crate::sql::quote::ident(&p.column))),
    }];
    for p in t.partitioning.iter().flat_map(|p| &p.partitions) {
        out.extend(partition(hub, t, p));
    }
    for index in &t.indexes {
        out.push(Statement::CreateIndex {
            table: name.clone(),
            index: index.clone(),
            concurrently: false,
        });
    }
    if t.docs.is_some() {
        out.push(Statement::Comment {
            object: Object::Table(name.clone()),
            text: t.docs.clone(),
            previous: None,
        });
    }
    for c in t.columns.iter().filter(|c| c.docs.is_some()) {
        out.push(Statement::Comment {
            object: Object::Column(name.clone(), c.name.clone()),
            text: c.docs.clone(),
            previous: None,
        });
    }
    out.push(Statement::SetOwner {
        object: Object::Table(name.clone()),
        owner: Roles::of(hub).owner,
    });
    out.extend(security::grants(hub, t));
    out.extend(security::row_security(hub, t));
    // Partitions are made (pg_partman) or secured once the parent's security is in place.
    match &t.partitioning {
        Some(ir::Partitioning {
            column,
            upkeep: Some(upkeep),
            ..
        }) => out.push(Statement::ConfigureUpkeep {
            table: name,
            column: column.clone(),
            upkeep: upkeep.clone(),
            kept: Vec::new(),
        }),
        Some(p) if !p.partitions.is_empty() => out.push(Statement::SecurePartitions { table: name }),
        _ => {}
    }
    out
}

/// A partition and its owner.
fn partition(hub: &ir::Hub, t: &ir::Table, p: &ir::Partition) -> Vec<Statement> {
    let name = Name::new(&t.schema, &p.name);
    vec![
        Statement::CreatePartition {
            name: name.clone(),
            parent: Name::of(t),
            bound: p.bound_sql(t.partitioning.as_ref().map(|p| p.method).unwrap_or_default()),
        },
        Statement::SetOwner {
            object: Object::Table(name),
            owner: Roles::of(hub).owner,
        },
    ]
}
