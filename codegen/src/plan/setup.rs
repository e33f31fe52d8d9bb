//! Roles, schemas, extensions and enum types: what tables are built on.

use super::{Phase, Plan, PlanError, Step};
use crate::sql::statement::{Name, Object, Statement};
use crate::sql::Roles;
use hubgen_schema::ir;
use hubgen_schema::Anchor;

/// Grants every hub's application and read-only roles hold on a schema or type.
fn usage(hub: &ir::Hub, object: Object) -> Statement {
    let roles = Roles::of(hub);
    Statement::Grant {
        object,
        privileges: vec!["USAGE".into()],
        roles: vec![roles.app, roles.readonly],
    }
}

pub(super) fn plan(old: Option<&ir::Hub>, new: &ir::Hub, plan: &mut Plan) {
    let roles = Roles::of(new);
    let owner = roles.owner.clone();
    if old.is_none() {
        // Roles are shared by the whole cluster: each is created only if it is missing.
        let builtin = [
            (roles.owner.clone(), None),
            (roles.app.clone(), Some(false)),
            (roles.readonly.clone(), Some(false)),
        ];
        for (name, bypass_rls) in builtin {
            plan.push(Step::new(
                Phase::Setup,
                format!("create role {name}"),
                vec![Statement::CreateRole { name, bypass_rls }],
            ));
        }
        plan.push(Step::new(
            Phase::Setup,
            format!(
                "grant usage on schema {} to {} and {}",
                hubgen_schema::DEFAULT_SCHEMA,
                roles.app,
                roles.readonly
            ),
            vec![usage(new, Object::Schema(hubgen_schema::DEFAULT_SCHEMA.into()))],
        ));
    }
    let old_roles = old.map(|o| o.roles.as_slice()).unwrap_or_default();
    for role in new.roles.iter().filter(|r| !old_roles.iter().any(|o| o.name == r.name)) {
        plan.push(Step::new(
            Phase::Setup,
            format!("create role {}", role.name),
            vec![Statement::CreateRole {
                name: role.name.clone(),
                bypass_rls: Some(role.bypass_rls),
            }],
        ));
    }
    for role in &new.roles {
        let Some(before) = old_roles.iter().find(|o| o.name == role.name) else {
            continue;
        };
        if before.bypass_rls != role.bypass_rls {
            let verb = if role.bypass_rls { "bypasses" } else { "stops bypassing" };
            plan.push(Step::new(
                Phase::Setup,
                format!("role {} {verb} row-level security", role.name),
                vec![Statement::AlterRole {
                    name: role.name.clone(),
                    bypass_rls: role.bypass_rls,
                }],
            ));
        }
    }
    // The platform role acts through the application role's grants; its own
    // policies add the rows without a tenant or owner.
    let was_platform = |name: &str| old_roles.iter().any(|o| o.name == name && o.platform);
    for role in new.roles.iter().filter(|r| r.platform && !was_platform(&r.name)) {
        plan.push(Step::new(
            Phase::Setup,
            format!("grant {} to platform role {}", roles.app, role.name),
            vec![Statement::GrantRole {
                role: roles.app.clone(),
                member: role.name.clone(),
            }],
        ));
    }
    let old_schemas = old.map(|o| o.schemas.as_slice()).unwrap_or_default();
    for schema in new.schemas.iter().filter(|s| !old_schemas.contains(s)) {
        plan.push(Step::owning(
            Phase::Setup,
            format!("create schema {schema}"),
            vec![
                Statement::CreateSchema { name: schema.clone() },
                Statement::SetOwner {
                    object: Object::Schema(schema.clone()),
                    owner: owner.clone(),
                },
                usage(new, Object::Schema(schema.clone())),
            ],
        ));
    }
    let old_extensions = old.map(|o| o.extensions.as_slice()).unwrap_or_default();
    for extension in crate::sql::required_extensions(new).iter().filter(|e| !old_extensions.contains(e)) {
        plan.push(Step::new(
            Phase::Setup,
            format!("create extension {extension}"),
            vec![Statement::CreateExtension { name: extension.clone() }],
        ));
    }

    for e in &new.enums {
        let name = Name::new(&e.schema, &e.name);
        let label = name.label();
        match old.and_then(|o| o.enums.iter().find(|o| o.schema == e.schema && o.name == e.name)) {
            None => {
                let mut statements = vec![Statement::CreateEnum {
                    name: name.clone(),
                    values: e.values.clone(),
                }];
                if e.docs.is_some() {
                    statements.push(Statement::Comment {
                        object: Object::Type(name.clone()),
                        text: e.docs.clone(),
                        previous: None,
                    });
                }
                statements.push(Statement::SetOwner {
                    object: Object::Type(name.clone()),
                    owner: owner.clone(),
                });
                statements.push(usage(new, Object::Type(name.clone())));
                plan.push(Step::owning(Phase::Setup, format!("create enum {label}"), statements));
            }
            Some(o) => {
                if !e.values.starts_with(&o.values) {
                    plan.errors.push(PlanError {
                        at: Anchor::Enum {
                            hub: new.name.clone(),
                            schema: e.schema.clone(),
                            name: e.name.clone(),
                        },
                        message: format!(
                            "enum `{}` changes its existing values ({} → {}): PostgreSQL can only add values",
                            e.name,
                            o.values.join(", "),
                            e.values.join(", ")
                        ),
                        help: "append new values at the end, or create a new enum and move the column to it",
                    });
                    continue;
                }
                for (i, value) in e.values.iter().enumerate().skip(o.values.len()) {
                    plan.push(Step::new(
                        Phase::EnumValues,
                        format!("add value {value} to enum {label}"),
                        vec![Statement::AddEnumValue {
                            name: name.clone(),
                            value: value.clone(),
                            after: i.checked_sub(1).map(|p| e.values[p].clone()),
                        }],
                    ));
                }
                if e.docs != o.docs {
                    plan.push(Step::new(
                        Phase::Comments,
                        format!("comment on enum {label}"),
                        vec![Statement::Comment {
                            object: Object::Type(name),
                            text: e.docs.clone(),
                            previous: o.docs.clone(),
                        }],
                    ));
                }
            }
        }
    }
}

/// Enum types the schema no longer has, dropped after every column that used them.
pub(super) fn drops(old: &ir::Hub, new: &ir::Hub, plan: &mut Plan) {
    for e in old
        .enums
        .iter()
        .filter(|e| !new.enums.iter().any(|n| n.schema == e.schema && n.name == e.name))
    {
        let name = Name::new(&e.schema, &e.name);
        plan.push(Step::new(
            Phase::Drop,
            format!("drop enum {}", name.label()),
            vec![Statement::DropEnum { name }],
        ));
    }
}
