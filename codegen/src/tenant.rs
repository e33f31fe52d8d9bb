//! Schema per tenant: a hub's `schema x per tenant` is a template. Every
//! tenant gets a copy, `tenant_<id>`, provisioned at the template's current
//! version from `generated/<hub>/tenant_schema.sql`, and brought forward by
//! the tenant part of each later migration, `migrations/<hub>/tenant/NNNN_*.sql`
//! (sqlx and Flyway skip that folder; the tenant runner reads it).
//!
//! Both are planned like any migration, from the IR restricted to the
//! template's objects, with the template's schema renamed to [`PLACEHOLDER`];
//! the runner puts the tenant's schema name in its place.

use crate::plan::{self, files, Plan};
use crate::sql::statement::{Constraint, Object, Statement};
use hubgen_schema::ir;

/// Stands for the tenant's schema in tenant scripts: a name no schema of
/// the hub can have, so replacing it is unambiguous.
pub const PLACEHOLDER: &str = "hubgen_tenant_schema";

/// Where tenant upgrades live inside `migrations/<hub>/`.
pub const FOLDER: &str = "tenant";

/// The template's objects as a hub of their own, in the placeholder schema.
pub fn template_hub(hub: &ir::Hub) -> Option<ir::Hub> {
    let template = hub.tenant_template.as_ref()?;
    let rename = |schema: &str| {
        if schema == template.schema {
            PLACEHOLDER.to_string()
        } else {
            schema.to_string()
        }
    };
    let mut out = hub.clone();
    out.tenant_template = None;
    out.maintenance_schedule = None;
    out.schemas = vec![PLACEHOLDER.to_string()];
    out.tables.retain(|t| t.schema == template.schema);
    out.enums.retain(|e| e.schema == template.schema);
    for e in &mut out.enums {
        e.schema = rename(&e.schema);
    }
    for t in &mut out.tables {
        t.schema = rename(&t.schema);
        for fk in &mut t.foreign_keys {
            fk.ref_schema = rename(&fk.ref_schema);
        }
    }
    Some(out)
}

/// The plan's statements on the tenant's own schema. Roles, extensions,
/// hubgen's helpers and other schemas are the hub's, made by its migrations
/// before any tenant exists; leaving them out also lets tenants be
/// provisioned at once without racing on those shared catalog rows.
fn own_objects(mut plan: Plan) -> Plan {
    let shared = |s: &Statement| match s {
        Statement::CreateRole { .. }
        | Statement::AlterRole { .. }
        | Statement::GrantRole { .. }
        | Statement::CreateExtension { .. }
        | Statement::InstallHelpers
        | Statement::InstallAudit { .. } => true,
        Statement::Grant { object, .. }
        | Statement::Revoke { object, .. }
        | Statement::SetOwner { object, .. }
        | Statement::Comment { object, .. } => matches!(object, Object::Schema(name) if name != PLACEHOLDER),
        _ => false,
    };
    for step in &mut plan.steps {
        step.statements.retain(|s| !shared(s));
    }
    plan.steps.retain(|step| !step.statements.is_empty());
    plan
}

/// A tenant's copy of a table pg_partman keeps joins it like the template's
/// table (`hubgen.partman_like`), not through `create_parent`, whose cost
/// grows with the sets it manages.
fn upkeep_like_template(mut plan: Plan, template: &str) -> Plan {
    for statement in plan.steps.iter_mut().flat_map(|s| &mut s.statements) {
        if let Statement::ConfigureUpkeep { table, .. } = statement {
            *statement = Statement::ConfigureUpkeepLike {
                table: table.clone(),
                template: crate::sql::statement::Name::new(template, &table.name),
            };
        }
    }
    plan
}

/// Foreign keys into the hub's shared tables (`public.tenants`) added last.
/// Each takes a lock on the shared table that conflicts with itself until
/// the transaction ends: last, it serializes only the end of a provisioning,
/// and tenants are provisioned at once.
fn shared_references_last(mut plan: Plan) -> Plan {
    let mut later = Vec::new();
    for step in &mut plan.steps {
        for statement in &mut step.statements {
            if let Statement::CreateTable { name, constraints, .. } = statement {
                let (shared, own): (Vec<Constraint>, Vec<Constraint>) = std::mem::take(constraints)
                    .into_iter()
                    .partition(|c| matches!(c, Constraint::ForeignKey(fk) if fk.ref_schema != PLACEHOLDER));
                *constraints = own;
                later.extend(shared.into_iter().map(|constraint| Statement::AddConstraint {
                    table: name.clone(),
                    constraint,
                    not_valid: false,
                }));
            }
        }
    }
    if !later.is_empty() {
        plan.steps.push(plan::Step::new(
            plan::Phase::Finish,
            "references to the hub's shared tables".into(),
            later,
        ));
    }
    plan
}

/// The whole tenant schema at the hub's current version, or `None` for a hub without a template.
pub fn baseline(hub: &ir::Hub, version: u32) -> Option<String> {
    let template = template_hub(hub)?;
    let schema = &hub.tenant_template.as_ref()?.schema;
    let plan = upkeep_like_template(shared_references_last(own_objects(plan::plan(None, &template))), schema);
    let header = format!(
        "-- hub {}: a tenant's schema at version {version}, `{PLACEHOLDER}` standing for its name\n",
        hub.name
    );
    let layout = files::Layout {
        flavor: crate::generate::Flavor::Sqlx,
        header: &header,
        lock_timeout: hub.lock_timeout.as_deref().unwrap_or(files::DEFAULT_LOCK_TIMEOUT),
    };
    Some(files::initial(&plan, &layout).text)
}

/// The tenant part of migration `version`: (file name, contents) of each
/// file, empty when the template does not change.
pub fn upgrade(old: &ir::Hub, new: &ir::Hub, version: u32, header: &str) -> Vec<(String, String)> {
    let (Some(from), Some(to)) = (template_hub(old), template_hub(new)) else {
        return Vec::new();
    };
    let schema = new.tenant_template.as_ref().map_or("", |t| t.schema.as_str());
    let plan = upkeep_like_template(own_objects(plan::plan(Some(&from), &to)), schema);
    if plan.is_empty() {
        return Vec::new();
    }
    let layout = files::Layout {
        flavor: crate::generate::Flavor::Sqlx,
        header,
        lock_timeout: new.lock_timeout.as_deref().unwrap_or(files::DEFAULT_LOCK_TIMEOUT),
    };
    files::next(&plan, version, &layout)
        .into_iter()
        .map(|f| (format!("{FOLDER}/{}", f.name), f.text))
        .collect()
}
