//! What generated enums share: PostgreSQL sends and takes an enum value as
//! its label, so a generated enum encodes and decodes through `&str`; a
//! label the enum does not have is an error that names both.

use crate::de::Variants;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgValueRef};
use sqlx::{Decode, Encode, Postgres};
use std::fmt;

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

/// The variant a label names (`FromStr` of a generated enum).
pub fn parse<E: Variants>(label: &str) -> Result<E, UnknownVariant> {
    match E::VARIANTS.iter().position(|v| *v == label) {
        Some(index) => Ok(E::variant(index)),
        None => Err(UnknownVariant::new(E::NAME, label)),
    }
}

/// Reads a label as the enum.
#[inline]
pub fn decode<E: Variants>(value: PgValueRef<'_>) -> Result<E, BoxDynError> {
    Ok(parse(<&str as Decode<Postgres>>::decode(value)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Tier {
        Free,
        OnHold,
    }

    impl Variants for Tier {
        const NAME: &'static str = "Tier";
        const VARIANTS: &'static [&'static str] = &["free", "on hold"];
        fn variant(index: usize) -> Self {
            [Tier::Free, Tier::OnHold][index]
        }
    }

    #[test]
    fn an_unknown_label_names_the_enum_and_the_value() {
        assert_eq!(parse::<Tier>("free"), Ok(Tier::Free));
        assert_eq!(parse::<Tier>("on hold"), Ok(Tier::OnHold));
        let error = parse::<Tier>("gold").unwrap_err();
        assert_eq!(error.to_string(), "\"gold\" is not a value of Tier");
    }
}
