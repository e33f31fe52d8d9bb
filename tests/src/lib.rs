//! Shared harness for the end-to-end tests: schemas from the repository, a
//! fresh PostgreSQL database per test, generated migrations.

use hubgen_schema::ir;
use sqlx::{Connection, Executor, PgConnection};
use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repository root")
        .to_path_buf()
}

/// Every checked-in schema: the platform and each example, as (path relative to the root, IR).
pub fn schemas() -> Vec<(String, ir::Schema)> {
    let mut paths = vec!["schema/platform.hubs".to_string()];
    let mut examples: Vec<String> = std::fs::read_dir(root().join("schema/examples"))
        .expect("examples")
        .map(|e| format!("schema/examples/{}", e.expect("entry").file_name().to_string_lossy()))
        .collect();
    examples.sort();
    paths.extend(examples);
    paths.into_iter().map(|p| (p.clone(), load(&p))).collect()
}

/// The codegen fixtures: one small schema per feature.
pub fn fixture_schemas() -> Vec<(String, ir::Schema)> {
    let mut paths: Vec<String> = std::fs::read_dir(root().join("codegen/tests/fixtures"))
        .expect("fixtures")
        .map(|e| format!("codegen/tests/fixtures/{}", e.expect("entry").file_name().to_string_lossy()))
        .filter(|p| p.ends_with(".hubs"))
        .collect();
    paths.sort();
    paths.into_iter().map(|p| (p.clone(), load(&p))).collect()
}

pub fn load(relative: &str) -> ir::Schema {
    let text = std::fs::read_to_string(root().join(relative)).expect("schema readable");
    let output = hubgen_schema::compile(&text);
    output.ir.unwrap_or_else(|| panic!("{relative} does not validate"))
}

/// The initial migration of a hub, exactly as `hubgen generate` writes it.
pub fn initial_migration(schema_path: &str, schema: &ir::Schema, hub: &str) -> String {
    let config = hubgen_codegen::Config {
        schema_path: schema_path.to_string(),
        ..Default::default()
    };
    let output = hubgen_codegen::generate(schema, &config);
    output
        .files
        .get(&format!("migrations/{hub}/0001_initial.sql"))
        .cloned()
        .expect("hub migration")
}

pub use hubgen_runtime::testing::{server_url, url_for};

/// A database created for one test and dropped when the test is done.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// Creates `hubgen_<name>`, dropping a leftover of an earlier, aborted run first.
    pub async fn create(name: &str) -> TestDb {
        let name = format!("hubgen_{name}").to_lowercase().replace(['-', '.', '/'], "_");
        let mut admin = PgConnection::connect(&server_url())
            .await
            .expect("PostgreSQL reachable (set DATABASE_URL)");
        admin
            .execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str())
            .await
            .expect("drop old test database");
        admin
            .execute(format!("CREATE DATABASE \"{name}\"").as_str())
            .await
            .expect("create test database");
        let url = url_for(&name);
        TestDb { name, url }
    }

    pub async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.url).await.expect("connect to test database")
    }

    pub async fn drop_db(self) {
        let mut admin = PgConnection::connect(&server_url()).await.expect("PostgreSQL reachable");
        admin
            .execute(format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name).as_str())
            .await
            .expect("drop test database");
    }
}
