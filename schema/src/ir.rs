//! The resolved, validated schema: what every generator consumes.
//! Mixins are expanded, names resolved, constraint names filled in with the
//! names PostgreSQL itself would choose. Order is declaration order, so the
//! same file always yields the same IR.

use crate::ast::{EraseAction, FkAction};
use crate::types::ColumnType;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Schema {
    pub hubs: Vec<Hub>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hub {
    pub name: String,
    pub database: String,
    /// Applications may read but never write: no write grants, no write methods.
    pub readonly: bool,
    pub docs: Option<String>,
    pub extensions: Vec<String>,
    pub schemas: Vec<String>,
    pub roles: Vec<Role>,
    pub enums: Vec<Enum>,
    pub tables: Vec<Table>,
    /// Destructive changes the schema acknowledges (`table`, `table.column`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acknowledged: Vec<String>,
    /// How long a migration waits for a lock (`set lock_timeout`); `None`: hubgen's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_timeout: Option<String>,
    /// `distributed by`: the column a Citus cluster shards this hub's tables by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distributed_by: Option<String>,
    /// `schema x per tenant`: the template every tenant's schema copies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_template: Option<TenantTemplate>,
    /// `schedule maintenance`: the cron schedule pg_cron runs the upkeep on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_schedule: Option<String>,
    /// What erasing a data subject does here, derived from the whole schema
    /// (see [`crate::erasure`]); `None` when no table here holds the subject's data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erasure: Option<Erasure>,
}

/// A hub's part of erasing one data subject: the steps its erase function runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Erasure {
    /// The data subject's table, as `hub.table` (`identity.users`).
    pub subject: String,
    /// The type of the subject's key, which erasure is given.
    pub key: ColumnType,
    /// In the order they run: rows that reference others before those they reference.
    pub steps: Vec<ErasureStep>,
}

/// What erasure does to the rows of one table that hold the subject's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureStep {
    pub schema: String,
    pub table: String,
    /// `delete`, or `anonymize`/`keep`: the rows stay with `set` applied.
    pub action: EraseAction,
    /// The subject's rows: those any of these match.
    pub rows: Vec<RowMatch>,
    /// Column → the SQL value that replaces the subject's (anonymize and keep).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<(String, String)>,
    /// Columns of these rows that keep the subject's values on purpose (`keep`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<String>,
}

/// How a step finds the subject's rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowMatch {
    /// The column holds the subject's key.
    Column(String),
    /// The columns reference the rows an earlier step of `schema.table` matched
    /// (that table's delete or keep step).
    Parent {
        columns: Vec<String>,
        schema: String,
        table: String,
        ref_columns: Vec<String>,
    },
}

impl ErasureStep {
    /// A step that only clears a column naming the subject in rows that are
    /// not theirs (`on erase anonymize` on a reference).
    pub fn is_mention(&self) -> bool {
        self.action == EraseAction::Anonymize
            && self.kept.is_empty()
            && matches!((self.rows.as_slice(), self.set.as_slice()), ([RowMatch::Column(c)], [(s, _)]) if c == s)
    }
}

impl Erasure {
    /// The step that finds the subject's own rows of a table (not a mention).
    pub fn rows_of(&self, schema: &str, table: &str) -> Option<&ErasureStep> {
        self.steps
            .iter()
            .find(|s| s.schema == schema && s.table == table && s.action != EraseAction::Anonymize)
    }
}

/// A schema provisioned once per tenant, at the template's current version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantTemplate {
    pub schema: String,
    /// How a tenant's schema is named: `tenant_{id}`.
    pub naming: String,
}

impl TenantTemplate {
    pub const DEFAULT_NAMING: &'static str = "tenant_{id}";
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub name: String,
    pub bypass_rls: bool,
    /// Writes the rows that belong to no tenant or owner (`role x platform`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub platform: bool,
    pub docs: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enum {
    pub schema: String,
    pub name: String,
    pub values: Vec<String>,
    pub docs: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub schema: String,
    pub name: String,
    pub docs: Option<String>,
    pub renamed_from: Option<String>,
    pub columns: Vec<Column>,
    pub primary_key: Option<Key>,
    pub uniques: Vec<Key>,
    pub indexes: Vec<Index>,
    pub checks: Vec<Check>,
    pub foreign_keys: Vec<ForeignKey>,
    /// References into another hub's database: shared IDs, no FK.
    pub cross_hub_refs: Vec<CrossHubRef>,
    /// The column RLS policies compare with `app.current_tenant_id`.
    pub tenant_column: Option<String>,
    /// `tenant_or_global`: rows whose tenant is NULL are read by every tenant.
    #[serde(default, skip_serializing_if = "is_false")]
    pub tenant_global: bool,
    /// The column RLS policies compare with `app.current_user_id` (`owner_scoped`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_column: Option<String>,
    /// A foreign-key column whose referenced row must be visible for this
    /// row to be (`scoped_through`): the parent's policies scope the child.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scoped_through: Option<String>,
    /// `shared`: reference data every tenant reads, unscoped by design.
    #[serde(default, skip_serializing_if = "is_false")]
    pub shared: bool,
    /// In a distributed hub: the column this table is sharded by (`None`
    /// for a reference table, which every node holds whole).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution_column: Option<String>,
    pub soft_delete: Option<SoftDelete>,
    /// Optimistic locking: updates must name the version they read.
    pub version_column: Option<String>,
    pub partitioning: Option<Partitioning>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<Retention>,
    pub policies: Vec<Policy>,
    pub grants: Vec<Grant>,
    /// `audited`: a trigger writes every insert, update and delete to the hub's audit log.
    #[serde(default, skip_serializing_if = "is_false")]
    pub audited: bool,
    /// `audit_log`: the hub's audit log. Applications read it; only the
    /// audit trigger writes it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub audit_log: bool,
    /// `data_subject`: the people erasure removes (one table in a schema).
    #[serde(default, skip_serializing_if = "is_false")]
    pub data_subject: bool,
    /// `on erase ...`: what erasing a subject does to its rows here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erase: Option<EraseAction>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub ty: ColumnType,
    pub nullable: bool,
    /// SQL expression, canonical spacing.
    pub default: Option<String>,
    /// `generated always as (expr) stored`
    pub generated: Option<String>,
    pub docs: Option<String>,
    pub renamed_from: Option<String>,
    /// How existing rows get a value when the column becomes NOT NULL
    /// (`@backfill(<sql>)`): an evolution hint, like `renamed_from`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backfill: Option<String>,
    /// A secret: redacted in `Debug` and logs, masked in audit rows.
    pub sensitive: bool,
    /// `@pii`: personal data (a name, an email): redacted in `Debug` and
    /// logs, masked in audit rows, anonymized when its subject is erased.
    #[serde(default, skip_serializing_if = "is_false")]
    pub pii: bool,
    /// `on erase keep | anonymize`: what erasing a subject does to this value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erase: Option<EraseAction>,
    /// Set to `now()` by every generated update.
    pub touch: bool,
    /// Client-side format check: email, uuid, url, phone.
    pub format: Option<String>,
    /// `@encrypted`: stored as ciphertext (`ty` is bytea); the generated
    /// crate seals and opens it. Encrypted columns are also `sensitive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted: Option<Encryption>,
    /// This column is the blind index of that `@encrypted(searchable)` one:
    /// the crate fills it, unique keys and indexes of the encrypted column use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blind_index_of: Option<String>,
}

/// How an `@encrypted` column is stored and found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encryption {
    /// The type of the plain value (text or varchar), as the schema declares it.
    pub plaintext: ColumnType,
    /// `@encrypted(searchable)`: a blind index column (`<name>_bidx`) makes equality lookups possible.
    #[serde(default, skip_serializing_if = "is_false")]
    pub searchable: bool,
}

impl Column {
    /// Redacted in `Debug`, logs and validation messages, masked in audit
    /// rows: secrets (`@sensitive`, `@encrypted`) and personal data (`@pii`).
    pub fn redacted(&self) -> bool {
        self.sensitive || self.pii
    }
}

impl Encryption {
    /// The blind index column of a searchable encrypted column.
    pub fn index_column(column: &str) -> String {
        format!("{column}_bidx")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Key {
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IndexMethod {
    Btree,
    Hash,
    Gin,
    Gist,
    Brin,
}

impl IndexMethod {
    pub const ALL: [(&'static str, IndexMethod); 5] = [
        ("btree", IndexMethod::Btree),
        ("hash", IndexMethod::Hash),
        ("gin", IndexMethod::Gin),
        ("gist", IndexMethod::Gist),
        ("brin", IndexMethod::Brin),
    ];

    pub fn parse(name: &str) -> Option<IndexMethod> {
        Self::ALL.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, m)| *m)
    }

    pub fn as_str(self) -> &'static str {
        Self::ALL.iter().find(|(_, m)| *m == self).map_or("btree", |(n, _)| n)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub name: String,
    pub unique: bool,
    pub method: IndexMethod,
    pub columns: Vec<IndexColumn>,
    pub predicate: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexColumn {
    pub name: String,
    pub descending: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub expr: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    pub ref_schema: String,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
    pub on_delete: FkAction,
    pub on_update: FkAction,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrossHubRef {
    pub columns: Vec<String>,
    pub hub: String,
    pub schema: String,
    pub table: String,
    pub ref_columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoftDelete {
    pub column: String,
    /// `deleted_at timestamp` (null = live) or `is_deleted boolean` (false = live).
    pub kind: SoftDeleteKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SoftDeleteKind {
    Timestamp,
    Flag,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partitioning {
    /// Partitioned by this column.
    pub column: String,
    #[serde(default, skip_serializing_if = "PartitionMethod::is_range")]
    pub method: PartitionMethod,
    pub partitions: Vec<Partition>,
    /// pg_partman makes the partitions ahead and retires them past retention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upkeep: Option<Upkeep>,
    /// Partitions carry their parent's RLS, policies and grants. Locks
    /// written before hubgen did so lack it, and the next plan secures them.
    #[serde(default, skip_serializing_if = "is_false")]
    pub secured: bool,
}

/// `every 1 month premake 3 retain 90 days archive`, as pg_partman's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upkeep {
    /// pg_partman's interval: hourly, daily, weekly, monthly, quarterly or yearly.
    pub interval: String,
    /// Partitions made ahead of the current one.
    pub premake: u32,
    /// A partition retires once its upper bound is this much in the past (`90 days`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retain: Option<String>,
    /// Retired partitions are archived before they are dropped.
    #[serde(default, skip_serializing_if = "is_false")]
    pub archive: bool,
}

impl Upkeep {
    /// The `every` clause for an interval pg_partman names, as schema text.
    pub const INTERVALS: [(&'static str, &'static str); 6] = [
        ("1 hour", "hourly"),
        ("1 day", "daily"),
        ("1 week", "weekly"),
        ("1 month", "monthly"),
        ("3 months", "quarterly"),
        ("1 year", "yearly"),
    ];

    /// The `date_trunc` unit a partition starts on.
    pub fn truncation_unit(&self) -> &'static str {
        match self.interval.as_str() {
            "hourly" => "hour",
            "daily" => "day",
            "weekly" => "week",
            "quarterly" => "quarter",
            "yearly" => "year",
            _ => "month",
        }
    }
}

/// `retain 30 days by created_at`: rows of an unpartitioned table older than
/// `keep` are deleted in batches by `maintain`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    pub column: String,
    pub keep: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PartitionMethod {
    #[default]
    Range,
    List,
    /// Rows spread over `modulus` partitions by the key's hash.
    Hash {
        modulus: u32,
    },
}

impl PartitionMethod {
    fn is_range(&self) -> bool {
        *self == PartitionMethod::Range
    }

    /// `RANGE`, `LIST`, `HASH`: the SQL keyword.
    pub fn keyword(&self) -> &'static str {
        match self {
            PartitionMethod::Range => "RANGE",
            PartitionMethod::List => "LIST",
            PartitionMethod::Hash { .. } => "HASH",
        }
    }
}

/// A partition: a range (`from`, `to`), a list of values, the default
/// partition, or one remainder of a hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub to: String,
    /// List partitions: the values, as SQL literals.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub default: bool,
    /// Hash partitions: this partition's remainder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remainder: Option<u32>,
}

impl Partition {
    /// The bound as `CREATE TABLE ... PARTITION OF` writes it.
    pub fn bound_sql(&self, method: PartitionMethod) -> String {
        match (method, self.remainder) {
            _ if self.default => "DEFAULT".to_string(),
            (PartitionMethod::Hash { modulus }, Some(r)) => format!("FOR VALUES WITH (MODULUS {modulus}, REMAINDER {r})"),
            (PartitionMethod::List, _) => format!("FOR VALUES IN ({})", self.values.join(", ")),
            _ => format!("FOR VALUES FROM ({}) TO ({})", self.from, self.to),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub name: String,
    /// all, select, insert, update or delete.
    pub command: String,
    pub role: String,
    pub using: Option<String>,
    pub with_check: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub role: String,
    pub privileges: Vec<String>,
}

impl Schema {
    pub fn hub(&self, name: &str) -> Option<&Hub> {
        self.hubs.iter().find(|h| h.name == name)
    }

    /// The `data_subject` table erasure is keyed on, with its hub.
    pub fn data_subject(&self) -> Option<(&Hub, &Table)> {
        self.hubs
            .iter()
            .find_map(|hub| hub.tables.iter().find(|t| t.data_subject).map(|t| (hub, t)))
    }
}

impl Hub {
    /// The role declared `platform`: it writes rows without a tenant or owner.
    pub fn platform_role(&self) -> Option<&Role> {
        self.roles.iter().find(|r| r.platform)
    }

    pub fn table(&self, schema: &str, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.schema == schema && t.name == name)
    }

    /// Whether applications write `table`: not in a read-only hub, and not
    /// the audit log, which only the audit trigger writes.
    pub fn writes(&self, table: &Table) -> bool {
        !self.readonly && !table.audit_log
    }

    /// The table audited tables write their changes to.
    pub fn audit_log(&self) -> Option<&Table> {
        self.tables.iter().find(|t| t.audit_log)
    }
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn is_tenant_scoped(&self) -> bool {
        self.tenant_column.is_some()
    }

    /// Row-level security limits this table by tenant, owner or parent.
    pub fn is_scoped(&self) -> bool {
        self.tenant_column.is_some() || self.owner_column.is_some() || self.scoped_through.is_some()
    }

    /// The foreign key `scoped_through` follows.
    pub fn through_key(&self) -> Option<&ForeignKey> {
        let column = self.scoped_through.as_ref()?;
        self.foreign_keys
            .iter()
            .find(|fk| fk.columns.len() == 1 && &fk.columns[0] == column)
    }
}

/// PostgreSQL's default object name (`makeObjectName`): `name1_name2_label`,
/// shortening the longer part until the whole fits in 63 bytes.
pub fn pg_object_name(name1: &str, name2: Option<&str>, label: &str) -> String {
    let overhead = label.len() + 1 + usize::from(name2.is_some());
    let avail = 63usize.saturating_sub(overhead);
    let mut n1 = name1.len();
    let mut n2 = name2.map_or(0, str::len);
    while n1 + n2 > avail {
        if n1 > n2 {
            n1 -= 1;
        } else {
            n2 -= 1;
        }
    }
    let cut = |s: &str, n: usize| {
        let mut n = n.min(s.len());
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        s[..n].to_string()
    };
    let mut out = cut(name1, n1);
    if let Some(name2) = name2 {
        out.push('_');
        out.push_str(&cut(name2, n2));
    }
    out.push('_');
    out.push_str(label);
    out
}
