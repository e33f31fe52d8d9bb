//! IR → PostgreSQL: the initial migration of a hub (DDL, RLS, roles, grants).

pub(crate) mod access;
pub(crate) mod ddl;
pub mod quote;

pub use access::{rls_enabled as access_rls_enabled, table_privileges, tenant_predicate, Roles, TENANT_POLICY, TENANT_SETTING};
pub use ddl::column_type;

use hubgen_schema::ir;

/// The whole initial migration of one hub, after its header.
pub fn initial_migration(hub: &ir::Hub) -> String {
    let mut sections: Vec<String> = Vec::new();
    sections.push(access::roles(hub));
    sections.extend(ddl::schemas_and_extensions(hub));
    sections.extend(ddl::enums(hub));
    sections.extend(ddl::tables(hub));
    sections.extend(access::security(hub));
    let mut out = String::new();
    for section in sections.iter().filter(|s| !s.is_empty()) {
        out.push('\n');
        out.push_str(section);
    }
    out
}

/// Extensions the schema needs beyond those it declares.
pub fn required_extensions(hub: &ir::Hub) -> Vec<String> {
    let mut extensions = hub.extensions.clone();
    extensions.sort();
    extensions.dedup();
    extensions
}
