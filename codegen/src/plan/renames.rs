//! Which old table and column each new one is, following `renamed_from`
//! hints; the renames themselves; and the mapping of old definitions into
//! new names, so an index or foreign key that only follows a rename is
//! recognised as unchanged (PostgreSQL keeps them across renames).

use super::{label, Phase, Plan, PlanError, Step};
use crate::sql::statement::{Name, Statement};
use hubgen_schema::ir;
use hubgen_schema::Anchor;
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct Renames {
    /// (schema, old table name) → new table name, for every matched table.
    tables: BTreeMap<(String, String), String>,
    /// (schema, new table name) → old table name: the same pairs, read the other way.
    old_tables: BTreeMap<(String, String), String>,
    /// (schema, new table name) → old column name → new column name.
    columns: BTreeMap<(String, String), BTreeMap<String, String>>,
}

impl Renames {
    /// Matches tables and columns, pushes the rename steps, and records a
    /// plan error for each hint that matches nothing.
    pub fn of(old: &ir::Hub, new: &ir::Hub, plan: &mut Plan) -> Renames {
        let mut renames = Renames::default();
        let mut matched = Vec::new();
        for t in &new.tables {
            let o = match old.table(&t.schema, &t.name) {
                Some(o) => o,
                None => match t.renamed_from.as_deref().and_then(|from| old.table(&t.schema, from)) {
                    Some(o) => {
                        plan.push(Step::new(
                            Phase::Rename,
                            format!("rename table {} to {}", label(o), t.name),
                            vec![Statement::RenameTable {
                                from: Name::of(o),
                                to: t.name.clone(),
                            }],
                        ));
                        o
                    }
                    None => {
                        if let Some(from) = &t.renamed_from {
                            // A hint already applied is fine; one that matches nothing is a mistake.
                            plan.errors.push(PlanError {
                                at: Anchor::Table {
                                    hub: new.name.clone(),
                                    schema: t.schema.clone(),
                                    table: t.name.clone(),
                                },
                                message: format!(
                                    "table `{}` says renamed_from({from}), but the last migration has neither `{from}` nor `{}`",
                                    label(t),
                                    t.name
                                ),
                                help: "remove the hint, or fix the old name",
                            });
                        }
                        continue;
                    }
                },
            };
            renames.tables.insert((o.schema.clone(), o.name.clone()), t.name.clone());
            renames.old_tables.insert((t.schema.clone(), t.name.clone()), o.name.clone());
            matched.push((o, t));
        }
        // Column renames after every table rename: they name the table by its new name.
        for (o, t) in matched {
            let mut columns = BTreeMap::new();
            for c in &t.columns {
                let oc = match o.column(&c.name) {
                    Some(oc) => oc,
                    None => match c.renamed_from.as_deref().and_then(|from| o.column(from)) {
                        Some(oc) if t.column(&oc.name).is_none() => {
                            plan.push(Step::new(
                                Phase::Rename,
                                format!("rename column {}.{} to {}", label(t), oc.name, c.name),
                                vec![Statement::RenameColumn {
                                    table: Name::of(t),
                                    from: oc.name.clone(),
                                    to: c.name.clone(),
                                }],
                            ));
                            oc
                        }
                        _ => {
                            if let Some(from) = &c.renamed_from {
                                plan.errors.push(PlanError {
                                    at: Anchor::Column {
                                        hub: new.name.clone(),
                                        schema: t.schema.clone(),
                                        table: t.name.clone(),
                                        column: c.name.clone(),
                                    },
                                    message: format!(
                                        "column `{}.{}` says @renamed_from({from}), but the last migration has neither `{from}` nor `{}`",
                                        label(t),
                                        c.name,
                                        c.name
                                    ),
                                    help: "remove the hint, or fix the old name",
                                });
                            }
                            continue;
                        }
                    },
                };
                columns.insert(oc.name.clone(), c.name.clone());
            }
            renames.columns.insert((t.schema.clone(), t.name.clone()), columns);
        }
        renames
    }

    /// Matched (old, new) tables, in the new schema's order.
    pub fn matched<'a>(&self, old: &'a ir::Hub, new: &'a ir::Hub) -> Vec<(&'a ir::Table, &'a ir::Table)> {
        new.tables
            .iter()
            .filter_map(|t| {
                let from = self.old_tables.get(&(t.schema.clone(), t.name.clone()))?;
                Some((old.table(&t.schema, from)?, t))
            })
            .collect()
    }

    /// Whether an old table lives on (under its name or a new one).
    pub fn kept(&self, old: &ir::Table) -> bool {
        self.tables.contains_key(&(old.schema.clone(), old.name.clone()))
    }

    /// Whether a new table existed before (under its name or an old one).
    pub fn has_old(&self, new: &ir::Table) -> bool {
        self.old_tables.contains_key(&(new.schema.clone(), new.name.clone()))
    }

    /// The new name of an old table (itself when not renamed).
    pub fn table(&self, schema: &str, old: &str) -> String {
        self.tables
            .get(&(schema.to_string(), old.to_string()))
            .cloned()
            .unwrap_or_else(|| old.to_string())
    }

    /// The new column for an old column of the table now called `table`, if it lives on.
    pub fn column(&self, schema: &str, table: &str, old: &str) -> Option<&String> {
        self.columns.get(&(schema.to_string(), table.to_string()))?.get(old)
    }

    /// Old column names of `table` (new name) mapped to their new names;
    /// a dropped column keeps its name, so the definition cannot match. A
    /// table outside the plan (a tenant template's reference to a shared
    /// table) keeps its columns as they are.
    pub fn columns(&self, schema: &str, table: &str, old: &[String]) -> Vec<String> {
        let Some(map) = self.columns.get(&(schema.to_string(), table.to_string())) else {
            return old.to_vec();
        };
        old.iter()
            .map(|c| map.get(c).cloned().unwrap_or_else(|| format!("{c} (dropped)")))
            .collect()
    }

    /// An old foreign key as it reads after the renames (its name aside).
    pub fn foreign_key(&self, table: &ir::Table, fk: &ir::ForeignKey) -> ir::ForeignKey {
        let ref_table = self.table(&fk.ref_schema, &fk.ref_table);
        ir::ForeignKey {
            columns: self.columns(&table.schema, &table.name, &fk.columns),
            ref_columns: self.columns(&fk.ref_schema, &ref_table, &fk.ref_columns),
            ref_table,
            ..fk.clone()
        }
    }

    /// An old index as it reads after the renames (its name aside).
    pub fn index(&self, table: &ir::Table, index: &ir::Index) -> ir::Index {
        ir::Index {
            columns: index
                .columns
                .iter()
                .map(|c| ir::IndexColumn {
                    name: self.columns(&table.schema, &table.name, std::slice::from_ref(&c.name)).remove(0),
                    descending: c.descending,
                })
                .collect(),
            ..index.clone()
        }
    }
}
