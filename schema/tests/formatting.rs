//! The formatter on every schema in the repository: idempotent, IR-preserving,
//! and the checked-in files are already formatted.

use hubgen_schema::{compile, format::format_source};
use std::path::{Path, PathBuf};

fn repo_schemas() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = checked_in();
    for dir in ["tests/data/ok", "tests/data/err"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .expect("schema dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "hubs"))
            .collect();
        files.sort();
        out.extend(files);
    }
    out
}

#[test]
fn formatting_is_idempotent_and_keeps_the_ir() {
    let mut formatted_count = 0;
    for path in repo_schemas() {
        let text = std::fs::read_to_string(&path).expect("readable");
        let Ok(once) = format_source(&text) else {
            // Files with syntax errors are refused, never rewritten.
            assert!(!hubgen_schema::parse(&text).1.is_empty());
            continue;
        };
        formatted_count += 1;
        let twice = format_source(&once).expect("formatted output parses");
        assert_eq!(once, twice, "formatting {} twice changed it", path.display());
        let before = compile(&text);
        let after = compile(&once);
        assert_eq!(before.ir, after.ir, "formatting {} changed its IR", path.display());
        let codes = |o: &hubgen_schema::Output| o.diagnostics.iter().map(|d| d.code).collect::<Vec<_>>();
        assert_eq!(
            codes(&before),
            codes(&after),
            "formatting {} changed its diagnostics",
            path.display()
        );
        let comments = |s: &str| {
            s.lines()
                .filter_map(|l| l.find("//").map(|i| l[i..].trim_end().to_string()))
                .collect::<Vec<_>>()
        };
        let mut a = comments(&text);
        let mut b = comments(&once);
        a.sort();
        b.sort();
        assert_eq!(a, b, "formatting {} lost or changed a comment", path.display());
    }
    assert!(formatted_count > 10);
}

/// The platform and the examples (`examples/<name>/schema/<name>.hubs`;
/// a folder without `schema/`, such as `examples/service`, is not one).
fn checked_in() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut examples: Vec<PathBuf> = std::fs::read_dir(root.join("../examples"))
        .expect("examples")
        .map(|e| e.expect("entry").path())
        .filter(|dir| dir.join("schema").is_dir())
        .map(|dir| {
            let name = dir.file_name().expect("named").to_string_lossy().into_owned();
            dir.join("schema").join(format!("{name}.hubs"))
        })
        .collect();
    examples.sort();
    let mut paths = vec![root.join("platform.hubs")];
    paths.extend(examples);
    paths
}

#[test]
fn checked_in_schemas_are_formatted() {
    for path in checked_in() {
        let text = std::fs::read_to_string(&path).expect("readable");
        let formatted = format_source(&text).expect("checked-in schemas parse");
        assert_eq!(
            text,
            formatted,
            "{} is not formatted: run `hubgen fmt {}`",
            path.display(),
            path.display()
        );
    }
}

#[test]
fn checked_in_schemas_validate_clean() {
    for path in checked_in() {
        let text = std::fs::read_to_string(&path).expect("readable");
        let output = compile(&text);
        let file = hubgen_schema::SourceFile::new(path.display().to_string(), text);
        assert!(
            output.diagnostics.is_empty(),
            "{}:\n{}",
            path.display(),
            hubgen_schema::diagnostics::render_all(&output.diagnostics, &file, false)
        );
    }
}
