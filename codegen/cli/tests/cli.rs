//! The `hubgen` binary as users run it: exit codes, where output goes, files
//! written only when their content changes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn hubgen(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hubgen"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("hubgen runs")
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("workspace root")
        .to_path_buf()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hubgen-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

#[test]
fn validate_defaults_to_the_platform_schema_and_exits_0() {
    let out = hubgen(&["validate"], &workspace().join("codegen"));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("platform.hubs: ok, 9 hubs"), "{stdout}");
}

#[test]
fn validate_examples_exit_0() {
    let root = workspace();
    let mut validated = 0;
    for entry in std::fs::read_dir(root.join("examples")).expect("examples") {
        let name = entry.expect("entry").file_name().to_string_lossy().into_owned();
        if !root.join("examples").join(&name).join("schema").is_dir() {
            continue; // not a schema project (examples/service uses hubs)
        }
        validated += 1;
        let path = root.join("examples").join(&name).join("schema").join(format!("{name}.hubs"));
        let out = hubgen(&["validate", path.to_str().expect("utf-8 path")], &root);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(validated, 4, "commerce, netia, social_inbox, waha");
}

#[test]
fn schema_errors_exit_1_on_stderr_without_colour() {
    let root = workspace();
    let out = hubgen(&["validate", "schema/tests/data/err/did-you-mean-email.hubs"], &root);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error[unknown-column]"), "{stderr}");
    assert!(
        stderr.contains("--> schema/tests/data/err/did-you-mean-email.hubs:5:28"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `email`?"), "{stderr}");
    assert!(!stderr.contains('\x1b'), "no colour when stderr is not a terminal");
    assert!(out.stdout.is_empty());
}

#[test]
fn unreadable_file_and_bad_usage_exit_2() {
    let out = hubgen(&["validate", "no/such/file.hubs"], &workspace());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read no/such/file.hubs"));
    let out = hubgen(&["frobnicate"], &workspace());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn fmt_check_prints_a_diff_and_fmt_writes_only_when_needed() {
    let dir = scratch("fmt");
    let path = dir.join("s.hubs");
    std::fs::write(
        &path,
        "hub app database app_db {\n  table t {\n    id uuid primary key\n    name    text   not null\n  }\n}\n",
    )
    .expect("write");

    let out = hubgen(&["fmt", "--check", "s.hubs"], &dir);
    assert_eq!(out.status.code(), Some(1));
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(
        diff.contains("-    name    text   not null") && diff.contains("+    name  text  not null"),
        "{diff}"
    );

    let out = hubgen(&["fmt", "s.hubs"], &dir);
    assert_eq!(out.status.code(), Some(0));
    let modified = std::fs::metadata(&path).and_then(|m| m.modified()).expect("mtime");
    std::thread::sleep(std::time::Duration::from_millis(20));
    let out = hubgen(&["fmt", "s.hubs"], &dir);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty(), "nothing to format the second time");
    assert_eq!(
        std::fs::metadata(&path).and_then(|m| m.modified()).expect("mtime"),
        modified,
        "an unchanged file is not rewritten"
    );
    assert_eq!(hubgen(&["fmt", "--check", "s.hubs"], &dir).status.code(), Some(0));
}

#[test]
fn fmt_refuses_a_file_that_does_not_parse() {
    let dir = scratch("fmt-bad");
    let path = dir.join("bad.hubs");
    let text = "hub app {\n  table t {\n    id uuid primary key\n    name text not nul\n  }\n}\n";
    std::fs::write(&path, text).expect("write");
    let out = hubgen(&["fmt", "bad.hubs"], &dir);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&path).expect("read"), text, "nothing is lost");
}

/// A hub whose lock is gone is refused at its declaration in the schema
/// (file, line, caret), and no file of any hub is written.
#[test]
fn generate_without_a_lock_points_at_the_hub_and_writes_nothing() {
    let dir = scratch("no-lock");
    std::fs::create_dir_all(dir.join("schema")).expect("mkdir");
    let schema = "hub app database app_db {\n  table t {\n    id  uuid  primary key\n  }\n}\n";
    std::fs::write(dir.join("schema/app.hubs"), schema).expect("write");
    let out = hubgen(&["generate", "--schema", "schema/app.hubs"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::remove_file(dir.join("migrations/app/hubgen.lock")).expect("lock removed");
    let crate_before = std::fs::read_to_string(dir.join("generated/app/src/lib.rs")).expect("generated");
    std::fs::write(
        dir.join("schema/app.hubs"),
        schema.replace("primary key\n", "primary key\n    name  text\n"),
    )
    .expect("edit");

    let out = hubgen(&["generate", "--schema", "schema/app.hubs"], &dir);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error[missing-lock]"), "{stderr}");
    assert!(stderr.contains("--> schema/app.hubs:1:5"), "{stderr}");
    assert!(stderr.contains("1 | hub app database app_db {"), "{stderr}");
    assert!(stderr.contains("git checkout -- migrations/app/hubgen.lock"), "{stderr}");
    assert!(!dir.join("migrations/app/hubgen.lock").exists());
    assert_eq!(
        std::fs::read_to_string(dir.join("generated/app/src/lib.rs")).expect("generated"),
        crate_before,
        "nothing is written"
    );
}

/// `erase-plan` prints what erasing one person does in each of the nine hubs.
#[test]
fn erase_plan_prints_every_hub_of_the_platform() {
    let root = workspace();
    let out = hubgen(&["erase-plan"], &root);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("erase_plan_platform", stdout);
    });

    let wallet = hubgen(&["erase-plan", "--hub", "wallet"], &root);
    let text = String::from_utf8_lossy(&wallet.stdout);
    assert!(text.contains("hub wallet") && !text.contains("hub identity"), "{text}");

    let unknown = hubgen(&["erase-plan", "--hub", "nowhere"], &root);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no hub `nowhere`"));
}
