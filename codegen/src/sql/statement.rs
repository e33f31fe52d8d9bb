//! A migration is a list of typed statements. This module is the one place
//! they become SQL text; each statement also knows the lock it takes, its
//! inverse (or that it has none) and whether it may run in a transaction.

use super::quote::{ident, ident_list, literal, qualified};
use crate::plan::TypeChange;
use hubgen_schema::ast::FkAction;
use hubgen_schema::ir;
use std::fmt::Write;

/// A schema-qualified object name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Name {
    pub schema: String,
    pub name: String,
}

impl Name {
    pub fn new(schema: &str, name: &str) -> Name {
        Name {
            schema: schema.to_string(),
            name: name.to_string(),
        }
    }

    pub fn of(table: &ir::Table) -> Name {
        Name::new(&table.schema, &table.name)
    }

    /// `"schema"."name"`
    pub fn sql(&self) -> String {
        qualified(&self.schema, &self.name)
    }

    /// `schema.name`, as messages and acknowledgements spell it.
    pub fn label(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    /// A sibling object in the same schema (an index, a partition).
    pub fn sibling(&self, name: &str) -> Name {
        Name::new(&self.schema, name)
    }
}

/// One column of a CREATE TABLE or ADD COLUMN, its type already spelled in SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDef {
    pub name: String,
    pub ty: String,
    pub generated: Option<String>,
    pub default: Option<String>,
    pub not_null: bool,
}

impl ColumnDef {
    pub fn of(hub: &ir::Hub, column: &ir::Column) -> ColumnDef {
        ColumnDef {
            name: column.name.clone(),
            ty: super::column_type(hub, &column.ty),
            generated: column.generated.clone(),
            default: column.default.clone(),
            not_null: !column.nullable,
        }
    }

    fn sql(&self) -> String {
        let mut line = format!("{} {}", ident(&self.name), self.ty);
        if let Some(expr) = &self.generated {
            let _ = write!(line, " GENERATED ALWAYS AS ({expr}) STORED");
        }
        if let Some(default) = &self.default {
            let _ = write!(line, " DEFAULT {default}");
        }
        if self.not_null {
            line.push_str(" NOT NULL");
        }
        line
    }
}

/// A table constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraint {
    PrimaryKey(ir::Key),
    Unique(ir::Key),
    Check(ir::Check),
    ForeignKey(ir::ForeignKey),
}

impl Constraint {
    pub fn name(&self) -> &str {
        match self {
            Constraint::PrimaryKey(k) | Constraint::Unique(k) => &k.name,
            Constraint::Check(c) => &c.name,
            Constraint::ForeignKey(fk) => &fk.name,
        }
    }

    /// `primary key`, `unique`, `check`, `foreign key`: for summaries.
    pub fn kind(&self) -> &'static str {
        match self {
            Constraint::PrimaryKey(_) => "primary key",
            Constraint::Unique(_) => "unique",
            Constraint::Check(_) => "check",
            Constraint::ForeignKey(_) => "foreign key",
        }
    }

    fn sql(&self) -> String {
        let body = match self {
            Constraint::PrimaryKey(k) => format!("PRIMARY KEY {}", ident_list(&k.columns)),
            Constraint::Unique(k) => format!("UNIQUE {}", ident_list(&k.columns)),
            Constraint::Check(c) => format!("CHECK ({})", c.expr),
            Constraint::ForeignKey(fk) => {
                let mut sql = format!(
                    "FOREIGN KEY {} REFERENCES {} {}",
                    ident_list(&fk.columns),
                    qualified(&fk.ref_schema, &fk.ref_table),
                    ident_list(&fk.ref_columns)
                );
                for (action, label) in [(fk.on_delete, "DELETE"), (fk.on_update, "UPDATE")] {
                    if action != FkAction::NoAction {
                        let _ = write!(sql, " ON {label} {}", action.sql().to_uppercase());
                    }
                }
                sql
            }
        };
        format!("CONSTRAINT {} {body}", ident(self.name()))
    }
}

/// A row-level security policy: the tenant policy (every role, every
/// command) or one the schema declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDef {
    pub name: String,
    /// `None`: every command.
    pub command: Option<String>,
    /// `None`: every role.
    pub role: Option<String>,
    pub using: Option<String>,
    pub with_check: Option<String>,
}

/// What a grant, an owner change or a comment applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Object {
    Schema(String),
    Type(Name),
    Table(Name),
    Column(Name, String),
}

impl Object {
    fn sql(&self) -> String {
        match self {
            Object::Schema(s) => format!("SCHEMA {}", ident(s)),
            Object::Type(n) => format!("TYPE {}", n.sql()),
            Object::Table(n) => format!("TABLE {}", n.sql()),
            Object::Column(n, c) => format!("COLUMN {}.{}", n.sql(), ident(c)),
        }
    }
}

/// A check of the data before a step that could otherwise lose it or fail
/// half-way: it counts the offending rows and stops the migration, naming
/// the table, the column and the count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guard {
    /// Every value converts to `to` (a `USING` conversion).
    Converts { table: Name, column: String, to: String },
    /// Every value converts to `to` and back unchanged (narrowing).
    Fits {
        table: Name,
        column: String,
        to: String,
        from: String,
    },
    /// No value is NULL (before SET NOT NULL).
    NoNulls { table: Name, column: String },
    /// No value of an encrypted column is sealed yet (before it becomes text again).
    Unsealed { table: Name, column: String },
}

/// One statement of a migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    /// Roles are cluster-wide: created only when missing, never dropped by a hub.
    CreateRole {
        name: String,
        bypass_rls: Option<bool>,
    },
    /// A declared role starts or stops bypassing row-level security.
    AlterRole {
        name: String,
        bypass_rls: bool,
    },
    /// `member` gets `role`'s privileges (the platform role those of the
    /// application role). Cluster-wide like roles: kept on undo.
    GrantRole {
        role: String,
        member: String,
    },
    CreateSchema {
        name: String,
    },
    DropSchema {
        name: String,
    },
    CreateExtension {
        name: String,
    },
    SetOwner {
        object: Object,
        owner: String,
    },
    CreateEnum {
        name: Name,
        values: Vec<String>,
    },
    AddEnumValue {
        name: Name,
        value: String,
        after: Option<String>,
    },
    DropEnum {
        name: Name,
    },
    CreateTable {
        name: Name,
        columns: Vec<ColumnDef>,
        constraints: Vec<Constraint>,
        /// `RANGE ("occurred_at")`
        partition_by: Option<String>,
    },
    DropTable {
        name: Name,
    },
    RenameTable {
        from: Name,
        to: String,
    },
    CreatePartition {
        name: Name,
        parent: Name,
        /// `FOR VALUES FROM (...) TO (...)`, `FOR VALUES IN (...)`, `DEFAULT`, ...
        bound: String,
    },
    DropPartition {
        name: Name,
        parent: Name,
    },
    AddColumn {
        table: Name,
        column: ColumnDef,
    },
    DropColumn {
        table: Name,
        column: String,
    },
    RenameColumn {
        table: Name,
        from: String,
        to: String,
    },
    AlterType {
        table: Name,
        column: String,
        from: String,
        to: String,
        change: TypeChange,
    },
    SetDefault {
        table: Name,
        column: String,
        default: Option<String>,
        previous: Option<String>,
    },
    SetNotNull {
        table: Name,
        column: String,
    },
    DropNotNull {
        table: Name,
        column: String,
    },
    /// Fills NULLs of a column before it becomes NOT NULL.
    Backfill {
        table: Name,
        column: String,
        expr: String,
    },
    Guard(Guard),
    AddConstraint {
        table: Name,
        constraint: Constraint,
        /// Existing rows are checked later, by VALIDATE, under a weaker lock.
        not_valid: bool,
    },
    /// A unique or primary key constraint adopting an index built concurrently.
    AddConstraintUsingIndex {
        table: Name,
        constraint: Constraint,
    },
    ValidateConstraint {
        table: Name,
        name: String,
    },
    DropConstraint {
        table: Name,
        constraint: Constraint,
    },
    RenameConstraint {
        table: Name,
        from: String,
        to: String,
    },
    CreateIndex {
        table: Name,
        index: ir::Index,
        concurrently: bool,
    },
    DropIndex {
        table: Name,
        index: ir::Index,
        concurrently: bool,
    },
    RenameIndex {
        table: Name,
        from: String,
        to: String,
    },
    /// ENABLE and FORCE (or NO FORCE and DISABLE) row-level security.
    RowSecurity {
        table: Name,
        enabled: bool,
    },
    CreatePolicy {
        table: Name,
        policy: PolicyDef,
    },
    DropPolicy {
        table: Name,
        policy: PolicyDef,
    },
    Grant {
        object: Object,
        privileges: Vec<String>,
        roles: Vec<String>,
    },
    Revoke {
        object: Object,
        privileges: Vec<String>,
        roles: Vec<String>,
    },
    Comment {
        object: Object,
        text: Option<String>,
        previous: Option<String>,
    },
    /// pg_partman keeps the table's partitions from now on (and makes those
    /// around the day it is applied). `kept`: partitions that existed before,
    /// which removing the upkeep again must not drop.
    ConfigureUpkeep {
        table: Name,
        column: String,
        upkeep: ir::Upkeep,
        kept: Vec<String>,
    },
    /// A tenant's copy of a table joins pg_partman like the template's table.
    ConfigureUpkeepLike {
        table: Name,
        template: Name,
    },
    /// Premake, retention or archiving changed (same interval).
    ReconfigureUpkeep {
        table: Name,
        upkeep: ir::Upkeep,
        previous: ir::Upkeep,
    },
    /// The table leaves pg_partman; the empty partitions it made are dropped.
    RemoveUpkeep {
        table: Name,
        column: String,
        upkeep: ir::Upkeep,
        kept: Vec<String>,
    },
    /// hubgen's helper functions (`hubgen.secure_partitions`), replaced if present.
    InstallHelpers,
    /// Every partition gets the parent's row-level security, policies and grants.
    SecurePartitions {
        table: Name,
    },
    /// The hub's audit trigger functions, replaced if present (undone by
    /// the `previous` ones, which name the audit log as it was).
    InstallAudit {
        functions: Box<super::audit::Functions>,
        previous: Option<Box<super::audit::Functions>>,
    },
    /// Every insert, update and delete on `table` writes an audit row.
    CreateAuditTrigger {
        table: Name,
        trigger: super::audit::Trigger,
    },
    DropAuditTrigger {
        table: Name,
        trigger: super::audit::Trigger,
    },
    /// The hub's erase function, replaced if present (undone by the
    /// `previous` one, or dropped when there was none).
    InstallErasure {
        function: Box<super::erasure::Function>,
        previous: Option<Box<super::erasure::Function>>,
    },
    DropErasure {
        function: Box<super::erasure::Function>,
    },
}

/// The table-level lock a statement takes, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LockMode {
    /// A new object, or one nothing else can be using yet.
    None,
    /// Reads rows (a data guard): blocks only DDL.
    AccessShare,
    /// Writes rows (a backfill): blocks only DDL and other writers of the same rows.
    RowExclusive,
    /// VALIDATE, CREATE INDEX CONCURRENTLY: reads and writes go on.
    ShareUpdateExclusive,
    /// CREATE INDEX: blocks writes while the index builds.
    Share,
    /// ADD FOREIGN KEY: blocks writes on both tables.
    ShareRowExclusive,
    /// Most ALTER TABLE forms: blocks reads and writes.
    AccessExclusive,
}

impl LockMode {
    pub fn as_str(self) -> &'static str {
        match self {
            LockMode::None => "none",
            LockMode::AccessShare => "ACCESS SHARE",
            LockMode::RowExclusive => "ROW EXCLUSIVE",
            LockMode::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            LockMode::Share => "SHARE",
            LockMode::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            LockMode::AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }
}

/// How a statement is undone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inverse {
    /// These statements, in this order.
    Undo(Vec<Statement>),
    /// Nothing to undo that matters (a role other databases may share, a data check).
    Keep,
    /// It cannot be undone without losing data (or PostgreSQL cannot).
    Irreversible,
}

impl Statement {
    /// The lock this statement takes on the table it touches, if any.
    pub fn lock(&self) -> LockMode {
        use Statement::*;
        match self {
            CreateRole { .. }
            | AlterRole { .. }
            | GrantRole { .. }
            | CreateSchema { .. }
            | DropSchema { .. }
            | CreateExtension { .. }
            | InstallHelpers
            | InstallAudit { .. }
            | InstallErasure { .. }
            | DropErasure { .. }
            | CreateEnum { .. }
            | CreateTable { .. } => LockMode::None,
            Guard(_) => LockMode::AccessShare,
            Backfill { .. } => LockMode::RowExclusive,
            ValidateConstraint { .. } => LockMode::ShareUpdateExclusive,
            CreateIndex { concurrently: true, .. } | DropIndex { concurrently: true, .. } => LockMode::ShareUpdateExclusive,
            CreateIndex { .. } => LockMode::Share,
            AddConstraint {
                constraint: Constraint::ForeignKey(_),
                ..
            }
            | CreateAuditTrigger { .. } => LockMode::ShareRowExclusive,
            _ => LockMode::AccessExclusive,
        }
    }

    /// The table the lock is taken on.
    pub fn table(&self) -> Option<&Name> {
        use Statement::*;
        match self {
            DropTable { name } | CreateTable { name, .. } => Some(name),
            RenameTable { from, .. } => Some(from),
            CreatePartition { parent, .. } | DropPartition { parent, .. } => Some(parent),
            AddColumn { table, .. }
            | DropColumn { table, .. }
            | RenameColumn { table, .. }
            | AlterType { table, .. }
            | SetDefault { table, .. }
            | SetNotNull { table, .. }
            | DropNotNull { table, .. }
            | Backfill { table, .. }
            | AddConstraint { table, .. }
            | AddConstraintUsingIndex { table, .. }
            | ValidateConstraint { table, .. }
            | DropConstraint { table, .. }
            | RenameConstraint { table, .. }
            | CreateIndex { table, .. }
            | DropIndex { table, .. }
            | RenameIndex { table, .. }
            | RowSecurity { table, .. }
            | CreatePolicy { table, .. }
            | DropPolicy { table, .. }
            | ConfigureUpkeep { table, .. }
            | ConfigureUpkeepLike { table, .. }
            | ReconfigureUpkeep { table, .. }
            | RemoveUpkeep { table, .. }
            | CreateAuditTrigger { table, .. }
            | DropAuditTrigger { table, .. }
            | SecurePartitions { table } => Some(table),
            Guard(g) => Some(match g {
                self::Guard::Converts { table, .. }
                | self::Guard::Fits { table, .. }
                | self::Guard::NoNulls { table, .. }
                | self::Guard::Unsealed { table, .. } => table,
            }),
            _ => None,
        }
    }

    /// PostgreSQL refuses these inside a transaction block, and inside a
    /// string of several statements (which it runs as one transaction).
    pub fn needs_no_transaction(&self) -> bool {
        matches!(
            self,
            Statement::CreateIndex { concurrently: true, .. } | Statement::DropIndex { concurrently: true, .. }
        )
    }

    pub fn inverse(&self) -> Inverse {
        use Statement::*;
        let undo = |s: Statement| Inverse::Undo(vec![s]);
        match self.clone() {
            CreateRole { .. } | GrantRole { .. } | CreateExtension { .. } | Guard(_) | ValidateConstraint { .. } | Backfill { .. } => {
                Inverse::Keep
            }
            // The owner only changes with the object, which its own inverse handles.
            // Partitions stay secured while they exist.
            // Helpers stay: migrations before this one may rely on them.
            SetOwner { .. } | SecurePartitions { .. } | InstallHelpers | InstallAudit { previous: None, .. } => Inverse::Keep,
            InstallAudit {
                functions,
                previous: Some(previous),
            } => undo(InstallAudit {
                functions: previous,
                previous: Some(functions),
            }),
            InstallErasure { function, previous: None } => undo(DropErasure { function }),
            InstallErasure {
                function,
                previous: Some(previous),
            } => undo(InstallErasure {
                function: previous,
                previous: Some(function),
            }),
            DropErasure { function } => undo(InstallErasure { function, previous: None }),
            CreateAuditTrigger { table, trigger } => undo(DropAuditTrigger { table, trigger }),
            DropAuditTrigger { table, trigger } => undo(CreateAuditTrigger { table, trigger }),
            // Tenant scripts run forward only.
            ConfigureUpkeepLike { .. } => Inverse::Irreversible,
            ConfigureUpkeep {
                table,
                column,
                upkeep,
                kept,
            } => undo(RemoveUpkeep {
                table,
                column,
                upkeep,
                kept,
            }),
            RemoveUpkeep {
                table,
                column,
                upkeep,
                kept,
            } => undo(ConfigureUpkeep {
                table,
                column,
                upkeep,
                kept,
            }),
            ReconfigureUpkeep { table, upkeep, previous } => undo(ReconfigureUpkeep {
                table,
                upkeep: previous,
                previous: upkeep,
            }),
            AlterRole { name, bypass_rls } => undo(AlterRole {
                name,
                bypass_rls: !bypass_rls,
            }),
            CreateSchema { name } => undo(DropSchema { name }),
            CreateEnum { name, .. } => undo(DropEnum { name }),
            CreateTable { name, .. } => undo(DropTable { name }),
            CreatePartition { name, parent, .. } => undo(DropPartition { name, parent }),
            RenameTable { from, to } => undo(RenameTable {
                from: from.sibling(&to),
                to: from.name,
            }),
            AddColumn { table, column } => undo(DropColumn {
                table,
                column: column.name,
            }),
            RenameColumn { table, from, to } => undo(RenameColumn { table, from: to, to: from }),
            AlterType {
                table,
                column,
                from,
                to,
                change,
            } => match change {
                // Back to the narrower type: check the values written since, then narrow.
                TypeChange::Widening | TypeChange::WideningRewrite => Inverse::Undo(vec![
                    Guard(self::Guard::Fits {
                        table: table.clone(),
                        column: column.clone(),
                        to: from.clone(),
                        from: to.clone(),
                    }),
                    AlterType {
                        table,
                        column,
                        from: to,
                        to: from,
                        change: TypeChange::Narrowing,
                    },
                ]),
                TypeChange::Narrowing | TypeChange::Conversion => Inverse::Irreversible,
                TypeChange::Encrypt => Inverse::Undo(vec![
                    Guard(self::Guard::Unsealed {
                        table: table.clone(),
                        column: column.clone(),
                    }),
                    AlterType {
                        table,
                        column,
                        from: to,
                        to: from,
                        change: TypeChange::Decrypt,
                    },
                ]),
                TypeChange::Decrypt => undo(AlterType {
                    table,
                    column,
                    from: to,
                    to: from,
                    change: TypeChange::Encrypt,
                }),
            },
            SetDefault {
                table,
                column,
                default,
                previous,
            } => undo(SetDefault {
                table,
                column,
                default: previous,
                previous: default,
            }),
            SetNotNull { table, column } => undo(DropNotNull { table, column }),
            DropNotNull { table, column } => Inverse::Undo(vec![
                Guard(self::Guard::NoNulls {
                    table: table.clone(),
                    column: column.clone(),
                }),
                SetNotNull { table, column },
            ]),
            AddConstraint { table, constraint, .. } | AddConstraintUsingIndex { table, constraint } => {
                undo(DropConstraint { table, constraint })
            }
            DropConstraint { table, constraint } => undo(AddConstraint {
                table,
                constraint,
                not_valid: false,
            }),
            RenameConstraint { table, from, to } => undo(RenameConstraint { table, from: to, to: from }),
            CreateIndex {
                table,
                index,
                concurrently,
            } => undo(DropIndex {
                table,
                index,
                concurrently,
            }),
            DropIndex {
                table,
                index,
                concurrently,
            } => undo(CreateIndex {
                table,
                index,
                concurrently,
            }),
            RenameIndex { table, from, to } => undo(RenameIndex { table, from: to, to: from }),
            RowSecurity { table, enabled } => undo(RowSecurity { table, enabled: !enabled }),
            CreatePolicy { table, policy } => undo(DropPolicy { table, policy }),
            DropPolicy { table, policy } => undo(CreatePolicy { table, policy }),
            Grant { object, privileges, roles } => undo(Revoke { object, privileges, roles }),
            Revoke { object, privileges, roles } => undo(Grant { object, privileges, roles }),
            Comment { object, text, previous } => undo(Comment {
                object,
                text: previous,
                previous: text,
            }),
            DropSchema { .. } | AddEnumValue { .. } | DropEnum { .. } | DropTable { .. } | DropPartition { .. } | DropColumn { .. } => {
                Inverse::Irreversible
            }
        }
    }

    /// The SQL text, ending in a newline.
    pub fn sql(&self) -> String {
        use Statement::*;
        let alter = |table: &Name, rest: String| format!("ALTER TABLE {} {rest};\n", table.sql());
        match self {
            CreateRole { name, bypass_rls } => {
                let options = match bypass_rls {
                    None => "NOLOGIN",
                    Some(false) => "NOLOGIN NOBYPASSRLS",
                    Some(true) => "NOLOGIN BYPASSRLS",
                };
                format!(
                    "DO $$ BEGIN CREATE ROLE {} {options}; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;\n",
                    ident(name)
                )
            }
            // Roles are cluster-wide: databases migrating at once would race on
            // the same catalog row ("tuple concurrently updated"), so the change
            // is serialized by an advisory lock and made only when still needed.
            AlterRole { name, bypass_rls } => format!(
                "DO $$ BEGIN PERFORM pg_advisory_xact_lock(hashtext({lock})); \
                 IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {role} AND rolbypassrls <> {bypass_rls}) \
                 THEN ALTER ROLE {} {}; END IF; END $$;\n",
                ident(name),
                if *bypass_rls { "BYPASSRLS" } else { "NOBYPASSRLS" },
                lock = literal(&format!("hubgen role {name}")),
                role = literal(name),
            ),
            GrantRole { role, member } => format!("GRANT {} TO {};\n", ident(role), ident(member)),
            CreateSchema { name } => format!("CREATE SCHEMA IF NOT EXISTS {};\n", ident(name)),
            DropSchema { name } => format!("DROP SCHEMA {};\n", ident(name)),
            CreateExtension { name } => format!("CREATE EXTENSION IF NOT EXISTS {};\n", ident(name)),
            SetOwner { object, owner } => format!("ALTER {} OWNER TO {};\n", object.sql(), ident(owner)),
            CreateEnum { name, values } => {
                let values: Vec<String> = values.iter().map(|v| literal(v)).collect();
                format!("CREATE TYPE {} AS ENUM ({});\n", name.sql(), values.join(", "))
            }
            AddEnumValue { name, value, after } => {
                let after = after.as_ref().map(|a| format!(" AFTER {}", literal(a))).unwrap_or_default();
                format!("ALTER TYPE {} ADD VALUE IF NOT EXISTS {}{after};\n", name.sql(), literal(value))
            }
            DropEnum { name } => format!("DROP TYPE {};\n", name.sql()),
            CreateTable {
                name,
                columns,
                constraints,
                partition_by,
            } => {
                let lines: Vec<String> = columns
                    .iter()
                    .map(ColumnDef::sql)
                    .chain(constraints.iter().map(Constraint::sql))
                    .collect();
                let mut sql = format!("CREATE TABLE {} (\n    {}\n)", name.sql(), lines.join(",\n    "));
                if let Some(key) = partition_by {
                    let _ = write!(sql, " PARTITION BY {key}");
                }
                sql.push_str(";\n");
                sql
            }
            DropTable { name } | DropPartition { name, .. } => format!("DROP TABLE {};\n", name.sql()),
            RenameTable { from, to } => alter(from, format!("RENAME TO {}", ident(to))),
            CreatePartition { name, parent, bound } => {
                format!("CREATE TABLE {} PARTITION OF {} {bound};\n", name.sql(), parent.sql())
            }
            AddColumn { table, column } => alter(table, format!("ADD COLUMN {}", column.sql())),
            DropColumn { table, column } => alter(table, format!("DROP COLUMN {}", ident(column))),
            RenameColumn { table, from, to } => alter(table, format!("RENAME COLUMN {} TO {}", ident(from), ident(to))),
            AlterType {
                table, column, to, change, ..
            } => {
                // Narrowing relies on the assignment cast, which fails on a value
                // that does not fit instead of truncating it as `::` would.
                let using = match change {
                    TypeChange::Widening | TypeChange::Narrowing => String::new(),
                    TypeChange::WideningRewrite | TypeChange::Conversion => format!(" USING {}::{to}", ident(column)),
                    TypeChange::Encrypt => format!(" USING '\\x00'::bytea || convert_to({}, 'UTF8')", ident(column)),
                    TypeChange::Decrypt => format!(" USING convert_from(substring({} from 2), 'UTF8')::{to}", ident(column)),
                };
                alter(table, format!("ALTER COLUMN {} TYPE {to}{using}", ident(column)))
            }
            SetDefault {
                table, column, default, ..
            } => match default {
                Some(d) => alter(table, format!("ALTER COLUMN {} SET DEFAULT {d}", ident(column))),
                None => alter(table, format!("ALTER COLUMN {} DROP DEFAULT", ident(column))),
            },
            SetNotNull { table, column } => alter(table, format!("ALTER COLUMN {} SET NOT NULL", ident(column))),
            DropNotNull { table, column } => alter(table, format!("ALTER COLUMN {} DROP NOT NULL", ident(column))),
            Backfill { table, column, expr } => format!(
                "UPDATE {} SET {col} = {expr} WHERE {col} IS NULL;\n",
                table.sql(),
                col = ident(column)
            ),
            Guard(guard) => guard_sql(guard),
            AddConstraint {
                table,
                constraint,
                not_valid,
            } => alter(
                table,
                format!("ADD {}{}", constraint.sql(), if *not_valid { " NOT VALID" } else { "" }),
            ),
            AddConstraintUsingIndex { table, constraint } => {
                let kind = if matches!(constraint, Constraint::PrimaryKey(_)) {
                    "PRIMARY KEY"
                } else {
                    "UNIQUE"
                };
                let name = ident(constraint.name());
                alter(table, format!("ADD CONSTRAINT {name} {kind} USING INDEX {name}"))
            }
            ValidateConstraint { table, name } => alter(table, format!("VALIDATE CONSTRAINT {}", ident(name))),
            DropConstraint { table, constraint } => alter(table, format!("DROP CONSTRAINT {}", ident(constraint.name()))),
            RenameConstraint { table, from, to } => alter(table, format!("RENAME CONSTRAINT {} TO {}", ident(from), ident(to))),
            CreateIndex {
                table,
                index,
                concurrently,
            } => create_index(table, index, *concurrently),
            DropIndex {
                table,
                index,
                concurrently,
            } => format!(
                // Concurrent drops undo concurrent builds, whose index may already be gone with its constraint.
                "DROP INDEX {}{};\n",
                if *concurrently { "CONCURRENTLY IF EXISTS " } else { "" },
                table.sibling(&index.name).sql()
            ),
            RenameIndex { table, from, to } => format!("ALTER INDEX {} RENAME TO {};\n", table.sibling(from).sql(), ident(to)),
            RowSecurity { table, enabled: true } => format!(
                "ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;\nALTER TABLE {t} FORCE ROW LEVEL SECURITY;\n",
                t = table.sql()
            ),
            RowSecurity { table, enabled: false } => format!(
                "ALTER TABLE {t} NO FORCE ROW LEVEL SECURITY;\nALTER TABLE {t} DISABLE ROW LEVEL SECURITY;\n",
                t = table.sql()
            ),
            CreatePolicy { table, policy } => {
                let mut sql = format!("CREATE POLICY {} ON {}", ident(&policy.name), table.sql());
                if let Some(command) = &policy.command {
                    let _ = write!(sql, " FOR {}", command.to_uppercase());
                }
                if let Some(role) = &policy.role {
                    let _ = write!(sql, " TO {}", ident(role));
                }
                if let Some(using) = &policy.using {
                    let _ = write!(sql, " USING ({using})");
                }
                if let Some(check) = &policy.with_check {
                    let _ = write!(sql, " WITH CHECK ({check})");
                }
                sql.push_str(";\n");
                sql
            }
            DropPolicy { table, policy } => format!("DROP POLICY {} ON {};\n", ident(&policy.name), table.sql()),
            Grant { object, privileges, roles } => {
                format!("GRANT {} ON {} TO {};\n", privileges.join(", "), object.sql(), role_list(roles))
            }
            Revoke { object, privileges, roles } => {
                format!("REVOKE {} ON {} FROM {};\n", privileges.join(", "), object.sql(), role_list(roles))
            }
            Comment { object, text, .. } => format!(
                "COMMENT ON {} IS {};\n",
                object.sql(),
                text.as_deref().map_or_else(|| "NULL".to_string(), literal)
            ),
            ConfigureUpkeep { table, column, upkeep, .. } => super::upkeep::configure(table, column, upkeep),
            ConfigureUpkeepLike { table, template } => super::upkeep::configure_like(table, template),
            ReconfigureUpkeep { table, upkeep, .. } => super::upkeep::reconfigure(table, upkeep),
            RemoveUpkeep { table, kept, .. } => super::upkeep::remove(table, kept),
            InstallHelpers => super::upkeep::install_helpers(),
            SecurePartitions { table } => super::upkeep::secure_partitions(table),
            InstallAudit { functions, .. } => super::audit::install(functions),
            CreateAuditTrigger { table, trigger } => super::audit::create_triggers(table, trigger),
            DropAuditTrigger { table, trigger } => super::audit::drop_triggers(table, trigger),
            InstallErasure { function, .. } => super::erasure::install(function),
            DropErasure { function } => super::erasure::drop(function),
        }
    }
}

fn role_list(roles: &[String]) -> String {
    roles.iter().map(|r| ident(r)).collect::<Vec<_>>().join(", ")
}

/// `CREATE [UNIQUE] INDEX [CONCURRENTLY] name ON table [USING method] (columns) [WHERE (predicate)];`
fn create_index(table: &Name, index: &ir::Index, concurrently: bool) -> String {
    let columns: Vec<String> = index
        .columns
        .iter()
        .map(|c| format!("{}{}", ident(&c.name), if c.descending { " DESC" } else { "" }))
        .collect();
    let mut sql = format!(
        "CREATE {}INDEX {}{} ON {}{} ({})",
        if index.unique { "UNIQUE " } else { "" },
        if concurrently { "CONCURRENTLY " } else { "" },
        ident(&index.name),
        table.sql(),
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

/// A DO block that counts the rows a step would lose or fail on, and stops
/// the migration (rolling back everything before it) when there are any.
/// One set-based query decides; only when a value cannot be cast at all are
/// the rows counted one by one.
fn guard_sql(guard: &Guard) -> String {
    // RAISE formats with `%`: escape it in everything but the count's placeholder.
    let escape = |s: &str| s.replace('%', "%%");
    let (table, column, count, problem, hint) = match guard {
        Guard::NoNulls { table, column } => (
            table,
            column,
            format!("SELECT count(*) INTO bad FROM {} WHERE {} IS NULL;", table.sql(), ident(column)),
            "NULL".to_string(),
            format!("fill them first, or declare how in the schema: `@backfill(<sql>)` on `{column}`"),
        ),
        Guard::Unsealed { table, column } => (
            table,
            column,
            format!(
                "SELECT count(*) INTO bad FROM {} WHERE get_byte({}, 0) <> 0;",
                table.sql(),
                ident(column)
            ),
            "a sealed (encrypted) value".to_string(),
            "the database has no keys: decrypt those values in the service first, or keep the column encrypted".to_string(),
        ),
        Guard::Converts { table, column, to } | Guard::Fits { table, column, to, .. } => {
            let col = ident(column);
            let (fast, row) = match guard {
                Guard::Fits { from, .. } => (
                    format!(
                        "SELECT count(*) INTO bad FROM {} WHERE {col} IS NOT NULL AND ({col}::{to})::{from} IS DISTINCT FROM {col};",
                        table.sql()
                    ),
                    format!("IF (r.v::{to})::{from} IS DISTINCT FROM r.v THEN bad := bad + 1; END IF;"),
                ),
                _ => (
                    format!("PERFORM count({col}::{to}) FROM {};", table.sql()),
                    format!("PERFORM r.v::{to};"),
                ),
            };
            (
                table,
                column,
                format!(
                    "BEGIN\n    {fast}\n  EXCEPTION WHEN others THEN\n    bad := 0;\n    FOR r IN SELECT {col} AS v FROM {} WHERE {col} IS NOT NULL LOOP\n      BEGIN\n        {row}\n      EXCEPTION WHEN others THEN bad := bad + 1;\n      END;\n    END LOOP;\n  END;",
                    table.sql()
                ),
                format!("a value that does not convert to {to} unchanged"),
                "change or delete those rows first, or keep the column's type".to_string(),
            )
        }
    };
    let message = literal(&format!(
        "hubgen: {}.{}: % row(s) hold {}; the migration stopped before changing anything",
        escape(&table.label()),
        escape(column),
        escape(&problem)
    ));
    format!(
        "DO $hubgen$\nDECLARE\n  bad bigint := 0;\n  r record;\nBEGIN\n  {count}\n  IF bad > 0 THEN\n    RAISE EXCEPTION {message}, bad USING HINT = {};\n  END IF;\nEND\n$hubgen$;\n",
        literal(&hint)
    )
}
