//! No input makes the front end panic: random token soup and random
//! mutations of the platform schema always come back as diagnostics.

use proptest::prelude::*;

const PLATFORM: &str = include_str!("../platform.hubs");

/// Fragments that look like the language, so the soup reaches deep into the parser.
const TOKENS: &[&str] = &[
    "hub",
    "table",
    "enum",
    "mixin",
    "schema",
    "role",
    "extension",
    "use",
    "index",
    "unique",
    "primary",
    "key",
    "check",
    "foreign",
    "references",
    "on",
    "delete",
    "cascade",
    "set",
    "null",
    "not",
    "default",
    "generated",
    "always",
    "as",
    "stored",
    "partition",
    "by",
    "range",
    "from",
    "to",
    "policy",
    "for",
    "grant",
    "using",
    "where",
    "desc",
    "database",
    "readonly",
    "tenant_scoped",
    "soft_delete",
    "versioned",
    "renamed_from",
    "uuid",
    "varchar",
    "text",
    "numeric",
    "timestamptz",
    "jsonb",
    "id",
    "tenant_id",
    "users",
    "identity",
    "@sensitive",
    "@touch",
    "@format",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ",",
    ".",
    "::",
    "'x'",
    "'",
    "\"q\"",
    "\"",
    "0",
    "255",
    "-1",
    "1e9",
    "99999999999",
    "//",
    "///",
    "/*",
    "*/",
    "\n",
    " ",
    "\t",
    "é",
    "€",
    "=",
    "||",
    "<>",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..200).prop_map(|tokens| tokens.join(" "))
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: &'static str },
    Swap { a: usize, b: usize },
    Truncate { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), prop::sample::select(TOKENS)).prop_map(|(at, text)| Mutation::Insert { at, text }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Swap { a, b }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
    ]
}

fn boundary(text: &str, at: usize) -> usize {
    let mut at = at % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply(mut text: String, mutations: &[Mutation]) -> String {
    for m in mutations {
        match *m {
            Mutation::Delete { at, len } => {
                let start = boundary(&text, at);
                let end = boundary(&text, start + len).max(start);
                text.replace_range(start..end, "");
            }
            Mutation::Insert { at, text: t } => {
                let at = boundary(&text, at);
                text.insert_str(at, t);
            }
            Mutation::Swap { a, b } => {
                // Swap two lines: moves items out of their blocks.
                let mut lines: Vec<&str> = text.lines().collect();
                if !lines.is_empty() {
                    let (a, b) = (a % lines.len(), b % lines.len());
                    lines.swap(a, b);
                }
                text = lines.join("\n");
            }
            Mutation::Truncate { at } => {
                let at = boundary(&text, at);
                text.truncate(at);
            }
        }
    }
    text
}

/// The whole front end a user's file goes through: compile, render, format.
fn exercise(text: &str) {
    let output = hubgen_schema::compile(text);
    let file = hubgen_schema::SourceFile::new("fuzz.hubs", text);
    let rendered = hubgen_schema::diagnostics::render_all(&output.diagnostics, &file, false);
    assert_eq!(output.ir.is_some(), !output.has_errors(), "IR exactly when there are no errors");
    if !output.diagnostics.is_empty() {
        assert!(rendered.contains("fuzz.hubs:"));
    }
    if let Ok(formatted) = hubgen_schema::format::format_source(text) {
        // What formats must format to itself and keep its meaning.
        assert_eq!(hubgen_schema::format::format_source(&formatted).as_deref(), Ok(formatted.as_str()));
        assert_eq!(hubgen_schema::compile(&formatted).ir, output.ir);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn token_soup_never_panics(text in soup()) {
        exercise(&text);
    }

    #[test]
    fn mutated_platform_never_panics(mutations in prop::collection::vec(mutation(), 1..6)) {
        exercise(&apply(PLATFORM.to_string(), &mutations));
    }
}
