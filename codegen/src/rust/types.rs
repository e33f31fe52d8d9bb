//! Column types in Rust and in the SQL the repositories send.

use super::names::{ident, pascal};
use crate::sql::quote as sq;
use hubgen_schema::ir;
use hubgen_schema::types::ColumnType;
use proc_macro2::TokenStream;
use quote::quote;

/// The Rust type of a (non-null) value of `ty`.
pub fn rust_type(ty: &ColumnType) -> TokenStream {
    match ty {
        ColumnType::Uuid => quote!(::uuid::Uuid),
        ColumnType::Varchar(_) | ColumnType::Char(_) | ColumnType::Text | ColumnType::Tsvector | ColumnType::Interval => quote!(String),
        ColumnType::Boolean => quote!(bool),
        ColumnType::SmallInt => quote!(i16),
        ColumnType::Integer => quote!(i32),
        ColumnType::BigInt => quote!(i64),
        ColumnType::Numeric(_) => quote!(::rust_decimal::Decimal),
        ColumnType::Real => quote!(f32),
        ColumnType::Double => quote!(f64),
        ColumnType::Date => quote!(::chrono::NaiveDate),
        ColumnType::Time => quote!(::chrono::NaiveTime),
        ColumnType::Timestamp => quote!(::chrono::NaiveDateTime),
        ColumnType::Timestamptz => quote!(::chrono::DateTime<::chrono::Utc>),
        ColumnType::Json | ColumnType::Jsonb => quote!(::serde_json::Value),
        ColumnType::Inet => quote!(::std::net::IpAddr),
        ColumnType::Bytea => quote!(Vec<u8>),
        ColumnType::Enum(name) => {
            let name = ident(&pascal(name));
            // Table modules sit one level below the hub root, in a crate or a `hub!` expansion alike.
            quote!(super::#name)
        }
        ColumnType::Array(inner) => {
            let inner = rust_type(inner);
            quote!(Vec<#inner>)
        }
    }
}

/// Types sqlx has no Rust mapping for travel as text.
pub fn via_text(ty: &ColumnType) -> bool {
    matches!(ty, ColumnType::Tsvector | ColumnType::Interval)
}

/// The SQL type a parameter is cast to: `uuid`, `"public"."status"`, `text[]`.
pub fn sql_type(hub: &ir::Hub, ty: &ColumnType) -> String {
    crate::sql::column_type(hub, ty)
}

/// How a column appears in a select list.
pub fn select_expr(column: &ir::Column) -> String {
    let name = sq::ident(&column.name);
    if via_text(&column.ty) {
        format!("{name}::text AS {name}")
    } else {
        name
    }
}

/// Whether the Rust type of `ty` is `Copy` (so generated code neither clones nor borrows it).
pub fn is_copy(ty: &ColumnType) -> bool {
    !matches!(
        ty,
        ColumnType::Varchar(_)
            | ColumnType::Char(_)
            | ColumnType::Text
            | ColumnType::Tsvector
            | ColumnType::Interval
            | ColumnType::Json
            | ColumnType::Jsonb
            | ColumnType::Bytea
            | ColumnType::Array(_)
    )
}

/// `expr`, cloned unless the column's type is `Copy`.
pub fn owned(column: &ir::Column, expr: TokenStream) -> TokenStream {
    if is_copy(&column.ty) {
        expr
    } else {
        quote!(#expr.clone())
    }
}
