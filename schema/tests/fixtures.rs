//! The fixture invariants: every `ok` file is clean, every `err` file
//! reports at least one diagnostic, each rendered as users see it and
//! pinned by a snapshot; together the `err` files cover every code.

use hubgen_schema::diagnostics::{render_all, Code};
use hubgen_schema::{compile, SourceFile};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn files(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", root.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "hubs"))
        .collect();
    files.sort();
    files
}

fn load(path: &Path) -> SourceFile {
    let text = std::fs::read_to_string(path).expect("fixture is readable");
    let relative = path.strip_prefix(env!("CARGO_MANIFEST_DIR")).expect("fixture inside the crate");
    SourceFile::new(relative.display().to_string(), text)
}

fn stem(path: &Path) -> String {
    path.file_stem().expect("file name").to_string_lossy().into_owned()
}

#[test]
fn ok_fixtures_validate_clean() {
    let fixtures = files("tests/data/ok");
    assert!(!fixtures.is_empty());
    for path in fixtures {
        let file = load(&path);
        let output = compile(&file.text);
        assert!(
            output.diagnostics.is_empty(),
            "{} should be clean:\n{}",
            file.path,
            render_all(&output.diagnostics, &file, false)
        );
        assert!(output.ir.is_some());
    }
}

#[test]
fn err_fixtures_report_diagnostics_and_match_snapshots() {
    let fixtures = files("tests/data/err");
    assert!(fixtures.len() >= 40, "at least 40 err fixtures, found {}", fixtures.len());
    for path in &fixtures {
        let file = load(path);
        let output = compile(&file.text);
        assert!(!output.diagnostics.is_empty(), "{} should report a diagnostic", file.path);
        if output.has_errors() {
            assert!(output.ir.is_none(), "{}: no IR when there are errors", file.path);
        }
        let rendered = render_all(&output.diagnostics, &file, false);
        insta::with_settings!({
            snapshot_path => "snapshots/err",
            prepend_module_to_snapshot => false,
            omit_expression => true,
            description => file.text.clone(),
        }, {
            insta::assert_snapshot!(stem(path), rendered);
        });
    }
}

/// A fixture named after a code must report that code; all codes together
/// must be covered.
#[test]
fn every_code_has_an_err_fixture() {
    let mut seen = BTreeSet::new();
    for path in files("tests/data/err") {
        let file = load(&path);
        let codes: BTreeSet<&str> = compile(&file.text).diagnostics.iter().map(|d| d.code.as_str()).collect();
        let name = stem(&path);
        if Code::ALL.iter().any(|c| c.as_str() == name) {
            assert!(
                codes.contains(name.as_str()),
                "{} is named after `{name}` but reports {codes:?}",
                file.path
            );
        }
        seen.extend(codes);
    }
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| !c.is_lint())
        .map(|c| c.as_str())
        .filter(|c| !seen.contains(c))
        .collect();
    assert!(missing.is_empty(), "codes without an err fixture: {missing:?}");
}

/// No snapshot outlives its fixture (insta's `--unreferenced reject`).
#[test]
fn no_stale_snapshots() {
    let fixtures: BTreeSet<String> = files("tests/data/err").iter().map(|p| stem(p)).collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/err");
    for entry in std::fs::read_dir(dir).expect("snapshot dir") {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("name").to_string_lossy().into_owned();
        let Some(fixture) = name.strip_suffix(".snap") else {
            panic!("unexpected file in snapshots: {name} (review pending snapshots with `cargo insta review`)");
        };
        assert!(
            fixtures.contains(fixture),
            "snapshot {name} has no fixture tests/data/err/{fixture}.hubs"
        );
    }
}

/// Every diagnostic renders with `file:line:col`, the source line and a caret.
#[test]
fn rendered_diagnostics_locate_and_help() {
    for path in files("tests/data/err") {
        let file = load(&path);
        for diagnostic in compile(&file.text).diagnostics {
            let rendered = diagnostic.render(&file, false);
            assert!(rendered.contains(&format!("--> {}:", file.path)), "{rendered}");
            assert!(rendered.contains('^'), "{rendered}");
            assert!(diagnostic.help.is_some(), "every diagnostic says how to fix it:\n{rendered}");
            assert!(!diagnostic.message.ends_with('.'), "message style: no trailing period:\n{rendered}");
        }
    }
}

/// Citus's rules run on the platform's own tenant and app hubs, declared
/// `distributed by tenant_id`: the snapshot lists what distributing them
/// would take (their seed keys do not include the tenant).
#[test]
fn platform_tenant_and_app_hubs_under_citus_rules() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("platform.hubs");
    let text = std::fs::read_to_string(path).expect("platform schema");
    let mut distributed = text.clone();
    for hub in ["hub tenant database chatbot_tenant_db {\n", "hub app database chatbot_app_db {\n"] {
        assert!(distributed.contains(hub), "{hub}");
        distributed = distributed.replace(hub, &format!("{hub}  distributed by tenant_id\n\n"));
    }
    let file = SourceFile::new("schema/platform.hubs (tenant and app distributed by tenant_id)", distributed);
    let output = compile(&file.text);
    let citus: Vec<_> = output
        .diagnostics
        .into_iter()
        .filter(|d| d.code.as_str().starts_with("distribution") || d.code.as_str() == "undistributed-table")
        .collect();
    assert!(!citus.is_empty(), "the seed's keys do not include tenant_id");
    insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("platform_citus", render_all(&citus, &file, false));
    });
}
