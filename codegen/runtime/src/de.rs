//! Deserializing generated structs and enums: generic visitors here, and
//! per struct only which name goes to which field ([`Fields`]), per enum
//! its variants' names ([`Variants`]). Patches and
//! filters, whose fields are all optional, implement it themselves; a row
//! or an insert struct reads a hidden struct of optional fields, then
//! reports what is missing. serde's derive would write a visitor, a field
//! enum and, for every nullable patch field, a wrapper type into each hub
//! crate: most of the code a hub crate compiled.
//!
//! The JSON is the derive's: keys by name, unknown keys ignored, a key given
//! twice an error, an absent key leaves the field at its default. Formats
//! that write structs as sequences (bincode, MessagePack's compact form)
//! read fields by position, as with the derive.

use serde::de::{self, DeserializeSeed, EnumAccess, IgnoredAny, MapAccess, SeqAccess, VariantAccess, Visitor};
use serde::Deserializer;
use std::fmt;
use std::marker::PhantomData;

/// A struct whose every field has a default, read by name.
pub trait Fields: Default {
    /// The struct's name, for messages.
    const NAME: &'static str;
    /// The fields' names as serialized, in declaration order.
    const FIELDS: &'static [&'static str];
    /// Reads the value of field `index` (of [`Fields::FIELDS`]) from `map`.
    fn read<'de, A: MapAccess<'de>>(&mut self, index: usize, map: &mut A) -> Result<(), A::Error>;
}

// What [`Fields::read`]'s arms call: each returns the read's result, so
// the generated code needs no `?` per field.

/// Reads a field's value.
#[inline]
pub fn value<'de, A: MapAccess<'de>, T: de::Deserialize<'de>>(map: &mut A, field: &mut T) -> Result<(), A::Error> {
    *field = map.next_value()?;
    Ok(())
}

/// Reads a value into a field whose `None` means "absent" (`Some` even for a `null`).
#[inline]
pub fn some<'de, A: MapAccess<'de>, T: de::Deserialize<'de>>(map: &mut A, field: &mut Option<T>) -> Result<(), A::Error> {
    *field = Some(map.next_value()?);
    Ok(())
}

/// Skips the value of a key the struct does not have.
#[inline]
pub fn skip<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<IgnoredAny>().map(drop)
}

/// `Deserialize::deserialize` for a [`Fields`] struct.
pub fn deserialize<'de, T: Fields, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
    deserializer.deserialize_struct(T::NAME, T::FIELDS, StructVisitor(PhantomData))
}

struct StructVisitor<T>(PhantomData<T>);

impl<'de, T: Fields> Visitor<'de> for StructVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "struct {}", T::NAME)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut value = T::default();
        let mut seen = vec![false; T::FIELDS.len()];
        while let Some(key) = map.next_key_seed(Key(T::FIELDS))? {
            match key {
                Some(index) if seen[index] => return Err(de::Error::duplicate_field(T::FIELDS[index])),
                Some(index) => {
                    seen[index] = true;
                    value.read(index, &mut map)?;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(value)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        let mut value = T::default();
        for index in 0..T::FIELDS.len() {
            let mut element = Element {
                seq: &mut seq,
                ended: false,
            };
            let read = value.read(index, &mut element);
            // A shorter sequence leaves the remaining fields at their defaults.
            if element.ended {
                break;
            }
            read?;
        }
        Ok(value)
    }
}

/// The next element of a sequence, as the value [`Fields::read`] takes
/// from a map.
struct Element<'a, A> {
    seq: &'a mut A,
    ended: bool,
}

impl<'de, A: SeqAccess<'de>> MapAccess<'de> for Element<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, _seed: K) -> Result<Option<K::Value>, A::Error> {
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        match self.seq.next_element_seed(seed)? {
            Some(value) => Ok(value),
            None => {
                self.ended = true;
                Err(de::Error::custom("the sequence ended"))
            }
        }
    }
}

/// An enum of unit variants (a schema enum, a table's sort orders), read by
/// the variants' names.
pub trait Variants: Copy {
    /// The enum's name, for messages.
    const NAME: &'static str;
    /// The variants' names as serialized, in declaration order.
    const VARIANTS: &'static [&'static str];
    /// The variant at `index` of [`Variants::VARIANTS`].
    fn variant(index: usize) -> Self;
}

/// `Deserialize::deserialize` for a [`Variants`] enum: what serde's derive
/// reads (a name, or an index in formats that write one).
pub fn deserialize_variant<'de, T: Variants, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
    deserializer.deserialize_enum(T::NAME, T::VARIANTS, EnumVisitor(PhantomData))
}

struct EnumVisitor<T>(PhantomData<T>);

impl<'de, T: Variants> Visitor<'de> for EnumVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "enum {}", T::NAME)
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<T, A::Error> {
        let (index, variant) = data.variant_seed(VariantName(T::VARIANTS))?;
        variant.unit_variant()?;
        Ok(T::variant(index))
    }
}

/// A variant's name: its index, or an error naming the variants there are.
struct VariantName(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for VariantName {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for VariantName {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a variant name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<usize, E> {
        self.0
            .iter()
            .position(|v| *v == name)
            .ok_or_else(|| E::unknown_variant(name, self.0))
    }

    fn visit_bytes<E: de::Error>(self, name: &[u8]) -> Result<usize, E> {
        self.visit_str(&String::from_utf8_lossy(name))
    }

    fn visit_u64<E: de::Error>(self, index: u64) -> Result<usize, E> {
        match usize::try_from(index) {
            Ok(i) if i < self.0.len() => Ok(i),
            _ => Err(E::invalid_value(
                de::Unexpected::Unsigned(index),
                &format!("variant index 0 <= i < {}", self.0.len()).as_str(),
            )),
        }
    }
}

/// A key: the index of the field it names, `None` for a key no field has.
struct Key(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<usize>, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|name| *name == key))
    }

    fn visit_bytes<E: de::Error>(self, key: &[u8]) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|name| name.as_bytes() == key))
    }

    fn visit_u64<E: de::Error>(self, index: u64) -> Result<Option<usize>, E> {
        Ok(usize::try_from(index).ok().filter(|i| *i < self.0.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default, Debug, PartialEq)]
    struct Patch {
        name: Option<String>,
        note: Option<Option<String>>,
    }

    impl Fields for Patch {
        const NAME: &'static str = "Patch";
        const FIELDS: &'static [&'static str] = &["name", "note"];
        fn read<'de, A: MapAccess<'de>>(&mut self, index: usize, map: &mut A) -> Result<(), A::Error> {
            match index {
                0 => value(map, &mut self.name),
                _ => some(map, &mut self.note),
            }
        }
    }

    fn patch(json: &str) -> Result<Patch, serde_json::Error> {
        deserialize(&mut serde_json::Deserializer::from_str(json))
    }

    #[test]
    fn absent_keys_leave_fields_and_null_clears_a_nullable_one() {
        assert_eq!(patch("{}").unwrap(), Patch::default());
        let read = patch(r#"{"name": "a", "note": null, "other": [1, {"x": 2}]}"#).unwrap();
        assert_eq!(
            read,
            Patch {
                name: Some("a".into()),
                note: Some(None)
            }
        );
        assert_eq!(patch(r#"{"note": "n"}"#).unwrap().note, Some(Some("n".into())));
        assert_eq!(patch(r#"{"name": null}"#).unwrap().name, None);
    }

    #[test]
    fn a_key_twice_or_a_wrong_type_is_an_error() {
        let twice = patch(r#"{"name": "a", "name": "b"}"#).unwrap_err().to_string();
        assert!(twice.starts_with("duplicate field `name`"), "{twice}");
        let wrong = patch(r#"{"name": 1}"#).unwrap_err().to_string();
        assert!(wrong.starts_with("invalid type: integer `1`, expected a string"), "{wrong}");
        let not_a_struct = patch("1").unwrap_err().to_string();
        assert!(not_a_struct.contains("expected struct Patch"), "{not_a_struct}");
    }

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Sort {
        Id,
        CreatedAt,
    }

    impl Variants for Sort {
        const NAME: &'static str = "Sort";
        const VARIANTS: &'static [&'static str] = &["id", "created_at"];
        fn variant(index: usize) -> Self {
            [Sort::Id, Sort::CreatedAt][index]
        }
    }

    #[test]
    fn variants_read_by_name_and_an_unknown_one_is_named() {
        let sort = |json: &str| deserialize_variant::<Sort, _>(&mut serde_json::Deserializer::from_str(json));
        assert_eq!(sort(r#""created_at""#).unwrap(), Sort::CreatedAt);
        assert_eq!(sort(r#""id""#).unwrap(), Sort::Id);
        let unknown = sort(r#""name""#).unwrap_err().to_string();
        assert!(
            unknown.starts_with("unknown variant `name`, expected `id` or `created_at`"),
            "{unknown}"
        );
    }

    #[test]
    fn a_sequence_fills_fields_by_position() {
        assert_eq!(
            patch(r#"["a", null]"#).unwrap(),
            Patch {
                name: Some("a".into()),
                note: Some(None)
            }
        );
        assert_eq!(
            patch(r#"["a"]"#).unwrap(),
            Patch {
                name: Some("a".into()),
                note: None
            }
        );
        assert!(patch(r#"[1]"#).is_err());
    }
}
