//! What a row-level-security expression admits, decided without a database.
//!
//! The expression is parsed into a small SQL expression tree and evaluated
//! abstractly: every value is the *set* of outcomes it may have (NULL,
//! true, false, the empty string, any other value). A column may hold
//! anything; a session setting read with `current_setting(name, true)` is
//! NULL when no transaction set it, or `''` once one did and ended (the
//! pitfall of custom settings). Two questions follow:
//!
//! - is the expression true for every row, whatever the session? (always true)
//! - can it be true for some row when the settings it reads are missing?
//!
//! What the parser does not understand makes the verdict "unknown": the
//! lint then says nothing rather than guess.

/// Possible outcomes of an expression, as a bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Outcomes(u8);

impl Outcomes {
    const NULL: Outcomes = Outcomes(1);
    const TRUE: Outcomes = Outcomes(2);
    const FALSE: Outcomes = Outcomes(4);
    /// The empty string.
    const EMPTY: Outcomes = Outcomes(8);
    /// Any other value.
    const OTHER: Outcomes = Outcomes(16);
    const NONE: Outcomes = Outcomes(0);
    const ANY: Outcomes = Outcomes(31);
    const BOOL: Outcomes = Outcomes(2 | 4);

    fn has(self, o: Outcomes) -> bool {
        self.0 & o.0 != 0
    }
    fn or(self, o: Outcomes) -> Outcomes {
        Outcomes(self.0 | o.0)
    }
    fn without(self, o: Outcomes) -> Outcomes {
        Outcomes(self.0 & !o.0)
    }
    fn non_null(self) -> bool {
        self.without(Outcomes::NULL) != Outcomes::NONE
    }
}

/// How a session setting reads during one evaluation.
#[derive(Clone, Copy, PartialEq)]
enum Session {
    /// Set to some value, or not: anything.
    Any,
    /// No transaction set it.
    Missing,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Column,
    /// A literal's text (strings unquoted), so `1 = 1` is known true.
    Literal(String),
    Bool(bool),
    Null,
    /// `current_user`, `session_user`, ...: some non-null value.
    SessionValue,
    /// `current_setting(name, missing_ok)`.
    Setting {
        missing_ok: bool,
    },
    Call(String, Vec<Node>),
    Not(Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Compare(Box<Node>, Box<Node>, bool),
    IsNull(Box<Node>, bool),
    IsBool(Box<Node>, bool, bool),
    In(Box<Node>, Vec<Node>, bool),
    Cast(Box<Node>, String),
    /// Sub-selects, CASE, EXISTS, array constructors: anything.
    Opaque,
}

/// What the lint learns about one policy expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// True for every row, whatever the session.
    pub always_true: bool,
    /// Reads a session setting and still admits rows when it is missing.
    pub admits_without_setting: bool,
}

/// Analyzes one policy expression (`using` or `with check`); `None` when
/// the expression is beyond this parser.
pub fn analyze(sql: &str) -> Option<Verdict> {
    let tokens = tokenize(sql)?;
    if tokens.len() > MAX_TOKENS {
        return None;
    }
    let mut parser = Parser { tokens, pos: 0, depth: 0 };
    let node = parser.expr()?;
    if parser.pos != parser.tokens.len() {
        return None;
    }
    let reads_setting = contains_setting(&node);
    Some(Verdict {
        always_true: eval(&node, Session::Any) == Outcomes::TRUE,
        admits_without_setting: reads_setting && eval(&node, Session::Missing).has(Outcomes::TRUE),
    })
}

fn contains_setting(node: &Node) -> bool {
    match node {
        Node::Setting { .. } => true,
        Node::Call(_, args) => args.iter().any(contains_setting),
        Node::Not(a) | Node::IsNull(a, _) | Node::IsBool(a, _, _) | Node::Cast(a, _) => contains_setting(a),
        Node::And(a, b) | Node::Or(a, b) | Node::Compare(a, b, _) => contains_setting(a) || contains_setting(b),
        Node::In(a, list, _) => contains_setting(a) || list.iter().any(contains_setting),
        _ => false,
    }
}

fn eval(node: &Node, session: Session) -> Outcomes {
    match node {
        Node::Column | Node::Opaque => Outcomes::ANY,
        Node::Literal(text) if text.is_empty() => Outcomes::EMPTY,
        Node::Literal(_) | Node::SessionValue => Outcomes::OTHER,
        Node::Bool(true) => Outcomes::TRUE,
        Node::Bool(false) => Outcomes::FALSE,
        Node::Null => Outcomes::NULL,
        Node::Setting { missing_ok } => match (session, missing_ok) {
            (Session::Any, _) => Outcomes::NULL.or(Outcomes::EMPTY).or(Outcomes::OTHER),
            // An error aborts the query: no row is admitted.
            (Session::Missing, false) => Outcomes::NONE,
            (Session::Missing, true) => Outcomes::NULL.or(Outcomes::EMPTY),
        },
        Node::Cast(inner, ty) => {
            let value = eval(inner, session);
            let textual = matches!(ty.as_str(), "text" | "varchar" | "character varying" | "name" | "bpchar");
            if textual {
                value
            } else if ty == "boolean" || ty == "bool" {
                // '' is not a boolean: casting it errors.
                let mut out = value.without(Outcomes::EMPTY);
                if value.has(Outcomes::OTHER) {
                    out = out.without(Outcomes::OTHER).or(Outcomes::BOOL);
                }
                out
            } else {
                // '' cast to uuid, integer, ... raises: those rows are never admitted.
                value.without(Outcomes::EMPTY)
            }
        }
        Node::Not(inner) => not(eval(inner, session)),
        Node::And(a, b) => and(eval(a, session), eval(b, session)),
        Node::Or(a, b) => or(eval(a, session), eval(b, session)),
        Node::Compare(a, b, equal) => {
            if let (Node::Literal(x), Node::Literal(y)) = (a.as_ref(), b.as_ref()) {
                return if (x == y) == *equal { Outcomes::TRUE } else { Outcomes::FALSE };
            }
            compare(eval(a, session), eval(b, session))
        }
        Node::IsNull(inner, negated) => {
            let v = eval(inner, session);
            let mut out = Outcomes::NONE;
            if v.has(Outcomes::NULL) {
                out = out.or(if *negated { Outcomes::FALSE } else { Outcomes::TRUE });
            }
            if v.non_null() {
                out = out.or(if *negated { Outcomes::TRUE } else { Outcomes::FALSE });
            }
            out
        }
        Node::IsBool(inner, value, negated) => {
            let v = eval(inner, session);
            let hit = if *value { Outcomes::TRUE } else { Outcomes::FALSE };
            let mut out = Outcomes::NONE;
            if v.has(hit) {
                out = out.or(if *negated { Outcomes::FALSE } else { Outcomes::TRUE });
            }
            if v.without(hit) != Outcomes::NONE {
                out = out.or(if *negated { Outcomes::TRUE } else { Outcomes::FALSE });
            }
            out
        }
        Node::In(needle, list, negated) => {
            let needle = eval(needle, session);
            let mut out = Outcomes::NONE;
            for item in list {
                out = or(out, compare(needle, eval(item, session)));
            }
            if list.is_empty() {
                // A sub-select: any answer, but never true for a NULL needle.
                if needle.non_null() {
                    out = Outcomes::BOOL.or(Outcomes::NULL);
                }
                if needle.has(Outcomes::NULL) {
                    out = out.or(Outcomes::NULL).or(Outcomes::FALSE);
                }
            }
            if *negated {
                not(out)
            } else {
                out
            }
        }
        Node::Call(name, args) => call(name, args, session),
    }
}

fn not(v: Outcomes) -> Outcomes {
    let mut out = v.without(Outcomes::BOOL);
    if v.has(Outcomes::TRUE) {
        out = out.or(Outcomes::FALSE);
    }
    if v.has(Outcomes::FALSE) {
        out = out.or(Outcomes::TRUE);
    }
    out
}

/// Three-valued AND over outcome sets.
fn and(a: Outcomes, b: Outcomes) -> Outcomes {
    if a == Outcomes::NONE || b == Outcomes::NONE {
        return Outcomes::NONE;
    }
    let mut out = Outcomes::NONE;
    if a.has(Outcomes::FALSE) || b.has(Outcomes::FALSE) {
        out = out.or(Outcomes::FALSE);
    }
    if a.has(Outcomes::TRUE) && b.has(Outcomes::TRUE) {
        out = out.or(Outcomes::TRUE);
    }
    let a_not_false = a.without(Outcomes::FALSE) != Outcomes::NONE;
    let b_not_false = b.without(Outcomes::FALSE) != Outcomes::NONE;
    let a_null = a.without(Outcomes::TRUE).without(Outcomes::FALSE) != Outcomes::NONE;
    let b_null = b.without(Outcomes::TRUE).without(Outcomes::FALSE) != Outcomes::NONE;
    if (a_null && b_not_false) || (b_null && a_not_false) {
        out = out.or(Outcomes::NULL);
    }
    out
}

/// Three-valued OR over outcome sets.
fn or(a: Outcomes, b: Outcomes) -> Outcomes {
    if a == Outcomes::NONE {
        return b;
    }
    if b == Outcomes::NONE {
        return a;
    }
    let mut out = Outcomes::NONE;
    if a.has(Outcomes::TRUE) || b.has(Outcomes::TRUE) {
        out = out.or(Outcomes::TRUE);
    }
    if a.has(Outcomes::FALSE) && b.has(Outcomes::FALSE) {
        out = out.or(Outcomes::FALSE);
    }
    let a_not_true = a.without(Outcomes::TRUE) != Outcomes::NONE;
    let b_not_true = b.without(Outcomes::TRUE) != Outcomes::NONE;
    let a_null = a.without(Outcomes::TRUE).without(Outcomes::FALSE) != Outcomes::NONE;
    let b_null = b.without(Outcomes::TRUE).without(Outcomes::FALSE) != Outcomes::NONE;
    if (a_null && b_not_true) || (b_null && a_not_true) {
        out = out.or(Outcomes::NULL);
    }
    out
}

/// `a = b` (or any comparison): NULL when either side is NULL, else either answer.
fn compare(a: Outcomes, b: Outcomes) -> Outcomes {
    if a == Outcomes::NONE || b == Outcomes::NONE {
        return Outcomes::NONE;
    }
    let mut out = Outcomes::NONE;
    if a.has(Outcomes::NULL) || b.has(Outcomes::NULL) {
        out = out.or(Outcomes::NULL);
    }
    if a.non_null() && b.non_null() {
        out = out.or(Outcomes::BOOL);
    }
    out
}

fn call(name: &str, args: &[Node], session: Session) -> Outcomes {
    let values: Vec<Outcomes> = args.iter().map(|a| eval(a, session)).collect();
    if values.contains(&Outcomes::NONE) {
        return Outcomes::NONE;
    }
    match name {
        "coalesce" => {
            let mut out = Outcomes::NONE;
            for v in &values {
                out = out.or(v.without(Outcomes::NULL));
                if !v.has(Outcomes::NULL) {
                    return out;
                }
            }
            out.or(Outcomes::NULL)
        }
        "nullif" if values.len() == 2 => {
            let removes_empty = matches!(&args[1], Node::Literal(t) if t.is_empty());
            let (a, b) = (values[0], values[1]);
            let mut out = a;
            if removes_empty && a.has(Outcomes::EMPTY) {
                out = out.without(Outcomes::EMPTY).or(Outcomes::NULL);
            } else if a.non_null() && b.non_null() {
                out = out.or(Outcomes::NULL);
            }
            out
        }
        // Functions that skip or render NULL arguments: anything.
        "concat" | "concat_ws" | "greatest" | "least" | "format" | "num_nulls" | "num_nonnulls" => Outcomes::ANY,
        // Everything else is taken as strict: NULL in, NULL out.
        _ => {
            let mut out = Outcomes::ANY.without(Outcomes::NULL);
            if values.contains(&Outcomes::NULL) {
                return Outcomes::NULL;
            }
            if values.iter().any(|v| v.has(Outcomes::NULL)) || args.is_empty() {
                out = out.or(Outcomes::NULL);
            }
            out
        }
    }
}

// ---- tokens and parsing --------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Str(String),
    Num(String),
    Op(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Cast,
}

fn tokenize(sql: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => (out.push(Tok::LParen), i += 1).1,
            ')' => (out.push(Tok::RParen), i += 1).1,
            '[' => (out.push(Tok::LBracket), i += 1).1,
            ']' => (out.push(Tok::RBracket), i += 1).1,
            ',' => (out.push(Tok::Comma), i += 1).1,
            '.' => (out.push(Tok::Dot), i += 1).1,
            ':' if chars.get(i + 1) == Some(&':') => (out.push(Tok::Cast), i += 2).1,
            '\'' | '"' => {
                let mut text = String::new();
                i += 1;
                loop {
                    let ch = *chars.get(i)?;
                    i += 1;
                    if ch == c {
                        if chars.get(i) == Some(&c) {
                            text.push(c);
                            i += 1;
                            continue;
                        }
                        break;
                    }
                    text.push(ch);
                }
                out.push(if c == '\'' { Tok::Str(text) } else { Tok::Quoted(text) });
            }
            c if c.is_ascii_digit() => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                out.push(Tok::Num(chars[start..i].iter().collect()));
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$') {
                    i += 1;
                }
                out.push(Tok::Word(chars[start..i].iter().collect::<String>().to_ascii_lowercase()));
            }
            c if "=<>!+-*/%|&^~#@?".contains(c) => {
                let start = i;
                while i < chars.len() && "=<>!+-*/%|&^~#@?".contains(chars[i]) {
                    i += 1;
                }
                out.push(Tok::Op(chars[start..i].iter().collect()));
            }
            _ => return None,
        }
    }
    Some(out)
}

struct Parser {
    tokens: Vec<Tok>,
    pos: usize,
    /// Nesting depth, bounded so no input overflows the stack.
    depth: usize,
}

const MAX_DEPTH: usize = 64;
/// Policies are short; a bound keeps evaluation's recursion shallow.
const MAX_TOKENS: usize = 1_000;

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }
    fn word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x == w)
    }
    fn eat_word(&mut self, w: &str) -> bool {
        let hit = self.word(w);
        self.pos += usize::from(hit);
        hit
    }
    fn eat(&mut self, t: &Tok) -> bool {
        let hit = self.peek() == Some(t);
        self.pos += usize::from(hit);
        hit
    }

    fn expr(&mut self) -> Option<Node> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let mut left = self.and_expr()?;
        while self.eat_word("or") {
            left = Node::Or(Box::new(left), Box::new(self.and_expr()?));
        }
        self.depth -= 1;
        Some(left)
    }

    fn and_expr(&mut self) -> Option<Node> {
        let mut left = self.not_expr()?;
        while self.eat_word("and") {
            left = Node::And(Box::new(left), Box::new(self.not_expr()?));
        }
        Some(left)
    }

    fn not_expr(&mut self) -> Option<Node> {
        if self.eat_word("not") {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return None;
            }
            let inner = self.not_expr()?;
            self.depth -= 1;
            return Some(Node::Not(Box::new(inner)));
        }
        self.predicate()
    }

    /// Comparisons, `IS [NOT] NULL/TRUE/FALSE`, `[NOT] IN (...)`.
    fn predicate(&mut self) -> Option<Node> {
        let left = self.arith()?;
        if self.eat_word("is") {
            let negated = self.eat_word("not");
            let node = if self.eat_word("null") {
                Node::IsNull(Box::new(left), negated)
            } else if self.eat_word("true") {
                Node::IsBool(Box::new(left), true, negated)
            } else if self.eat_word("false") {
                Node::IsBool(Box::new(left), false, negated)
            } else {
                return None;
            };
            return Some(node);
        }
        let negated = self.word("not") && matches!(self.tokens.get(self.pos + 1), Some(Tok::Word(w)) if w == "in");
        if negated {
            self.pos += 1;
        }
        if self.eat_word("in") {
            if !self.eat(&Tok::LParen) {
                return None;
            }
            if self.word("select") {
                self.skip_to_close()?;
                return Some(Node::In(Box::new(left), Vec::new(), negated));
            }
            let mut list = vec![self.expr()?];
            while self.eat(&Tok::Comma) {
                list.push(self.expr()?);
            }
            if !self.eat(&Tok::RParen) {
                return None;
            }
            return Some(Node::In(Box::new(left), list, negated));
        }
        if let Some(Tok::Op(op)) = self.peek().cloned() {
            if matches!(op.as_str(), "=" | "<>" | "!=" | "<" | ">" | "<=" | ">=") {
                self.pos += 1;
                // `= ANY (...)`/`= ALL (...)` compare with each element: like a call.
                let right = self.arith()?;
                return Some(Node::Compare(Box::new(left), Box::new(right), op == "="));
            }
        }
        Some(left)
    }

    /// Arithmetic and other operators: strict, so NULL in, NULL out.
    fn arith(&mut self) -> Option<Node> {
        let mut left = self.unary()?;
        while let Some(Tok::Op(op)) = self.peek().cloned() {
            if matches!(op.as_str(), "=" | "<>" | "!=" | "<" | ">" | "<=" | ">=") {
                break;
            }
            self.pos += 1;
            let right = self.unary()?;
            left = Node::Call(op, vec![left, right]);
        }
        Some(left)
    }

    fn unary(&mut self) -> Option<Node> {
        let mut node = self.primary()?;
        while self.eat(&Tok::Cast) {
            let mut ty = self.type_word()?;
            while self.eat(&Tok::LBracket) {
                if !self.eat(&Tok::RBracket) {
                    return None;
                }
                ty.push_str("[]");
            }
            node = Node::Cast(Box::new(node), ty);
        }
        Some(node)
    }

    fn type_word(&mut self) -> Option<String> {
        let Some(Tok::Word(w)) = self.peek().cloned() else {
            return None;
        };
        self.pos += 1;
        if w == "character" && self.eat_word("varying") {
            return Some("character varying".into());
        }
        if self.eat(&Tok::LParen) {
            self.skip_to_close()?;
        }
        Some(w)
    }

    /// Skips to the `)` that closes an already consumed `(`.
    fn skip_to_close(&mut self) -> Option<()> {
        let mut depth = 1usize;
        while depth > 0 {
            match self.peek()? {
                Tok::LParen => depth += 1,
                Tok::RParen => depth -= 1,
                _ => {}
            }
            self.pos += 1;
        }
        Some(())
    }

    fn primary(&mut self) -> Option<Node> {
        let token = self.peek()?.clone();
        self.pos += 1;
        match token {
            Tok::Str(s) => Some(Node::Literal(s)),
            Tok::Num(n) => Some(Node::Literal(n)),
            Tok::Op(op) if op == "-" || op == "+" => self.unary(),
            Tok::LParen => {
                if self.eat_word("select") {
                    // `(SELECT expr)` without FROM is the expression itself
                    // (the idiom that evaluates a setting once per query).
                    let start = self.pos;
                    if let Some(inner) = self.expr() {
                        if self.eat(&Tok::RParen) {
                            return Some(inner);
                        }
                    }
                    self.pos = start;
                    self.skip_to_close()?;
                    return Some(Node::Opaque);
                }
                let inner = self.expr()?;
                self.eat(&Tok::RParen).then_some(inner)
            }
            Tok::Quoted(_) => self.qualified(),
            Tok::Word(w) => match w.as_str() {
                "true" => Some(Node::Bool(true)),
                "false" => Some(Node::Bool(false)),
                "null" => Some(Node::Null),
                "current_user" | "session_user" | "current_role" | "user" => Some(Node::SessionValue),
                "exists" => {
                    if !self.eat(&Tok::LParen) {
                        return None;
                    }
                    self.skip_to_close()?;
                    Some(Node::Opaque)
                }
                "case" => {
                    let mut depth = 1usize;
                    while depth > 0 {
                        match self.peek()? {
                            Tok::Word(w) if w == "case" => depth += 1,
                            Tok::Word(w) if w == "end" => depth -= 1,
                            _ => {}
                        }
                        self.pos += 1;
                    }
                    Some(Node::Opaque)
                }
                "array" => {
                    if !self.eat(&Tok::LBracket) {
                        return None;
                    }
                    let mut depth = 1usize;
                    while depth > 0 {
                        match self.peek()? {
                            Tok::LBracket => depth += 1,
                            Tok::RBracket => depth -= 1,
                            _ => {}
                        }
                        self.pos += 1;
                    }
                    Some(Node::Opaque)
                }
                _ if self.peek() == Some(&Tok::LParen) => {
                    self.pos += 1;
                    let mut args = Vec::new();
                    if !self.eat(&Tok::RParen) {
                        args.push(self.expr()?);
                        while self.eat(&Tok::Comma) {
                            args.push(self.expr()?);
                        }
                        if !self.eat(&Tok::RParen) {
                            return None;
                        }
                    }
                    Some(function(&w, args))
                }
                _ => self.qualified(),
            },
            _ => None,
        }
    }

    /// The rest of `schema.table.column` after its first part: a column.
    fn qualified(&mut self) -> Option<Node> {
        while self.eat(&Tok::Dot) {
            match self.peek()? {
                Tok::Word(_) | Tok::Quoted(_) => self.pos += 1,
                _ => return None,
            }
        }
        Some(Node::Column)
    }
}

fn function(name: &str, args: Vec<Node>) -> Node {
    if name == "current_setting" {
        let missing_ok = matches!(args.get(1), Some(Node::Bool(true)));
        return Node::Setting { missing_ok };
    }
    Node::Call(name.to_string(), args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(sql: &str) -> (bool, bool) {
        let v = analyze(sql).unwrap_or_else(|| panic!("cannot analyze {sql}"));
        (v.always_true, v.admits_without_setting)
    }

    #[test]
    fn always_true_expressions() {
        assert_eq!(verdict("true"), (true, false));
        assert_eq!(verdict("(1 = 1)"), (true, false));
        assert_eq!(verdict("'a' = 'a' OR tenant_id IS NULL"), (true, false));
        assert_eq!(verdict("status = 'open'"), (false, false));
        assert_eq!(verdict("current_user = 'platform'"), (false, false));
    }

    #[test]
    fn the_generated_predicates_admit_nothing_without_their_setting() {
        let tenant = "\"tenant_id\" = (SELECT NULLIF(current_setting('app.current_tenant_id', true), '')::uuid)";
        assert_eq!(verdict(tenant), (false, false));
        let parent = "\"wallet_id\" IN (SELECT \"wallets\".\"id\" FROM \"public\".\"wallets\")";
        assert_eq!(verdict(parent), (false, false));
        assert_eq!(
            verdict("tenant_id = current_setting('app.current_tenant_id')::uuid"),
            (false, false)
        );
        assert_eq!(
            verdict("tenant_id = current_setting('app.current_tenant_id', true)::uuid"),
            (false, false)
        );
    }

    #[test]
    fn a_missing_setting_that_matches_rows_is_caught() {
        let cases = [
            "current_setting('app.current_tenant_id', true) IS NULL OR tenant_id = current_setting('app.current_tenant_id', true)::uuid",
            "tenant_id = coalesce(nullif(current_setting('app.current_tenant_id', true), '')::uuid, tenant_id)",
            "tenant_id::text = current_setting('app.current_tenant_id', true) OR status = 'public'",
            "NOT (tenant_id <> current_setting('app.current_tenant_id', true)::uuid) OR current_setting('app.current_tenant_id', true) = ''",
            "coalesce(current_setting('app.current_tenant_id', true), '') = ''",
        ];
        for sql in cases {
            assert_eq!(verdict(sql), (false, true), "{sql}");
        }
    }

    #[test]
    fn unknown_syntax_gives_no_verdict_and_never_panics() {
        for sql in [
            "",
            "(",
            "tenant_id = ",
            "a IS",
            "'open",
            "((((",
            "x = ANY(ARRAY[1, 2)",
            "CASE WHEN",
            "f(,)",
        ] {
            let _ = analyze(sql);
        }
        let deep = format!("{}true{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(analyze(&deep).is_none());
        let nots = format!("{}true", "NOT ".repeat(10_000));
        assert!(analyze(&nots).is_none());
    }
}
