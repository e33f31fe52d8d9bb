//! Column encryption (`@encrypted`): AES-256-GCM with keys from a
//! [`KeyRing`] the service supplies, and keyed HMAC-SHA-256 blind indexes
//! for equality lookups (`@encrypted(searchable)`).
//!
//! A stored value is `[1][key id: u32, big-endian][nonce: 12 bytes][ciphertext and tag]`,
//! or, for `@encrypted(searchable)`, `[2][blind index: 32 bytes][key id]…`, whose
//! index the database copies into the `<column>_bidx` generated column; so
//! the key that sealed a value travels with it and keys rotate: install a ring
//! whose active key is new, old rows stay readable with the old keys, and
//! the crates' `reencrypt` seals them again. A value that starts with `[0]`
//! is plaintext (UTF-8) the migration that encrypted the column carried
//! over; it reads as it is until `reencrypt` seals it.
//!
//! The ring is process-wide ([`install`]): the `sqlx` encoding of
//! [`Secret`] seals and opens with it, so repositories need no extra
//! argument. Neither plaintext nor ciphertext ever appears in `Debug`,
//! JSON (a `Secret` does not serialize) or an error message.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Deserializer};
use sha2::Sha256;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo, PgValueRef};
use sqlx::{Decode, Encode, Postgres, Type};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// Identifies a key of the ring; stored in every ciphertext.
pub type KeyId = u32;

const SEALED: u8 = 1;
const PLAINTEXT: u8 = 0;
/// A sealed value that carries its blind index after the version byte.
const INDEXED: u8 = 2;
const HEADER: usize = 1 + 4;
const NONCE: usize = 12;
const INDEX: usize = 32;

/// Where the keys come from. Implement it over a KMS or a vault; or use
/// [`StaticKeyRing`], which reads them from the environment or a file.
pub trait KeyRing: Send + Sync {
    /// The key new values are sealed with.
    fn active(&self) -> (KeyId, &[u8; 32]);
    /// Any key a stored value may name.
    fn key(&self, id: KeyId) -> Option<&[u8; 32]>;
    /// The key of blind indexes. It is not rotated with the data keys:
    /// changing it changes every index, so lookups miss until `reencrypt` ran.
    fn index_key(&self) -> &[u8];
}

/// Why a value could not be sealed or opened. Never holds the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CryptoError {
    /// No key ring: call [`install`] at startup.
    NoKeyRing,
    /// The value names a key the ring does not hold.
    UnknownKey(KeyId),
    /// The value is not one this module wrote, or it was altered.
    Corrupt,
    /// A key ring's description is not valid.
    InvalidKeyRing(String),
}

impl std::fmt::Display for CryptoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CryptoError::NoKeyRing => f.write_str("no key ring installed: call hubgen_runtime::crypto::install at startup"),
            CryptoError::UnknownKey(id) => write!(f, "an encrypted value names key {id}, which the key ring does not hold"),
            CryptoError::Corrupt => f.write_str("an encrypted value is damaged or was not sealed with these keys"),
            CryptoError::InvalidKeyRing(why) => write!(f, "invalid key ring: {why}"),
        }
    }
}

impl std::error::Error for CryptoError {}

/// Keys held in memory: from [`StaticKeyRing::from_env`], [`StaticKeyRing::from_file`] or code.
#[derive(Clone)]
pub struct StaticKeyRing {
    keys: BTreeMap<KeyId, [u8; 32]>,
    active: KeyId,
    index: Vec<u8>,
}

impl std::fmt::Debug for StaticKeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticKeyRing")
            .field("keys", &self.keys.keys().collect::<Vec<_>>())
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

impl StaticKeyRing {
    /// `keys` by id; `active` seals new values; `index` keys blind indexes (at least 32 bytes).
    pub fn new(keys: BTreeMap<KeyId, [u8; 32]>, active: KeyId, index: Vec<u8>) -> Result<StaticKeyRing, CryptoError> {
        if !keys.contains_key(&active) {
            return Err(CryptoError::InvalidKeyRing(format!(
                "the active key {active} is not among the keys"
            )));
        }
        if index.len() < 32 {
            return Err(CryptoError::InvalidKeyRing("the index key must have at least 32 bytes".into()));
        }
        Ok(StaticKeyRing { keys, active, index })
    }

    /// `HUBGEN_KEYS` (`1:<base64 of 32 bytes>,2:<...>`), `HUBGEN_ACTIVE_KEY`
    /// (default: the highest id) and `HUBGEN_INDEX_KEY` (base64).
    pub fn from_env() -> Result<StaticKeyRing, CryptoError> {
        let var = |name: &str| std::env::var(name).map_err(|_| CryptoError::InvalidKeyRing(format!("{name} is not set")));
        let mut text = String::new();
        for entry in var("HUBGEN_KEYS")?.split(',').filter(|e| !e.trim().is_empty()) {
            let (id, key) = entry
                .split_once(':')
                .ok_or_else(|| CryptoError::InvalidKeyRing("HUBGEN_KEYS: write `id:base64,...`".into()))?;
            text.push_str(&format!("key {} {}\n", id.trim(), key.trim()));
        }
        if let Ok(active) = std::env::var("HUBGEN_ACTIVE_KEY") {
            text.push_str(&format!("active {active}\n"));
        }
        text.push_str(&format!("index {}\n", var("HUBGEN_INDEX_KEY")?));
        StaticKeyRing::parse(&text)
    }

    /// A file of lines `key <id> <base64>`, `active <id>` (default: the
    /// highest id) and `index <base64>`; `#` starts a comment.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<StaticKeyRing, CryptoError> {
        let text =
            std::fs::read_to_string(path.as_ref()).map_err(|e| CryptoError::InvalidKeyRing(format!("{}: {e}", path.as_ref().display())))?;
        StaticKeyRing::parse(&text)
    }

    /// The file format of [`StaticKeyRing::from_file`].
    pub fn parse(text: &str) -> Result<StaticKeyRing, CryptoError> {
        use base64::Engine;
        let invalid = |line: usize, why: &str| CryptoError::InvalidKeyRing(format!("line {line}: {why}"));
        let decode = |line: usize, b64: &str| {
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|_| invalid(line, "not base64"))
        };
        let (mut keys, mut active, mut index) = (BTreeMap::new(), None, None);
        for (i, line) in text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.split('#').next().unwrap_or("").trim()))
        {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                [] => {}
                ["key", id, b64] => {
                    let id: KeyId = id.parse().map_err(|_| invalid(i, "a key id is a number"))?;
                    let key: [u8; 32] = decode(i, b64)?.try_into().map_err(|_| invalid(i, "an AES-256 key has 32 bytes"))?;
                    keys.insert(id, key);
                }
                ["active", id] => active = Some(id.parse().map_err(|_| invalid(i, "a key id is a number"))?),
                ["index", b64] => index = Some(decode(i, b64)?),
                _ => return Err(invalid(i, "expected `key <id> <base64>`, `active <id>` or `index <base64>`")),
            }
        }
        let active = active
            .or_else(|| keys.keys().next_back().copied())
            .ok_or_else(|| CryptoError::InvalidKeyRing("no keys".into()))?;
        let index = index.ok_or_else(|| CryptoError::InvalidKeyRing("no index key".into()))?;
        StaticKeyRing::new(keys, active, index)
    }
}

impl KeyRing for StaticKeyRing {
    fn active(&self) -> (KeyId, &[u8; 32]) {
        (self.active, &self.keys[&self.active])
    }

    fn key(&self, id: KeyId) -> Option<&[u8; 32]> {
        self.keys.get(&id)
    }

    fn index_key(&self) -> &[u8] {
        &self.index
    }
}

static RING: RwLock<Option<Arc<dyn KeyRing>>> = RwLock::new(None);

/// Makes `ring` the process's key ring; installing another replaces it (a
/// rotation: the new ring holds the old keys and a new active one).
pub fn install(ring: Arc<dyn KeyRing>) {
    *RING.write().unwrap_or_else(|e| e.into_inner()) = Some(ring);
}

fn ring() -> Result<Arc<dyn KeyRing>, CryptoError> {
    RING.read().unwrap_or_else(|e| e.into_inner()).clone().ok_or(CryptoError::NoKeyRing)
}

/// Seals `plaintext` with the active key.
pub fn seal(plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let ring = ring()?;
    let (id, key) = ring.active();
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key));
    let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
    let sealed = cipher.encrypt(&nonce, plaintext).map_err(|_| CryptoError::Corrupt)?;
    let mut out = Vec::with_capacity(HEADER + NONCE + sealed.len());
    out.push(SEALED);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Seals `plaintext` with the active key, its blind index in front.
pub fn seal_indexed(plaintext: &str) -> Result<Vec<u8>, CryptoError> {
    let sealed = seal(plaintext.as_bytes())?;
    let mut out = Vec::with_capacity(1 + INDEX + sealed.len() - 1);
    out.push(INDEXED);
    out.extend_from_slice(&blind_index(plaintext)?);
    out.extend_from_slice(&sealed[1..]);
    Ok(out)
}

/// Opens a stored value (sealed, indexed, or plaintext carried over by a migration).
pub fn open(stored: &[u8]) -> Result<Vec<u8>, CryptoError> {
    match stored.first() {
        Some(&PLAINTEXT) => Ok(stored[1..].to_vec()),
        Some(&INDEXED) if stored.len() > 1 + INDEX => {
            let mut sealed = vec![SEALED];
            sealed.extend_from_slice(&stored[1 + INDEX..]);
            open(&sealed)
        }
        Some(&SEALED) if stored.len() >= HEADER + NONCE + 16 => {
            let id = key_id(stored).ok_or(CryptoError::Corrupt)?;
            let ring = ring()?;
            let key = ring.key(id).ok_or(CryptoError::UnknownKey(id))?;
            let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key));
            let nonce = Nonce::from_slice(&stored[HEADER..HEADER + NONCE]);
            cipher.decrypt(nonce, &stored[HEADER + NONCE..]).map_err(|_| CryptoError::Corrupt)
        }
        _ => Err(CryptoError::Corrupt),
    }
}

/// The key a stored value is sealed with; `None` for carried-over plaintext.
pub fn key_id(stored: &[u8]) -> Option<KeyId> {
    match stored {
        [SEALED, a, b, c, d, ..] => Some(KeyId::from_be_bytes([*a, *b, *c, *d])),
        [INDEXED, rest @ ..] if rest.len() >= INDEX + 4 => {
            let id = &rest[INDEX..INDEX + 4];
            Some(KeyId::from_be_bytes([id[0], id[1], id[2], id[3]]))
        }
        _ => None,
    }
}

/// The blind index a lookup by a searchable encrypted column compares with
/// (`get_by_<column>`).
pub fn lookup(plaintext: &str) -> Result<Vec<u8>, crate::Error> {
    blind_index(plaintext).map_err(crypto_error)
}

/// The blind index of a value: HMAC-SHA-256 under the ring's index key.
/// Equal values have equal indexes; the index reveals nothing else.
pub fn blind_index(plaintext: &str) -> Result<Vec<u8>, CryptoError> {
    let ring = ring()?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(ring.index_key()).map_err(|_| CryptoError::NoKeyRing)?;
    mac.update(plaintext.as_bytes());
    Ok(mac.finalize().into_bytes().to_vec())
}

/// The active key's id as stored values begin with it (after the version
/// byte): what `reencrypt` compares with to find values sealed otherwise.
pub fn active_key_prefix() -> Result<Vec<u8>, CryptoError> {
    let (id, _) = ring()?.active();
    let mut prefix = vec![SEALED];
    prefix.extend_from_slice(&id.to_be_bytes());
    Ok(prefix)
}

/// Seals again, with the active key, every value of `columns` (quoted
/// names) in `table` (quoted, qualified) that another key sealed or that a
/// migration carried over as plaintext: `batch` rows a transaction, locked
/// with `SKIP LOCKED`, so it runs beside the service and converges; a rerun
/// changes nothing. Returns how many rows it sealed again. Run it as a role
/// that bypasses row-level security (the hub's owner), after installing a
/// ring whose active key is the new one.
/// `columns`: (quoted name, searchable).
#[inline(never)]
pub fn reencrypt<'a>(
    conn: &'a mut sqlx::PgConnection,
    table: &'a str,
    columns: &'a [(&'a str, bool)],
    batch: i64,
) -> crate::BoxFuture<'a, Result<u64, crate::Error>> {
    Box::pin(reencrypt_table(conn, table, columns, batch))
}

async fn reencrypt_table(conn: &mut sqlx::PgConnection, table: &str, columns: &[(&str, bool)], batch: i64) -> Result<u64, crate::Error> {
    use sqlx::{Connection, Row};
    let prefix = active_key_prefix().map_err(crypto_error)?;
    let key = prefix[1..].to_vec();
    // Current: sealed (or indexed) under the active key.
    let current = |stored: &[u8], searchable: bool| {
        let version = if searchable { INDEXED } else { SEALED };
        stored.first() == Some(&version) && key_id(stored).map(KeyId::to_be_bytes).as_ref().map(|k| &k[..]) == Some(&key[..])
    };
    let stale: Vec<String> = columns
        .iter()
        .map(|(c, searchable)| match searchable {
            true => format!(
                "({c} IS NOT NULL AND (get_byte({c}, 0) <> {INDEXED} OR substring({c} from {} for 4) <> $3))",
                2 + INDEX
            ),
            false => format!("({c} IS NOT NULL AND substring({c} from 1 for {HEADER}) <> $1)"),
        })
        .collect();
    let names: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
    let select = format!(
        "SELECT ctid::text, {} FROM {table} WHERE {} LIMIT $2 FOR UPDATE SKIP LOCKED",
        names.join(", "),
        stale.join(" OR ")
    );
    let sets: Vec<String> = names.iter().enumerate().map(|(i, c)| format!("{c} = ${}", i + 2)).collect();
    let update = format!("UPDATE {table} SET {} WHERE ctid = $1::tid", sets.join(", "));
    let mut total = 0;
    loop {
        let mut tx = conn.begin().await?;
        let rows = sqlx::query(&select)
            .bind(&prefix)
            .bind(batch)
            .bind(&key)
            .fetch_all(&mut *tx)
            .await?;
        if rows.is_empty() {
            tx.commit().await?;
            return Ok(total);
        }
        for row in &rows {
            let mut query = sqlx::query(&update).bind(row.try_get::<String, _>(0)?);
            for (i, (_, searchable)) in columns.iter().enumerate() {
                let stored: Option<Vec<u8>> = row.try_get(i + 1)?;
                let sealed = match stored {
                    Some(v) if current(&v, *searchable) => Some(v),
                    Some(v) => {
                        let plain = open(&v).map_err(crypto_error)?;
                        Some(
                            match searchable {
                                true => seal_indexed(&String::from_utf8(plain).map_err(|_| crypto_error(CryptoError::Corrupt))?),
                                false => seal(&plain),
                            }
                            .map_err(crypto_error)?,
                        )
                    }
                    None => None,
                };
                query = query.bind(sealed);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        total += rows.len() as u64;
    }
}

fn crypto_error(e: CryptoError) -> crate::Error {
    crate::Error::Database(sqlx::Error::Decode(Box::new(e)))
}

/// The parts a [`Secret`] and a [`SearchableSecret`] share: plaintext in
/// memory, `<redacted>` in `Debug`, no `Serialize`, deserialized from the
/// plain value, `bytea` in PostgreSQL; each seals in its own `Encode`.
macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Default)]
        pub struct $name<T>(T);

        impl<T> $name<T> {
            pub fn new(value: T) -> $name<T> {
                $name(value)
            }

            /// The plain value. Mind where it goes.
            pub fn expose(&self) -> &T {
                &self.0
            }

            pub fn into_inner(self) -> T {
                self.0
            }
        }

        impl From<String> for $name<String> {
            fn from(value: String) -> $name<String> {
                $name(value)
            }
        }

        impl From<&str> for $name<String> {
            fn from(value: &str) -> $name<String> {
                $name(value.to_string())
            }
        }

        impl<T> std::fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("<redacted>")
            }
        }

        impl<'de, T: Deserialize<'de>> Deserialize<'de> for $name<T> {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                T::deserialize(deserializer).map($name)
            }
        }

        impl schemars::JsonSchema for $name<String> {
            fn schema_name() -> String {
                "Secret".into()
            }

            fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
                let mut schema = String::json_schema(generator).into_object();
                schema.metadata().write_only = true;
                schema.into()
            }
        }

        impl Type<Postgres> for $name<String> {
            fn type_info() -> PgTypeInfo {
                <Vec<u8> as Type<Postgres>>::type_info()
            }
        }

        impl PgHasArrayType for $name<String> {
            fn array_type_info() -> PgTypeInfo {
                <Vec<u8> as PgHasArrayType>::array_type_info()
            }
        }

        /// Checked as the plain value it holds.
        impl crate::check::Text for $name<String> {
            fn text(&self) -> Option<&str> {
                Some(&self.0)
            }
        }

        impl<'r> Decode<'r, Postgres> for $name<String> {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                let stored = <&[u8] as Decode<Postgres>>::decode(value)?;
                let plain = open(stored)?;
                Ok($name(String::from_utf8(plain).map_err(|_| CryptoError::Corrupt)?))
            }
        }
    };
}

secret_type!(
    /// A value of an `@encrypted` column: plaintext in memory, sealed in the
    /// database. `Debug` prints `<redacted>`; it does not serialize at all
    /// (generated models skip it), but deserializes from its plain value, so
    /// requests can carry it in.
    Secret
);

secret_type!(
    /// A value of an `@encrypted(searchable)` column: a [`Secret`] stored with
    /// its blind index, so `get_by_<column>` finds it. Same guarantees.
    SearchableSecret
);

impl Encode<'_, Postgres> for Secret<String> {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <Vec<u8> as Encode<Postgres>>::encode(seal(self.0.as_bytes())?, buf)
    }
}

impl Encode<'_, Postgres> for SearchableSecret<String> {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <Vec<u8> as Encode<Postgres>>::encode(seal_indexed(&self.0)?, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn ring(active: KeyId, ids: &[KeyId]) -> Arc<dyn KeyRing> {
        let mut text: String = ids.iter().map(|id| format!("key {id} {}\n", b64(&[*id as u8; 32]))).collect();
        text.push_str(&format!("active {active}\nindex {}\n", b64(&[9; 32])));
        Arc::new(StaticKeyRing::parse(&text).expect("valid ring"))
    }

    /// One test: the ring is process-wide, and tests run in parallel.
    #[test]
    fn seals_opens_rotates_and_indexes() {
        assert_eq!(seal(b"x").err(), Some(CryptoError::NoKeyRing));
        install(ring(1, &[1]));
        let one = seal(b"tok_live_123").expect("seal");
        assert_eq!(key_id(&one), Some(1));
        assert_ne!(seal(b"tok_live_123").expect("seal"), one, "a fresh nonce every time");
        assert!(!one.windows(3).any(|w| w == b"tok"), "no plaintext in the ciphertext");
        assert_eq!(open(&one).expect("open"), b"tok_live_123");
        assert_eq!(open(&[PLAINTEXT, b'h', b'i']).expect("carried over"), b"hi");

        // Rotation: key 2 seals, key 1 still opens the old value.
        install(ring(2, &[1, 2]));
        let two = seal(b"tok_live_123").expect("seal");
        assert_eq!(key_id(&two), Some(2));
        assert_eq!(open(&one).expect("old value"), b"tok_live_123");
        assert_eq!(active_key_prefix().expect("prefix"), two[..HEADER].to_vec());

        // Tampering and unknown keys are errors that say nothing of the value.
        let mut bad = two.clone();
        *bad.last_mut().expect("tag") ^= 1;
        assert_eq!(open(&bad).err(), Some(CryptoError::Corrupt));
        install(ring(3, &[3]));
        let error = open(&one).expect_err("key 1 is gone");
        assert_eq!(error, CryptoError::UnknownKey(1));
        assert!(!error.to_string().contains("tok"));

        // Blind indexes: equal for equal values, under the index key alone.
        assert_eq!(blind_index("a@x.io").expect("index"), blind_index("a@x.io").expect("index"));
        assert_ne!(blind_index("a@x.io").expect("index"), blind_index("b@x.io").expect("index"));
        assert_eq!(blind_index("a@x.io").expect("index").len(), 32);
        assert_eq!(format!("{:?}", Secret::new("tok_live_123".to_string())), "<redacted>");

        // Indexed: the blind index in front, the key id after it; opens like the rest.
        let indexed = seal_indexed("a@x.io").expect("seal");
        assert_eq!(indexed[0], INDEXED);
        assert_eq!(indexed[1..1 + INDEX], blind_index("a@x.io").expect("index")[..]);
        assert_eq!(key_id(&indexed), Some(3));
        assert_eq!(open(&indexed).expect("open"), b"a@x.io");
    }

    #[test]
    fn key_rings_are_read_with_clear_errors() {
        let good = format!(
            "# keys\nkey 1 {}\nkey 7 {}\nindex {}\n",
            b64(&[1; 32]),
            b64(&[7; 32]),
            b64(&[9; 32])
        );
        let ring = StaticKeyRing::parse(&good).expect("valid");
        assert_eq!(ring.active().0, 7, "the highest id is active by default");
        assert!(!format!("{ring:?}").contains(&b64(&[1; 32])), "Debug shows no key");
        for (text, why) in [
            (
                format!("key 1 {}\nindex {}\n", b64(&[1; 16]), b64(&[9; 32])),
                "line 1: an AES-256 key has 32 bytes",
            ),
            (format!("key 1 {}\n", b64(&[1; 32])), "no index key"),
            (
                format!("key 1 {}\nactive 2\nindex {}\n", b64(&[1; 32]), b64(&[9; 32])),
                "the active key 2 is not among the keys",
            ),
            (
                "keys 1 x\n".to_string(),
                "line 1: expected `key <id> <base64>`, `active <id>` or `index <base64>`",
            ),
        ] {
            assert_eq!(
                StaticKeyRing::parse(&text).err(),
                Some(CryptoError::InvalidKeyRing(why.into())),
                "{text}"
            );
        }
    }
}
