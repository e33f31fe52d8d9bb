//! The hubgen schema language: lexer, parser, AST, validation, IR,
//! formatter and diagnostics. Pure: no I/O, no clock, no environment.
//!
//! ```
//! let output = hubgen_schema::compile("hub app database app_db {\n  table t {\n    id uuid primary key\n  }\n}\n");
//! assert!(output.diagnostics.is_empty());
//! assert_eq!(output.ir.unwrap().hubs[0].tables[0].name, "t");
//! ```

pub mod ast;
pub mod diagnostics;
pub mod erasure;
pub mod format;
pub mod ir;
mod lexer;
pub mod locate;
mod lower;
pub(crate) mod parser;
pub mod policy;
pub mod span;
pub mod types;
mod validate;

pub use diagnostics::{Diagnostic, Severity};
pub use locate::{locate, Anchor};
pub use span::{SourceFile, Span};
pub use validate::DEFAULT_SCHEMA;

/// Parses schema text; syntax errors come back as diagnostics next to the
/// (partial, recovered) syntax tree.
pub fn parse(text: &str) -> (ast::SchemaFile, Vec<Diagnostic>) {
    parser::parse(text)
}

/// What compiling one schema file yields.
#[derive(Debug)]
pub struct Output {
    pub ast: ast::SchemaFile,
    /// Present when there are no errors (warnings allowed).
    pub ir: Option<ir::Schema>,
    /// Errors and warnings, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Output {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parse, validate and lower. Validation runs only on a syntactically clean
/// file, so a typo does not cascade into a page of follow-on errors.
pub fn compile(text: &str) -> Output {
    let (ast, mut diagnostics) = parser::parse(text);
    let mut ir = None;
    if diagnostics.is_empty() {
        let ctx = validate::build(&ast, &mut diagnostics);
        validate::validate(&ctx, &mut diagnostics);
        if !diagnostics.iter().any(Diagnostic::is_error) {
            let mut lowered = lower::lower(&ctx);
            for finding in erasure::derive(&mut lowered) {
                let span = locate(&ast, &finding.anchor).unwrap_or_default();
                diagnostics.push(diagnostics::messages::erasure_finding(span, &finding));
            }
            ir = (!diagnostics.iter().any(Diagnostic::is_error)).then_some(lowered);
        }
    }
    // A mixin's columns are checked once per table that uses them; report each problem once.
    diagnostics.sort_by(|a, b| (a.span.start, a.code, &a.message).cmp(&(b.span.start, b.code, &b.message)));
    diagnostics.dedup();
    Output { ast, ir, diagnostics }
}
