//! Renders diagnostics the way rustc does: header, location, source line, caret, help.

use super::{Diagnostic, Severity};
use crate::span::SourceFile;
use std::fmt::Write;

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const BLUE: &str = "\x1b[1;34m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

pub(super) fn render(d: &Diagnostic, file: &SourceFile, color: bool) -> String {
    let paint = |style: &str, text: &str| if color { format!("{style}{text}{RESET}") } else { text.to_string() };
    let (level, style) = match d.severity {
        Severity::Error => ("error", RED),
        Severity::Warning => ("warning", YELLOW),
    };
    let (line, col) = file.line_col(d.span.start);
    let gutter = line.to_string().len();
    let pad = " ".repeat(gutter);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}{}",
        paint(style, &format!("{level}[{}]", d.code.as_str())),
        paint(BOLD, &format!(": {}", d.message))
    );
    let _ = writeln!(out, "{pad}{} {}:{line}:{col}", paint(BLUE, "-->"), file.path);
    let _ = writeln!(out, "{pad} {}", paint(BLUE, "|"));
    let source = file.line_text(line).replace('\t', "    ");
    let _ = writeln!(out, "{} {} {source}", paint(BLUE, &line.to_string()), paint(BLUE, "|"));
    // The caret covers the span's part on its first line, at least one column.
    let line_chars = source.chars().count();
    let (end_line, end_col) = file.line_col(d.span.end);
    let width = if end_line == line {
        end_col.saturating_sub(col)
    } else {
        line_chars + 1 - col.min(line_chars + 1)
    };
    let caret = "^".repeat(width.max(1));
    let label = if d.label.is_empty() {
        String::new()
    } else {
        format!(" {}", d.label)
    };
    let _ = writeln!(
        out,
        "{pad} {} {}{}",
        paint(BLUE, "|"),
        " ".repeat(col - 1),
        paint(style, &format!("{caret}{label}"))
    );
    if let Some((span, note)) = &d.note {
        let (line, col) = file.line_col(span.start);
        let _ = writeln!(out, "{pad} {} {note} at {}:{line}:{col}", paint(BLUE, "= note:"), file.path);
    }
    if let Some(help) = &d.help {
        let _ = writeln!(out, "{pad} {} {help}", paint(BLUE, "= help:"));
    }
    out
}

/// All diagnostics, errors first then warnings, each in source order.
pub fn render_all(diagnostics: &[Diagnostic], file: &SourceFile, color: bool) -> String {
    let mut sorted: Vec<&Diagnostic> = diagnostics.iter().collect();
    sorted.sort_by_key(|d| (d.severity, d.span.start, d.code));
    sorted.iter().map(|d| render(d, file, color)).collect::<Vec<_>>().join("\n")
}
