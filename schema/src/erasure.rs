//! The right to be forgotten: from the `data_subject` table and the
//! `on erase` rules, derives what erasing one subject does in every hub.
//!
//! A table holds a subject's data when a column references the subject's
//! key (a foreign key in the subject's hub, a typed reference from any other
//! hub), or when its rows reference, by foreign key, rows of such a table
//! that erasure deletes or keeps (a wallet's transactions). Rows erasure
//! only anonymizes are no longer the subject's, so their children are not
//! followed: a workspace whose owner is erased keeps its members.
//!
//! Defaults: the subject's own rows and the rows of tables scoped to their
//! owner are deleted; other rows that reference the subject are anonymized;
//! children share a deleted or kept parent's fate. In rows that stay,
//! `@pii` and `@sensitive` values are anonymized (set to NULL, or to a
//! value that says nothing: the column's constant default, `''`, `0`) and
//! `on erase keep` / `on erase anonymize` on a column decide the rest.
//!
//! Pure, on the lowered IR: [`derive`] fills each hub's `erasure` and
//! returns what is wrong with the rules, anchored for diagnostics.

use crate::ast::EraseAction;
use crate::ir::{self, ErasureStep, RowMatch};
use crate::locate::Anchor;
use crate::types::ColumnType;
use std::collections::BTreeSet;

/// A problem with the erasure rules, found after lowering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub anchor: Anchor,
    pub error: bool,
    pub message: String,
    pub label: &'static str,
    pub help: String,
}

/// The data subject: its hub, table and key.
struct Subject {
    hub: String,
    schema: String,
    table: String,
    key: String,
    key_type: ColumnType,
}

impl Subject {
    fn label(&self) -> String {
        format!("{}.{}", self.hub, self.table)
    }
}

/// Fills `hub.erasure` for every hub and returns the findings.
pub fn derive(schema: &mut ir::Schema) -> Vec<Finding> {
    let mut findings = Vec::new();
    let subject = schema.data_subject().and_then(|(hub, table)| {
        let key = table.primary_key.as_ref().filter(|k| k.columns.len() == 1)?.columns[0].clone();
        Some(Subject {
            hub: hub.name.clone(),
            schema: table.schema.clone(),
            table: table.name.clone(),
            key_type: table.column(&key).map_or(ColumnType::Uuid, |c| c.ty.clone()),
            key,
        })
    });
    for hub in &mut schema.hubs {
        hub.erasure = None;
        let Some(subject) = &subject else { continue };
        let erasure = derive_hub(hub, subject, &mut findings);
        unerased(hub, erasure.as_ref(), subject, &mut findings);
        hub.erasure = erasure;
    }
    findings
}

/// How erasure reaches one table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Reach {
    /// Matches of the subject's own rows.
    owned: Vec<RowMatch>,
    /// Columns that only mention the subject (`on erase anonymize` on a reference).
    mentions: Vec<String>,
    action: Option<EraseAction>,
    /// A parent whose rows erasure deletes (then this table's must go too).
    deleted_parent: Option<String>,
}

fn table_anchor(hub: &ir::Hub, t: &ir::Table) -> Anchor {
    Anchor::Table {
        hub: hub.name.clone(),
        schema: t.schema.clone(),
        table: t.name.clone(),
    }
}

fn column_anchor(hub: &ir::Hub, t: &ir::Table, column: &str) -> Anchor {
    Anchor::Column {
        hub: hub.name.clone(),
        schema: t.schema.clone(),
        table: t.name.clone(),
        column: column.to_string(),
    }
}

/// The columns of `t` that hold the subject's key.
fn subject_columns(hub: &ir::Hub, t: &ir::Table, subject: &Subject) -> Vec<String> {
    let key = std::slice::from_ref(&subject.key);
    let mut out = Vec::new();
    if hub.name == subject.hub {
        if t.schema == subject.schema && t.name == subject.table {
            out.push(subject.key.clone());
        }
        for fk in &t.foreign_keys {
            if fk.ref_schema == subject.schema && fk.ref_table == subject.table && fk.ref_columns == key && fk.columns.len() == 1 {
                out.push(fk.columns[0].clone());
            }
        }
    }
    for r in &t.cross_hub_refs {
        if r.hub == subject.hub && r.schema == subject.schema && r.table == subject.table && r.ref_columns == key && r.columns.len() == 1 {
            out.push(r.columns[0].clone());
        }
    }
    out.dedup();
    out
}

fn derive_hub(hub: &ir::Hub, subject: &Subject, findings: &mut Vec<Finding>) -> Option<ir::Erasure> {
    // Per-tenant schemas are copies made at run time; erasure does not reach into them.
    let template = hub.tenant_template.as_ref().map(|t| t.schema.as_str());
    let in_scope = |t: &ir::Table| Some(t.schema.as_str()) != template;
    let is_subject = |t: &ir::Table| hub.name == subject.hub && t.schema == subject.schema && t.name == subject.table;

    // What references the subject directly never changes; children follow
    // their parents' actions, so those are found again until nothing moves.
    let direct: Vec<Reach> = hub
        .tables
        .iter()
        .map(|t| {
            let mut reach = Reach::default();
            if !in_scope(t) {
                return reach;
            }
            for column in subject_columns(hub, t, subject) {
                let rule = if is_subject(t) {
                    None
                } else {
                    t.column(&column).and_then(|c| c.erase)
                };
                match rule {
                    None => reach.owned.push(RowMatch::Column(column)),
                    Some(EraseAction::Anonymize) => reach.mentions.push(column),
                    Some(EraseAction::Keep | EraseAction::Delete) => {}
                }
            }
            if !reach.owned.is_empty() {
                let own_scope = t
                    .owner_column
                    .as_ref()
                    .is_some_and(|o| reach.owned.contains(&RowMatch::Column(o.clone())));
                let default = if is_subject(t) || own_scope {
                    EraseAction::Delete
                } else {
                    EraseAction::Anonymize
                };
                reach.action = Some(t.erase.unwrap_or(default));
            }
            reach
        })
        .collect();
    let mut reach = direct.clone();
    for _ in 0..=hub.tables.len() {
        let mut next = direct.clone();
        for (i, t) in hub.tables.iter().enumerate() {
            if !in_scope(t) {
                continue;
            }
            for fk in &t.foreign_keys {
                let Some(p) = hub.tables.iter().position(|p| p.schema == fk.ref_schema && p.name == fk.ref_table) else {
                    continue;
                };
                let (parent, pt) = (&reach[p], &hub.tables[p]);
                let followed = matches!(parent.action, Some(EraseAction::Delete | EraseAction::Keep));
                // A foreign key onto the subject itself is a direct reference, handled above.
                if p == i || !followed || parent.owned.is_empty() || is_subject(t) || is_subject(pt) {
                    continue;
                }
                let m = RowMatch::Parent {
                    columns: fk.columns.clone(),
                    schema: pt.schema.clone(),
                    table: pt.name.clone(),
                    ref_columns: fk.ref_columns.clone(),
                };
                let child = &mut next[i];
                if !child.owned.contains(&m) {
                    child.owned.push(m);
                }
                if parent.action == Some(EraseAction::Delete) {
                    child.deleted_parent.get_or_insert_with(|| pt.name.clone());
                }
                // Rows of a deleted row go with it; rows of a kept one stay, as their own reference says.
                let default = if child.deleted_parent.is_some() {
                    EraseAction::Delete
                } else {
                    direct[i].action.unwrap_or(EraseAction::Keep)
                };
                child.action = Some(t.erase.unwrap_or(default));
            }
        }
        if next == reach {
            break;
        }
        reach = next;
    }

    let mut steps: Vec<(usize, ErasureStep)> = Vec::new();
    for (i, t) in hub.tables.iter().enumerate() {
        let r = &reach[i];
        for column in &r.mentions {
            let Some(c) = t.column(column) else { continue };
            match anonymous_value(t, c) {
                Ok(value) => steps.push((
                    i,
                    ErasureStep {
                        schema: t.schema.clone(),
                        table: t.name.clone(),
                        action: EraseAction::Anonymize,
                        rows: vec![RowMatch::Column(column.clone())],
                        set: vec![(column.clone(), value)],
                        kept: Vec::new(),
                    },
                )),
                Err(why) => findings.push(no_value(hub, t, column, &why)),
            }
        }
        let Some(mut action) = r.action.filter(|_| !r.owned.is_empty()) else {
            continue;
        };
        if is_subject(t) && action == EraseAction::Anonymize {
            findings.push(Finding {
                anchor: table_anchor(hub, t),
                error: true,
                message: format!("the data subject's own rows (`{}`) cannot be anonymized: each row is the person", t.name),
                label: "on erase anonymize",
                help: "delete them (`on erase delete`, the default), or keep them as tombstones with their personal values anonymized (`on erase keep`)".into(),
            });
            // Planned as the default, so nothing else is reported about it.
            action = EraseAction::Delete;
        }
        if let (Some(parent), false) = (&r.deleted_parent, action == EraseAction::Delete) {
            findings.push(Finding {
                anchor: table_anchor(hub, t),
                error: true,
                message: format!(
                    "`{}` is `on erase {}`, but its rows reference `{parent}`, whose rows erasure deletes",
                    t.name,
                    action.keyword()
                ),
                label: "rows would lose their parent",
                help: format!("delete them too (`on erase delete`), or keep the parent's rows (`on erase keep` on `{parent}`)"),
            });
            continue;
        }
        let mut step = ErasureStep {
            schema: t.schema.clone(),
            table: t.name.clone(),
            action,
            rows: r.owned.clone(),
            set: Vec::new(),
            kept: Vec::new(),
        };
        if action != EraseAction::Delete {
            let links: Vec<&str> = r
                .owned
                .iter()
                .filter_map(|m| match m {
                    RowMatch::Column(c) => Some(c.as_str()),
                    RowMatch::Parent { .. } => None,
                })
                .collect();
            let key: Vec<&str> = t.primary_key.iter().flat_map(|k| k.columns.iter().map(String::as_str)).collect();
            for c in &t.columns {
                let link = links.contains(&c.name.as_str());
                let personal = (c.redacted() || c.erase == Some(EraseAction::Anonymize)) && c.blind_index_of.is_none();
                let anonymized = match c.erase {
                    Some(EraseAction::Keep) => false,
                    _ if link => action == EraseAction::Anonymize,
                    _ => personal && c.generated.is_none() && !key.contains(&c.name.as_str()),
                };
                if anonymized {
                    match anonymous_value(t, c) {
                        Ok(value) => step.set.push((c.name.clone(), value)),
                        Err(why) => findings.push(no_value(hub, t, &c.name, &why)),
                    }
                } else if link || (personal && c.erase == Some(EraseAction::Keep)) {
                    step.kept.push(c.name.clone());
                }
            }
        }
        steps.push((i, step));
    }
    // A kept reference to rows erasure deletes would break its foreign key.
    for (i, step) in &steps {
        let t = &hub.tables[*i];
        for fk in t.foreign_keys.iter().filter(|fk| fk.columns.iter().any(|c| step.kept.contains(c))) {
            let deleted = steps
                .iter()
                .any(|(_, s)| s.action == EraseAction::Delete && s.schema == fk.ref_schema && s.table == fk.ref_table);
            if deleted {
                findings.push(Finding {
                    anchor: table_anchor(hub, t),
                    error: true,
                    message: format!(
                        "`{}` keeps `{}`, a foreign key to `{}`, whose rows erasure deletes",
                        t.name,
                        fk.columns.join("`, `"),
                        fk.ref_table
                    ),
                    label: "kept reference to a deleted row",
                    help: format!(
                        "delete these rows too (`on erase delete`), make the column nullable and anonymize it, or keep `{}`'s rows (`on erase keep` there)",
                        fk.ref_table
                    ),
                });
            }
        }
    }
    if steps.is_empty() {
        return None;
    }
    let order = children_first(hub, &steps.iter().map(|(i, _)| *i).collect::<BTreeSet<_>>());
    steps.sort_by_key(|(i, s)| (order.iter().position(|o| o == i), !s.is_mention()));
    Some(ir::Erasure {
        subject: subject.label(),
        key: subject.key_type.clone(),
        steps: steps.into_iter().map(|(_, s)| s).collect(),
    })
}

/// The reached tables, each before the tables it references (so children
/// are erased while their parents still match); schema order otherwise.
fn children_first(hub: &ir::Hub, reached: &BTreeSet<usize>) -> Vec<usize> {
    let references = |c: usize, p: usize| {
        let (child, parent) = (&hub.tables[c], &hub.tables[p]);
        c != p
            && child
                .foreign_keys
                .iter()
                .any(|fk| fk.ref_schema == parent.schema && fk.ref_table == parent.name)
    };
    let mut order = Vec::new();
    let mut left: Vec<usize> = reached.iter().copied().collect();
    while !left.is_empty() {
        // The first table no remaining table references; in a cycle, the first left.
        let pick = left.iter().position(|&p| !left.iter().any(|&c| references(c, p))).unwrap_or(0);
        order.push(left.remove(pick));
    }
    order
}

fn no_value(hub: &ir::Hub, t: &ir::Table, column: &str, why: &str) -> Finding {
    Finding {
        anchor: column_anchor(hub, t, column),
        error: true,
        message: format!("erasure cannot anonymize `{}.{column}`: {why}", t.name),
        label: "no anonymous value",
        help: format!(
            "make `{column}` nullable, give it a constant default, keep it (`on erase keep` on the column), or delete the rows (`on erase delete` on `{}`)",
            t.name
        ),
    }
}

/// The value that replaces a subject's: NULL where the column allows it,
/// else its constant default, else one that says nothing for its type.
fn anonymous_value(t: &ir::Table, c: &ir::Column) -> Result<String, String> {
    if c.nullable {
        return Ok("NULL".into());
    }
    let unique = t.uniques.iter().any(|k| k.columns.contains(&c.name))
        || t.indexes.iter().any(|i| i.unique && i.columns.iter().any(|ic| ic.name == c.name));
    if unique {
        return Err("it is not null and unique, so every erased row would need a value of its own".into());
    }
    if t.foreign_keys.iter().any(|fk| fk.columns.contains(&c.name)) {
        return Err("it is not null and a foreign key, and no row it could reference stands for no one".into());
    }
    if c.encrypted.is_some() {
        // An empty plain value in the crate's unsealed form.
        return Ok("'\\x00'::bytea".into());
    }
    if let Some(default) = c.default.as_deref().filter(|d| is_constant(d)) {
        return Ok(default.to_string());
    }
    Ok(match &c.ty {
        ColumnType::Varchar(_) | ColumnType::Char(_) | ColumnType::Text | ColumnType::Tsvector => "''".into(),
        ColumnType::SmallInt
        | ColumnType::Integer
        | ColumnType::BigInt
        | ColumnType::Numeric(_)
        | ColumnType::Real
        | ColumnType::Double => "0".into(),
        ColumnType::Boolean => "false".into(),
        ColumnType::Json | ColumnType::Jsonb => "'{}'".into(),
        ColumnType::Bytea => "'\\x'::bytea".into(),
        ColumnType::Array(_) => "'{}'".into(),
        ColumnType::Uuid => "'00000000-0000-0000-0000-000000000000'".into(),
        ColumnType::Enum(name) => {
            return Err(format!(
                "it is not null, has no constant default, and no value of `{name}` says nothing"
            ))
        }
        other => {
            return Err(format!(
                "it is not null, has no constant default, and no {other} value says nothing"
            ))
        }
    })
}

/// A literal default (`'USER'`, `0`, `FALSE`): the same value every time.
fn is_constant(default: &str) -> bool {
    let d = default.trim();
    let quoted = d.len() >= 2 && d.starts_with('\'') && d.ends_with('\'') && !d[1..d.len() - 1].contains('\'');
    quoted || d.parse::<f64>().is_ok() || ["true", "false"].contains(&d.to_ascii_lowercase().as_str())
}

/// `@pii` and `@sensitive` columns that erasure never reaches, and that no
/// `on erase` rule declares kept.
fn unerased(hub: &ir::Hub, erasure: Option<&ir::Erasure>, subject: &Subject, findings: &mut Vec<Finding>) {
    for t in &hub.tables {
        let reached = erasure.is_some_and(|e| e.steps.iter().any(|s| s.schema == t.schema && s.table == t.name && !s.is_mention()));
        if let Some(rule) = t.erase.filter(|r| !reached && *r != EraseAction::Keep) {
            findings.push(Finding {
                anchor: table_anchor(hub, t),
                error: false,
                message: format!(
                    "`on erase {}` on `{}` never applies: erasing a person (`{}`) never reaches it",
                    rule.keyword(),
                    t.name,
                    subject.label()
                ),
                label: "rule without rows",
                help: format!(
                    "reference the person (`references {}({})`), reach it through a row of theirs that erasure deletes or keeps, or remove the rule",
                    subject.label(),
                    subject.key
                ),
            });
        }
        if reached || t.erase == Some(EraseAction::Keep) || t.audit_log {
            continue;
        }
        for c in t
            .columns
            .iter()
            .filter(|c| c.redacted() && c.erase != Some(EraseAction::Keep) && c.blind_index_of.is_none())
        {
            let what = if c.pii { "@pii" } else { "@sensitive" };
            findings.push(Finding {
                anchor: column_anchor(hub, t, &c.name),
                error: false,
                message: format!(
                    "`{}.{}` is {what}, but erasing a person (`{}`) never reaches `{}`: no row of it is theirs",
                    t.name,
                    c.name,
                    subject.label(),
                    t.name
                ),
                label: "not erased",
                help: format!(
                    "reference the person (`references {}({})`, not `on erase anonymize`), or say the value stays on purpose: `on erase keep` on the column or the table",
                    subject.label(),
                    subject.key
                ),
            });
        }
    }
}
