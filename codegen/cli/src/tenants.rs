//! `hubgen tenants`: the schema-per-tenant runner (see `hubgen_runtime::tenants`),
//! with the template as the project's migrations hold it.

use crate::{paint, TenantsAction};
use hubgen_runtime::tenants::{self, Template};
use std::path::Path;

pub fn run(schema: &Path, root: &Path, database_url: Option<&str>, hub: Option<&str>, action: TenantsAction) -> Result<bool, crate::Fatal> {
    let url = database_url.ok_or_else(|| crate::Fatal("`hubgen tenants` needs --database-url".into()))?;
    let ir = crate::compile_or_fatal(schema, "provisioning tenants")?;
    let hub = crate::check::target_hub(&ir, url, hub)?;
    let naming = hub
        .tenant_template
        .as_ref()
        .map(|t| t.naming.clone())
        .ok_or_else(|| crate::Fatal(format!("hub `{}` has no `schema ... per tenant`", hub.name)))?;
    let files = hubgen_codegen::Project::at(root)
        .forward_migrations(&hub.name)
        .map_err(crate::Fatal)?;
    let (upgrade_files, main): (Vec<_>, Vec<_>) = files.iter().partition(|(name, _)| name.contains('/'));
    let version = main
        .iter()
        .filter_map(|(name, _)| hubgen_codegen::generate::version_of(name))
        .max()
        .ok_or_else(|| crate::Fatal(format!("hub `{}` has no migrations: run `hubgen generate`", hub.name)))?;
    let baseline = hubgen_codegen::tenant::baseline(hub, version).unwrap_or_default();
    let upgrades: Vec<(i64, &str)> = upgrade_files
        .iter()
        .map(|(name, sql)| {
            let file = name.rsplit('/').next().unwrap_or_default();
            (i64::from(hubgen_codegen::generate::version_of(file).unwrap_or(0)), sql.as_str())
        })
        .collect();
    let template = Template {
        naming: &naming,
        version: i64::from(version),
        baseline: &baseline,
        upgrades: &upgrades,
    };
    crate::runtime()?.block_on(async {
        use sqlx::Connection;
        let fatal = |e: &dyn std::fmt::Display| crate::Fatal(format!("hub `{}`: {e}", hub.name));
        let mut conn = sqlx::PgConnection::connect(url).await.map_err(|e| fatal(&e))?;
        match action {
            TenantsAction::Provision { tenants: ids } => {
                for id in ids {
                    let schema = tenants::provision(&mut conn, &template, &id).await.map_err(|e| fatal(&e))?;
                    println!(
                        "{} {} (tenant {}) at version {}",
                        paint("✓", "\x1b[1;32m"),
                        schema.schema,
                        schema.tenant,
                        schema.version
                    );
                }
            }
            TenantsAction::List => {
                for s in tenants::list(&mut conn).await.map_err(|e| fatal(&e))? {
                    let behind = if s.version < template.version {
                        " (behind: run `hubgen tenants migrate`)"
                    } else {
                        ""
                    };
                    println!("{}\ttenant {}\tversion {}{behind}", s.schema, s.tenant, s.version);
                }
            }
            TenantsAction::Migrate => {
                let report = tenants::migrate(&mut conn, &template).await.map_err(|e| fatal(&e))?;
                println!(
                    "{} {} tenant schema(s) at version {}: {} migrated, {} upgrade(s) applied",
                    paint("✓", "\x1b[1;32m"),
                    report.schemas,
                    template.version,
                    report.migrated,
                    report.applied
                );
            }
        }
        conn.close().await.ok();
        Ok(true)
    })
}
