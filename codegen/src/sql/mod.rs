//! IR → PostgreSQL: the initial migration of a hub (DDL, RLS, roles, grants).

pub(crate) mod access;
pub mod audit;
pub mod citus;
pub(crate) mod ddl;
pub mod erasure;
pub mod quote;
pub mod statement;
pub mod upkeep;

pub use access::{
    is_isolation_policy, owner_predicate, rls_enabled as access_rls_enabled, scope_policies, table_privileges, tenant_predicate, Roles,
    GLOBAL_POLICY, OWNER_SETTING, PLATFORM_POLICY, TENANT_POLICY, TENANT_SETTING,
};
pub use ddl::column_type;

use hubgen_schema::ir;

/// The whole initial migration of one hub, after its header: the plan from nothing.
pub fn initial_migration(hub: &ir::Hub) -> String {
    let plan = crate::plan::plan(None, hub);
    let layout = crate::plan::files::Layout {
        flavor: crate::Flavor::Sqlx,
        header: "",
        lock_timeout: hub.lock_timeout.as_deref().unwrap_or(crate::plan::files::DEFAULT_LOCK_TIMEOUT),
    };
    crate::plan::files::initial(&plan, &layout).text
}

/// Extensions the schema needs beyond those it declares.
pub fn required_extensions(hub: &ir::Hub) -> Vec<String> {
    let mut extensions = hub.extensions.clone();
    extensions.sort();
    extensions.dedup();
    extensions
}
