//! Column types: the names the language accepts, and their resolved form.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A resolved column type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    Uuid,
    Varchar(Option<u32>),
    Char(u32),
    Text,
    Boolean,
    SmallInt,
    Integer,
    BigInt,
    Numeric(Option<(u32, u32)>),
    Real,
    Double,
    Date,
    Time,
    Timestamp,
    Timestamptz,
    Interval,
    Json,
    Jsonb,
    Inet,
    Tsvector,
    Bytea,
    /// A schema enum, by name.
    Enum(String),
    Array(Box<ColumnType>),
}

/// How many size arguments a type takes: (min, max).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arity(pub usize, pub usize);

/// Built-in type names (lowercase) with their arity and a resolver.
pub fn builtin(name: &str) -> Option<Arity> {
    Some(match name.to_ascii_lowercase().as_str() {
        "varchar" => Arity(0, 1),
        "char" | "character" => Arity(0, 1),
        "numeric" | "decimal" => Arity(0, 2),
        "uuid" | "text" | "boolean" | "bool" | "smallint" | "int2" | "integer" | "int" | "int4" | "bigint" | "int8" | "real" | "float4"
        | "double" | "float8" | "date" | "time" | "timestamp" | "timestamptz" | "interval" | "json" | "jsonb" | "inet" | "tsvector"
        | "bytea" => Arity(0, 0),
        _ => return None,
    })
}

pub fn is_builtin_type(name: &str) -> bool {
    builtin(name).is_some()
}

/// All built-in names, for "did you mean" suggestions.
pub const BUILTIN_NAMES: &[&str] = &[
    "uuid",
    "varchar",
    "char",
    "text",
    "boolean",
    "smallint",
    "integer",
    "bigint",
    "numeric",
    "decimal",
    "real",
    "double",
    "date",
    "time",
    "timestamp",
    "timestamptz",
    "interval",
    "json",
    "jsonb",
    "inet",
    "tsvector",
    "bytea",
];

/// Resolves a built-in name with already-checked arguments.
pub fn resolve_builtin(name: &str, args: &[u32]) -> Option<ColumnType> {
    Some(match name.to_ascii_lowercase().as_str() {
        "uuid" => ColumnType::Uuid,
        "varchar" => ColumnType::Varchar(args.first().copied()),
        "char" | "character" => ColumnType::Char(args.first().copied().unwrap_or(1)),
        "text" => ColumnType::Text,
        "boolean" | "bool" => ColumnType::Boolean,
        "smallint" | "int2" => ColumnType::SmallInt,
        "integer" | "int" | "int4" => ColumnType::Integer,
        "bigint" | "int8" => ColumnType::BigInt,
        "numeric" | "decimal" => ColumnType::Numeric(match args {
            [p] => Some((*p, 0)),
            [p, s] => Some((*p, *s)),
            _ => None,
        }),
        "real" | "float4" => ColumnType::Real,
        "double" | "float8" => ColumnType::Double,
        "date" => ColumnType::Date,
        "time" => ColumnType::Time,
        "timestamp" => ColumnType::Timestamp,
        "timestamptz" => ColumnType::Timestamptz,
        "interval" => ColumnType::Interval,
        "json" => ColumnType::Json,
        "jsonb" => ColumnType::Jsonb,
        "inet" => ColumnType::Inet,
        "tsvector" => ColumnType::Tsvector,
        "bytea" => ColumnType::Bytea,
        _ => return None,
    })
}

impl ColumnType {
    pub fn is_textual(&self) -> bool {
        matches!(self, ColumnType::Varchar(_) | ColumnType::Char(_) | ColumnType::Text)
    }

    pub fn is_integer(&self) -> bool {
        matches!(self, ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt)
    }

    pub fn is_numeric(&self) -> bool {
        self.is_integer() || matches!(self, ColumnType::Numeric(_) | ColumnType::Real | ColumnType::Double)
    }

    pub fn is_temporal(&self) -> bool {
        matches!(self, ColumnType::Date | ColumnType::Timestamp | ColumnType::Timestamptz)
    }

    /// Types a foreign key may connect: same type, ignoring varchar length.
    pub fn compatible_with(&self, other: &ColumnType) -> bool {
        match (self, other) {
            (ColumnType::Varchar(_), ColumnType::Varchar(_)) => true,
            (ColumnType::Array(a), ColumnType::Array(b)) => a.compatible_with(b),
            _ => self == other,
        }
    }
}

impl fmt::Display for ColumnType {
    /// The PostgreSQL spelling, as `format_type` prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnType::Uuid => f.write_str("uuid"),
            ColumnType::Varchar(None) => f.write_str("character varying"),
            ColumnType::Varchar(Some(n)) => write!(f, "character varying({n})"),
            ColumnType::Char(n) => write!(f, "character({n})"),
            ColumnType::Text => f.write_str("text"),
            ColumnType::Boolean => f.write_str("boolean"),
            ColumnType::SmallInt => f.write_str("smallint"),
            ColumnType::Integer => f.write_str("integer"),
            ColumnType::BigInt => f.write_str("bigint"),
            ColumnType::Numeric(None) => f.write_str("numeric"),
            ColumnType::Numeric(Some((p, s))) => write!(f, "numeric({p},{s})"),
            ColumnType::Real => f.write_str("real"),
            ColumnType::Double => f.write_str("double precision"),
            ColumnType::Date => f.write_str("date"),
            ColumnType::Time => f.write_str("time without time zone"),
            ColumnType::Timestamp => f.write_str("timestamp without time zone"),
            ColumnType::Timestamptz => f.write_str("timestamp with time zone"),
            ColumnType::Interval => f.write_str("interval"),
            ColumnType::Json => f.write_str("json"),
            ColumnType::Jsonb => f.write_str("jsonb"),
            ColumnType::Inet => f.write_str("inet"),
            ColumnType::Tsvector => f.write_str("tsvector"),
            ColumnType::Bytea => f.write_str("bytea"),
            ColumnType::Enum(name) => f.write_str(name),
            ColumnType::Array(inner) => write!(f, "{inner}[]"),
        }
    }
}

/// Words that may appear in a SQL expression without naming a column.
pub fn is_sql_word(word: &str) -> bool {
    const WORDS: &[&str] = &[
        "all",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "at",
        "between",
        "both",
        "case",
        "cast",
        "collate",
        "current_date",
        "current_time",
        "current_timestamp",
        "current_user",
        "day",
        "desc",
        "distinct",
        "else",
        "end",
        "escape",
        "exists",
        "false",
        "first",
        "for",
        "from",
        "hour",
        "ilike",
        "in",
        "is",
        "isnull",
        "last",
        "leading",
        "like",
        "localtime",
        "localtimestamp",
        "minute",
        "month",
        "not",
        "notnull",
        "null",
        "nulls",
        "or",
        "overlaps",
        "second",
        // `(select current_setting(...))`: the once-per-query idiom in policies
        "select",
        "session_user",
        "similar",
        "some",
        "symmetric",
        "then",
        "time",
        "to",
        "trailing",
        "true",
        "unknown",
        "when",
        "with",
        "without",
        "year",
        "zone",
        "precision",
        "varying",
        "character",
    ];
    let lower = word.to_ascii_lowercase();
    WORDS.contains(&lower.as_str()) || is_builtin_type(&lower)
}
