//! Helpers the CLI's integration tests share.

use sqlx::{Connection, Executor, PgConnection};

/// `DATABASE_URL`, or the local PostgreSQL at 127.0.0.1:5432 as `postgres`.
pub fn server() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// Creates an empty database `name` (dropping a leftover first) and returns its URL.
pub async fn fresh_database(name: &str) -> String {
    let mut admin = PgConnection::connect(&server()).await.expect("PostgreSQL reachable");
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await
        .expect("drop");
    admin.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("create");
    let base = server();
    format!("{}/{name}", &base[..base.rfind('/').expect("url has a database")])
}
