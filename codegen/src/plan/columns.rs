//! Columns of a table that stays: added, dropped, retyped, defaults,
//! nullability. Nothing is lost silently: a step that could lose or reject
//! data checks it first and stops the migration with the count.

use super::{label, types, Phase, Plan, Renames, Step};
use crate::plan::TypeChange;
use crate::sql::column_type;
use crate::sql::statement::{ColumnDef, Guard, Name, Object, Statement};
use hubgen_schema::ir;

pub(super) fn plan(hub: &ir::Hub, o: &ir::Table, t: &ir::Table, renames: &Renames, plan: &mut Plan) {
    let table = Name::of(t);
    let tl = label(t);
    for c in &t.columns {
        let Some(oc) = o
            .columns
            .iter()
            .find(|oc| renames.column(&t.schema, &t.name, &oc.name) == Some(&c.name))
        else {
            plan.push(add_column(hub, t, c));
            if c.docs.is_some() {
                plan.push(comment(&table, &tl, c, None));
            }
            continue;
        };
        let col = || c.name.clone();
        if c.generated != oc.generated {
            // A generation expression cannot be altered in place: drop and add.
            plan.push(Step::new(
                Phase::Columns,
                format!("recreate generated column {tl}.{}", c.name),
                vec![
                    Statement::DropColumn {
                        table: table.clone(),
                        column: col(),
                    },
                    Statement::AddColumn {
                        table: table.clone(),
                        column: ColumnDef::of(hub, c),
                    },
                ],
            ));
            continue;
        }
        let retyped = c.ty != oc.ty;
        if retyped {
            plan.push(retype(hub, &table, &tl, oc, c));
        } else if c.default != oc.default {
            let what = if c.default.is_some() { "set default of" } else { "drop default of" };
            plan.push(Step::new(
                Phase::Columns,
                format!("{what} {tl}.{}", c.name),
                vec![Statement::SetDefault {
                    table: table.clone(),
                    column: col(),
                    default: c.default.clone(),
                    previous: oc.default.clone(),
                }],
            ));
        }
        if c.nullable && !oc.nullable {
            plan.push(Step::new(
                Phase::Columns,
                format!("drop not null of {tl}.{}", c.name),
                vec![Statement::DropNotNull {
                    table: table.clone(),
                    column: col(),
                }],
            ));
        } else if !c.nullable && oc.nullable {
            let mut statements: Vec<Statement> = c
                .backfill
                .iter()
                .map(|expr| Statement::Backfill {
                    table: table.clone(),
                    column: col(),
                    expr: expr.clone(),
                })
                .collect();
            statements.push(Statement::Guard(Guard::NoNulls {
                table: table.clone(),
                column: col(),
            }));
            statements.push(Statement::SetNotNull {
                table: table.clone(),
                column: col(),
            });
            plan.push(Step::new(Phase::Columns, format!("set not null on {tl}.{}", c.name), statements));
        }
        if c.docs != oc.docs {
            plan.push(comment(&table, &tl, c, oc.docs.clone()));
        }
    }
    for oc in o.columns.iter().filter(|oc| renames.column(&t.schema, &t.name, &oc.name).is_none()) {
        plan.push(Step::new(
            Phase::Drop,
            format!("drop column {tl}.{}", oc.name),
            vec![Statement::DropColumn {
                table: table.clone(),
                column: oc.name.clone(),
            }],
        ));
    }
}

/// A new column. NOT NULL without a default needs values for the rows the
/// table already has: with `@backfill` it is added nullable, filled, then
/// made NOT NULL; without, the lint refuses it.
fn add_column(hub: &ir::Hub, t: &ir::Table, c: &ir::Column) -> Step {
    let table = Name::of(t);
    let summary = format!("add column {}.{}", label(t), c.name);
    let def = ColumnDef::of(hub, c);
    match &c.backfill {
        Some(expr) if def.not_null && def.default.is_none() && def.generated.is_none() => Step::owning(
            Phase::Columns,
            summary,
            vec![
                Statement::AddColumn {
                    table: table.clone(),
                    column: ColumnDef { not_null: false, ..def },
                },
                Statement::Backfill {
                    table: table.clone(),
                    column: c.name.clone(),
                    expr: expr.clone(),
                },
                Statement::Guard(Guard::NoNulls {
                    table: table.clone(),
                    column: c.name.clone(),
                }),
                Statement::SetNotNull {
                    table,
                    column: c.name.clone(),
                },
            ],
        ),
        _ => Step::new(Phase::Columns, summary, vec![Statement::AddColumn { table, column: def }]),
    }
}

/// A type change: the default comes off first (PostgreSQL cannot always
/// cast it) and goes back on after; narrowing and conversions check that
/// every value survives before anything changes.
fn retype(hub: &ir::Hub, table: &Name, tl: &str, oc: &ir::Column, c: &ir::Column) -> Step {
    let change = match (&oc.encrypted, &c.encrypted) {
        (None, Some(_)) => TypeChange::Encrypt,
        (Some(_), None) => TypeChange::Decrypt,
        _ => types::classify(&oc.ty, &c.ty),
    };
    let (from, to) = (column_type(hub, &oc.ty), column_type(hub, &c.ty));
    let column = c.name.clone();
    let mut statements = Vec::new();
    if oc.default.is_some() {
        statements.push(Statement::SetDefault {
            table: table.clone(),
            column: column.clone(),
            default: None,
            previous: oc.default.clone(),
        });
    }
    match change {
        TypeChange::Narrowing => statements.push(Statement::Guard(Guard::Fits {
            table: table.clone(),
            column: column.clone(),
            to: to.clone(),
            from: from.clone(),
        })),
        TypeChange::Conversion => statements.push(Statement::Guard(Guard::Converts {
            table: table.clone(),
            column: column.clone(),
            to: to.clone(),
        })),
        TypeChange::Decrypt => statements.push(Statement::Guard(Guard::Unsealed {
            table: table.clone(),
            column: column.clone(),
        })),
        TypeChange::Widening | TypeChange::WideningRewrite | TypeChange::Encrypt => {}
    }
    statements.push(Statement::AlterType {
        table: table.clone(),
        column: column.clone(),
        from: from.clone(),
        to: to.clone(),
        change,
    });
    if c.default.is_some() {
        statements.push(Statement::SetDefault {
            table: table.clone(),
            column,
            default: c.default.clone(),
            previous: None,
        });
    }
    let summary = match change {
        TypeChange::Encrypt => format!("encrypt {tl}.{}", c.name),
        TypeChange::Decrypt => format!("decrypt {tl}.{} (back to {to})", c.name),
        _ => format!("change type of {tl}.{} from {from} to {to}", c.name),
    };
    Step::new(Phase::Columns, summary, statements)
}

fn comment(table: &Name, tl: &str, c: &ir::Column, previous: Option<String>) -> Step {
    Step::new(
        Phase::Comments,
        format!("comment on column {tl}.{}", c.name),
        vec![Statement::Comment {
            object: Object::Column(table.clone(), c.name.clone()),
            text: c.docs.clone(),
            previous,
        }],
    )
}
