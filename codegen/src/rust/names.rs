//! Rust names for schema names: types in PascalCase and singular, fields
//! in snake_case (raw identifiers for keywords), enum variants from values.

use proc_macro2::{Ident, Span};

/// `user_addresses` → `user_address`, `categories` → `category`, `ledger` → `ledger`.
pub fn singular(name: &str) -> String {
    if let Some(stem) = name.strip_suffix("ies") {
        format!("{stem}y")
    } else if name.ends_with("sses") || name.ends_with("xes") || name.ends_with("ches") || name.ends_with("shes") {
        name[..name.len() - 2].to_string()
    } else if name.ends_with("ss") || name.ends_with("us") || name.ends_with("is") {
        name.to_string()
    } else if let Some(stem) = name.strip_suffix('s') {
        stem.to_string()
    } else {
        name.to_string()
    }
}

/// `user_session` → `UserSession`; anything not alphanumeric separates words.
pub fn pascal(name: &str) -> String {
    let mut out = String::new();
    for word in name.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars.map(|c| c.to_ascii_lowercase()));
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

pub fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// A field or function name; Rust keywords become raw identifiers.
pub fn field(name: &str) -> Ident {
    const KEYWORDS: &[&str] = &[
        "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop",
        "match", "mod", "move", "mut", "pub", "ref", "return", "static", "struct", "trait", "true", "type", "unsafe", "use", "where",
        "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro", "override", "priv", "typeof", "unsized",
        "virtual", "yield", "try", "gen",
    ];
    if ["self", "Self", "super", "crate"].contains(&name) {
        Ident::new(&format!("{name}_"), Span::call_site())
    } else if KEYWORDS.contains(&name) {
        Ident::new_raw(name, Span::call_site())
    } else {
        Ident::new(name, Span::call_site())
    }
}

/// Variant names for enum values, made unique.
pub fn variants(values: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for value in values {
        let mut name = pascal(value);
        while out.contains(&name) {
            name.push('_');
        }
        out.push(name);
    }
    out
}
