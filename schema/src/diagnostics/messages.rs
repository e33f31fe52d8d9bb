//! The catalogue: every message hubgen's schema front end can print.
//!
//! Style: the message says what is wrong and where, in the reviewer's
//! terms; the label says what the caret points at; the help says what to
//! change. Names are in backticks. No trailing period.

use super::{closest, Code, Diagnostic, Severity};
use crate::ast::{Attr, Expr, Ident, TypeRef};
use crate::span::Span;
use crate::types::ColumnType;

fn error(code: Code, span: Span, message: String, label: impl Into<String>) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        code,
        message,
        span,
        label: label.into(),
        help: None,
        note: None,
    }
}

fn warning(code: Code, span: Span, message: String, label: impl Into<String>) -> Diagnostic {
    Diagnostic {
        severity: Severity::Warning,
        code,
        message,
        span,
        label: label.into(),
        help: None,
        note: None,
    }
}

impl Diagnostic {
    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    fn note(mut self, span: Span, note: impl Into<String>) -> Self {
        self.note = Some((span, note.into()));
        self
    }

    /// "did you mean" when a close candidate exists, otherwise the fallback help.
    fn suggest<'a>(self, name: &str, candidates: impl IntoIterator<Item = &'a str>, fallback: impl Into<String>) -> Self {
        match closest(name, candidates) {
            Some(best) => self.help(format!("did you mean `{best}`?")),
            None => self.help(fallback),
        }
    }
}

fn plural(word: &str) -> String {
    match word.strip_suffix('y') {
        Some(stem) => format!("{stem}ies"),
        None => format!("{word}s"),
    }
}

fn list(items: &[&str]) -> String {
    items.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
}

// ---- syntax -------------------------------------------------------------

pub fn unexpected_character(span: Span, ch: char) -> Diagnostic {
    error(
        Code::UnexpectedCharacter,
        span,
        format!(
            "unexpected character `{}`",
            if ch.is_control() {
                ch.escape_default().to_string()
            } else {
                ch.to_string()
            }
        ),
        "not part of the schema language",
    )
    .help("remove it; SQL expressions go inside `default`, `check (...)`, `where (...)` or `generated always as (...)`")
}

pub fn unterminated_string(span: Span, quoted_ident: bool) -> Diagnostic {
    let (what, quote) = if quoted_ident {
        ("quoted identifier", '"')
    } else {
        ("string literal", '\'')
    };
    error(
        Code::UnterminatedString,
        span,
        format!("this {what} is not closed before the end of the line"),
        "starts here",
    )
    .help(format!("close it with `{quote}`; to put a {quote} inside, write it twice"))
}

pub fn unterminated_comment(span: Span) -> Diagnostic {
    error(
        Code::UnterminatedComment,
        span,
        "this block comment is never closed".into(),
        "opened here",
    )
    .help("close it with `*/`")
}

pub fn unexpected_token(span: Span, expected: &str, found: &str) -> Diagnostic {
    // Keywords named in `expected` are the candidates for a misspelling of `found`.
    let keywords: Vec<&str> = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|k| k.chars().all(|c| c.is_ascii_alphabetic() || c == ' ' || c == '_'))
        .collect();
    error(
        Code::UnexpectedToken,
        span,
        format!("expected {expected}, found {found}"),
        format!("expected {expected}"),
    )
    .suggest(
        found.trim_matches('`'),
        keywords,
        "check the line against the syntax in README.md; one item per line",
    )
}

pub fn unexpected_item(span: Span, found: &str, place: &str, expected: &[&str]) -> Diagnostic {
    let word = found.trim_matches('`');
    error(
        Code::UnexpectedItem,
        span,
        format!("{found} cannot start an item in {place}"),
        "unexpected here",
    )
    .suggest(
        word,
        expected.iter().copied(),
        format!("items here start with one of {}", list(expected)),
    )
}

pub fn unclosed_block(open: Span) -> Diagnostic {
    error(Code::UnclosedBlock, open, "this `{` is never closed".into(), "opened here").help("add the matching `}`")
}

pub fn unclosed_paren(open: Span) -> Diagnostic {
    error(Code::UnclosedParen, open, "this `(` is never closed".into(), "opened here").help("add the matching `)`")
}

pub fn empty_expression(span: Span) -> Diagnostic {
    error(
        Code::EmptyExpression,
        span,
        "an expression is expected here, but there is none".into(),
        "empty",
    )
    .help("write a SQL expression, e.g. `default 0` or `check (amount >= 0)`")
}

pub fn unknown_table_option(option: &Ident, known: &[&str]) -> Diagnostic {
    error(
        Code::UnknownTableOption,
        option.span,
        format!("unknown table option `{}`", option.name),
        "not a table option",
    )
    .suggest(&option.name, known.iter().copied(), format!("table options are {}", list(known)))
}

pub fn unknown_attribute<'a>(name: &Ident, known: impl Iterator<Item = &'a str>) -> Diagnostic {
    let known: Vec<&str> = known.collect();
    error(
        Code::UnknownAttribute,
        name.span,
        format!("unknown attribute `@{}`", name.name),
        "not an attribute",
    )
    .suggest(&name.name, known.iter().copied(), format!("attributes are {}", list(&known)))
}

// ---- names ----------------------------------------------------------------

pub fn invalid_identifier(ident: &Ident) -> Diagnostic {
    let suggestion = to_snake_case(&ident.name);
    error(
        Code::InvalidIdentifier,
        ident.span,
        format!("`{}` is not a lowercase snake_case name", ident.name),
        "invalid name",
    )
    .help(format!(
        "names are lowercase letters, digits and `_`, starting with a letter or `_`: try `{suggestion}`"
    ))
}

fn to_snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) || out.is_empty() {
        out.insert(0, '_');
    }
    out
}

pub fn identifier_too_long(ident: &Ident) -> Diagnostic {
    error(
        Code::IdentifierTooLong,
        ident.span,
        format!(
            "`{}` is {} bytes long; PostgreSQL truncates names to 63",
            ident.name,
            ident.name.len()
        ),
        "too long",
    )
    .help("shorten the name to at most 63 bytes")
}

fn duplicate(code: Code, dup: &Ident, previous: &Ident, what: &str, scope: &str) -> Diagnostic {
    error(
        code,
        dup.span,
        format!("{what} `{}` is declared twice{scope}", dup.name),
        "declared again here",
    )
    .note(previous.span, "first declared")
    .help(format!("rename or remove one of the two {}", plural(what)))
}

pub fn duplicate_hub(dup: &Ident, previous: &Ident) -> Diagnostic {
    duplicate(Code::DuplicateHub, dup, previous, "hub", "")
}

pub fn duplicate_database(dup: &Ident, previous: &Ident) -> Diagnostic {
    error(
        Code::DuplicateDatabase,
        dup.span,
        format!("two hubs use the database `{}`", dup.name),
        "used again here",
    )
    .note(previous.span, "first used")
    .help("every hub has a database of its own; give this hub another database name")
}

pub fn duplicate_schema(dup: &Ident, previous: &Ident) -> Diagnostic {
    duplicate(Code::DuplicateSchema, dup, previous, "schema", " in this hub")
        .help("put all tables of one schema in a single `schema` block")
}

pub fn duplicate_role(dup: &Ident, previous: &Ident) -> Diagnostic {
    duplicate(Code::DuplicateRole, dup, previous, "role", " in this hub")
}

pub fn duplicate_mixin(dup: &Ident, previous: &Ident) -> Diagnostic {
    duplicate(Code::DuplicateMixin, dup, previous, "mixin", "")
}

pub fn duplicate_table(dup: &Ident, previous: &Ident) -> Diagnostic {
    duplicate(Code::DuplicateTable, dup, previous, "table", " in this schema")
}

pub fn duplicate_enum(dup: &Ident, previous: &Ident) -> Diagnostic {
    duplicate(Code::DuplicateEnum, dup, previous, "enum", " in this schema")
}

pub fn duplicate_enum_value(dup: &crate::ast::EnumValue, previous: &crate::ast::EnumValue, enum_name: &str) -> Diagnostic {
    error(
        Code::DuplicateEnumValue,
        dup.span,
        format!("enum `{enum_name}` lists `{}` twice", dup.value),
        "listed again here",
    )
    .note(previous.span, "first listed")
    .help("remove the second one")
}

pub fn duplicate_column(dup: &Ident, previous: &Ident, table: &str) -> Diagnostic {
    duplicate(Code::DuplicateColumn, dup, previous, "column", &format!(" in table `{table}`"))
        .help("rename or remove one of them; a mixin's columns count as the table's own")
}

pub fn duplicate_index(dup: &Ident, previous: &Ident) -> Diagnostic {
    error(
        Code::DuplicateIndex,
        dup.span,
        format!("the name `{}` is already taken in this schema", dup.name),
        "taken",
    )
    .note(previous.span, "first used")
    .help("index, unique-constraint, partition and table names share one namespace per schema; choose another name")
}

pub fn duplicate_constraint(dup: &Ident, previous: &Ident, table: &str) -> Diagnostic {
    duplicate(
        Code::DuplicateConstraint,
        dup,
        previous,
        "constraint",
        &format!(" on table `{table}`"),
    )
}

pub fn duplicate_policy(dup: &Ident, previous: &Ident, table: &str) -> Diagnostic {
    duplicate(Code::DuplicatePolicy, dup, previous, "policy", &format!(" on table `{table}`"))
}

pub fn duplicate_partition(dup: &Ident, previous: &Ident) -> Diagnostic {
    error(
        Code::DuplicatePartition,
        dup.span,
        format!("the partition name `{}` is already taken", dup.name),
        "taken",
    )
    .note(previous.span, "first used")
    .help("partitions are tables: give each a name of its own, e.g. `messages_2026_03`")
}

pub fn duplicate_modifier(span: Span, previous: Span, what: &str) -> Diagnostic {
    error(Code::DuplicateModifier, span, format!("`{what}` is written twice"), "again here")
        .note(previous, "first written")
        .help("remove the repetition")
}

// ---- types and defaults ---------------------------------------------------

pub fn unknown_type<'a>(name: &Ident, candidates: impl Iterator<Item = &'a str>) -> Diagnostic {
    error(
        Code::UnknownType,
        name.span,
        format!("unknown column type `{}`", name.name),
        "not a type or an enum of this hub",
    )
    .suggest(
        &name.name,
        candidates,
        "use a PostgreSQL type (uuid, text, varchar(n), integer, numeric(p,s), timestamptz, jsonb, ...) or declare `enum` in this hub",
    )
}

pub fn type_arity(span: Span, name: &str, max: usize) -> Diagnostic {
    let takes = match max {
        0 => "takes no arguments".to_string(),
        1 => "takes one argument, its length".to_string(),
        _ => "takes a precision and an optional scale".to_string(),
    };
    error(
        Code::InvalidTypeArguments,
        span,
        format!("type `{name}` {takes}"),
        "wrong arguments",
    )
    .help(match max {
        0 => format!("write `{name}` alone"),
        1 => format!("write e.g. `{name}(255)`"),
        _ => format!("write e.g. `{name}(19, 4)`"),
    })
}

pub fn type_argument(span: Span, name: &str, problem: &str) -> Diagnostic {
    error(
        Code::InvalidTypeArguments,
        span,
        format!("invalid arguments for `{name}`: {problem}"),
        "here",
    )
    .help("change the size to one PostgreSQL accepts")
}

pub fn empty_enum(name: &Ident) -> Diagnostic {
    error(Code::EmptyEnum, name.span, format!("enum `{}` has no values", name.name), "empty")
        .help("list its values inside the braces, one per line")
}

pub fn empty_table(name: &Ident) -> Diagnostic {
    error(
        Code::EmptyTable,
        name.span,
        format!("table `{}` has no columns", name.name),
        "no columns",
    )
    .help("add columns, or `use` a mixin")
}

pub fn invalid_default(expr: &Expr, column: &str, problem: &str) -> Diagnostic {
    error(
        Code::InvalidDefault,
        expr.span,
        format!("the default of `{column}` does not fit its type: {problem}"),
        "invalid default",
    )
    .help("change the default or the column type")
}

pub fn default_not_enum_value(expr: &Expr, value: &str, enum_name: &str, values: &[&str]) -> Diagnostic {
    error(
        Code::InvalidDefault,
        expr.span,
        format!("`{value}` is not a value of enum `{enum_name}`"),
        "not a value of the enum",
    )
    .suggest(value, values.iter().copied(), format!("the values are {}", list(values)))
}

pub fn default_names_column(ident: &Ident) -> Diagnostic {
    error(Code::InvalidDefault, ident.span, format!("a default cannot refer to the column `{}`", ident.name), "column reference")
        .help("defaults are constants or function calls; to compute a column from others, use `generated always as (...) stored`; a text constant needs quotes: `'...'`")
}

pub fn conflicting_nullability(null: Span, not_null: Span, column: &str) -> Diagnostic {
    error(
        Code::ConflictingNullability,
        null,
        format!("column `{column}` is declared both nullable and not null"),
        "`null` here",
    )
    .note(not_null, "`not null` (or `primary key`)")
    .help("keep one; primary-key columns are always not null")
}

pub fn generated_with_default(default: Span, generated: Span, column: &str) -> Diagnostic {
    error(
        Code::GeneratedColumnConflict,
        default,
        format!("generated column `{column}` cannot have a default"),
        "default here",
    )
    .note(generated, "generated")
    .help("remove the default; PostgreSQL computes the value from the expression")
}

pub fn generated_uses_generated(ident: &Ident, column: &str) -> Diagnostic {
    error(
        Code::GeneratedColumnConflict,
        ident.span,
        format!("generated column `{column}` refers to `{}`, which is generated too", ident.name),
        "generated column",
    )
    .help("PostgreSQL computes generated columns from ordinary ones only; repeat that column's expression instead")
}

pub fn attribute_arity(attr: &Attr, wanted: usize) -> Diagnostic {
    let name = &attr.name.name;
    let (message, help) = if crate::parser::EXPR_ATTRIBUTES.contains(&name.as_str()) {
        (
            format!("`@{name}` takes a SQL expression in parentheses"),
            format!("write `@{name}(<sql>)`, for example `@{name}('unknown')` or `@{name}(created_at)`"),
        )
    } else if wanted == 0 {
        (format!("`@{name}` takes no arguments"), format!("write `@{name}`"))
    } else {
        (format!("`@{name}` takes exactly one argument"), format!("write `@{name}(value)`"))
    };
    error(Code::InvalidAttributeArgument, attr.span, message, "wrong arguments").help(help)
}

pub fn unknown_format(arg: &Ident, formats: &[&str]) -> Diagnostic {
    error(
        Code::InvalidAttributeArgument,
        arg.span,
        format!("unknown format `{}`", arg.name),
        "not a format",
    )
    .suggest(&arg.name, formats.iter().copied(), format!("formats are {}", list(formats)))
}

// ---- resolution -----------------------------------------------------------

pub fn unknown_mixin<'a>(name: &Ident, candidates: impl Iterator<Item = &'a str>) -> Diagnostic {
    error(
        Code::UnknownMixin,
        name.span,
        format!("no mixin named `{}`", name.name),
        "unknown mixin",
    )
    .suggest(
        &name.name,
        candidates,
        "declare it with `mixin name { ... }` at the top level or in this hub",
    )
}

pub fn unknown_column<'a>(ident: &Ident, what: &str, table: &str, candidates: impl Iterator<Item = &'a str>) -> Diagnostic {
    error(
        Code::UnknownColumn,
        ident.span,
        format!("{what} names column `{}`, which `{table}` does not have", ident.name),
        format!("not a column of `{table}`"),
    )
    .suggest(&ident.name, candidates, format!("add the column to `{table}` or name one it has"))
}

pub fn unknown_expression_column<'a>(ident: &Ident, context: &str, table: &str, candidates: impl Iterator<Item = &'a str>) -> Diagnostic {
    error(
        Code::UnknownColumn,
        ident.span,
        format!("{context} refers to `{}`, which is not a column of `{table}`", ident.name),
        format!("not a column of `{table}`"),
    )
    .suggest(
        &ident.name,
        candidates,
        "name a column of the table; text constants need single quotes: `'...'`",
    )
}

pub fn unknown_table<'a>(ident: &Ident, hub: &str, candidates: impl Iterator<Item = &'a str>) -> Diagnostic {
    error(
        Code::UnknownTable,
        ident.span,
        format!("hub `{hub}` has no table `{}`", ident.name),
        "unknown table",
    )
    .suggest(
        &ident.name,
        candidates,
        format!(
            "declare the table in hub `{hub}`, or qualify it with its hub: `other_hub.{}`",
            ident.name
        ),
    )
}

pub fn unknown_hub<'a>(ident: &Ident, candidates: impl Iterator<Item = &'a str>) -> Diagnostic {
    error(
        Code::UnknownHub,
        ident.span,
        format!("`{}` is neither a hub nor a schema of this hub", ident.name),
        "unknown hub or schema",
    )
    .suggest(
        &ident.name,
        candidates,
        "qualify a reference as `hub.table`, `schema.table` or `hub.schema.table`",
    )
}

pub fn unknown_role<'a>(ident: &Ident, hub: &str, candidates: impl Iterator<Item = &'a str>) -> Diagnostic {
    error(
        Code::UnknownRole,
        ident.span,
        format!("hub `{hub}` declares no role `{}`", ident.name),
        "unknown role",
    )
    .suggest(&ident.name, candidates, format!("declare it in hub `{hub}`: `role {}`", ident.name))
}

// ---- keys and references --------------------------------------------------

pub fn missing_primary_key(table: &Ident) -> Diagnostic {
    error(
        Code::MissingPrimaryKey,
        table.span,
        format!("table `{}` has no primary key", table.name),
        "no primary key",
    )
    .help("mark a column `primary key` (e.g. `id uuid primary key default gen_random_uuid()`) or add `primary key (a, b)`")
}

pub fn multiple_primary_keys(span: Span, first: Span, table: &str) -> Diagnostic {
    error(
        Code::MultiplePrimaryKeys,
        span,
        format!("table `{table}` declares its primary key twice"),
        "second primary key",
    )
    .note(first, "first declared")
    .help("for a composite key write one `primary key (a, b)` line and drop `primary key` from the columns")
}

pub fn reference_type_mismatch(local: &Ident, local_ty: &ColumnType, table: &str, remote: &str, remote_ty: &ColumnType) -> Diagnostic {
    error(
        Code::ReferenceTypeMismatch,
        local.span,
        format!(
            "`{}` is `{local_ty}` but refers to `{table}.{remote}`, which is `{remote_ty}`",
            local.name
        ),
        "type differs",
    )
    .help(format!("give `{}` the type `{remote_ty}`", local.name))
}

pub fn reference_not_unique(span: Span, table: &str, columns: &[&str]) -> Diagnostic {
    error(
        Code::ReferenceNotUnique,
        span,
        format!("the reference targets {} of `{table}`, which is not a key", list(columns)),
        "not a key",
    )
    .help(format!("refer to the primary key of `{table}` or to columns it declares `unique`"))
}

pub fn reference_column_count(span: Span, local: usize, remote: usize, table: &str) -> Diagnostic {
    error(
        Code::ReferenceColumnCount,
        span,
        format!("the reference has {local} column(s) but the target in `{table}` has {remote}"),
        "column counts differ",
    )
    .help("list as many target columns as referencing columns")
}

pub fn cross_hub_action(span: Span, hub: &str) -> Diagnostic {
    error(
        Code::CrossHubAction,
        span,
        format!("a reference into hub `{hub}` cannot have ON DELETE/ON UPDATE"),
        "no foreign key across databases",
    )
    .help("hubs are separate databases, so there is no foreign key to act; remove the action and handle deletion in the owning service")
}

pub fn set_null_not_nullable(span: Span, column: &str) -> Diagnostic {
    error(
        Code::SetNullNotNullable,
        span,
        format!("`set null` cannot clear `{column}`, which is not null"),
        "would violate not null",
    )
    .help(format!("make `{column}` nullable, or use `cascade` or `restrict`"))
}

// ---- table traits ---------------------------------------------------------

pub fn missing_option_argument(span: Span, option: &str, example: &str) -> Diagnostic {
    error(
        Code::MissingOptionArgument,
        span,
        format!("`{option}` needs an argument"),
        "argument missing",
    )
    .help(format!("write `{example}`"))
}

/// `who`: "tenant" or "owner"; `setting`: what RLS compares the column with.
pub fn scope_column_type(ty: &TypeRef, who: &str, column: &str, actual: &ColumnType, setting: &str) -> Diagnostic {
    error(
        Code::ScopeColumnType,
        ty.span,
        format!("{who} column `{column}` is `{actual}`, but {who} ids are uuid"),
        "not uuid",
    )
    .help(format!("declare `{column} uuid`; RLS compares it with `{setting}` as a uuid"))
}

pub fn missing_platform_role(column: &Ident, table: &str, hub: &str, who: &str) -> Diagnostic {
    error(
        Code::MissingPlatformRole,
        column.span,
        format!("{who} column `{}` of `{table}` is nullable, and hub `{hub}` has no platform role to own rows without one", column.name),
        "nullable",
    )
    .help(format!(
        "add `not null`, or declare `role {hub}_platform platform` in hub `{hub}`: rows without a {who} are then written only by that role, in a platform transaction"
    ))
}

pub fn global_column_not_null(column: &Ident, table: &str) -> Diagnostic {
    error(
        Code::GlobalColumnNotNull,
        column.span,
        format!(
            "`tenant_or_global` on `{table}`, but its tenant column `{}` is not null: no row can be global",
            column.name
        ),
        "not null",
    )
    .help("drop `not null` so rows without a tenant are shared by every tenant, or write `tenant_scoped`")
}

pub fn conflicting_scopes(span: Span, table: &str, first: &str, second: &str) -> Diagnostic {
    error(
        Code::ConflictingScopes,
        span,
        format!("table `{table}` is both `{first}` and `{second}`"),
        "second scope",
    )
    .help(match (first, second) {
        ("tenant_scoped", "tenant_or_global") | ("tenant_or_global", "tenant_scoped") => {
            "keep one: `tenant_or_global` when rows without a tenant are shared by every tenant, `tenant_scoped` otherwise".to_string()
        }
        ("shared", _) | (_, "shared") => "a `shared` table is read by every tenant, a scoped one is not: keep one".to_string(),
        _ => "`scoped_through` takes its parent's scope; drop the other trait, or scope the table by its own columns".to_string(),
    })
}

pub fn invalid_scoped_through(span: Span, table: &str, column: &str, problem: &str) -> Diagnostic {
    error(
        Code::InvalidScopedThrough,
        span,
        format!("`scoped_through({column})` on `{table}`: {problem}"),
        "cannot scope through this",
    )
    .help(format!(
        "name a column with `references <table>(id)` to a table of this hub that is itself scoped (tenant_scoped, tenant_or_global, owner_scoped or scoped_through); its policies then decide which `{table}` rows are visible"
    ))
}

pub fn invalid_platform_role(role: &Ident, problem: &str) -> Diagnostic {
    error(
        Code::InvalidPlatformRole,
        role.span,
        format!("platform role `{}` {problem}", role.name),
        "platform role",
    )
    .help("declare one `role <name> platform` per hub, without `bypassrls`: it writes rows without a tenant or owner through row-level security, not around it")
}

pub fn unscoped_tenant_data(column: &Ident, table: &str) -> Diagnostic {
    warning(
        Code::UnscopedTenantData,
        column.span,
        format!("table `{table}` holds tenant data in `{}` but is not scoped", column.name),
        "a tenant's column",
    )
    .help(format!(
        "write `table {table} tenant_scoped({})` (or `tenant_or_global`) so row-level security isolates it, or `table {table} shared` if every tenant may read every row",
        column.name
    ))
}

pub fn tenant_key_order(span: Span, table: &str, what: &str, columns: &[&str], tenant: &str) -> Diagnostic {
    let mut leading = vec![tenant];
    leading.extend(columns.iter().copied().filter(|c| *c != tenant));
    let help = if what == "index" {
        format!(
            "every query on `{table}` filters on `{tenant}`: index `({})` serves it with one range scan, and a table distributed by tenant needs it; `allow tenant-key-order` if this index serves queries across tenants",
            leading.join(", ")
        )
    } else {
        format!(
            "a key unique across tenants lets one tenant's value block another's and tells it the value exists: make it `unique ({})`, or `allow tenant-key-order` if the value is global by nature",
            leading.join(", ")
        )
    };
    warning(
        Code::TenantKeyOrder,
        span,
        format!(
            "{what} ({}) of tenant-scoped `{table}` does not start with `{tenant}`",
            list(columns)
        ),
        format!("does not start with `{tenant}`"),
    )
    .help(help)
}

pub fn permissive_policy(expr: &Expr, policy: &str, clause: &str, problem: &str) -> Diagnostic {
    error(
        Code::PermissivePolicy,
        expr.span,
        format!("the `{clause}` of policy `{policy}` {problem}"),
        "lets rows through",
    )
    .help(
        "compare the row with the session, e.g. `tenant_id = (select nullif(current_setting('app.current_tenant_id', true), '')::uuid)`, so a missing setting matches nothing; a role that must read everything is declared `bypassrls`",
    )
}

pub fn invalid_allow(code: &Ident, allowable: &[Code]) -> Diagnostic {
    let names: Vec<&str> = allowable.iter().map(|c| c.as_str()).collect();
    error(
        Code::InvalidAllow,
        code.span,
        format!("`allow {}` names no warning a table can silence", code.name),
        "not an allowable warning",
    )
    .suggest(
        &code.name,
        names.iter().copied(),
        format!("a table may allow {}; errors cannot be allowed", list(&names)),
    )
}

pub fn duplicate_distribution(dup: &Ident, previous: &Ident) -> Diagnostic {
    error(
        Code::DuplicateDistribution,
        dup.span,
        format!("the hub is already `distributed by {}`", previous.name),
        "second `distributed by`",
    )
    .note(previous.span, "first declared")
    .help("a hub shards all its tables by one column: keep one `distributed by`")
}

pub fn undistributed_table(table: &Ident, hub: &str, column: &str, problem: &str) -> Diagnostic {
    error(
        Code::UndistributedTable,
        table.span,
        format!("table `{}` of distributed hub `{hub}` {problem}", table.name),
        "cannot be placed on a Citus cluster",
    )
    .help(format!(
        "give it a not-null `{column}` (scoped by it) so it is sharded with its tenant's rows, or mark it `shared` to copy it to every node as a reference table"
    ))
}

pub fn distribution_key(span: Span, table: &str, what: &str, columns: &[&str], column: &str) -> Diagnostic {
    let mut with = vec![column];
    with.extend(columns.iter().copied());
    error(
        Code::DistributionKey,
        span,
        format!(
            "{what} ({}) of distributed table `{table}` does not include `{column}`",
            list(columns)
        ),
        format!("needs `{column}`"),
    )
    .help(format!(
        "Citus enforces uniqueness per node only when the key holds the distribution column: make it ({})",
        with.join(", ")
    ))
}

pub fn distribution_foreign_key(span: Span, table: &str, target: &str, problem: &str, help: &str) -> Diagnostic {
    error(
        Code::DistributionForeignKey,
        span,
        format!("the foreign key from `{table}` to `{target}` {problem}"),
        "foreign key",
    )
    .help(help.to_string())
}

pub fn scope_index_missing(span: Span, table: &str, column: &str) -> Diagnostic {
    warning(
        Code::ScopeIndexMissing,
        span,
        format!("scoped table `{table}` has no index that starts with `{column}`"),
        "every query filters on this column",
    )
    .help(format!(
        "add `index idx_{table}_{column} ({column})` so RLS filters by index, not by scan"
    ))
}

pub fn soft_delete_column_type(ty: &TypeRef, column: &str, problem: &str) -> Diagnostic {
    error(
        Code::SoftDeleteColumnType,
        ty.span,
        format!("soft-delete column `{column}` cannot mark deletion: {problem}"),
        "wrong type",
    )
    .help(format!(
        "use `{column} timestamptz` (null = live) or `is_deleted boolean not null default false`"
    ))
}

pub fn version_column_type(ty: &TypeRef, column: &str) -> Diagnostic {
    error(
        Code::VersionColumnType,
        ty.span,
        format!("version column `{column}` must be a not-null integer with a default"),
        "not a version counter",
    )
    .help(format!("declare `{column} integer not null default 1`"))
}

pub fn touch_column_type(span: Span, column: &str, actual: &ColumnType) -> Diagnostic {
    error(
        Code::TouchColumnType,
        span,
        format!("`@touch` sets `{column}` to now(), but it is `{actual}`"),
        "not a timestamp",
    )
    .help("use `@touch` on a `timestamp`, `timestamptz` or `date` column")
}

pub fn rename_conflict(span: Span, kind: &str, old: &str) -> Diagnostic {
    error(
        Code::RenameConflict,
        span,
        format!("the rename hint names `{old}`, but a {kind} `{old}` still exists"),
        "still exists",
    )
    .help(format!(
        "a rename hint names the old {kind}, which no longer exists; remove the hint or the old {kind}"
    ))
}

// ---- partitions -----------------------------------------------------------

pub fn partition_key_not_in_key(column: &Ident, what: &str, key: &[&str]) -> Diagnostic {
    partition_key_not_in_key_span(column.span, column, what, key)
}

pub fn partition_key_not_in_key_span(span: Span, column: &Ident, what: &str, key: &[&str]) -> Diagnostic {
    error(
        Code::PartitionKeyNotInKey,
        span,
        format!("{what} ({}) does not include the partition key `{}`", list(key), column.name),
        "missing the partition key",
    )
    .help(format!(
        "PostgreSQL enforces uniqueness per partition, so add `{}` to it, e.g. `primary key (id, {})`",
        column.name, column.name
    ))
}

pub fn partition_column_type(column: &Ident, actual: &ColumnType) -> Diagnostic {
    error(
        Code::PartitionColumnType,
        column.span,
        format!("partition key `{}` is `{actual}`", column.name),
        "not a time or integer column",
    )
    .help("range partitions split time or integer columns; partition by a `timestamp`, `timestamptz`, `date` or integer column")
}

/// Partition upkeep or row retention that cannot work as written.
pub fn invalid_upkeep(span: Span, problem: impl Into<String>, label: &str, help: impl Into<String>) -> Diagnostic {
    error(Code::InvalidUpkeep, span, problem.into(), label).help(help.into())
}

/// An audited table or an audit log that cannot work as written.
pub fn invalid_audit(span: Span, problem: impl Into<String>, label: &str, help: impl Into<String>) -> Diagnostic {
    error(Code::InvalidAudit, span, problem.into(), label).help(help.into())
}

/// An `@encrypted` column used where ciphertext cannot serve.
pub fn invalid_encryption(span: Span, problem: impl Into<String>, label: &str, help: impl Into<String>) -> Diagnostic {
    error(Code::InvalidEncryption, span, problem.into(), label).help(help.into())
}

/// An `on erase` rule or a `data_subject` erasure cannot follow.
pub fn invalid_erasure(span: Span, problem: impl Into<String>, label: &str, help: impl Into<String>) -> Diagnostic {
    error(Code::InvalidErasure, span, problem.into(), label).help(help.into())
}

/// A finding of the erasure derivation, at the line its anchor names.
pub fn erasure_finding(span: Span, finding: &crate::erasure::Finding) -> Diagnostic {
    let message = finding.message.clone();
    let diagnostic = if finding.error {
        error(Code::InvalidErasure, span, message, finding.label)
    } else {
        warning(Code::UnerasedPersonalData, span, message, finding.label)
    };
    diagnostic.help(finding.help.clone())
}

/// An audit log that nothing ever trims.
pub fn unbounded_audit_log(span: Span, table: &str) -> Diagnostic {
    warning(
        Code::UnboundedAuditLog,
        span,
        format!("audit log `{table}` keeps every row forever: it grows with every change to every audited table"),
        "no retention",
    )
    .help("partition it by month and retire old months: `partition by range (occurred_at) every 1 month retain 1 year` (or `allow unbounded-audit-log`)")
}

pub fn partition_without_range(name: &Ident, table: &str) -> Diagnostic {
    error(
        Code::PartitionWithoutRange,
        name.span,
        format!("partition `{}` of a table `{table}` that is not partitioned", name.name),
        "no `partition by`",
    )
    .help("add `partition by range (column)` to the table")
}

pub fn no_partitions(column: &Ident, table: &str) -> Diagnostic {
    warning(
        Code::NoPartitions,
        column.span,
        format!("partitioned table `{table}` has no partitions, so every insert fails"),
        "no partitions",
    )
    .help(format!(
        "add one, e.g. `partition {table}_2026_01 from '2026-01-01' to '2026-02-01'`"
    ))
}

pub fn partition_bounds(span: Span, problem: &str) -> Diagnostic {
    partition_bounds_help(span, problem, "`from` is inclusive and `to` exclusive; ranges must not overlap")
}

pub fn partition_bounds_help(span: Span, problem: &str, help: &str) -> Diagnostic {
    error(
        Code::InvalidPartitionBounds,
        span,
        format!("invalid partition bounds: {problem}"),
        "bounds",
    )
    .help(help.to_string())
}

// ---- indexes, policies, grants ---------------------------------------------

pub fn invalid_index_method<'a>(method: &Ident, known: impl Iterator<Item = &'a str>) -> Diagnostic {
    let known: Vec<&str> = known.collect();
    error(
        Code::InvalidIndexMethod,
        method.span,
        format!("unknown index method `{}`", method.name),
        "not an index method",
    )
    .suggest(&method.name, known.iter().copied(), format!("methods are {}", list(&known)))
}

pub fn invalid_index_option(span: Span, problem: &str, help: &str) -> Diagnostic {
    error(Code::InvalidIndexOption, span, problem.to_string(), "here").help(help.to_string())
}

pub fn invalid_policy_command(command: &Ident, known: &[&str]) -> Diagnostic {
    error(
        Code::InvalidPolicyCommand,
        command.span,
        format!("`{}` is not a policy command", command.name),
        "unknown command",
    )
    .suggest(&command.name, known.iter().copied(), format!("commands are {}", list(known)))
}

pub fn policy_clause(command: &Ident, clause: &str, instead: &str) -> Diagnostic {
    let name = command.name.to_ascii_lowercase();
    error(
        Code::InvalidPolicyCommand,
        command.span,
        format!("a `for {name}` policy cannot have `{clause}`"),
        "wrong clause for this command",
    )
    .help(format!("use `{instead} (...)` for `{name}` policies, or `for all` to have both"))
}

pub fn invalid_privilege(privilege: &Ident, known: &[&str]) -> Diagnostic {
    error(
        Code::InvalidPrivilege,
        privilege.span,
        format!("`{}` is not a table privilege", privilege.name),
        "unknown privilege",
    )
    .suggest(&privilege.name, known.iter().copied(), format!("privileges are {}", list(known)))
}

pub fn readonly_write_grant(privilege: &Ident, hub: &str) -> Diagnostic {
    error(
        Code::InvalidPrivilege,
        privilege.span,
        format!("hub `{hub}` is readonly, so it cannot grant `{}`", privilege.name),
        "write privilege",
    )
    .help("readonly hubs grant `select` only; remove `readonly` from the hub if it is written to")
}

// ---- settings -------------------------------------------------------------

/// The settings a schema may `set`, with what each takes.
pub const SETTINGS: &[&str] = &["lock_timeout"];

pub fn unknown_setting(name: &Ident) -> Diagnostic {
    error(
        Code::UnknownSetting,
        name.span,
        format!("there is no setting `{}`", name.name),
        "unknown setting",
    )
    .suggest(&name.name, SETTINGS.iter().copied(), format!("the settings are {}", list(SETTINGS)))
}

pub fn invalid_lock_timeout(span: Span, value: &str) -> Diagnostic {
    error(
        Code::InvalidSettingValue,
        span,
        format!("`lock_timeout` takes a duration, not '{value}'"),
        "not a duration",
    )
    .help("write a number with a unit, such as '5s', '500ms' or '1min' ('0' waits forever: not advised)")
}

pub fn duplicate_setting(dup: &Ident, previous: &Ident, scope: &str) -> Diagnostic {
    duplicate(Code::DuplicateSetting, dup, previous, "setting", scope)
}
