//! Validation: builds symbol tables over the AST, expands mixins, then runs
//! one pass per rule group. Every pass reports all it finds; none stops early.

mod access;
mod audit;
pub(crate) mod citus;
mod columns;
mod encryption;
mod erasure;
mod keys;
mod names;
pub(crate) mod references;
pub(crate) mod settings;
mod tenancy;
mod traits;
mod upkeep;

use crate::ast::*;
use crate::diagnostics::{messages, Diagnostic};
use crate::types::{self, ColumnType};

pub(crate) struct Ctx<'a> {
    pub hubs: Vec<HubCtx<'a>>,
    pub global_mixins: Vec<&'a Mixin>,
    /// Top-level settings: every hub's unless the hub sets its own.
    pub settings: Vec<&'a Setting>,
}

pub(crate) struct HubCtx<'a> {
    pub ast: &'a Hub,
    pub schema_blocks: Vec<&'a SchemaBlock>,
    pub tables: Vec<TableCtx<'a>>,
    /// (schema, table) → index into `tables`, so lookups stay O(1) in big hubs.
    table_index: std::collections::HashMap<(&'a str, &'a str), usize>,
    pub enums: Vec<(&'a str, &'a EnumDef)>,
    pub roles: Vec<&'a RoleDef>,
    pub extensions: Vec<&'a Extension>,
    pub mixins: Vec<&'a Mixin>,
    pub acknowledged: Vec<&'a Acknowledge>,
    pub settings: Vec<&'a Setting>,
    /// `distributed by`: the first is the hub's; others are reported.
    pub distributed: Vec<&'a Distributed>,
    /// `schedule maintenance`: the first is the hub's; others are reported.
    pub schedules: Vec<&'a Schedule>,
}

pub(crate) struct TableCtx<'a> {
    pub schema: &'a str,
    pub ast: &'a Table,
    /// Columns in order, mixins expanded.
    pub columns: Vec<&'a Column>,
    /// Every item that is not a column or a `use`.
    pub items: Vec<&'a TableItem>,
}

pub const DEFAULT_SCHEMA: &str = "public";

/// Runs every pass over a built context, adding to `diagnostics` (in no particular order).
pub(crate) fn validate(ctx: &Ctx, diagnostics: &mut Vec<Diagnostic>) {
    names::check(ctx, diagnostics);
    columns::check(ctx, diagnostics);
    keys::check(ctx, diagnostics);
    references::check(ctx, diagnostics);
    traits::check(ctx, diagnostics);
    access::check(ctx, diagnostics);
    settings::check(ctx, diagnostics);
    upkeep::check(ctx, diagnostics);
    audit::check(ctx, diagnostics);
    encryption::check(ctx, diagnostics);
    erasure::check(ctx, diagnostics);
    tenancy::check(ctx, diagnostics);
    citus::check(ctx, diagnostics);
    tenancy::apply_allows(ctx, diagnostics);
}

pub(crate) fn build<'a>(file: &'a SchemaFile, diagnostics: &mut Vec<Diagnostic>) -> Ctx<'a> {
    let global_mixins: Vec<&Mixin> = file
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Mixin(m) => Some(m),
            _ => None,
        })
        .collect();
    let settings: Vec<&Setting> = file
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Setting(s) => Some(s),
            _ => None,
        })
        .collect();
    let mut hubs = Vec::new();
    for item in &file.items {
        let Item::Hub(hub) = item else { continue };
        let mut ctx = HubCtx {
            ast: hub,
            schema_blocks: Vec::new(),
            tables: Vec::new(),
            table_index: std::collections::HashMap::new(),
            enums: Vec::new(),
            roles: Vec::new(),
            extensions: Vec::new(),
            mixins: Vec::new(),
            acknowledged: Vec::new(),
            settings: Vec::new(),
            distributed: Vec::new(),
            schedules: Vec::new(),
        };
        // Mixins first, so a table may use one declared below it.
        collect_mixins(&hub.items, &mut ctx.mixins);
        for item in &hub.items {
            collect(item, DEFAULT_SCHEMA, &mut ctx, &global_mixins, diagnostics);
        }
        for (i, table) in ctx.tables.iter().enumerate() {
            // The first declaration wins; duplicates are reported by the names pass.
            ctx.table_index.entry((table.schema, table.ast.name.name.as_str())).or_insert(i);
        }
        hubs.push(ctx);
    }
    Ctx {
        hubs,
        global_mixins,
        settings,
    }
}

fn collect_mixins<'a>(items: &'a [HubItem], out: &mut Vec<&'a Mixin>) {
    for item in items {
        match item {
            HubItem::Mixin(m) => out.push(m),
            HubItem::Schema(s) => collect_mixins(&s.items, out),
            _ => {}
        }
    }
}

fn collect<'a>(item: &'a HubItem, schema: &'a str, hub: &mut HubCtx<'a>, global: &[&'a Mixin], diagnostics: &mut Vec<Diagnostic>) {
    match item {
        HubItem::Table(table) => {
            let mut columns = Vec::new();
            let mut items = Vec::new();
            for item in &table.items {
                match &item.kind {
                    TableItemKind::Column(c) => columns.push(c),
                    TableItemKind::Use(name) => {
                        let found = hub.mixins.iter().chain(global).find(|m| m.name.name == name.name);
                        match found {
                            Some(mixin) => columns.extend(mixin.columns.iter()),
                            None => {
                                let candidates = hub.mixins.iter().chain(global).map(|m| m.name.name.as_str());
                                diagnostics.push(messages::unknown_mixin(name, candidates));
                            }
                        }
                    }
                    _ => items.push(item),
                }
            }
            hub.tables.push(TableCtx {
                schema,
                ast: table,
                columns,
                items,
            });
        }
        HubItem::Enum(e) => hub.enums.push((schema, e)),
        HubItem::Role(r) => hub.roles.push(r),
        HubItem::Extension(e) => hub.extensions.push(e),
        HubItem::Mixin(_) => {}
        HubItem::Acknowledge(a) => hub.acknowledged.push(a),
        HubItem::Setting(s) => hub.settings.push(s),
        HubItem::Distributed(d) => hub.distributed.push(d),
        HubItem::Schedule(s) => hub.schedules.push(s),
        HubItem::Schema(block) => {
            hub.schema_blocks.push(block);
            for item in &block.items {
                collect(item, &block.name.name, hub, global, diagnostics);
            }
        }
    }
}

impl<'a> HubCtx<'a> {
    pub fn name(&self) -> &'a str {
        &self.ast.name.name
    }

    pub fn has_schema(&self, name: &str) -> bool {
        name == DEFAULT_SCHEMA || self.schema_blocks.iter().any(|s| s.name.name == name)
    }

    pub fn table(&self, schema: &str, name: &str) -> Option<&TableCtx<'a>> {
        self.table_index.get(&(schema, name)).map(|&i| &self.tables[i])
    }

    /// A table named without a schema: the same schema first, then `public`.
    pub fn table_from(&self, schema: &str, name: &str) -> Option<&TableCtx<'a>> {
        self.table(schema, name).or_else(|| self.table(DEFAULT_SCHEMA, name))
    }

    pub fn enum_def(&self, schema: &str, name: &str) -> Option<(&'a str, &'a EnumDef)> {
        let by_schema = |s: &str| self.enums.iter().find(|(es, e)| *es == s && e.name.name == name).copied();
        by_schema(schema)
            .or_else(|| by_schema(DEFAULT_SCHEMA))
            .or_else(|| self.enums.iter().find(|(_, e)| e.name.name == name).copied())
    }

    /// The resolved type of a written type, or `None` when it names nothing.
    pub fn resolve_type(&self, schema: &str, ty: &TypeRef) -> Option<ColumnType> {
        let args: Vec<u32> = ty.args.iter().map(|(v, _)| *v).collect();
        let base = match types::resolve_builtin(&ty.name.name, &args) {
            Some(t) => t,
            None if args.is_empty() => ColumnType::Enum(self.enum_def(schema, &ty.name.name)?.1.name.name.clone()),
            None => return None,
        };
        Some(if ty.array { ColumnType::Array(Box::new(base)) } else { base })
    }

    pub fn role(&self, name: &str) -> Option<&'a RoleDef> {
        self.roles.iter().copied().find(|r| r.name.name == name)
    }
}

impl<'a> TableCtx<'a> {
    pub fn name(&self) -> &'a str {
        &self.ast.name.name
    }

    pub fn column(&self, name: &str) -> Option<&'a Column> {
        self.columns.iter().copied().find(|c| c.name.name == name)
    }

    pub fn column_names(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.columns.iter().map(|c| c.name.name.as_str())
    }

    pub fn option(&self, kind: TableOptionKind) -> Option<&'a TableOption> {
        self.ast.options.iter().find(|o| o.kind == kind)
    }

    /// The column an option names, or its conventional default
    /// (`tenant_scoped` → `tenant_id`, `soft_delete` → `deleted_at`, `versioned` → `version`).
    pub fn option_column(&self, kind: TableOptionKind) -> Option<(&'a str, crate::span::Span)> {
        let option = self.option(kind)?;
        let default = match kind {
            TableOptionKind::TenantScoped | TableOptionKind::TenantOrGlobal => "tenant_id",
            TableOptionKind::OwnerScoped => "user_id",
            TableOptionKind::ScopedThrough => return option.arg.as_ref().map(|a| (a.name.as_str(), a.span)),
            TableOptionKind::SoftDelete => "deleted_at",
            TableOptionKind::Versioned => "version",
            TableOptionKind::RenamedFrom => return option.arg.as_ref().map(|a| (a.name.as_str(), a.span)),
            TableOptionKind::Shared | TableOptionKind::Audited | TableOptionKind::AuditLog | TableOptionKind::DataSubject => return None,
        };
        Some(match &option.arg {
            Some(arg) => (arg.name.as_str(), arg.span),
            None => (default, option.span),
        })
    }

    /// The tenant option (`tenant_scoped` or `tenant_or_global`) and its column.
    pub fn tenant_option(&self) -> Option<(TableOptionKind, (&'a str, crate::span::Span))> {
        [TableOptionKind::TenantScoped, TableOptionKind::TenantOrGlobal]
            .into_iter()
            .find_map(|kind| self.option_column(kind).map(|c| (kind, c)))
    }

    /// Primary-key column names, from `primary key` on columns or a `primary key (...)` line.
    pub fn primary_key(&self) -> Vec<&'a str> {
        for item in &self.items {
            if let TableItemKind::PrimaryKey(columns) = &item.kind {
                return columns.iter().map(|c| c.name.as_str()).collect();
            }
        }
        self.columns
            .iter()
            .filter(|c| c.has(|m| matches!(m, ModifierKind::PrimaryKey)))
            .map(|c| c.name.name.as_str())
            .collect()
    }

    /// Column sets that are unique: the primary key, unique constraints, unique indexes without a predicate.
    pub fn unique_sets(&self) -> Vec<Vec<&'a str>> {
        let mut sets = vec![self.primary_key()];
        for column in &self.columns {
            if column.has(|m| matches!(m, ModifierKind::Unique)) {
                sets.push(vec![column.name.name.as_str()]);
            }
        }
        for item in &self.items {
            match &item.kind {
                TableItemKind::Unique { columns, .. } => sets.push(columns.iter().map(|c| c.name.as_str()).collect()),
                TableItemKind::Index(index) if index.unique && index.predicate.is_none() => {
                    sets.push(index.columns.iter().map(|c| c.name.name.as_str()).collect())
                }
                _ => {}
            }
        }
        sets.retain(|s| !s.is_empty());
        sets
    }
}

impl Column {
    pub fn has(&self, predicate: impl Fn(&ModifierKind) -> bool) -> bool {
        self.modifiers.iter().any(|m| predicate(&m.kind))
    }

    /// The `references ...` written on the column, if any.
    pub fn reference(&self) -> Option<&Reference> {
        self.modifiers.iter().find_map(|m| match &m.kind {
            ModifierKind::References(r) => Some(r),
            _ => None,
        })
    }

    pub fn is_nullable(&self) -> bool {
        !self.has(|m| matches!(m, ModifierKind::NotNull | ModifierKind::PrimaryKey))
    }

    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.name.name == name)
    }
}

impl<'a> TableCtx<'a> {
    /// Primary-key columns are NOT NULL whether or not they say so.
    pub fn is_nullable(&self, column: &Column) -> bool {
        column.is_nullable() && !self.primary_key().contains(&column.name.name.as_str())
    }
}
