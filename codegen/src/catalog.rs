//! The catalog view of a hub: exactly what PostgreSQL records about it,
//! keyed by name and in canonical form. `expected` derives it from the IR
//! (pure); `hubgen-live` reads it from a database; `diff` compares the two.
//!
//! Annotations PostgreSQL cannot hold (`@sensitive`, `@touch`, `@format`,
//! soft delete, optimistic locking, cross-hub references, rename hints) are
//! not part of the catalog; everything else is.

use crate::sql;
use hubgen_schema::ir;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Catalog {
    /// Schemas other than `public`.
    pub schemas: BTreeSet<String>,
    /// `schema.name` → enum.
    pub enums: BTreeMap<String, Enum>,
    /// `schema.name` → table (partitions appear under their parent).
    pub tables: BTreeMap<String, Table>,
    /// hubgen's erase function, `hubgen.erase_<hub>_subject(type)` → a hash of its body.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub functions: BTreeMap<String, String>,
    /// Tenant schemas the registry (`hubgen.tenant_schemas`) lists: each is
    /// compared with the template, not with the hub.
    #[serde(skip)]
    pub tenant_schemas: BTreeSet<String>,
}

impl Catalog {
    /// Splits the registered tenant schemas off: the hub's own catalog, and
    /// each tenant schema's with its name replaced by the template placeholder
    /// (as `expected` of the template hub writes it).
    pub fn split_tenants(&self) -> (Catalog, Vec<(String, Catalog)>) {
        let mut own = self.clone();
        own.tenant_schemas.clear();
        let mut tenants = Vec::new();
        for schema in &self.tenant_schemas {
            let prefix = format!("{schema}.");
            let rename = |key: &str| format!("{}.{}", crate::tenant::PLACEHOLDER, &key[prefix.len()..]);
            let mut tenant = Catalog::default();
            if own.schemas.remove(schema) {
                tenant.schemas.insert(crate::tenant::PLACEHOLDER.to_string());
            }
            let enums: Vec<String> = own.enums.keys().filter(|k| k.starts_with(&prefix)).cloned().collect();
            for key in enums {
                let e = own.enums.remove(&key).unwrap_or_default();
                tenant.enums.insert(rename(&key), e);
            }
            let tables: Vec<String> = own.tables.keys().filter(|k| k.starts_with(&prefix)).cloned().collect();
            for key in tables {
                let mut table = own.tables.remove(&key).unwrap_or_default();
                for fk in table.foreign_keys.values_mut() {
                    if fk.references.starts_with(&prefix) {
                        fk.references = rename(&fk.references);
                    }
                }
                tenant.tables.insert(rename(&key), table);
            }
            tenants.push((schema.clone(), tenant));
        }
        (own, tenants)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Enum {
    pub values: Vec<String>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Table {
    pub comment: Option<String>,
    /// Column names in table order. Not compared: PostgreSQL appends added
    /// columns, so the order of an evolved table differs from the schema's.
    #[serde(skip)]
    pub column_order: Vec<String>,
    pub columns: BTreeMap<String, Column>,
    pub primary_key: Option<Key>,
    pub uniques: BTreeMap<String, Vec<String>>,
    pub checks: BTreeMap<String, String>,
    pub foreign_keys: BTreeMap<String, ForeignKey>,
    pub indexes: BTreeMap<String, Index>,
    pub partition_key: Option<String>,
    /// Partition name → `from .. to` (not for tables with upkeep, whose
    /// partitions come and go with the calendar).
    pub partitions: BTreeMap<String, String>,
    /// pg_partman's upkeep: `monthly premake 3 retain 90 days archive`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upkeep: Option<String>,
    /// The audit trigger: `hubgen.audit_<hub>(arguments)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<String>,
    /// Partitions whose security differs from this table's → how.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub insecure_partitions: BTreeMap<String, String>,
    pub rls_enabled: bool,
    pub rls_forced: bool,
    pub policies: BTreeMap<String, Policy>,
    /// Role → privileges (the owner's own are left out).
    pub grants: BTreeMap<String, BTreeSet<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Column {
    pub ty: String,
    pub nullable: bool,
    pub default: Option<String>,
    pub generated: Option<String>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Key {
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    pub references: String,
    pub ref_columns: Vec<String>,
    pub on_delete: String,
    pub on_update: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Index {
    pub unique: bool,
    pub method: String,
    /// Column names, `desc` appended for descending ones.
    pub columns: Vec<String>,
    pub predicate: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub command: String,
    pub roles: Vec<String>,
    pub using: Option<String>,
    pub with_check: Option<String>,
}

/// The catalog a hub's migrations produce.
pub fn expected(hub: &ir::Hub) -> Catalog {
    let mut catalog = Catalog {
        schemas: hub.schemas.iter().cloned().collect(),
        ..Catalog::default()
    };
    if let Some(f) = sql::erasure::function(hub) {
        catalog
            .functions
            .insert(format!("{}({})", f.name.label(), f.key), crate::hash::hex(f.source().as_bytes()));
    }
    for e in &hub.enums {
        catalog.enums.insert(
            format!("{}.{}", e.schema, e.name),
            Enum {
                values: e.values.clone(),
                comment: e.docs.clone(),
            },
        );
    }
    for t in &hub.tables {
        let mut table = Table {
            comment: t.docs.clone(),
            column_order: t.columns.iter().map(|c| c.name.clone()).collect(),
            primary_key: t.primary_key.as_ref().map(|k| Key {
                name: k.name.clone(),
                columns: k.columns.clone(),
            }),
            partition_key: t.partitioning.as_ref().map(|p| match p.method {
                ir::PartitionMethod::Range => p.column.clone(),
                method => format!("{} ({})", method.keyword().to_ascii_lowercase(), p.column),
            }),
            rls_enabled: sql::access_rls_enabled(t),
            rls_forced: sql::access_rls_enabled(t),
            ..Table::default()
        };
        for c in &t.columns {
            table.columns.insert(
                c.name.clone(),
                Column {
                    ty: c.ty.to_string(),
                    nullable: c.nullable,
                    default: c.default.as_deref().map(normalize_expr),
                    generated: c.generated.as_deref().map(normalize_expr),
                    comment: c.docs.clone(),
                },
            );
        }
        for u in &t.uniques {
            table.uniques.insert(u.name.clone(), u.columns.clone());
        }
        for c in &t.checks {
            table.checks.insert(c.name.clone(), normalize_expr(&c.expr));
        }
        for fk in &t.foreign_keys {
            table.foreign_keys.insert(
                fk.name.clone(),
                ForeignKey {
                    columns: fk.columns.clone(),
                    references: format!("{}.{}", fk.ref_schema, fk.ref_table),
                    ref_columns: fk.ref_columns.clone(),
                    on_delete: fk.on_delete.sql().to_string(),
                    on_update: fk.on_update.sql().to_string(),
                },
            );
        }
        for i in &t.indexes {
            table.indexes.insert(
                i.name.clone(),
                Index {
                    unique: i.unique,
                    method: i.method.as_str().to_string(),
                    columns: i
                        .columns
                        .iter()
                        .map(|c| if c.descending { format!("{} desc", c.name) } else { c.name.clone() })
                        .collect(),
                    predicate: i.predicate.as_deref().map(normalize_expr),
                },
            );
        }
        table.upkeep = t.partitioning.as_ref().and_then(|p| p.upkeep.as_ref()).map(upkeep_label);
        if let Some(partitioning) = &t.partitioning {
            for p in &partitioning.partitions {
                let bound = match (partitioning.method, p.remainder) {
                    _ if p.default => "default".to_string(),
                    (ir::PartitionMethod::Hash { modulus }, Some(r)) => format!("modulus {modulus} remainder {r}"),
                    (ir::PartitionMethod::List, _) => {
                        let values: Vec<String> = p.values.iter().map(|v| normalize_bound(v)).collect();
                        format!("in ({})", values.join(", "))
                    }
                    _ => format!("{} .. {}", normalize_bound(&p.from), normalize_bound(&p.to)),
                };
                table.partitions.insert(p.name.clone(), bound);
            }
        }
        for p in sql::scope_policies(hub, t) {
            table.policies.insert(
                p.name,
                Policy {
                    command: p.command.unwrap_or_else(|| "all".into()),
                    roles: vec![p.role.unwrap_or_else(|| "public".into())],
                    using: p.using.as_deref().map(normalize_expr),
                    with_check: p.with_check.as_deref().map(normalize_expr),
                },
            );
        }
        for p in &t.policies {
            table.policies.insert(
                p.name.clone(),
                Policy {
                    command: p.command.clone(),
                    roles: vec![p.role.clone()],
                    using: p.using.as_deref().map(normalize_expr),
                    with_check: p.with_check.as_deref().map(normalize_expr),
                },
            );
        }
        for (role, privileges) in sql::table_privileges(hub, t) {
            table.grants.entry(role).or_default().extend(privileges);
        }
        table.audit = sql::audit::trigger(hub, t).map(|trigger| trigger.signature());
        catalog.tables.insert(format!("{}.{}", t.schema, t.name), table);
    }
    catalog
}

/// One difference between an expected and an actual catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// Where: `tables.public.users.columns.email.default`.
    pub path: String,
    pub expected: Option<String>,
    pub actual: Option<String>,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.expected, &self.actual) {
            (Some(e), None) => write!(f, "missing {}: expected {e}", self.path),
            (None, Some(a)) => write!(f, "extra {}: {a}", self.path),
            (Some(e), Some(a)) => write!(f, "{}: expected {e}, found {a}", self.path),
            (None, None) => write!(f, "{}", self.path),
        }
    }
}

/// Every difference, in a stable order. Empty means identical.
pub fn diff(expected: &Catalog, actual: &Catalog) -> Vec<Difference> {
    let mut out = Vec::new();
    let e = serde_json::to_value(expected).unwrap_or_default();
    let a = serde_json::to_value(actual).unwrap_or_default();
    walk("", &e, &a, &mut out);
    out
}

fn walk(path: &str, expected: &serde_json::Value, actual: &serde_json::Value, out: &mut Vec<Difference>) {
    use serde_json::Value;
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let keys: BTreeSet<&String> = e.keys().chain(a.keys()).collect();
            for key in keys {
                match (e.get(key), a.get(key)) {
                    (Some(ev), Some(av)) => walk(&join(key), ev, av, out),
                    (Some(ev), None) => out.push(Difference {
                        path: join(key),
                        expected: Some(ev.to_string()),
                        actual: None,
                    }),
                    (None, Some(av)) => out.push(Difference {
                        path: join(key),
                        expected: None,
                        actual: Some(av.to_string()),
                    }),
                    (None, None) => {}
                }
            }
        }
        _ if expected == actual => {}
        (Value::Null, _) => out.push(Difference {
            path: path.to_string(),
            expected: None,
            actual: Some(actual.to_string()),
        }),
        (_, Value::Null) => out.push(Difference {
            path: path.to_string(),
            expected: Some(expected.to_string()),
            actual: None,
        }),
        _ => out.push(Difference {
            path: path.to_string(),
            expected: Some(expected.to_string()),
            actual: Some(actual.to_string()),
        }),
    }
}

/// Upkeep as the catalog compares it: `monthly premake 3 retain 90 days archive`.
pub fn upkeep_label(upkeep: &ir::Upkeep) -> String {
    let mut label = format!("{} premake {}", upkeep.interval, upkeep.premake);
    if let Some(keep) = &upkeep.retain {
        label.push_str(&format!(" retain {keep}"));
    }
    if upkeep.archive {
        label.push_str(" archive");
    }
    label
}

/// A partition bound as PostgreSQL prints it and as the schema writes it
/// compare equal: `'2026-02-01 00:00:00+00'` and `'2026-02-01'` are one day.
pub fn normalize_bound(text: &str) -> String {
    let inner = text.trim().trim_matches('\'');
    let inner = inner.strip_suffix("+00").or_else(|| inner.strip_suffix("+00:00")).unwrap_or(inner);
    let inner = inner.strip_suffix(" 00:00:00").unwrap_or(inner);
    if text.trim().starts_with('\'') {
        format!("'{inner}'")
    } else {
        inner.to_ascii_uppercase()
    }
}

/// Canonical form of a SQL expression for comparison only: keywords and
/// names lowercased, casts and parentheses dropped, `= ANY (ARRAY[...])`
/// read as `IN (...)`, `BETWEEN` expanded — the rewrites PostgreSQL applies
/// when it stores an expression.
pub fn normalize_expr(text: &str) -> String {
    let tokens = tokenize(text);
    let mut out: Vec<String> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        if t == "::" {
            i = skip_type(&tokens, i + 1);
            continue;
        }
        if t == "(" || t == ")" {
            i += 1;
            continue;
        }
        // `AS "alias"` PostgreSQL adds to a scalar sub-select.
        if t == "as" && tokens.get(i + 1).is_some_and(|n| n.starts_with('"')) {
            i += 2;
            continue;
        }
        out.push(t.clone());
        i += 1;
    }
    // = any array [ ... ]  →  in ...   and   <> all array [ ... ]  →  not in ...
    let mut rewritten: Vec<String> = Vec::with_capacity(out.len());
    let mut close_brackets = 0usize;
    let mut j = 0;
    while j < out.len() {
        let window: Vec<&str> = out[j..(j + 4).min(out.len())].iter().map(String::as_str).collect();
        match window.as_slice() {
            ["=", "any", "array", "[", ..] => {
                rewritten.push("in".into());
                close_brackets += 1;
                j += 4;
            }
            ["<>", "all", "array", "[", ..] => {
                rewritten.extend(["not".into(), "in".into()]);
                close_brackets += 1;
                j += 4;
            }
            ["]", ..] if close_brackets > 0 => {
                close_brackets -= 1;
                j += 1;
            }
            _ => {
                rewritten.push(out[j].clone());
                j += 1;
            }
        }
    }
    // x between a and b  →  x >= a and x <= b
    let mut k = 0;
    while k < rewritten.len() {
        if rewritten[k] == "between" && k > 0 && k + 3 < rewritten.len() + 1 && rewritten.get(k + 2).is_some_and(|t| t == "and") {
            let x = rewritten[k - 1].clone();
            let lo = rewritten[k + 1].clone();
            let hi = rewritten.get(k + 3).cloned().unwrap_or_default();
            rewritten.splice(
                k - 1..(k + 4).min(rewritten.len()),
                [x.clone(), ">=".into(), lo, "and".into(), x, "<=".into(), hi],
            );
            k += 5;
        } else {
            k += 1;
        }
    }
    let unquoted: Vec<String> = rewritten.iter().map(|t| t.trim_matches('"').to_string()).collect();
    // `public.wallets` → `wallets`: PostgreSQL leaves out the schema that is on the search path.
    let mut out: Vec<&str> = Vec::with_capacity(unquoted.len());
    let mut m = 0;
    while m < unquoted.len() {
        if unquoted[m] == hubgen_schema::DEFAULT_SCHEMA && unquoted.get(m + 1).is_some_and(|t| t == ".") {
            m += 2;
            continue;
        }
        out.push(&unquoted[m]);
        m += 1;
    }
    out.join(" ")
}

/// Skips a type name after `::`: `text`, `character varying(255)`,
/// `timestamp without time zone`, `public.status`, `text[]`.
fn skip_type(tokens: &[String], mut i: usize) -> usize {
    let at = |i: usize, s: &str| tokens.get(i).is_some_and(|t| t == s);
    if i >= tokens.len() {
        return i;
    }
    let first = tokens[i].clone();
    i += 1;
    if at(i, ".") {
        i += 2;
    }
    match first.as_str() {
        "character" | "bit" if at(i, "varying") => i += 1,
        "double" if at(i, "precision") => i += 1,
        "timestamp" | "time" if at(i, "with") || at(i, "without") => i += 3,
        _ => {}
    }
    if at(i, "(") {
        while i < tokens.len() && tokens[i] != ")" {
            i += 1;
        }
        i += 1;
    }
    while at(i, "[") && at(i + 1, "]") {
        i += 2;
    }
    i
}

fn tokenize(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' || c == '"' {
            let start = i;
            i += 1;
            while i < chars.len() {
                if chars[i] == c {
                    if chars.get(i + 1) == Some(&c) {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i = (i + 1).min(chars.len());
            let token: String = chars[start..i].iter().collect();
            // Quoted identifiers compare by name; literals stay as written.
            tokens.push(if c == '"' {
                format!("\"{}", token.trim_matches('"').to_lowercase())
            } else {
                token
            });
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric()
                    || chars[i] == '_'
                    || chars[i] == '$'
                    || chars[i] == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()) && chars[start].is_ascii_digit())
            {
                i += 1;
            }
            tokens.push(chars[start..i].iter().collect::<String>().to_lowercase());
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            tokens.push("::".into());
            i += 2;
        } else if "+-*/<>=~!@#%^&|`?".contains(c) {
            let start = i;
            while i < chars.len() && "+-*/<>=~!@#%^&|`?".contains(chars[i]) {
                i += 1;
            }
            let op: String = chars[start..i].iter().collect();
            tokens.push(if op == "!=" { "<>".into() } else { op });
        } else {
            tokens.push(c.to_string());
            i += 1;
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::normalize_expr as n;

    #[test]
    fn postgres_spellings_normalize_like_the_schema() {
        assert_eq!(n("'USER'::character varying"), n("'USER'"));
        assert_eq!(
            n("((role)::text = ANY ((ARRAY['user'::character varying, 'system'::character varying])::text[]))"),
            n("role in ('user', 'system')")
        );
        assert_eq!(
            n("((expiry_month >= 1) AND (expiry_month <= 12))"),
            n("expiry_month between 1 and 12")
        );
        assert_eq!(n("now()"), n("NOW()"));
        assert_eq!(n("'{}'::jsonb"), n("'{}'"));
        assert_eq!(
            n("(tenant_id = ( SELECT (NULLIF(current_setting('app.current_tenant_id'::text, true), ''::text))::uuid AS \"nullif\"))"),
            n("\"tenant_id\" = (SELECT NULLIF(current_setting('app.current_tenant_id', true), '')::uuid)")
        );
        assert_eq!(n("(price >= (0)::numeric)"), n("price >= 0"));
        assert_ne!(n("'USER'"), n("'user'"), "literals keep their case");
        assert_ne!(n("a > 1"), n("a > 2"));
    }
}
