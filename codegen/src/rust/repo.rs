//! Repositories: const SQL run with `sqlx::query_as`. Scoped tables take the
//! transaction their scope needs (see [`Receiver`]; the tenant comes from it,
//! never from the caller's data); others take a connection. Read-only hubs
//! get no write methods.

use super::models::{Receiver, Shape, SortVariant};
use super::names::field;
use super::types::{is_copy, owned, sql_type, via_text};
use super::{raw_string, Ids};
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

fn key_is_copy(shape: &Shape) -> bool {
    shape.key.iter().all(|c| is_copy(&c.ty))
}

/// `key = $1 AND ...`.
fn key_condition(shape: &Shape, params: &mut Params) -> String {
    let conditions: Vec<String> = shape
        .key
        .iter()
        .map(|column| format!("{} = {}", q(&column.name), params.value(column)))
        .collect();
    conditions.join(" AND ")
}

/// The key as the runtime's `Params`: a tuple of its columns.
fn key_params(shape: &Shape, key: TokenStream) -> TokenStream {
    if shape.key.len() == 1 {
        quote!((#key,))
    } else {
        key
    }
}

pub(super) fn repository(schema: &ir::Schema, hub: &ir::Hub, table: &ir::Table, ids: &Ids) -> TokenStream {
    let shape = Shape::of(schema, hub, table, ids);
    if shape.key.is_empty() {
        return repo_struct(&shape, Vec::new(), quote!());
    }
    let full = ShapeTokens::new(&shape);
    let mut methods = get_by_unique(&shape, &full);
    let mut impls = table_impl(&shape);
    impls.extend(soft_delete_impl(&shape));
    if hub.writes(table) {
        impls.extend(write_impl(&shape));
        match versioned_update(&shape, &full) {
            Some(method) => methods.push(method),
            None => impls.extend(update_impl(&shape)),
        }
        methods.extend(upserts(&shape, &full));
    }
    repo_struct(&shape, methods, impls)
}

fn repo_struct(shape: &Shape, methods: Vec<TokenStream>, impls: TokenStream) -> TokenStream {
    let methods: Vec<TokenStream> = {
        let block: syn::ItemImpl = syn::parse2(quote!(impl Repo { #(#methods)* })).expect("repository methods parse");
        block.items.into_iter().map(returning_future).collect()
    };
    let (hub, table) = (shape.hub, shape.table);
    let repo = &shape.repo;
    let doc = format!(
        " Queries on `{}.{}`.{}{}{}",
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
        },
        match (shape.key.is_empty(), methods.is_empty()) {
            (true, _) => " Without a primary key it has no methods: query the table with sqlx.",
            (false, true) => " Its methods are those of the `hubgen_runtime::table` traits it implements: `use <hub crate>::prelude::*` brings them into scope.",
            (false, false) => " Its methods are those of the `hubgen_runtime::table` traits it implements (`use <hub crate>::prelude::*` brings them into scope) and its own below.",
        }
    );
    let own = (!methods.is_empty()).then(|| quote!(impl #repo { #(#methods)* }));
    quote! {
        #[doc = #doc]
        pub struct #repo;

        #own

        #impls
    }
}

/// A method written as an `async fn` whose body only awaits one runtime
/// call, made a plain `fn` returning that call's future, which lives as long
/// as the arguments' borrows (`'a`). An `async fn` is a coroutine of its own
/// for the compiler to check in every hub crate, for nothing: nearly a third
/// of what a repository costs to build. A body that does more stays an
/// `async fn`. Callers are the same (`.await`); the signatures hold in
/// editions 2021 and 2024 alike (`hub!` expands in the caller's).
fn returning_future(item: syn::ImplItem) -> TokenStream {
    let syn::ImplItem::Fn(mut f) = item else {
        return quote!(#item);
    };
    let Some((rest, call)) = only_awaits_last(&f) else {
        return quote!(#f);
    };
    f.sig.asyncness = None;
    f.block = syn::parse_quote!({ #(#rest)* #call });
    // Every borrow lives in the future: the executor's and the other arguments'.
    f.sig.generics.params.push(syn::parse_quote!('a));
    for input in f.sig.inputs.iter_mut() {
        let syn::FnArg::Typed(arg) = input else { continue };
        let syn::Type::Reference(reference) = &mut *arg.ty else { continue };
        reference.lifetime = Some(syn::parse_quote!('a));
        // `impl Trait` borrowed for `'a` must outlive it: `&'a mut (impl Trait + 'a)`.
        if let syn::Type::ImplTrait(bound) = &*reference.elem {
            let bounds = &bound.bounds;
            *reference.elem = syn::parse_quote!((impl #bounds + 'a));
        }
    }
    let syn::ReturnType::Type(_, output) = &f.sig.output else {
        unreachable!("repository methods return a Result")
    };
    f.sig.output = syn::parse_quote!(-> impl ::std::future::Future<Output = #output> + 'a);
    quote!(#f)
}

/// For an `async fn` whose body awaits one call, last, and does nothing
/// else that needs a coroutine: the statements before and the call.
fn only_awaits_last(f: &syn::ImplItemFn) -> Option<(Vec<syn::Stmt>, syn::Expr)> {
    f.sig.asyncness?;
    let (syn::Stmt::Expr(syn::Expr::Await(awaited), None), rest) = f.block.stmts.split_last()? else {
        return None;
    };
    let call = &awaited.base;
    (!needs_coroutine(quote!(#(#rest)* #call))).then(|| (rest.to_vec(), (**call).clone()))
}

/// Whether `tokens` await or use `?` (outside literals: SQL may hold a `?`).
fn needs_coroutine(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|tree| match tree {
        proc_macro2::TokenTree::Group(group) => needs_coroutine(group.stream()),
        proc_macro2::TokenTree::Punct(punct) => punct.as_char() == '?',
        proc_macro2::TokenTree::Ident(ident) => ident == "await",
        proc_macro2::TokenTree::Literal(_) => false,
    })
}

/// The marker of the transactions a table's statements take (`table::scope`).
fn scope_marker(receiver: Receiver) -> TokenStream {
    match receiver {
        Receiver::Conn => quote!(::hubgen_runtime::table::scope::Conn),
        Receiver::Tenant => quote!(::hubgen_runtime::table::scope::Tenant),
        Receiver::TenantOrPlatform => quote!(::hubgen_runtime::table::scope::TenantOrPlatform),
        Receiver::Acting => quote!(::hubgen_runtime::table::scope::Acting),
    }
}

/// Tokens every generated method uses: the executor parameter, the `Scope`
/// it is passed on as (the runtime's functions take any), the row type.
struct ShapeTokens {
    exec: TokenStream,
    scope: TokenStream,
    row: TokenStream,
}

impl ShapeTokens {
    fn new(shape: &Shape) -> ShapeTokens {
        let row = &shape.row;
        let marker = scope_marker(shape.receiver);
        ShapeTokens {
            exec: quote!(tx: &mut impl ::hubgen_runtime::table::Runs<#marker>),
            scope: quote!(&mut *tx),
            row: quote!(#row),
        }
    }
}

/// `SELECT <columns> FROM <table> WHERE <key>`, live rows only unless `deleted_too`.
fn get_sql(shape: &Shape, deleted_too: bool) -> String {
    let condition = key_condition(shape, &mut Params { hub: shape.hub, n: 0 });
    let live = live_condition(shape.table)
        .filter(|_| !deleted_too)
        .map(|c| format!(" AND {c}"))
        .unwrap_or_default();
    format!(
        "SELECT {} FROM {} WHERE {condition}{live}",
        select_list(shape.table),
        shape.table_sql()
    )
}

/// The repository's `Table`: its reads' statements, the key's parameters,
/// and the cursor of each sort.
fn table_impl(shape: &Shape) -> TokenStream {
    let Shape {
        repo, row, filter, sort, ..
    } = shape;
    let key = shape.key_type();
    let marker = scope_marker(shape.receiver);
    let get = raw_string(&get_sql(shape, false));
    let (exists, get_many) = exists_and_get_many_sql(shape);
    let (exists, get_many) = (raw_string(&exists), raw_string(&get_many));
    let (list, orders) = list_sql(shape);
    let list = list.iter().map(|s| raw_string(s));
    let count = raw_string(&count_sql(shape));
    let stream = raw_string(&stream_sql(shape));
    let bind_filter = bind_filter(shape);
    let (bind_key, bind_keys) = if shape.key.len() == 1 {
        (quote!(args.add(key);), quote!(args.add(keys);))
    } else {
        // A composite key is a tuple: a parameter per column, and an array per column for many.
        let (parts, arrays): (Vec<TokenStream>, Vec<TokenStream>) = shape
            .key
            .iter()
            .enumerate()
            .map(|(i, column)| {
                let i = syn::Index::from(i);
                let part = owned(column, quote!(k.#i));
                let value = if is_copy(&column.ty) { quote!(key.#i) } else { quote!(&key.#i) };
                (
                    quote!(args.add(#value);),
                    quote!(args.add(keys.iter().map(|k| #part).collect::<Vec<_>>());),
                )
            })
            .unzip();
        (quote!(#(#parts)*), quote!(#(#arrays)*))
    };
    let key_fields: Vec<TokenStream> = shape
        .key
        .iter()
        .map(|c| {
            let f = field(&c.name);
            quote!(&row.#f)
        })
        .collect();
    let arms = shape.sort_variants().into_iter().map(|SortVariant { variant, column, .. }| {
        let values = match column {
            None => quote!((#(#key_fields,)*)),
            Some(c) => {
                let f = field(&c.name);
                quote!((&row.#f, #(#key_fields),*))
            }
        };
        quote!(#sort::#variant => ::hubgen_runtime::Cursor::of(order, &#values))
    });
    quote! {
        impl ::hubgen_runtime::table::Table for #repo {
            type Row = #row;
            type Key = #key;
            type Filter = #filter;
            type Sort = #sort;
            type Scope = #marker;
            const GET: &'static str = #get;
            const EXISTS: &'static str = #exists;
            const GET_MANY: &'static str = #get_many;
            const LIST: &'static [&'static str] = &[#(#list),*];
            const ORDERS: &'static [&'static str] = &[#(#orders),*];
            const COUNT: &'static str = #count;
            const STREAM: &'static str = #stream;
            #bind_filter
            #[inline]
            fn bind_key(key: &Self::Key, args: &mut ::hubgen_runtime::repo::Args) {
                #bind_key
            }
            #[inline]
            fn bind_keys(keys: &[Self::Key], args: &mut ::hubgen_runtime::repo::Args) {
                #bind_keys
            }
            #[inline]
            fn sort_index(sort: Self::Sort) -> usize {
                sort as usize
            }
            #[inline]
            fn cursor(sort: Self::Sort, order: &str, row: &Self::Row) -> ::hubgen_runtime::Cursor {
                match sort {
                    #(#arms),*
                }
            }
        }
    }
}

/// Soft-deleted tables' `SoftDelete`: the read that sees deleted rows, and `restore`.
fn soft_delete_impl(shape: &Shape) -> TokenStream {
    let table = shape.table;
    let Some(soft) = &table.soft_delete else { return quote!() };
    let name = shape.table_sql();
    let condition = key_condition(shape, &mut Params { hub: shape.hub, n: 0 });
    let c = q(&soft.column);
    let restore = match soft.kind {
        ir::SoftDeleteKind::Timestamp => format!("UPDATE {name} SET {c} = NULL WHERE {condition} AND {c} IS NOT NULL"),
        ir::SoftDeleteKind::Flag => format!("UPDATE {name} SET {c} = false WHERE {condition} AND {c}"),
    };
    let get = raw_string(&get_sql(shape, true));
    let restore = raw_string(&restore);
    let repo = &shape.repo;
    quote! {
        impl ::hubgen_runtime::table::SoftDelete for #repo {
            const GET_INCLUDING_DELETED: &'static str = #get;
            const RESTORE: &'static str = #restore;
        }
    }
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
            let values = columns.iter().map(|c| {
                let f = field(&named(c));
                match c.blind_index_of {
                    Some(_) => quote!(::hubgen_runtime::crypto::lookup(#f)?),
                    None => quote!(#f),
                }
            });
            let doc = format!(
                " The row whose {} equal these values.",
                columns.iter().map(|c| format!("`{}`", named(c))).collect::<Vec<_>>().join(", ")
            );
            let ShapeTokens { exec, scope, row, .. } = t;
            let sql = raw_string(&sql);
            quote! {
                #[doc = #doc]
                pub async fn #method(#exec, #(#args),*) -> Result<Option<#row>, ::hubgen_runtime::Error> {
                    const SQL: &str = #sql;
                    ::hubgen_runtime::repo::fetch_optional(#scope, SQL, (#(#values,)*)).await
                }
            }
        })
        .collect()
}

/// `(filters) AND (live unless asked)`, continuing `params`. Each filter
/// column's [`Condition`](hubgen_runtime) takes four parameters (`IN`, the
/// range's ends, `IS NULL`), each a no-op when NULL; the filter's
/// `Filter::bind` (see [`filter_impl`]) sends them in this order.
fn filter_condition(shape: &Shape, params: &mut Params) -> Vec<String> {
    let mut conditions = Vec::new();
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
    }
    if let Some(live) = live_condition(shape.table) {
        let p = params.typed("bool");
        conditions.push(format!("({p} OR {live})"));
    }
    conditions
}

/// `Table::bind_filter`: the filter struct's parameters, in [`filter_condition`]'s order.
fn bind_filter(shape: &Shape) -> TokenStream {
    let binds = shape.filters.iter().map(|c| {
        let f = field(&c.name);
        quote!(args.condition(&filter.#f);)
    });
    let live = shape.table.soft_delete.as_ref().map(|_| quote!(args.add(filter.include_deleted);));
    let (filter, args) = if shape.filters.is_empty() && live.is_none() {
        (quote!(_filter), quote!(_args))
    } else {
        (quote!(filter), quote!(args))
    };
    quote! {
        #[inline]
        fn bind_filter(#filter: &Self::Filter, #args: &mut ::hubgen_runtime::repo::Args) {
            #(#binds)*
            #live
        }
    }
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

/// `list`'s statements, one per order and direction so each can use its
/// index (the runtime picks statement `2 × sort + desc`), and the orders'
/// names, which cursors carry: one from another order is refused, not misread.
fn list_sql(shape: &Shape) -> (Vec<String>, Vec<String>) {
    let table = shape.table;
    let name = shape.table_sql();
    let mut params = Params { hub: shape.hub, n: 1 };
    let filters = filter_condition(shape, &mut params);
    let limit = params.typed("bigint");
    let variants = shape.sort_variants();
    let statements = variants
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
    let orders = variants
        .iter()
        .flat_map(|v| [format!("{} asc", v.name), format!("{} desc", v.name)])
        .collect();
    (statements, orders)
}

/// Conditions joined with AND; `true` when there are none.
fn all_of(conditions: &[String]) -> String {
    if conditions.is_empty() {
        "true".to_string()
    } else {
        conditions.join(" AND ")
    }
}

fn count_sql(shape: &Shape) -> String {
    let condition = all_of(&filter_condition(shape, &mut Params { hub: shape.hub, n: 0 }));
    format!("SELECT count(*) FROM {} WHERE {condition}", shape.table_sql())
}

/// Every row matching the filter, in primary-key order (`stream`: for scans
/// too large for one page).
fn stream_sql(shape: &Shape) -> String {
    let condition = all_of(&filter_condition(shape, &mut Params { hub: shape.hub, n: 0 }));
    let order: Vec<String> = shape.key.iter().map(|c| q(&c.name)).collect();
    format!(
        "SELECT {} FROM {} WHERE {condition} ORDER BY {}",
        select_list(shape.table),
        shape.table_sql(),
        order.join(", ")
    )
}

/// `exists` and `get_many` by primary key. Many keys travel as one array per
/// key column; rows come back in key order.
fn exists_and_get_many_sql(shape: &Shape) -> (String, String) {
    let table = shape.table;
    let name = shape.table_sql();
    let live = live_condition(table).map(|c| format!(" AND {c}")).unwrap_or_default();
    let condition = key_condition(shape, &mut Params { hub: shape.hub, n: 0 });
    let exists = format!("SELECT EXISTS (SELECT 1 FROM {name} WHERE {condition}{live})");
    let key_columns: Vec<String> = shape.key.iter().map(|c| q(&c.name)).collect();
    let arrays: Vec<String> = shape
        .key
        .iter()
        .enumerate()
        .map(|(i, c)| format!("${}::{}[]", i + 1, sql_type(shape.hub, &c.ty)))
        .collect();
    let many = format!(
        "SELECT {} FROM {name} WHERE ({}) IN (SELECT * FROM UNNEST({})){live} ORDER BY {}",
        select_list(table),
        key_columns.join(", "),
        arrays.join(", "),
        key_columns.join(", ")
    );
    (exists, many)
}

/// Column list and value expressions of an insert of one row, in the order
/// the insert struct's fields are bound (`Write::bind`), then the tenant.
fn insert_parts(shape: &Shape, params: &mut Params) -> (Vec<String>, Vec<String>) {
    let mut columns = Vec::new();
    let mut values = Vec::new();
    for column in &shape.insertable {
        columns.push(q(&column.name));
        let p = params.value(column);
        // A column with a default is optional in the insert struct: `None` takes the default.
        values.push(match &column.default {
            Some(default) => format!("COALESCE({p}, {default})"),
            None => p,
        });
    }
    if let Some(tenant) = shape.tenant {
        columns.push(q(&tenant.name));
        values.push(params.typed("uuid"));
    }
    (columns, values)
}

/// `Write`'s items for the insert struct: which field goes to which
/// parameter, for every insert and upsert (and, without array columns, which
/// to which array).
fn new_row_items(shape: &Shape) -> TokenStream {
    let binds = shape.insertable.iter().map(|c| {
        let f = field(&c.name);
        if matches!(c.ty, ColumnType::Json) {
            let value = if shape.is_new_optional(c) {
                quote!(new.#f.as_ref())
            } else {
                quote!(Some(&new.#f))
            };
            let or_default = c.default.is_some();
            quote!(sink.json(#value, #or_default);)
        } else if c.default.is_some() {
            quote!(sink.or_default(&new.#f);)
        } else {
            quote!(sink.value(&new.#f);)
        }
    });
    let tenant = shape.tenant.map(|column| {
        let column = q(&column.name);
        quote!(const TENANT: Option<&'static str> = Some(#column);)
    });
    // Without array columns, many rows travel as one array per column.
    let bind_columns = (!has_arrays(shape)).then(|| {
        let columns = shape.insertable.iter().map(|c| {
            let f = field(&c.name);
            quote!(args.column(rows, |r| &r.#f);)
        });
        quote! {
            #[inline]
            fn bind_columns(rows: &[Self::New], args: &mut ::hubgen_runtime::repo::Args) -> bool {
                #(#columns)*
                true
            }
        }
    });
    quote! {
        #tenant
        #[inline]
        fn validate(new: &Self::New) -> Result<(), Vec<::hubgen_runtime::Violation>> {
            new.validate()
        }
        #[inline]
        fn bind(new: &Self::New, sink: &mut impl ::hubgen_runtime::repo::Sink) {
            #(#binds)*
        }
        #bind_columns
    }
}

/// UNNEST flattens nested arrays, so tables with array columns insert row by row.
fn has_arrays(shape: &Shape) -> bool {
    shape.insertable.iter().any(|c| matches!(c.ty, ColumnType::Array(_)))
}

/// The repository's `Write`: the inserts' and the delete's statements, and
/// the insert and patch structs' fields as parameters.
fn write_impl(shape: &Shape) -> TokenStream {
    let table = shape.table;
    let name = shape.table_sql();
    let (columns, values) = insert_parts(shape, &mut Params { hub: shape.hub, n: 0 });
    let insert = format!(
        "INSERT INTO {name} ({}) VALUES ({}) RETURNING {}",
        columns.join(", "),
        values.join(", "),
        select_list(table)
    );
    // The single-row insert: the whole job with array columns, else the probe that finds a refused row.
    let one = format!("INSERT INTO {name} ({}) VALUES ({})", columns.join(", "), values.join(", "));
    let many = match insert_many_sql(shape) {
        Some(sql) => {
            let sql = raw_string(&sql);
            quote!(Some(#sql))
        }
        None => quote!(None),
    };
    let condition = key_condition(shape, &mut Params { hub: shape.hub, n: 0 });
    let delete = match &table.soft_delete {
        Some(soft) => {
            let set = match soft.kind {
                ir::SoftDeleteKind::Timestamp => format!("{} = now()", q(&soft.column)),
                ir::SoftDeleteKind::Flag => format!("{} = true", q(&soft.column)),
            };
            let live = live_condition(table).unwrap_or_default();
            format!("UPDATE {name} SET {set} WHERE {condition} AND {live}")
        }
        None => format!("DELETE FROM {name} WHERE {condition}"),
    };
    let (insert, one, delete) = (raw_string(&insert), raw_string(&one), raw_string(&delete));
    let copy = copy_target(shape);
    let new_items = new_row_items(shape);
    let patch_items = patch_items(shape);
    let Shape { repo, new, patch, .. } = shape;
    quote! {
        impl ::hubgen_runtime::table::Write for #repo {
            type New = #new;
            type Patch = #patch;
            const INSERT: &'static str = #insert;
            const INSERT_MANY: Option<&'static str> = #many;
            const INSERT_ONE: &'static str = #one;
            const DELETE: &'static str = #delete;
            #copy
            #new_items
            #patch_items
        }
    }
}

/// The insert of many rows in one statement, one array parameter per column
/// (`None` with array columns: `UNNEST` would flatten them).
fn insert_many_sql(shape: &Shape) -> Option<String> {
    if has_arrays(shape) {
        return None;
    }
    let mut params = Params { hub: shape.hub, n: 0 };
    let mut columns = Vec::new();
    let mut arrays = Vec::new();
    let mut aliases = Vec::new();
    let mut values = Vec::new();
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
    }
    if let Some(tenant) = shape.tenant {
        columns.push(q(&tenant.name));
        values.push(params.typed("uuid"));
    }
    Some(format!(
        "INSERT INTO {} ({}) SELECT {} FROM UNNEST({}) AS u({})",
        shape.table_sql(),
        columns.join(", "),
        values.join(", "),
        arrays.join(", "),
        aliases.join(", ")
    ))
}

/// `Write::COPY`, where [`Shape::copies`] (else the default, `None`).
fn copy_target(shape: &Shape) -> TokenStream {
    if !shape.copies() {
        return quote!();
    }
    let table = shape.table;
    let name = shape.table_sql();
    let columns: Vec<String> = shape.insertable.iter().map(|c| q(&c.name)).collect();
    let staging = format!("{}_{}", table.schema, table.name);
    let row_security = crate::sql::access_rls_enabled(table);
    quote! {
        const COPY: Option<::hubgen_runtime::copy::CopyTarget> = Some(::hubgen_runtime::copy::CopyTarget {
            table: #name,
            columns: &[#(#columns),*],
            staging: #staging,
            row_security: #row_security,
        });
    }
}

/// `Write`'s items for the patch struct: its parameters in [`update_sql`]'s order.
fn patch_items(shape: &Shape) -> TokenStream {
    let binds = shape.patchable.iter().map(|c| {
        let f = field(&c.name);
        if c.nullable {
            quote!(args.patch(&patch.#f);)
        } else if is_copy(&c.ty) {
            quote!(args.add(patch.#f);)
        } else {
            quote!(args.add(&patch.#f);)
        }
    });
    let (patch, args) = if shape.patchable.is_empty() {
        (quote!(_patch), quote!(_args))
    } else {
        (quote!(patch), quote!(args))
    };
    quote! {
        #[inline]
        fn validate_patch(patch: &Self::Patch) -> Result<(), Vec<::hubgen_runtime::Violation>> {
            patch.validate()
        }
        #[inline]
        fn bind_patch(#patch: &Self::Patch, #args: &mut ::hubgen_runtime::repo::Args) {
            #(#binds)*
        }
    }
}

/// `UPDATE ... RETURNING` by key: the key's parameters, the patch's, then
/// (versioned tables) the expected version, which moves on.
fn update_sql(shape: &Shape) -> String {
    let table = shape.table;
    let mut params = Params { hub: shape.hub, n: 0 };
    let mut condition = key_condition(shape, &mut params);
    let mut sets = Vec::new();
    for column in &shape.patchable {
        let c = q(&column.name);
        if column.nullable {
            let flag = params.typed("bool");
            let value = params.value(column);
            sets.push(format!("{c} = CASE WHEN {flag} THEN {value} ELSE {c} END"));
        } else {
            sets.push(format!("{c} = COALESCE({}, {c})", params.value(column)));
        }
    }
    for column in table.columns.iter().filter(|c| c.touch) {
        sets.push(format!("{} = now()", q(&column.name)));
    }
    if let Some(column) = version_column(shape) {
        let c = q(&column.name);
        sets.push(format!("{c} = {c} + 1"));
        condition.push_str(&format!(" AND {c} = {}", params.value(column)));
    }
    if sets.is_empty() {
        let first = q(&shape.key[0].name);
        sets.push(format!("{first} = {first}"));
    }
    if let Some(live) = live_condition(table) {
        condition.push_str(&format!(" AND {live}"));
    }
    format!(
        "UPDATE {} SET {} WHERE {condition} RETURNING {}",
        shape.table_sql(),
        sets.join(", "),
        select_list(table)
    )
}

fn version_column<'a>(shape: &Shape<'a>) -> Option<&'a ir::Column> {
    let table = shape.table;
    table.version_column.as_deref().and_then(|v| table.column(v))
}

/// The repository's `Update`, for tables without a version column.
fn update_impl(shape: &Shape) -> TokenStream {
    let repo = &shape.repo;
    let sql = raw_string(&update_sql(shape));
    quote! {
        impl ::hubgen_runtime::table::Update for #repo {
            const UPDATE: &'static str = #sql;
        }
    }
}

/// A versioned table's `update`, which takes the expected version too: its
/// repository's own method (`None` for other tables: see [`update_impl`]).
fn versioned_update(shape: &Shape, t: &ShapeTokens) -> Option<TokenStream> {
    let version = version_column(shape)?;
    let ty = shape.ty(version);
    let key = shape.key_type();
    // No row matched: either it is gone, or its version moved on. The key
    // is asked for twice then, so the first use clones it.
    let first = key_params(shape, if key_is_copy(shape) { quote!(key) } else { quote!(key.clone()) });
    let sql = raw_string(&update_sql(shape));
    let patch_ty = &shape.patch;
    let table_name = &shape.table.name;
    let ShapeTokens { exec, scope, row } = t;
    Some(quote! {
        /// Applies a patch if the row still has `expected_version` (optimistic locking), bumping the version; `Error::Conflict` if it changed meanwhile.
        pub async fn update(#exec, key: #key, patch: &#patch_ty, expected_version: #ty) -> Result<#row, ::hubgen_runtime::Error> {
            const SQL: &str = #sql;
            if let Some(row) = ::hubgen_runtime::repo::update::<Self, _>(#scope, SQL, #first, patch, (expected_version,)).await? {
                return Ok(row);
            }
            let exists = <Self as ::hubgen_runtime::table::Table>::exists(#scope, key).await?;
            Err(if exists { ::hubgen_runtime::Error::Conflict { table: #table_name } } else { ::hubgen_runtime::Error::NotFound })
        }
    })
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
            let (columns, values) = insert_parts(shape, &mut params);
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
            let ShapeTokens { exec, scope, row, .. } = t;
            let sql = raw_string(&sql);
            quote! {
                #[doc = #doc]
                pub async fn #method(#exec, new: &#new_ty) -> Result<#row, ::hubgen_runtime::Error> {
                    const SQL: &str = #sql;
                    ::hubgen_runtime::repo::insert::<Self, _>(#scope, SQL, new).await
                }
            }
        })
        .collect()
}
