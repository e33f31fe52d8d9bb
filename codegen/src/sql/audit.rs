//! SQL for audited tables: two trigger functions per hub, and three
//! triggers on every audited table that write each insert, update and
//! delete to the hub's audit log in the same transaction.
//!
//! Inserts and deletes are audited once per statement, from its transition
//! table, in one set-based `INSERT … SELECT`: a batch or a COPY of thousands
//! of rows costs one statement, not thousands. Updates are audited row by
//! row, where the old and the new row meet without guessing how to pair
//! them. The functions name the hub's audit log in static SQL, so
//! PostgreSQL plans each statement once per session.
//!
//! The functions are `SECURITY DEFINER`, owned by the hub's owner role: the
//! application role holds only SELECT on the audit log, so audit rows are
//! written by the triggers or not at all. The owner is subject to the audit
//! log's row-level security too (FORCE), so the audit log carries one more
//! policy, `audit_writer`, letting the owner insert any tenant's rows.

use super::quote::{ident, literal};
use super::statement::Name;
use super::upkeep::HELPER_SCHEMA;
use hubgen_schema::ir;
use hubgen_schema::types::ColumnType;

/// Every audit trigger's name starts so.
pub const TRIGGER_PREFIX: &str = "hubgen_audit";
/// The audit log's policy that lets the triggers (run as the owner) insert.
pub const WRITER_POLICY: &str = "audit_writer";
/// Which trigger argument lists the masked columns.
pub const MASKED_ARG: usize = 2;
/// What a sensitive value reads as in an audit row (as in `Debug`).
pub const MASK: &str = "<redacted>";

/// A hub's two trigger functions and what their SQL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Functions {
    /// Inserts and deletes, per statement.
    pub rows: Name,
    /// Updates, per row.
    pub row: Name,
    /// Their owner, the hub's owner role.
    pub owner: String,
    pub log: Name,
    /// The type of the audit log's `entity_id`.
    pub entity_id: ColumnType,
}

/// The trigger functions of a hub with an audit log.
pub fn functions(hub: &ir::Hub) -> Option<Functions> {
    let log = hub.audit_log()?;
    Some(Functions {
        rows: Name::new(HELPER_SCHEMA, &format!("audit_{}_rows", hub.name)),
        row: Name::new(HELPER_SCHEMA, &format!("audit_{}_row", hub.name)),
        owner: super::Roles::of(hub).owner,
        log: Name::of(log),
        entity_id: log.column("entity_id").map_or(ColumnType::Text, |c| c.ty.clone()),
    })
}

/// The triggers an audited table carries: their functions and arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    /// The statement-level function (inserts, deletes) and the row-level one (updates).
    pub functions: (Name, Name),
    /// The key columns, the tenant column (or ''), the masked columns
    /// (comma-separated), and the table as audit rows name it.
    pub args: Vec<String>,
}

impl Trigger {
    /// Each trigger: (name, timing and events, function).
    fn each(&self) -> [(String, &'static str, &Name); 3] {
        let (rows, row) = &self.functions;
        [
            (
                format!("{TRIGGER_PREFIX}_delete"),
                "AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT",
                rows,
            ),
            (
                format!("{TRIGGER_PREFIX}_insert"),
                "AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT",
                rows,
            ),
            (format!("{TRIGGER_PREFIX}_update"), "AFTER UPDATE ON {table} FOR EACH ROW", row),
        ]
    }

    /// `hubgen_audit_delete: hubgen.audit_shop_rows(args); ...`: how the
    /// catalog compares triggers (live: from `pg_trigger`, in name order).
    pub fn signature(&self) -> String {
        let parts: Vec<String> = self
            .each()
            .iter()
            .map(|(name, _, function)| format!("{name}: {}({})", function.label(), self.args.join(", ")))
            .collect();
        parts.join("; ")
    }
}

/// The audit triggers `table` needs, if it is audited (and its hub has an audit log).
pub fn trigger(hub: &ir::Hub, table: &ir::Table) -> Option<Trigger> {
    if !table.audited || table.audit_log {
        return None;
    }
    let functions = functions(hub)?;
    let key = table.primary_key.as_ref()?;
    let masked: Vec<&str> = table.columns.iter().filter(|c| c.redacted()).map(|c| c.name.as_str()).collect();
    Some(Trigger {
        functions: (functions.rows, functions.row),
        args: vec![
            key.columns.join(","),
            table.tenant_column.clone().unwrap_or_default(),
            masked.join(","),
            Name::of(table).label(),
        ],
    })
}

/// `CREATE TRIGGER ...` for each of the table's audit triggers.
pub fn create_triggers(table: &Name, trigger: &Trigger) -> String {
    let args: Vec<String> = trigger.args.iter().map(|a| literal(a)).collect();
    let mut sql = String::new();
    for (name, when, function) in trigger.each() {
        sql.push_str(&format!(
            "CREATE TRIGGER {} {} EXECUTE FUNCTION {}({});\n",
            ident(&name),
            when.replace("{table}", &table.sql()),
            function.sql(),
            args.join(", ")
        ));
    }
    sql
}

pub fn drop_triggers(table: &Name, trigger: &Trigger) -> String {
    let mut sql = String::new();
    for (name, _, _) in trigger.each() {
        sql.push_str(&format!("DROP TRIGGER {} ON {};\n", ident(&name), table.sql()));
    }
    sql
}

/// Installs (or replaces) the hub's two trigger functions, owned by the
/// hub's owner, writing to its audit log.
///
/// Each changed column goes into `changes` as `{"old": ..., "new": ...}`
/// (an insert has no old row, a delete no new one: their values read as
/// null); masked columns show `<redacted>` instead of a value. The actor is
/// the user the transaction acts for (`app.current_user_id`); the tenant is
/// the row's, or else the transaction's; the time is the clock's, so audit
/// rows of one transaction keep the order of its changes.
pub fn install(functions: &Functions) -> String {
    let Functions {
        rows,
        row,
        owner,
        log,
        entity_id,
    } = functions;
    // The key as the audit log's `entity_id` holds it: one value, or an object of the key's columns.
    let entity = match entity_id {
        ColumnType::Jsonb => "{key}",
        ColumnType::Uuid => "({key} #>> '{}')::uuid",
        _ => "{key} #>> '{}'",
    };
    let key_of = |r: &str| {
        format!("CASE WHEN cardinality(keys) = 1 THEN {r} -> keys[1] ELSE (SELECT jsonb_object_agg(k, {r} -> k) FROM unnest(keys) k) END")
    };
    let tenant_of = |r: &str| {
        format!(
            "CASE WHEN TG_ARGV[1] <> '' THEN ({r} ->> TG_ARGV[1])::uuid ELSE NULLIF(current_setting('app.current_tenant_id', true), '')::uuid END"
        )
    };
    let masked = |v: &str, key: &str| {
        format!(
            "CASE WHEN {v} = 'null' OR NOT ({key} = ANY (masked)) THEN {v} ELSE to_jsonb({}::text) END",
            literal(MASK)
        )
    };
    // Every non-null column of a row inserted or deleted, as `{"old": ..., "new": ...}`.
    let whole = |old: bool| {
        let value = masked("e.value", "e.key");
        let (o, n) = if old {
            (value.as_str(), "'null'::jsonb")
        } else {
            ("'null'::jsonb", value.as_str())
        };
        format!(
            "(SELECT COALESCE(jsonb_object_agg(e.key, jsonb_build_object('old', {o}, 'new', {n})), '{{}}') FROM jsonb_each(r.j) e WHERE e.value <> 'null')"
        )
    };
    let insert_into = format!(
        "INSERT INTO {} (tenant_id, actor_id, action, entity_type, entity_id, changes, occurred_at)",
        log.sql()
    );
    let statement_rows = |action: &str, table: &str, old: bool| {
        format!(
            "{insert_into}\n        SELECT {tenant}, actor, '{action}', TG_ARGV[3], {entity}, {changes}, clock_timestamp()\n          FROM (SELECT to_jsonb(t) AS j FROM {table} t) r;",
            tenant = tenant_of("r.j"),
            entity = entity.replace("{key}", &format!("({})", key_of("r.j"))),
            changes = whole(old),
        )
    };
    let update_row = format!(
        "{insert_into}\n    VALUES ({tenant}, actor, 'update', TG_ARGV[3], {entity}, changes, clock_timestamp());",
        tenant = tenant_of("new_row"),
        entity = entity.replace("{key}", &format!("({})", key_of("new_row"))),
    );
    let header = |name: &Name, body: &str| {
        format!(
            "CREATE OR REPLACE FUNCTION {function}() RETURNS trigger\n\
             LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$\n{body}$fn$;\n\
             ALTER FUNCTION {function}() OWNER TO {owner};\n\
             REVOKE ALL ON FUNCTION {function}() FROM PUBLIC;\n",
            function = name.sql(),
            owner = ident(owner),
        )
    };
    let declare = "DECLARE\n    keys text[] := string_to_array(TG_ARGV[0], ',');\n    masked text[] := string_to_array(TG_ARGV[2], ',');\n    actor uuid := NULLIF(current_setting('app.current_user_id', true), '')::uuid;\n";
    let statement_body = format!(
        "-- Inserts and deletes, per statement: every row of the transition table at once.\n\
         {declare}BEGIN\n    IF TG_OP = 'INSERT' THEN\n        {}\n    ELSE\n        {}\n    END IF;\n    RETURN NULL;\nEND\n",
        statement_rows("insert", "new_rows", false),
        statement_rows("delete", "old_rows", true),
    );
    let row_body = format!(
        "-- Updates, per row: the columns whose value changed.\n\
         {declare}    old_row jsonb := to_jsonb(OLD);\n    new_row jsonb := to_jsonb(NEW);\n    changes jsonb;\nBEGIN\n\
         \x20   SELECT COALESCE(jsonb_object_agg(n.key, jsonb_build_object('old', {o}, 'new', {n})), '{{}}') INTO changes\n\
         \x20     FROM jsonb_each(new_row) n JOIN jsonb_each(old_row) o USING (key) WHERE n.value IS DISTINCT FROM o.value;\n\
         \x20   {update_row}\n    RETURN NULL;\nEND\n",
        o = masked("o.value", "n.key"),
        n = masked("n.value", "n.key"),
    );
    format!(
        "CREATE SCHEMA IF NOT EXISTS {};\n{}{}",
        ident(HELPER_SCHEMA),
        header(rows, &statement_body),
        header(row, &row_body)
    )
}
