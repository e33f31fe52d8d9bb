//! The one place identifiers and literals become SQL text.

/// `"name"`, with embedded quotes doubled. Every identifier goes through here.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `"schema"."name"`
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", ident(schema), ident(name))
}

/// `'text'`, with embedded quotes doubled.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `("a", "b")`
pub fn ident_list<S: AsRef<str>>(names: &[S]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| ident(n.as_ref())).collect();
    format!("({})", quoted.join(", "))
}
