//! IR → Rust: one crate per hub (models, enums, repositories, embedded
//! migrations) and one shared crate of typed IDs. Tokens are built with
//! `quote!` and printed with prettyplease.

mod models;
mod names;
mod repo;
mod roundtrip;
mod types;

use hubgen_schema::ir;
use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};
use quote::quote;
use std::collections::BTreeMap;

pub use names::{pascal, singular};

/// Typed ID type names: (hub, schema, table) → `UserId`, for every table
/// whose primary key is one uuid column. Shared by every hub, so a
/// reference from another hub uses the same type.
#[derive(Debug, Default)]
pub struct Ids {
    names: BTreeMap<(String, String, String), String>,
    /// The tenant table's ID, when every tenant column that declares a
    /// reference refers to the same table: `TenantTx` takes only it.
    tenant: Option<String>,
    /// The same for owner columns: the acting user's ID, what `ActorTx` and
    /// `TenantTx::act_as` take.
    actor: Option<String>,
}

impl Ids {
    pub fn of(schema: &ir::Schema) -> Ids {
        let mut candidates: Vec<((String, String, String), String)> = Vec::new();
        for hub in &schema.hubs {
            for table in &hub.tables {
                let Some(pk) = &table.primary_key else { continue };
                let single_uuid = pk.columns.len() == 1
                    && table
                        .column(&pk.columns[0])
                        .is_some_and(|c| c.ty == hubgen_schema::types::ColumnType::Uuid);
                if single_uuid {
                    let name = format!("{}Id", pascal(&singular(&table.name)));
                    candidates.push(((hub.name.clone(), table.schema.clone(), table.name.clone()), name));
                }
            }
        }
        // Two tables with the same singular name get their hub's name in front.
        let mut uses: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, name) in &candidates {
            *uses.entry(name).or_default() += 1;
        }
        let mut names = BTreeMap::new();
        for (key, name) in &candidates {
            let clashes = uses[name.as_str()] > 1;
            let name = if clashes {
                format!(
                    "{}{}{name}",
                    pascal(&key.0),
                    if key.1 == "public" { String::new() } else { pascal(&key.1) }
                )
            } else {
                name.clone()
            };
            names.insert(key.clone(), name);
        }
        let ids = Ids {
            names,
            tenant: None,
            actor: None,
        };
        // The one table the given columns refer to, if they all refer to the same.
        let the_one = |column: fn(&ir::Table) -> Option<&str>| {
            let mut referenced: Vec<&str> = schema
                .hubs
                .iter()
                .flat_map(|hub| hub.tables.iter().map(move |t| (hub, t)))
                .filter_map(|(hub, t)| models::referenced_id(schema, hub, t, column(t)?, &ids))
                .collect();
            referenced.sort_unstable();
            referenced.dedup();
            match referenced.as_slice() {
                [one] => Some(one.to_string()),
                _ => None,
            }
        };
        let (tenant, actor) = (the_one(|t| t.tenant_column.as_deref()), the_one(|t| t.owner_column.as_deref()));
        Ids { tenant, actor, ..ids }
    }

    pub fn tenant(&self) -> Option<&str> {
        self.tenant.as_deref()
    }

    pub fn get(&self, hub: &str, schema: &str, table: &str) -> Option<&str> {
        self.names
            .get(&(hub.to_string(), schema.to_string(), table.to_string()))
            .map(String::as_str)
    }

    fn all(&self) -> impl Iterator<Item = (&(String, String, String), &String)> {
        self.names.iter()
    }
}

/// Whether the typed IDs live in a crate of their own, shared by the hubs
/// (several hubs, so a cross-hub reference has one type), or in the hub
/// crate's `ids` module (a schema of one hub needs nothing else).
pub fn shares_ids(schema: &ir::Schema) -> bool {
    schema.hubs.len() > 1
}

/// The typed-ID crate's `lib.rs`.
pub fn ids_crate(ids: &Ids) -> TokenStream {
    let items = ids_items(ids);
    quote! {
        //! Typed IDs shared by every hub crate: a `TenantId` cannot be passed where a `UserId` is wanted.
        #items
    }
}

/// The typed IDs of every hub of `schema`: what `hub_ids!` expands to.
pub fn schema_ids(schema: &ir::Schema) -> TokenStream {
    ids_items(&Ids::of(schema))
}

/// One alias of the runtime's `Id` per typed ID, and its marker in `kind`.
fn ids_items(ids: &Ids) -> TokenStream {
    let mut aliases = Vec::new();
    let mut kinds = Vec::new();
    for ((hub, schema, table), name) in ids.all() {
        let ident = names::ident(name);
        let kind = names::ident(name.strip_suffix("Id").unwrap_or(name));
        let doc = format!(" Primary key of `{hub}.{schema}.{table}`.");
        aliases.push(quote! {
            #[doc = #doc]
            pub type #ident = ::hubgen_runtime::Id<kind::#kind>;
        });
        let tenant = (ids.tenant() == Some(name.as_str())).then(|| {
            quote! {
                /// The tenant: its ID begins a `TenantTx`.
                impl ::hubgen_runtime::TenantIdKind for #kind {}
            }
        });
        let actor = (ids.actor.as_deref() == Some(name.as_str())).then(|| {
            quote! {
                /// The acting user: its ID begins an `ActorTx`.
                impl ::hubgen_runtime::ActorIdKind for #kind {}
            }
        });
        kinds.push(quote! {
            pub enum #kind {}
            impl ::hubgen_runtime::IdKind for #kind {
                const NAME: &'static str = #name;
            }
            #tenant
            #actor
        });
    }
    quote! {
        #(#aliases)*

        /// The marker types that tell the IDs apart (`UserId` is `Id<kind::User>`).
        pub mod kind {
            #(#kinds)*
        }
    }
}

/// One hub crate's `lib.rs`: the crate docs, then [`hub_items`].
pub fn hub_crate(schema: &ir::Schema, hub: &ir::Hub, migrations: &[(String, String)]) -> TokenStream {
    let docs = hub.docs.clone().unwrap_or_else(|| format!("The `{}` hub.", hub.name));
    let header = format!(
        "{docs}\n\nDatabase `{}`. Generated by hubgen: models, typed repositories and the hub's migrations.\n\nThe repositories' methods are the `hubgen_runtime::table` traits': `use hub_{}::prelude::*;` brings them into scope.",
        hub.database, hub.name
    );
    let header = header.lines().map(|l| if l.is_empty() { String::new() } else { format!(" {l}") });
    let items = hub_items(schema, hub, migrations);
    quote! {
        #(#![doc = #header])*
        #items
    }
}

/// A hub crate's items: what `hub!` expands to. `migrations` are the hub's
/// migration files (name, SQL) in order; they are embedded.
pub fn hub_items(schema: &ir::Schema, hub: &ir::Hub, migrations: &[(String, String)]) -> TokenStream {
    hub_items_with_ids(schema, hub, migrations, None)
}

/// [`hub_items`], with the shared typed IDs taken from `ids_path` (where a
/// `hub_ids!` expansion lives) instead of the `hub-ids` crate.
pub fn hub_items_with_ids(
    schema: &ir::Schema,
    hub: &ir::Hub,
    migrations: &[(String, String)],
    ids_path: Option<&syn::Path>,
) -> TokenStream {
    let ids = Ids::of(schema);
    // Tenant schemas' upgrades are embedded apart (`tenant/…`).
    let (tenant_upgrades, migrations): (Vec<_>, Vec<_>) = migrations.iter().partition(|(file, _)| file.contains('/'));
    let tenants = tenant_schemas(hub, &migrations, &tenant_upgrades);
    let migration_entries = migrations.iter().map(|(file, sql)| {
        let (version, description) = migration_version(file);
        let sql = raw_string(sql);
        quote!((#version, #description, #sql))
    });
    let enums = hub.enums.iter().map(models::enum_def);
    let tables = hub.tables.iter().map(|table| {
        let module = names::field(&table.name);
        let body = models::table_items(schema, hub, table, &ids);
        let repo = repo::repository(schema, hub, table, &ids);
        let doc = format!(" Table `{}.{}`.", table.schema, table.name);
        quote! {
            #[doc = #doc]
            pub mod #module {
                #body
                #repo
            }
        }
    });
    let reexports = hub.tables.iter().map(|table| {
        let module = names::field(&table.name);
        let items = table_type_names(table).map(|n| names::ident(&n));
        quote!(pub use #module::{#(#items),*};)
    });
    let ids_module = if let Some(path) = ids_path {
        quote! {
            /// The typed IDs every hub of the schema shares.
            pub use #path as ids;
        }
    } else if shares_ids(schema) {
        quote! {
            /// The typed IDs every hub shares (`ids::TenantId`, `ids::UserId`, ...).
            pub use ::hub_ids as ids;
        }
    } else {
        let items = ids_items(&ids);
        quote! {
            /// Typed IDs: a key of one table cannot be passed where another's is wanted.
            pub mod ids {
                #items
            }
        }
    };
    // The runtime's names, for callers, unless a table's types take the name (a `violations` table's `Violation`).
    let taken: Vec<String> = hub
        .tables
        .iter()
        .flat_map(table_type_names)
        .chain(hub.enums.iter().map(|e| pascal(&e.name)))
        .collect();
    let runtime = [
        "ActorTx",
        "Condition",
        "Cursor",
        "Direction",
        "Error",
        "Page",
        "PageRequest",
        "PlatformTx",
        "RowStream",
        "StreamExt",
        "TenantTx",
        "TryStreamExt",
        "Violation",
        // The repository traits (`use hub_x::prelude::*`).
        "prelude",
        // The crates a service needs, at the versions these derives were built with.
        "chrono",
        "rust_decimal",
        "schemars",
        "serde",
        "serde_json",
        "sqlx",
        "uuid",
    ]
    .into_iter()
    .filter(|name| !taken.iter().any(|t| t == name))
    .map(names::ident);
    let platform = hub.platform_role().map(|role| {
        let name = &role.name;
        quote! {
            /// The role that writes rows without a tenant or owner: `PlatformTx::begin(&pool, PLATFORM_ROLE)`.
            pub const PLATFORM_ROLE: &str = #name;
        }
    });
    let roles = (!hub.roles.is_empty()).then(|| {
        let consts = hub.roles.iter().map(|role| {
            let name = &role.name;
            let konst = names::ident(&name.to_uppercase());
            let doc = role
                .docs
                .as_deref()
                .map(|d| format!(" {d}"))
                .unwrap_or_else(|| format!(" The `{name}` role."));
            quote! {
                #[doc = #doc]
                pub const #konst: &str = #name;
            }
        });
        quote! {
            /// The roles this hub declares, for `PlatformTx::begin`.
            pub mod roles {
                #(#consts)*
            }
        }
    });
    let maintain = lifecycle(hub);
    let encryption = encryption(hub);
    let erasure = erasure(schema, hub, &ids);
    quote! {
        pub use ::hubgen_runtime::{#(#runtime),*};
        #ids_module
        #platform
        #roles

        /// This hub's migrations, in order: (version, description, SQL).
        pub const MIGRATIONS: &[::hubgen_runtime::EmbeddedMigration] = &[#(#migration_entries),*];

        /// Applies this hub's migrations that have not run yet (sqlx's history table and checksums).
        pub async fn migrate(pool: &::sqlx::PgPool) -> Result<(), ::sqlx::migrate::MigrateError> {
            ::hubgen_runtime::migrate(pool, MIGRATIONS).await
        }

        #maintain
        #encryption
        #erasure
        #tenants
        #(#enums)*
        #(#tables)*
        #(#reexports)*
    }
}

/// A hub with a per-tenant schema: its template (baseline and upgrades),
/// `provision_tenant` and `migrate_tenants`.
fn tenant_schemas(hub: &ir::Hub, migrations: &[&(String, String)], upgrades: &[&(String, String)]) -> Option<TokenStream> {
    let template = hub.tenant_template.as_ref()?;
    let version = migrations.iter().map(|(file, _)| migration_version(file).0).max().unwrap_or(1);
    let baseline = raw_string(&crate::tenant::baseline(hub, u32::try_from(version).unwrap_or(1))?);
    let naming = &template.naming;
    let upgrades = upgrades.iter().map(|(file, sql)| {
        let (version, _) = migration_version(file.rsplit('/').next().unwrap_or_default());
        let sql = raw_string(sql);
        quote!((#version, #sql))
    });
    let doc = format!(
        " The per-tenant schema: `{}` is the template, each tenant's copy is named `{naming}`.",
        template.schema
    );
    let schema = &template.schema;
    Some(quote! {
        /// The per-tenant template's schema: where its tables resolve on a connection that
        /// has entered no tenant's schema (`hubgen_runtime::tenants::enter(conn, TEMPLATE_SCHEMA)`).
        pub const TEMPLATE_SCHEMA: &str = #schema;

        #[doc = #doc]
        pub const TENANT_TEMPLATE: ::hubgen_runtime::tenants::Template<'static> = ::hubgen_runtime::tenants::Template {
            naming: #naming,
            version: #version,
            baseline: #baseline,
            upgrades: &[#(#upgrades),*],
        };

        /// Provisions `tenant`'s schema at the template's version (or returns it, if it exists).
        pub async fn provision_tenant(
            conn: &mut ::sqlx::PgConnection,
            tenant: &str,
        ) -> Result<::hubgen_runtime::tenants::TenantSchema, ::hubgen_runtime::tenants::Error> {
            ::hubgen_runtime::tenants::provision(conn, &TENANT_TEMPLATE, tenant).await
        }

        /// Begins `tenant`'s transaction in its own schema (provisioned by
        /// [`provision_tenant`] with the tenant's id), row-level security scoped to it.
        pub async fn begin_tenant(
            pool: &::sqlx::PgPool,
            tenant: impl ::hubgen_runtime::TenantKey,
        ) -> Result<::hubgen_runtime::TenantTx<'static>, ::hubgen_runtime::Error> {
            let tx = ::hubgen_runtime::TenantTx::begin(pool, tenant).await?;
            let schema = ::hubgen_runtime::tenants::schema_of(TENANT_TEMPLATE.naming, tx.tenant());
            tx.in_schema(&schema).await
        }

        /// Brings every tenant schema to the template's version; resumable.
        pub async fn migrate_tenants(
            conn: &mut ::sqlx::PgConnection,
        ) -> Result<::hubgen_runtime::tenants::Report, ::hubgen_runtime::tenants::Error> {
            ::hubgen_runtime::tenants::migrate(conn, &TENANT_TEMPLATE).await
        }
    })
}

/// `maintain` and the hub's row retention, for hubs with partition upkeep or `retain`.
fn lifecycle(hub: &ir::Hub) -> Option<TokenStream> {
    let upkeep = hub
        .tables
        .iter()
        .any(|t| t.partitioning.as_ref().is_some_and(|p| p.upkeep.is_some()));
    let retention = crate::sql::upkeep::row_retention(hub);
    if !upkeep && retention.is_empty() {
        return None;
    }
    let rows = retention.iter().map(|(table, column, keep)| {
        quote! { ::hubgen_runtime::maintain::RowRetention { table: #table, column: #column, keep: #keep } }
    });
    Some(quote! {
        /// The tables whose old rows [`maintain`] deletes (`retain ... by`).
        pub const RETENTION: &[::hubgen_runtime::maintain::RowRetention<'static>] = &[#(#rows),*];

        /// One maintenance run at `now` (see `hubgen_runtime::maintain`):
        /// partitions made ahead, those past retention archived into `sink`
        /// and dropped, old rows deleted. Resumable: rerun after any failure.
        /// Connect as a role that bypasses row-level security.
        pub async fn maintain(
            conn: &mut ::sqlx::PgConnection,
            now: ::hubgen_runtime::chrono::DateTime<::hubgen_runtime::chrono::Utc>,
            sink: &dyn ::hubgen_runtime::maintain::ArchiveSink,
        ) -> Result<::hubgen_runtime::maintain::Report, ::hubgen_runtime::maintain::Error> {
            ::hubgen_runtime::maintain::run(conn, &::hubgen_runtime::maintain::Options::new(now, RETENTION), sink).await
        }
    })
}

/// `erase_subject`, in every hub of a schema with a `data_subject`.
fn erasure(schema: &ir::Schema, hub: &ir::Hub, ids: &Ids) -> Option<TokenStream> {
    let (subject_hub, subject) = schema.data_subject()?;
    let key = subject.primary_key.as_ref()?.columns.first()?;
    let key_type = subject.column(key)?.ty.clone();
    let id = match ids.get(&subject_hub.name, &subject.schema, &subject.name) {
        Some(name) => {
            let name = names::ident(name);
            quote!(ids::#name)
        }
        None => types::rust_type(&key_type),
    };
    let label = format!("{}.{}", subject_hub.name, subject.name);
    let Some(function) = crate::sql::erasure::function(hub) else {
        let doc =
            format!(" Erases one data subject (`{label}`) from this hub: nothing here holds a subject's data, so it changes nothing.");
        return Some(quote! {
            #[doc = #doc]
            pub async fn erase_subject(
                _conn: &mut ::sqlx::PgConnection,
                _subject: #id,
            ) -> Result<::hubgen_runtime::erasure::Report, ::hubgen_runtime::Error> {
                Ok(::hubgen_runtime::erasure::Report::default())
            }
        });
    };
    let doc = format!(
        " Erases one data subject (`{label}`) from this hub, as the schema's `on erase` rules say \
         (`hubgen erase-plan` prints the steps), in one statement: deleted rows, anonymized values, \
         per table. Idempotent: erasing again changes nothing. Runs `{}`: connect as a member of `{}`.",
        function.name.label(),
        function.owner
    );
    let sql = format!("SELECT step_table, step_action, step_rows FROM {}($1)", function.name.sql());
    Some(quote! {
        #[doc = #doc]
        pub async fn erase_subject(
            conn: &mut ::sqlx::PgConnection,
            subject: #id,
        ) -> Result<::hubgen_runtime::erasure::Report, ::hubgen_runtime::Error> {
            ::hubgen_runtime::erasure::erase(conn, #sql, subject).await
        }
    })
}

/// `reencrypt`, for hubs with `@encrypted` columns.
fn encryption(hub: &ir::Hub) -> Option<TokenStream> {
    let tables: Vec<TokenStream> = hub
        .tables
        .iter()
        .filter_map(|t| {
            let columns: Vec<TokenStream> = t
                .columns
                .iter()
                .filter_map(|c| {
                    let searchable = c.encrypted.as_ref()?.searchable;
                    let name = crate::sql::quote::ident(&c.name);
                    Some(quote!((#name, #searchable)))
                })
                .collect();
            // As the repositories address it (a template's tables through `search_path`).
            let name = models::table_sql(hub, t);
            (!columns.is_empty()).then(|| quote!((#name, &[#(#columns),*])))
        })
        .collect();
    if tables.is_empty() {
        return None;
    }
    Some(quote! {
        /// The tables with `@encrypted` columns: (table, [(column, searchable)]), quoted.
        pub const ENCRYPTED: &[(&str, &[(&str, bool)])] = &[#(#tables),*];

        /// Seals every encrypted value again with the key ring's active key
        /// (after a rotation, or after a migration encrypted a column that
        /// held plaintext), `batch` rows a transaction; returns how many rows
        /// changed. Rerun it until it returns 0. Connect as a role that
        /// bypasses row-level security. Tables of a per-tenant template are
        /// found through `search_path`: run it once in each tenant's schema.
        pub async fn reencrypt(conn: &mut ::sqlx::PgConnection, batch: i64) -> Result<u64, ::hubgen_runtime::Error> {
            let mut total = 0;
            for (table, columns) in ENCRYPTED {
                total += ::hubgen_runtime::crypto::reencrypt(conn, table, columns, batch).await?;
            }
            Ok(total)
        }
    })
}

/// The types a table's module defines, re-exported at the crate root.
fn table_type_names(table: &ir::Table) -> impl Iterator<Item = String> {
    let base = pascal(&singular(&table.name));
    [
        base.clone(),
        format!("New{base}"),
        format!("{base}Patch"),
        format!("{base}Filter"),
        format!("{base}Sort"),
        format!("{base}Repo"),
    ]
    .into_iter()
}

/// A raw string literal, so embedded SQL stays readable in the generated file.
pub(super) fn raw_string(text: &str) -> proc_macro2::Literal {
    let mut hashes = String::from("#");
    while text.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    format!("r{hashes}\"{text}\"{hashes}")
        .parse()
        .unwrap_or_else(|_| proc_macro2::Literal::string(text))
}

/// The attributes of an item of the kinds hubgen generates.
pub fn item_attrs(item: &mut syn::Item) -> Option<&mut Vec<syn::Attribute>> {
    Some(match item {
        syn::Item::Const(i) => &mut i.attrs,
        syn::Item::Enum(i) => &mut i.attrs,
        syn::Item::Fn(i) => &mut i.attrs,
        syn::Item::Impl(i) => &mut i.attrs,
        syn::Item::Mod(i) => &mut i.attrs,
        syn::Item::Struct(i) => &mut i.attrs,
        syn::Item::Type(i) => &mut i.attrs,
        syn::Item::Use(i) => &mut i.attrs,
        _ => return None,
    })
}

/// The round-trip test file of a hub crate (`tests/roundtrip.rs`).
pub fn hub_tests(schema: &ir::Schema, hub: &ir::Hub) -> TokenStream {
    roundtrip::hub_tests(schema, hub)
}

/// `0001_initial.sql` / `V1__initial.sql` → (1, "initial")
fn migration_version(file: &str) -> (i64, String) {
    let stem = file.trim_end_matches(".sql").trim_end_matches(".up").trim_start_matches('V');
    let (version, description) = stem.split_once("__").or_else(|| stem.split_once('_')).unwrap_or((stem, ""));
    (version.parse().unwrap_or(0), description.replace('_', " "))
}

/// Prints tokens as a Rust file, after the `@generated` header. Each item
/// is marked `#[rustfmt::skip]`: prettyplease's layout is the canonical one,
/// and `cargo fmt` on the workspace must not fight it.
///
/// Items are parsed and printed one at a time (prettyplease prints a file
/// as its items one after the other, so the text is the same): a table's
/// module at a time stays in cache, where a whole crate's syntax tree did not.
pub fn render(tokens: TokenStream, header: &str) -> String {
    let mut out = String::from(header);
    for item in top_level_items(tokens) {
        match render_items(item) {
            Ok(text) => out.push_str(&text),
            // Not reachable for tokens this module builds; keep the output inspectable anyway.
            Err(e) => return format!("{header}compile_error!({:?});\n", e.to_string()),
        }
    }
    out
}

fn render_items(tokens: TokenStream) -> syn::Result<String> {
    syn::parse2::<syn::File>(tokens).map(|mut f| {
        for item in &mut f.items {
            if let Some(attrs) = item_attrs(item) {
                attrs.insert(0, syn::parse_quote!(#[rustfmt::skip]));
            }
        }
        prettyplease::unparse(&f)
    })
}

/// The file's top-level items, each with its attributes (the file's inner
/// attributes go with the first): an item ends at a `;` or at a braced
/// body not followed by one (`mod m { }`, `impl T { }`, `fn f() { }`).
fn top_level_items(tokens: TokenStream) -> Vec<TokenStream> {
    let mut items = Vec::new();
    let mut current: Vec<TokenTree> = Vec::new();
    let mut trees = tokens.into_iter().peekable();
    while let Some(tree) = trees.next() {
        let ends = match &tree {
            TokenTree::Punct(p) => p.as_char() == ';',
            TokenTree::Group(g) => {
                g.delimiter() == Delimiter::Brace && !matches!(trees.peek(), Some(TokenTree::Punct(p)) if p.as_char() == ';')
            }
            _ => false,
        };
        current.push(tree);
        if ends {
            items.push(current.drain(..).collect());
        }
    }
    if !current.is_empty() {
        items.push(current.into_iter().collect());
    }
    items
}

/// A crate of one's own has no `json-schema` feature to ask (and would be
/// warned of an unknown one): `hub!` derives `JsonSchema` unconditionally,
/// as the generated crates do with the feature on.
pub fn json_schema_always(tokens: TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .map(|tree| match tree {
            TokenTree::Group(group) => {
                let inner = match group.delimiter() {
                    Delimiter::Bracket => unconditional(&group.stream()).unwrap_or_else(|| json_schema_always(group.stream())),
                    _ => json_schema_always(group.stream()),
                };
                let mut rebuilt = Group::new(group.delimiter(), inner);
                rebuilt.set_span(group.span());
                TokenTree::Group(rebuilt)
            }
            other => other,
        })
        .collect()
}

/// `cfg_attr(feature = "json-schema", derive(..))` → `derive(..)`.
fn unconditional(attribute: &TokenStream) -> Option<TokenStream> {
    let mut trees = attribute.clone().into_iter();
    let (Some(TokenTree::Ident(name)), Some(TokenTree::Group(args)), None) = (trees.next(), trees.next(), trees.next()) else {
        return None;
    };
    if name != "cfg_attr" {
        return None;
    }
    let args: Vec<TokenTree> = args.stream().into_iter().collect();
    match &args[..] {
        [TokenTree::Ident(key), TokenTree::Punct(eq), TokenTree::Literal(value), TokenTree::Punct(comma), rest @ ..]
            if key == "feature" && eq.as_char() == '=' && value.to_string() == "\"json-schema\"" && comma.as_char() == ',' =>
        {
            Some(rest.iter().cloned().collect())
        }
        _ => None,
    }
}
