//! The generated round-trip test of a hub crate: for every table, the
//! generated API against a fresh PostgreSQL database — insert, get, get by
//! each unique key, list (paged), count, batch insert, patch (with the
//! version check where declared), delete, restore. Generated from the same
//! IR as the crate, so every table is covered and none is forgotten.

use super::models::{check_list, is_typed_id, Receiver, Shape};
use super::names::{field, ident, pascal, variants};
use super::types::owned;
use super::Ids;
use crate::sql::quote::{ident as q, qualified};
use hubgen_schema::ir;
use hubgen_schema::types::ColumnType;
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

/// `'2026-02-01'` → (2026, 2, 1)
fn date_of(bound: &str) -> Option<(i32, u32, u32)> {
    let inner = bound.trim_matches('\'');
    let mut parts = inner.get(..10)?.split('-');
    Some((
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
    ))
}

/// A Rust expression of `column`'s (non-null) type; `variant` 0 or 1 gives two different values.
fn sample(shape: &Shape, column: &ir::Column, variant: u32) -> TokenStream {
    if let Some(encryption) = &column.encrypted {
        // The plain value's sample, sealed by the key ring the test installs.
        let plain = ir::Column {
            ty: encryption.plaintext.clone(),
            encrypted: None,
            ..column.clone()
        };
        let value = sample(shape, &plain, variant);
        return match encryption.searchable {
            true => quote!(::hubgen_runtime::crypto::SearchableSecret::new(#value)),
            false => quote!(::hubgen_runtime::crypto::Secret::new(#value)),
        };
    }
    let (hub, table) = (shape.hub, shape.table);
    let partition_date = table
        .partitioning
        .as_ref()
        .filter(|p| p.column == column.name)
        .and_then(|p| p.partitions.first())
        .and_then(|p| date_of(&p.from));
    let (y, m, d) = partition_date.unwrap_or((2026, 1, 15));
    let day = d + variant;
    match &column.ty {
        ColumnType::Uuid => {
            let ty = shape.ty(column);
            if is_typed_id(&ty) {
                quote!(#ty::new())
            } else {
                quote!(::uuid::Uuid::new_v4())
            }
        }
        ColumnType::Varchar(_) | ColumnType::Char(_) | ColumnType::Text => {
            if let Some(list) = check_list(table, &column.name) {
                // By `n`, so the rows of a unique column differ.
                let n = if variant == 0 { quote!(n) } else { quote!(n + #variant) };
                return quote!(::hubgen_runtime::testing::pick(&[#(#list),*], #n));
            }
            let max = match column.ty {
                ColumnType::Varchar(Some(n)) | ColumnType::Char(n) => n as usize,
                _ => 64,
            };
            if let ColumnType::Char(n) = column.ty {
                let n = n as usize;
                return quote!(format!("{:0>width$}", n % 10, width = #n));
            }
            let text = match column.format.as_deref() {
                Some("email") => quote!(format!("user{n}.{}@example.com", #variant)),
                Some("url") => quote!(format!("https://example.com/{n}/{}", #variant)),
                Some("phone") if variant == 0 => quote!(format!("+1555{:06}", n * 2)),
                Some("phone") => quote!(format!("+1555{:06}", n * 2 + #variant)),
                Some("uuid") => quote!(::uuid::Uuid::new_v4().to_string()),
                _ => {
                    let (variant, max) = (Literal::u32_unsuffixed(variant), Literal::usize_unsuffixed(max));
                    return quote!(::hubgen_runtime::testing::text(#variant, n, #max));
                }
            };
            quote!(#text.chars().take(#max).collect::<String>())
        }
        ColumnType::Tsvector | ColumnType::Interval => quote!(String::new()),
        ColumnType::Boolean => {
            let b = variant == 0;
            quote!(#b)
        }
        ColumnType::SmallInt => {
            let v = 1 + variant as i16;
            quote!(#v)
        }
        ColumnType::Integer => {
            let v = 1 + variant as i32;
            quote!(#v)
        }
        ColumnType::BigInt => {
            let v = 1 + i64::from(variant);
            quote!(#v)
        }
        ColumnType::Numeric(_) => {
            let v = 150 + i64::from(variant);
            quote!(::rust_decimal::Decimal::new(#v, 2))
        }
        ColumnType::Real => quote!(1.5f32),
        ColumnType::Double => quote!(1.5f64),
        ColumnType::Date => quote!(::chrono::NaiveDate::from_ymd_opt(#y, #m, #day).expect("date")),
        ColumnType::Time => quote!(::chrono::NaiveTime::from_hms_opt(12, 0, #variant).expect("time")),
        ColumnType::Timestamp | ColumnType::Timestamptz => {
            let (y, m, day) = (Literal::i32_unsuffixed(y), Literal::u32_unsuffixed(m), Literal::u32_unsuffixed(day));
            let utc = (column.ty == ColumnType::Timestamptz).then(|| quote!(.and_utc()));
            quote!(::hubgen_runtime::testing::noon(#y, #m, #day)#utc)
        }
        ColumnType::Json | ColumnType::Jsonb => quote!(::serde_json::json!({ "n": n, "variant": #variant })),
        ColumnType::Inet => quote!(::std::net::IpAddr::from([127, 0, 0, 1])),
        ColumnType::Bytea => quote!(vec![1u8, 2, 3]),
        ColumnType::Enum(name) => {
            let e = hub.enums.iter().find(|e| &e.name == name);
            let names = e.map(|e| variants(&e.values)).unwrap_or_default();
            let v = ident(names.get(variant as usize % names.len().max(1)).map_or("Unknown", String::as_str));
            let t = ident(&pascal(name));
            quote!(crate_under_test::#t::#v)
        }
        ColumnType::Array(_) => quote!(Vec::new()),
    }
}

/// A SQL literal of `column`'s type, for seeding read-only tables.
fn literal(hub: &ir::Hub, table: &ir::Table, column: &ir::Column) -> String {
    if let Some(list) = check_list(table, &column.name) {
        return format!("'{}'", list[0]);
    }
    match &column.ty {
        ColumnType::Uuid => "gen_random_uuid()".into(),
        ColumnType::Varchar(_) | ColumnType::Text | ColumnType::Char(_) => "'x'".into(),
        ColumnType::Boolean => "true".into(),
        ColumnType::Date => "current_date".into(),
        ColumnType::Timestamp | ColumnType::Timestamptz => "now()".into(),
        ColumnType::Json | ColumnType::Jsonb => "'{}'".into(),
        // An encrypted column: `x` as the plaintext a migration carries over.
        ColumnType::Bytea if column.encrypted.is_some() => "'\\x0078'".into(),
        ColumnType::Bytea => "'\\x00'".into(),
        ColumnType::Enum(name) => format!(
            "'{}'",
            hub.enums.iter().find(|e| &e.name == name).map_or("", |e| e.values[0].as_str())
        ),
        _ => "1".into(),
    }
}

pub(super) fn hub_tests(schema: &ir::Schema, hub: &ir::Hub) -> TokenStream {
    let ids = Ids::of(schema);
    let krate = ident(&format!("hub_{}", hub.name));
    let tests = hub
        .tables
        .iter()
        .filter(|t| t.primary_key.is_some())
        .map(|table| table_test(schema, hub, table, &ids));
    quote! {
        //! Round trip through the generated API for every table, on a real PostgreSQL
        //! (`DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`).
        //! Foreign keys are not the subject here: sessions run in replica mode, which skips them.

        use #krate as crate_under_test;
        use crate_under_test::*;
        use crate_under_test::prelude::*;

        #(#tests)*
    }
}

fn table_test(schema: &ir::Schema, hub: &ir::Hub, table: &ir::Table, ids: &Ids) -> TokenStream {
    let shape = Shape::of(schema, hub, table, ids);
    let test = format_ident!("{}_round_trip", table.name);
    let db_name = format!("rt_{}_{}", hub.name, table.name);
    // Foreign keys are skipped (replica mode); template tables resolve to the template.
    let setup = match &hub.tenant_template {
        Some(t) => format!(
            "SET session_replication_role = replica; SET search_path = {}, public",
            crate::sql::quote::ident(&t.schema)
        ),
        None => "SET session_replication_role = replica".to_string(),
    };
    let Shape {
        row,
        new,
        patch,
        filter,
        repo,
        ..
    } = &shape;
    let tenant = shape.tenant.is_some();
    // Encrypted columns: a fixed test key ring (the ring is process-wide, so every test installs the same).
    let key_ring = table.columns.iter().any(|c| c.encrypted.is_some()).then(|| {
        let ring = "key 1 a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=\nindex aWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWk=\n";
        quote! {
            ::hubgen_runtime::crypto::install(::std::sync::Arc::new(
                ::hubgen_runtime::crypto::StaticKeyRing::parse(#ring).expect("test key ring"),
            ));
        }
    });
    // Tests connect as the superuser, whom row-level security lets through:
    // the transaction only has to be of the kind the repository takes.
    let begin = match shape.receiver {
        Receiver::Tenant | Receiver::TenantOrPlatform => {
            let tenant = match shape.tenant.map(|c| shape.ty(c)) {
                Some(ty) if is_typed_id(&ty) => quote!(#ty::new()),
                _ => quote!(::hubgen_runtime::AnyTenant(::uuid::Uuid::new_v4())),
            };
            quote! {
                let tenant = #tenant;
                let mut tx = ::hubgen_runtime::TenantTx::begin(&db.pool, tenant).await?;
            }
        }
        Receiver::Acting => quote! {
            let mut tx = ::hubgen_runtime::ActorTx::begin(&db.pool, ::hubgen_runtime::AnyActor(::uuid::Uuid::new_v4())).await?;
        },
        Receiver::Conn => quote!(let mut tx = db.pool.begin().await?;),
    };
    let exec = quote!(&mut tx);
    let key_of = |r: TokenStream| -> TokenStream {
        if shape.key.len() == 1 {
            let f = field(&shape.key[0].name);
            owned(shape.key[0], quote!(#r.#f))
        } else {
            let parts = shape.key.iter().map(|c| {
                let f = field(&c.name);
                owned(c, quote!(#r.#f))
            });
            quote!((#(#parts),*))
        }
    };
    let key = key_of(quote!(row));

    if !hub.writes(table) {
        // No write methods: seed with SQL as the superuser, read through the API.
        let mut columns = Vec::new();
        let mut values = Vec::new();
        for c in table
            .columns
            .iter()
            .filter(|c| c.generated.is_none() && (c.default.is_none() && !c.nullable || Some(&c.name) == table.tenant_column.as_ref()))
        {
            columns.push(q(&c.name));
            values.push(if Some(&c.name) == table.tenant_column.as_ref() {
                "$1".to_string()
            } else {
                literal(hub, table, c)
            });
        }
        let insert = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            qualified(&table.schema, &table.name),
            columns.join(", "),
            values.join(", ")
        );
        let bind = if tenant { quote!(.bind(tx.tenant())) } else { quote!() };
        return quote! {
            #[tokio::test]
            async fn #test() -> Result<(), Box<dyn std::error::Error>> {
                #key_ring
                let db = ::hubgen_runtime::testing::TestDatabase::create(#db_name, MIGRATIONS, #setup, 2).await;
                #begin
                assert_eq!(#repo::count(#exec, &#filter::default()).await?, 0);
                ::sqlx::query(#insert)#bind.execute(&mut *db.pool.acquire().await?).await?;
                let page = #repo::list(#exec, &#filter::default(), &::hubgen_runtime::PageRequest::first(10)).await?;
                assert_eq!(page.items.len(), 1);
                let row: #row = page.items[0].clone();
                assert_eq!(#repo::get(#exec, #key).await?, Some(row.clone()));
                assert_eq!(#repo::count(#exec, &#filter::default()).await?, 1);
                drop(tx);
                db.drop_db().await;
                Ok(())
            }
        };
    }

    // The insert sample: required fields set, nullable ones set too, defaults left to the database.
    let partition = table.partitioning.as_ref().map(|p| p.column.as_str());
    let new_fields = shape.insertable.iter().map(|c| {
        let f = field(&c.name);
        let value = sample(&shape, c, 0);
        let given = !shape.is_new_optional(c) || c.default.is_none() || Some(c.name.as_str()) == partition;
        if !shape.is_new_optional(c) {
            quote!(#f: #value)
        } else if given {
            quote!(#f: Some(#value))
        } else {
            quote!(#f: None)
        }
    });
    let unique_checks = shape.uniques.iter().map(|columns| {
        let method = format_ident!(
            "get_by_{}",
            columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join("_and_")
        );
        let args = columns.iter().map(|c| {
            let f = field(&c.name);
            let value = owned(c, quote!(row.#f));
            if c.nullable {
                quote!(#value.expect("the sample sets it"))
            } else {
                value
            }
        });
        quote!(assert_eq!(#repo::#method(#exec, #(#args),*).await?, Some(row.clone()), "get by unique key");)
    });
    // Patch the first plain column: text without rules, a number or a flag.
    let patched = shape.patchable.iter().find(|c| {
        let plain_text = c.ty.is_textual()
            && check_list(table, &c.name).is_none()
            && c.format.is_none()
            && !shape.uniques.iter().flatten().any(|u| u.name == c.name);
        plain_text
            || matches!(
                c.ty,
                ColumnType::Boolean | ColumnType::Integer | ColumnType::BigInt | ColumnType::Numeric(_)
            )
    });
    let (patch_value, patch_check) = match patched {
        Some(c) => {
            let f = field(&c.name);
            let value = sample(&shape, c, 1);
            let rest = (shape.patchable.len() > 1).then(|| quote!(, ..Default::default()));
            if c.nullable {
                (
                    quote!(#patch { #f: Some(Some(#value)) #rest }),
                    quote!(assert_eq!(updated.#f, Some(#value), "patched field");),
                )
            } else {
                (
                    quote!(#patch { #f: Some(#value) #rest }),
                    quote!(let expected = #value; assert_eq!(updated.#f, expected, "patched field");),
                )
            }
        }
        None => (quote!(#patch::default()), quote!()),
    };
    let update = match table.version_column.as_deref().and_then(|v| table.column(v)) {
        Some(version) => {
            let v = field(&version.name);
            quote! {
                let updated = #repo::update(#exec, #key, &patch, row.#v).await?;
                assert_eq!(updated.#v, row.#v + 1, "the version moves on");
                let stale = #repo::update(#exec, #key, &patch, row.#v).await;
                assert!(matches!(stale, Err(::hubgen_runtime::Error::Conflict { .. })), "a stale version is a conflict: {stale:?}");
            }
        }
        None => quote!(let updated = #repo::update(#exec, #key, &patch).await?;),
    };
    // A table keyed by its tenant holds one row per tenant: no batch, one page.
    let one_per_tenant = shape.tenant.is_some_and(|t| {
        let just_tenant = |columns: &[String]| columns == [t.name.clone()];
        table.uniques.iter().any(|u| just_tenant(&u.columns)) || table.primary_key.as_ref().is_some_and(|k| just_tenant(&k.columns))
    });
    let total: i64 = if one_per_tenant { 1 } else { 3 };
    let after_delete = total - 1;
    // Upsert on the primary key: the same key updates, it does not insert.
    let upsert = match shape.key.as_slice() {
        [pk] if shape.insertable.iter().any(|c| c.name == pk.name) => {
            let method = format_ident!("upsert_by_{}", pk.name);
            let f = field(&pk.name);
            let value = owned(pk, quote!(row.#f));
            let set = if shape.is_new_optional(pk) {
                quote!(again.#f = Some(#value);)
            } else {
                quote!(again.#f = #value;)
            };
            // An upsert that leaves optional fields `None` must keep what is stored (nullable or defaulted alike).
            let optional: Vec<&ir::Column> = shape
                .insertable
                .iter()
                .copied()
                .filter(|c| shape.is_new_optional(c) && c.name != pk.name)
                .collect();
            let left_out: Vec<_> = optional.iter().map(|c| field(&c.name)).collect();
            // `@touch` columns take the time of the upsert instead, and a version moves on.
            let moved: Vec<_> = table.columns.iter().filter(|c| c.touch).map(|c| field(&c.name)).collect();
            let version = table.version_column.as_deref().map(field);
            let version_check = version
                .as_ref()
                .map(|v| quote!(assert_eq!(kept.#v, row.#v + 1, "upsert moves the version on");));
            let version_field = version.as_ref().map(|v| quote!(#v: kept.#v,));
            let keeps = (!optional.is_empty()).then(|| {
                quote! {
                    let mut bare = again.clone();
                    #(bare.#left_out = None;)*
                    let kept = #repo::#method(#exec, &bare).await?;
                    #version_check
                    assert_eq!(kept, #row { #(#moved: kept.#moved,)* #version_field ..row.clone() }, "upsert keeps what optional fields leave None");
                    let row = kept;
                }
            });
            quote! {
                let mut again = sample(7);
                #set
                let upserted = #repo::#method(#exec, &again).await?;
                assert_eq!(upserted.#f, row.#f, "upsert keeps the key");
                assert_eq!(#repo::count(#exec, &#filter::default()).await?, #total, "upsert on an existing key inserts nothing");
                let row = upserted;
                #keeps
            }
        }
        _ => quote!(),
    };
    let delete = if table.soft_delete.is_some() {
        let filter_rest = (!shape.filters.is_empty()).then(|| quote!(, ..Default::default()));
        quote! {
            #repo::delete(#exec, #key).await?;
            assert_eq!(#repo::get(#exec, #key).await?, None, "soft-deleted rows are hidden");
            assert!(#repo::get_including_deleted(#exec, #key).await?.is_some(), "but still there");
            assert_eq!(#repo::count(#exec, &#filter::default()).await?, #after_delete);
            let everything = #filter { include_deleted: true #filter_rest };
            assert_eq!(#repo::count(#exec, &everything).await?, #total);
            assert!(matches!(#repo::delete(#exec, #key).await, Err(::hubgen_runtime::Error::NotFound)));
            #repo::restore(#exec, #key).await?;
            assert!(#repo::get(#exec, #key).await?.is_some(), "restored");
        }
    } else {
        quote! {
            #repo::delete(#exec, #key).await?;
            assert_eq!(#repo::get(#exec, #key).await?, None);
            assert_eq!(#repo::count(#exec, &#filter::default()).await?, #after_delete);
            assert!(matches!(#repo::delete(#exec, #key).await, Err(::hubgen_runtime::Error::NotFound)));
        }
    };
    // The third row comes by `insert_copy`: by COPY where the table allows
    // it, else as `insert_many` inserts.
    let inserts = (!one_per_tenant).then(|| {
        quote! {
            assert_eq!(#repo::insert_many(#exec, &[sample(2)]).await?, 1);
            assert_eq!(#repo::insert_copy(#exec, &[sample(3)]).await?, 1);
        }
    });
    // Pages of two, then every order both ways (see `check_pages` and `check_orders`).
    let sort = &shape.sort;
    let sorts = shape.sort_variants().into_iter().map(|s| {
        let variant = s.variant;
        quote!(#sort::#variant)
    });
    let total_rows = Literal::i64_unsuffixed(total);
    let paging = quote! {
        let first = ::hubgen_runtime::testing::check_pages(#total_rows, &row, async |page| {
            #repo::list(#exec, &#filter::default(), &page).await
        })
        .await?;
        ::hubgen_runtime::testing::check_orders(&[#(#sorts),*], #total_rows, async |page| {
            #repo::list(#exec, &#filter::default(), &page).await
        })
        .await?;
    };
    // Key lookups in bulk, and the stream reads what the count counts.
    let key_of_first = key_of(quote!(first[0]));
    let lookups = quote! {
        assert!(#repo::exists(#exec, #key).await?, "exists");
        let both = #repo::get_many(#exec, &[#key, #key_of_first]).await?;
        assert!(both.contains(&row) && both.contains(&first[0]), "get_many finds both");
        let streamed: Vec<#row> = ::hubgen_runtime::TryStreamExt::try_collect(#repo::stream(#exec, &#filter::default())).await?;
        assert_eq!(streamed.len() as i64, #repo::count(#exec, &#filter::default()).await?, "the stream reads every row");
    };
    // The first filter column's conditions split the rows as SQL would.
    let conditions = shape.filters.first().map(|c| {
        let f = field(&c.name);
        let rest = (shape.filters.len() > 1 || table.soft_delete.is_some()).then(|| quote!(, ..Default::default()));
        let value = owned(c, quote!(row.#f));
        let value = if c.nullable { value } else { quote!(Some(#value)) };
        let column = &c.name;
        quote! {
            ::hubgen_runtime::testing::check_conditions(#column, #value, async |condition| {
                #repo::count(#exec, &#filter { #f: condition #rest }).await
            })
            .await?;
        }
    });
    quote! {
        #[tokio::test]
        #[allow(unused_variables)]
        async fn #test() -> Result<(), Box<dyn std::error::Error>> {
            #key_ring
            let db = ::hubgen_runtime::testing::TestDatabase::create(#db_name, MIGRATIONS, #setup, 2).await;
            let sample = |n: u32| #new { #(#new_fields),* };
            #begin
            let new = sample(1);
            new.validate().map_err(|v| format!("the sample is invalid: {v:?}"))?;
            let row: #row = #repo::insert(#exec, &new).await?;
            assert_eq!(#repo::get(#exec, #key).await?, Some(row.clone()), "get returns what insert stored");
            #(#unique_checks)*
            assert_eq!(#repo::count(#exec, &#filter::default()).await?, 1);
            #inserts
            #paging
            #lookups
            #conditions
            #upsert
            let n = 99u32;
            let patch = #patch_value;
            #update
            #patch_check
            assert_eq!(#repo::get(#exec, #key).await?, Some(updated.clone()), "get returns the patched row");
            #delete
            drop(tx);
            db.drop_db().await;
            Ok(())
        }
    }
}
