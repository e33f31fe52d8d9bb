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
    let mut methods = vec![
        get(&shape, &full),
        exists_and_get_many(&shape, &full),
        list(&shape, &full),
        count(&shape, &full),
        stream(&shape, &full),
    ];
    methods.extend(get_by_unique(&shape, &full));
    let mut impls = filter_impl(&shape);
    if hub.writes(table) {
        methods.push(insert(&shape, &full));
        methods.push(insert_many(&shape, &full));
        if let Some((method, row_impl)) = insert_copy(&shape, &full) {
            methods.push(method);
            impls.extend(row_impl);
        }
        methods.push(update(&shape, &full));
        methods.push(delete(&shape, &full));
        if table.soft_delete.is_some() {
            methods.push(restore(&shape, &full));
        }
        methods.extend(upserts(&shape, &full));
        impls.extend(new_row_impl(&shape));
        impls.extend(patch_row_impl(&shape));
    }
    repo_struct(&shape, methods, impls)
}

fn repo_struct(shape: &Shape, methods: Vec<TokenStream>, impls: TokenStream) -> TokenStream {
    let methods: Vec<TokenStream> = {
        let block: syn::ItemImpl = syn::parse2(quote!(impl Repo { #(#methods)* })).expect("repository methods parse");
        block.items.into_iter().map(|item| returning_future(item, shape.receiver)).collect()
    };
    let (hub, table) = (shape.hub, shape.table);
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
fn returning_future(item: syn::ImplItem, receiver: Receiver) -> TokenStream {
    let syn::ImplItem::Fn(mut f) = item else {
        return quote!(#item);
    };
    let Some((rest, call)) = only_awaits_last(&f) else {
        return quote!(#f);
    };
    f.sig.asyncness = None;
    f.block = syn::parse_quote!({ #(#rest)* #call });
    // Every borrow lives in the future: the executor's (a `TenantTx<'t>`'s
    // own lifetime too, named and captured) and the other arguments'.
    let tenant = matches!(receiver, Receiver::Tenant);
    f.sig.generics.params.push(syn::parse_quote!('a));
    let exec = if tenant {
        f.sig.generics.params.push(syn::parse_quote!('t));
        quote!(tx: &'a mut ::hubgen_runtime::TenantTx<'t>)
    } else {
        receiver_param(receiver, quote!('a))
    };
    let mut inputs = f.sig.inputs.iter_mut();
    if let Some(first) = inputs.next() {
        *first = syn::parse_quote!(#exec);
    }
    for input in inputs {
        if let syn::FnArg::Typed(arg) = input {
            if let syn::Type::Reference(reference) = &mut *arg.ty {
                reference.lifetime = Some(syn::parse_quote!('a));
            }
        }
    }
    let syn::ReturnType::Type(_, output) = &f.sig.output else {
        unreachable!("repository methods return a Result")
    };
    let capture = if tenant { quote!(use<'a, 't>) } else { quote!('a) };
    f.sig.output = syn::parse_quote!(-> impl ::std::future::Future<Output = #output> + #capture);
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

/// Tokens every method uses: the executor parameter, the `Scope` it is
/// passed on as (the runtime's functions take any), the row and key types.
struct ShapeTokens {
    exec: TokenStream,
    scope: TokenStream,
    row: TokenStream,
    key: TokenStream,
}

impl ShapeTokens {
    fn new(shape: &Shape) -> ShapeTokens {
        let row = &shape.row;
        ShapeTokens {
            exec: receiver_param(shape.receiver, quote!()),
            scope: match shape.receiver {
                Receiver::Conn => quote!(&mut *conn),
                _ => quote!(&mut *tx),
            },
            row: quote!(#row),
            key: shape.key_type(),
        }
    }
}

fn get(shape: &Shape, t: &ShapeTokens) -> TokenStream {
    let table = shape.table;
    let name = shape.table_sql();
    let condition = key_condition(shape, &mut Params { hub: shape.hub, n: 0 });
    let live = live_condition(table).map(|c| format!(" AND {c}")).unwrap_or_default();
    let sql = format!("SELECT {} FROM {name} WHERE {condition}{live}", select_list(table));
    let ShapeTokens { exec, scope, row, key } = t;
    let params = key_params(shape, quote!(key));
    let sql = raw_string(&sql);
    let mut out = quote! {
        /// The row with this primary key, if it exists (and is not soft-deleted).
        pub async fn get(#exec, key: #key) -> Result<Option<#row>, ::hubgen_runtime::Error> {
            const SQL: &str = #sql;
            ::hubgen_runtime::repo::fetch_optional(#scope, SQL, #params).await
        }
    };
    if !live.is_empty() {
        let sql = format!("SELECT {} FROM {name} WHERE {condition}", select_list(table));
        let sql = raw_string(&sql);
        out.extend(quote! {
            /// The row with this primary key, soft-deleted or not.
            pub async fn get_including_deleted(#exec, key: #key) -> Result<Option<#row>, ::hubgen_runtime::Error> {
                const SQL: &str = #sql;
                ::hubgen_runtime::repo::fetch_optional(#scope, SQL, #params).await
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

/// The filter struct's parameters, in [`filter_condition`]'s order.
fn filter_impl(shape: &Shape) -> TokenStream {
    let binds = shape.filters.iter().map(|c| {
        let f = field(&c.name);
        quote!(args.condition(&self.#f);)
    });
    let live = shape.table.soft_delete.as_ref().map(|_| quote!(args.add(self.include_deleted);));
    let filter = &shape.filter;
    let args = if shape.filters.is_empty() && live.is_none() {
        quote!(_args)
    } else {
        quote!(args)
    };
    quote! {
        impl ::hubgen_runtime::repo::Filter for #filter {
            #[inline]
            fn bind(&self, #args: &mut ::hubgen_runtime::repo::Args) {
                #(#binds)*
                #live
            }
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

fn list(shape: &Shape, t: &ShapeTokens) -> TokenStream {
    let table = shape.table;
    let name = shape.table_sql();
    let mut params = Params { hub: shape.hub, n: 1 };
    let filters = filter_condition(shape, &mut params);
    let limit = params.typed("bigint");
    let variants = shape.sort_variants();
    // One statement per order and direction, so each can use its index;
    // the runtime picks statement `2 × sort + desc`.
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
    let arms = variants.iter().map(|SortVariant { variant, column, .. }| {
        let values = match column {
            None => quote!((#(#key_fields,)*)),
            Some(c) => {
                let f = field(&c.name);
                quote!((&row.#f, #(#key_fields),*))
            }
        };
        quote!(#sort::#variant => ::hubgen_runtime::Cursor::of(order, &#values))
    });
    // Each cursor names its order, so one from another order is refused, not misread.
    let orders: Vec<String> = variants
        .iter()
        .flat_map(|v| [format!("{} asc", v.name), format!("{} desc", v.name)])
        .collect();
    let filter = &shape.filter;
    let ShapeTokens { exec, scope, row, .. } = t;
    let statements: Vec<_> = statements.iter().map(|s| raw_string(s)).collect();
    quote! {
        /// One page of rows matching the filter, in the requested order (keyset pagination: stable under concurrent writes; ties broken by the primary key).
        pub async fn list(#exec, filter: &#filter, page: &::hubgen_runtime::PageRequest<#sort>) -> Result<::hubgen_runtime::Page<#row>, ::hubgen_runtime::Error> {
            const SQL: [&str; #count] = [#(#statements),*];
            const ORDERS: [&str; #count] = [#(#orders),*];
            ::hubgen_runtime::repo::list(#scope, &SQL, &ORDERS, page.sort as usize, filter, page, |order, row: &#row| match page.sort {
                #(#arms),*
            })
            .await
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
    let condition = all_of(&filter_condition(shape, &mut Params { hub: shape.hub, n: 0 }));
    let sql = format!("SELECT count(*) FROM {name} WHERE {condition}");
    let filter = &shape.filter;
    let ShapeTokens { exec, scope, .. } = t;
    let sql = raw_string(&sql);
    quote! {
        /// How many rows match the filter.
        pub async fn count(#exec, filter: &#filter) -> Result<i64, ::hubgen_runtime::Error> {
            const SQL: &str = #sql;
            ::hubgen_runtime::repo::count(#scope, SQL, filter).await
        }
    }
}

/// Every row matching the filter, in primary-key order, read as a stream:
/// for scans too large for one page.
fn stream(shape: &Shape, t: &ShapeTokens) -> TokenStream {
    let table = shape.table;
    let name = shape.table_sql();
    let condition = all_of(&filter_condition(shape, &mut Params { hub: shape.hub, n: 0 }));
    let order: Vec<String> = shape.key.iter().map(|c| q(&c.name)).collect();
    let sql = format!(
        "SELECT {} FROM {name} WHERE {condition} ORDER BY {}",
        select_list(table),
        order.join(", ")
    );
    let filter = &shape.filter;
    let ShapeTokens { scope, row, .. } = t;
    // The stream borrows the connection for as long as it runs.
    let exec = receiver_param(shape.receiver, quote!('a));
    let sql = raw_string(&sql);
    quote! {
        /// Every row matching the filter in primary-key order, one at a time: for scans too large for a page (rows stream as PostgreSQL sends them).
        pub fn stream<'a>(#exec, filter: &#filter) -> ::hubgen_runtime::RowStream<'a, #row> {
            const SQL: &str = #sql;
            ::hubgen_runtime::repo::stream(#scope, SQL, filter)
        }
    }
}

/// `exists` and `get_many` by primary key.
fn exists_and_get_many(shape: &Shape, t: &ShapeTokens) -> TokenStream {
    let table = shape.table;
    let name = shape.table_sql();
    let live = live_condition(table).map(|c| format!(" AND {c}")).unwrap_or_default();
    let condition = key_condition(shape, &mut Params { hub: shape.hub, n: 0 });
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
    let many_params = if shape.key.len() == 1 {
        quote!((keys,))
    } else {
        let parts = (0..shape.key.len()).map(|i| {
            let i = syn::Index::from(i);
            let part = owned(shape.key[i.index as usize], quote!(k.#i));
            quote!(keys.iter().map(|k| #part).collect::<Vec<_>>())
        });
        quote!((#(#parts,)*))
    };
    let ShapeTokens { exec, scope, row, key } = t;
    let params = key_params(shape, quote!(key));
    let exists_sql = raw_string(&exists_sql);
    let many_sql = raw_string(&many_sql);
    quote! {
        /// Whether a row with this primary key exists (and is not soft-deleted).
        pub async fn exists(#exec, key: #key) -> Result<bool, ::hubgen_runtime::Error> {
            const SQL: &str = #exists_sql;
            ::hubgen_runtime::repo::exists(#scope, SQL, #params).await
        }

        /// The rows with these primary keys, in key order; keys without a row are left out.
        pub async fn get_many(#exec, keys: &[#key]) -> Result<Vec<#row>, ::hubgen_runtime::Error> {
            const SQL: &str = #many_sql;
            ::hubgen_runtime::repo::fetch_all(#scope, SQL, #many_params).await
        }
    }
}

/// Column list and value expressions of an insert of one row, in the order
/// the insert struct's `NewRow::bind` sends them, then the tenant.
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

/// The insert struct's `NewRow` (and, without array columns, `NewRows`):
/// which field goes to which parameter, for every insert and upsert.
fn new_row_impl(shape: &Shape) -> TokenStream {
    let binds = shape.insertable.iter().map(|c| {
        let f = field(&c.name);
        if matches!(c.ty, ColumnType::Json) {
            let value = if shape.is_new_optional(c) {
                quote!(self.#f.as_ref())
            } else {
                quote!(Some(&self.#f))
            };
            let or_default = c.default.is_some();
            quote!(sink.json(#value, #or_default);)
        } else if c.default.is_some() {
            quote!(sink.or_default(&self.#f);)
        } else {
            quote!(sink.value(&self.#f);)
        }
    });
    let tenant = shape.tenant.map(|column| {
        let column = q(&column.name);
        quote!(const TENANT: Option<&'static str> = Some(#column);)
    });
    let new_ty = &shape.new;
    let mut out = quote! {
        impl ::hubgen_runtime::repo::NewRow for #new_ty {
            #tenant
            #[inline]
            fn validate(&self) -> Result<(), Vec<::hubgen_runtime::Violation>> {
                self.validate()
            }
            fn bind(&self, sink: &mut impl ::hubgen_runtime::repo::Sink) {
                #(#binds)*
            }
        }
    };
    if !has_arrays(shape) {
        let columns = shape.insertable.iter().map(|c| {
            let f = field(&c.name);
            quote!(args.column(rows, |r| &r.#f);)
        });
        out.extend(quote! {
            impl ::hubgen_runtime::repo::NewRows for #new_ty {
                #[inline]
                fn bind_columns(rows: &[Self], args: &mut ::hubgen_runtime::repo::Args) {
                    #(#columns)*
                }
            }
        });
    }
    out
}

/// UNNEST flattens nested arrays, so tables with array columns insert row by row.
fn has_arrays(shape: &Shape) -> bool {
    shape.insertable.iter().any(|c| matches!(c.ty, ColumnType::Array(_)))
}

fn insert(shape: &Shape, t: &ShapeTokens) -> TokenStream {
    let table = shape.table;
    let name = shape.table_sql();
    let (columns, values) = insert_parts(shape, &mut Params { hub: shape.hub, n: 0 });
    let sql = format!(
        "INSERT INTO {name} ({}) VALUES ({}) RETURNING {}",
        columns.join(", "),
        values.join(", "),
        select_list(table)
    );
    let new_ty = &shape.new;
    let ShapeTokens { exec, scope, row, .. } = t;
    let sql = raw_string(&sql);
    quote! {
        /// Inserts one row (after `validate()`), returning it as stored.
        pub async fn insert(#exec, new: &#new_ty) -> Result<#row, ::hubgen_runtime::Error> {
            const SQL: &str = #sql;
            ::hubgen_runtime::repo::insert(#scope, SQL, new).await
        }
    }
}

fn insert_many(shape: &Shape, t: &ShapeTokens) -> TokenStream {
    let name = shape.table_sql();
    let new_ty = &shape.new;
    let ShapeTokens { exec, scope, .. } = t;
    // The single-row insert: the whole job with array columns, else the probe that finds a refused row.
    let (one_columns, one_values) = insert_parts(shape, &mut Params { hub: shape.hub, n: 0 });
    let one = format!("INSERT INTO {name} ({}) VALUES ({})", one_columns.join(", "), one_values.join(", "));
    if has_arrays(shape) {
        let one = raw_string(&one);
        return quote! {
            /// Inserts many rows (one statement each: this table has array columns), returning how many; a refused row is named by `Error::InRow`.
            pub async fn insert_many(#exec, rows: &[#new_ty]) -> Result<u64, ::hubgen_runtime::Error> {
                const ONE: &str = #one;
                ::hubgen_runtime::repo::insert_each(#scope, ONE, rows).await
            }
        };
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
    let sql = format!(
        "INSERT INTO {name} ({}) SELECT {} FROM UNNEST({}) AS u({})",
        columns.join(", "),
        values.join(", "),
        arrays.join(", "),
        aliases.join(", ")
    );
    let sql = raw_string(&sql);
    let one = raw_string(&one);
    quote! {
        /// Inserts many rows in one statement (one array parameter per column), returning how many. All or none: if the database refuses a row, nothing is inserted and `Error::InRow` names the first row it refuses.
        pub async fn insert_many(#exec, rows: &[#new_ty]) -> Result<u64, ::hubgen_runtime::Error> {
            const SQL: &str = #sql;
            const ONE: &str = #one;
            ::hubgen_runtime::repo::insert_many(#scope, SQL, ONE, rows).await
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
    let new_ty = &shape.new;
    let staging = format!("{}_{}", table.schema, table.name);
    let row_security = crate::sql::access_rls_enabled(table);
    let ShapeTokens { exec, scope, .. } = t;
    let method = quote! {
        /// Inserts many rows by binary COPY (after `validate()` of each), returning how many: the fastest way in for large batches. Rows land as `insert_many` would store them; fields left `None` take their defaults.
        pub async fn insert_copy(#exec, rows: &[#new_ty]) -> Result<u64, ::hubgen_runtime::Error> {
            ::hubgen_runtime::repo::insert_copy(#scope, rows).await
        }
    };
    let row_impl = quote! {
        impl ::hubgen_runtime::copy::CopyRow for #new_ty {
            const TABLE: &'static str = #name;
            const COLUMNS: &'static [&'static str] = &[#(#columns),*];
            const STAGING: &'static str = #staging;
            const ROW_SECURITY: bool = #row_security;
        }
    };
    Some((method, row_impl))
}

/// The patch struct's `PatchRow`: its parameters in [`update`]'s order.
fn patch_row_impl(shape: &Shape) -> TokenStream {
    let binds = shape.patchable.iter().map(|c| {
        let f = field(&c.name);
        if c.nullable {
            quote!(args.patch(&self.#f);)
        } else if is_copy(&c.ty) {
            quote!(args.add(self.#f);)
        } else {
            quote!(args.add(&self.#f);)
        }
    });
    let patch_ty = &shape.patch;
    let args = if shape.patchable.is_empty() { quote!(_args) } else { quote!(args) };
    quote! {
        impl ::hubgen_runtime::repo::PatchRow for #patch_ty {
            #[inline]
            fn validate(&self) -> Result<(), Vec<::hubgen_runtime::Violation>> {
                self.validate()
            }
            #[inline]
            fn bind(&self, #args: &mut ::hubgen_runtime::repo::Args) {
                #(#binds)*
            }
        }
    }
}

fn update(shape: &Shape, t: &ShapeTokens) -> TokenStream {
    let table = shape.table;
    let name = shape.table_sql();
    let mut params = Params { hub: shape.hub, n: 0 };
    let key_sql = key_condition(shape, &mut params);
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
    let mut condition = key_sql;
    let version = table.version_column.as_deref().and_then(|v| table.column(v));
    let mut version_arg = quote!();
    let mut after = quote!(());
    if let Some(column) = version {
        let c = q(&column.name);
        sets.push(format!("{c} = {c} + 1"));
        condition.push_str(&format!(" AND {c} = {}", params.value(column)));
        let ty = shape.ty(column);
        version_arg = quote!(, expected_version: #ty);
        after = quote!((expected_version,));
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
    let ShapeTokens { exec, scope, row, key } = t;
    let table_name = &table.name;
    let doc = if version.is_some() {
        " Applies a patch if the row still has `expected_version` (optimistic locking), bumping the version; `Error::Conflict` if it changed meanwhile."
    } else {
        " Applies a patch to the row with this key and returns the row as stored."
    };
    let Some(_) = version else {
        let params = key_params(shape, quote!(key));
        let sql = raw_string(&sql);
        return quote! {
            #[doc = #doc]
            pub async fn update(#exec, key: #key, patch: &#patch_ty) -> Result<#row, ::hubgen_runtime::Error> {
                const SQL: &str = #sql;
                ::hubgen_runtime::repo::update(#scope, SQL, #params, patch, ()).await?.ok_or(::hubgen_runtime::Error::NotFound)
            }
        };
    };
    // No row matched: either it is gone, or its version moved on. The key
    // is asked for twice then, so the first use clones it.
    let first = key_params(shape, if key_is_copy(shape) { quote!(key) } else { quote!(key.clone()) });
    let params = key_params(shape, quote!(key));
    let live = live_condition(table).map(|c| format!(" AND {c}")).unwrap_or_default();
    let exists_condition = key_condition(shape, &mut Params { hub: shape.hub, n: 0 });
    let exists_sql = format!("SELECT EXISTS (SELECT 1 FROM {name} WHERE {exists_condition}{live})");
    let sql = raw_string(&sql);
    let exists_sql = raw_string(&exists_sql);
    quote! {
        #[doc = #doc]
        pub async fn update(#exec, key: #key, patch: &#patch_ty #version_arg) -> Result<#row, ::hubgen_runtime::Error> {
            const SQL: &str = #sql;
            const EXISTS: &str = #exists_sql;
            if let Some(row) = ::hubgen_runtime::repo::update(#scope, SQL, #first, patch, #after).await? {
                return Ok(row);
            }
            let exists = ::hubgen_runtime::repo::exists(#scope, EXISTS, #params).await?;
            Err(if exists { ::hubgen_runtime::Error::Conflict { table: #table_name } } else { ::hubgen_runtime::Error::NotFound })
        }
    }
}

fn delete(shape: &Shape, t: &ShapeTokens) -> TokenStream {
    let table = shape.table;
    let name = shape.table_sql();
    let condition = key_condition(shape, &mut Params { hub: shape.hub, n: 0 });
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
    let ShapeTokens { exec, scope, key, .. } = t;
    let params = key_params(shape, quote!(key));
    let sql = raw_string(&sql);
    quote! {
        #[doc = #doc]
        pub async fn delete(#exec, key: #key) -> Result<(), ::hubgen_runtime::Error> {
            const SQL: &str = #sql;
            ::hubgen_runtime::repo::execute_one(#scope, SQL, #params).await
        }
    }
}

fn restore(shape: &Shape, t: &ShapeTokens) -> TokenStream {
    let table = shape.table;
    let name = shape.table_sql();
    let Some(soft) = &table.soft_delete else { return quote!() };
    let condition = key_condition(shape, &mut Params { hub: shape.hub, n: 0 });
    let c = q(&soft.column);
    let sql = match soft.kind {
        ir::SoftDeleteKind::Timestamp => format!("UPDATE {name} SET {c} = NULL WHERE {condition} AND {c} IS NOT NULL"),
        ir::SoftDeleteKind::Flag => format!("UPDATE {name} SET {c} = false WHERE {condition} AND {c}"),
    };
    let ShapeTokens { exec, scope, key, .. } = t;
    let params = key_params(shape, quote!(key));
    let sql = raw_string(&sql);
    quote! {
        /// Brings a soft-deleted row back.
        pub async fn restore(#exec, key: #key) -> Result<(), ::hubgen_runtime::Error> {
            const SQL: &str = #sql;
            ::hubgen_runtime::repo::execute_one(#scope, SQL, #params).await
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
                    ::hubgen_runtime::repo::insert(#scope, SQL, new).await
                }
            }
        })
        .collect()
}
