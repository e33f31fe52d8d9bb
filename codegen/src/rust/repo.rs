//! Repositories: const SQL run with `sqlx::query_as`. Scoped tables take the
//! transaction their scope needs (see [`Receiver`]; the tenant comes from it,
//! never from the caller's data); others take a connection. Read-only hubs
//! get no write methods.

use super::models::{Receiver, Shape, SortVariant};
use super::names::field;
use super::types::{is_copy, owned, sql_type, via_text};
use super::Ids;
use crate::sql::quote::ident as q;
use hubgen_schema::ir;
use hubgen_schema::types::ColumnType;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// Numbered SQL parameters, with the casts that fix their types.
struct Params<'h> {
    hub: &'h ir::Hub,
    n: usize,
}

impl Params<'_> {
    fn next(&mut self) -> usize {
        self.n += 1;
        self.n
    }

    /// `$n::type` for a value of `column`'s type.
    fn value(&mut self, column: &ir::Column) -> String {
        let n = self.next();
        if via_text(&column.ty) {
            format!("${n}::text::{}", sql_type(self.hub, &column.ty))
        } else {
            format!("${n}::{}", sql_type(self.hub, &column.ty))
        }
    }

    fn typed(&mut self, sql_type: &str) -> String {
        let n = self.next();
        format!("${n}::{sql_type}")
    }
}

fn live_condition(table: &ir::Table) -> Option<String> {
    table.soft_delete.as_ref().map(|s| match s.kind {
        ir::SoftDeleteKind::Timestamp => format!("{} IS NULL", q(&s.column)),
        ir::SoftDeleteKind::Flag => format!("NOT {}", q(&s.column)),
    })
}

fn select_list(table: &ir::Table) -> String {
    table
        .columns
        .iter()
        .filter(|c| c.blind_index_of.is_none())
        .map(super::types::select_expr)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `expr`, borrowed unless the column's type is `Copy`.
fn by_ref(column: &ir::Column, expr: TokenStream) -> TokenStream {
    if is_copy(&column.ty) {
        expr
    } else {
        quote!(&#expr)
    }
}

fn key_is_copy(shape: &Shape) -> bool {
    shape.key.iter().all(|c| is_copy(&c.ty))
}

/// `key = $1 AND ...`, and the tokens binding the key.
fn key_condition(shape: &Shape, params: &mut Params, key: TokenStream) -> (String, Vec<TokenStream>) {
    let mut conditions = Vec::new();
    let mut binds = Vec::new();
    for (i, column) in shape.key.iter().enumerate() {
        conditions.push(format!("{} = {}", q(&column.name), params.value(column)));
        if shape.key.len() == 1 {
            binds.push(quote!(.bind(#key)));
        } else {
            let i = syn::Index::from(i);
            binds.push(quote!(.bind(#key.#i)));
        }
    }
    (conditions.join(" AND "), binds)
}

pub(super) fn repository(schema: &ir::Schema, hub: &ir::Hub, table: &ir::Table, ids: &Ids) -> TokenStream {
    let shape = Shape::of(schema, hub, table, ids);
    let full = ShapeTokens::new(&shape);
    let mut methods = vec![
        get(&shape, &full),
        exists_and_get_many(&shape, &full),
        list(&shape, &full),
        count(&shape, &full),
        stream(&shape, &full),
    ];
    methods.extend(get_by_unique(&shape, &full));
    if shape.key.is_empty() {
        methods.clear();
    }
    let mut copy_row = quote!();
    if hub.writes(table) && !shape.key.is_empty() {
        methods.push(insert(&shape, &full));
        methods.push(insert_many(&shape, &full));
        if let Some((method, row_impl)) = insert_copy(&shape, &full) {
            methods.push(method);
            copy_row = row_impl;
        }
        methods.push(update(&shape, &full));
        methods.push(delete(&shape, &full));
        if table.soft_delete.is_some() {
            methods.push(restore(&shape, &full));
        }
        methods.extend(upserts(&shape, &full));
    }
    let repo = &shape.repo;
    let doc = format!(
        " Queries on `{}.{}`.{}{}",
        table.schema,
        table.name,
        match shape.receiver {
            Receiver::Conn => "",
            Receiver::Tenant => " Tenant-scoped: every method runs in a `TenantTx`, and row-level security limits it to that tenant.",
            Receiver::TenantOrPlatform => {
                " Tenant-scoped, with rows of no tenant: a `TenantTx` sees its tenant's rows (and, for `tenant_or_global`, the global ones) and writes its own; a `PlatformTx` writes the rows without a tenant."
            }
            Receiver::Acting => {
                " Owner-scoped: every method runs in a transaction acting for a user (`ActorTx`, or a `TenantTx` after `act_as`), and row-level security limits it to that user's rows; a `PlatformTx` reaches the rows without an owner."
            }
        },
        if hub.readonly {
            " Read-only hub: no write methods."
        } else if table.audit_log {
            " The hub's audit log: the audit trigger of each audited table writes it, so there are no write methods."
        } else {
            ""
        }
    );
    quote! {
        #[doc = #doc]
        pub struct #repo;

        impl #repo {
            #(#methods)*
        }

        #copy_row
    }
}

/// The tenant new rows get: the `TenantTx`'s, or (where rows may have no
/// tenant) whatever the transaction carries, NULL for the platform's.
fn tenant_value(shape: &Shape) -> TokenStream {
    if shape.receiver == Receiver::Tenant {
        quote!(tx.tenant())
    } else {
        quote!(::hubgen_runtime::Scope::tenant_id(&*tx))
    }
}

/// The executor parameter a repository method takes, borrowed for `lifetime`
/// (empty: elided).
fn receiver_param(receiver: Receiver, lifetime: TokenStream) -> TokenStream {
    // `impl Trait` borrowed for a named lifetime must outlive it: `&'a mut (impl Trait + 'a)`.
    let scoped = |bound: TokenStream| {
        if lifetime.is_empty() {
            quote!(tx: &mut impl #bound)
        } else {
            quote!(tx: &#lifetime mut (impl #bound + #lifetime))
        }
    };
    match receiver {
        Receiver::Conn => quote!(conn: &#lifetime mut ::sqlx::PgConnection),
        Receiver::Tenant => quote!(tx: &#lifetime mut ::hubgen_runtime::TenantTx<'_>),
        Receiver::TenantOrPlatform => scoped(quote!(::hubgen_runtime::TenantOrPlatform)),
        Receiver::Acting => scoped(quote!(::hubgen_runtime::Acting)),
    }
}

/// Tokens every method uses: the executor parameter and how to reach the connection.
struct ShapeTokens {
    exec: TokenStream,
    conn: TokenStream,
    row: TokenStream,
    key: TokenStream,
}

impl ShapeTokens {
    fn new(shape: &Shape) -> ShapeTokens {
        let exec = receiver_param(shape.receiver, quote!());
        let conn = match shape.receiver {
            Receiver::Conn => quote!(&mut *conn),
            Receiver::Tenant => quote!(tx.conn()),
            Receiver::TenantOrPlatform | Receiver::Acting => quote!(::hubgen_runtime::Scope::conn(tx)),
        };
        let row = &shape.row;
        ShapeTokens {
            exec,
            conn,
            row: quote!(#row),
            key: shape.key_type(),
        }
    }
}

fn get(shape: &Shape, t: &ShapeTokens) -> TokenStream {
    let table = shape.table;
    let name = shape.table_sql();
    let mut params = Params { hub: shape.hub, n: 0 };
    let (condition, binds) = key_condition(shape, &mut params, quote!(key));
    let live = live_condition(table).map(|c| format!(" AND {c}")).unwrap_or_default();
    let sql = format!("SELECT {} FROM {name} WHERE {condition}{live}", select_list(table));
    let ShapeTokens { exec, conn, row, key } = t;
    let mut out = quote! {
        /// The row with this primary key, if it exists (and is not soft-deleted).
        pub async fn get(#exec, key: #key) -> Result<Option<#row>, ::hubgen_runtime::Error> {
            const SQL: &str = #sql;
            Ok(::sqlx::query_as::<_, #row>(SQL)#(#binds)*.fetch_optional(#conn).await?)
        }
    };
    if !live.is_empty() {
        let sql = format!("SELECT {} FROM {name} WHERE {condition}", select_list(table));
        out.extend(quote! {
            /// The row with this primary key, soft-deleted or not.
            pub async fn get_including_deleted(#exec, key: #key) -> Result<Option<#row>, ::hubgen_runtime::Error> {
                const SQL: &str = #sql;
                Ok(::sqlx::query_as::<_, #row>(SQL)#(#binds)*.fetch_optional(#conn).await?)
            }
        });
    }
    out
}

fn get_by_unique(shape: &Shape, t: &ShapeTokens) -> Vec<TokenStream> {
    let table = shape.table;
    let name = shape.table_sql();
    shape
        .uniques
        .iter()
        .map(|columns| {
            let mut params = Params { hub: shape.hub, n: 0 };
            let conditions: Vec<String> = columns.iter().map(|c| format!("{} = {}", q(&c.name), params.value(c))).collect();
            let live = live_condition(table).map(|c| format!(" AND {c}")).unwrap_or_default();
            let sql = format!("SELECT {} FROM {name} WHERE {}{live}", select_list(table), conditions.join(" AND "));
            // A blind index is asked by its encrypted column's plain value.
            let named = |c: &ir::Column| c.blind_index_of.clone().unwrap_or_else(|| c.name.clone());
            let method = format_ident!("get_by_{}", columns.iter().map(|c| named(c)).collect::<Vec<_>>().join("_and_"));
            let args = columns.iter().map(|c| {
                let f = field(&named(c));
                let ty = match c.blind_index_of {
                    Some(_) => quote!(&str),
                    None => shape.ty(c),
                };
                quote!(#f: #ty)
            });
            let binds = columns.iter().map(|c| {
                let f = field(&named(c));
                match c.blind_index_of {
                    Some(_) => quote!(.bind(::hubgen_runtime::crypto::lookup(#f)?)),
                    None => quote!(.bind(#f)),
                }
            });
            let doc = format!(
                " The row whose {} equal these values.",
                columns.iter().map(|c| format!("`{}`", named(c))).collect::<Vec<_>>().join(", ")
            );
            let ShapeTokens { exec, conn, row, .. } = t;
            quote! {
                #[doc = #doc]
                pub async fn #method(#exec, #(#args),*) -> Result<Option<#row>, ::hubgen_runtime::Error> {
                    const SQL: &str = #sql;
                    Ok(::sqlx::query_as::<_, #row>(SQL)#(#binds)*.fetch_optional(#conn).await?)
                }
            }
        })
        .collect()
}

/// `(filters) AND (live unless asked)` and their binds, continuing `params`.
/// Each filter column's [`Condition`](hubgen_runtime) takes four parameters
/// (`IN`, the range's ends, `IS NULL`), each a no-op when NULL.
fn filter_condition(shape: &Shape, params: &mut Params) -> (Vec<String>, Vec<TokenStream>) {
    let mut conditions = Vec::new();
    let mut binds = Vec::new();
    for column in &shape.filters {
        let c = q(&column.name);
        let ty = sql_type(shape.hub, &column.ty);
        let any_of = params.typed(&format!("{ty}[]"));
        let at_least = params.typed(&ty);
        let below = params.typed(&ty);
        let is_null = params.typed("bool");
        conditions.push(format!(
            "({any_of} IS NULL OR {c} = ANY({any_of})) AND ({at_least} IS NULL OR {c} >= {at_least}) AND ({below} IS NULL OR {c} < {below}) AND ({is_null} IS NULL OR ({c} IS NULL) = {is_null})"
        ));
        let f = field(&column.name);
        binds.push(quote! {
            .bind(filter.#f.any_of.as_deref())
            .bind(filter.#f.at_least.as_ref())
            .bind(filter.#f.below.as_ref())
            .bind(filter.#f.is_null)
        });
    }
    if let Some(live) = live_condition(shape.table) {
        let p = params.typed("bool");
        conditions.push(format!("({p} OR {live})"));
        binds.push(quote!(.bind(filter.include_deleted)));
    }
    (conditions, binds)
}

/// The keyset condition and ORDER BY of one sort, after the cursor `$1`
/// (JSON: `[order, [sort value when not the key, key columns...]]`).
/// NULLs sort last ascending and first descending, as PostgreSQL's indexes
/// do, so a nullable column needs the longer condition.
fn keyset(shape: &Shape, column: Option<&ir::Column>, desc: bool) -> (String, String) {
    let cursor = "$1::text::jsonb->1";
    let part = |i: usize, c: &ir::Column| format!("({cursor}->>{i})::{}", sql_type(shape.hub, &c.ty));
    let offset = usize::from(column.is_some());
    let key_columns: Vec<String> = shape.key.iter().map(|c| q(&c.name)).collect();
    let key_values: Vec<String> = shape.key.iter().enumerate().map(|(i, c)| part(i + offset, c)).collect();
    let (op, dir) = if desc { ("<", " DESC") } else { (">", "") };
    let order = |columns: &[String]| columns.iter().map(|c| format!("{c}{dir}")).collect::<Vec<_>>().join(", ");
    let Some(column) = column else {
        return (
            format!("({}) {op} ({})", key_columns.join(", "), key_values.join(", ")),
            order(&key_columns),
        );
    };
    let c = q(&column.name);
    let v = part(0, column);
    let all_columns: Vec<String> = std::iter::once(c.clone()).chain(key_columns.iter().cloned()).collect();
    let row = format!("({}) {op} ({v}, {})", all_columns.join(", "), key_values.join(", "));
    let condition = if column.nullable {
        let key_after = format!("({}) {op} ({})", key_columns.join(", "), key_values.join(", "));
        let (when_null, when_value) = if desc {
            (format!("({c} IS NULL AND {key_after}) OR {c} IS NOT NULL"), row)
        } else {
            (format!("{c} IS NULL AND {key_after}"), format!("{row} OR {c} IS NULL"))
        };
        format!("CASE WHEN ({cursor}->>0) IS NULL THEN {when_null} ELSE {when_value} END")
    } else {
        row
    };
    (condition, order(&all_columns))
}

fn list(shape: &Shape, t: &ShapeTokens) -> TokenStream {
    let table = shape.table;
    let name = shape.table_sql();
    let mut params = Params { hub: shape.hub, n: 1 };
    let (filters, filter_binds) = filter_condition(shape, &mut params);
    let limit = params.typed("bigint");
    let variants = shape.sort_variants();
    // One statement per order and direction, so each can use its index.
    let statements: Vec<String> = variants
        .iter()
        .flat_map(|v| [false, true].map(|desc| keyset(shape, v.column, desc)))
        .map(|(after, order)| {
            let conditions: Vec<String> = std::iter::once(format!("($1::text IS NULL OR {after})"))
                .chain(filters.iter().cloned())
                .collect();
            format!(
                "SELECT {} FROM {name} WHERE {} ORDER BY {order} LIMIT {limit}",
                select_list(table),
                conditions.join(" AND ")
            )
        })
        .collect();
    let count = statements.len();
    let key_fields: Vec<TokenStream> = shape
        .key
        .iter()
        .map(|c| {
            let f = field(&c.name);
            quote!(&row.#f)
        })
        .collect();
    let sort = &shape.sort;
    let row_ty = &shape.row;
    let arms = variants.iter().enumerate().map(|(i, SortVariant { variant, column, .. })| {
        let (asc, desc) = (2 * i, 2 * i + 1);
        let values = match column {
            None => quote!((#(#key_fields,)*)),
            Some(c) => {
                let f = field(&c.name);
                quote!((&row.#f, #(#key_fields),*))
            }
        };
        quote!(#sort::#variant => (if page.is_desc() { #desc } else { #asc }, |order: &str, row: &#row_ty| ::hubgen_runtime::Cursor::of(order, &#values)))
    });
    // Each cursor names its order, so one from another order is refused, not misread.
    let orders: Vec<String> = variants
        .iter()
        .flat_map(|v| [format!("{} asc", v.name), format!("{} desc", v.name)])
        .collect();
    let filter = &shape.filter;
    let filter_arg = if filter_binds.is_empty() { quote!(_filter) } else { quote!(filter) };
    let ShapeTokens { exec, conn, row, .. } = t;
    quote! {
        /// One page of rows matching the filter, in the requested order (keyset pagination: stable under concurrent writes; ties broken by the primary key).
        pub async fn list(#exec, #filter_arg: &#filter, page: &::hubgen_runtime::PageRequest<#sort>) -> Result<::hubgen_runtime::Page<#row>, ::hubgen_runtime::Error> {
            const SQL: [&str; #count] = [#(#statements),*];
            const ORDERS: [&str; #count] = [#(#orders),*];
            let (statement, cursor): (usize, fn(&str, &#row) -> ::hubgen_runtime::Cursor) = match page.sort {
                #(#arms),*
            };
            let order = ORDERS[statement];
            let limit = page.sql_limit();
            let rows = ::sqlx::query_as::<_, #row>(SQL[statement])
                .bind(page.cursor_for(order)?)
                #(#filter_binds)*
                .bind(limit)
                .fetch_all(#conn)
                .await?;
            Ok(::hubgen_runtime::Page::from_rows(rows, limit, |row| cursor(order, row)))
        }
    }
}

/// Conditions joined with AND; `true` when there are none.
fn all_of(conditions: &[String]) -> String {
    if conditions.is_empty() {
        "true".to_string()
    } else {
        conditions.join(" AND ")
    }
}

fn count(shape: &Shape, t: &ShapeTokens) -> TokenStream {
    let name = shape.table_sql();
    let mut params = Params { hub: shape.hub, n: 0 };
    let (conditions, binds) = filter_condition(shape, &mut params);
    let condition = all_of(&conditions);
    let sql = format!("SELECT count(*) FROM {name} WHERE {condition}");
    let filter = &shape.filter;
    let filter_arg = if binds.is_empty() { quote!(_filter) } else { quote!(filter) };
    let ShapeTokens { exec, conn, .. } = t;
    quote! {
        /// How many rows match the filter.
        pub async fn count(#exec, #filter_arg: &#filter) -> Result<i64, ::hubgen_runtime::Error> {
            const SQL: &str = #sql;
            Ok(::sqlx::query_scalar::<_, i64>(SQL)#(#binds)*.fetch_one(#conn).await?)
        }
    }
}

/// Every row matching the filter, in primary-key order, read as a stream:
/// for scans too large for one page.
fn stream(shape: &Shape, t: &ShapeTokens) -> TokenStream {
    let table = shape.table;
    let name = shape.table_sql();
    let mut params = Params { hub: shape.hub, n: 0 };
    let (conditions, binds) = filter_condition(shape, &mut params);
    let condition = all_of(&conditions);
    let order: Vec<String> = shape.key.iter().map(|c| q(&c.name)).collect();
    let sql = format!(
        "SELECT {} FROM {name} WHERE {condition} ORDER BY {}",
        select_list(table),
        order.join(", ")
    );
    let filter = &shape.filter;
    let filter_arg = if binds.is_empty() { quote!(_filter) } else { quote!(filter) };
    let ShapeTokens { conn, row, .. } = t;
    // The stream borrows the connection for as long as it runs.
    let exec = receiver_param(shape.receiver, quote!('a));
    quote! {
        /// Every row matching the filter in primary-key order, one at a time: for scans too large for a page (rows stream as PostgreSQL sends them).
        pub fn stream<'a>(#exec, #filter_arg: &'a #filter) -> ::hubgen_runtime::RowStream<'a, #row> {
            const SQL: &str = #sql;
            ::hubgen_runtime::row_stream(::sqlx::query_as::<_, #row>(SQL)#(#binds)*.fetch(#conn))
        }
    }
}

/// `exists` and `get_many` by primary key.
fn exists_and_get_many(shape: &Shape, t: &ShapeTokens) -> TokenStream {
    let table = shape.table;
    let name = shape.table_sql();
    let live = live_condition(table).map(|c| format!(" AND {c}")).unwrap_or_default();
    let mut params = Params { hub: shape.hub, n: 0 };
    let (condition, binds) = key_condition(shape, &mut params, quote!(key));
    let exists_sql = format!("SELECT EXISTS (SELECT 1 FROM {name} WHERE {condition}{live})");
    // Keys travel as one array per key column; rows come back in key order.
    let key_columns: Vec<String> = shape.key.iter().map(|c| q(&c.name)).collect();
    let arrays: Vec<String> = shape
        .key
        .iter()
        .enumerate()
        .map(|(i, c)| format!("${}::{}[]", i + 1, sql_type(shape.hub, &c.ty)))
        .collect();
    let many_sql = format!(
        "SELECT {} FROM {name} WHERE ({}) IN (SELECT * FROM UNNEST({})){live} ORDER BY {}",
        select_list(table),
        key_columns.join(", "),
        arrays.join(", "),
        key_columns.join(", ")
    );
    let many_binds: Vec<TokenStream> = if shape.key.len() == 1 {
        vec![quote!(.bind(keys))]
    } else {
        (0..shape.key.len())
            .map(|i| {
                let i = syn::Index::from(i);
                let part = owned(shape.key[i.index as usize], quote!(k.#i));
                quote!(.bind(keys.iter().map(|k| #part).collect::<Vec<_>>()))
            })
            .collect()
    };
    let ShapeTokens { exec, conn, row, key } = t;
    quote! {
        /// Whether a row with this primary key exists (and is not soft-deleted).
        pub async fn exists(#exec, key: #key) -> Result<bool, ::hubgen_runtime::Error> {
            const SQL: &str = #exists_sql;
            Ok(::sqlx::query_scalar::<_, bool>(SQL)#(#binds)*.fetch_one(#conn).await?)
        }

        /// The rows with these primary keys, in key order; keys without a row are left out.
        pub async fn get_many(#exec, keys: &[#key]) -> Result<Vec<#row>, ::hubgen_runtime::Error> {
            const SQL: &str = #many_sql;
            Ok(::sqlx::query_as::<_, #row>(SQL)#(#many_binds)*.fetch_all(#conn).await?)
        }
    }
}

/// Column list, value expressions and binds of an insert of one `new` row.
fn insert_parts(
    shape: &Shape,
    params: &mut Params,
    new: TokenStream,
    tenant_id: TokenStream,
) -> (Vec<String>, Vec<String>, Vec<TokenStream>) {
    let mut columns = Vec::new();
    let mut values = Vec::new();
    let mut binds = Vec::new();
    for column in &shape.insertable {
        columns.push(q(&column.name));
        let p = params.value(column);
        // A column with a default is optional in the insert struct: `None` takes the default.
        values.push(match &column.default {
            Some(default) => format!("COALESCE({p}, {default})"),
            None => p,
        });
        let f = field(&column.name);
        let value = by_ref(column, quote!(#new.#f));
        binds.push(quote!(.bind(#value)));
    }
    if let Some(tenant) = shape.tenant {
        columns.push(q(&tenant.name));
        values.push(params.typed("uuid"));
        binds.push(quote!(.bind(#tenant_id)));
    }
    (columns, values, binds)
}

fn insert(shape: &Shape, t: &ShapeTokens) -> TokenStream {
    let table = shape.table;
    let name = shape.table_sql();
    let mut params = Params { hub: shape.hub, n: 0 };
    let (columns, values, binds) = insert_parts(shape, &mut params, quote!(new), tenant_value(shape));
    let sql = format!(
        "INSERT INTO {name} ({}) VALUES ({}) RETURNING {}",
        columns.join(", "),
        values.join(", "),
        select_list(table)
    );
    let new_ty = &shape.new;
    let ShapeTokens { exec, conn, row, .. } = t;
    quote! {
        /// Inserts one row (after `validate()`), returning it as stored.
        pub async fn insert(#exec, new: &#new_ty) -> Result<#row, ::hubgen_runtime::Error> {
            const SQL: &str = #sql;
            new.validate().map_err(::hubgen_runtime::Error::Invalid)?;
            Ok(::sqlx::query_as::<_, #row>(SQL)#(#binds)*.fetch_one(#conn).await?)
        }
    }
}

fn insert_many(shape: &Shape, t: &ShapeTokens) -> TokenStream {
    let name = shape.table_sql();
    let new_ty = &shape.new;
    let ShapeTokens { exec, conn, .. } = t;
    // UNNEST flattens nested arrays, so tables with array columns insert row by row.
    if shape.insertable.iter().any(|c| matches!(c.ty, ColumnType::Array(_))) {
        let call = if shape.tenant.is_some() {
            quote!(Self::insert(tx, new))
        } else {
            quote!(Self::insert(&mut *conn, new))
        };
        return quote! {
            /// Inserts many rows (one statement each: this table has array columns), returning how many; a refused row is named by `Error::InRow`.
            pub async fn insert_many(#exec, rows: &[#new_ty]) -> Result<u64, ::hubgen_runtime::Error> {
                for (row, new) in rows.iter().enumerate() {
                    #call.await.map_err(|error| ::hubgen_runtime::Error::InRow { row, error: Box::new(error) })?;
                }
                Ok(rows.len() as u64)
            }
        };
    }
    let mut params = Params { hub: shape.hub, n: 0 };
    let mut columns = Vec::new();
    let mut arrays = Vec::new();
    let mut aliases = Vec::new();
    let mut values = Vec::new();
    let mut binds = Vec::new();
    for column in &shape.insertable {
        columns.push(q(&column.name));
        let n = params.next();
        let element = if via_text(&column.ty) {
            "text".to_string()
        } else {
            sql_type(shape.hub, &column.ty)
        };
        arrays.push(format!("${n}::{element}[]"));
        aliases.push(q(&column.name));
        let mut value = format!("u.{}", q(&column.name));
        if via_text(&column.ty) {
            value = format!("{value}::{}", sql_type(shape.hub, &column.ty));
        }
        if let Some(default) = &column.default {
            value = format!("COALESCE({value}, {default})");
        }
        values.push(value);
        let f = field(&column.name);
        let value = owned(column, quote!(r.#f));
        binds.push(quote!(.bind(rows.iter().map(|r| #value).collect::<Vec<_>>())));
    }
    if let Some(tenant) = shape.tenant {
        columns.push(q(&tenant.name));
        values.push(params.typed("uuid"));
        binds.push(quote!(.bind(tenant)));
    }
    let sql = format!(
        "INSERT INTO {name} ({}) SELECT {} FROM UNNEST({}) AS u({})",
        columns.join(", "),
        values.join(", "),
        arrays.join(", "),
        aliases.join(", ")
    );
    // The single-row insert that finds which row the database refused.
    let mut one_params = Params { hub: shape.hub, n: 0 };
    let (one_columns, one_values, one_binds) = insert_parts(shape, &mut one_params, quote!(new), quote!(tenant));
    let one = format!("INSERT INTO {name} ({}) VALUES ({})", one_columns.join(", "), one_values.join(", "));
    let tenant = shape.tenant.map(|_| {
        let value = tenant_value(shape);
        quote!(let tenant = #value;)
    });
    quote! {
        /// Inserts many rows in one statement (one array parameter per column), returning how many. All or none: if the database refuses a row, nothing is inserted and `Error::InRow` names the first row it refuses.
        pub async fn insert_many(#exec, rows: &[#new_ty]) -> Result<u64, ::hubgen_runtime::Error> {
            const SQL: &str = #sql;
            const ONE: &str = #one;
            ::hubgen_runtime::Violation::of_rows(rows, #new_ty::validate).map_err(::hubgen_runtime::Error::Invalid)?;
            #tenant
            ::hubgen_runtime::batch::insert(#conn, rows, ::sqlx::query(SQL)#(#binds)*, |new| ::sqlx::query(ONE)#(#one_binds)*).await
        }
    }
}

/// `insert_copy` and the insert struct's `CopyRow`, where [`Shape::copies`].
fn insert_copy(shape: &Shape, t: &ShapeTokens) -> Option<(TokenStream, TokenStream)> {
    if !shape.copies() {
        return None;
    }
    let table = shape.table;
    let name = shape.table_sql();
    let columns: Vec<String> = shape.insertable.iter().map(|c| q(&c.name)).collect();
    let defaulted = shape
        .insertable
        .iter()
        .enumerate()
        .filter(|(_, c)| c.default.is_some())
        .map(|(i, c)| {
            let f = field(&c.name);
            let bit = i as u32;
            quote!((#bit, self.#f.is_none()))
        });
    let writes = shape.insertable.iter().enumerate().map(|(i, c)| {
        let f = field(&c.name);
        let value = if matches!(c.ty, ColumnType::Json) {
            let arg = if shape.is_new_optional(c) {
                quote!(self.#f.as_ref())
            } else {
                quote!(Some(&self.#f))
            };
            quote!(row.json(#arg)?;)
        } else {
            quote!(row.field(&self.#f)?;)
        };
        if c.default.is_some() {
            let bit = 1u64 << i;
            quote!(if defaulted & #bit == 0 { #value })
        } else {
            value
        }
    });
    // Only tables with defaulted columns read the mask.
    let defaulted_param = if shape.insertable.iter().any(|c| c.default.is_some()) {
        quote!(defaulted)
    } else {
        quote!(_defaulted)
    };
    let new_ty = &shape.new;
    let staging = format!("{}_{}", table.schema, table.name);
    let row_security = crate::sql::access_rls_enabled(table);
    let tenant = match shape.tenant {
        Some(column) => {
            let (column, value) = (q(&column.name), tenant_value(shape));
            if shape.receiver == Receiver::Tenant {
                quote!(Some((#column, #value)))
            } else {
                quote!(#value.map(|tenant| (#column, tenant)))
            }
        }
        None => quote!(None),
    };
    let ShapeTokens { exec, conn, .. } = t;
    let method = quote! {
        /// Inserts many rows by binary COPY (after `validate()` of each), returning how many: the fastest way in for large batches. Rows land as `insert_many` would store them; fields left `None` take their defaults.
        pub async fn insert_copy(#exec, rows: &[#new_ty]) -> Result<u64, ::hubgen_runtime::Error> {
            ::hubgen_runtime::Violation::of_rows(rows, #new_ty::validate).map_err(::hubgen_runtime::Error::Invalid)?;
            let tenant = #tenant;
            ::hubgen_runtime::copy::insert(#conn, rows, tenant).await
        }
    };
    let row_impl = quote! {
        impl ::hubgen_runtime::copy::CopyRow for #new_ty {
            const TABLE: &'static str = #name;
            const COLUMNS: &'static [&'static str] = &[#(#columns),*];
            const STAGING: &'static str = #staging;
            const ROW_SECURITY: bool = #row_security;

            fn defaulted(&self) -> u64 {
                ::hubgen_runtime::copy::mask(&[#(#defaulted),*])
            }

            fn write(&self, row: &mut ::hubgen_runtime::copy::CopyWriter, #defaulted_param: u64) -> Result<(), ::hubgen_runtime::Error> {
                #(#writes)*
                Ok(())
            }
        }
    };
    Some((method, row_impl))
}

fn update(shape: &Shape, t: &ShapeTokens) -> TokenStream {
    let table = shape.table;
    let name = shape.table_sql();
    let mut params = Params { hub: shape.hub, n: 0 };
    // The key is bound twice when a version check fails, so the first binding clones it.
    let key_expr = if key_is_copy(shape) { quote!(key) } else { quote!(key.clone()) };
    let (key_sql, key_binds) = key_condition(shape, &mut params, key_expr);
    let mut sets = Vec::new();
    let mut binds = Vec::new();
    for column in &shape.patchable {
        let c = q(&column.name);
        let f = field(&column.name);
        if column.nullable {
            let flag = params.typed("bool");
            let value = params.value(column);
            sets.push(format!("{c} = CASE WHEN {flag} THEN {value} ELSE {c} END"));
            let value = owned(column, quote!(patch.#f));
            binds.push(quote!(.bind(patch.#f.is_some()).bind(#value.flatten())));
        } else {
            sets.push(format!("{c} = COALESCE({}, {c})", params.value(column)));
            let value = owned(column, quote!(patch.#f));
            binds.push(quote!(.bind(#value)));
        }
    }
    for column in table.columns.iter().filter(|c| c.touch) {
        sets.push(format!("{} = now()", q(&column.name)));
    }
    let mut condition = key_sql;
    let version = table.version_column.as_deref().and_then(|v| table.column(v));
    let mut version_arg = quote!();
    if let Some(column) = version {
        let c = q(&column.name);
        sets.push(format!("{c} = {c} + 1"));
        condition.push_str(&format!(" AND {c} = {}", params.value(column)));
        let ty = shape.ty(column);
        version_arg = quote!(, expected_version: #ty);
        binds.push(quote!(.bind(expected_version)));
    }
    if sets.is_empty() {
        let first = q(&shape.key[0].name);
        sets.push(format!("{first} = {first}"));
    }
    if let Some(live) = live_condition(table) {
        condition.push_str(&format!(" AND {live}"));
    }
    let sql = format!(
        "UPDATE {name} SET {} WHERE {condition} RETURNING {}",
        sets.join(", "),
        select_list(table)
    );
    let patch_ty = &shape.patch;
    let ShapeTokens { exec, conn, row, key } = t;
    let table_name = &table.name;
    let missing = if version.is_some() {
        let mut p = Params { hub: shape.hub, n: 0 };
        let (exists_condition, exists_binds) = key_condition(shape, &mut p, quote!(key));
        let live = live_condition(table).map(|c| format!(" AND {c}")).unwrap_or_default();
        let exists_sql = format!("SELECT EXISTS (SELECT 1 FROM {name} WHERE {exists_condition}{live})");
        quote! {
            // No row matched: either it is gone, or its version moved on.
            const EXISTS: &str = #exists_sql;
            let exists: bool = ::sqlx::query_scalar(EXISTS)#(#exists_binds)*.fetch_one(#conn).await?;
            Err(if exists { ::hubgen_runtime::Error::Conflict { table: #table_name } } else { ::hubgen_runtime::Error::NotFound })
        }
    } else {
        quote!(Err(::hubgen_runtime::Error::NotFound))
    };
    let doc = if version.is_some() {
        " Applies a patch if the row still has `expected_version` (optimistic locking), bumping the version; `Error::Conflict` if it changed meanwhile."
    } else {
        " Applies a patch to the row with this key and returns the row as stored."
    };
    quote! {
        #[doc = #doc]
        pub async fn update(#exec, key: #key, patch: &#patch_ty #version_arg) -> Result<#row, ::hubgen_runtime::Error> {
            const SQL: &str = #sql;
            patch.validate().map_err(::hubgen_runtime::Error::Invalid)?;
            let updated = ::sqlx::query_as::<_, #row>(SQL)#(#key_binds)*#(#binds)*.fetch_optional(#conn).await?;
            if let Some(row) = updated {
                return Ok(row);
            }
            #missing
        }
    }
}

fn delete(shape: &Shape, t: &ShapeTokens) -> TokenStream {
    let table = shape.table;
    let name = shape.table_sql();
    let mut params = Params { hub: shape.hub, n: 0 };
    let (condition, binds) = key_condition(shape, &mut params, quote!(key));
    let (sql, doc) = match &table.soft_delete {
        Some(soft) => {
            let set = match soft.kind {
                ir::SoftDeleteKind::Timestamp => format!("{} = now()", q(&soft.column)),
                ir::SoftDeleteKind::Flag => format!("{} = true", q(&soft.column)),
            };
            let live = live_condition(table).unwrap_or_default();
            (
                format!("UPDATE {name} SET {set} WHERE {condition} AND {live}"),
                " Soft-deletes the row: hidden from `get` and `list` until `restore`.",
            )
        }
        None => (format!("DELETE FROM {name} WHERE {condition}"), " Deletes the row."),
    };
    let ShapeTokens { exec, conn, key, .. } = t;
    quote! {
        #[doc = #doc]
        pub async fn delete(#exec, key: #key) -> Result<(), ::hubgen_runtime::Error> {
            const SQL: &str = #sql;
            let done = ::sqlx::query(SQL)#(#binds)*.execute(#conn).await?.rows_affected();
            if done == 0 { Err(::hubgen_runtime::Error::NotFound) } else { Ok(()) }
        }
    }
}

fn restore(shape: &Shape, t: &ShapeTokens) -> TokenStream {
    let table = shape.table;
    let name = shape.table_sql();
    let Some(soft) = &table.soft_delete else { return quote!() };
    let mut params = Params { hub: shape.hub, n: 0 };
    let (condition, binds) = key_condition(shape, &mut params, quote!(key));
    let c = q(&soft.column);
    let sql = match soft.kind {
        ir::SoftDeleteKind::Timestamp => format!("UPDATE {name} SET {c} = NULL WHERE {condition} AND {c} IS NOT NULL"),
        ir::SoftDeleteKind::Flag => format!("UPDATE {name} SET {c} = false WHERE {condition} AND {c}"),
    };
    let ShapeTokens { exec, conn, key, .. } = t;
    quote! {
        /// Brings a soft-deleted row back.
        pub async fn restore(#exec, key: #key) -> Result<(), ::hubgen_runtime::Error> {
            const SQL: &str = #sql;
            let done = ::sqlx::query(SQL)#(#binds)*.execute(#conn).await?.rows_affected();
            if done == 0 { Err(::hubgen_runtime::Error::NotFound) } else { Ok(()) }
        }
    }
}

fn upserts(shape: &Shape, t: &ShapeTokens) -> Vec<TokenStream> {
    let table = shape.table;
    let name = shape.table_sql();
    let mut keys: Vec<Vec<&ir::Column>> = Vec::new();
    if !shape.key.is_empty() {
        keys.push(shape.key.clone());
    }
    keys.extend(shape.uniques.iter().cloned());
    let insertable = |c: &ir::Column| shape.insertable.iter().any(|i| i.name == c.name) || shape.tenant.is_some_and(|t| t.name == c.name);
    keys.into_iter()
        .filter(|key| key.iter().all(|c| insertable(c)))
        .map(|key| {
            let mut params = Params { hub: shape.hub, n: 0 };
            let (columns, values, binds) = insert_parts(shape, &mut params, quote!(new), tenant_value(shape));
            let mut sets: Vec<String> = shape
                .insertable
                .iter()
                .enumerate()
                // Keys stay; a field left to its default keeps the stored value
                // (insert_parts numbers the insertable columns $1, $2, ... in order).
                .filter(|(_, c)| !key.iter().chain(&shape.key).any(|k| k.name == c.name))
                .map(|(i, c)| {
                    let col = q(&c.name);
                    if c.touch {
                        format!("{col} = COALESCE(${}::{}, now())", i + 1, sql_type(shape.hub, &c.ty))
                    } else if shape.is_new_optional(c) {
                        format!("{col} = COALESCE(${}::{}, {name}.{col})", i + 1, sql_type(shape.hub, &c.ty))
                    } else {
                        format!("{col} = EXCLUDED.{col}")
                    }
                })
                .collect();
            for column in table
                .columns
                .iter()
                .filter(|c| c.touch && !shape.insertable.iter().any(|i| i.name == c.name))
            {
                sets.push(format!("{} = now()", q(&column.name)));
            }
            if let Some(v) = &table.version_column {
                sets.push(format!("{} = {name}.{} + 1", q(v), q(v)));
            }
            if let Some(soft) = &table.soft_delete {
                sets.push(match soft.kind {
                    ir::SoftDeleteKind::Timestamp => format!("{} = NULL", q(&soft.column)),
                    ir::SoftDeleteKind::Flag => format!("{} = false", q(&soft.column)),
                });
            }
            let action = if sets.is_empty() {
                let first = q(&key[0].name);
                format!("DO UPDATE SET {first} = EXCLUDED.{first}")
            } else {
                format!("DO UPDATE SET {}", sets.join(", "))
            };
            let conflict: Vec<String> = key.iter().map(|c| q(&c.name)).collect();
            let sql = format!(
                "INSERT INTO {name} ({}) VALUES ({}) ON CONFLICT ({}) {action} RETURNING {}",
                columns.join(", "),
                values.join(", "),
                conflict.join(", "),
                select_list(table)
            );
            let method = format_ident!(
                "upsert_by_{}",
                key.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join("_and_")
            );
            let doc = format!(
                " Inserts the row, or, when one with the same {} exists, updates it: required fields and fields given as `Some` overwrite; optional fields left `None` keep the stored value, so an upsert never writes NULL over one (clear a field with `update` and a patch). `@touch` columns take the time, a version moves on, a soft-deleted row is revived.",
                key.iter().map(|c| format!("`{}`", c.name)).collect::<Vec<_>>().join(", ")
            );
            let new_ty = &shape.new;
            let ShapeTokens { exec, conn, row, .. } = t;
            quote! {
                #[doc = #doc]
                pub async fn #method(#exec, new: &#new_ty) -> Result<#row, ::hubgen_runtime::Error> {
                    const SQL: &str = #sql;
                    new.validate().map_err(::hubgen_runtime::Error::Invalid)?;
                    Ok(::sqlx::query_as::<_, #row>(SQL)#(#binds)*.fetch_one(#conn).await?)
                }
            }
        })
        .collect()
}
