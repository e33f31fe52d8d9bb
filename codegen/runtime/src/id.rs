//! Typed IDs: one generic newtype over a UUID, told apart by a marker type
//! per table, so a `TenantId` cannot be passed where a `UserId` is wanted.
//!
//! Generated crates declare only the markers and aliases
//! (`pub type UserId = Id<kind::User>;`); every impl lives here, compiled
//! once, instead of a dozen derives and impls repeated per table.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo, PgValueRef};
use sqlx::{Decode, Encode, Postgres, Type};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use uuid::Uuid;

/// What an ID is the key of: a generated marker type, uninhabited.
pub trait IdKind: 'static {
    /// The ID's name (`UserId`), for `Debug` and JSON Schema.
    const NAME: &'static str;
}

/// The tenant table's marker: its ID begins a [`crate::TenantTx`].
#[diagnostic::on_unimplemented(
    message = "an ID of `{Self}` does not name a tenant",
    label = "a tenant transaction takes the tenant table's ID",
    note = "pass the tenant's ID, or `AnyTenant(uuid)` where the schema has no tenant table"
)]
pub trait TenantIdKind: IdKind {}

/// The marker of the table owner columns refer to: its ID begins an [`crate::ActorTx`].
#[diagnostic::on_unimplemented(
    message = "an ID of `{Self}` does not name a user",
    label = "an acting transaction takes the ID of the table owner columns refer to",
    note = "pass that table's ID, or `AnyActor(uuid)` where owner columns refer to no table"
)]
pub trait ActorIdKind: IdKind {}

/// A UUID that is the key of table `K`.
pub struct Id<K>(pub Uuid, PhantomData<fn() -> K>);

impl<K> Id<K> {
    /// A new random (v4) id.
    pub fn new() -> Self {
        Self::from_uuid(Uuid::new_v4())
    }

    /// This UUID as the key of `K`.
    pub const fn from_uuid(id: Uuid) -> Self {
        Id(id, PhantomData)
    }
}

impl<K> Default for Id<K> {
    /// A new random id, as `new`.
    fn default() -> Self {
        Self::new()
    }
}

// Written out rather than derived: a derive would ask `K` (a marker that
// is never built) for `Clone`, `Eq`, ... too.
impl<K> Clone for Id<K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K> Copy for Id<K> {}

impl<K> PartialEq for Id<K> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<K> Eq for Id<K> {}

impl<K> PartialOrd for Id<K> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<K> Ord for Id<K> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

impl<K> Hash for Id<K> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl<K: IdKind> fmt::Debug for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", K::NAME, self.0)
    }
}

impl<K> fmt::Display for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl<K> std::str::FromStr for Id<K> {
    type Err = uuid::Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.parse().map(Self::from_uuid)
    }
}

impl<K> From<Uuid> for Id<K> {
    fn from(id: Uuid) -> Self {
        Self::from_uuid(id)
    }
}

impl<K> From<Id<K>> for Uuid {
    fn from(id: Id<K>) -> Self {
        id.0
    }
}

impl<K: TenantIdKind> crate::TenantKey for Id<K> {}

impl<K: ActorIdKind> crate::ActorKey for Id<K> {}

/// As the bare UUID.
impl<K> Serialize for Id<K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, K> Deserialize<'de> for Id<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Uuid::deserialize(deserializer).map(Self::from_uuid)
    }
}

/// A `uuid` column.
impl<K> Type<Postgres> for Id<K> {
    fn type_info() -> PgTypeInfo {
        <Uuid as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <Uuid as Type<Postgres>>::compatible(ty)
    }
}

impl<K> PgHasArrayType for Id<K> {
    fn array_type_info() -> PgTypeInfo {
        <Uuid as PgHasArrayType>::array_type_info()
    }
}

impl<K> Encode<'_, Postgres> for Id<K> {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <Uuid as Encode<Postgres>>::encode_by_ref(&self.0, buf)
    }

    fn size_hint(&self) -> usize {
        <Uuid as Encode<Postgres>>::size_hint(&self.0)
    }
}

impl<'r, K> Decode<'r, Postgres> for Id<K> {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        <Uuid as Decode<Postgres>>::decode(value).map(Self::from_uuid)
    }
}

/// A named string in UUID format (`UserId`), as the derive on a newtype gave.
impl<K: IdKind> schemars::JsonSchema for Id<K> {
    fn schema_name() -> String {
        K::NAME.to_string()
    }

    fn json_schema(generator: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        <Uuid as schemars::JsonSchema>::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    enum User {}
    impl IdKind for User {
        const NAME: &'static str = "UserId";
    }
    type UserId = Id<User>;

    #[test]
    fn reads_and_writes_as_the_bare_uuid() {
        let id = UserId::new();
        let json = serde_json::to_string(&id).expect("serializes");
        assert_eq!(json, format!("\"{}\"", id.0));
        assert_eq!(serde_json::from_str::<UserId>(&json).expect("deserializes"), id);
        assert_eq!(id.to_string().parse::<UserId>().expect("parses"), id);
        assert_eq!(format!("{id:?}"), format!("UserId({})", id.0));
        assert_ne!(UserId::new(), id, "new ids are random");
        let schema = serde_json::to_value(schemars::schema_for!(UserId)).expect("schema");
        assert_eq!(schema["format"], "uuid", "{schema}");
        assert_eq!(schema["title"], "UserId", "{schema}");
    }
}
