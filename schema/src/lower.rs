//! Lowering: validated AST → IR. Runs only when validation found no errors,
//! but never panics if it is called on a bad schema anyway.

use crate::ast::*;
use crate::ir::{self, pg_object_name};
use crate::types::ColumnType;
use crate::validate::{references, Ctx, HubCtx, TableCtx};

pub(crate) fn lower(ctx: &Ctx) -> ir::Schema {
    ir::Schema {
        hubs: ctx.hubs.iter().map(|hub| lower_hub(ctx, hub)).collect(),
    }
}

fn docs(trivia: &Trivia) -> Option<String> {
    let docs = trivia.docs();
    (!docs.is_empty()).then(|| docs.join("\n"))
}

fn lower_hub(ctx: &Ctx, hub: &HubCtx) -> ir::Hub {
    ir::Hub {
        name: hub.name().to_string(),
        database: hub.ast.database.as_ref().map_or_else(|| hub.name().to_string(), |d| d.name.clone()),
        readonly: hub.ast.readonly,
        docs: docs(&hub.ast.trivia),
        extensions: hub.extensions.iter().map(|e| e.name.name.clone()).collect(),
        schemas: hub.schema_blocks.iter().map(|s| s.name.name.clone()).collect(),
        roles: hub
            .roles
            .iter()
            .map(|r| ir::Role {
                name: r.name.name.clone(),
                bypass_rls: r.bypass_rls,
                platform: r.platform,
                docs: docs(&r.trivia),
            })
            .collect(),
        enums: hub
            .enums
            .iter()
            .map(|(schema, e)| ir::Enum {
                schema: schema.to_string(),
                name: e.name.name.clone(),
                values: e.values.iter().map(|v| v.value.clone()).collect(),
                docs: docs(&e.trivia),
            })
            .collect(),
        tables: hub.tables.iter().map(|t| lower_table(ctx, hub, t)).collect(),
        acknowledged: hub
            .acknowledged
            .iter()
            .map(|a| a.target.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join("."))
            .collect(),
        lock_timeout: crate::validate::settings::value(ctx, hub, "lock_timeout").map(str::to_string),
        distributed_by: hub.distributed.first().map(|d| d.column.name.clone()),
        tenant_template: hub.schema_blocks.iter().find_map(|s| {
            let rule = s.per_tenant.as_ref()?;
            Some(ir::TenantTemplate {
                schema: s.name.name.clone(),
                naming: rule.naming.as_ref().map_or(ir::TenantTemplate::DEFAULT_NAMING.to_string(), |n| {
                    n.text.trim_matches('\'').to_string()
                }),
            })
        }),
        maintenance_schedule: hub.schedules.first().map(|s| s.cron.text.trim_matches('\'').to_string()),
        erasure: None,
    }
}

fn lower_table(ctx: &Ctx, hub: &HubCtx, table: &TableCtx) -> ir::Table {
    let name = table.name();
    let mut out = ir::Table {
        schema: table.schema.to_string(),
        name: name.to_string(),
        docs: docs(&table.ast.trivia),
        renamed_from: table.option_column(TableOptionKind::RenamedFrom).map(|(n, _)| n.to_string()),
        columns: Vec::new(),
        primary_key: None,
        uniques: Vec::new(),
        indexes: Vec::new(),
        checks: Vec::new(),
        foreign_keys: Vec::new(),
        cross_hub_refs: Vec::new(),
        tenant_column: table.tenant_option().map(|(_, (n, _))| n.to_string()),
        tenant_global: table
            .tenant_option()
            .is_some_and(|(kind, _)| kind == TableOptionKind::TenantOrGlobal),
        owner_column: table.option_column(TableOptionKind::OwnerScoped).map(|(n, _)| n.to_string()),
        scoped_through: table.option_column(TableOptionKind::ScopedThrough).map(|(n, _)| n.to_string()),
        shared: table.option(TableOptionKind::Shared).is_some(),
        distribution_column: crate::validate::citus::distribution_column(hub, table).map(str::to_string),
        soft_delete: None,
        version_column: table.option_column(TableOptionKind::Versioned).map(|(n, _)| n.to_string()),
        partitioning: None,
        retention: None,
        policies: Vec::new(),
        grants: Vec::new(),
        audited: table.option(TableOptionKind::Audited).is_some(),
        audit_log: table.option(TableOptionKind::AuditLog).is_some(),
        data_subject: table.option(TableOptionKind::DataSubject).is_some(),
        erase: table.items.iter().find_map(|item| match item.kind {
            TableItemKind::OnErase(action) => Some(action),
            _ => None,
        }),
    };
    let pk = table.primary_key();
    if !pk.is_empty() {
        out.primary_key = Some(ir::Key {
            name: pg_object_name(name, None, "pkey"),
            columns: pk.iter().map(|c| c.to_string()).collect(),
        });
    }
    let mut check_names = Vec::new();
    for column in &table.columns {
        let col = column.name.name.as_str();
        let mut lowered = ir::Column {
            name: col.to_string(),
            ty: hub.resolve_type(table.schema, &column.ty).unwrap_or(ColumnType::Text),
            nullable: table.is_nullable(column),
            default: None,
            generated: None,
            docs: docs(&column.trivia),
            renamed_from: column.attr("renamed_from").and_then(|a| a.args.first()).map(|a| a.name.clone()),
            backfill: column.attr("backfill").and_then(|a| a.expr.as_ref()).map(|e| e.text.clone()),
            sensitive: column.attr("sensitive").is_some(),
            pii: column.attr("pii").is_some(),
            erase: column.modifiers.iter().find_map(|m| match m.kind {
                ModifierKind::OnErase(action) => Some(action),
                _ => None,
            }),
            touch: column.attr("touch").is_some(),
            format: column.attr("format").and_then(|a| a.args.first()).map(|a| a.name.clone()),
            encrypted: None,
            blind_index_of: None,
        };
        if let Some(attr) = column.attr("encrypted") {
            lowered.encrypted = Some(ir::Encryption {
                plaintext: std::mem::replace(&mut lowered.ty, ColumnType::Bytea),
                searchable: attr.args.iter().any(|a| a.name == "searchable"),
            });
            lowered.sensitive = true;
        }
        for modifier in &column.modifiers {
            match &modifier.kind {
                ModifierKind::Default(expr) => lowered.default = Some(expr.text.clone()),
                ModifierKind::Generated(expr) => lowered.generated = Some(expr.text.clone()),
                ModifierKind::Unique => out.uniques.push(ir::Key {
                    name: pg_object_name(name, Some(col), "key"),
                    columns: vec![col.to_string()],
                }),
                ModifierKind::Check(expr) => {
                    let check_name = unique_name(&mut check_names, check_name(name, expr));
                    out.checks.push(ir::Check {
                        name: check_name,
                        expr: expr.text.clone(),
                    });
                }
                ModifierKind::References(reference) => lower_reference(ctx, hub, table, &mut out, None, &[col], reference),
                _ => {}
            }
        }
        let index = lowered
            .encrypted
            .as_ref()
            .filter(|e| e.searchable)
            .map(|_| blind_index_column(&lowered));
        out.columns.push(lowered);
        out.columns.extend(index);
    }
    for item in &table.items {
        match &item.kind {
            TableItemKind::Unique { name: constraint, columns } => {
                let cols: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
                let key_name = constraint
                    .as_ref()
                    .map_or_else(|| pg_object_name(name, Some(&cols.join("_")), "key"), |n| n.name.clone());
                out.uniques.push(ir::Key {
                    name: key_name,
                    columns: cols,
                });
            }
            TableItemKind::Check { name: constraint, expr } => {
                let check_name = constraint.as_ref().map_or_else(|| check_name(name, expr), |n| n.name.clone());
                let check_name = unique_name(&mut check_names, check_name);
                out.checks.push(ir::Check {
                    name: check_name,
                    expr: expr.text.clone(),
                });
            }
            TableItemKind::ForeignKey {
                name: constraint,
                columns,
                target,
            } => {
                let cols: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
                lower_reference(ctx, hub, table, &mut out, constraint.as_ref(), &cols, target);
            }
            TableItemKind::Index(index) => out.indexes.push(ir::Index {
                name: index.name.name.clone(),
                unique: index.unique,
                method: index
                    .method
                    .as_ref()
                    .and_then(|m| ir::IndexMethod::parse(&m.name))
                    .unwrap_or(ir::IndexMethod::Btree),
                columns: index
                    .columns
                    .iter()
                    .map(|c| ir::IndexColumn {
                        name: c.name.name.clone(),
                        descending: c.descending,
                    })
                    .collect(),
                predicate: index.predicate.as_ref().map(|p| p.text.clone()),
            }),
            TableItemKind::PartitionBy {
                method,
                column,
                upkeep,
                into,
            } => {
                let method = match method {
                    PartitionMethod::Range => ir::PartitionMethod::Range,
                    PartitionMethod::List => ir::PartitionMethod::List,
                    PartitionMethod::Hash => ir::PartitionMethod::Hash {
                        modulus: into.map_or(1, |(n, _)| n),
                    },
                };
                let partitions = match method {
                    // Hash partitions are hubgen's to name: `<table>_h00` ...
                    ir::PartitionMethod::Hash { modulus } => {
                        let width = (modulus.saturating_sub(1)).to_string().len().max(2);
                        (0..modulus)
                            .map(|r| ir::Partition {
                                name: format!("{}_h{r:0width$}", table.name()),
                                from: String::new(),
                                to: String::new(),
                                values: Vec::new(),
                                default: false,
                                remainder: Some(r),
                            })
                            .collect()
                    }
                    _ => table
                        .items
                        .iter()
                        .filter_map(|i| match &i.kind {
                            TableItemKind::Partition { name, bound } => Some(lower_partition(name, bound)),
                            _ => None,
                        })
                        .collect(),
                };
                out.partitioning = Some(ir::Partitioning {
                    column: column.name.clone(),
                    method,
                    partitions,
                    upkeep: upkeep.as_ref().map(|u| ir::Upkeep {
                        interval: ir::Upkeep::INTERVALS
                            .iter()
                            .find(|(every, _)| *every == u.every.sql())
                            .map_or("monthly", |(_, name)| name)
                            .to_string(),
                        premake: u.premake.map_or(4, |(n, _)| n),
                        retain: u.retain.as_ref().map(Interval::sql),
                        archive: u.archive.is_some(),
                    }),
                    secured: true,
                });
            }
            TableItemKind::Retain { keep, column } => {
                out.retention = Some(ir::Retention {
                    column: column.name.clone(),
                    keep: keep.sql(),
                })
            }
            TableItemKind::Policy(policy) => out.policies.push(ir::Policy {
                name: policy.name.name.clone(),
                command: policy
                    .command
                    .as_ref()
                    .map_or_else(|| "all".to_string(), |c| c.name.to_ascii_lowercase()),
                role: policy.role.name.clone(),
                using: policy.using.as_ref().map(|e| e.text.clone()),
                with_check: policy.with_check.as_ref().map(|e| e.text.clone()),
            }),
            TableItemKind::Grant { privileges, role } => out.grants.push(ir::Grant {
                role: role.name.clone(),
                privileges: privileges.iter().map(|p| p.name.to_ascii_lowercase()).collect(),
            }),
            TableItemKind::Column(_)
            | TableItemKind::Use(_)
            | TableItemKind::PrimaryKey(_)
            | TableItemKind::Partition { .. }
            | TableItemKind::Allow(_)
            | TableItemKind::OnErase(_) => {}
        }
    }
    // Keys and indexes of a searchable encrypted column hold its blind index.
    let searchable: Vec<String> = out.columns.iter().filter_map(|c| c.blind_index_of.clone()).collect();
    let to_index = |c: &mut String| {
        if searchable.contains(c) {
            *c = ir::Encryption::index_column(c);
        }
    };
    for key in &mut out.uniques {
        key.columns.iter_mut().for_each(to_index);
    }
    for index in &mut out.indexes {
        index.columns.iter_mut().for_each(|c| to_index(&mut c.name));
    }
    if let Some((column, _)) = table.option_column(TableOptionKind::SoftDelete) {
        let kind = match out.column(column).map(|c| &c.ty) {
            Some(ColumnType::Boolean) => ir::SoftDeleteKind::Flag,
            _ => ir::SoftDeleteKind::Timestamp,
        };
        out.soft_delete = Some(ir::SoftDelete {
            column: column.to_string(),
            kind,
        });
    }
    out
}

/// The blind index column of a searchable encrypted column: generated by
/// the database from the value, which the crate seals with its index in
/// front (HMAC-SHA-256 of the plain value, after the version byte 2); NULL
/// for values sealed otherwise, until `reencrypt` seals them again.
fn blind_index_column(encrypted: &ir::Column) -> ir::Column {
    let c = &encrypted.name;
    ir::Column {
        name: ir::Encryption::index_column(c),
        ty: ColumnType::Bytea,
        nullable: true,
        default: None,
        // As PostgreSQL prints it back, so drift checks compare like with like.
        generated: Some(format!(
            "CASE WHEN get_byte({c}, 0) = 2 THEN substring({c} FROM 2 FOR 32) ELSE NULL::bytea END"
        )),
        docs: Some(format!(
            "Blind index of `{}`: equality lookups on the encrypted value.",
            encrypted.name
        )),
        renamed_from: None,
        backfill: None,
        sensitive: false,
        pii: false,
        erase: None,
        touch: false,
        format: None,
        encrypted: None,
        blind_index_of: Some(encrypted.name.clone()),
    }
}

fn lower_partition(name: &Ident, bound: &PartitionBound) -> ir::Partition {
    let mut p = ir::Partition {
        name: name.name.clone(),
        from: String::new(),
        to: String::new(),
        values: Vec::new(),
        default: false,
        remainder: None,
    };
    match bound {
        PartitionBound::Range { from, to } => (p.from, p.to) = (from.text.clone(), to.text.clone()),
        PartitionBound::In(values) => p.values = values.iter().map(|v| v.text.clone()).collect(),
        PartitionBound::Default(_) => p.default = true,
    }
    p
}

fn lower_reference(
    ctx: &Ctx,
    hub: &HubCtx,
    table: &TableCtx,
    out: &mut ir::Table,
    name: Option<&Ident>,
    columns: &[&str],
    reference: &Reference,
) {
    let Ok(target) = references::resolve(ctx, hub, table.schema, reference) else {
        return;
    };
    let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
    if target.cross_hub {
        out.cross_hub_refs.push(ir::CrossHubRef {
            columns,
            hub: target.hub.name().to_string(),
            schema: target.table.schema.to_string(),
            table: target.table.name().to_string(),
            ref_columns: target.columns,
        });
        return;
    }
    let fk_name = name.map_or_else(
        || pg_object_name(table.name(), Some(&columns.join("_")), "fkey"),
        |n| n.name.clone(),
    );
    out.foreign_keys.push(ir::ForeignKey {
        name: fk_name,
        columns,
        ref_schema: target.table.schema.to_string(),
        ref_table: target.table.name().to_string(),
        ref_columns: target.columns,
        on_delete: reference.on_delete.map_or(FkAction::NoAction, |(a, _)| a),
        on_update: reference.on_update.map_or(FkAction::NoAction, |(a, _)| a),
    });
}

/// PostgreSQL names an unnamed check `table_column_check` when it refers to
/// exactly one column, else `table_check`.
fn check_name(table: &str, expr: &Expr) -> String {
    let mut columns: Vec<&str> = expr.idents.iter().map(|i| i.name.as_str()).collect();
    columns.sort_unstable();
    columns.dedup();
    match columns.as_slice() {
        [only] => pg_object_name(table, Some(only), "check"),
        _ => pg_object_name(table, None, "check"),
    }
}

/// PostgreSQL appends 1, 2, ... to a chosen name that is taken.
fn unique_name(taken: &mut Vec<String>, name: String) -> String {
    let mut candidate = name.clone();
    let mut n = 0;
    while taken.contains(&candidate) {
        n += 1;
        candidate = format!("{name}{n}");
    }
    taken.push(candidate.clone());
    candidate
}
