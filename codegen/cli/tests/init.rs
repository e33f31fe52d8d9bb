//! `hubgen init` outside this repository: the project it makes generates,
//! checks clean, and its crates build offline against the runtime by path.

mod common;

use common::{outside_target_dir, root};
use std::path::Path;
use std::process::{Command, Output};

fn run(program: &str, args: &[&str], dir: &Path, env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(program);
    command.args(args).current_dir(dir).env_remove("GITHUB_ACTIONS");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().unwrap_or_else(|e| panic!("{program} runs: {e}"))
}

fn said(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn an_initialized_project_builds_without_this_repository() {
    let hubgen = env!("CARGO_BIN_EXE_hubgen");
    let parent = std::env::temp_dir().join(format!("hubgen-init-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&parent);
    std::fs::create_dir_all(&parent).expect("temp dir");
    let dir = parent.join("My-Shop");

    let runtime = root().join("codegen/runtime");
    let runtime = runtime.to_str().expect("utf-8 path");
    let out = run(hubgen, &["init", "My-Shop", "--runtime-path", runtime], &parent, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert!(said(&out).contains("project `my_shop`"), "{}", said(&out));
    // A second init refuses to overwrite.
    let again = run(hubgen, &["init", "My-Shop"], &parent, &[]);
    assert_eq!(again.status.code(), Some(1), "{}", said(&again));
    assert!(said(&again).contains("nothing was written"), "{}", said(&again));

    let out = run(hubgen, &["generate"], &dir, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let out = run(hubgen, &["generate"], &dir, &[]);
    assert!(said(&out).contains("0 file(s) written"), "{}", said(&out));
    for args in [&["fmt", "--check"][..], &["check"][..]] {
        let out = run(hubgen, args, &dir, &[]);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", said(&out));
    }
    let manifest = std::fs::read_to_string(dir.join("generated/main/Cargo.toml")).expect("hub manifest");
    assert!(!manifest.contains("workspace"), "{manifest}");
    assert!(
        manifest.contains(&format!("hubgen-runtime = {{ path = \"{runtime}\" }}")),
        "{manifest}"
    );

    // Offline, with this repository's lock (the versions the cache holds).
    std::fs::copy(root().join("Cargo.lock"), dir.join("Cargo.lock")).expect("lock");
    let out = run(
        "cargo",
        &["build", "--offline", "--quiet", "--all-targets"],
        &dir,
        &[("CARGO_TARGET_DIR", &outside_target_dir())],
    );
    assert!(out.status.success(), "the project builds:\n{}", said(&out));
    let _ = std::fs::remove_dir_all(&parent);
}
