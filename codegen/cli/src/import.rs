//! `hubgen import --database-url URL`: an existing database as schema text
//! (see `hubgen_codegen::import`), formatted, with what the language cannot
//! express named on stderr.

use crate::{paint, Fatal};
use std::path::Path;
use std::time::Instant;

pub fn run(database_url: &str, hub: Option<&str>, out: Option<&Path>) -> Result<bool, Fatal> {
    let start = Instant::now();
    let (db, mut notes, queries) = crate::runtime()?
        .block_on(async {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(database_url).await?;
            sqlx::raw_sql("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
                .execute(&mut conn)
                .await?;
            let read = hubgen_live::import::read(&mut conn).await;
            conn.close().await.ok();
            read
        })
        .map_err(|e| Fatal(format!("cannot read the database: {e}")))?;
    let hub = hub.map(str::to_string).unwrap_or_else(|| hub_name(&db.name));
    let imported = hubgen_codegen::import::schema_text(&db, &hub);
    notes.extend(imported.unsupported);
    let text = match hubgen_schema::format::format_source(&imported.text) {
        Ok(text) => text,
        Err(_) => {
            eprintln!(
                "{}: the imported text does not parse (a hubgen bug); written unformatted",
                paint("warning", "\x1b[1;33m")
            );
            imported.text
        }
    };
    match out {
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| Fatal(format!("cannot create {}: {e}", dir.display())))?;
            }
            std::fs::write(path, &text).map_err(|e| Fatal(format!("cannot write {}: {e}", path.display())))?;
        }
        None => print!("{text}"),
    }
    for note in &notes {
        eprintln!("{}: not expressed: {note}", paint("warning", "\x1b[1;33m"));
    }
    eprintln!(
        "imported `{}` as hub `{hub}`: {} table(s), {} enum(s) with {queries} catalog queries in {} ms; {} thing(s) not expressed",
        db.name,
        db.tables.len(),
        db.enums.len(),
        start.elapsed().as_millis(),
        notes.len()
    );
    Ok(true)
}

/// A hub name from a database name: `chatbot_identity_db` → `chatbot_identity_db` made an identifier.
fn hub_name(database: &str) -> String {
    let name: String = database
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' })
        .collect();
    if name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name
    } else {
        format!("db_{name}")
    }
}
