//! The syntax tree, exactly as written (mixins not yet expanded, names not
//! yet resolved). Every node carries its span; comments ride along so the
//! formatter can put them back.

use crate::span::Span;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// Comments and doc comments around an item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trivia {
    /// Comment and doc-comment lines above the item, as written and in
    /// order (an empty string is a blank line that detaches them).
    pub leading: Vec<String>,
    /// A `//` comment at the end of the item's (first) line.
    pub trailing: Option<String>,
}

impl Trivia {
    /// The text of the `///` lines above the item, without the slashes.
    pub fn docs(&self) -> Vec<&str> {
        self.leading
            .iter()
            .filter_map(|l| l.strip_prefix("///"))
            .map(|d| d.strip_prefix(' ').unwrap_or(d))
            .collect()
    }
}

#[derive(Debug, Clone, Default)]
pub struct SchemaFile {
    pub items: Vec<Item>,
    /// Comments after the last item.
    pub dangling: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum Item {
    Hub(Hub),
    Mixin(Mixin),
    /// A setting of every hub.
    Setting(Setting),
}

/// `set lock_timeout '10s'`: at the top level for every hub, in a hub for
/// that hub alone (it wins over the top level).
#[derive(Debug, Clone)]
pub struct Setting {
    pub trivia: Trivia,
    pub name: Ident,
    pub value: String,
    pub value_span: Span,
}

#[derive(Debug, Clone)]
pub struct Hub {
    pub trivia: Trivia,
    pub name: Ident,
    pub database: Option<Ident>,
    pub readonly: bool,
    pub items: Vec<HubItem>,
    pub dangling: Vec<String>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum HubItem {
    Table(Table),
    Enum(EnumDef),
    Mixin(Mixin),
    Role(RoleDef),
    Extension(Extension),
    /// `schema name { ... }`: a PostgreSQL schema inside the hub's database.
    Schema(SchemaBlock),
    /// `acknowledge destructive customers.age`: the next migration may drop or narrow it.
    Acknowledge(Acknowledge),
    Setting(Setting),
    /// `distributed by tenant_id`: the hub is laid out for Citus.
    Distributed(Distributed),
    /// `schedule maintenance '0 2 * * *'`: pg_cron runs the partition upkeep.
    Schedule(Schedule),
}

#[derive(Debug, Clone)]
pub struct Schedule {
    pub trivia: Trivia,
    /// A cron expression, quoted as written.
    pub cron: Expr,
}

/// `partition by range|list|hash (column)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionMethod {
    Range,
    List,
    Hash,
}

impl PartitionMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PartitionMethod::Range => "range",
            PartitionMethod::List => "list",
            PartitionMethod::Hash => "hash",
        }
    }
}

/// Which rows a declared partition holds.
#[derive(Debug, Clone)]
pub enum PartitionBound {
    /// `from '2026-01-01' to '2026-02-01'`
    Range { from: Expr, to: Expr },
    /// `in ('eu', 'uk')`
    In(Vec<Expr>),
    /// `default`: rows no other partition takes.
    Default(Span),
}

/// A partitioned table's upkeep: partitions made ahead, retired past retention.
#[derive(Debug, Clone)]
pub struct Upkeep {
    pub every: Interval,
    pub premake: Option<(u32, Span)>,
    pub retain: Option<Interval>,
    /// Retired partitions are archived (COPY to a sink) before they are dropped.
    pub archive: Option<Span>,
}

/// `90 days`, `1 month`: a count and a unit as written.
#[derive(Debug, Clone)]
pub struct Interval {
    pub count: u32,
    pub unit: Ident,
    pub span: Span,
}

impl Interval {
    /// The unit in singular lower case (`days` → `day`).
    pub fn unit(&self) -> String {
        let unit = self.unit.name.to_ascii_lowercase();
        unit.strip_suffix('s').map(str::to_string).unwrap_or(unit)
    }

    /// As PostgreSQL's interval input reads it: `90 days`.
    pub fn sql(&self) -> String {
        let unit = self.unit();
        if self.count == 1 {
            format!("1 {unit}")
        } else {
            format!("{} {unit}s", self.count)
        }
    }
}

#[derive(Debug, Clone)]
pub struct Distributed {
    pub trivia: Trivia,
    /// The distribution column tables carry (a table scoped by another
    /// column, such as the tenant table's `id`, is distributed by that one).
    pub column: Ident,
}

#[derive(Debug, Clone)]
pub struct Acknowledge {
    pub trivia: Trivia,
    /// `table`, `table.column`, a partition or an enum, optionally schema-qualified.
    pub target: Vec<Ident>,
}

#[derive(Debug, Clone)]
pub struct SchemaBlock {
    pub trivia: Trivia,
    pub name: Ident,
    /// `per tenant ['tenant_{id}']`: a template each tenant gets a copy of,
    /// named by the rule (default `tenant_{id}`).
    pub per_tenant: Option<PerTenant>,
    pub items: Vec<HubItem>,
    pub dangling: Vec<String>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct PerTenant {
    pub span: Span,
    /// The naming rule as written (quoted), if any.
    pub naming: Option<Expr>,
}

#[derive(Debug, Clone)]
pub struct Extension {
    pub trivia: Trivia,
    pub name: Ident,
}

#[derive(Debug, Clone)]
pub struct RoleDef {
    pub trivia: Trivia,
    pub name: Ident,
    /// `role auditor bypassrls`: may read every tenant's rows.
    pub bypass_rls: bool,
    /// `role config_platform platform`: writes the rows that belong to no
    /// tenant or owner, in an explicit platform transaction.
    pub platform: bool,
}

#[derive(Debug, Clone)]
pub struct EnumDef {
    pub trivia: Trivia,
    pub name: Ident,
    pub values: Vec<EnumValue>,
    pub dangling: Vec<String>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct EnumValue {
    pub trivia: Trivia,
    pub value: String,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Mixin {
    pub trivia: Trivia,
    pub name: Ident,
    pub columns: Vec<Column>,
    pub dangling: Vec<String>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub trivia: Trivia,
    pub name: Ident,
    pub options: Vec<TableOption>,
    pub items: Vec<TableItem>,
    pub dangling: Vec<String>,
    pub span: Span,
}

/// Traits written after the table name: `table members tenant_scoped(tenant_id) {`.
#[derive(Debug, Clone)]
pub struct TableOption {
    pub kind: TableOptionKind,
    pub name: Ident,
    pub arg: Option<Ident>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableOptionKind {
    TenantScoped,
    TenantOrGlobal,
    OwnerScoped,
    ScopedThrough,
    SoftDelete,
    Versioned,
    RenamedFrom,
    /// Reference data every tenant reads: deliberately unscoped (a Citus
    /// reference table in a distributed hub).
    Shared,
    /// Every insert, update and delete writes a row to the hub's audit log, by trigger.
    Audited,
    /// The hub's audit log: audited tables write here; applications only read it.
    AuditLog,
    /// The table of the people whose data erasure removes (`identity.users`):
    /// every table that references it is erased with it.
    DataSubject,
}

impl TableOptionKind {
    pub const ALL: [(&'static str, TableOptionKind); 11] = [
        ("tenant_scoped", TableOptionKind::TenantScoped),
        ("tenant_or_global", TableOptionKind::TenantOrGlobal),
        ("owner_scoped", TableOptionKind::OwnerScoped),
        ("scoped_through", TableOptionKind::ScopedThrough),
        ("soft_delete", TableOptionKind::SoftDelete),
        ("versioned", TableOptionKind::Versioned),
        ("renamed_from", TableOptionKind::RenamedFrom),
        ("shared", TableOptionKind::Shared),
        ("audited", TableOptionKind::Audited),
        ("audit_log", TableOptionKind::AuditLog),
        ("data_subject", TableOptionKind::DataSubject),
    ];

    /// Whether the option scopes rows for row-level security.
    pub fn is_scope(self) -> bool {
        matches!(
            self,
            TableOptionKind::TenantScoped | TableOptionKind::TenantOrGlobal | TableOptionKind::OwnerScoped | TableOptionKind::ScopedThrough
        )
    }

    pub fn keyword(self) -> &'static str {
        Self::ALL.iter().find(|(_, k)| *k == self).map_or("", |(n, _)| n)
    }
}

#[derive(Debug, Clone)]
pub struct TableItem {
    pub trivia: Trivia,
    pub kind: TableItemKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum TableItemKind {
    Column(Column),
    Use(Ident),
    PrimaryKey(Vec<Ident>),
    Unique {
        name: Option<Ident>,
        columns: Vec<Ident>,
    },
    Index(Index),
    Check {
        name: Option<Ident>,
        expr: Expr,
    },
    ForeignKey {
        name: Option<Ident>,
        columns: Vec<Ident>,
        target: Reference,
    },
    PartitionBy {
        method: PartitionMethod,
        column: Ident,
        /// `every 1 month premake 3 retain 90 days archive`: pg_partman keeps the partitions.
        upkeep: Option<Upkeep>,
        /// `into 16` (hash): how many partitions hubgen makes.
        into: Option<(u32, Span)>,
    },
    /// `retain 30 days by created_at`: rows older than that are deleted by `maintain`.
    Retain {
        keep: Interval,
        column: Ident,
    },
    Partition {
        name: Ident,
        bound: PartitionBound,
    },
    Policy(Policy),
    Grant {
        privileges: Vec<Ident>,
        role: Ident,
    },
    /// `allow tenant-key-order`: silences one warning for this table.
    Allow(Ident),
    /// `on erase delete`: what erasing a data subject does to its rows here.
    OnErase(EraseAction),
}

#[derive(Debug, Clone)]
pub struct Column {
    pub trivia: Trivia,
    pub name: Ident,
    pub ty: TypeRef,
    pub modifiers: Vec<Modifier>,
    pub attrs: Vec<Attr>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct TypeRef {
    pub name: Ident,
    /// Size arguments: `varchar(255)`, `numeric(19, 4)`.
    pub args: Vec<(u32, Span)>,
    /// `text[]`
    pub array: bool,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Modifier {
    pub kind: ModifierKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ModifierKind {
    PrimaryKey,
    Unique,
    NotNull,
    Null,
    Default(Expr),
    References(Reference),
    Check(Expr),
    /// `generated always as (expr) stored`
    Generated(Expr),
    /// `on erase keep`: what erasing a data subject does to this column.
    OnErase(EraseAction),
}

/// What erasing a data subject (GDPR's right to be forgotten) does to a
/// table's rows or a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EraseAction {
    /// The subject's rows are deleted.
    Delete,
    /// The rows stay, their personal values replaced and their link to the subject cut.
    Anonymize,
    /// The rows (or the value) stay; a kept row's personal values are still anonymized.
    Keep,
}

impl EraseAction {
    pub const ALL: [(&'static str, EraseAction); 3] = [
        ("delete", EraseAction::Delete),
        ("anonymize", EraseAction::Anonymize),
        ("keep", EraseAction::Keep),
    ];

    pub fn keyword(self) -> &'static str {
        Self::ALL.iter().find(|(_, a)| *a == self).map_or("", |(n, _)| n)
    }
}

/// `@sensitive`, `@touch`, `@renamed_from(old)`, `@format(email)`, `@backfill(<sql>)`.
#[derive(Debug, Clone)]
pub struct Attr {
    pub name: Ident,
    pub args: Vec<Ident>,
    /// The SQL of an attribute that takes an expression: `@backfill(<sql>)`.
    pub expr: Option<Expr>,
    pub span: Span,
}

/// `[hub.][schema.]table(col, ...) [on delete action] [on update action]`
#[derive(Debug, Clone)]
pub struct Reference {
    /// One to three dotted parts; the last is the table.
    pub path: Vec<Ident>,
    pub columns: Vec<Ident>,
    pub on_delete: Option<(FkAction, Span)>,
    pub on_update: Option<(FkAction, Span)>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FkAction {
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

impl FkAction {
    pub fn sql(self) -> &'static str {
        match self {
            FkAction::NoAction => "no action",
            FkAction::Restrict => "restrict",
            FkAction::Cascade => "cascade",
            FkAction::SetNull => "set null",
            FkAction::SetDefault => "set default",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Index {
    pub name: Ident,
    pub unique: bool,
    pub method: Option<Ident>,
    pub columns: Vec<IndexColumn>,
    pub predicate: Option<Expr>,
}

#[derive(Debug, Clone)]
pub struct IndexColumn {
    pub name: Ident,
    pub descending: bool,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub name: Ident,
    pub command: Option<Ident>,
    pub role: Ident,
    pub using: Option<Expr>,
    pub with_check: Option<Expr>,
}

/// A SQL expression, kept as canonical text plus the identifiers it names
/// (so validation can check them against the table's columns).
#[derive(Debug, Clone)]
pub struct Expr {
    pub text: String,
    pub idents: Vec<Ident>,
    pub span: Span,
}
