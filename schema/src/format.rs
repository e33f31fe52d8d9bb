//! The canonical layout: two-space indents, column names and types aligned
//! within a table, one blank line between blocks, comments kept in place.
//! Formatting a formatted file changes nothing, and never changes the IR.

use crate::ast::*;
use crate::Diagnostic;

/// Formats schema text. Refuses (with the syntax errors) when the file does
/// not parse, because a recovered tree could drop what the user wrote.
pub fn format_source(text: &str) -> Result<String, Vec<Diagnostic>> {
    let (file, diagnostics) = crate::parse(text);
    if diagnostics.is_empty() {
        Ok(format(&file))
    } else {
        Err(diagnostics)
    }
}

pub fn format(file: &SchemaFile) -> String {
    let mut w = Writer::default();
    for (i, item) in file.items.iter().enumerate() {
        // Settings group together, like one-line items in a hub.
        let grouped = i > 0 && matches!((&file.items[i - 1], item), (Item::Setting(_), Item::Setting(_)));
        if i > 0 && !grouped {
            w.blank();
        }
        match item {
            Item::Hub(hub) => w.hub(hub),
            Item::Mixin(mixin) => w.mixin(mixin),
            Item::Setting(setting) => w.setting(setting),
        }
    }
    if !file.dangling.is_empty() && !file.items.is_empty() {
        w.blank();
    }
    for comment in &file.dangling {
        w.line(comment);
    }
    w.out
}

#[derive(Default)]
struct Writer {
    out: String,
    indent: usize,
}

impl Writer {
    fn line(&mut self, text: &str) {
        if text.is_empty() {
            // A blank line inside trivia: never two in a row, never right after `{`.
            if !self.out.ends_with("\n\n") && !self.out.ends_with("{\n") && !self.out.is_empty() {
                self.out.push('\n');
            }
            return;
        }
        {
            self.out.push_str(&"  ".repeat(self.indent));
            self.out.push_str(text);
        }
        self.out.push('\n');
    }

    fn blank(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") && !self.out.ends_with("{\n") {
            self.out.push('\n');
        }
    }

    fn leading(&mut self, trivia: &Trivia) {
        // Comments and doc comments, in the order written.
        for comment in &trivia.leading {
            self.line(comment);
        }
    }

    /// An item's own line, with its trailing comment.
    fn item_line(&mut self, trivia: &Trivia, text: &str) {
        self.leading(trivia);
        match &trivia.trailing {
            Some(comment) => self.line(&format!("{text}  {comment}")),
            None => self.line(text),
        }
    }

    fn close(&mut self, dangling: &[String]) {
        for comment in dangling {
            self.line(comment);
        }
        self.indent -= 1;
        self.line("}");
    }

    fn hub(&mut self, hub: &Hub) {
        let mut header = format!("hub {}", ident(&hub.name.name));
        if let Some(db) = &hub.database {
            header.push_str(&format!(" database {}", ident(&db.name)));
        }
        if hub.readonly {
            header.push_str(" readonly");
        }
        self.item_line(&hub.trivia, &format!("{header} {{"));
        self.indent += 1;
        self.hub_items(&hub.items);
        self.close(&hub.dangling);
    }

    fn hub_items(&mut self, items: &[HubItem]) {
        let mut previous_was_line = false;
        for (i, item) in items.iter().enumerate() {
            // One-line items (roles, extensions) group together; blocks get a blank line around them.
            let is_line = matches!(
                item,
                HubItem::Role(_)
                    | HubItem::Extension(_)
                    | HubItem::Acknowledge(_)
                    | HubItem::Setting(_)
                    | HubItem::Distributed(_)
                    | HubItem::Schedule(_)
            );
            if i > 0 && !(is_line && previous_was_line) {
                self.blank();
            }
            previous_was_line = is_line;
            match item {
                HubItem::Table(t) => self.table(t),
                HubItem::Enum(e) => self.enum_def(e),
                HubItem::Mixin(m) => self.mixin(m),
                HubItem::Role(r) => {
                    let text = format!(
                        "role {}{}{}",
                        ident(&r.name.name),
                        if r.bypass_rls { " bypassrls" } else { "" },
                        if r.platform { " platform" } else { "" }
                    );
                    self.item_line(&r.trivia, &text);
                }
                HubItem::Extension(e) => self.item_line(&e.trivia, &format!("extension {}", ident(&e.name.name))),
                HubItem::Acknowledge(a) => {
                    let target: Vec<String> = a.target.iter().map(|t| ident(&t.name)).collect();
                    self.item_line(&a.trivia, &format!("acknowledge destructive {}", target.join(".")));
                }
                HubItem::Setting(s) => self.setting(s),
                HubItem::Distributed(d) => self.item_line(&d.trivia, &format!("distributed by {}", ident(&d.column.name))),
                HubItem::Schedule(s) => self.item_line(&s.trivia, &format!("schedule maintenance {}", s.cron.text)),
                HubItem::Schema(s) => {
                    let per_tenant = match &s.per_tenant {
                        None => String::new(),
                        Some(PerTenant { naming: None, .. }) => " per tenant".to_string(),
                        Some(PerTenant { naming: Some(rule), .. }) => format!(" per tenant {}", rule.text),
                    };
                    self.item_line(&s.trivia, &format!("schema {}{per_tenant} {{", ident(&s.name.name)));
                    self.indent += 1;
                    self.hub_items(&s.items);
                    self.close(&s.dangling);
                }
            }
        }
    }

    fn setting(&mut self, s: &Setting) {
        let text = format!("set {} '{}'", ident(&s.name.name), s.value.replace('\'', "''"));
        self.item_line(&s.trivia, &text);
    }

    fn enum_def(&mut self, e: &EnumDef) {
        self.item_line(&e.trivia, &format!("enum {} {{", ident(&e.name.name)));
        self.indent += 1;
        for value in &e.values {
            self.item_line(&value.trivia, &enum_value(&value.value));
        }
        self.close(&e.dangling);
    }

    fn mixin(&mut self, m: &Mixin) {
        self.item_line(&m.trivia, &format!("mixin {} {{", ident(&m.name.name)));
        self.indent += 1;
        let columns: Vec<&Column> = m.columns.iter().collect();
        let widths = Widths::of(&columns);
        for column in &columns {
            self.item_line(&column.trivia, &column_line(column, &widths));
        }
        self.close(&m.dangling);
    }

    fn table(&mut self, t: &Table) {
        let mut header = format!("table {}", ident(&t.name.name));
        for option in &t.options {
            header.push(' ');
            header.push_str(option.kind.keyword());
            if let Some(arg) = &option.arg {
                header.push_str(&format!("({})", ident(&arg.name)));
            }
        }
        self.item_line(&t.trivia, &format!("{header} {{"));
        self.indent += 1;
        let columns: Vec<&Column> = t
            .items
            .iter()
            .filter_map(|i| match &i.kind {
                TableItemKind::Column(c) => Some(c),
                _ => None,
            })
            .collect();
        let widths = Widths::of(&columns);
        let mut previous_was_column = None;
        for item in &t.items {
            let is_column = matches!(item.kind, TableItemKind::Column(_) | TableItemKind::Use(_));
            if previous_was_column.is_some_and(|p| p != is_column) {
                self.blank();
            }
            previous_was_column = Some(is_column);
            match &item.kind {
                TableItemKind::Column(c) => self.item_line(&c.trivia, &column_line(c, &widths)),
                other => self.item_line(&item.trivia, &table_item(other)),
            }
        }
        self.close(&t.dangling);
    }
}

struct Widths {
    name: usize,
    ty: usize,
}

impl Widths {
    fn of(columns: &[&Column]) -> Widths {
        Widths {
            name: columns.iter().map(|c| column_name(&c.name.name).len()).max().unwrap_or(0),
            ty: columns.iter().map(|c| type_text(&c.ty).len()).max().unwrap_or(0),
        }
    }
}

fn column_line(c: &Column, widths: &Widths) -> String {
    let mut rest: Vec<String> = c.modifiers.iter().map(|m| modifier(&m.kind)).collect();
    rest.extend(c.attrs.iter().map(|a| {
        if let Some(expr) = &a.expr {
            format!("@{}({})", a.name.name, expr.text)
        } else if a.args.is_empty() {
            format!("@{}", a.name.name)
        } else {
            format!(
                "@{}({})",
                a.name.name,
                a.args.iter().map(|x| ident(&x.name)).collect::<Vec<_>>().join(", ")
            )
        }
    }));
    let name = column_name(&c.name.name);
    let ty = type_text(&c.ty);
    if rest.is_empty() {
        format!("{name:<nw$}  {ty}", nw = widths.name)
    } else {
        format!("{name:<nw$}  {ty:<tw$}  {}", rest.join(" "), nw = widths.name, tw = widths.ty)
    }
}

fn type_text(ty: &TypeRef) -> String {
    let mut out = ty.name.name.to_ascii_lowercase();
    if !ty.args.is_empty() {
        out.push_str(&format!(
            "({})",
            ty.args.iter().map(|(v, _)| v.to_string()).collect::<Vec<_>>().join(", ")
        ));
    }
    if ty.array {
        out.push_str("[]");
    }
    out
}

fn modifier(kind: &ModifierKind) -> String {
    match kind {
        ModifierKind::PrimaryKey => "primary key".into(),
        ModifierKind::Unique => "unique".into(),
        ModifierKind::NotNull => "not null".into(),
        ModifierKind::Null => "null".into(),
        ModifierKind::Default(e) => format!("default {}", e.text),
        ModifierKind::References(r) => format!("references {}", reference(r)),
        ModifierKind::Check(e) => format!("check ({})", e.text),
        ModifierKind::Generated(e) => format!("generated always as ({}) stored", e.text),
        ModifierKind::OnErase(action) => format!("on erase {}", action.keyword()),
    }
}

fn reference(r: &Reference) -> String {
    let mut out = r.path.iter().map(|p| ident(&p.name)).collect::<Vec<_>>().join(".");
    if !r.columns.is_empty() {
        out.push_str(&format!("({})", idents(&r.columns)));
    }
    if let Some((action, _)) = r.on_delete {
        out.push_str(&format!(" on delete {}", action.sql()));
    }
    if let Some((action, _)) = r.on_update {
        out.push_str(&format!(" on update {}", action.sql()));
    }
    out
}

fn table_item(kind: &TableItemKind) -> String {
    let named = |keyword: &str, name: &Option<Ident>| match name {
        Some(n) => format!("{keyword} {}", ident(&n.name)),
        None => keyword.to_string(),
    };
    match kind {
        TableItemKind::Column(_) => String::new(),
        TableItemKind::Use(name) => format!("use {}", ident(&name.name)),
        TableItemKind::PrimaryKey(columns) => format!("primary key ({})", idents(columns)),
        TableItemKind::Unique { name, columns } => format!("{} ({})", named("unique", name), idents(columns)),
        TableItemKind::Index(i) => {
            let mut out = format!("{}index {}", if i.unique { "unique " } else { "" }, ident(&i.name.name));
            if let Some(method) = &i.method {
                out.push_str(&format!(" using {}", method.name.to_ascii_lowercase()));
            }
            let columns: Vec<String> = i
                .columns
                .iter()
                .map(|c| format!("{}{}", ident(&c.name.name), if c.descending { " desc" } else { "" }))
                .collect();
            out.push_str(&format!(" ({})", columns.join(", ")));
            if let Some(predicate) = &i.predicate {
                out.push_str(&format!(" where ({})", predicate.text));
            }
            out
        }
        TableItemKind::Check { name, expr } => format!("{} ({})", named("check", name), expr.text),
        TableItemKind::ForeignKey { name, columns, target } => {
            format!(
                "{} ({}) references {}",
                named("foreign key", name),
                idents(columns),
                reference(target)
            )
        }
        TableItemKind::PartitionBy {
            method,
            column,
            upkeep,
            into,
        } => {
            let mut line = format!("partition by {} ({})", method.as_str(), ident(&column.name));
            if let Some((n, _)) = into {
                line.push_str(&format!(" into {n}"));
            }
            if let Some(u) = upkeep {
                line.push_str(&format!(" every {}", interval(&u.every)));
                if let Some((n, _)) = u.premake {
                    line.push_str(&format!(" premake {n}"));
                }
                if let Some(keep) = &u.retain {
                    line.push_str(&format!(" retain {}", interval(keep)));
                }
                if u.archive.is_some() {
                    line.push_str(" archive");
                }
            }
            line
        }
        TableItemKind::Retain { keep, column } => format!("retain {} by {}", interval(keep), ident(&column.name)),
        TableItemKind::Partition { name, bound } => match bound {
            PartitionBound::Range { from, to } => format!("partition {} from {} to {}", ident(&name.name), from.text, to.text),
            PartitionBound::In(values) => {
                let values: Vec<&str> = values.iter().map(|v| v.text.as_str()).collect();
                format!("partition {} in ({})", ident(&name.name), values.join(", "))
            }
            PartitionBound::Default(_) => format!("partition {} default", ident(&name.name)),
        },
        TableItemKind::Policy(p) => {
            let mut out = format!("policy {}", ident(&p.name.name));
            if let Some(command) = &p.command {
                out.push_str(&format!(" for {}", command.name.to_ascii_lowercase()));
            }
            out.push_str(&format!(" to {}", ident(&p.role.name)));
            if let Some(using) = &p.using {
                out.push_str(&format!(" using ({})", using.text));
            }
            if let Some(check) = &p.with_check {
                out.push_str(&format!(" with check ({})", check.text));
            }
            out
        }
        TableItemKind::Grant { privileges, role } => {
            let privileges: Vec<String> = privileges.iter().map(|p| p.name.to_ascii_lowercase()).collect();
            format!("grant {} to {}", privileges.join(", "), ident(&role.name))
        }
        TableItemKind::Allow(code) => format!("allow {}", code.name),
        TableItemKind::OnErase(action) => format!("on erase {}", action.keyword()),
    }
}

fn idents(list: &[Ident]) -> String {
    list.iter().map(|i| ident(&i.name)).collect::<Vec<_>>().join(", ")
}

fn is_plain(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

fn ident(name: &str) -> String {
    if is_plain(name) {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// Column names that would read as a table item keyword are quoted.
fn column_name(name: &str) -> String {
    const KEYWORDS: &[&str] = &[
        "use",
        "primary",
        "unique",
        "index",
        "check",
        "foreign",
        "partition",
        "policy",
        "grant",
    ];
    if KEYWORDS.contains(&name.to_ascii_lowercase().as_str()) {
        format!("\"{name}\"")
    } else {
        ident(name)
    }
}

fn enum_value(value: &str) -> String {
    if is_plain(value) {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', "''"))
    }
}

/// An interval as written, unit in lower case: `90 days`.
fn interval(i: &Interval) -> String {
    format!("{} {}", i.count, i.unit.name.to_ascii_lowercase())
}
