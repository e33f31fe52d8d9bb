//! Migrations as plans: the difference between a hub's lock (the IR of its
//! last migration) and the schema, as ordered steps of typed statements
//! (`crate::sql::statement`). The first migration is the plan from nothing.
//! Pure: IR in, plan out.
//!
//! Steps are ordered by [`Phase`], so that undoing them in reverse order is
//! valid too: objects that change or go are detached under their old names
//! before anything is renamed, and attached under the new names after.

mod audit;
mod columns;
mod constraints;
mod erasure;
pub mod files;
pub mod lint;
mod renames;
mod security;
mod setup;
mod tables;
mod types;
mod upkeep;

use crate::sql::statement::{Inverse, Statement};
use hubgen_schema::ir;
pub use renames::Renames;
pub use types::TypeChange;
pub use upkeep::partman_name;

/// Where a step goes. Steps are sorted by phase (stably), and the phases
/// decide the migration files (see `files`): enum values first in a file of
/// their own (PostgreSQL cannot use a value added in the same transaction),
/// each concurrent index build in a file of its own run outside a
/// transaction, and the validations last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    EnumValues,
    Setup,
    /// Constraints, indexes and policies that change or go, under their old names.
    Detach,
    Rename,
    CreateTables,
    Columns,
    /// Constraints (NOT VALID on existing tables), indexes, partitions.
    Attach,
    Security,
    /// Partitions take the parent's final security.
    Partitions,
    Comments,
    Drop,
    /// CREATE INDEX CONCURRENTLY: one statement a file, no transaction.
    Concurrent,
    /// VALIDATE CONSTRAINT and constraints adopting a concurrently built index:
    /// a transaction of their own, after the body's exclusive locks are gone.
    Finish,
}

/// One change: what it does, its statements, and how to undo it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// `add column public.users.nickname`
    pub summary: String,
    pub phase: Phase,
    pub statements: Vec<Statement>,
    /// `None`: this step cannot be undone (data would be lost, or PostgreSQL cannot).
    pub down: Option<Vec<Statement>>,
}

impl Step {
    /// A step undone by inverting each of its statements, last first.
    pub fn new(phase: Phase, summary: String, statements: Vec<Statement>) -> Step {
        let down = invert(&statements);
        Step {
            summary,
            phase,
            statements,
            down,
        }
    }

    /// A step whose first statement creates an object the others only
    /// dress (owner, grants, comments, indexes): undoing the first is enough.
    pub fn owning(phase: Phase, summary: String, statements: Vec<Statement>) -> Step {
        let down = statements.first().and_then(|head| invert(std::slice::from_ref(head)));
        Step {
            summary,
            phase,
            statements,
            down,
        }
    }

    pub fn reversible(&self) -> bool {
        self.down.is_some()
    }
}

/// The statements that undo `statements`, or `None` when one cannot be undone.
pub fn invert(statements: &[Statement]) -> Option<Vec<Statement>> {
    let mut out = Vec::new();
    for statement in statements.iter().rev() {
        match statement.inverse() {
            Inverse::Undo(undo) => out.extend(undo),
            Inverse::Keep => {}
            Inverse::Irreversible => return None,
        }
    }
    Some(out)
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// Problems that make a plan impossible (a rename hint that matches nothing, a removed enum value).
    pub errors: Vec<PlanError>,
}

/// Why a change cannot be planned, and the declaration that asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    pub at: hubgen_schema::Anchor,
    pub message: String,
    /// How to change the schema so the plan can be made.
    pub help: &'static str,
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn reversible(&self) -> bool {
        self.steps.iter().all(Step::reversible)
    }

    pub fn push(&mut self, step: Step) {
        self.steps.push(step);
    }

    /// Every statement, in order.
    pub fn statements(&self) -> impl Iterator<Item = &Statement> {
        self.steps.iter().flat_map(|s| &s.statements)
    }
}

/// The label of a table in summaries and acknowledgements: `schema.name`.
fn label(t: &ir::Table) -> String {
    format!("{}.{}", t.schema, t.name)
}

/// Plans the migration from `old` (the lock; `None` for a hub without
/// migrations) to `new` (the schema).
pub fn plan(old: Option<&ir::Hub>, new: &ir::Hub) -> Plan {
    let mut plan = Plan::default();
    setup::plan(old, new, &mut plan);
    let empty;
    let old = match old {
        Some(old) => old,
        None => {
            empty = ir::Hub {
                tables: Vec::new(),
                enums: Vec::new(),
                roles: Vec::new(),
                schemas: Vec::new(),
                extensions: Vec::new(),
                erasure: None,
                ..new.clone()
            };
            &empty
        }
    };
    let renames = Renames::of(old, new, &mut plan);
    tables::plan(old, new, &renames, &mut plan);
    for (o, t) in renames.matched(old, new) {
        columns::plan(new, o, t, &renames, &mut plan);
        constraints::plan(o, t, &renames, &mut plan);
        security::plan(old, new, o, t, &renames, &mut plan);
        upkeep::secure(old, new, o, t, &mut plan);
    }
    setup::drops(old, new, &mut plan);
    audit::plan(old, new, &renames, &mut plan);
    erasure::plan(old, new, &mut plan);
    let helpers = plan.statements().any(|s| {
        matches!(
            s,
            Statement::SecurePartitions { .. } | Statement::ConfigureUpkeep { .. } | Statement::RemoveUpkeep { .. }
        )
    });
    if helpers {
        plan.steps.insert(
            0,
            Step::new(
                Phase::Setup,
                "install hubgen's helper functions".into(),
                vec![Statement::InstallHelpers],
            ),
        );
    }
    plan.steps.sort_by_key(|s| s.phase);
    plan
}
