//! Repositories as traits: a generated repository implements them with its
//! table's statements (consts), its types and which field goes to which
//! parameter, and every method comes from here, written once. A hub crate
//! then holds its SQL and a few small functions per table, in one impl per
//! trait, not a dozen methods to compile for each; only what differs by table
//! is generated as methods of the repository itself (`get_by_*`,
//! `upsert_by_*`, a versioned `update`).
//!
//! The methods are the traits' own, so the traits must be in scope to call
//! them: `use hubgen_runtime::prelude::*;`.

use crate::repo::{self, Args, Row, Sink};
use crate::{Cursor, Error, Page, PageRequest, RowStream, Scope, Violation};
use std::future::Future;

/// Which transactions a table's statements take, one marker per kind of
/// table (see [`Runs`]).
pub mod scope {
    /// A table without row-level security: a connection or a plain transaction.
    pub enum Conn {}
    /// A tenant-scoped table: a [`TenantTx`](crate::TenantTx) only.
    pub enum Tenant {}
    /// Rows of a tenant or of none: a [`TenantTx`](crate::TenantTx) or a [`PlatformTx`](crate::PlatformTx).
    pub enum TenantOrPlatform {}
    /// An owner-scoped table: a transaction acting for a user, or the platform's.
    pub enum Acting {}
}

/// An executor that may run the statements of a table of scope `S`: the
/// compiler, not the database, refuses a tenant-scoped call without a tenant.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot run this table's statements (scope `{S}`)",
    label = "not a transaction of this table's scope",
    note = "tenant-scoped tables run in a `TenantTx`; owner-scoped ones in an `ActorTx`, a `TenantTx` after `act_as`, or a `PlatformTx`; tables with rows of no tenant in a `TenantTx` or a `PlatformTx`; tables without row-level security on a connection or transaction"
)]
pub trait Runs<S>: Scope {}

impl Runs<scope::Conn> for sqlx::PgConnection {}
impl Runs<scope::Conn> for sqlx::Transaction<'_, sqlx::Postgres> {}
impl Runs<scope::Conn> for sqlx::pool::PoolConnection<sqlx::Postgres> {}
impl Runs<scope::Tenant> for crate::TenantTx<'_> {}
impl<T: crate::TenantOrPlatform> Runs<scope::TenantOrPlatform> for T {}
impl<T: crate::Acting> Runs<scope::Acting> for T {}

/// A table with a primary key: reads by key, pages, counts and streams.
pub trait Table: Sized + 'static {
    /// A row as stored.
    type Row: Row + 'static;
    /// The primary key: its typed ID, or a tuple of its columns.
    type Key: Send + Sync + 'static;
    /// Conditions on the indexed columns.
    type Filter: Sync + 'static;
    /// The orders a page can come in.
    type Sort: Copy + Send + Sync + 'static;
    /// Which transactions run the statements ([`scope`]).
    type Scope;

    /// `SELECT` of one row by key.
    const GET: &'static str;
    /// `SELECT EXISTS` by key.
    const EXISTS: &'static str;
    /// `SELECT` of the rows whose keys are in arrays, in key order.
    const GET_MANY: &'static str;
    /// One page: a statement per sort and direction (`2 × sort + desc`).
    const LIST: &'static [&'static str];
    /// The name of each of [`LIST`](Self::LIST)'s orders, which cursors carry.
    const ORDERS: &'static [&'static str];
    /// `SELECT count(*)` under the filter.
    const COUNT: &'static str;
    /// Every row under the filter, in key order.
    const STREAM: &'static str;

    /// The filter's parameters: each condition's (see [`Args::condition`]).
    fn bind_filter(filter: &Self::Filter, args: &mut Args);
    /// The key's parameters.
    fn bind_key(key: &Self::Key, args: &mut Args);
    /// Keys as one array parameter per key column.
    fn bind_keys(keys: &[Self::Key], args: &mut Args);
    /// The sort's position in [`Sort`](Self::Sort).
    fn sort_index(sort: Self::Sort) -> usize;
    /// A row's cursor for a page in `sort`, named `order`.
    fn cursor(sort: Self::Sort, order: &str, row: &Self::Row) -> Cursor;

    /// The row with this primary key, if it exists (and is not soft-deleted).
    fn get<'a>(
        tx: &'a mut (impl Runs<Self::Scope> + 'a),
        key: Self::Key,
    ) -> impl Future<Output = Result<Option<Self::Row>, Error>> + Send + 'a {
        repo::fetch_optional(tx, Self::GET, Keyed::<Self>(key))
    }

    /// Whether a row with this primary key exists (and is not soft-deleted).
    fn exists<'a>(tx: &'a mut (impl Runs<Self::Scope> + 'a), key: Self::Key) -> impl Future<Output = Result<bool, Error>> + Send + 'a {
        repo::exists(tx, Self::EXISTS, Keyed::<Self>(key))
    }

    /// The rows with these primary keys, in key order; keys without a row are left out.
    fn get_many<'a>(
        tx: &'a mut (impl Runs<Self::Scope> + 'a),
        keys: &'a [Self::Key],
    ) -> impl Future<Output = Result<Vec<Self::Row>, Error>> + Send + 'a {
        repo::fetch_all(tx, Self::GET_MANY, KeysOf::<Self>(keys))
    }

    /// One page of rows matching the filter, in the requested order (keyset
    /// pagination: stable under concurrent writes; ties broken by the primary key).
    fn list<'a>(
        tx: &'a mut (impl Runs<Self::Scope> + 'a),
        filter: &'a Self::Filter,
        page: &'a PageRequest<Self::Sort>,
    ) -> impl Future<Output = Result<Page<Self::Row>, Error>> + Send + 'a {
        let sort = page.sort;
        repo::list(
            tx,
            Self::LIST,
            Self::ORDERS,
            Self::sort_index(sort),
            |args: &mut Args| Self::bind_filter(filter, args),
            page,
            move |order, row| Self::cursor(sort, order, row),
        )
    }

    /// How many rows match the filter.
    fn count<'a>(
        tx: &'a mut (impl Runs<Self::Scope> + 'a),
        filter: &'a Self::Filter,
    ) -> impl Future<Output = Result<i64, Error>> + Send + 'a {
        repo::count(tx, Self::COUNT, |args: &mut Args| Self::bind_filter(filter, args))
    }

    /// Every row matching the filter in primary-key order, one at a time: for
    /// scans too large for a page (rows stream as PostgreSQL sends them).
    fn stream<'a>(tx: &'a mut (impl Runs<Self::Scope> + 'a), filter: &Self::Filter) -> RowStream<'a, Self::Row> {
        repo::stream(tx, Self::STREAM, |args: &mut Args| Self::bind_filter(filter, args))
    }
}

/// A table the hub writes: inserts, deletes, and its insert and patch
/// structs' fields as parameters.
pub trait Write: Table {
    /// A new row.
    type New: Sync + 'static;
    /// Which columns to change, and to what (`update`).
    type Patch: Sync + 'static;

    /// `INSERT ... RETURNING` of one row.
    const INSERT: &'static str;
    /// The insert of many rows in one statement (one array parameter per
    /// column); `None` where array columns rule out `UNNEST`.
    const INSERT_MANY: Option<&'static str>;
    /// The insert of one row without `RETURNING`: `insert_many`'s row by row.
    const INSERT_ONE: &'static str;
    /// `DELETE` by key (an `UPDATE` where rows are soft-deleted).
    const DELETE: &'static str;
    /// The quoted tenant column the transaction's tenant fills, bound after the fields.
    const TENANT: Option<&'static str> = None;
    /// Where rows go by binary COPY; `None` where a column has no binary
    /// format sqlx writes (`insert_copy` then inserts as `insert_many` does).
    const COPY: Option<crate::copy::CopyTarget> = None;

    /// Client-side checks of a new row (the insert struct's own `validate`).
    fn validate(new: &Self::New) -> Result<(), Vec<Violation>>;
    /// A new row's fields, in column order.
    fn bind(new: &Self::New, sink: &mut impl Sink);
    /// Many rows as one array per column, in column order; `false` (sending
    /// nothing) where the table has array columns, which `UNNEST` would
    /// flatten: those rows go one statement each.
    fn bind_columns(rows: &[Self::New], args: &mut Args) -> bool {
        let _ = (rows, args);
        false
    }
    /// Client-side checks of a patch (the patch struct's own `validate`).
    fn validate_patch(patch: &Self::Patch) -> Result<(), Vec<Violation>>;
    /// A patch's parameters, in column order (see [`Args::patch`]).
    fn bind_patch(patch: &Self::Patch, args: &mut Args);

    /// Inserts one row (after `validate()`), returning it as stored.
    fn insert<'a>(
        tx: &'a mut (impl Runs<Self::Scope> + 'a),
        new: &'a Self::New,
    ) -> impl Future<Output = Result<Self::Row, Error>> + Send + 'a {
        repo::insert::<Self, _>(tx, Self::INSERT, new)
    }

    /// Inserts many rows, returning how many: in one statement (one array
    /// parameter per column) where the table has no array columns, else one
    /// statement each. All or none: if the database refuses a row, nothing
    /// is inserted and `Error::InRow` names the first row it refuses.
    fn insert_many<'a>(
        tx: &'a mut (impl Runs<Self::Scope> + 'a),
        rows: &'a [Self::New],
    ) -> impl Future<Output = Result<u64, Error>> + Send + 'a {
        repo::insert_rows::<Self>(tx, Self::INSERT_MANY, Self::INSERT_ONE, rows)
    }

    /// Inserts many rows by binary COPY (after `validate()` of each),
    /// returning how many: the fastest way in for large batches. Rows land
    /// as `insert_many` would store them; fields left `None` take their
    /// defaults. A table with a column COPY cannot write (arrays, types that
    /// travel as text) inserts as `insert_many` does. (Its future is not
    /// `Send`: the compiler cannot prove sqlx's COPY futures so in generic
    /// code; await it in the task that runs it.)
    fn insert_copy<'a>(tx: &'a mut (impl Runs<Self::Scope> + 'a), rows: &'a [Self::New]) -> impl Future<Output = Result<u64, Error>> + 'a {
        repo::insert_copy::<Self>(tx, Self::INSERT_MANY, Self::INSERT_ONE, rows)
    }

    /// Deletes the row (soft-deletes it where the table keeps deleted rows:
    /// hidden from `get` and `list` until `restore`).
    fn delete<'a>(tx: &'a mut (impl Runs<Self::Scope> + 'a), key: Self::Key) -> impl Future<Output = Result<(), Error>> + Send + 'a {
        repo::execute_one(tx, Self::DELETE, Keyed::<Self>(key))
    }
}

/// A table whose rows are patched by key alone (a versioned table's
/// `update` takes the expected version too, and is its repository's own).
pub trait Update: Write {
    /// `UPDATE ... RETURNING` by key: the key's parameters, then the patch's.
    const UPDATE: &'static str;

    /// Applies a patch to the row with this key and returns the row as stored.
    fn update<'a>(
        tx: &'a mut (impl Runs<Self::Scope> + 'a),
        key: Self::Key,
        patch: &'a Self::Patch,
    ) -> impl Future<Output = Result<Self::Row, Error>> + Send + 'a {
        let updated = repo::update::<Self, _>(tx, Self::UPDATE, Keyed::<Self>(key), patch, ());
        async move { updated.await?.ok_or(Error::NotFound) }
    }
}

/// A table that keeps deleted rows, marked (soft delete).
pub trait SoftDelete: Table {
    /// `SELECT` of one row by key, deleted or not.
    const GET_INCLUDING_DELETED: &'static str;
    /// The `UPDATE` that brings a deleted row back (`restore`, where the hub writes the table).
    const RESTORE: &'static str;

    /// The row with this primary key, soft-deleted or not.
    fn get_including_deleted<'a>(
        tx: &'a mut (impl Runs<Self::Scope> + 'a),
        key: Self::Key,
    ) -> impl Future<Output = Result<Option<Self::Row>, Error>> + Send + 'a {
        repo::fetch_optional(tx, Self::GET_INCLUDING_DELETED, Keyed::<Self>(key))
    }

    /// Brings a soft-deleted row back (where the hub writes the table).
    fn restore<'a>(tx: &'a mut (impl Runs<Self::Scope> + 'a), key: Self::Key) -> impl Future<Output = Result<(), Error>> + Send + 'a
    where
        Self: Write,
    {
        repo::execute_one(tx, Self::RESTORE, Keyed::<Self>(key))
    }
}

/// A key as statement parameters.
struct Keyed<T: Table>(T::Key);

impl<T: Table> repo::Params<'_> for Keyed<T> {
    fn bind(self, args: &mut Args) {
        T::bind_key(&self.0, args);
    }
}

/// Keys as one array parameter per key column.
struct KeysOf<'k, T: Table>(&'k [T::Key]);

impl<T: Table> repo::Params<'_> for KeysOf<'_, T> {
    fn bind(self, args: &mut Args) {
        T::bind_keys(self.0, args);
    }
}
