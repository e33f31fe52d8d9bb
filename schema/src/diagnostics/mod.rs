//! Diagnostics: a stable code, a message, a span, a label under the caret
//! and help. Every message text lives in [`messages`], the one catalogue.

pub mod messages;
mod render;

pub use render::render_all;

use crate::span::{SourceFile, Span};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    pub span: Span,
    pub label: String,
    pub help: Option<String>,
    /// A second place worth seeing, e.g. the first declaration of a duplicate.
    pub note: Option<(Span, String)>,
}

impl Diagnostic {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `error[code]: message`, the source line with a caret, and help.
    pub fn render(&self, file: &SourceFile, color: bool) -> String {
        render::render(self, file, color)
    }
}

macro_rules! codes {
    ($($variant:ident = $text:literal,)*) => {
        /// Stable diagnostic codes. Tools and tests match on the text; never rename one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $($variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $text,)* }
            }
        }
    };
}

codes! {
    // syntax
    UnexpectedCharacter = "unexpected-character",
    UnterminatedString = "unterminated-string",
    UnterminatedComment = "unterminated-comment",
    UnexpectedToken = "unexpected-token",
    UnexpectedItem = "unexpected-item",
    UnclosedBlock = "unclosed-block",
    UnclosedParen = "unclosed-paren",
    EmptyExpression = "empty-expression",
    UnknownTableOption = "unknown-table-option",
    UnknownAttribute = "unknown-attribute",
    // names
    InvalidIdentifier = "invalid-identifier",
    IdentifierTooLong = "identifier-too-long",
    DuplicateHub = "duplicate-hub",
    DuplicateDatabase = "duplicate-database",
    DuplicateSchema = "duplicate-schema",
    DuplicateTable = "duplicate-table",
    DuplicateColumn = "duplicate-column",
    DuplicateEnum = "duplicate-enum",
    DuplicateEnumValue = "duplicate-enum-value",
    DuplicateMixin = "duplicate-mixin",
    DuplicateIndex = "duplicate-index",
    DuplicateConstraint = "duplicate-constraint",
    DuplicateRole = "duplicate-role",
    DuplicatePolicy = "duplicate-policy",
    DuplicatePartition = "duplicate-partition",
    DuplicateModifier = "duplicate-modifier",
    // types and defaults
    UnknownType = "unknown-type",
    InvalidTypeArguments = "invalid-type-arguments",
    EmptyEnum = "empty-enum",
    EmptyTable = "empty-table",
    InvalidDefault = "invalid-default",
    ConflictingNullability = "conflicting-nullability",
    GeneratedColumnConflict = "generated-column-conflict",
    // resolution
    UnknownMixin = "unknown-mixin",
    UnknownColumn = "unknown-column",
    UnknownTable = "unknown-table",
    UnknownHub = "unknown-hub",
    UnknownRole = "unknown-role",
    // keys and references
    MissingPrimaryKey = "missing-primary-key",
    MultiplePrimaryKeys = "multiple-primary-keys",
    ReferenceTypeMismatch = "reference-type-mismatch",
    ReferenceNotUnique = "reference-not-unique",
    ReferenceColumnCount = "reference-column-count",
    CrossHubAction = "cross-hub-action",
    SetNullNotNullable = "set-null-not-nullable",
    // table traits
    MissingOptionArgument = "missing-option-argument",
    ScopeColumnType = "scope-column-type",
    ScopeIndexMissing = "scope-index-missing",
    MissingPlatformRole = "missing-platform-role",
    GlobalColumnNotNull = "global-column-not-null",
    ConflictingScopes = "conflicting-scopes",
    InvalidScopedThrough = "invalid-scoped-through",
    InvalidPlatformRole = "invalid-platform-role",
    // tenancy lint
    UnscopedTenantData = "unscoped-tenant-data",
    TenantKeyOrder = "tenant-key-order",
    PermissivePolicy = "permissive-policy",
    InvalidAllow = "invalid-allow",
    // Citus distribution
    UndistributedTable = "undistributed-table",
    DistributionKey = "distribution-key",
    DistributionForeignKey = "distribution-foreign-key",
    DuplicateDistribution = "duplicate-distribution",
    SoftDeleteColumnType = "soft-delete-column-type",
    VersionColumnType = "version-column-type",
    TouchColumnType = "touch-column-type",
    InvalidAttributeArgument = "invalid-attribute-argument",
    RenameConflict = "rename-conflict",
    // partitions
    PartitionKeyNotInKey = "partition-key-not-in-key",
    PartitionColumnType = "partition-column-type",
    PartitionWithoutRange = "partition-without-range",
    NoPartitions = "no-partitions",
    InvalidPartitionBounds = "invalid-partition-bounds",
    InvalidUpkeep = "invalid-upkeep",
    // audit
    InvalidAudit = "invalid-audit",
    UnboundedAuditLog = "unbounded-audit-log",
    InvalidEncryption = "invalid-encryption",
    InvalidErasure = "invalid-erasure",
    UnerasedPersonalData = "unerased-personal-data",
    // indexes, policies, grants
    InvalidIndexMethod = "invalid-index-method",
    InvalidIndexOption = "invalid-index-option",
    InvalidPolicyCommand = "invalid-policy-command",
    InvalidPrivilege = "invalid-privilege",
    // migration lint (on plans, not schemas)
    UnknownSetting = "unknown-setting",
    InvalidSettingValue = "invalid-setting-value",
    DuplicateSetting = "duplicate-setting",
    DestructiveChange = "destructive-change",
    ImpossibleChange = "impossible-change",
    MissingLock = "missing-lock",
    NotNullWithoutDefault = "not-null-without-default",
    SetNotNullScan = "set-not-null-scan",
    TableRewrite = "table-rewrite",
    IndexWithoutConcurrently = "index-without-concurrently",
    TenantScopeRemoved = "tenant-scope-removed",
}

impl Code {
    /// Codes of the migration lint; the rest are the schema front end's.
    pub fn is_lint(self) -> bool {
        self >= Code::DestructiveChange
    }
}

impl Diagnostic {
    /// For diagnostics built outside the catalogue (the migration lint, one rule per file).
    pub fn new(severity: Severity, code: Code, span: Span, message: String, label: &str, help: String) -> Diagnostic {
        Diagnostic {
            severity,
            code,
            message,
            span,
            label: label.to_string(),
            help: Some(help),
            note: None,
        }
    }
}

/// The closest candidate within a small edit distance, for "did you mean".
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// Optimal-string-alignment distance: Levenshtein plus adjacent swaps, so
/// `tabel` is one edit from `table`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}
