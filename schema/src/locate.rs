//! From an object the IR names back to where the schema text declares it,
//! so findings made after lowering (a change that cannot be planned, a hub
//! without its lock) still point at a line a reviewer can fix.

use crate::ast::{HubItem, Item, SchemaFile, TableItemKind, TableOptionKind};
use crate::span::Span;
use crate::validate::DEFAULT_SCHEMA;

/// A declaration in the schema, named as the IR names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchor {
    Hub {
        hub: String,
    },
    Table {
        hub: String,
        schema: String,
        table: String,
    },
    /// A column; its `@renamed_from` hint when it has one, since that is what a rename error is about.
    Column {
        hub: String,
        schema: String,
        table: String,
        column: String,
    },
    Enum {
        hub: String,
        schema: String,
        name: String,
    },
}

impl Anchor {
    pub fn hub(&self) -> &str {
        match self {
            Anchor::Hub { hub } | Anchor::Table { hub, .. } | Anchor::Column { hub, .. } | Anchor::Enum { hub, .. } => hub,
        }
    }
}

/// The span that declares `anchor`, or the nearest enclosing one found (a
/// column from a mixin points at its table). `None` when the hub is gone.
pub fn locate(ast: &SchemaFile, anchor: &Anchor) -> Option<Span> {
    let hub = ast.items.iter().find_map(|item| match item {
        Item::Hub(h) if h.name.name == anchor.hub() => Some(h),
        _ => None,
    })?;
    let in_schema = |schema: &str| -> Vec<&HubItem> {
        if schema == DEFAULT_SCHEMA {
            return hub.items.iter().collect();
        }
        hub.items
            .iter()
            .filter_map(|item| match item {
                HubItem::Schema(block) if block.name.name == schema => Some(block.items.iter()),
                _ => None,
            })
            .flatten()
            .collect()
    };
    let table = |schema: &str, name: &str| {
        in_schema(schema).into_iter().find_map(|item| match item {
            HubItem::Table(t) if t.name.name == name => Some(t),
            _ => None,
        })
    };
    let found = match anchor {
        Anchor::Hub { .. } => None,
        Anchor::Table { schema, table: name, .. } => table(schema, name).map(|t| {
            t.options
                .iter()
                .find(|o| o.kind == TableOptionKind::RenamedFrom)
                .map_or(t.name.span, |o| o.span)
        }),
        Anchor::Column {
            schema,
            table: name,
            column,
            ..
        } => table(schema, name).map(|t| {
            t.items
                .iter()
                .find_map(|item| match &item.kind {
                    TableItemKind::Column(c) if c.name.name == *column => Some(
                        c.attrs
                            .iter()
                            .find(|a| a.name.name == "renamed_from")
                            .map_or(c.name.span, |a| a.span),
                    ),
                    _ => None,
                })
                .unwrap_or(t.name.span)
        }),
        Anchor::Enum { schema, name, .. } => in_schema(schema).into_iter().find_map(|item| match item {
            HubItem::Enum(e) if e.name.name == *name => Some(e.name.span),
            _ => None,
        }),
    };
    Some(found.unwrap_or(hub.name.span))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = "hub app {\n  enum mood {\n    calm\n  }\n\n  table notes renamed_from(memos) {\n    id    uuid primary key\n    body  text @renamed_from(text)\n  }\n\n  schema ops {\n    table jobs {\n      id  uuid primary key\n    }\n  }\n}\n";

    fn at(anchor: Anchor) -> &'static str {
        let (ast, diagnostics) = crate::parse(SCHEMA);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let span = locate(&ast, &anchor).expect("found");
        &SCHEMA[span.start as usize..span.end as usize]
    }

    #[test]
    fn anchors_point_at_their_declarations() {
        let hub = || "app".to_string();
        let public = || DEFAULT_SCHEMA.to_string();
        assert_eq!(at(Anchor::Hub { hub: hub() }), "app");
        assert_eq!(
            at(Anchor::Enum {
                hub: hub(),
                schema: public(),
                name: "mood".into()
            }),
            "mood"
        );
        assert_eq!(
            at(Anchor::Table {
                hub: hub(),
                schema: public(),
                table: "notes".into()
            }),
            "renamed_from(memos)"
        );
        assert_eq!(
            at(Anchor::Column {
                hub: hub(),
                schema: public(),
                table: "notes".into(),
                column: "body".into()
            }),
            "@renamed_from(text)"
        );
        assert_eq!(
            at(Anchor::Column {
                hub: hub(),
                schema: public(),
                table: "notes".into(),
                column: "id".into()
            }),
            "id"
        );
        assert_eq!(
            at(Anchor::Table {
                hub: hub(),
                schema: "ops".into(),
                table: "jobs".into()
            }),
            "jobs"
        );
        // A column the text does not declare (a mixin's) falls back to its table.
        assert_eq!(
            at(Anchor::Column {
                hub: hub(),
                schema: "ops".into(),
                table: "jobs".into(),
                column: "created_at".into()
            }),
            "jobs"
        );
        assert_eq!(locate(&crate::parse(SCHEMA).0, &Anchor::Hub { hub: "gone".into() }), None);
    }
}
