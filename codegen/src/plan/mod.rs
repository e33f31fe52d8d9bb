//! The next migration of a hub: the difference between its lock (the IR of
//! its last migration) and the current schema, as ordered steps with SQL up
//! and, where a change can be undone, SQL down. Pure: IR in, plan out.

pub mod lint;
mod types;

use crate::sql::access::{create_role, policy, schema_usage, table_grants, table_ownership, table_rls, tenant_policy, type_usage};
use crate::sql::ddl::{column_sql, create_index, foreign_key, table_sql};
use crate::sql::quote::{ident, ident_list, literal, qualified};
use crate::sql::{access_rls_enabled as rls_enabled, column_type, table_privileges, TENANT_POLICY};
use hubgen_schema::ir;
use std::collections::BTreeSet;
pub use types::TypeChange;

/// One change, with the SQL that makes it and the SQL that undoes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// `add column public.users.nickname`
    pub summary: String,
    pub up: String,
    /// `None`: this step cannot be undone (data would be lost, or PostgreSQL cannot).
    pub down: Option<String>,
    pub change: Change,
}

/// What a step does, for the safety lint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    CreateTable,
    DropTable {
        table: String,
    },
    RenameTable,
    AddColumn {
        table: String,
        column: String,
        not_null_without_default: bool,
    },
    DropColumn {
        table: String,
        column: String,
    },
    RenameColumn,
    AlterType {
        table: String,
        column: String,
        change: TypeChange,
        from: String,
        to: String,
    },
    SetNotNull {
        table: String,
        column: String,
    },
    DropNotNull,
    Default,
    AddIndex {
        table: String,
        index: String,
    },
    DropIndex,
    AddUnique {
        table: String,
        constraint: String,
    },
    AddValidatedConstraint,
    DropConstraint,
    CreateEnum,
    AddEnumValue,
    DropEnum {
        name: String,
    },
    AddPartition,
    DropPartition {
        table: String,
        partition: String,
    },
    RemoveTenantScope {
        table: String,
    },
    Security,
    Comment,
    Setup,
}

impl Change {
    /// Loses data or cannot be undone safely: refused unless acknowledged.
    pub fn is_destructive(&self) -> bool {
        matches!(
            self,
            Change::DropTable { .. } | Change::DropColumn { .. } | Change::DropEnum { .. } | Change::DropPartition { .. }
        ) || matches!(
            self,
            Change::AlterType {
                change: TypeChange::Narrowing,
                ..
            }
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// Problems that make a plan impossible (a rename hint that matches nothing, a removed enum value).
    pub errors: Vec<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn reversible(&self) -> bool {
        self.steps.iter().all(|s| s.down.is_some())
    }

    /// The migration's description: the change itself, or the first and a count.
    pub fn slug(&self) -> String {
        let slug = |s: &str| {
            s.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
                .collect::<String>()
                .split('_')
                .filter(|w| !w.is_empty() && *w != "public")
                .collect::<Vec<_>>()
                .join("_")
        };
        let mut name = match self.steps.as_slice() {
            [] => "no_changes".to_string(),
            [one] => slug(&one.summary),
            [first, rest @ ..] => format!("{}_and_{}_more", slug(&first.summary), rest.len()),
        };
        name.truncate(60);
        name.trim_end_matches('_').to_string()
    }

    pub fn up_sql(&self) -> String {
        self.steps
            .iter()
            .map(|s| format!("-- {}\n{}", s.summary, s.up))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The down migration, steps undone in reverse order; `None` unless every step can be undone.
    pub fn down_sql(&self) -> Option<String> {
        let downs: Option<Vec<String>> = self
            .steps
            .iter()
            .rev()
            .map(|s| s.down.as_ref().map(|d| format!("-- undo: {}\n{d}", s.summary)))
            .collect();
        downs.map(|d| d.join("\n"))
    }
}

fn table_key(t: &ir::Table) -> (String, String) {
    (t.schema.clone(), t.name.clone())
}

fn qname(t: &ir::Table) -> String {
    qualified(&t.schema, &t.name)
}

fn label(t: &ir::Table) -> String {
    format!("{}.{}", t.schema, t.name)
}

/// Plans the migration from `old` (the lock) to `new` (the schema).
pub fn plan(old: &ir::Hub, new: &ir::Hub) -> Plan {
    let mut plan = Plan::default();
    let mut push = |summary: String, up: String, down: Option<String>, change: Change| plan.steps.push(Step { summary, up, down, change });

    // Roles, schemas, extensions.
    for role in new.roles.iter().filter(|r| !old.roles.iter().any(|o| o.name == r.name)) {
        let options = if role.bypass_rls {
            "NOLOGIN BYPASSRLS"
        } else {
            "NOLOGIN NOBYPASSRLS"
        };
        push(
            format!("create role {}", role.name),
            create_role(&role.name, options),
            Some(String::new()),
            Change::Setup,
        );
    }
    for schema in new.schemas.iter().filter(|s| !old.schemas.contains(s)) {
        let up = format!(
            "CREATE SCHEMA IF NOT EXISTS {};\nALTER SCHEMA {} OWNER TO {};\n{}",
            ident(schema),
            ident(schema),
            ident(&crate::sql::Roles::of(new).owner),
            schema_usage(new, schema)
        );
        push(
            format!("create schema {schema}"),
            up,
            Some(format!("DROP SCHEMA {};\n", ident(schema))),
            Change::Setup,
        );
    }
    for extension in new.extensions.iter().filter(|e| !old.extensions.contains(e)) {
        push(
            format!("create extension {extension}"),
            format!("CREATE EXTENSION IF NOT EXISTS {};\n", ident(extension)),
            None,
            Change::Setup,
        );
    }

    // Enums: new types, appended values.
    for e in &new.enums {
        let name = qualified(&e.schema, &e.name);
        match old.enums.iter().find(|o| o.schema == e.schema && o.name == e.name) {
            None => {
                let values: Vec<String> = e.values.iter().map(|v| literal(v)).collect();
                let up = format!(
                    "CREATE TYPE {name} AS ENUM ({});\nALTER TYPE {name} OWNER TO {};\n{}",
                    values.join(", "),
                    ident(&crate::sql::Roles::of(new).owner),
                    type_usage(new, e)
                );
                push(
                    format!("create enum {}.{}", e.schema, e.name),
                    up,
                    Some(format!("DROP TYPE {name};\n")),
                    Change::CreateEnum,
                );
            }
            Some(o) => {
                if !e.values.starts_with(&o.values) {
                    plan.errors.push(format!(
                        "enum `{}` changes its existing values ({} → {}): PostgreSQL can only add values; append new values at the end, or create a new enum",
                        e.name,
                        o.values.join(", "),
                        e.values.join(", ")
                    ));
                    continue;
                }
                for (i, value) in e.values.iter().enumerate().skip(o.values.len()) {
                    let after = &e.values[i - 1];
                    push(
                        format!("add value {value} to enum {}.{}", e.schema, e.name),
                        format!(
                            "ALTER TYPE {name} ADD VALUE IF NOT EXISTS {} AFTER {};\n",
                            literal(value),
                            literal(after)
                        ),
                        None,
                        Change::AddEnumValue,
                    );
                }
                if e.docs != o.docs {
                    push(
                        format!("comment on enum {}.{}", e.schema, e.name),
                        comment("TYPE", &name, &e.docs),
                        Some(comment("TYPE", &name, &o.docs)),
                        Change::Comment,
                    );
                }
            }
        }
    }

    // Tables: renamed (by hint), matched, new, dropped.
    let mut matched: Vec<(&ir::Table, &ir::Table)> = Vec::new();
    let mut new_tables: Vec<&ir::Table> = Vec::new();
    let mut consumed: BTreeSet<(String, String)> = BTreeSet::new();
    for t in &new.tables {
        if let Some(o) = old.table(&t.schema, &t.name) {
            matched.push((o, t));
            consumed.insert(table_key(o));
            continue;
        }
        match t.renamed_from.as_deref().and_then(|from| old.table(&t.schema, from)) {
            Some(o) => {
                let up = format!("ALTER TABLE {} RENAME TO {};\n", qname(o), ident(&t.name));
                let down = format!("ALTER TABLE {} RENAME TO {};\n", qname(t), ident(&o.name));
                push(
                    format!("rename table {} to {}", label(o), t.name),
                    up,
                    Some(down),
                    Change::RenameTable,
                );
                matched.push((o, t));
                consumed.insert(table_key(o));
            }
            None => {
                if let Some(from) = &t.renamed_from {
                    // A hint already applied is fine; one that matches nothing is a mistake.
                    plan.errors.push(format!(
                        "table `{}` says renamed_from({from}), but the last migration has neither `{from}` nor `{}`: remove the hint, or fix the old name",
                        label(t),
                        t.name
                    ));
                }
                new_tables.push(t);
            }
        }
    }
    // Hints on tables that already exist are spent; nothing to check for them.

    // New tables, in dependency order among themselves.
    let mut created: BTreeSet<(String, String)> = old.tables.iter().map(table_key).collect();
    let mut pending = new_tables.clone();
    while !pending.is_empty() {
        let ready = pending
            .iter()
            .position(|t| {
                t.foreign_keys.iter().all(|fk| {
                    created.contains(&(fk.ref_schema.clone(), fk.ref_table.clone()))
                        || (fk.ref_schema == t.schema && fk.ref_table == t.name)
                })
            })
            .unwrap_or(0);
        let t = pending.remove(ready);
        created.insert(table_key(t));
        let fks: Vec<&ir::ForeignKey> = t
            .foreign_keys
            .iter()
            .filter(|fk| created.contains(&(fk.ref_schema.clone(), fk.ref_table.clone())))
            .collect();
        let mut up = table_sql(new, t, &fks);
        for fk in t.foreign_keys.iter().filter(|fk| !fks.contains(fk)) {
            up.push_str(&format!("ALTER TABLE {} ADD {};\n", qname(t), foreign_key(fk)));
        }
        up.push_str(&table_ownership(new, t));
        up.push_str(&table_grants(new, t));
        if rls_enabled(t) {
            up.push_str(&table_rls(t));
        }
        push(
            format!("create table {}", label(t)),
            up,
            Some(format!("DROP TABLE {};\n", qname(t))),
            Change::CreateTable,
        );
    }

    for (o, t) in &matched {
        table_changes(new, o, t, &mut plan);
    }

    for o in old.tables.iter().filter(|o| !consumed.contains(&table_key(o))).rev() {
        plan.steps.push(Step {
            summary: format!("drop table {}", label(o)),
            up: format!("DROP TABLE {};\n", qname(o)),
            down: None,
            change: Change::DropTable { table: label(o) },
        });
    }
    for e in old
        .enums
        .iter()
        .filter(|e| !new.enums.iter().any(|n| n.schema == e.schema && n.name == e.name))
    {
        plan.steps.push(Step {
            summary: format!("drop enum {}.{}", e.schema, e.name),
            up: format!("DROP TYPE {};\n", qualified(&e.schema, &e.name)),
            down: None,
            change: Change::DropEnum {
                name: format!("{}.{}", e.schema, e.name),
            },
        });
    }
    plan
}

fn comment(kind: &str, target: &str, docs: &Option<String>) -> String {
    match docs {
        Some(d) => format!("COMMENT ON {kind} {target} IS {};\n", literal(d)),
        None => format!("COMMENT ON {kind} {target} IS NULL;\n"),
    }
}

/// Changes inside a table that exists before and after.
fn table_changes(hub: &ir::Hub, o: &ir::Table, t: &ir::Table, plan: &mut Plan) {
    let name = qname(t);
    let tl = label(t);
    let mut push = |summary: String, up: String, down: Option<String>, change: Change| plan.steps.push(Step { summary, up, down, change });
    let mut errors = Vec::new();

    // Columns: renames first, so the rest compares like with like.
    let mut old_of: Vec<(&ir::Column, Option<&ir::Column>)> = Vec::new();
    let mut consumed: BTreeSet<&str> = BTreeSet::new();
    for c in &t.columns {
        if let Some(oc) = o.column(&c.name) {
            old_of.push((c, Some(oc)));
            consumed.insert(&oc.name);
        } else if let Some(oc) = c.renamed_from.as_deref().and_then(|from| o.column(from)) {
            push(
                format!("rename column {tl}.{} to {}", oc.name, c.name),
                format!("ALTER TABLE {name} RENAME COLUMN {} TO {};\n", ident(&oc.name), ident(&c.name)),
                Some(format!(
                    "ALTER TABLE {name} RENAME COLUMN {} TO {};\n",
                    ident(&c.name),
                    ident(&oc.name)
                )),
                Change::RenameColumn,
            );
            old_of.push((c, Some(oc)));
            consumed.insert(&oc.name);
        } else {
            if let Some(from) = &c.renamed_from {
                errors.push(format!(
                    "column `{tl}.{}` says @renamed_from({from}), but the last migration has neither `{from}` nor `{}`: remove the hint, or fix the old name",
                    c.name, c.name
                ));
            }
            old_of.push((c, None));
        }
    }

    // PostgreSQL keeps constraint names when a table or column is renamed, but
    // hubgen's names follow them: rename constraints whose definition is unchanged.
    let renamed_col = |c: &String| {
        old_of
            .iter()
            .find(|(_, oc)| oc.is_some_and(|oc| &oc.name == c))
            .map_or(c.clone(), |(nc, _)| nc.name.clone())
    };
    let map_cols = |cols: &[String]| cols.iter().map(renamed_col).collect::<Vec<_>>();
    let mut renames: Vec<(String, String)> = Vec::new();
    if let (Some(a), Some(b)) = (&o.primary_key, &t.primary_key) {
        if a.name != b.name && map_cols(&a.columns) == b.columns {
            renames.push((a.name.clone(), b.name.clone()));
        }
    }
    for a in o.uniques.iter().filter(|u| !t.uniques.contains(u)) {
        if let Some(b) = t
            .uniques
            .iter()
            .find(|b| !o.uniques.contains(b) && b.name != a.name && map_cols(&a.columns) == b.columns)
        {
            renames.push((a.name.clone(), b.name.clone()));
        }
    }
    for a in o.foreign_keys.iter().filter(|f| !t.foreign_keys.contains(f)) {
        let same = |b: &&ir::ForeignKey| {
            b.name != a.name
                && map_cols(&a.columns) == b.columns
                && a.ref_table == b.ref_table
                && a.ref_columns == b.ref_columns
                && a.on_delete == b.on_delete
                && a.on_update == b.on_update
        };
        if let Some(b) = t.foreign_keys.iter().find(|b| !o.foreign_keys.contains(b) && same(b)) {
            renames.push((a.name.clone(), b.name.clone()));
        }
    }
    for a in o.checks.iter().filter(|c| !t.checks.contains(c)) {
        if let Some(b) = t
            .checks
            .iter()
            .find(|b| !o.checks.contains(b) && b.name != a.name && b.expr == a.expr)
        {
            renames.push((a.name.clone(), b.name.clone()));
        }
    }
    for (from, to) in &renames {
        push(
            format!("rename constraint {tl}.{from} to {to}"),
            format!("ALTER TABLE {name} RENAME CONSTRAINT {} TO {};\n", ident(from), ident(to)),
            Some(format!("ALTER TABLE {name} RENAME CONSTRAINT {} TO {};\n", ident(to), ident(from))),
            Change::RenameColumn,
        );
    }
    let renamed_from = |n: &str| renames.iter().any(|(from, _)| from == n);
    let renamed_to = |n: &str| renames.iter().any(|(_, to)| to == n);

    // Constraints and indexes that go away are dropped before the columns they use.
    let pk_changed = o.primary_key != t.primary_key && !o.primary_key.as_ref().is_some_and(|k| renamed_from(&k.name));
    if pk_changed {
        if let Some(pk) = &o.primary_key {
            let down = format!(
                "ALTER TABLE {name} ADD CONSTRAINT {} PRIMARY KEY {};\n",
                ident(&pk.name),
                ident_list(&pk.columns)
            );
            push(
                format!("drop primary key {tl}"),
                format!("ALTER TABLE {name} DROP CONSTRAINT {};\n", ident(&pk.name)),
                Some(down),
                Change::DropConstraint,
            );
        }
    }
    for u in o.uniques.iter().filter(|u| !t.uniques.contains(u) && !renamed_from(&u.name)) {
        let down = format!(
            "ALTER TABLE {name} ADD CONSTRAINT {} UNIQUE {};\n",
            ident(&u.name),
            ident_list(&u.columns)
        );
        push(
            format!("drop unique {tl}.{}", u.name),
            format!("ALTER TABLE {name} DROP CONSTRAINT {};\n", ident(&u.name)),
            Some(down),
            Change::DropConstraint,
        );
    }
    for c in o.checks.iter().filter(|c| !t.checks.contains(c) && !renamed_from(&c.name)) {
        let down = format!("ALTER TABLE {name} ADD CONSTRAINT {} CHECK ({});\n", ident(&c.name), c.expr);
        push(
            format!("drop check {tl}.{}", c.name),
            format!("ALTER TABLE {name} DROP CONSTRAINT {};\n", ident(&c.name)),
            Some(down),
            Change::DropConstraint,
        );
    }
    for fk in o
        .foreign_keys
        .iter()
        .filter(|fk| !t.foreign_keys.contains(fk) && !renamed_from(&fk.name))
    {
        let down = format!("ALTER TABLE {name} ADD {};\n", foreign_key(fk));
        push(
            format!("drop foreign key {tl}.{}", fk.name),
            format!("ALTER TABLE {name} DROP CONSTRAINT {};\n", ident(&fk.name)),
            Some(down),
            Change::DropConstraint,
        );
    }
    for i in o.indexes.iter().filter(|i| !t.indexes.contains(i)) {
        let down = create_index(t, i, false);
        push(
            format!("drop index {}", i.name),
            format!("DROP INDEX {};\n", qualified(&t.schema, &i.name)),
            Some(down),
            Change::DropIndex,
        );
    }

    for (c, oc) in &old_of {
        let col = ident(&c.name);
        let Some(oc) = oc else {
            let not_null_without_default = !c.nullable && c.default.is_none() && c.generated.is_none();
            push(
                format!("add column {tl}.{}", c.name),
                format!("ALTER TABLE {name} ADD COLUMN {};\n", column_sql(hub, c)),
                Some(format!("ALTER TABLE {name} DROP COLUMN {col};\n")),
                Change::AddColumn {
                    table: tl.clone(),
                    column: c.name.clone(),
                    not_null_without_default,
                },
            );
            if let Some(docs) = &c.docs {
                push(
                    format!("comment on column {tl}.{}", c.name),
                    comment("COLUMN", &format!("{name}.{col}"), &Some(docs.clone())),
                    Some(String::new()),
                    Change::Comment,
                );
            }
            continue;
        };
        if c.generated != oc.generated {
            // A generation expression cannot be altered in place: drop and add.
            push(
                format!("drop column {tl}.{}", oc.name),
                format!("ALTER TABLE {name} DROP COLUMN {col};\n"),
                None,
                Change::DropColumn {
                    table: tl.clone(),
                    column: oc.name.clone(),
                },
            );
            push(
                format!("add column {tl}.{}", c.name),
                format!("ALTER TABLE {name} ADD COLUMN {};\n", column_sql(hub, c)),
                None,
                Change::AddColumn {
                    table: tl.clone(),
                    column: c.name.clone(),
                    not_null_without_default: false,
                },
            );
            continue;
        }
        if c.ty != oc.ty {
            let change = types::classify(&oc.ty, &c.ty);
            let to = column_type(hub, &c.ty);
            let from = column_type(hub, &oc.ty);
            let using = |target: &str| {
                if change == TypeChange::Widening {
                    String::new()
                } else {
                    format!(" USING {col}::{target}")
                }
            };
            push(
                format!("change type of {tl}.{} from {from} to {to}", c.name),
                format!("ALTER TABLE {name} ALTER COLUMN {col} TYPE {to}{};\n", using(&to)),
                Some(format!("ALTER TABLE {name} ALTER COLUMN {col} TYPE {from} USING {col}::{from};\n")),
                Change::AlterType {
                    table: tl.clone(),
                    column: c.name.clone(),
                    change,
                    from: from.clone(),
                    to: to.clone(),
                },
            );
        }
        if c.default != oc.default {
            let set = |d: &Option<String>| match d {
                Some(d) => format!("ALTER TABLE {name} ALTER COLUMN {col} SET DEFAULT {d};\n"),
                None => format!("ALTER TABLE {name} ALTER COLUMN {col} DROP DEFAULT;\n"),
            };
            let what = if c.default.is_some() { "set default of" } else { "drop default of" };
            push(
                format!("{what} {tl}.{}", c.name),
                set(&c.default),
                Some(set(&oc.default)),
                Change::Default,
            );
        }
        if c.nullable != oc.nullable {
            let (set, drop) = (
                format!("ALTER TABLE {name} ALTER COLUMN {col} SET NOT NULL;\n"),
                format!("ALTER TABLE {name} ALTER COLUMN {col} DROP NOT NULL;\n"),
            );
            if c.nullable {
                push(format!("drop not null of {tl}.{}", c.name), drop, Some(set), Change::DropNotNull);
            } else {
                push(
                    format!("set not null on {tl}.{}", c.name),
                    set,
                    Some(drop),
                    Change::SetNotNull {
                        table: tl.clone(),
                        column: c.name.clone(),
                    },
                );
            }
        }
        if c.docs != oc.docs {
            let target = format!("{name}.{col}");
            push(
                format!("comment on column {tl}.{}", c.name),
                comment("COLUMN", &target, &c.docs),
                Some(comment("COLUMN", &target, &oc.docs)),
                Change::Comment,
            );
        }
    }
    for oc in o.columns.iter().filter(|oc| !consumed.contains(oc.name.as_str())) {
        push(
            format!("drop column {tl}.{}", oc.name),
            format!("ALTER TABLE {name} DROP COLUMN {};\n", ident(&oc.name)),
            None,
            Change::DropColumn {
                table: tl.clone(),
                column: oc.name.clone(),
            },
        );
    }

    // New constraints on an existing table: NOT VALID first (no long lock), then VALIDATE.
    if pk_changed {
        if let Some(pk) = &t.primary_key {
            push(
                format!("add primary key {tl}"),
                format!(
                    "ALTER TABLE {name} ADD CONSTRAINT {} PRIMARY KEY {};\n",
                    ident(&pk.name),
                    ident_list(&pk.columns)
                ),
                Some(format!("ALTER TABLE {name} DROP CONSTRAINT {};\n", ident(&pk.name))),
                Change::AddUnique {
                    table: tl.clone(),
                    constraint: pk.name.clone(),
                },
            );
        }
    }
    for u in t.uniques.iter().filter(|u| !o.uniques.contains(u) && !renamed_to(&u.name)) {
        push(
            format!("add unique {tl}.{}", u.name),
            format!(
                "ALTER TABLE {name} ADD CONSTRAINT {} UNIQUE {};\n",
                ident(&u.name),
                ident_list(&u.columns)
            ),
            Some(format!("ALTER TABLE {name} DROP CONSTRAINT {};\n", ident(&u.name))),
            Change::AddUnique {
                table: tl.clone(),
                constraint: u.name.clone(),
            },
        );
    }
    for c in t.checks.iter().filter(|c| !o.checks.contains(c) && !renamed_to(&c.name)) {
        push(
            format!("add check {tl}.{}", c.name),
            format!(
                "ALTER TABLE {name} ADD CONSTRAINT {} CHECK ({}) NOT VALID;\nALTER TABLE {name} VALIDATE CONSTRAINT {};\n",
                ident(&c.name),
                c.expr,
                ident(&c.name)
            ),
            Some(format!("ALTER TABLE {name} DROP CONSTRAINT {};\n", ident(&c.name))),
            Change::AddValidatedConstraint,
        );
    }
    for fk in t
        .foreign_keys
        .iter()
        .filter(|fk| !o.foreign_keys.contains(fk) && !renamed_to(&fk.name))
    {
        push(
            format!("add foreign key {tl}.{}", fk.name),
            format!(
                "ALTER TABLE {name} ADD {} NOT VALID;\nALTER TABLE {name} VALIDATE CONSTRAINT {};\n",
                foreign_key(fk),
                ident(&fk.name)
            ),
            Some(format!("ALTER TABLE {name} DROP CONSTRAINT {};\n", ident(&fk.name))),
            Change::AddValidatedConstraint,
        );
    }
    for i in t.indexes.iter().filter(|i| !o.indexes.contains(i)) {
        push(
            format!("add index {}", i.name),
            create_index(t, i, true),
            Some(format!("DROP INDEX {};\n", qualified(&t.schema, &i.name))),
            Change::AddIndex {
                table: tl.clone(),
                index: i.name.clone(),
            },
        );
    }

    // Partitions.
    let old_parts = o.partitioning.as_ref().map(|p| p.partitions.as_slice()).unwrap_or_default();
    let new_parts = t.partitioning.as_ref().map(|p| p.partitions.as_slice()).unwrap_or_default();
    for p in new_parts.iter().filter(|p| !old_parts.contains(p)) {
        let up = format!(
            "CREATE TABLE {} PARTITION OF {name} FOR VALUES FROM ({}) TO ({});\nALTER TABLE {} OWNER TO {};\n",
            qualified(&t.schema, &p.name),
            p.from,
            p.to,
            qualified(&t.schema, &p.name),
            ident(&crate::sql::Roles::of(hub).owner)
        );
        push(
            format!("add partition {}", p.name),
            up,
            Some(format!("DROP TABLE {};\n", qualified(&t.schema, &p.name))),
            Change::AddPartition,
        );
    }
    for p in old_parts.iter().filter(|p| !new_parts.contains(p)) {
        push(
            format!("drop partition {}", p.name),
            format!("DROP TABLE {};\n", qualified(&t.schema, &p.name)),
            None,
            Change::DropPartition {
                table: tl.clone(),
                partition: p.name.clone(),
            },
        );
    }

    // Row-level security and policies.
    let (was, is) = (rls_enabled(o), rls_enabled(t));
    let enable = format!("ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;\nALTER TABLE {name} FORCE ROW LEVEL SECURITY;\n");
    let disable = format!("ALTER TABLE {name} NO FORCE ROW LEVEL SECURITY;\nALTER TABLE {name} DISABLE ROW LEVEL SECURITY;\n");
    if !was && is {
        push(
            format!("enable row-level security on {tl}"),
            enable.clone(),
            Some(disable.clone()),
            Change::Security,
        );
    }
    let drop_policy = |p: &str| format!("DROP POLICY {} ON {name};\n", ident(p));
    match (&o.tenant_column, &t.tenant_column) {
        (None, Some(c)) => push(
            format!("scope {tl} to tenants by {c}"),
            tenant_policy(t, c),
            Some(drop_policy(TENANT_POLICY)),
            Change::Security,
        ),
        (Some(c), None) => push(
            format!("remove tenant scoping of {tl}"),
            drop_policy(TENANT_POLICY),
            Some(tenant_policy(o, c)),
            Change::RemoveTenantScope { table: tl.clone() },
        ),
        (Some(a), Some(b)) if a != b => push(
            format!("scope {tl} to tenants by {b}"),
            format!("{}{}", drop_policy(TENANT_POLICY), tenant_policy(t, b)),
            Some(format!("{}{}", drop_policy(TENANT_POLICY), tenant_policy(o, a))),
            Change::Security,
        ),
        _ => {}
    }
    for p in o.policies.iter().filter(|p| !t.policies.contains(p)) {
        push(
            format!("drop policy {} on {tl}", p.name),
            drop_policy(&p.name),
            Some(policy(o, p)),
            Change::Security,
        );
    }
    for p in t.policies.iter().filter(|p| !o.policies.contains(p)) {
        push(
            format!("create policy {} on {tl}", p.name),
            policy(t, p),
            Some(drop_policy(&p.name)),
            Change::Security,
        );
    }
    if was && !is {
        push(
            format!("disable row-level security on {tl}"),
            disable,
            Some(enable),
            Change::Security,
        );
    }

    // Grants.
    let before = table_privileges(hub, o);
    let after = table_privileges(hub, t);
    let privileges = |list: &[(String, Vec<String>)], role: &str| -> BTreeSet<String> {
        list.iter()
            .filter(|(r, _)| r == role)
            .flat_map(|(_, p)| p.iter().cloned())
            .collect()
    };
    let roles: BTreeSet<&String> = before.iter().chain(&after).map(|(r, _)| r).collect();
    for role in roles {
        let (b, a) = (privileges(&before, role), privileges(&after, role));
        let added: Vec<String> = a.difference(&b).map(|p| p.to_uppercase()).collect();
        let removed: Vec<String> = b.difference(&a).map(|p| p.to_uppercase()).collect();
        if !added.is_empty() {
            let (grant, revoke) = (
                format!("GRANT {} ON TABLE {name} TO {};\n", added.join(", "), ident(role)),
                format!("REVOKE {} ON TABLE {name} FROM {};\n", added.join(", "), ident(role)),
            );
            let usage = format!("GRANT USAGE ON SCHEMA {} TO {};\n", ident(&t.schema), ident(role));
            push(
                format!("grant {} on {tl} to {role}", added.join(", ").to_lowercase()),
                format!("{usage}{grant}"),
                Some(revoke),
                Change::Security,
            );
        }
        if !removed.is_empty() {
            let (revoke, grant) = (
                format!("REVOKE {} ON TABLE {name} FROM {};\n", removed.join(", "), ident(role)),
                format!("GRANT {} ON TABLE {name} TO {};\n", removed.join(", "), ident(role)),
            );
            push(
                format!("revoke {} on {tl} from {role}", removed.join(", ").to_lowercase()),
                revoke,
                Some(grant),
                Change::Security,
            );
        }
    }

    if t.docs != o.docs {
        push(
            format!("comment on table {tl}"),
            comment("TABLE", &name, &t.docs),
            Some(comment("TABLE", &name, &o.docs)),
            Change::Comment,
        );
    }
    plan.errors.extend(errors);
}
