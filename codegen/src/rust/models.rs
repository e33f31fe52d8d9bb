//! Models: the row, insert, patch and filter structs of a table, schema
//! enums, `validate()` and redacting `Debug` for `@sensitive` and `@pii` fields.

use super::names::{field, ident, pascal, singular, variants};
use super::types::rust_type;
use super::Ids;
use hubgen_schema::ir;
use hubgen_schema::types::ColumnType;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// The transaction a table's repository takes, from its row scoping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Receiver {
    /// Not scoped: any connection.
    Conn,
    /// Tenant-scoped with a NOT NULL tenant: a `TenantTx` and nothing else.
    Tenant,
    /// Rows may have no tenant: a `TenantTx`, or the platform's `PlatformTx`.
    TenantOrPlatform,
    /// Owner-scoped: a transaction acting for a user, or the platform's.
    Acting,
}

impl Receiver {
    pub fn of(hub: &ir::Hub, table: &ir::Table) -> Receiver {
        let mut table = table;
        // `scoped_through` takes the parent's scope; validation rules out cycles.
        for _ in 0..=hub.tables.len() {
            let Some(parent) = table.through_key().and_then(|fk| hub.table(&fk.ref_schema, &fk.ref_table)) else {
                break;
            };
            table = parent;
        }
        match (&table.tenant_column, &table.owner_column) {
            (Some(tenant), _) if table.column(tenant).is_some_and(|c| c.nullable) => Receiver::TenantOrPlatform,
            (Some(_), _) => Receiver::Tenant,
            (None, Some(_)) => Receiver::Acting,
            (None, None) => Receiver::Conn,
        }
    }
}

/// How a table maps to Rust: names, and which columns play which part.
pub(super) struct Shape<'a> {
    pub hub: &'a ir::Hub,
    pub table: &'a ir::Table,
    pub row: Ident,
    pub new: Ident,
    pub patch: Ident,
    pub filter: Ident,
    pub sort: Ident,
    pub repo: Ident,
    /// The tenant column: filled from the transaction, never from user input.
    pub tenant: Option<&'a ir::Column>,
    pub receiver: Receiver,
    pub key: Vec<&'a ir::Column>,
    pub insertable: Vec<&'a ir::Column>,
    pub patchable: Vec<&'a ir::Column>,
    pub filters: Vec<&'a ir::Column>,
    /// Columns a list can be ordered by, besides the primary key: the
    /// filterable ones, except secrets and types without a useful order.
    pub sorts: Vec<&'a ir::Column>,
    /// Unique keys other than the primary key (no partial ones).
    pub uniques: Vec<Vec<&'a ir::Column>>,
    types: Vec<(String, TokenStream)>,
}

/// A table as queries name it: schema-qualified, except in a hub's
/// per-tenant template, whose tables resolve through `search_path` to the
/// tenant's schema the transaction entered (or to the template).
pub(super) fn table_sql(hub: &ir::Hub, table: &ir::Table) -> String {
    let template = hub.tenant_template.as_ref().is_some_and(|t| t.schema == table.schema);
    if template {
        crate::sql::quote::ident(&table.name)
    } else {
        crate::sql::quote::qualified(&table.schema, &table.name)
    }
}

impl<'a> Shape<'a> {
    /// The table as queries name it (see [`table_sql`]).
    pub fn table_sql(&self) -> String {
        table_sql(self.hub, self.table)
    }

    pub fn of(schema: &ir::Schema, hub: &'a ir::Hub, table: &'a ir::Table, ids: &Ids) -> Shape<'a> {
        let base = pascal(&singular(&table.name));
        let column = |name: &str| table.column(name);
        let key: Vec<&ir::Column> = table
            .primary_key
            .iter()
            .flat_map(|k| &k.columns)
            .filter_map(|c| column(c))
            .collect();
        let tenant = table.tenant_column.as_deref().and_then(column);
        let soft = table.soft_delete.as_ref().map(|s| s.column.as_str());
        let version = table.version_column.as_deref();
        let is = |c: &ir::Column, other: Option<&str>| other == Some(c.name.as_str());
        let insertable = table
            .columns
            .iter()
            .filter(|c| c.generated.is_none() && !is(c, table.tenant_column.as_deref()) && !is(c, soft) && !is(c, version))
            .collect();
        let patchable = table
            .columns
            .iter()
            .filter(|c| {
                c.generated.is_none()
                    && !c.touch
                    && !key.iter().any(|k| k.name == c.name)
                    && !is(c, table.tenant_column.as_deref())
                    && !is(c, soft)
                    && !is(c, version)
            })
            .collect();
        let mut filters: Vec<&ir::Column> = Vec::new();
        for index in &table.indexes {
            if let Some(first) = index.columns.first().and_then(|c| column(&c.name)) {
                // A `tenant_or_global` table filters on its tenant: `is_null()` asks for the global rows.
                // A blind index is looked up by `get_by_<column>`, not filtered.
                let usable = (!is(first, table.tenant_column.as_deref()) || table.tenant_global)
                    && first.blind_index_of.is_none()
                    && !super::types::via_text(&first.ty)
                    && !matches!(first.ty, ColumnType::Array(_) | ColumnType::Json | ColumnType::Jsonb);
                if usable && !filters.iter().any(|f| f.name == first.name) {
                    filters.push(first);
                }
            }
        }
        let sorts = filters
            .iter()
            .copied()
            .filter(|c| !c.sensitive && !matches!(c.ty, ColumnType::Bytea | ColumnType::Boolean) && !key.iter().any(|k| k.name == c.name))
            .collect();
        let mut uniques: Vec<Vec<&ir::Column>> = Vec::new();
        let key_names: Vec<&str> = key.iter().map(|c| c.name.as_str()).collect();
        let mut push_unique = |columns: Vec<&'a ir::Column>| {
            let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
            if names != key_names
                && !uniques
                    .iter()
                    .any(|u| u.iter().map(|c| c.name.as_str()).collect::<Vec<_>>() == names)
            {
                uniques.push(columns);
            }
        };
        for u in &table.uniques {
            push_unique(u.columns.iter().filter_map(|c| column(c)).collect());
        }
        for i in table.indexes.iter().filter(|i| i.unique && i.predicate.is_none()) {
            push_unique(i.columns.iter().filter_map(|c| column(&c.name)).collect());
        }
        let types = table
            .columns
            .iter()
            .map(|c| (c.name.clone(), column_type(schema, hub, table, c, ids)))
            .collect();
        Shape {
            hub,
            table,
            row: ident(&base),
            new: ident(&format!("New{base}")),
            patch: ident(&format!("{base}Patch")),
            filter: ident(&format!("{base}Filter")),
            sort: ident(&format!("{base}Sort")),
            repo: ident(&format!("{base}Repo")),
            tenant,
            receiver: Receiver::of(hub, table),
            key,
            insertable,
            patchable,
            filters,
            sorts,
            uniques,
            types,
        }
    }

    /// The Rust type of a non-null value of `column` (typed IDs where they apply).
    pub fn ty(&self, column: &ir::Column) -> TokenStream {
        match &column.encrypted {
            Some(e) if e.searchable => return quote!(::hubgen_runtime::crypto::SearchableSecret<String>),
            Some(_) => return quote!(::hubgen_runtime::crypto::Secret<String>),
            None => {}
        }
        self.types
            .iter()
            .find(|(n, _)| *n == column.name)
            .map(|(_, t)| t.clone())
            .unwrap_or_else(|| rust_type(&column.ty))
    }

    /// The key type: the single column's type, or a tuple.
    pub fn key_type(&self) -> TokenStream {
        match self.key.as_slice() {
            [one] => self.ty(one),
            many => {
                let types = many.iter().map(|c| self.ty(c));
                quote!((#(#types),*))
            }
        }
    }

    pub fn is_new_optional(&self, column: &ir::Column) -> bool {
        column.nullable || column.default.is_some()
    }

    /// Whether inserts can go by binary COPY: every column has a binary
    /// format sqlx writes (not arrays, not the types that travel as text),
    /// and the columns fit the 64-bit mask of defaulted ones.
    pub fn copies(&self) -> bool {
        self.insertable.len() <= 64
            && self
                .insertable
                .iter()
                .all(|c| !super::types::via_text(&c.ty) && !matches!(c.ty, ColumnType::Array(_)))
    }

    /// The sort enum's variants: the primary key first (the default), then
    /// each sortable column.
    pub fn sort_variants(&self) -> Vec<SortVariant<'a>> {
        let key = match self.key.as_slice() {
            [one] => one.name.clone(),
            _ => "primary_key".to_string(),
        };
        std::iter::once((key, None))
            .chain(self.sorts.iter().map(|c| (c.name.clone(), Some(*c))))
            .map(|(name, column)| SortVariant {
                variant: ident(&pascal(&name)),
                name,
                column,
            })
            .collect()
    }
}

/// One way a list can be ordered.
pub(super) struct SortVariant<'a> {
    pub variant: Ident,
    /// The column's name (`primary_key` for a composite key), as cursors name the order.
    pub name: String,
    /// The column, or `None` for the primary key.
    pub column: Option<&'a ir::Column>,
}

/// A column's Rust type: the typed ID of the table it identifies or refers to, else by SQL type.
fn column_type(schema: &ir::Schema, hub: &ir::Hub, table: &ir::Table, column: &ir::Column, ids: &Ids) -> TokenStream {
    let own = table
        .primary_key
        .as_ref()
        .filter(|pk| pk.columns == [column.name.clone()])
        .and_then(|_| ids.get(&hub.name, &table.schema, &table.name));
    // A tenant column that declares no reference (seed fidelity: no FK) is still the tenant's ID.
    let tenant = || {
        ids.tenant()
            .filter(|_| table.tenant_column.as_deref() == Some(column.name.as_str()))
    };
    match own.or_else(|| referenced_id(schema, hub, table, &column.name, ids)).or_else(tenant) {
        Some(name) => {
            let name = ident(name);
            quote!(ids::#name)
        }
        None => rust_type(&column.ty),
    }
}

/// Whether `ty` (as [`Shape::ty`] gives it) is a typed ID.
pub(super) fn is_typed_id(ty: &TokenStream) -> bool {
    ty.to_string().starts_with("ids ::")
}

/// The typed ID a single column refers to through a foreign key or a cross-hub reference to a primary key.
pub(super) fn referenced_id<'i>(schema: &ir::Schema, hub: &ir::Hub, table: &ir::Table, column: &str, ids: &'i Ids) -> Option<&'i str> {
    let is_single = |cols: &[String]| cols.len() == 1 && cols[0] == column;
    let pk_of = |t: Option<&ir::Table>, cols: &[String]| t.and_then(|t| t.primary_key.as_ref()).is_some_and(|pk| pk.columns == cols);
    table
        .foreign_keys
        .iter()
        .filter(|fk| is_single(&fk.columns) && pk_of(hub.table(&fk.ref_schema, &fk.ref_table), &fk.ref_columns))
        .find_map(|fk| ids.get(&hub.name, &fk.ref_schema, &fk.ref_table))
        .or_else(|| {
            table
                .cross_hub_refs
                .iter()
                .filter(|r| is_single(&r.columns) && pk_of(schema.hub(&r.hub).and_then(|h| h.table(&r.schema, &r.table)), &r.ref_columns))
                .find_map(|r| ids.get(&r.hub, &r.schema, &r.table))
        })
}

fn doc_attr(docs: &Option<String>) -> TokenStream {
    match docs {
        Some(d) => {
            let lines = d.lines().map(|l| format!(" {l}"));
            quote!(#(#[doc = #lines])*)
        }
        None => quote!(),
    }
}

/// A `#[serde(..)]` attribute for schemars' `JsonSchema` derive, which reads
/// them (serde's own derive is not used: see `struct_serialize`).
fn schema_attr(args: TokenStream) -> TokenStream {
    quote!(#[cfg_attr(feature = "json-schema", serde(#args))])
}

/// `rename` where the Rust field name differs from the column.
fn rename_attr(column: &ir::Column) -> TokenStream {
    let f = field(&column.name).to_string();
    if f != column.name {
        let name = &column.name;
        schema_attr(quote!(rename = #name))
    } else {
        quote!()
    }
}

pub(super) fn enum_def(e: &ir::Enum) -> TokenStream {
    let name = ident(&pascal(&e.name));
    let type_name = if e.schema == hubgen_schema::DEFAULT_SCHEMA {
        e.name.clone()
    } else {
        format!("{}.{}", e.schema, e.name)
    };
    let docs = doc_attr(&e.docs.clone().or_else(|| Some(format!("Enum `{}.{}`.", e.schema, e.name))));
    let variant_names = variants(&e.values);
    let variants = e.values.iter().zip(&variant_names).map(|(value, v)| {
        let v = ident(v);
        let rename = schema_attr(quote!(rename = #value));
        quote!(#rename #v)
    });
    let variants_serde = variants_serde(&name, &variant_names, &e.values);
    // sqlx's impls written out rather than derived: no proc macro runs on
    // every build of the crate, and sqlx's macros are not built at all.
    quote! {
        #docs
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        #[cfg_attr(feature = "json-schema", derive(::schemars::JsonSchema))]
        pub enum #name {
            #(#variants),*
        }

        impl #name {
            /// The value as PostgreSQL stores it.
            pub fn as_str(self) -> &'static str {
                <Self as ::hubgen_runtime::de::Variants>::VARIANTS[self as usize]
            }
        }

        #variants_serde

        impl ::std::str::FromStr for #name {
            type Err = ::hubgen_runtime::pg_enum::UnknownVariant;

            /// The variant of a value as PostgreSQL stores it.
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                ::hubgen_runtime::pg_enum::parse(value)
            }
        }

        impl ::sqlx::Type<::sqlx::Postgres> for #name {
            fn type_info() -> ::sqlx::postgres::PgTypeInfo {
                ::sqlx::postgres::PgTypeInfo::with_name(#type_name)
            }
        }

        impl ::sqlx::postgres::PgHasArrayType for #name {
            fn array_type_info() -> ::sqlx::postgres::PgTypeInfo {
                ::sqlx::postgres::PgTypeInfo::array_of(#type_name)
            }
        }

        impl ::sqlx::Encode<'_, ::sqlx::Postgres> for #name {
            #[inline]
            fn encode_by_ref(
                &self,
                buf: &mut ::sqlx::postgres::PgArgumentBuffer,
            ) -> Result<::sqlx::encode::IsNull, ::sqlx::error::BoxDynError> {
                ::hubgen_runtime::pg_enum::encode(self.as_str(), buf)
            }
        }

        impl<'r> ::sqlx::Decode<'r, ::sqlx::Postgres> for #name {
            #[inline]
            fn decode(value: ::sqlx::postgres::PgValueRef<'r>) -> Result<Self, ::sqlx::error::BoxDynError> {
                ::hubgen_runtime::pg_enum::decode(value)
            }
        }
    }
}

/// The `in ('a', 'b')` list of a CHECK on `column`, when it is one.
pub(super) fn check_list(table: &ir::Table, column: &str) -> Option<Vec<String>> {
    let prefix = format!("{column} in (");
    table.checks.iter().find_map(|c| {
        let list = c.expr.strip_prefix(&prefix)?.strip_suffix(')')?;
        list.split(", ")
            .map(|item| item.strip_prefix('\'').and_then(|i| i.strip_suffix('\'')).map(str::to_string))
            .collect()
    })
}

/// The `check::Checks::text` call for one field, if its column has rules
/// (an insert struct and a patch check alike: `Text` sees through `Option`s).
fn checks_for(table: &ir::Table, column: &ir::Column) -> Option<TokenStream> {
    let name = &column.name;
    let mut rules = Vec::new();
    // An encrypted value is checked as the plain value it holds.
    let ty = column.encrypted.as_ref().map_or(&column.ty, |e| &e.plaintext);
    if let ColumnType::Varchar(Some(n)) | ColumnType::Char(n) = ty {
        let n = *n as usize;
        rules.push(quote!(MaxChars(#n)));
    }
    if ty.is_textual() {
        if let Some(list) = check_list(table, name) {
            // A sensitive or personal value never appears in a message.
            let rule = if column.redacted() { quote!(OneOfRedacted) } else { quote!(OneOf) };
            rules.push(quote!(#rule(&[#(#list),*])));
        }
        if let Some(format) = &column.format {
            rules.push(quote!(Format(#format)));
        }
    }
    let f = field(name);
    (!rules.is_empty()).then(|| quote!(c.text(#name, &self.#f, &[#(#rules),*]);))
}

/// A `validate()` body running `checks`.
fn validate_body(checks: Vec<TokenStream>) -> TokenStream {
    if checks.is_empty() {
        return quote!(Ok(()));
    }
    quote! {
        use ::hubgen_runtime::check::Rule::*;
        let mut c = ::hubgen_runtime::check::Checks::default();
        #(#checks)*
        c.finish()
    }
}

/// `Deserialize` for a struct whose every field has a default, through
/// `hubgen_runtime::de`: per field its serialized name and the runtime call
/// that reads it (much less code than serde's derive).
fn fields_deserialize(name: &Ident, reads: Vec<(String, TokenStream)>) -> TokenStream {
    let fields_impl = fields_impl(name, &name.to_string(), reads);
    quote! {
        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                ::hubgen_runtime::de::deserialize(deserializer)
            }
        }

        #fields_impl
    }
}

/// `hubgen_runtime::de::Fields` for `name` (`label` in messages).
fn fields_impl(name: &Ident, label: &str, reads: Vec<(String, TokenStream)>) -> TokenStream {
    let names = reads.iter().map(|(n, _)| n);
    let arms: Vec<TokenStream> = reads
        .iter()
        .enumerate()
        .map(|(i, (_, read))| {
            let i = proc_macro2::Literal::usize_unsuffixed(i);
            quote!(#i => #read,)
        })
        .collect();
    let skip = quote!(::hubgen_runtime::de::skip(map));
    // Without fields every key is unknown; `index` never names one.
    let (index, body) = if arms.is_empty() {
        (quote!(_index), skip)
    } else {
        (quote!(index), quote!(match index { #(#arms)* _ => #skip }))
    };
    quote! {
        impl ::hubgen_runtime::de::Fields for #name {
            const NAME: &'static str = #label;
            const FIELDS: &'static [&'static str] = &[#(#names),*];

            #[inline]
            fn read<'de, A: ::serde::de::MapAccess<'de>>(&mut self, #index: usize, map: &mut A) -> Result<(), A::Error> {
                #body
            }
        }
    }
}

/// `Serialize` and `Deserialize` for an enum of unit `variants` written as
/// `names`, through `hubgen_runtime::de::Variants` (much less code than
/// serde's derives).
fn variants_serde(name: &Ident, variants: &[String], names: &[String]) -> TokenStream {
    let label = name.to_string();
    let variants = variants.iter().map(|v| {
        let v = ident(v);
        quote!(#name::#v)
    });
    quote! {
        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                ::hubgen_runtime::ser::variant::<Self, S>(*self as usize, serializer)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                ::hubgen_runtime::de::deserialize_variant(deserializer)
            }
        }

        impl ::hubgen_runtime::de::Variants for #name {
            const NAME: &'static str = #label;
            const VARIANTS: &'static [&'static str] = &[#(#names),*];

            fn variant(index: usize) -> Self {
                [#(#variants),*][index]
            }
        }
    }
}

/// A variant's name under serde's `rename_all = "snake_case"`.
fn serde_snake_case(variant: &str) -> String {
    let mut name = String::new();
    for (i, c) in variant.char_indices() {
        if c.is_uppercase() && i > 0 {
            name.push('_');
        }
        name.push(c.to_ascii_lowercase());
    }
    name
}

/// When serializing writes a field.
enum Written {
    Always,
    /// A patch's field: when it is `Some`.
    IfSet,
    /// A filter's condition: unless it matches every row.
    IfConditioned,
}

/// The fields a struct serializes: all but secrets, which never are.
fn serialized_fields<'a>(fields: impl Iterator<Item = (&'a ir::Column, Written)>) -> Vec<(Ident, String, Written)> {
    fields
        .filter(|(c, _)| !c.sensitive)
        .map(|(c, w)| (field(&c.name), c.name.clone(), w))
        .collect()
}

/// `Serialize` for a struct, as serde's derive writes it: `fields` are
/// (field, serialized name, when written), in order; secrets are not among
/// them. A field that may be skipped is counted out of the length and
/// skipped with `skip_field`, as the derive's `skip_serializing_if` does.
fn struct_serialize(name: &Ident, fields: Vec<(Ident, String, Written)>) -> TokenStream {
    let label = name.to_string();
    let always = fields.iter().filter(|(.., w)| matches!(w, Written::Always)).count();
    let maybe: Vec<TokenStream> = fields
        .iter()
        .filter_map(|(f, _, w)| match w {
            Written::Always => None,
            Written::IfSet => Some(quote!(self.#f.is_some())),
            Written::IfConditioned => Some(quote!(!self.#f.matches_all())),
        })
        .collect();
    let written = quote!(::hubgen_runtime::ser::written(&[#(#maybe),*]));
    let len = match (always, maybe.is_empty()) {
        (_, true) => quote!(#always),
        (0, false) => written,
        (_, false) => quote!(#always + #written),
    };
    let writes = fields.iter().map(|(f, n, w)| match w {
        Written::Always => quote!(s.field(#n, &self.#f);),
        Written::IfSet => quote!(s.set(#n, &self.#f);),
        Written::IfConditioned => quote!(s.condition(#n, &self.#f);),
    });
    let s = if fields.is_empty() { quote!(s) } else { quote!(mut s) };
    quote! {
        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let #s = ::hubgen_runtime::ser::Struct::new(serializer, #label, #len);
                #(#writes)*
                s.end()
            }
        }
    }
}

/// What deserializing a struct makes of an absent key.
enum Absent {
    /// The field is an `Option`: `None`.
    None,
    /// The field's `Default` (a secret, never serialized).
    Default,
    /// A "missing field" error.
    Missing,
}

/// `Deserialize` for a row or an insert struct, whose fields are `(column,
/// type, absent)`: a hidden struct of optional fields is read through
/// `hubgen_runtime::de` (see `fields_deserialize`), then checked for what
/// is missing. The JSON is serde's derive's.
fn struct_deserialize<'a>(name: &Ident, fields: impl Iterator<Item = (&'a ir::Column, TokenStream, Absent)>) -> TokenStream {
    let mut decl = Vec::new();
    let mut reads = Vec::new();
    let mut build = Vec::new();
    let mut missing = false;
    for (column, ty, absent) in fields {
        missing |= matches!(absent, Absent::Missing);
        let f = field(&column.name);
        let n = &column.name;
        let (partial, read, value) = match absent {
            Absent::None => (ty, quote!(::hubgen_runtime::de::value(map, &mut self.#f)), quote!(fields.#f)),
            Absent::Default => (
                quote!(Option<#ty>),
                quote!(::hubgen_runtime::de::some(map, &mut self.#f)),
                quote!(fields.#f.unwrap_or_default()),
            ),
            Absent::Missing => (
                quote!(Option<#ty>),
                quote!(::hubgen_runtime::de::some(map, &mut self.#f)),
                quote!(fields.#f.ok_or_else(|| D::Error::missing_field(#n))?),
            ),
        };
        decl.push(quote!(#f: #partial));
        reads.push((column.name.clone(), read));
        build.push(quote!(#f: #value));
    }
    let partial = ident("Fields");
    let fields_impl = fields_impl(&partial, &name.to_string(), reads);
    let missing = missing.then(|| {
        quote!(
            use ::serde::de::Error as _;
        )
    });
    quote! {
        const _: () = {
            #[derive(Default)]
            struct #partial {
                #(#decl),*
            }

            #fields_impl

            impl<'de> ::serde::Deserialize<'de> for #name {
                fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    #missing
                    let fields: #partial = ::hubgen_runtime::de::deserialize(deserializer)?;
                    Ok(#name { #(#build),* })
                }
            }
        };
    }
}

fn debug_impl(name: &Ident, fields: &[(&ir::Column, TokenStream)]) -> TokenStream {
    let label = name.to_string();
    let entries = fields.iter().map(|(c, _)| {
        let f = field(&c.name);
        let n = &c.name;
        if c.redacted() {
            quote!(.field(#n, &"<redacted>"))
        } else {
            quote!(.field(#n, &self.#f))
        }
    });
    quote! {
        impl ::std::fmt::Debug for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(#label)#(#entries)*.finish()
            }
        }
    }
}

pub(super) fn table_items(schema: &ir::Schema, hub: &ir::Hub, table: &ir::Table, ids: &Ids) -> TokenStream {
    let shape = Shape::of(schema, hub, table, ids);
    let sensitive = table.columns.iter().any(|c| c.redacted());
    let derive_debug = if sensitive { quote!() } else { quote!(Debug,) };
    let Shape {
        row, new, patch, filter, ..
    } = &shape;

    // Row: every column, as read.
    // A blind index is the database's business: rows do not carry it.
    let row_fields: Vec<(&ir::Column, TokenStream)> = table
        .columns
        .iter()
        .filter(|c| c.blind_index_of.is_none())
        .map(|c| {
            let t = shape.ty(c);
            (c, if c.nullable { quote!(Option<#t>) } else { t })
        })
        .collect();
    let row_decl = row_fields.iter().map(|(c, t)| {
        let f = field(&c.name);
        let docs = doc_attr(&c.docs);
        let rename = rename_attr(c);
        // Never serialized (so `writeOnly` in the JSON Schema); a row read back from JSON has it empty.
        let secret = c.sensitive.then(|| schema_attr(quote!(skip_serializing, default)));
        quote!(#docs #rename #secret pub #f: #t)
    });
    let row_doc = doc_attr(&Some(table.docs.clone().unwrap_or_else(|| format!("A row of `{}`.", table.name))));
    // `FromRow` written out rather than derived (no proc macro on every
    // build), for `PgRow` only, and inline: compiled where rows are read.
    let row_reads = row_fields.iter().map(|(c, _)| {
        let f = field(&c.name);
        let name = &c.name;
        quote!(#f: row.try_get(#name)?)
    });
    let row_from_row = quote! {
        impl<'r> ::sqlx::FromRow<'r, ::sqlx::postgres::PgRow> for #row {
            #[inline]
            fn from_row(row: &'r ::sqlx::postgres::PgRow) -> Result<Self, ::sqlx::Error> {
                use ::sqlx::Row as _;
                Ok(#row { #(#row_reads),* })
            }
        }
    };
    let row_debug = if sensitive { debug_impl(row, &row_fields) } else { quote!() };
    let row_serialize = struct_serialize(row, serialized_fields(row_fields.iter().map(|(c, _)| (*c, Written::Always))));
    let row_deserialize = struct_deserialize(
        row,
        row_fields.iter().map(|(c, t)| {
            // A secret is never serialized: a row read back from JSON has it empty.
            let absent = if c.nullable {
                Absent::None
            } else if c.sensitive {
                Absent::Default
            } else {
                Absent::Missing
            };
            (*c, t.clone(), absent)
        }),
    );

    // Insert: defaults and nullable columns optional; the tenant comes from the transaction.
    let new_fields: Vec<(&ir::Column, TokenStream)> = shape
        .insertable
        .iter()
        .map(|c| {
            let t = shape.ty(c);
            (*c, if shape.is_new_optional(c) { quote!(Option<#t>) } else { t })
        })
        .collect();
    let new_decl = new_fields.iter().map(|(c, t)| {
        let f = field(&c.name);
        let rename = rename_attr(c);
        let default = if shape.is_new_optional(c) {
            schema_attr(quote!(default))
        } else {
            quote!()
        };
        let doc = match (&c.docs, &c.default) {
            (Some(d), Some(def)) => Some(format!("{d}\n\n`None`: the default, `{def}`.")),
            (None, Some(def)) => Some(format!("`None`: the default, `{def}`.")),
            (docs, None) => docs.clone(),
        };
        let docs = doc_attr(&doc);
        let secret = c.sensitive.then(|| schema_attr(quote!(skip_serializing)));
        quote!(#docs #rename #default #secret pub #f: #t)
    });
    let new_debug = if sensitive { debug_impl(new, &new_fields) } else { quote!() };
    let new_serialize = struct_serialize(new, serialized_fields(new_fields.iter().map(|(c, _)| (*c, Written::Always))));
    let new_deserialize = struct_deserialize(
        new,
        new_fields.iter().map(|(c, t)| {
            let absent = if shape.is_new_optional(c) { Absent::None } else { Absent::Missing };
            (*c, t.clone(), absent)
        }),
    );
    let new_checks = validate_body(new_fields.iter().filter_map(|(c, _)| checks_for(table, c)).collect());

    // Patch: every field optional; nullable ones can be set to NULL with `Some(None)`.
    let patch_fields: Vec<(&ir::Column, TokenStream)> = shape
        .patchable
        .iter()
        .map(|c| {
            let t = shape.ty(c);
            (
                *c,
                if c.nullable {
                    quote!(Option<Option<#t>>)
                } else {
                    quote!(Option<#t>)
                },
            )
        })
        .collect();
    let patch_decl = patch_fields.iter().map(|(c, t)| {
        let f = field(&c.name);
        let rename = rename_attr(c);
        // An absent key leaves the column (read by `patch_reads`).
        let serde = if c.sensitive {
            schema_attr(quote!(default, skip_serializing))
        } else {
            schema_attr(quote!(default, skip_serializing_if = "Option::is_none"))
        };
        quote!(#rename #serde pub #f: #t)
    });
    // A key's value overwrites the field; for a nullable column `null` is a
    // value too (`Some(None)`: set NULL).
    let patch_reads = patch_fields.iter().map(|(c, _)| {
        let f = field(&c.name);
        let read = if c.nullable {
            quote!(::hubgen_runtime::de::some(map, &mut self.#f))
        } else {
            quote!(::hubgen_runtime::de::value(map, &mut self.#f))
        };
        (c.name.clone(), read)
    });
    let patch_deserialize = fields_deserialize(patch, patch_reads.collect());
    let patch_debug = if sensitive { debug_impl(patch, &patch_fields) } else { quote!() };
    let patch_serialize = struct_serialize(patch, serialized_fields(patch_fields.iter().map(|(c, _)| (*c, Written::IfSet))));
    let patch_checks = validate_body(patch_fields.iter().filter_map(|(c, _)| checks_for(table, c)).collect());

    // Filter: a condition on each column that leads an index.
    let filter_decl = shape.filters.iter().map(|c| {
        let f = field(&c.name);
        let t = shape.ty(c);
        let rename = rename_attr(c);
        let skip = schema_attr(quote!(skip_serializing_if = "::hubgen_runtime::Condition::matches_all"));
        quote!(#rename #skip pub #f: ::hubgen_runtime::Condition<#t>)
    });
    let sort = &shape.sort;
    let sort_variants = shape.sort_variants();
    let sort_variant_names: Vec<String> = sort_variants.iter().map(|s| s.variant.to_string()).collect();
    let sort_serialized: Vec<String> = sort_variant_names.iter().map(|v| serde_snake_case(v)).collect();
    let sort_serde = variants_serde(sort, &sort_variant_names, &sort_serialized);
    let sort_decl = sort_variants
        .into_iter()
        .enumerate()
        .map(|(i, SortVariant { variant, column, .. })| {
            let doc = match column {
                None => " The primary key (the default).".to_string(),
                Some(c) => format!(" `{}`, then the primary key.", c.name),
            };
            let default = (i == 0).then(|| quote!(#[default]));
            quote!(#[doc = #doc] #default #variant)
        });
    let sort_doc = format!(
        " What a list of `{}` can be ordered by: the primary key or an indexed column.",
        table.name
    );
    // The constructor takes what the database cannot fill in.
    let required: Vec<&ir::Column> = shape.insertable.iter().copied().filter(|c| !shape.is_new_optional(c)).collect();
    let constructor_args = required.iter().map(|c| {
        let f = field(&c.name);
        let t = shape.ty(c);
        quote!(#f: #t)
    });
    let constructor_fields = shape.insertable.iter().map(|c| {
        let f = field(&c.name);
        if shape.is_new_optional(c) {
            quote!(#f: None)
        } else {
            quote!(#f)
        }
    });
    // With nothing required, every field is optional: `Default` is the empty row.
    let new_default = required.is_empty().then(|| quote!(Default,));
    let constructor_doc = if required.is_empty() {
        " A row with every column left to its default.".to_string()
    } else {
        format!(
            " A row with the required {}; every optional field `None` (its default, or NULL).",
            required.iter().map(|c| format!("`{}`", c.name)).collect::<Vec<_>>().join(", ")
        )
    };
    let include_deleted = table.soft_delete.as_ref().map(|_| {
        quote! {
            /// Also return soft-deleted rows.
            pub include_deleted: bool
        }
    });
    let mut filter_reads: Vec<(String, TokenStream)> = shape
        .filters
        .iter()
        .map(|c| {
            let f = field(&c.name);
            (c.name.clone(), quote!(::hubgen_runtime::de::value(map, &mut self.#f)))
        })
        .collect();
    if include_deleted.is_some() {
        filter_reads.push((
            "include_deleted".to_string(),
            quote!(::hubgen_runtime::de::value(map, &mut self.include_deleted)),
        ));
    }
    let filter_deserialize = fields_deserialize(filter, filter_reads);
    let mut filter_written = serialized_fields(shape.filters.iter().map(|c| (*c, Written::IfConditioned)));
    if include_deleted.is_some() {
        filter_written.push((ident("include_deleted"), "include_deleted".to_string(), Written::Always));
    }
    let filter_serialize = struct_serialize(filter, filter_written);
    let filter_doc = format!(" Filters for listing and counting `{}` (each on an indexed column).", table.name);
    let new_doc = format!(" A new row of `{}`.", table.name);
    let patch_doc = format!(
        " A change to a row of `{}`: `None` leaves a field as it is; for a nullable column `Some(None)` sets NULL. In JSON: an absent key leaves the field, `null` sets NULL.",
        table.name
    );

    quote! {
        #[allow(unused_imports)] // a table of plain columns names nothing from the hub
        use super::*;

        #row_doc
        #[derive(Clone, PartialEq, #derive_debug)]
        #[cfg_attr(feature = "json-schema", derive(::schemars::JsonSchema))]
        pub struct #row {
            #(#row_decl),*
        }
        #row_debug
        #row_serialize
        #row_deserialize
        #row_from_row

        #[doc = #new_doc]
        #[derive(Clone, PartialEq, #derive_debug #new_default)]
        #[cfg_attr(feature = "json-schema", derive(::schemars::JsonSchema))]
        pub struct #new {
            #(#new_decl),*
        }
        #new_debug
        #new_serialize
        #new_deserialize

        impl #new {
            #[doc = #constructor_doc]
            #[allow(clippy::too_many_arguments)]
            pub fn new(#(#constructor_args),*) -> Self {
                #new { #(#constructor_fields),* }
            }

            /// Checks what can be checked before sending: lengths, allowed values, formats.
            pub fn validate(&self) -> Result<(), Vec<::hubgen_runtime::Violation>> {
                #new_checks
            }
        }

        #[doc = #patch_doc]
        #[derive(Clone, PartialEq, Default, #derive_debug)]
        #[cfg_attr(feature = "json-schema", derive(::schemars::JsonSchema))]
        pub struct #patch {
            #(#patch_decl),*
        }
        #patch_debug
        #patch_serialize
        #patch_deserialize

        impl #patch {
            /// Checks what can be checked before sending: lengths, allowed values, formats.
            pub fn validate(&self) -> Result<(), Vec<::hubgen_runtime::Violation>> {
                #patch_checks
            }
        }

        #[doc = #filter_doc]
        #[derive(Clone, PartialEq, Default, Debug)]
        #[cfg_attr(feature = "json-schema", derive(::schemars::JsonSchema))]
        #[cfg_attr(feature = "json-schema", serde(default))]
        pub struct #filter {
            #(#filter_decl,)*
            #include_deleted
        }
        #filter_serialize
        #filter_deserialize

        #[doc = #sort_doc]
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug)]
        #[cfg_attr(feature = "json-schema", derive(::schemars::JsonSchema))]
        #[cfg_attr(feature = "json-schema", serde(rename_all = "snake_case"))]
        pub enum #sort {
            #(#sort_decl),*
        }
        #sort_serde
    }
}
