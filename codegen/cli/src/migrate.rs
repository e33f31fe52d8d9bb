//! `hubgen migrate` and `hubgen status`: every hub's migration files against
//! its own database (see `hubgen_live::migrate`), hub after hub.
//!
//! A hub's database URL, first found wins:
//! 1. `--database-url` (one hub);
//! 2. the environment's `<HUB>_DATABASE_URL` (`IDENTITY_DATABASE_URL`);
//! 3. `hubgen.toml` at the project root: `[databases]` `identity = "postgres://…"`;
//! 4. the environment's `DATABASE_URL` naming the server, with the hub's
//!    declared database (`hub identity database chatbot_identity_db`).

use crate::{paint, Fatal};
use hubgen_live::migrate::{self, Event, Failure, Options};
use hubgen_schema::ir::{Hub, Schema};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Which hubs `hubgen migrate` and `hubgen status` work on, and where.
#[derive(clap::Args)]
pub struct Request {
    /// Schema file (default: schema/platform.hubs).
    #[arg(long)]
    schema: Option<PathBuf>,
    /// Project root holding migrations/ (default: the schema's project root).
    #[arg(long)]
    root: Option<PathBuf>,
    /// Only these hubs (repeat the flag; default: every hub).
    #[arg(long)]
    hub: Vec<String>,
    /// The database of the one hub named (or whose database the URL names).
    #[arg(long)]
    database_url: Option<String>,
}

impl Request {
    /// The schema file and the project root.
    fn paths(&self) -> (PathBuf, PathBuf) {
        let schema = crate::files_or_default(self.schema.iter().cloned().collect()).remove(0);
        let root = self.root.clone().unwrap_or_else(|| crate::project_root(&schema));
        (schema, root)
    }
}

/// How one hub ended.
enum Outcome {
    Done,
    /// A migration failed or was refused, or (status) the database is behind.
    Finding,
    /// The hub could not be reached or read.
    Error,
}

pub fn migrate(request: &Request, dry_run: bool, retries: u32, backoff: &str) -> Result<bool, Fatal> {
    let (schema, root) = request.paths();
    let backoff =
        parse_duration(backoff).ok_or_else(|| Fatal(format!("--backoff `{backoff}`: expected a duration such as 500ms or 2s")))?;
    let ir = crate::compile_or_fatal(&schema, "migrating")?;
    let targets = targets(&ir, request, &root)?;
    let runtime = crate::runtime()?;
    let outcomes: Vec<Outcome> = targets
        .iter()
        .map(|(hub, url)| {
            let options = Options {
                retries,
                backoff,
                lock_timeout: hub
                    .lock_timeout
                    .clone()
                    .unwrap_or_else(|| hubgen_codegen::plan::files::DEFAULT_LOCK_TIMEOUT.to_string()),
            };
            runtime.block_on(migrate_hub(hub, url, &root, &options, dry_run))
        })
        .collect();
    conclude(&outcomes)
}

pub fn status(request: &Request) -> Result<bool, Fatal> {
    let (schema, root) = request.paths();
    let ir = crate::compile_or_fatal(&schema, "reading the status")?;
    let targets = targets(&ir, request, &root)?;
    let runtime = crate::runtime()?;
    let outcomes: Vec<Outcome> = targets
        .iter()
        .map(|(hub, url)| runtime.block_on(status_hub(hub, url, &root)))
        .collect();
    conclude(&outcomes)
}

/// 0 when every hub is done, 1 on findings, 2 when a hub could not be reached.
fn conclude(outcomes: &[Outcome]) -> Result<bool, Fatal> {
    let errors = outcomes.iter().filter(|o| matches!(o, Outcome::Error)).count();
    if errors > 0 {
        return Err(Fatal(format!("{errors} hub(s) could not be reached or read (see above)")));
    }
    Ok(outcomes.iter().all(|o| matches!(o, Outcome::Done)))
}

async fn migrate_hub(hub: &Hub, url: &str, root: &Path, options: &Options, dry_run: bool) -> Outcome {
    let name = &hub.name;
    let tenant_template = match crate::tenants::TemplateFiles::of(hub, root) {
        Ok(files) => files,
        Err(Fatal(message)) => {
            eprintln!("{}: {name}: {message}", paint("error", "\x1b[1;31m"));
            return Outcome::Error;
        }
    };
    let (mut conn, migrator) = match open(hub, url, root).await {
        Ok(opened) => opened,
        Err(message) => {
            eprintln!("{}: {name}: {message}", paint("error", "\x1b[1;31m"));
            return Outcome::Error;
        }
    };
    // A spinner on a terminal only (indicatif hides it elsewhere); lines go to stdout either way.
    let bar = ProgressBar::new_spinner().with_style(ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("template"));
    bar.enable_steady_tick(Duration::from_millis(120));
    bar.set_message(format!("{name}: taking the migration lock"));
    let say = |line: String| bar.suspend(|| println!("{line}"));
    let result = migrate::run(&mut conn, &migrator, options, dry_run, |event| match event {
        Event::Waiting(database) => say(format!(
            "{name}: another migration holds {database}'s migration lock; waiting for it"
        )),
        Event::Applying(step) => bar.set_message(format!("{name}: applying {step}")),
        Event::Applied(step, took) => say(format!("{name}: applied {step} ({} ms)", took.as_millis())),
        Event::Retrying {
            step,
            attempt,
            wait,
            error,
        } => say(format!(
            "{name}: {step} waited too long for a lock ({error}); try {} of {} in {:.1} s",
            attempt + 1,
            options.retries + 1,
            wait.as_secs_f64()
        )),
    })
    .await;
    bar.finish_and_clear();
    // Tenant copies of the hub's `per tenant` schema follow the template.
    let result = match (result, tenant_template) {
        (Ok(steps), Some(files)) if !dry_run => {
            let upgrades = files.upgrades();
            let template = files.template(&upgrades);
            match hubgen_runtime::tenants::migrate(&mut conn, &template).await {
                Ok(report) => {
                    println!(
                        "{name}: {} tenant schema(s) at version {}: {} migrated, {} upgrade(s) applied",
                        report.schemas, template.version, report.migrated, report.applied
                    );
                    Ok(steps)
                }
                Err(e) => Err(Failure::Database(format!("tenant schemas: {e}"))),
            }
        }
        (result, _) => result,
    };
    use sqlx::Connection;
    conn.close().await.ok();
    match result {
        Ok(steps) if dry_run => {
            if steps.is_empty() {
                println!("{name}: up to date; nothing would run");
            }
            for step in &steps {
                let how = if step.no_transaction { " (outside a transaction)" } else { "" };
                println!("{name}: would apply {step}{how}");
            }
            Outcome::Done
        }
        Ok(steps) => {
            let latest = migrator
                .iter()
                .filter(|m| m.migration_type.is_up_migration())
                .map(|m| m.version)
                .max();
            let now = match steps.len() {
                0 => "nothing to apply".to_string(),
                n => format!("{n} applied now"),
            };
            println!(
                "{} {name}: up to date at {:04} ({now})",
                paint("✓", "\x1b[1;32m"),
                latest.unwrap_or(0)
            );
            Outcome::Done
        }
        Err(Failure::Database(message)) => {
            eprintln!("{}: {name}: {message}", paint("error", "\x1b[1;31m"));
            Outcome::Error
        }
        Err(failure) => {
            eprintln!("{}: {name}: {failure}", paint("error", "\x1b[1;31m"));
            Outcome::Finding
        }
    }
}

async fn status_hub(hub: &Hub, url: &str, root: &Path) -> Outcome {
    let name = &hub.name;
    let (mut conn, migrator) = match open(hub, url, root).await {
        Ok(opened) => opened,
        Err(message) => {
            eprintln!("{}: {name}: {message}", paint("error", "\x1b[1;31m"));
            return Outcome::Error;
        }
    };
    let status = migrate::status(&mut conn, &migrator).await;
    use sqlx::Connection;
    conn.close().await.ok();
    let status = match status {
        Ok(status) => status,
        Err(failure) => {
            eprintln!("{}: {name}: {failure}", paint("error", "\x1b[1;31m"));
            return Outcome::Error;
        }
    };
    let latest = status.applied.last().map(|s| format!(", at {:04}", s.version)).unwrap_or_default();
    println!(
        "{name} ({}): {} applied{latest}, {} pending",
        hub.database,
        status.applied.len(),
        status.pending.len()
    );
    for step in &status.pending {
        println!("  pending {step}");
    }
    for problem in &status.problems {
        println!("  {}: {problem}", paint("problem", "\x1b[1;31m"));
    }
    if status.pending.is_empty() && status.problems.is_empty() {
        Outcome::Done
    } else {
        Outcome::Finding
    }
}

async fn open(hub: &Hub, url: &str, root: &Path) -> Result<(sqlx::PgConnection, sqlx::migrate::Migrator), String> {
    use sqlx::Connection;
    let dir = hubgen_codegen::Project::at(root).migrations_dir(&hub.name);
    if !dir.is_dir() {
        return Err(format!("{} does not exist; run `hubgen generate` first", dir.display()));
    }
    let migrator = migrate::load(&dir).await?;
    let conn = sqlx::PgConnection::connect(url)
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", redact(url)))?;
    Ok((conn, migrator))
}

/// The hubs asked for, each with its database URL.
fn targets<'a>(ir: &'a Schema, request: &Request, root: &Path) -> Result<Vec<(&'a Hub, String)>, Fatal> {
    let hubs: Vec<&Hub> = if request.hub.is_empty() {
        match request.database_url.as_deref() {
            Some(url) => vec![crate::check::target_hub(ir, url, None)?],
            None => ir.hubs.iter().collect(),
        }
    } else {
        request
            .hub
            .iter()
            .map(|name| ir.hub(name).ok_or_else(|| Fatal(format!("the schema has no hub `{name}`"))))
            .collect::<Result<_, _>>()?
    };
    if request.database_url.is_some() && hubs.len() != 1 {
        return Err(Fatal("--database-url names one database: pick its hub with one --hub".into()));
    }
    let config = crate::config::ProjectConfig::read(root)?.databases;
    let env = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
    hubs.into_iter()
        .map(|hub| {
            let key = format!("{}_DATABASE_URL", hub.name.to_uppercase().replace('-', "_"));
            let url = request
                .database_url
                .clone()
                .or_else(|| env(&key))
                .or_else(|| config.get(&hub.name).cloned())
                .or_else(|| env("DATABASE_URL").map(|server| with_database(&server, &hub.database)))
                .ok_or_else(|| {
                    Fatal(format!(
                        "no database URL for hub `{}`: set {key}, add `{} = \"postgres://…\"` under [databases] in hubgen.toml, or set DATABASE_URL to the server",
                        hub.name, hub.name
                    ))
                })?;
            Ok((hub, url))
        })
        .collect()
}

/// `postgres://host/any?opts` with the database replaced by `database`.
fn with_database(server: &str, database: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server, None),
    };
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

/// A URL as printed: without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// `500ms`, `2s`, `1.5s`.
fn parse_duration(text: &str) -> Option<Duration> {
    let (number, unit) = match text.strip_suffix("ms") {
        Some(n) => (n, 1e-3),
        None => (text.strip_suffix('s')?, 1.0),
    };
    let value: f64 = number.trim().parse().ok()?;
    (value.is_finite() && value >= 0.0).then(|| Duration::from_secs_f64(value * unit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_url_takes_the_hub_database() {
        assert_eq!(
            with_database("postgres://u:p@db:5432/postgres?sslmode=disable", "chatbot_identity_db"),
            "postgres://u:p@db:5432/chatbot_identity_db?sslmode=disable"
        );
        assert_eq!(with_database("postgres://db", "x"), "postgres://db/x");
    }

    #[test]
    fn passwords_are_not_printed() {
        assert_eq!(redact("postgres://u:secret@db/x"), "postgres://u:***@db/x");
        assert_eq!(redact("postgres://u@db/x"), "postgres://u@db/x");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("2"), None);
        assert_eq!(parse_duration("-1s"), None);
    }
}
