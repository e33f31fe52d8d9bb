//! SQL for erasing a data subject: one function per hub,
//! `hubgen.erase_<hub>_subject(key)`, that runs the hub's erasure steps in
//! order and returns a row per step (table, action, rows changed).
//!
//! Erasure crosses tenants and owners, so the function is `SECURITY
//! DEFINER`, owned by the hub's erasure role, `<hub>_erasure`: the one
//! role that bypasses row-level security, holding only SELECT and the
//! DELETE or UPDATE each step needs. Nobody else may execute it until the
//! role is granted to them (the service that runs erasure).
//!
//! Every step changes only rows that still hold the subject's values, so a
//! second erasure of the same subject changes nothing and reports zeros.

use super::quote::{ident, ident_list, literal};
use super::statement::Name;
use super::upkeep::HELPER_SCHEMA;
use hubgen_schema::ast::EraseAction;
use hubgen_schema::ir::{self, RowMatch};

/// The hub's erase function: its name, owner and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    pub name: Name,
    /// The erasure role, which owns it.
    pub owner: String,
    /// The SQL type of the subject's key, its one argument.
    pub key: String,
    /// The body: declarations and statements.
    pub body: String,
}

impl Function {
    /// The text between the dollar quotes, as `pg_proc.prosrc` keeps it.
    pub fn source(&self) -> String {
        format!("\n{}", self.body)
    }
}

/// The role that owns hub `hub`'s erase function.
pub fn role(hub: &str) -> String {
    format!("{hub}_erasure")
}

/// `hubgen.erase_<hub>_subject`.
pub fn function_name(hub: &ir::Hub) -> Name {
    Name::new(HELPER_SCHEMA, &format!("erase_{}_subject", hub.name))
}

/// How each step reports its action.
pub fn action_label(step: &ir::ErasureStep) -> &'static str {
    match step.action {
        EraseAction::Delete => "deleted",
        EraseAction::Anonymize | EraseAction::Keep => "anonymized",
    }
}

/// Steps that change something (a kept row with nothing to anonymize is only reported by `erase-plan`).
pub fn runs(step: &ir::ErasureStep) -> bool {
    step.action == EraseAction::Delete || !step.set.is_empty()
}

/// The hub's erase function, if erasure reaches any of its tables.
pub fn function(hub: &ir::Hub) -> Option<Function> {
    let erasure = hub.erasure.as_ref()?;
    let mut body = String::from("DECLARE\n    changed bigint;\nBEGIN\n");
    for step in erasure.steps.iter().filter(|s| runs(s)) {
        let table = Name::new(&step.schema, &step.table);
        let filter = rows(erasure, step, 0);
        match step.action {
            EraseAction::Delete => body.push_str(&format!("    DELETE FROM {} WHERE {filter};\n", table.sql())),
            EraseAction::Anonymize | EraseAction::Keep => {
                let mut set: Vec<String> = step.set.iter().map(|(c, v)| format!("{} = {v}", ident(c))).collect();
                let version = hub
                    .tables
                    .iter()
                    .find(|t| t.schema == step.schema && t.name == step.table)
                    .and_then(|t| t.version_column.as_deref());
                if let Some(v) = version {
                    // Writers holding the row's old version must not overwrite the erasure.
                    set.push(format!("{0} = {0} + 1", ident(v)));
                }
                let changed: Vec<String> = step.set.iter().map(|(c, v)| format!("{} IS DISTINCT FROM {v}", ident(c))).collect();
                body.push_str(&format!(
                    "    UPDATE {} SET {}\n     WHERE {filter}\n       AND ({});\n",
                    table.sql(),
                    set.join(", "),
                    changed.join(" OR ")
                ));
            }
        }
        body.push_str(&format!(
            "    GET DIAGNOSTICS changed = ROW_COUNT;\n    step_table := {}; step_action := {}; step_rows := changed;\n    RETURN NEXT;\n",
            literal(&table.label()),
            literal(action_label(step)),
        ));
    }
    body.push_str("END\n");
    Some(Function {
        name: function_name(hub),
        owner: role(&hub.name),
        key: super::column_type(hub, &erasure.key),
        body,
    })
}

/// The condition that picks a step's rows: any of its matches.
fn rows(erasure: &ir::Erasure, step: &ir::ErasureStep, depth: usize) -> String {
    let parts: Vec<String> = step
        .rows
        .iter()
        .map(|m| match m {
            RowMatch::Column(c) => format!("{} = erased_subject", ident(c)),
            RowMatch::Parent {
                columns,
                schema,
                table,
                ref_columns,
            } => {
                let parent = erasure.rows_of(schema, table).filter(|_| depth < erasure.steps.len());
                let filter = parent.map_or_else(|| "false".to_string(), |p| rows(erasure, p, depth + 1));
                let selected: Vec<String> = ref_columns.iter().map(|c| ident(c)).collect();
                format!(
                    "{} IN (SELECT {} FROM {} WHERE {filter})",
                    ident_list(columns),
                    selected.join(", "),
                    Name::new(schema, table).sql()
                )
            }
        })
        .collect();
    if parts.len() == 1 {
        parts.into_iter().next().unwrap_or_default()
    } else {
        format!("({})", parts.join(" OR "))
    }
}

/// Creates (or replaces) the function, owned by the erasure role, executable by it alone.
pub fn install(function: &Function) -> String {
    let Function { name, owner, key, .. } = function;
    let source = function.source();
    let signature = format!("{}({key})", name.sql());
    format!(
        "CREATE SCHEMA IF NOT EXISTS {schema};\n\
         GRANT USAGE ON SCHEMA {schema} TO {owner};\n\
         CREATE OR REPLACE FUNCTION {function}(erased_subject {key})\n\
         RETURNS TABLE (step_table text, step_action text, step_rows bigint)\n\
         LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn${source}$fn$;\n\
         ALTER FUNCTION {signature} OWNER TO {owner};\n\
         REVOKE ALL ON FUNCTION {signature} FROM PUBLIC;\n",
        schema = ident(HELPER_SCHEMA),
        function = name.sql(),
        owner = ident(owner),
    )
}

pub fn drop(function: &Function) -> String {
    format!("DROP FUNCTION IF EXISTS {}({});\n", function.name.sql(), function.key)
}

/// The privileges the erasure role needs on a table: SELECT to find the
/// subject's rows, and DELETE or UPDATE where a step changes them.
pub fn privileges(hub: &ir::Hub, table: &ir::Table) -> Vec<String> {
    let Some(erasure) = &hub.erasure else {
        return Vec::new();
    };
    let here = |schema: &str, name: &str| schema == table.schema && name == table.name;
    let mut out = Vec::new();
    let read = erasure.steps.iter().any(|s| {
        (runs(s) && here(&s.schema, &s.table))
            || s.rows
                .iter()
                .any(|m| matches!(m, RowMatch::Parent { schema, table, .. } if here(schema, table)))
    });
    if read {
        out.push("select".to_string());
    }
    for step in erasure.steps.iter().filter(|s| runs(s) && here(&s.schema, &s.table)) {
        let privilege = if step.action == EraseAction::Delete { "delete" } else { "update" };
        if !out.iter().any(|p| p == privilege) {
            out.push(privilege.to_string());
        }
    }
    out
}
