//! Every Mermaid diagram hubgen writes (each hub's README and the platform
//! overview, for the platform and every example) parses with Mermaid's own
//! parser, run by Node.js from `tests/mermaid` (installed there on first use
//! from its lockfile).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn readmes(generated: &Path, out: &mut Vec<PathBuf>) {
    out.push(generated.join("README.md"));
    let mut hubs: Vec<PathBuf> = std::fs::read_dir(generated)
        .expect("generated/")
        .flatten()
        .map(|e| e.path().join("README.md"))
        .filter(|p| p.is_file())
        .collect();
    hubs.sort();
    out.extend(hubs);
}

fn mermaid_dir() -> PathBuf {
    let dir = root().join("tests/mermaid");
    if !dir.join("node_modules/mermaid").is_dir() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .expect("npm runs (Node.js and npm are needed to parse the diagrams)");
        assert!(status.success(), "npm ci in tests/mermaid failed");
    }
    dir
}

fn parse(files: &[PathBuf]) -> (bool, String) {
    let out = Command::new("node")
        .arg("parse.mjs")
        .args(files)
        .current_dir(mermaid_dir())
        .output()
        .expect("node runs");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn every_diagram_parses_with_mermaid() {
    let mut files = Vec::new();
    readmes(&root().join("generated"), &mut files);
    let mut examples: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .expect("examples/")
        .flatten()
        .map(|e| e.path().join("generated"))
        .filter(|p| p.join("README.md").is_file())
        .collect();
    examples.sort();
    assert_eq!(examples.len(), 4, "the four example schemas");
    for generated in &examples {
        readmes(generated, &mut files);
    }
    // The platform (overview + 9 hubs) and each example (overview + its hub).
    assert_eq!(files.len(), 10 + 4 * 2, "{files:#?}");
    let (ok, said) = parse(&files);
    assert!(ok, "{said}");
    assert!(said.contains(&format!("{} diagram(s) parsed, 0 failure(s)", files.len())), "{said}");
    assert_eq!(said.matches(": er").count(), files.len(), "{said}");

    // The parser is not lenient: a broken relationship fails.
    let broken = std::env::temp_dir().join(format!("hubgen-broken-diagram-{}.md", std::process::id()));
    std::fs::write(&broken, "```mermaid\nerDiagram\n    users ||--o{ : \"no child\"\n```\n").expect("write");
    let (ok, said) = parse(std::slice::from_ref(&broken));
    let _ = std::fs::remove_file(&broken);
    assert!(!ok, "{said}");
    assert!(said.contains("0 diagram(s) parsed, 1 failure(s)"), "{said}");
}
