//! Recursive-descent parser with error recovery: a bad line is reported and
//! skipped, and parsing goes on, so one run shows every syntax error.

use crate::ast::*;
use crate::diagnostics::{messages, Diagnostic};
use crate::lexer::{lex, Token, TokenKind};
use crate::span::Span;

/// Attributes whose argument is a SQL expression rather than a name.
pub const EXPR_ATTRIBUTES: &[&str] = &["backfill"];

pub fn parse(text: &str) -> (SchemaFile, Vec<Diagnostic>) {
    let (tokens, diagnostics) = lex(text);
    let mut parser = Parser {
        text,
        tokens,
        pos: 0,
        diagnostics,
        pending: Pending::default(),
        last_end: 0,
    };
    let file = parser.file();
    (file, parser.diagnostics)
}

#[derive(Default)]
struct Pending {
    leading: Vec<String>,
    trailing: Option<String>,
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    diagnostics: Vec<Diagnostic>,
    pending: Pending,
    /// End of the last significant token, to tell trailing comments from leading ones.
    last_end: usize,
}

/// A syntax error already reported; the caller recovers.
struct Reported;
type PResult<T> = Result<T, Reported>;

impl<'a> Parser<'a> {
    // ---- token access -------------------------------------------------

    /// The next token that is not a comment; comments met on the way are
    /// collected as trivia for the next item.
    fn peek(&mut self) -> Token {
        loop {
            let token = self.tokens[self.pos];
            match token.kind {
                TokenKind::Comment | TokenKind::DocComment => {
                    let raw = &self.text[token.span.start as usize..token.span.end as usize];
                    let same_line = self.follows_on_same_line(self.pos);
                    if token.kind == TokenKind::DocComment {
                        self.pending.leading.push(raw.trim_end().to_string());
                    } else if same_line && self.pending.trailing.is_none() {
                        self.pending.trailing = Some(raw.trim_end().to_string());
                    } else {
                        self.pending.leading.push(raw.trim_end().to_string());
                    }
                    self.pos += 1;
                }
                _ => return token,
            }
        }
    }

    /// True when the token at `index` ends a line that has code before it.
    fn follows_on_same_line(&self, index: usize) -> bool {
        index > 0
            && !matches!(
                self.tokens[index - 1].kind,
                TokenKind::Newline | TokenKind::Comment | TokenKind::DocComment
            )
    }

    fn bump(&mut self) -> Token {
        let token = self.peek();
        if token.kind != TokenKind::Eof {
            self.pos += 1;
            self.last_end = token.span.end as usize;
        }
        token
    }

    fn src(&self, token: Token) -> &'a str {
        &self.text[token.span.start as usize..token.span.end as usize]
    }

    fn at(&mut self, kind: TokenKind) -> bool {
        self.peek().kind == kind
    }

    fn at_keyword(&mut self, keyword: &str) -> bool {
        let token = self.peek();
        token.kind == TokenKind::Ident && self.src(token).eq_ignore_ascii_case(keyword)
    }

    fn eat(&mut self, kind: TokenKind) -> Option<Token> {
        if self.at(kind) {
            Some(self.bump())
        } else {
            None
        }
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        if self.at_keyword(keyword) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn skip_newlines(&mut self) {
        while self.at(TokenKind::Newline) {
            self.bump();
            // A blank line after comments detaches them from the next item; keep it.
            let blank = self.tokens.get(self.pos).is_some_and(|t| t.kind == TokenKind::Newline);
            if blank && self.pending.leading.last().is_some_and(|l| !l.is_empty()) {
                self.pending.leading.push(String::new());
            }
        }
    }

    fn describe(&self, token: Token) -> String {
        match token.kind {
            TokenKind::Eof => "end of file".into(),
            TokenKind::Newline => "end of line".into(),
            _ => format!("`{}`", self.src(token)),
        }
    }

    fn error_expected(&mut self, expected: &str) -> Reported {
        let token = self.peek();
        let found = self.describe(token);
        let span = if token.kind == TokenKind::Newline {
            Span::new(token.span.start as usize, token.span.start as usize)
        } else {
            token.span
        };
        self.diagnostics.push(messages::unexpected_token(span, expected, &found));
        Reported
    }

    fn expect(&mut self, kind: TokenKind, expected: &str) -> PResult<Token> {
        self.eat(kind).ok_or_else(|| self.error_expected(expected))
    }

    fn expect_keyword(&mut self, keyword: &str) -> PResult<()> {
        if self.eat_keyword(keyword) {
            Ok(())
        } else {
            Err(self.error_expected(&format!("`{keyword}`")))
        }
    }

    fn ident(&mut self, what: &str) -> PResult<Ident> {
        let token = self.peek();
        match token.kind {
            TokenKind::Ident => {
                self.bump();
                Ok(Ident {
                    name: self.src(token).to_string(),
                    span: token.span,
                })
            }
            TokenKind::QuotedIdent => {
                self.bump();
                let raw = self.src(token);
                let inner = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')).unwrap_or(&raw[1..]);
                Ok(Ident {
                    name: inner.replace("\"\"", "\""),
                    span: token.span,
                })
            }
            _ => Err(self.error_expected(what)),
        }
    }

    fn take_trivia(&mut self) -> Trivia {
        let pending = std::mem::take(&mut self.pending);
        Trivia {
            leading: pending.leading,
            trailing: pending.trailing,
        }
    }

    /// Comments seen after the item started on its line are its trailing comment.
    fn take_trailing(&mut self, trivia: &mut Trivia) {
        // Look past the line end for a same-line comment without consuming the newline.
        if let Some(token) = self.tokens.get(self.pos).copied() {
            if token.kind == TokenKind::Comment && self.follows_on_same_line(self.pos) && self.pending.trailing.is_none() {
                self.pending.trailing = Some(self.src(token).trim_end().to_string());
                self.pos += 1;
            }
        }
        if let Some(trailing) = self.pending.trailing.take() {
            trivia.trailing = Some(trailing);
        }
    }

    /// Comments left before a closing brace belong to the enclosing block.
    fn take_dangling(&mut self) -> Vec<String> {
        let pending = std::mem::take(&mut self.pending);
        let mut out = pending.leading;
        out.extend(pending.trailing);
        out
    }

    /// Skips the rest of a bad line, and a whole `{ ... }` block if the line opens one.
    fn recover_line(&mut self) {
        let mut depth = 0usize;
        loop {
            let token = self.peek();
            match token.kind {
                TokenKind::Eof => return,
                TokenKind::Newline if depth == 0 => return,
                TokenKind::LBrace => depth += 1,
                TokenKind::RBrace => {
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                    if depth == 0 {
                        self.bump();
                        return;
                    }
                }
                _ => {}
            }
            self.bump();
        }
    }

    /// After an item: the line must end here.
    fn end_of_line(&mut self) -> PResult<()> {
        match self.peek().kind {
            TokenKind::Newline | TokenKind::RBrace | TokenKind::Eof => Ok(()),
            _ => Err(self.error_expected("end of line")),
        }
    }

    /// `{ items }`: calls `item` for every non-blank line until `}`.
    fn block(&mut self, open_span: Span, mut item: impl FnMut(&mut Self) -> PResult<()>) -> (Vec<String>, Span) {
        loop {
            self.skip_newlines();
            let token = self.peek();
            match token.kind {
                TokenKind::RBrace => {
                    let dangling = self.take_dangling();
                    self.bump();
                    return (dangling, token.span);
                }
                TokenKind::Eof => {
                    self.diagnostics.push(messages::unclosed_block(open_span));
                    return (self.take_dangling(), token.span);
                }
                _ => {
                    let before = self.pos;
                    if item(self).is_err() || self.end_of_line().is_err() {
                        self.recover_line();
                    }
                    if self.pos == before {
                        // Nothing consumed: never loop forever.
                        self.bump();
                    }
                }
            }
        }
    }

    fn open_brace(&mut self) -> PResult<Span> {
        Ok(self.expect(TokenKind::LBrace, "`{`")?.span)
    }

    // ---- top level ----------------------------------------------------

    fn file(&mut self) -> SchemaFile {
        let mut file = SchemaFile::default();
        loop {
            self.skip_newlines();
            let token = self.peek();
            match token.kind {
                TokenKind::Eof => break,
                _ if self.at_keyword("hub") => match self.hub() {
                    Ok(hub) => file.items.push(Item::Hub(hub)),
                    Err(Reported) => self.recover_line(),
                },
                _ if self.at_keyword("mixin") => match self.mixin() {
                    Ok(mixin) => file.items.push(Item::Mixin(mixin)),
                    Err(Reported) => self.recover_line(),
                },
                _ if self.at_keyword("set") => match self.setting() {
                    Ok(setting) => file.items.push(Item::Setting(setting)),
                    Err(Reported) => self.recover_line(),
                },
                _ => {
                    let found = self.describe(token);
                    self.diagnostics.push(messages::unexpected_item(
                        token.span,
                        &found,
                        "the top level",
                        &["hub", "mixin", "set"],
                    ));
                    self.recover_line();
                    if self.at(TokenKind::RBrace) {
                        self.bump();
                    }
                }
            }
        }
        file.dangling = self.take_dangling();
        file
    }

    fn hub(&mut self) -> PResult<Hub> {
        let mut trivia = self.take_trivia();
        let start = self.bump().span;
        let name = self.ident("a hub name")?;
        let mut database = None;
        let mut readonly = false;
        loop {
            if self.eat_keyword("database") {
                database = Some(self.ident("a database name")?);
            } else if self.eat_keyword("readonly") {
                readonly = true;
            } else {
                break;
            }
        }
        let open = self.open_brace()?;
        self.take_trailing(&mut trivia);
        let mut items = Vec::new();
        let (dangling, end) = self.block(open, |p| {
            let item = p.hub_item(true)?;
            items.push(item);
            Ok(())
        });
        Ok(Hub {
            trivia,
            name,
            database,
            readonly,
            items,
            dangling,
            span: start.to(end),
        })
    }

    fn hub_item(&mut self, allow_schema: bool) -> PResult<HubItem> {
        let token = self.peek();
        let keyword = if token.kind == TokenKind::Ident {
            self.src(token).to_ascii_lowercase()
        } else {
            String::new()
        };
        match keyword.as_str() {
            "table" => Ok(HubItem::Table(self.table()?)),
            "enum" => Ok(HubItem::Enum(self.enum_def()?)),
            "mixin" => Ok(HubItem::Mixin(self.mixin()?)),
            "role" => {
                let mut trivia = self.take_trivia();
                self.bump();
                let name = self.ident("a role name")?;
                let (mut bypass_rls, mut platform) = (false, false);
                loop {
                    if self.eat_keyword("bypassrls") {
                        bypass_rls = true;
                    } else if self.eat_keyword("platform") {
                        platform = true;
                    } else {
                        break;
                    }
                }
                self.take_trailing(&mut trivia);
                Ok(HubItem::Role(RoleDef {
                    trivia,
                    name,
                    bypass_rls,
                    platform,
                }))
            }
            "extension" => {
                let mut trivia = self.take_trivia();
                self.bump();
                let name = self.ident("an extension name")?;
                self.take_trailing(&mut trivia);
                Ok(HubItem::Extension(Extension { trivia, name }))
            }
            "acknowledge" => {
                let mut trivia = self.take_trivia();
                self.bump();
                self.expect_keyword("destructive")?;
                let mut target = vec![self.ident("what may be dropped or narrowed (`table` or `table.column`)")?];
                while self.eat(TokenKind::Dot).is_some() {
                    target.push(self.ident("a name")?);
                }
                self.take_trailing(&mut trivia);
                Ok(HubItem::Acknowledge(Acknowledge { trivia, target }))
            }
            "set" if allow_schema => Ok(HubItem::Setting(self.setting()?)),
            "distributed" if allow_schema => {
                let mut trivia = self.take_trivia();
                self.bump();
                self.expect_keyword("by")?;
                let column = self.ident("the distribution column")?;
                self.take_trailing(&mut trivia);
                Ok(HubItem::Distributed(Distributed { trivia, column }))
            }
            "schedule" if allow_schema => {
                let mut trivia = self.take_trivia();
                self.bump();
                self.expect_keyword("maintenance")?;
                let token = self.expect(TokenKind::Str, "a quoted cron schedule, as in '0 2 * * *'")?;
                let cron = Expr {
                    text: self.src(token).to_string(),
                    idents: vec![],
                    span: token.span,
                };
                self.take_trailing(&mut trivia);
                Ok(HubItem::Schedule(Schedule { trivia, cron }))
            }
            "schema" if allow_schema => {
                let mut trivia = self.take_trivia();
                let start = self.bump().span;
                let name = self.ident("a schema name")?;
                let per_tenant = if self.at_keyword("per") {
                    let start = self.bump().span;
                    self.expect_keyword("tenant")?;
                    let naming = match self.peek().kind {
                        TokenKind::Str => {
                            let token = self.bump();
                            Some(Expr {
                                text: self.src(token).to_string(),
                                idents: vec![],
                                span: token.span,
                            })
                        }
                        _ => None,
                    };
                    Some(PerTenant {
                        span: start.to(Span::new(self.last_end, self.last_end)),
                        naming,
                    })
                } else {
                    None
                };
                let open = self.open_brace()?;
                self.take_trailing(&mut trivia);
                let mut items = Vec::new();
                let (dangling, end) = self.block(open, |p| {
                    items.push(p.hub_item(false)?);
                    Ok(())
                });
                Ok(HubItem::Schema(SchemaBlock {
                    trivia,
                    name,
                    per_tenant,
                    items,
                    dangling,
                    span: start.to(end),
                }))
            }
            _ => {
                let found = self.describe(token);
                let expected: &[&str] = if allow_schema {
                    &[
                        "table",
                        "enum",
                        "mixin",
                        "role",
                        "extension",
                        "schema",
                        "acknowledge",
                        "set",
                        "distributed",
                    ]
                } else {
                    &["table", "enum", "mixin", "role", "extension", "acknowledge"]
                };
                let place = if allow_schema { "a hub" } else { "a schema block" };
                self.diagnostics
                    .push(messages::unexpected_item(token.span, &found, place, expected));
                Err(Reported)
            }
        }
    }

    /// `set name 'value'`
    fn setting(&mut self) -> PResult<Setting> {
        let mut trivia = self.take_trivia();
        self.bump();
        let name = self.ident("a setting name, such as `lock_timeout`")?;
        let token = self.expect(TokenKind::Str, "a quoted value, such as '10s'")?;
        let value = unquote(self.src(token));
        self.take_trailing(&mut trivia);
        Ok(Setting {
            trivia,
            name,
            value,
            value_span: token.span,
        })
    }

    fn enum_def(&mut self) -> PResult<EnumDef> {
        let mut trivia = self.take_trivia();
        let start = self.bump().span;
        let name = self.ident("an enum name")?;
        let open = self.open_brace()?;
        self.take_trailing(&mut trivia);
        let mut values = Vec::new();
        let (dangling, end) = self.block(open, |p| loop {
            let token = p.peek();
            let value = match token.kind {
                TokenKind::Ident => p.src(token).to_string(),
                TokenKind::Str => unquote(p.src(token)),
                _ => return Err(p.error_expected("an enum value")),
            };
            let mut value_trivia = p.take_trivia();
            p.bump();
            let comma = p.eat(TokenKind::Comma).is_some();
            let line_ends = matches!(p.peek().kind, TokenKind::Newline | TokenKind::RBrace | TokenKind::Eof);
            if line_ends {
                p.take_trailing(&mut value_trivia);
            }
            values.push(EnumValue {
                trivia: value_trivia,
                value,
                span: token.span,
            });
            if line_ends || !comma && !matches!(p.peek().kind, TokenKind::Ident | TokenKind::Str) {
                return Ok(());
            }
        });
        Ok(EnumDef {
            trivia,
            name,
            values,
            dangling,
            span: start.to(end),
        })
    }

    fn mixin(&mut self) -> PResult<Mixin> {
        let mut trivia = self.take_trivia();
        let start = self.bump().span;
        let name = self.ident("a mixin name")?;
        let open = self.open_brace()?;
        self.take_trailing(&mut trivia);
        let mut columns = Vec::new();
        let (dangling, end) = self.block(open, |p| {
            columns.push(p.column()?);
            Ok(())
        });
        Ok(Mixin {
            trivia,
            name,
            columns,
            dangling,
            span: start.to(end),
        })
    }

    fn table(&mut self) -> PResult<Table> {
        let mut trivia = self.take_trivia();
        let start = self.bump().span;
        let name = self.ident("a table name")?;
        let mut options = Vec::new();
        while let TokenKind::Ident = self.peek().kind {
            let option_name = self.ident("a table option")?;
            let Some(&(_, kind)) = TableOptionKind::ALL.iter().find(|(k, _)| *k == option_name.name) else {
                let names: Vec<&str> = TableOptionKind::ALL.iter().map(|(k, _)| *k).collect();
                self.diagnostics.push(messages::unknown_table_option(&option_name, &names));
                return Err(Reported);
            };
            let mut arg = None;
            let mut end = option_name.span;
            if self.eat(TokenKind::LParen).is_some() {
                arg = Some(self.ident("a column name")?);
                end = self.expect(TokenKind::RParen, "`)`")?.span;
            }
            options.push(TableOption {
                kind,
                span: option_name.span.to(end),
                name: option_name,
                arg,
            });
        }
        let open = self.open_brace()?;
        self.take_trailing(&mut trivia);
        let mut items = Vec::new();
        let (dangling, end) = self.block(open, |p| {
            items.push(p.table_item()?);
            Ok(())
        });
        Ok(Table {
            trivia,
            name,
            options,
            items,
            dangling,
            span: start.to(end),
        })
    }

    // ---- table items ----------------------------------------------------

    fn table_item(&mut self) -> PResult<TableItem> {
        let mut trivia = self.take_trivia();
        let start = self.peek().span;
        let token = self.peek();
        let keyword = if token.kind == TokenKind::Ident {
            self.src(token).to_ascii_lowercase()
        } else {
            String::new()
        };
        // A keyword starts a table item only if the next token fits; otherwise
        // the line is a column that happens to share the keyword's name.
        let next = self.tokens.get(self.pos + 1).map(|t| (t.kind, self.src(*t).to_ascii_lowercase()));
        let next_is = |kind: TokenKind, text: &str| next.as_ref().is_some_and(|(k, t)| *k == kind && (text.is_empty() || t == text));
        let kind = match keyword.as_str() {
            // `use x` alone on its line is a mixin; `"use" text` is a column.
            "use" if next_is(TokenKind::Ident, "") && self.line_ends_at(self.pos + 2) => {
                self.bump();
                TableItemKind::Use(self.ident("a mixin name")?)
            }
            "primary" if next_is(TokenKind::Ident, "key") => {
                self.bump();
                self.bump();
                TableItemKind::PrimaryKey(self.column_list()?)
            }
            "unique" if next_is(TokenKind::Ident, "index") => {
                self.bump();
                self.bump();
                TableItemKind::Index(self.index(true)?)
            }
            "unique" if next_is(TokenKind::LParen, "") || next_is(TokenKind::Ident, "") && !self.column_follows() => {
                self.bump();
                let name = if self.at(TokenKind::Ident) {
                    Some(self.ident("a constraint name")?)
                } else {
                    None
                };
                TableItemKind::Unique {
                    name,
                    columns: self.column_list()?,
                }
            }
            "index" if next_is(TokenKind::Ident, "") && !self.column_follows() => {
                self.bump();
                TableItemKind::Index(self.index(false)?)
            }
            "check" if next_is(TokenKind::LParen, "") || next_is(TokenKind::Ident, "") && !self.column_follows() => {
                self.bump();
                let name = if self.at(TokenKind::Ident) {
                    Some(self.ident("a constraint name")?)
                } else {
                    None
                };
                TableItemKind::Check {
                    name,
                    expr: self.paren_expr()?,
                }
            }
            "foreign" if next_is(TokenKind::Ident, "key") => {
                self.bump();
                self.bump();
                let name = if self.at(TokenKind::Ident) {
                    Some(self.ident("a constraint name")?)
                } else {
                    None
                };
                let columns = self.column_list()?;
                self.expect_keyword("references")?;
                TableItemKind::ForeignKey {
                    name,
                    columns,
                    target: self.reference()?,
                }
            }
            "partition" if next_is(TokenKind::Ident, "by") => {
                self.bump();
                self.bump();
                let method = if self.eat_keyword("range") {
                    PartitionMethod::Range
                } else if self.eat_keyword("list") {
                    PartitionMethod::List
                } else if self.eat_keyword("hash") {
                    PartitionMethod::Hash
                } else {
                    return Err(self.error_expected("`range`, `list` or `hash`"));
                };
                self.expect(TokenKind::LParen, "`(`")?;
                let column = self.ident("a column name")?;
                self.expect(TokenKind::RParen, "`)`")?;
                let upkeep = if self.at_keyword("every") { Some(self.upkeep()?) } else { None };
                let into = if self.eat_keyword("into") {
                    let token = self.expect(TokenKind::Number, "how many hash partitions")?;
                    Some((self.src(token).parse::<u32>().unwrap_or(u32::MAX), token.span))
                } else {
                    None
                };
                TableItemKind::PartitionBy {
                    method,
                    column,
                    upkeep,
                    into,
                }
            }
            "retain" if next_is(TokenKind::Number, "") => {
                self.bump();
                let keep = self.interval()?;
                self.expect_keyword("by")?;
                TableItemKind::Retain {
                    keep,
                    column: self.ident("the time column rows are aged by")?,
                }
            }
            "partition" if next_is(TokenKind::Ident, "") && !self.column_follows() => {
                self.bump();
                let name = self.ident("a partition name")?;
                let bound = if self.at_keyword("default") {
                    PartitionBound::Default(self.bump().span)
                } else if self.eat_keyword("in") {
                    self.expect(TokenKind::LParen, "`(`")?;
                    let mut values = vec![self.bound()?];
                    while self.eat(TokenKind::Comma).is_some() {
                        values.push(self.bound()?);
                    }
                    self.expect(TokenKind::RParen, "`)`")?;
                    PartitionBound::In(values)
                } else if self.eat_keyword("from") {
                    let from = self.bound()?;
                    self.expect_keyword("to")?;
                    let to = self.bound()?;
                    PartitionBound::Range { from, to }
                } else {
                    return Err(self.error_expected("`from`, `in` or `default`"));
                };
                TableItemKind::Partition { name, bound }
            }
            "policy" if next_is(TokenKind::Ident, "") && !self.column_follows() => {
                self.bump();
                TableItemKind::Policy(self.policy()?)
            }
            "grant" if next_is(TokenKind::Ident, "") && !self.column_follows() => {
                self.bump();
                let mut privileges = vec![self.ident("a privilege")?];
                while self.eat(TokenKind::Comma).is_some() {
                    privileges.push(self.ident("a privilege")?);
                }
                self.expect_keyword("to")?;
                TableItemKind::Grant {
                    privileges,
                    role: self.ident("a role name")?,
                }
            }
            "allow" if next_is(TokenKind::Ident, "") && !self.column_follows() => {
                self.bump();
                TableItemKind::Allow(self.lint_code()?)
            }
            "on" if next_is(TokenKind::Ident, "erase") => {
                self.bump();
                self.bump();
                TableItemKind::OnErase(self.erase_action()?)
            }
            _ => {
                // Columns parse their own trivia.
                self.pending.leading.splice(0..0, trivia.leading.drain(..));
                let column = self.column()?;
                let span = column.span;
                return Ok(TableItem {
                    trivia: Trivia::default(),
                    kind: TableItemKind::Column(column),
                    span,
                });
            }
        };
        let span = start.to(Span::new(self.last_end, self.last_end));
        self.take_trailing(&mut trivia);
        Ok(TableItem { trivia, kind, span })
    }

    /// A diagnostic code such as `tenant-key-order`: words joined by `-`
    /// with no space between them.
    fn lint_code(&mut self) -> PResult<Ident> {
        let mut code = self.ident("a warning's code")?;
        while let (Some(dash), Some(word)) = (self.tokens.get(self.pos), self.tokens.get(self.pos + 1)) {
            let joined = dash.span.start == code.span.end && word.span.start == dash.span.end;
            if !(joined && dash.kind == TokenKind::Op && self.src(*dash) == "-" && word.kind == TokenKind::Ident) {
                break;
            }
            code.name = format!("{}-{}", code.name, self.src(*word));
            code.span = code.span.to(word.span);
            self.bump();
            self.bump();
        }
        Ok(code)
    }

    fn line_ends_at(&self, index: usize) -> bool {
        self.tokens
            .get(index)
            .is_none_or(|t| matches!(t.kind, TokenKind::Newline | TokenKind::RBrace | TokenKind::Eof | TokenKind::Comment))
    }

    /// True when the tokens after a keyword look like `name type`, i.e. the
    /// keyword is really a column name (`index integer`, `check text`).
    fn column_follows(&self) -> bool {
        let is_type = |t: Option<&Token>| {
            t.is_some_and(|t| {
                t.kind == TokenKind::Ident && crate::types::is_builtin_type(&self.text[t.span.start as usize..t.span.end as usize])
            })
        };
        is_type(self.tokens.get(self.pos + 1))
    }

    /// `every 1 month [premake 3] [retain 90 days [archive]]`
    fn upkeep(&mut self) -> PResult<Upkeep> {
        self.expect_keyword("every")?;
        let every = self.interval()?;
        let premake = if self.eat_keyword("premake") {
            let token = self.expect(TokenKind::Number, "how many partitions to make ahead")?;
            Some((self.src(token).parse::<u32>().unwrap_or(u32::MAX), token.span))
        } else {
            None
        };
        let retain = if self.eat_keyword("retain") { Some(self.interval()?) } else { None };
        let archive = self.at_keyword("archive").then(|| self.bump().span);
        Ok(Upkeep {
            every,
            premake,
            retain,
            archive,
        })
    }

    /// `90 days`: a whole number and a unit.
    fn interval(&mut self) -> PResult<Interval> {
        let token = self.expect(TokenKind::Number, "a number (as in `90 days`)")?;
        let count = self.src(token).parse::<u32>().unwrap_or(u32::MAX);
        let unit = self.ident("a unit (`hour`, `day`, `week`, `month` or `year`)")?;
        let span = token.span.to(unit.span);
        Ok(Interval { count, unit, span })
    }

    fn bound(&mut self) -> PResult<Expr> {
        let token = self.peek();
        match token.kind {
            TokenKind::Str | TokenKind::Number => {
                self.bump();
                Ok(Expr {
                    text: self.src(token).to_string(),
                    idents: vec![],
                    span: token.span,
                })
            }
            TokenKind::Ident if ["minvalue", "maxvalue"].contains(&self.src(token).to_ascii_lowercase().as_str()) => {
                self.bump();
                Ok(Expr {
                    text: self.src(token).to_ascii_uppercase(),
                    idents: vec![],
                    span: token.span,
                })
            }
            _ => Err(self.error_expected("a partition bound (a quoted date, a number, `minvalue` or `maxvalue`)")),
        }
    }

    fn index(&mut self, unique: bool) -> PResult<Index> {
        let name = self.ident("an index name")?;
        let mut method = None;
        if self.eat_keyword("using") {
            method = Some(self.ident("an index method (btree, gin, gist, hash)")?);
        }
        self.expect(TokenKind::LParen, "`(`")?;
        let mut columns = Vec::new();
        loop {
            self.skip_newlines();
            let column = self.ident("a column name")?;
            let mut descending = false;
            let mut end = column.span;
            if self.at_keyword("desc") || self.at_keyword("asc") {
                descending = self.at_keyword("desc");
                end = self.bump().span;
            }
            columns.push(IndexColumn {
                span: column.span.to(end),
                name: column,
                descending,
            });
            self.skip_newlines();
            if self.eat(TokenKind::Comma).is_none() {
                break;
            }
        }
        self.expect(TokenKind::RParen, "`,` or `)`")?;
        if method.is_none() && self.eat_keyword("using") {
            method = Some(self.ident("an index method (btree, gin, gist, hash)")?);
        }
        let predicate = if self.eat_keyword("where") {
            Some(self.paren_expr()?)
        } else {
            None
        };
        Ok(Index {
            name,
            unique,
            method,
            columns,
            predicate,
        })
    }

    fn policy(&mut self) -> PResult<Policy> {
        let name = self.ident("a policy name")?;
        let command = if self.eat_keyword("for") {
            Some(self.ident("a command (all, select, insert, update, delete)")?)
        } else {
            None
        };
        self.expect_keyword("to")?;
        let role = self.ident("a role name")?;
        let using = if self.eat_keyword("using") {
            Some(self.paren_expr()?)
        } else {
            None
        };
        let with_check = if self.eat_keyword("with") {
            self.expect_keyword("check")?;
            Some(self.paren_expr()?)
        } else {
            None
        };
        Ok(Policy {
            name,
            command,
            role,
            using,
            with_check,
        })
    }

    fn column_list(&mut self) -> PResult<Vec<Ident>> {
        self.expect(TokenKind::LParen, "`(`")?;
        let mut columns = Vec::new();
        loop {
            self.skip_newlines();
            columns.push(self.ident("a column name")?);
            self.skip_newlines();
            if self.eat(TokenKind::Comma).is_none() {
                break;
            }
        }
        self.expect(TokenKind::RParen, "`,` or `)`")?;
        Ok(columns)
    }

    fn reference(&mut self) -> PResult<Reference> {
        let first = self.ident("a table name")?;
        let start = first.span;
        let mut path = vec![first];
        while self.eat(TokenKind::Dot).is_some() {
            path.push(self.ident("a table name")?);
        }
        let columns = if self.at(TokenKind::LParen) {
            self.column_list()?
        } else {
            Vec::new()
        };
        let mut on_delete = None;
        let mut on_update = None;
        while self.at_keyword("on") && !self.on_erase_follows() {
            self.bump();
            let which = self.peek();
            let is_delete = if self.eat_keyword("delete") {
                true
            } else if self.eat_keyword("update") {
                false
            } else {
                return Err(self.error_expected("`delete` or `update`"));
            };
            let action_start = self.peek().span;
            let action = if self.eat_keyword("cascade") {
                FkAction::Cascade
            } else if self.eat_keyword("restrict") {
                FkAction::Restrict
            } else if self.eat_keyword("no") {
                self.expect_keyword("action")?;
                FkAction::NoAction
            } else if self.eat_keyword("set") {
                if self.eat_keyword("null") {
                    FkAction::SetNull
                } else if self.eat_keyword("default") {
                    FkAction::SetDefault
                } else {
                    return Err(self.error_expected("`null` or `default`"));
                }
            } else {
                return Err(self.error_expected("`cascade`, `restrict`, `no action`, `set null` or `set default`"));
            };
            let span = which.span.to(action_start).to(Span::new(self.last_end, self.last_end));
            if is_delete {
                on_delete = Some((action, span));
            } else {
                on_update = Some((action, span));
            }
        }
        Ok(Reference {
            path,
            columns,
            on_delete,
            on_update,
            span: start.to(Span::new(self.last_end, self.last_end)),
        })
    }

    /// Whether `on erase` comes next (a column's erasure rule, not a reference's action).
    fn on_erase_follows(&mut self) -> bool {
        let next = self.tokens.get(self.pos + 1).copied();
        self.at_keyword("on") && next.is_some_and(|t| t.kind == TokenKind::Ident && self.src(t).eq_ignore_ascii_case("erase"))
    }

    fn erase_action(&mut self) -> PResult<EraseAction> {
        for (keyword, action) in EraseAction::ALL {
            if self.eat_keyword(keyword) {
                return Ok(action);
            }
        }
        Err(self.error_expected("`delete`, `anonymize` or `keep`"))
    }

    // ---- columns ----------------------------------------------------------

    fn column(&mut self) -> PResult<Column> {
        let mut trivia = self.take_trivia();
        let name = self.ident("a column name or a table item (index, unique, check, ...)")?;
        let ty = self.type_ref()?;
        let mut modifiers = Vec::new();
        let mut attrs = Vec::new();
        loop {
            let token = self.peek();
            let start = token.span;
            let keyword = if token.kind == TokenKind::Ident {
                self.src(token).to_ascii_lowercase()
            } else {
                String::new()
            };
            let kind = match (token.kind, keyword.as_str()) {
                (TokenKind::Newline | TokenKind::RBrace | TokenKind::Eof, _) => break,
                (TokenKind::At, _) => {
                    self.bump();
                    let attr_name = self.ident("an attribute name")?;
                    let mut args = Vec::new();
                    let mut expr = None;
                    if EXPR_ATTRIBUTES.contains(&attr_name.name.as_str()) {
                        if self.peek().kind == TokenKind::LParen {
                            expr = Some(self.paren_expr()?);
                        }
                    } else if self.eat(TokenKind::LParen).is_some() {
                        loop {
                            args.push(self.ident("an attribute argument")?);
                            if self.eat(TokenKind::Comma).is_none() {
                                break;
                            }
                        }
                        self.expect(TokenKind::RParen, "`)`")?;
                    }
                    attrs.push(Attr {
                        name: attr_name,
                        args,
                        expr,
                        span: start.to(Span::new(self.last_end, self.last_end)),
                    });
                    continue;
                }
                (_, "primary") => {
                    self.bump();
                    self.expect_keyword("key")?;
                    ModifierKind::PrimaryKey
                }
                (_, "unique") => {
                    self.bump();
                    ModifierKind::Unique
                }
                (_, "not") => {
                    self.bump();
                    self.expect_keyword("null")?;
                    ModifierKind::NotNull
                }
                (_, "null") => {
                    self.bump();
                    ModifierKind::Null
                }
                (_, "default") => {
                    self.bump();
                    ModifierKind::Default(self.bare_expr()?)
                }
                (_, "references") => {
                    self.bump();
                    ModifierKind::References(self.reference()?)
                }
                (_, "check") => {
                    self.bump();
                    ModifierKind::Check(self.paren_expr()?)
                }
                (_, "on") if self.on_erase_follows() => {
                    self.bump();
                    self.bump();
                    ModifierKind::OnErase(self.erase_action()?)
                }
                (_, "generated") => {
                    self.bump();
                    if self.eat_keyword("always") {
                        self.expect_keyword("as")?;
                    }
                    let expr = self.paren_expr()?;
                    self.eat_keyword("stored");
                    ModifierKind::Generated(expr)
                }
                _ => {
                    return Err(self.error_expected(
                        "a column modifier (not null, default, unique, references, check, generated, on erase, @attribute)",
                    ))
                }
            };
            modifiers.push(Modifier {
                kind,
                span: start.to(Span::new(self.last_end, self.last_end)),
            });
        }
        let span = name.span.to(Span::new(self.last_end, self.last_end));
        self.take_trailing(&mut trivia);
        Ok(Column {
            trivia,
            name,
            ty,
            modifiers,
            attrs,
            span,
        })
    }

    fn type_ref(&mut self) -> PResult<TypeRef> {
        let mut name = self.ident("a column type")?;
        let start = name.span;
        let lower = name.name.to_ascii_lowercase();
        // Multi-word SQL spellings are accepted and folded into one name.
        if lower == "double" && self.eat_keyword("precision") {
            name.name = "double".into();
        } else if lower == "character" && self.eat_keyword("varying") {
            name.name = "varchar".into();
        } else if (lower == "timestamp" || lower == "time") && (self.at_keyword("with") || self.at_keyword("without")) {
            let with = self.at_keyword("with");
            self.bump();
            self.expect_keyword("time")?;
            self.expect_keyword("zone")?;
            if with {
                name.name = format!("{lower}tz");
            }
        }
        let mut args = Vec::new();
        if self.eat(TokenKind::LParen).is_some() {
            loop {
                let token = self.expect(TokenKind::Number, "a number")?;
                let value = self.src(token).parse::<u32>().unwrap_or(u32::MAX);
                args.push((value, token.span));
                if self.eat(TokenKind::Comma).is_none() {
                    break;
                }
            }
            self.expect(TokenKind::RParen, "`)`")?;
        }
        let mut array = false;
        if self.eat(TokenKind::LBracket).is_some() {
            self.expect(TokenKind::RBracket, "`]`")?;
            array = true;
        }
        Ok(TypeRef {
            name,
            args,
            array,
            span: start.to(Span::new(self.last_end, self.last_end)),
        })
    }

    // ---- expressions ------------------------------------------------------

    /// `( expr )`: the expression is everything inside the balanced parentheses.
    fn paren_expr(&mut self) -> PResult<Expr> {
        let open = self.expect(TokenKind::LParen, "`(`")?;
        let mut collected = Vec::new();
        let mut depth = 0usize;
        loop {
            let token = self.peek();
            match token.kind {
                TokenKind::Eof | TokenKind::LBrace | TokenKind::RBrace => {
                    self.diagnostics.push(messages::unclosed_paren(open.span));
                    return Err(Reported);
                }
                TokenKind::Newline => {
                    self.bump();
                    continue;
                }
                TokenKind::LParen => depth += 1,
                TokenKind::RParen if depth == 0 => {
                    self.bump();
                    break;
                }
                TokenKind::RParen => depth -= 1,
                _ => {}
            }
            collected.push(self.bump());
        }
        if collected.is_empty() {
            self.diagnostics
                .push(messages::empty_expression(open.span.to(Span::new(self.last_end, self.last_end))));
            return Err(Reported);
        }
        Ok(self.make_expr(&collected))
    }

    /// A default: tokens up to the next modifier keyword or the end of line.
    fn bare_expr(&mut self) -> PResult<Expr> {
        const STOP: [&str; 7] = ["not", "null", "unique", "primary", "references", "check", "generated"];
        let mut collected: Vec<Token> = Vec::new();
        let mut depth = 0usize;
        loop {
            let token = self.peek();
            match token.kind {
                TokenKind::Eof | TokenKind::RBrace if depth == 0 => break,
                TokenKind::Eof | TokenKind::LBrace | TokenKind::RBrace => {
                    self.diagnostics
                        .push(messages::unclosed_paren(collected.first().map_or(token.span, |t| t.span)));
                    return Err(Reported);
                }
                TokenKind::Newline if depth == 0 => break,
                TokenKind::Newline => {
                    self.bump();
                    continue;
                }
                TokenKind::At if depth == 0 => break,
                TokenKind::Ident
                    if depth == 0 && !collected.is_empty() && STOP.contains(&self.src(token).to_ascii_lowercase().as_str()) =>
                {
                    // `default x is not null` is not a thing; `not` after an operand ends the default.
                    break;
                }
                TokenKind::Ident
                    if depth == 0
                        && collected.is_empty()
                        && STOP.contains(&self.src(token).to_ascii_lowercase().as_str())
                        && !self.src(token).eq_ignore_ascii_case("null") =>
                {
                    break;
                }
                TokenKind::LParen => depth += 1,
                TokenKind::RParen if depth == 0 => break,
                TokenKind::RParen => depth -= 1,
                _ => {}
            }
            collected.push(self.bump());
        }
        if collected.is_empty() {
            let at = self.peek().span;
            self.diagnostics
                .push(messages::empty_expression(Span::new(self.last_end, at.start as usize)));
            return Err(Reported);
        }
        Ok(self.make_expr(&collected))
    }

    fn make_expr(&self, tokens: &[Token]) -> Expr {
        let span = tokens[0].span.to(tokens[tokens.len() - 1].span);
        let mut idents = Vec::new();
        for (i, token) in tokens.iter().enumerate() {
            if token.kind != TokenKind::Ident && token.kind != TokenKind::QuotedIdent {
                continue;
            }
            let prev = i.checked_sub(1).map(|j| tokens[j].kind);
            let next = tokens.get(i + 1).map(|t| t.kind);
            // Function names, cast targets and qualified parts are not columns.
            if next == Some(TokenKind::LParen) || matches!(prev, Some(TokenKind::Cast | TokenKind::Dot)) || next == Some(TokenKind::Dot) {
                continue;
            }
            let raw = self.src(*token);
            if token.kind == TokenKind::Ident && crate::types::is_sql_word(raw) {
                continue;
            }
            let name = if token.kind == TokenKind::QuotedIdent {
                unquote(raw)
            } else {
                raw.to_string()
            };
            idents.push(Ident { name, span: token.span });
        }
        Expr {
            text: canonical_expr(self.text, tokens),
            idents,
            span,
        }
    }
}

fn unquote(raw: &str) -> String {
    let quote = raw.chars().next().unwrap_or('\'');
    let inner = raw.strip_prefix(quote).unwrap_or(raw);
    let inner = inner.strip_suffix(quote).unwrap_or(inner);
    inner.replace(&format!("{quote}{quote}"), &quote.to_string())
}

/// Joins expression tokens with canonical spacing, so that the formatter
/// and the IR see one spelling for every way of writing the expression.
fn canonical_expr(text: &str, tokens: &[Token]) -> String {
    let mut out = String::new();
    let mut prev: Option<TokenKind> = None;
    for (i, token) in tokens.iter().enumerate() {
        let raw = &text[token.span.start as usize..token.span.end as usize];
        let kind = token.kind;
        let space = match (prev, kind) {
            (None, _) => false,
            (_, TokenKind::RParen | TokenKind::Comma | TokenKind::Cast | TokenKind::Dot | TokenKind::RBracket | TokenKind::LBracket) => {
                false
            }
            (Some(TokenKind::LParen | TokenKind::Cast | TokenKind::Dot | TokenKind::LBracket), _) => false,
            (Some(TokenKind::Ident | TokenKind::QuotedIdent), TokenKind::LParen) => {
                // `coalesce(x)` is a call, `in (1, 2)` is a keyword.
                let prev_raw = &text[tokens[i - 1].span.start as usize..tokens[i - 1].span.end as usize];
                crate::types::is_sql_word(prev_raw)
            }
            (Some(TokenKind::Op), _) => {
                // Unary minus/plus directly before an operand stays attached.
                let prev_raw = &text[tokens[i - 1].span.start as usize..tokens[i - 1].span.end as usize];
                let unary = (prev_raw == "-" || prev_raw == "+")
                    && (i < 2 || matches!(tokens[i - 2].kind, TokenKind::Op | TokenKind::LParen | TokenKind::Comma));
                !unary
            }
            _ => true,
        };
        if space {
            out.push(' ');
        }
        if kind == TokenKind::Comment {
            continue;
        }
        out.push_str(raw);
        prev = Some(kind);
    }
    out
}
