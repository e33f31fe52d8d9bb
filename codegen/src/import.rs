//! Import: an existing database, as its catalog describes it ([`Database`],
//! read by `hubgen_live::import`), written back as schema text. Expressions
//! (defaults, checks, predicates, policies) are PostgreSQL's own
//! `pg_get_expr` text, which the schema language takes verbatim; hubgen's
//! own conventions are recognised (its isolation policies become
//! `tenant_scoped(…)` and friends, its roles and grants are implied), and
//! whatever the language cannot say is named in [`Imported::unsupported`].

use crate::sql::access::{owner_predicate, tenant_predicate};
use std::fmt::Write;

/// What the catalog holds, raw.
#[derive(Debug, Clone, Default)]
pub struct Database {
    pub name: String,
    pub comment: Option<String>,
    /// Extensions other than PostgreSQL's own `plpgsql`.
    pub extensions: Vec<String>,
    /// Schemas other than `public` holding the hub's objects.
    pub schemas: Vec<String>,
    pub roles: Vec<Role>,
    pub enums: Vec<Enum>,
    pub tables: Vec<Table>,
}

#[derive(Debug, Clone, Default)]
pub struct Role {
    pub name: String,
    pub bypass_rls: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Enum {
    pub schema: String,
    pub name: String,
    pub values: Vec<String>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Table {
    pub schema: String,
    pub name: String,
    pub comment: Option<String>,
    pub owner: String,
    pub columns: Vec<Column>,
    pub constraints: Vec<Constraint>,
    pub indexes: Vec<Index>,
    /// `pg_get_partkeydef`: `RANGE (occurred_at)`.
    pub partition_key: Option<String>,
    /// Partition name → `pg_get_expr(relpartbound)`: `FOR VALUES FROM (…) TO (…)`.
    pub partitions: Vec<(String, String)>,
    /// pg_partman's `every … premake … retain …` for this table, when it keeps it.
    pub upkeep: Option<String>,
    pub rls_enabled: bool,
    pub rls_forced: bool,
    pub policies: Vec<Policy>,
    /// Role → privileges (lowercase), the owner's left out.
    pub grants: Vec<(String, Vec<String>)>,
    /// hubgen's audit trigger is on the table.
    pub audited: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Column {
    pub name: String,
    /// `format_type`: `character varying(255)`.
    pub ty: String,
    /// The type is an enum of the database.
    pub is_enum: bool,
    pub not_null: bool,
    pub default: Option<String>,
    pub generated: Option<String>,
    pub comment: Option<String>,
    /// The audit trigger masks it: the schema marked it `@sensitive`.
    pub sensitive: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Constraint {
    pub name: String,
    /// `p`, `u`, `c` or `f`, as `pg_constraint.contype`.
    pub kind: char,
    pub columns: Vec<String>,
    /// A check's expression.
    pub check: Option<String>,
    /// A foreign key's `schema.table`, columns and actions (`a`, `r`, `c`, `n`, `d`).
    pub references: Option<(String, Vec<String>, char, char)>,
}

#[derive(Debug, Clone, Default)]
pub struct Index {
    pub name: String,
    pub unique: bool,
    pub method: String,
    /// Column names, `None` for an expression.
    pub columns: Vec<Option<String>>,
    pub descending: Vec<bool>,
    pub predicate: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub name: String,
    /// `all`, `select`, `insert`, `update` or `delete`.
    pub command: String,
    pub roles: Vec<String>,
    pub using: Option<String>,
    pub with_check: Option<String>,
}

/// Schema text, and what it could not express.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    pub text: String,
    pub unsupported: Vec<String>,
}

/// The schema text of `db` as hub `hub`.
pub fn schema_text(db: &Database, hub: &str) -> Imported {
    let mut out = Imported::default();
    let erasure = crate::sql::erasure::role(hub);
    let standard = |role: &str| {
        [
            format!("{hub}_owner"),
            format!("{hub}_app"),
            format!("{hub}_readonly"),
            erasure.clone(),
        ]
        .contains(&role.to_string())
    };
    if db.roles.iter().any(|r| r.name == erasure) || db.tables.iter().any(|t| t.grants.iter().any(|(r, _)| *r == erasure)) {
        out.unsupported.push(format!(
            "erasure (`{erasure}` and its erase function): hubgen derives them from `data_subject` and `on erase` rules, which it cannot read back; declare those"
        ));
    }
    let scopes: Vec<Scope> = db.tables.iter().map(|t| Scope::of(t, &mut out.unsupported)).collect();
    let platform = scopes.iter().find_map(|s| s.platform_role.clone());
    let readonly = !db.tables.is_empty()
        && db.tables.iter().all(|t| {
            t.grants
                .iter()
                .find(|(role, _)| *role == format!("{hub}_app"))
                .is_some_and(|(_, p)| p.iter().all(|p| p == "select"))
        });

    let text = &mut out.text;
    if let Some(comment) = &db.comment {
        docs(text, comment, "");
    }
    let _ = writeln!(text, "hub {hub} database {}{} {{", db.name, if readonly { " readonly" } else { "" });
    for extension in &db.extensions {
        let _ = writeln!(text, "  extension {extension}");
    }
    for role in db.roles.iter().filter(|r| !standard(&r.name)) {
        let mut line = format!("  role {}", role.name);
        if role.bypass_rls {
            line.push_str(" bypassrls");
        }
        if platform.as_deref() == Some(role.name.as_str()) {
            line.push_str(" platform");
        }
        let _ = writeln!(text, "{line}");
    }
    let mut schemas: Vec<&str> = vec!["public"];
    schemas.extend(db.schemas.iter().map(String::as_str).filter(|s| *s != "public"));
    for schema in schemas {
        let indent = if schema == "public" { "  " } else { "    " };
        let mut body = String::new();
        for e in db.enums.iter().filter(|e| e.schema == schema) {
            body.push('\n');
            if let Some(comment) = &e.comment {
                docs(&mut body, comment, indent);
            }
            let _ = writeln!(body, "{indent}enum {} {{", e.name);
            for value in &e.values {
                let _ = writeln!(body, "{indent}  {}", enum_value(value));
            }
            let _ = writeln!(body, "{indent}}}");
        }
        for (table, scope) in db.tables.iter().zip(&scopes).filter(|(t, _)| t.schema == schema) {
            body.push('\n');
            write_table(&mut body, table, scope, hub, readonly, indent, &mut out.unsupported);
        }
        if schema == "public" {
            text.push_str(&body);
        } else {
            let _ = writeln!(text, "\n  schema {schema} {{{body}  }}");
        }
    }
    text.push_str("}\n");
    // Owners other than hubgen's, once per owner: the generated migration makes `<hub>_owner` the owner.
    let mut owners: Vec<(&str, usize)> = Vec::new();
    for table in db
        .tables
        .iter()
        .filter(|t| !t.owner.is_empty() && t.owner != format!("{hub}_owner"))
    {
        match owners.iter_mut().find(|(o, _)| *o == table.owner) {
            Some((_, n)) => *n += 1,
            None => owners.push((&table.owner, 1)),
        }
    }
    for (owner, count) in owners {
        out.unsupported.push(format!(
            "{count} table(s) owned by `{owner}`: hubgen makes `{hub}_owner` the owner and grants `{hub}_app` and `{hub}_readonly`"
        ));
    }
    out
}

/// The hubgen scope a table's policies spell, and the policies left over.
#[derive(Debug, Default)]
struct Scope {
    options: Vec<String>,
    /// hubgen's `audit_writer` policy marks the hub's audit log.
    audit_log: bool,
    platform_role: Option<String>,
    /// Policies that are not hubgen's own: declared as they are.
    declared: Vec<Policy>,
}

impl Scope {
    fn of(table: &Table, unsupported: &mut Vec<String>) -> Scope {
        let mut scope = Scope::default();
        let label = format!("{}.{}", table.schema, table.name);
        let mut tenant = None;
        let mut owner = None;
        for policy in &table.policies {
            let using = policy.using.as_deref().unwrap_or_default();
            match policy.name.as_str() {
                "tenant_isolation" | "owner_isolation" | "tenant_owner_isolation" | "parent_isolation" => {
                    let (t, o, through) = isolation_columns(using);
                    if t.is_none() && o.is_none() && through.is_none() {
                        // hubgen's name, not hubgen's predicate: a policy of its own.
                        scope.declared.push(policy.clone());
                        continue;
                    }
                    tenant = tenant.or(t);
                    owner = owner.or(o);
                    if let Some(column) = through {
                        scope.options.push(format!("scoped_through({column})"));
                    }
                }
                "global_rows" => scope.options.push("__global".into()),
                name if name == crate::sql::audit::WRITER_POLICY && policy.command == "insert" => scope.audit_log = true,
                "platform_rows" if using.contains("CURRENT_USER") || using.contains("current_user") => {
                    scope.platform_role = policy.roles.first().cloned()
                }
                _ => scope.declared.push(policy.clone()),
            }
        }
        let global = scope.options.iter().any(|o| o == "__global");
        scope.options.retain(|o| o != "__global");
        if let Some(column) = tenant {
            let option = if global { "tenant_or_global" } else { "tenant_scoped" };
            scope.options.insert(0, format!("{option}({column})"));
        }
        if let Some(column) = owner {
            scope.options.push(format!("owner_scoped({column})"));
        }
        if table.audited {
            scope.options.push("audited".into());
        }
        if scope.audit_log {
            scope.options.push("audit_log".into());
        }
        if table.rls_enabled && !table.rls_forced {
            unsupported.push(format!(
                "{label}: row-level security enabled but not forced (hubgen always forces it)"
            ));
        }
        if table.rls_enabled && table.policies.is_empty() {
            unsupported.push(format!(
                "{label}: row-level security enabled without a policy (hubgen enables it with a scope or a policy)"
            ));
        }
        if !table.rls_enabled && !table.policies.is_empty() {
            unsupported.push(format!("{label}: policies on a table without row-level security"));
        }
        scope
    }
}

/// The tenant, owner and parent columns an isolation predicate compares.
fn isolation_columns(using: &str) -> (Option<String>, Option<String>, Option<String>) {
    let mut tenant = None;
    let mut owner = None;
    let mut through = None;
    for part in using.split(" AND ") {
        let part = part.trim().trim_start_matches('(').trim_end_matches(')');
        let column = part.split_whitespace().next().unwrap_or_default().trim_matches('"').to_string();
        if column.is_empty() {
            continue;
        }
        if same(part, &tenant_predicate(&column)) {
            tenant = Some(column);
        } else if same(part, &owner_predicate(&column)) {
            owner = Some(column);
        } else if part.contains(" IN (") && part.contains("SELECT") {
            through = Some(column);
        }
    }
    (tenant, owner, through)
}

fn same(a: &str, b: &str) -> bool {
    crate::catalog::normalize_expr(a) == crate::catalog::normalize_expr(b)
}

fn write_table(out: &mut String, table: &Table, scope: &Scope, hub: &str, readonly: bool, indent: &str, unsupported: &mut Vec<String>) {
    let label = format!("{}.{}", table.schema, table.name);
    if let Some(comment) = &table.comment {
        docs(out, comment, indent);
    }
    let mut head = format!("{indent}table {}", table.name);
    for option in &scope.options {
        let _ = write!(head, " {option}");
    }
    let _ = writeln!(out, "{head} {{");
    let inner = format!("{indent}  ");
    let pk = table.constraints.iter().find(|c| c.kind == 'p');
    let inline_pk = pk.filter(|k| k.columns.len() == 1 && k.name == format!("{}_pkey", table.name));
    // `@encrypted(searchable)`: a bytea column with hubgen's generated blind
    // index beside it; the index column is hubgen's to write, and the keys
    // and indexes on it are the encrypted column's.
    let searchable: Vec<&str> = table
        .columns
        .iter()
        .filter(|c| c.ty == "bytea")
        .filter(|c| {
            let index = hubgen_schema::ir::Encryption::index_column(&c.name);
            table.columns.iter().any(|b| {
                b.name == index
                    && b.generated
                        .as_deref()
                        .is_some_and(|g| g.contains(&format!("get_byte({}, 0) = 2", c.name)))
            })
        })
        .map(|c| c.name.as_str())
        .collect();
    let is_index = |name: &str| searchable.iter().any(|c| hubgen_schema::ir::Encryption::index_column(c) == name);
    let of_index = |name: &String| match searchable.iter().find(|c| hubgen_schema::ir::Encryption::index_column(c) == *name) {
        Some(c) => c.to_string(),
        None => name.clone(),
    };
    for column in table.columns.iter().filter(|c| !is_index(&c.name)) {
        if let Some(comment) = &column.comment {
            docs(out, comment, &inner);
        }
        let encrypted = searchable.contains(&column.name.as_str());
        let ty = match language_type(if encrypted { "text" } else { &column.ty }, column.is_enum) {
            Some(ty) => ty,
            None => {
                unsupported.push(format!("{label}.{}: type `{}`", column.name, column.ty));
                column.ty.clone()
            }
        };
        let mut line = format!("{inner}{} {ty}", column.name);
        if inline_pk.is_some_and(|k| k.columns[0] == column.name) {
            line.push_str(" primary key");
        } else if column.not_null {
            line.push_str(" not null");
        }
        if let Some(default) = &column.default {
            if default.contains("nextval(") {
                unsupported.push(format!("{label}.{}: a sequence default (`{default}`)", column.name));
            }
            let _ = write!(line, " default {}", readable(default));
        }
        if let Some(expr) = &column.generated {
            let _ = write!(line, " generated always as ({expr}) stored");
        }
        if encrypted {
            line.push_str(" @encrypted(searchable)");
        } else if column.sensitive {
            line.push_str(" @sensitive");
        }
        let _ = writeln!(out, "{line}");
    }
    let mut items = Vec::new();
    if let Some(pk) = pk.filter(|_| inline_pk.is_none()) {
        if pk.name != format!("{}_pkey", table.name) {
            unsupported.push(format!(
                "{label}: primary key named `{}` (hubgen names it `{}_pkey`)",
                pk.name, table.name
            ));
        }
        items.push(format!("primary key ({})", pk.columns.join(", ")));
    }
    for c in &table.constraints {
        match c.kind {
            'u' => items.push(format!(
                "unique {} ({})",
                c.name,
                c.columns.iter().map(of_index).collect::<Vec<_>>().join(", ")
            )),
            'c' => items.push(format!(
                "check {} ({})",
                c.name,
                readable(strip_parens(c.check.as_deref().unwrap_or_default()))
            )),
            'f' => {
                let Some((target, ref_columns, on_delete, on_update)) = &c.references else {
                    continue;
                };
                let target = match target.split_once('.') {
                    Some(("public", name)) if table.schema == "public" => name.to_string(),
                    _ => target.clone(),
                };
                let mut line = format!(
                    "foreign key {} ({}) references {target}({})",
                    c.name,
                    c.columns.join(", "),
                    ref_columns.join(", ")
                );
                for (event, action) in [("delete", on_delete), ("update", on_update)] {
                    if let Some(word) = fk_action(*action) {
                        let _ = write!(line, " on {event} {word}");
                    }
                }
                items.push(line);
            }
            _ => {}
        }
    }
    for index in &table.indexes {
        let mut columns = Vec::new();
        for (column, desc) in index.columns.iter().zip(&index.descending) {
            match column {
                Some(name) => {
                    let name = of_index(name);
                    columns.push(if *desc { format!("{name} desc") } else { name })
                }
                None => {
                    unsupported.push(format!("{label}: index `{}` on an expression", index.name));
                }
            }
        }
        if columns.len() != index.columns.len() {
            continue;
        }
        let mut line = format!("{}index {}", if index.unique { "unique " } else { "" }, index.name);
        if index.method != "btree" {
            let _ = write!(line, " using {}", index.method);
        }
        let _ = write!(line, " ({})", columns.join(", "));
        if let Some(predicate) = &index.predicate {
            let _ = write!(line, " where ({})", readable(strip_parens(predicate)));
        }
        items.push(line);
    }
    partitioning(table, &label, &mut items, unsupported);
    for policy in &scope.declared {
        let roles: Vec<&String> = policy.roles.iter().filter(|r| *r != "public").collect();
        if roles.len() != 1 {
            unsupported.push(format!(
                "{label}: policy `{}` for {} role(s) (the language gives a policy one role)",
                policy.name,
                policy.roles.len()
            ));
            continue;
        }
        let mut line = format!("policy {}", policy.name);
        if policy.command != "all" {
            let _ = write!(line, " for {}", policy.command);
        }
        let _ = write!(line, " to {}", roles[0]);
        if let Some(using) = &policy.using {
            let _ = write!(line, " using ({})", strip_parens(using));
        }
        if let Some(check) = &policy.with_check {
            let _ = write!(line, " with check ({})", strip_parens(check));
        }
        items.push(line);
    }
    let standard_app: &[&str] = if readonly || scope.audit_log {
        &["select"]
    } else {
        &["select", "insert", "update", "delete"]
    };
    // The erasure role's grants follow from the erasure rules.
    let erasure = crate::sql::erasure::role(hub);
    for (role, privileges) in table.grants.iter().filter(|(role, _)| **role != erasure) {
        let implied: &[&str] = if *role == format!("{hub}_app") {
            standard_app
        } else if *role == format!("{hub}_readonly") {
            &["select"]
        } else {
            &[]
        };
        let extra: Vec<&str> = privileges.iter().map(String::as_str).filter(|p| !implied.contains(p)).collect();
        if !extra.is_empty() {
            items.push(format!("grant {} to {role}", extra.join(", ")));
        }
    }
    if !items.is_empty() {
        out.push('\n');
        for item in items {
            let _ = writeln!(out, "{inner}{item}");
        }
    }
    let _ = writeln!(out, "{indent}}}");
}

fn partitioning(table: &Table, label: &str, items: &mut Vec<String>, unsupported: &mut Vec<String>) {
    let Some(key) = &table.partition_key else { return };
    let Some((method, rest)) = key.split_once(' ') else { return };
    let column = rest.trim().trim_start_matches('(').trim_end_matches(')').trim_matches('"');
    match method.to_ascii_lowercase().as_str() {
        "range" => {
            let mut line = format!("partition by range ({column})");
            if let Some(upkeep) = &table.upkeep {
                let _ = write!(line, " {upkeep}");
                items.push(line);
                return;
            }
            items.push(line);
            for (name, bound) in &table.partitions {
                if bound == "DEFAULT" {
                    items.push(format!("partition {name} default"));
                    continue;
                }
                match range_bounds(bound) {
                    Some((from, to)) => items.push(format!("partition {name} from {from} to {to}")),
                    None => unsupported.push(format!("{label}: partition `{name}` bound `{bound}`")),
                }
            }
        }
        "list" => {
            items.push(format!("partition by list ({column})"));
            for (name, bound) in &table.partitions {
                match bound.strip_prefix("FOR VALUES IN (").and_then(|b| b.strip_suffix(')')) {
                    Some(values) => items.push(format!("partition {name} in ({values})")),
                    None if bound == "DEFAULT" => items.push(format!("partition {name} default")),
                    None => unsupported.push(format!("{label}: partition `{name}` bound `{bound}`")),
                }
            }
        }
        "hash" => {
            items.push(format!("partition by hash ({column}) into {}", table.partitions.len()));
            let prefix = format!("{}_h", table.name);
            for (name, _) in &table.partitions {
                if !name.strip_prefix(&prefix).is_some_and(|n| n.chars().all(|c| c.is_ascii_digit())) {
                    unsupported.push(format!("{label}: hash partition `{name}` (hubgen names them `{prefix}NN`)"));
                }
            }
        }
        _ => unsupported.push(format!("{label}: partition key `{key}`")),
    }
}

/// `FOR VALUES FROM ('2026-01-01 00:00:00+00') TO ('2026-02-01 00:00:00+00')` → the two literals.
fn range_bounds(bound: &str) -> Option<(String, String)> {
    let rest = bound.strip_prefix("FOR VALUES FROM (")?;
    let (from, to) = rest.split_once(") TO (")?;
    let to = to.strip_suffix(')')?;
    let literal = |v: &str| {
        let v = v.trim();
        if v.starts_with('\'') {
            format!("'{}'", crate::catalog::normalize_bound(v).trim_matches('\''))
        } else {
            format!("'{v}'")
        }
    };
    Some((literal(from), literal(to)))
}

/// `format_type` → the language's spelling.
fn language_type(ty: &str, is_enum: bool) -> Option<String> {
    if let Some(inner) = ty.strip_suffix("[]") {
        return language_type(inner, is_enum).map(|t| format!("{t}[]"));
    }
    if is_enum {
        return Some(ty.rsplit('.').next().unwrap_or(ty).trim_matches('"').to_string());
    }
    let simple = match ty {
        "uuid" | "text" | "boolean" | "smallint" | "integer" | "bigint" | "real" | "date" | "interval" | "json" | "jsonb" | "inet"
        | "tsvector" | "bytea" | "numeric" | "double precision" => return Some(ty.to_string()),
        "character varying" => "varchar",
        "time without time zone" => "time",
        "timestamp without time zone" => "timestamp",
        "timestamp with time zone" => "timestamptz",
        _ => "",
    };
    if !simple.is_empty() {
        return Some(simple.to_string());
    }
    let (base, args) = ty.split_once('(')?;
    let args = args.strip_suffix(')')?;
    match base {
        "character varying" => Some(format!("varchar({args})")),
        "character" => Some(format!("char({args})")),
        "numeric" => Some(format!("numeric({})", args.replace(',', ", "))),
        _ => None,
    }
}

fn fk_action(action: char) -> Option<&'static str> {
    match action {
        'r' => Some("restrict"),
        'c' => Some("cascade"),
        'n' => Some("set null"),
        'd' => Some("set default"),
        _ => None,
    }
}

/// An expression as a reviewer would write it, where PostgreSQL's stored
/// form has only added casts: `'USER'::character varying` → `'USER'`,
/// `(status)::text = ANY ((ARRAY['a'::character varying, …])::text[])` →
/// `status IN ('a', …)`, `(status)::text = 'a'::text` → `status = 'a'`.
/// PostgreSQL stores the readable form back exactly as it was, so nothing
/// changes in the database; anything else is left as PostgreSQL wrote it.
fn readable(expr: &str) -> String {
    if let Some((literal, "")) = literal_with_cast(expr) {
        return literal.to_string();
    }
    let Some((column, rest)) = cast_column(expr) else {
        return expr.to_string();
    };
    if let Some(list) = rest.strip_prefix(" = ANY (") {
        let list = list.strip_prefix('(').unwrap_or(list);
        let Some(mut items) = list.strip_prefix("ARRAY[") else {
            return expr.to_string();
        };
        let mut values = Vec::new();
        loop {
            let Some((literal, after)) = literal_with_cast(items) else {
                return expr.to_string();
            };
            values.push(literal);
            match after.strip_prefix(", ") {
                Some(next) => items = next,
                None => {
                    items = after;
                    break;
                }
            }
        }
        let tail = items.strip_prefix(']').unwrap_or("?");
        let tail = tail.strip_prefix(")::text[]").unwrap_or(tail);
        if tail != ")" {
            return expr.to_string();
        }
        return format!("{column} IN ({})", values.join(", "));
    }
    if let Some((literal, "")) = rest.strip_prefix(" = ").and_then(literal_with_cast) {
        return format!("{column} = {literal}");
    }
    expr.to_string()
}

/// `'it''s'::type rest` → (`'it''s'`, `rest`); the cast is optional.
fn literal_with_cast(text: &str) -> Option<(&str, &str)> {
    let body = text.strip_prefix('\'')?.as_bytes();
    let mut i = 0;
    let close = loop {
        match (body.get(i), body.get(i + 1)) {
            (Some(b'\''), Some(b'\'')) => i += 2,
            (Some(b'\''), _) => break i + 1,
            (Some(_), _) => i += 1,
            (None, _) => return None,
        }
    };
    let (literal, rest) = text.split_at(close + 1);
    let Some(cast) = rest.strip_prefix("::") else {
        return Some((literal, rest));
    };
    Some((literal, after_type(cast)))
}

/// The text after a type name: `character varying(50)[] …` → ` …`.
fn after_type(text: &str) -> &str {
    const WORDS: [&str; 6] = [
        "character varying",
        "timestamp without time zone",
        "timestamp with time zone",
        "time without time zone",
        "time with time zone",
        "double precision",
    ];
    let mut rest = match WORDS.iter().find_map(|w| text.strip_prefix(w)) {
        Some(rest) => rest,
        None => text.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '"'),
    };
    if rest.starts_with('(') {
        rest = rest.find(')').map_or("", |end| &rest[end + 1..]);
    }
    rest.strip_prefix("[]").unwrap_or(rest)
}

/// `(status)::text …` or `status …` → (`status`, `…`).
fn cast_column(expr: &str) -> Option<(&str, &str)> {
    let ident = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if let Some(rest) = expr.strip_prefix('(') {
        let (column, rest) = rest.split_once(")::")?;
        let rest = rest.strip_prefix("text").or_else(|| rest.strip_prefix("character varying"))?;
        return ident(column).then_some((column, rest));
    }
    let (column, rest) = expr.split_at(expr.find(' ')?);
    ident(column).then_some((column, rest))
}

/// `(expr)` → `expr`, when the outer parentheses enclose the whole text.
fn strip_parens(text: &str) -> &str {
    let trimmed = text.trim();
    if !(trimmed.starts_with('(') && trimmed.ends_with(')')) {
        return trimmed;
    }
    let mut depth = 0i32;
    let mut in_string = false;
    for (i, c) in trimmed.char_indices() {
        match c {
            '\'' => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string => {
                depth -= 1;
                if depth == 0 && i != trimmed.len() - 1 {
                    return trimmed;
                }
            }
            _ => {}
        }
    }
    &trimmed[1..trimmed.len() - 1]
}

/// An enum value: bare when it is a plain word, quoted otherwise.
fn enum_value(value: &str) -> String {
    if !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !value.starts_with(|c: char| c.is_ascii_digit())
    {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', "''"))
    }
}

fn docs(out: &mut String, comment: &str, indent: &str) {
    for line in comment.lines() {
        let _ = writeln!(out, "{indent}/// {line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_read_back_in_the_language() {
        for (pg, ours) in [
            ("character varying(255)", "varchar(255)"),
            ("timestamp with time zone", "timestamptz"),
            ("numeric(10,2)", "numeric(10, 2)"),
            ("text[]", "text[]"),
            ("character(2)", "char(2)"),
        ] {
            assert_eq!(language_type(pg, false).as_deref(), Some(ours));
        }
        assert_eq!(language_type("public.order_status", true).as_deref(), Some("order_status"));
        assert_eq!(language_type("point", false), None);
    }

    #[test]
    fn stored_expressions_read_as_written() {
        assert_eq!(readable("'USER'::character varying"), "'USER'");
        assert_eq!(readable("'it''s'::text"), "'it''s'");
        assert_eq!(readable("'{}'::jsonb"), "'{}'");
        assert_eq!(readable("now()"), "now()");
        assert_eq!(
            readable("(status)::text = ANY ((ARRAY['active'::character varying, 'inactive'::character varying])::text[])"),
            "status IN ('active', 'inactive')"
        );
        assert_eq!(readable("role = ANY (ARRAY['a'::text, 'b'::text])"), "role IN ('a', 'b')");
        assert_eq!(readable("(status)::text = 'failed'::text"), "status = 'failed'");
        assert_eq!(readable("email IS NOT NULL"), "email IS NOT NULL");
        assert_eq!(readable("(now() + '1 day'::interval)"), "(now() + '1 day'::interval)");
        assert_eq!(readable("pct >= 1 AND pct <= 100"), "pct >= 1 AND pct <= 100");
        assert_eq!(readable("'a'::text || 'b'::text"), "'a'::text || 'b'::text");
    }

    #[test]
    fn outer_parentheses_only() {
        assert_eq!(strip_parens("((a > 1))"), "(a > 1)");
        assert_eq!(strip_parens("(a) AND (b)"), "(a) AND (b)");
        assert_eq!(strip_parens("(x = ')')"), "x = ')'");
    }
}
