//! A plan as migration files, applied in order:
//! 1. the enum values it adds (PostgreSQL cannot use a value added in the
//!    same transaction);
//! 2. the transactional body, with a `lock_timeout`, so a migration waiting
//!    on a busy table fails fast instead of queueing every query behind it;
//! 3. each `CREATE INDEX CONCURRENTLY` alone in a file run outside a
//!    transaction (PostgreSQL runs a string of several statements as one
//!    transaction, so sqlx's `-- no-transaction` works for one statement only);
//! 4. the VALIDATEs and the constraints adopting those indexes, in a
//!    transaction of their own, once the body's exclusive locks are released.

use super::{Phase, Plan, Step};
use crate::generate::Flavor;
use crate::sql::statement::Statement;
use hubgen_schema::Span;

/// sqlx runs a file outside a transaction when it starts with this line.
pub const NO_TRANSACTION: &str = "-- no-transaction";

/// hubgen's `lock_timeout` when the schema sets none.
pub const DEFAULT_LOCK_TIMEOUT: &str = "5s";

/// One planned migration: its up file, its down file when every step can be
/// undone, and Flyway's per-script configuration when it runs outside a transaction.
#[derive(Debug, Clone)]
pub struct MigrationFile {
    pub version: u32,
    pub name: String,
    pub text: String,
    pub down: Option<(String, String)>,
    pub config: Option<(String, String)>,
    /// The plan's steps in this file, and where each one's SQL sits in `text`.
    pub steps: Vec<(usize, Span)>,
}

impl MigrationFile {
    /// Every file, as (name, contents).
    pub fn all(&self) -> impl Iterator<Item = (&String, &String)> {
        std::iter::once((&self.name, &self.text))
            .chain(self.down.as_ref().map(|(n, t)| (n, t)))
            .chain(self.config.as_ref().map(|(n, t)| (n, t)))
    }
}

/// How files are written.
pub struct Layout<'a> {
    pub flavor: Flavor,
    /// The `@generated` header every file starts with.
    pub header: &'a str,
    pub lock_timeout: &'a str,
}

/// The first migration: everything in one transactional file, never undone.
pub fn initial(plan: &Plan, layout: &Layout) -> MigrationFile {
    let mut text = layout.header.to_string();
    let indexes: Vec<usize> = (0..plan.steps.len()).collect();
    let steps = write_steps(&mut text, plan, &indexes);
    MigrationFile {
        version: 1,
        name: layout.flavor.file_name(1, "initial"),
        text,
        down: None,
        config: None,
        steps,
    }
}

/// The migrations a plan needs, numbered from `version`.
pub fn next(plan: &Plan, version: u32, layout: &Layout) -> Vec<MigrationFile> {
    let group = |phases: &dyn Fn(Phase) -> bool| -> Vec<usize> {
        plan.steps
            .iter()
            .enumerate()
            .filter(|(_, s)| phases(s.phase))
            .map(|(i, _)| i)
            .collect()
    };
    let mut groups: Vec<(Vec<usize>, bool)> = vec![
        (group(&|p| p == Phase::EnumValues), false),
        (group(&|p| p > Phase::EnumValues && p < Phase::Concurrent), false),
    ];
    groups.extend(group(&|p| p == Phase::Concurrent).into_iter().map(|i| (vec![i], true)));
    groups.push((group(&|p| p == Phase::Finish), false));
    let mut files = Vec::new();
    for (indexes, no_transaction) in groups.iter().filter(|(g, _)| !g.is_empty()) {
        files.push(file(plan, indexes, version + files.len() as u32, *no_transaction, layout));
    }
    files
}

fn file(plan: &Plan, indexes: &[usize], version: u32, no_transaction: bool, layout: &Layout) -> MigrationFile {
    let steps: Vec<&Step> = indexes.iter().map(|&i| &plan.steps[i]).collect();
    let slug = slug(&steps);
    let reversible = steps.iter().all(|s| s.reversible());
    let (up_name, down_name) = match (layout.flavor, reversible) {
        (Flavor::Sqlx, true) => (format!("{version:04}_{slug}.up.sql"), Some(format!("{version:04}_{slug}.down.sql"))),
        (Flavor::Flyway, true) => (format!("V{version}__{slug}.sql"), Some(format!("U{version}__{slug}.sql"))),
        (flavor, false) => (flavor.file_name(version, &slug), None),
    };
    let preamble = |undo: bool| {
        let mut text = String::new();
        // Flyway reads it as a comment (its `.conf` says the same); sqlx and the crates' `migrate()` obey it.
        if no_transaction {
            text.push_str(NO_TRANSACTION);
            text.push('\n');
        }
        text.push_str(layout.header);
        if undo {
            text.push_str(&format!("-- undoes migration {version}\n"));
        } else {
            text.push_str(&format!(
                "-- migration {version}: {} step(s), {}\n",
                steps.len(),
                if reversible {
                    "reversible (see the down migration)"
                } else {
                    "not reversible"
                }
            ));
        }
        if no_transaction {
            text.push_str(
                "-- runs outside a transaction; if it fails, PostgreSQL may leave an invalid index behind: drop it, then run again\n",
            );
        } else {
            text.push_str(&format!("SET LOCAL lock_timeout = '{}';\n", layout.lock_timeout));
        }
        text
    };
    let mut text = preamble(false);
    let spans = write_steps(&mut text, plan, indexes);
    let down = down_name.map(|name| {
        let mut down = preamble(true);
        for step in steps.iter().rev() {
            down.push_str(&format!("\n-- undo: {}\n", step.summary));
            for statement in step.down.iter().flatten() {
                down.push_str(&statement.sql());
            }
        }
        (name, down)
    });
    // Flyway runs a script outside a transaction when its configuration says so.
    let config = (no_transaction && layout.flavor == Flavor::Flyway)
        .then(|| (format!("{up_name}.conf"), "executeInTransaction=false\n".to_string()));
    MigrationFile {
        version,
        name: up_name,
        text,
        down,
        config,
        steps: spans,
    }
}

/// Appends each step (a `-- summary` line and its statements) and returns where each one's SQL sits.
fn write_steps(text: &mut String, plan: &Plan, indexes: &[usize]) -> Vec<(usize, Span)> {
    let mut spans = Vec::new();
    for &i in indexes {
        let step = &plan.steps[i];
        text.push_str(&format!("\n-- {}\n", step.summary));
        let start = text.len();
        for statement in &step.statements {
            text.push_str(&statement.sql());
        }
        spans.push((i, Span::new(start, text.trim_end().len().max(start))));
    }
    spans
}

/// The migration's description: the change itself, or the first and a count.
fn slug(steps: &[&Step]) -> String {
    let slug = |s: &str| {
        s.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
            .collect::<String>()
            .split('_')
            .filter(|w| !w.is_empty() && *w != "public")
            .collect::<Vec<_>>()
            .join("_")
    };
    // Helper functions come with the changes that need them; they do not name the file.
    let steps: Vec<&Step> = steps
        .iter()
        .copied()
        .filter(|s| {
            !s.statements
                .iter()
                .all(|st| matches!(st, Statement::InstallHelpers | Statement::InstallAudit { .. }))
        })
        .collect();
    let mut name = match steps.as_slice() {
        [] => "no_changes".to_string(),
        [one] => slug(&one.summary),
        [first, rest @ ..] => format!("{}_and_{}_more", slug(&first.summary), rest.len()),
    };
    name.truncate(60);
    name.trim_end_matches('_').to_string()
}
