//! SQL for audited tables: one trigger function per hub, and a trigger on
//! every audited table that writes each insert, update and delete to the
//! hub's audit log in the same transaction.
//!
//! The function is `SECURITY DEFINER`, owned by the hub's owner role: the
//! application role holds only SELECT on the audit log, so audit rows are
//! written by the trigger or not at all. The owner is subject to the audit
//! log's row-level security too (FORCE), so the audit log carries one more
//! policy, `audit_writer`, letting the owner insert any tenant's rows.

use super::quote::{ident, literal};
use super::statement::Name;
use super::upkeep::HELPER_SCHEMA;
use hubgen_schema::ir;
use hubgen_schema::types::ColumnType;

/// The trigger's name on every audited table.
pub const TRIGGER: &str = "hubgen_audit";
/// The audit log's policy that lets the trigger (run as the owner) insert.
pub const WRITER_POLICY: &str = "audit_writer";
/// What a sensitive value reads as in an audit row.
pub const MASK: &str = "<redacted>";

/// The trigger function of `hub`, in the helper schema.
pub fn function(hub: &ir::Hub) -> Name {
    Name::new(HELPER_SCHEMA, &format!("audit_{}", hub.name))
}

/// The trigger an audited table carries: its function and arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    pub function: Name,
    /// The audit log, the key columns, the tenant column (or ''), the
    /// masked columns (comma-separated), the type of `entity_id`, and the
    /// table as audit rows name it.
    pub args: Vec<String>,
}

impl Trigger {
    /// `hubgen.audit_shop(arg, ...)`: how the catalog compares triggers.
    pub fn signature(&self) -> String {
        format!("{}({})", self.function.label(), self.args.join(", "))
    }
}

/// The audit trigger `table` needs, if it is audited (and its hub has an audit log).
pub fn trigger(hub: &ir::Hub, table: &ir::Table) -> Option<Trigger> {
    if !table.audited || table.audit_log {
        return None;
    }
    let log = hub.audit_log()?;
    let key = table.primary_key.as_ref()?;
    let entity_type = match log.column("entity_id").map(|c| &c.ty) {
        Some(ColumnType::Uuid) => "uuid",
        Some(ColumnType::Jsonb) => "jsonb",
        _ => "text",
    };
    let masked: Vec<&str> = table.columns.iter().filter(|c| c.sensitive).map(|c| c.name.as_str()).collect();
    Some(Trigger {
        function: function(hub),
        args: vec![
            Name::of(log).sql(),
            key.columns.join(","),
            table.tenant_column.clone().unwrap_or_default(),
            masked.join(","),
            entity_type.to_string(),
            Name::of(table).label(),
        ],
    })
}

/// `CREATE TRIGGER hubgen_audit AFTER INSERT OR UPDATE OR DELETE ON ...`
pub fn create_trigger(table: &Name, trigger: &Trigger) -> String {
    let args: Vec<String> = trigger.args.iter().map(|a| literal(a)).collect();
    format!(
        "CREATE TRIGGER {} AFTER INSERT OR UPDATE OR DELETE ON {} FOR EACH ROW EXECUTE FUNCTION {}({});\n",
        ident(TRIGGER),
        table.sql(),
        trigger.function.sql(),
        args.join(", ")
    )
}

pub fn drop_trigger(table: &Name) -> String {
    format!("DROP TRIGGER {} ON {};\n", ident(TRIGGER), table.sql())
}

/// Installs (or replaces) the hub's trigger function, owned by `owner`.
///
/// Each changed column goes into `changes` as `{"old": ..., "new": ...}`
/// (an insert has no old row, a delete no new one: their values read as
/// null); masked columns show `<redacted>` (as `Debug` does) instead of a value. The actor is
/// the user the transaction acts for (`app.current_user_id`); the tenant is
/// the row's, or else the transaction's. `EXECUTE` because the audit log is
/// an argument: one function serves every audited table of the hub.
pub fn install(function: &Name, owner: &str) -> String {
    format!(
        r#"CREATE SCHEMA IF NOT EXISTS {schema};
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    old_row jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
    new_row jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
    any_row jsonb := COALESCE(new_row, old_row);
    keys text[] := string_to_array(TG_ARGV[1], ',');
    masked text[] := string_to_array(TG_ARGV[3], ',');
    changes jsonb := '{{}}';
    col text;
    before jsonb;
    after jsonb;
    entity jsonb;
    tenant uuid;
BEGIN
    FOR col IN SELECT jsonb_object_keys(any_row) LOOP
        before := COALESCE(old_row -> col, 'null');
        after := COALESCE(new_row -> col, 'null');
        IF before IS DISTINCT FROM after THEN
            IF col = ANY (masked) THEN
                before := CASE WHEN before = 'null' THEN before ELSE to_jsonb({mask}::text) END;
                after := CASE WHEN after = 'null' THEN after ELSE to_jsonb({mask}::text) END;
            END IF;
            changes := changes || jsonb_build_object(col, jsonb_build_object('old', before, 'new', after));
        END IF;
    END LOOP;
    IF cardinality(keys) = 1 THEN
        entity := any_row -> keys[1];
    ELSE
        SELECT jsonb_object_agg(k, any_row -> k) INTO entity FROM unnest(keys) k;
    END IF;
    tenant := CASE WHEN TG_ARGV[2] <> '' THEN (any_row ->> TG_ARGV[2])::uuid
                   ELSE NULLIF(current_setting('app.current_tenant_id', true), '')::uuid END;
    EXECUTE format('INSERT INTO %s (tenant_id, actor_id, action, entity_type, entity_id, changes, occurred_at) '
                   'VALUES ($1, $2, $3, $4, %s, $6, now())', TG_ARGV[0],
                   CASE TG_ARGV[4] WHEN 'jsonb' THEN '$5' WHEN 'uuid' THEN '($5 #>> ''{{}}'')::uuid' ELSE '$5 #>> ''{{}}''' END)
        USING tenant, NULLIF(current_setting('app.current_user_id', true), '')::uuid, lower(TG_OP), TG_ARGV[5], entity, changes;
    RETURN NULL;
END
$fn$;
ALTER FUNCTION {function}() OWNER TO {owner};
REVOKE ALL ON FUNCTION {function}() FROM PUBLIC;
"#,
        schema = ident(HELPER_SCHEMA),
        function = function.sql(),
        owner = ident(owner),
        mask = literal(MASK),
    )
}
