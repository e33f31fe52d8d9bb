//! Helpers the CLI's integration tests share.
// Each test binary compiles this module and uses part of it.
#![allow(dead_code)]

use sqlx::{Connection, Executor, PgConnection};
use std::path::{Path, PathBuf};

/// This repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("workspace root")
        .to_path_buf()
}

/// Where builds of projects outside this workspace go (the day-two copy, an
/// `init`ed project): inside this build's target directory, but a directory
/// of their own, because cargo names a workspace crate's artifacts by its
/// path relative to the workspace root and another workspace's crates would
/// overwrite this build's. They share it, so their dependencies build once.
pub fn outside_target_dir() -> PathBuf {
    let own = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_BIN_EXE_hubgen"))
            .ancestors()
            .nth(2)
            .expect("target/<profile>/hubgen")
            .to_path_buf()
    });
    own.join("day-two")
}

/// The files under `from`, copied to `to`: everything but build output and
/// hidden folders (`.git`), so it works on a checkout or a plain copy alike.
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("readable").flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path = entry.path();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                copy_tree(&path, &to.join(&*name));
            }
        } else {
            std::fs::create_dir_all(to).expect("mkdir");
            std::fs::copy(&path, to.join(&*name)).expect("copy");
        }
    }
}

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
