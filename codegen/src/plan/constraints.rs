//! Keys, checks, foreign keys and indexes of a table that stays.
//!
//! A definition that only follows a rename is kept (renamed if hubgen's
//! name for it changed); one that changes is dropped under its old names
//! before the renames and added under the new ones after. On a table with
//! rows, new constraints are added without the long lock: checks and
//! foreign keys NOT VALID then VALIDATE, unique keys and indexes built
//! CONCURRENTLY, both outside the migration's transaction.

use super::{label, Phase, Plan, Renames, Step};
use crate::sql::statement::{Constraint, Name, Statement};
use hubgen_schema::ir;

pub(super) fn plan(o: &ir::Table, t: &ir::Table, renames: &Renames, plan: &mut Plan) {
    let old_name = Name::of(o);
    let table = Name::of(t);
    let tl = label(t);
    let map_key = |k: &ir::Key| renames.columns(&t.schema, &t.name, &k.columns);

    // Each old constraint and its counterpart, if its definition lives on.
    let old: Vec<(Constraint, Option<Constraint>)> = {
        let mut pairs = Vec::new();
        if let Some(pk) = &o.primary_key {
            let same = t.primary_key.clone().filter(|k| k.columns == map_key(pk));
            pairs.push((Constraint::PrimaryKey(pk.clone()), same.map(Constraint::PrimaryKey)));
        }
        for u in &o.uniques {
            let same = t.uniques.iter().find(|k| k.columns == map_key(u)).cloned();
            pairs.push((Constraint::Unique(u.clone()), same.map(Constraint::Unique)));
        }
        for c in &o.checks {
            // Expressions are compared as written: one that names a renamed column is re-added.
            let same = t.checks.iter().find(|k| k.expr == c.expr).cloned();
            pairs.push((Constraint::Check(c.clone()), same.map(Constraint::Check)));
        }
        for fk in &o.foreign_keys {
            let mapped = renames.foreign_key(t, fk);
            let same = t
                .foreign_keys
                .iter()
                .find(|k| {
                    ir::ForeignKey {
                        name: k.name.clone(),
                        ..mapped.clone()
                    } == **k
                })
                .cloned();
            pairs.push((Constraint::ForeignKey(fk.clone()), same.map(Constraint::ForeignKey)));
        }
        pairs
    };
    let mut kept: Vec<&str> = Vec::new();
    for (before, after) in &old {
        match after {
            Some(after) => {
                kept.push(after.name());
                if before.name() != after.name() {
                    plan.push(Step::new(
                        Phase::Rename,
                        format!("rename {} {tl}.{} to {}", before.kind(), before.name(), after.name()),
                        vec![Statement::RenameConstraint {
                            table: table.clone(),
                            from: before.name().to_string(),
                            to: after.name().to_string(),
                        }],
                    ));
                }
            }
            None => plan.push(Step::new(
                Phase::Detach,
                format!("drop {} {}.{}", before.kind(), label(o), before.name()),
                vec![Statement::DropConstraint {
                    table: old_name.clone(),
                    constraint: before.clone(),
                }],
            )),
        }
    }

    let mut new: Vec<Constraint> = Vec::new();
    new.extend(t.primary_key.clone().map(Constraint::PrimaryKey));
    new.extend(t.uniques.iter().cloned().map(Constraint::Unique));
    new.extend(t.checks.iter().cloned().map(Constraint::Check));
    new.extend(t.foreign_keys.iter().cloned().map(Constraint::ForeignKey));
    let partitioned = t.partitioning.is_some();
    for constraint in new.into_iter().filter(|c| !kept.contains(&c.name())) {
        for step in add_constraint(&table, &tl, constraint, partitioned) {
            plan.push(step);
        }
    }

    // Indexes.
    let mut kept_indexes: Vec<&str> = Vec::new();
    for i in &o.indexes {
        let mapped = renames.index(t, i);
        match t.indexes.iter().find(|n| {
            ir::Index {
                name: n.name.clone(),
                ..mapped.clone()
            } == **n
        }) {
            Some(n) => {
                kept_indexes.push(&n.name);
                if n.name != i.name {
                    plan.push(Step::new(
                        Phase::Rename,
                        format!("rename index {} to {}", i.name, n.name),
                        vec![Statement::RenameIndex {
                            table: table.clone(),
                            from: i.name.clone(),
                            to: n.name.clone(),
                        }],
                    ));
                }
            }
            None => plan.push(Step::new(
                Phase::Detach,
                format!("drop index {}", i.name),
                vec![Statement::DropIndex {
                    table: old_name.clone(),
                    index: i.clone(),
                    concurrently: false,
                }],
            )),
        }
    }
    for i in t.indexes.iter().filter(|i| !kept_indexes.contains(&i.name.as_str())) {
        // PostgreSQL cannot build an index on a partitioned table concurrently.
        let (phase, concurrently) = if partitioned {
            (Phase::Attach, false)
        } else {
            (Phase::Concurrent, true)
        };
        plan.push(Step::new(
            phase,
            format!("add index {}", i.name),
            vec![Statement::CreateIndex {
                table: table.clone(),
                index: i.clone(),
                concurrently,
            }],
        ));
    }
}

/// A constraint added to a table that may hold rows: no step holds a lock
/// that blocks writes while it scans or builds.
fn add_constraint(table: &Name, tl: &str, constraint: Constraint, partitioned: bool) -> Vec<Step> {
    let summary = format!("add {} {tl}.{}", constraint.kind(), constraint.name());
    match &constraint {
        // Build the unique index without blocking writes, then adopt it. The
        // adoption's undo drops the index with the constraint, so the build's
        // undo says IF EXISTS.
        Constraint::PrimaryKey(k) | Constraint::Unique(k) if !partitioned => {
            let index = ir::Index {
                name: k.name.clone(),
                unique: true,
                method: ir::IndexMethod::Btree,
                columns: k
                    .columns
                    .iter()
                    .map(|c| ir::IndexColumn {
                        name: c.clone(),
                        descending: false,
                    })
                    .collect(),
                predicate: None,
            };
            vec![
                Step::new(
                    Phase::Concurrent,
                    format!("build the unique index of {} {tl}.{}", constraint.kind(), k.name),
                    vec![Statement::CreateIndex {
                        table: table.clone(),
                        index,
                        concurrently: true,
                    }],
                ),
                Step::new(
                    Phase::Finish,
                    summary,
                    vec![Statement::AddConstraintUsingIndex {
                        table: table.clone(),
                        constraint,
                    }],
                ),
            ]
        }
        Constraint::PrimaryKey(_) | Constraint::Unique(_) => vec![Step::new(
            Phase::Attach,
            summary,
            vec![Statement::AddConstraint {
                table: table.clone(),
                constraint,
                not_valid: false,
            }],
        )],
        // NOT VALID takes its lock only briefly; VALIDATE scans under one that lets writes through.
        Constraint::Check(_) | Constraint::ForeignKey(_) => vec![
            Step::new(
                Phase::Attach,
                format!("{summary} (not valid)"),
                vec![Statement::AddConstraint {
                    table: table.clone(),
                    constraint: constraint.clone(),
                    not_valid: true,
                }],
            ),
            Step::new(
                Phase::Finish,
                format!("validate {} {tl}.{}", constraint.kind(), constraint.name()),
                vec![Statement::ValidateConstraint {
                    table: table.clone(),
                    name: constraint.name().to_string(),
                }],
            ),
        ],
    }
}
