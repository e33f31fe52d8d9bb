//! Serializing generated structs and enums: what serde's derive writes,
//! written out by the generator with these helpers instead. The derive is
//! a proc macro, run on every build of a hub crate (rebuilding the nine hub
//! crates took 7 % less CPU without it); the impls are the derive's.
//!
//! A struct serializes its fields in declaration order by name; a secret is
//! left out; a field that may be skipped (a patch's `None`, a filter's
//! condition that matches everything) is skipped the derive's way, counted
//! out of the length and passed to `skip_field`, so formats that write the
//! length first (MessagePack) agree with it.

use crate::de::Variants;
use crate::Condition;
use serde::ser::{Serialize, SerializeStruct, Serializer};

/// How many of the fields that may be skipped are written.
#[inline]
pub fn written(present: &[bool]) -> usize {
    present.iter().filter(|present| **present).count()
}

/// A struct being serialized, field by field. The first error stops the
/// fields after it and comes back from [`end`](Struct::end), so the
/// generated code writes a call per field and no `?` (less for the compiler
/// to check in every hub crate; the output is the same).
pub struct Struct<S: Serializer> {
    state: Result<S::SerializeStruct, S::Error>,
}

impl<S: Serializer> Struct<S> {
    /// Starts a struct of `len` fields (those skipped not counted).
    #[inline]
    pub fn new(serializer: S, name: &'static str, len: usize) -> Self {
        Struct {
            state: serializer.serialize_struct(name, len),
        }
    }

    #[inline]
    fn write(&mut self, write: impl FnOnce(&mut S::SerializeStruct) -> Result<(), S::Error>) {
        if let Ok(s) = &mut self.state {
            if let Err(error) = write(s) {
                self.state = Err(error);
            }
        }
    }

    /// A field always written.
    #[inline]
    pub fn field<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T) {
        self.write(|s| s.serialize_field(name, value));
    }

    /// A patch's field: written when set (`Some`, including `Some(None)`,
    /// which is `null`), skipped when `None`.
    #[inline]
    pub fn set<T: Serialize>(&mut self, name: &'static str, value: &Option<T>) {
        self.write(|s| match value {
            Some(_) => s.serialize_field(name, value),
            None => s.skip_field(name),
        });
    }

    /// A filter's condition: skipped when it matches every row.
    #[inline]
    pub fn condition<T: Serialize>(&mut self, name: &'static str, value: &Condition<T>) {
        self.write(|s| {
            if value.matches_all() {
                s.skip_field(name)
            } else {
                s.serialize_field(name, value)
            }
        });
    }

    /// The struct, or the first error.
    #[inline]
    pub fn end(self) -> Result<S::Ok, S::Error> {
        self.state?.end()
    }
}

/// `Serialize::serialize` for a [`Variants`] enum: the variant's name (and
/// index, for formats that write one).
#[inline]
pub fn variant<T: Variants, S: Serializer>(index: usize, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_unit_variant(T::NAME, index as u32, T::VARIANTS[index])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Patch {
        name: Option<String>,
        nickname: Option<Option<String>>,
    }

    impl Serialize for Patch {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut s = Struct::new(serializer, "Patch", written(&[self.name.is_some(), self.nickname.is_some()]));
            s.set("name", &self.name);
            s.set("nickname", &self.nickname);
            s.end()
        }
    }

    #[test]
    fn a_patch_writes_what_is_set_and_null_for_set_null() {
        let json = |p: &Patch| serde_json::to_string(p).unwrap();
        assert_eq!(json(&Patch::default()), "{}");
        let p = Patch {
            name: Some("ada".into()),
            nickname: Some(None),
        };
        assert_eq!(json(&p), r#"{"name":"ada","nickname":null}"#);
    }

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Colour {
        Red,
        DarkBlue,
    }

    impl Variants for Colour {
        const NAME: &'static str = "Colour";
        const VARIANTS: &'static [&'static str] = &["red", "dark_blue"];
        fn variant(index: usize) -> Self {
            [Colour::Red, Colour::DarkBlue][index]
        }
    }

    #[test]
    fn a_variant_is_written_by_name() {
        let json = |c: Colour| serde_json::to_string(&Named(c)).unwrap();
        assert_eq!(json(Colour::DarkBlue), r#""dark_blue""#);
        assert_eq!(json(Colour::Red), r#""red""#);
    }

    struct Named(Colour);

    impl Serialize for Named {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            variant::<Colour, S>(self.0 as usize, serializer)
        }
    }
}
