//! `hubgen tenants`: the schema-per-tenant runner (see `hubgen_runtime::tenants`),
//! with the template as the project's migrations hold it.

use crate::{paint, TenantsAction};
use hubgen_runtime::tenants::{self, Template};
use hubgen_schema::ir::Hub;
use std::path::Path;

/// A hub's tenant template as the project's migration files hold it.
pub(crate) struct TemplateFiles {
    naming: String,
    version: i64,
    baseline: String,
    upgrades: Vec<(i64, String)>,
}

impl TemplateFiles {
    /// `None` when the hub has no `schema ... per tenant`.
    pub(crate) fn of(hub: &Hub, root: &Path) -> Result<Option<TemplateFiles>, crate::Fatal> {
        let Some(naming) = hub.tenant_template.as_ref().map(|t| t.naming.clone()) else {
            return Ok(None);
        };
        let files = hubgen_codegen::Project::at(root)
            .forward_migrations(&hub.name)
            .map_err(crate::Fatal)?;
        let (upgrade_files, main): (Vec<_>, Vec<_>) = files.iter().partition(|(name, _)| name.contains('/'));
        let version = main
            .iter()
            .filter_map(|(name, _)| hubgen_codegen::generate::version_of(name))
            .max()
            .ok_or_else(|| crate::Fatal(format!("hub `{}` has no migrations: run `hubgen generate`", hub.name)))?;
        let upgrades = upgrade_files
            .iter()
            .map(|(name, sql)| {
                let file = name.rsplit('/').next().unwrap_or_default();
                (i64::from(hubgen_codegen::generate::version_of(file).unwrap_or(0)), sql.clone())
            })
            .collect();
        Ok(Some(TemplateFiles {
            naming,
            version: i64::from(version),
            baseline: hubgen_codegen::tenant::baseline(hub, version).unwrap_or_default(),
            upgrades,
        }))
    }

    /// The upgrade files as [`Template`] takes them.
    pub(crate) fn upgrades(&self) -> Vec<(i64, &str)> {
        self.upgrades.iter().map(|(v, sql)| (*v, sql.as_str())).collect()
    }

    pub(crate) fn template<'a>(&'a self, upgrades: &'a [(i64, &'a str)]) -> Template<'a> {
        Template {
            naming: &self.naming,
            version: self.version,
            baseline: &self.baseline,
            upgrades,
        }
    }
}

pub fn run(schema: &Path, root: &Path, database_url: Option<&str>, hub: Option<&str>, action: TenantsAction) -> Result<bool, crate::Fatal> {
    let url = database_url.ok_or_else(|| crate::Fatal("`hubgen tenants` needs --database-url".into()))?;
    let ir = crate::compile_or_fatal(schema, "provisioning tenants")?;
    let hub = crate::check::target_hub(&ir, url, hub)?;
    let files = TemplateFiles::of(hub, root)?.ok_or_else(|| crate::Fatal(format!("hub `{}` has no `schema ... per tenant`", hub.name)))?;
    let upgrades = files.upgrades();
    let template = files.template(&upgrades);
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
