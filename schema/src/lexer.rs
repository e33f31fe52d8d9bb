//! Turns schema text into tokens. Newlines are tokens because the language
//! is line-oriented (one column per line); comments are tokens so the
//! formatter can keep them.

use crate::diagnostics::{messages, Diagnostic};
use crate::span::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Ident,
    /// `"quoted identifier"`
    QuotedIdent,
    /// `'string literal'`
    Str,
    Number,
    /// `/// doc comment`
    DocComment,
    /// `// comment` or `/* comment */`
    Comment,
    Newline,
    LBrace,
    RBrace,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    At,
    /// `::`
    Cast,
    /// Any run of SQL operator characters (`=`, `<>`, `||`, `>=`, ...).
    Op,
    Eof,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

const OP_CHARS: &str = "+-*/<>=~!%^&|#?;:";

pub fn lex(text: &str) -> (Vec<Token>, Vec<Diagnostic>) {
    let bytes = text.as_bytes();
    let mut tokens = Vec::with_capacity(text.len() / 4);
    let mut diagnostics = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let c = bytes[i];
        let kind = match c {
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'\n' => {
                i += 1;
                TokenKind::Newline
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let doc = bytes.get(i + 2) == Some(&b'/') && bytes.get(i + 3) != Some(&b'/');
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                if doc {
                    TokenKind::DocComment
                } else {
                    TokenKind::Comment
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                match text[i + 2..].find("*/") {
                    Some(end) => i += 2 + end + 2,
                    None => {
                        i = bytes.len();
                        diagnostics.push(messages::unterminated_comment(Span::new(start, start + 2)));
                    }
                }
                TokenKind::Comment
            }
            b'\'' | b'"' => {
                i += 1;
                loop {
                    match bytes.get(i) {
                        None | Some(b'\n') => {
                            diagnostics.push(messages::unterminated_string(Span::new(start, i), c == b'"'));
                            break;
                        }
                        Some(&q) if q == c => {
                            // A doubled quote is an escaped quote.
                            if bytes.get(i + 1) == Some(&c) {
                                i += 2;
                            } else {
                                i += 1;
                                break;
                            }
                        }
                        Some(_) => i += 1,
                    }
                }
                if c == b'\'' {
                    TokenKind::Str
                } else {
                    TokenKind::QuotedIdent
                }
            }
            b'0'..=b'9' => {
                while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'_') {
                    i += 1;
                }
                if bytes.get(i) == Some(&b'.') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                    while i < bytes.len() && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                }
                if matches!(bytes.get(i), Some(b'e' | b'E'))
                    && (bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
                        || (matches!(bytes.get(i + 1), Some(b'+' | b'-')) && bytes.get(i + 2).is_some_and(u8::is_ascii_digit)))
                {
                    i += 2;
                    while i < bytes.len() && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                }
                TokenKind::Number
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'$') {
                    i += 1;
                }
                TokenKind::Ident
            }
            b'{' => single(&mut i, TokenKind::LBrace),
            b'}' => single(&mut i, TokenKind::RBrace),
            b'(' => single(&mut i, TokenKind::LParen),
            b')' => single(&mut i, TokenKind::RParen),
            b'[' => single(&mut i, TokenKind::LBracket),
            b']' => single(&mut i, TokenKind::RBracket),
            b',' => single(&mut i, TokenKind::Comma),
            b'.' => single(&mut i, TokenKind::Dot),
            b'@' => single(&mut i, TokenKind::At),
            b':' if bytes.get(i + 1) == Some(&b':') => {
                i += 2;
                TokenKind::Cast
            }
            _ if OP_CHARS.as_bytes().contains(&c) => {
                // Stop before `//` or `/*` so a comment after an operator is still a comment.
                i += 1;
                while i < bytes.len()
                    && OP_CHARS.as_bytes().contains(&bytes[i])
                    && !(bytes[i] == b'/' && matches!(bytes.get(i + 1), Some(b'/' | b'*')))
                    && !(bytes[i] == b':' && bytes.get(i + 1) == Some(&b':'))
                {
                    i += 1;
                }
                TokenKind::Op
            }
            _ => {
                let ch = text[i..].chars().next().unwrap_or('\u{fffd}');
                i += ch.len_utf8();
                diagnostics.push(messages::unexpected_character(Span::new(start, i), ch));
                continue;
            }
        };
        tokens.push(Token {
            kind,
            span: Span::new(start, i),
        });
    }
    tokens.push(Token {
        kind: TokenKind::Eof,
        span: Span::new(text.len(), text.len()),
    });
    (tokens, diagnostics)
}

fn single(i: &mut usize, kind: TokenKind) -> TokenKind {
    *i += 1;
    kind
}
