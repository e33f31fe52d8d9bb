//! What generated enums share: PostgreSQL sends and takes an enum value as
//! its label, so a generated enum encodes and decodes through `&str`; a
//! label the enum does not have is an error that names both.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgValueRef};
use sqlx::{Decode, Encode, Postgres};
use std::fmt;
use std::str::FromStr;

/// A label the enum does not have: a value added in the database before
/// the schema, or a typo in a string parsed with `FromStr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownVariant {
    /// The Rust enum, `OrderStatus`.
    pub enum_name: &'static str,
    pub value: String,
}

impl UnknownVariant {
    pub fn new(enum_name: &'static str, value: &str) -> Self {
        UnknownVariant {
            enum_name,
            value: value.to_string(),
        }
    }
}

impl fmt::Display for UnknownVariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a value of {}", self.value, self.enum_name)
    }
}

impl std::error::Error for UnknownVariant {}

/// Sends a label.
#[inline]
pub fn encode(label: &'static str, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
    <&str as Encode<Postgres>>::encode_by_ref(&label, buf)
}

/// Reads a label as the enum.
#[inline]
pub fn decode<E: FromStr<Err = UnknownVariant>>(value: PgValueRef<'_>) -> Result<E, BoxDynError> {
    Ok(<&str as Decode<Postgres>>::decode(value)?.parse()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    enum Tier {
        Free,
    }

    impl FromStr for Tier {
        type Err = UnknownVariant;
        fn from_str(value: &str) -> Result<Self, UnknownVariant> {
            match value {
                "free" => Ok(Tier::Free),
                _ => Err(UnknownVariant::new("Tier", value)),
            }
        }
    }

    #[test]
    fn an_unknown_label_names_the_enum_and_the_value() {
        assert_eq!("free".parse::<Tier>(), Ok(Tier::Free));
        let error = "gold".parse::<Tier>().unwrap_err();
        assert_eq!(error.to_string(), "\"gold\" is not a value of Tier");
    }
}
