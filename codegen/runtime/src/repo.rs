//! The generic half of every generated repository. A repository method (of
//! the [`table`](crate::table) traits, or generated) passes its table's const
//! SQL to one of these functions; the repository's impls of those traits say,
//! once per table, which field goes to which parameter. So each hub crate
//! carries its SQL and its field lists, not a copy of the bind-and-fetch code
//! for every method of every table (smaller to generate, faster to compile).

use crate::table::Write;
use crate::{BoxFuture, Cursor, Error, Page, PageRequest, RowStream, Scope, Violation};
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArguments, PgConnection, PgHasArrayType, PgRow};
use sqlx::{Arguments, Encode, FromRow, Postgres, Row as _, Type};

/// A value a statement parameter can carry (borrowed for `'q`).
pub trait Param<'q>: Encode<'q, Postgres> + Type<Postgres> {}

impl<'q, T: Encode<'q, Postgres> + Type<Postgres>> Param<'q> for T {}

/// A row type a statement reads.
pub trait Row: for<'r> FromRow<'r, PgRow> + Send + Unpin {}

impl<T: for<'r> FromRow<'r, PgRow> + Send + Unpin> Row for T {}

/// A statement's parameters, bound in order. An encoding error is kept and
/// reported when the statement would run, as sqlx's own `bind` does.
#[derive(Default)]
pub struct Args {
    args: PgArguments,
    error: Option<BoxDynError>,
}

impl Args {
    /// The next parameter.
    pub fn add<'q, T: Param<'q> + 'q>(&mut self, value: T) {
        if self.error.is_none() {
            if let Err(error) = self.args.add(value) {
                self.error = Some(error);
            }
        }
    }

    /// A nullable column's patch field: whether to set it, then the value (NULL clears).
    pub fn patch<'q, T: Param<'q>>(&mut self, value: &'q Option<Option<T>>) {
        self.add(value.is_some());
        self.add(value.as_ref().and_then(Option::as_ref));
    }

    /// A filter column's [`Condition`](crate::Condition): its four parameters, each a no-op when NULL.
    pub fn condition<'q, T: Param<'q> + PgHasArrayType>(&mut self, condition: &'q crate::Condition<T>) {
        self.add(condition.any_of.as_deref());
        self.add(condition.at_least.as_ref());
        self.add(condition.below.as_ref());
        self.add(condition.is_null);
    }

    /// One column of many rows, as one array parameter (for `UNNEST`).
    pub fn column<'q, R, T: Param<'q> + PgHasArrayType + 'q>(&mut self, rows: &'q [R], field: impl Fn(&'q R) -> &'q T) {
        self.add(rows.iter().map(field).collect::<Vec<&T>>());
    }

    pub(crate) fn finish(self) -> Result<PgArguments, Error> {
        match self.error {
            None => Ok(self.args),
            Some(error) => Err(sqlx::Error::Encode(error).into()),
        }
    }
}

/// Where an insert struct sends its fields, in column order: statement
/// parameters ([`Args`]), a binary COPY row, or the mask of the columns a
/// row leaves to their defaults.
pub trait Sink {
    /// A column's value.
    fn value<'q, T: Param<'q>>(&mut self, value: &'q T);
    /// A column with a default: `None` leaves it to the default.
    fn or_default<'q, T: Param<'q>>(&mut self, value: &'q Option<T>);
    /// A `json` (not `jsonb`) column; `or_default` as above.
    fn json(&mut self, value: Option<&serde_json::Value>, or_default: bool);
}

impl Sink for Args {
    fn value<'q, T: Param<'q>>(&mut self, value: &'q T) {
        self.add(value);
    }

    /// `None` travels as NULL: the statement's `COALESCE` takes the default.
    fn or_default<'q, T: Param<'q>>(&mut self, value: &'q Option<T>) {
        self.add(value);
    }

    /// Sent as `jsonb`; the statement casts it.
    fn json(&mut self, value: Option<&serde_json::Value>, _or_default: bool) {
        self.add(value);
    }
}

/// Values bound in order: a key, or its columns (a tuple, `()` for none).
pub trait Params<'q>: Send {
    fn bind(self, args: &mut Args);
}

macro_rules! tuple_params {
    ($($name:ident),*) => {
        impl<'q, $($name: Param<'q> + Send + 'q),*> Params<'q> for ($($name,)*) {
            #[allow(non_snake_case, unused_variables)]
            fn bind(self, args: &mut Args) {
                let ($($name,)*) = self;
                $(args.add($name);)*
            }
        }
    };
}

tuple_params!();
tuple_params!(A);
tuple_params!(A, B);
tuple_params!(A, B, C);
tuple_params!(A, B, C, D);
tuple_params!(A, B, C, D, E);
tuple_params!(A, B, C, D, E, F);

fn args_of<'q>(params: impl Params<'q>) -> Args {
    let mut args = Args::default();
    params.bind(&mut args);
    args
}

fn filtered(filter: impl FnOnce(&mut Args)) -> Args {
    let mut args = Args::default();
    filter(&mut args);
    args
}

// Statements run here, in functions generic over nothing whose futures are
// boxed here (`BoxFuture`, as for the runtime's other entry points): sqlx's
// executor code is compiled once, in this crate. Run through `query_as`, or
// awaited unboxed, it would be compiled again in every crate that calls a
// repository; the generic functions below only bind and decode.

#[inline(never)]
fn optional_row<'a>(
    conn: &'a mut PgConnection,
    sql: &'a str,
    args: Result<PgArguments, Error>,
) -> BoxFuture<'a, Result<Option<PgRow>, Error>> {
    Box::pin(async move { Ok(sqlx::query_with(sql, args?).fetch_optional(conn).await?) })
}

#[inline(never)]
fn one_row<'a>(conn: &'a mut PgConnection, sql: &'a str, args: Result<PgArguments, Error>) -> BoxFuture<'a, Result<PgRow, Error>> {
    Box::pin(async move { Ok(sqlx::query_with(sql, args?).fetch_one(conn).await?) })
}

// Each row is handed to `each` as it arrives (decoded and dropped there, as
// `query_as` does), not collected first: a page of rows then never sits in
// memory twice.
#[inline(never)]
fn each_row<'a>(
    conn: &'a mut PgConnection,
    sql: &'a str,
    args: Result<PgArguments, Error>,
    each: &'a mut (dyn FnMut(PgRow) -> Result<(), Error> + Send),
) -> BoxFuture<'a, Result<(), Error>> {
    use futures_util::TryStreamExt;
    Box::pin(async move {
        let mut rows = sqlx::query_with(sql, args?).fetch(conn);
        while let Some(row) = rows.try_next().await? {
            each(row)?;
        }
        Ok(())
    })
}

#[inline(never)]
fn rows_affected<'a>(conn: &'a mut PgConnection, sql: &'a str, args: Result<PgArguments, Error>) -> BoxFuture<'a, Result<u64, Error>> {
    Box::pin(async move { Ok(sqlx::query_with(sql, args?).execute(conn).await?.rows_affected()) })
}

fn decode<R: Row>(row: &PgRow) -> Result<R, Error> {
    Ok(R::from_row(row)?)
}

async fn decode_all<R: Row>(conn: &mut PgConnection, sql: &str, args: Result<PgArguments, Error>) -> Result<Vec<R>, Error> {
    let mut decoded = Vec::new();
    each_row(conn, sql, args, &mut |row| {
        decoded.push(decode(&row)?);
        Ok(())
    })
    .await?;
    Ok(decoded)
}

/// At most one row (`get`, `get_by_*`).
pub async fn fetch_optional<'q, R: Row>(tx: &mut impl Scope, sql: &str, params: impl Params<'q>) -> Result<Option<R>, Error> {
    let row = optional_row(tx.conn(), sql, args_of(params).finish()).await?;
    row.as_ref().map(decode).transpose()
}

/// Every row (`get_many`).
pub async fn fetch_all<'q, R: Row>(tx: &mut impl Scope, sql: &str, params: impl Params<'q>) -> Result<Vec<R>, Error> {
    decode_all(tx.conn(), sql, args_of(params).finish()).await
}

/// `SELECT EXISTS (...)`.
pub async fn exists<'q>(tx: &mut impl Scope, sql: &str, params: impl Params<'q>) -> Result<bool, Error> {
    let row = one_row(tx.conn(), sql, args_of(params).finish()).await?;
    Ok(row.try_get(0)?)
}

/// A statement that must change one row (`delete`, `restore`): `NotFound` if it changed none.
pub async fn execute_one<'q>(tx: &mut impl Scope, sql: &str, params: impl Params<'q>) -> Result<(), Error> {
    let done = rows_affected(tx.conn(), sql, args_of(params).finish()).await?;
    if done == 0 {
        Err(Error::NotFound)
    } else {
        Ok(())
    }
}

/// How many rows match the filter (`filter` binds its parameters).
pub async fn count(tx: &mut impl Scope, sql: &str, filter: impl FnOnce(&mut Args)) -> Result<i64, Error> {
    let row = one_row(tx.conn(), sql, filtered(filter).finish()).await?;
    Ok(row.try_get(0)?)
}

/// The rows matching the filter, as PostgreSQL sends them.
pub fn stream<'a, R: Row + 'a>(tx: &'a mut impl Scope, sql: &'static str, filter: impl FnOnce(&mut Args)) -> RowStream<'a, R> {
    use futures_util::StreamExt;
    row_stream(tx.conn(), sql, filtered(filter).finish())
        .map(|row| row.and_then(|row| decode(&row)))
        .boxed()
}

fn row_stream<'a>(conn: &'a mut PgConnection, sql: &'static str, args: Result<PgArguments, Error>) -> RowStream<'a, PgRow> {
    use futures_util::StreamExt;
    match args {
        Ok(args) => crate::row_stream(sqlx::query_with(sql, args).fetch(conn)),
        Err(error) => futures_util::stream::once(async { Err(error) }).boxed(),
    }
}

/// One page: statement `2 × sort + desc` of `sql` (one per order and
/// direction, each in `orders`), after the page's cursor, with the filter's
/// parameters (`filter` binds them) and the limit; `cursor` makes a row's
/// cursor for an order.
pub async fn list<R: Row, S>(
    tx: &mut impl Scope,
    sql: &[&str],
    orders: &[&'static str],
    sort: usize,
    filter: impl FnOnce(&mut Args),
    page: &PageRequest<S>,
    cursor: impl Fn(&str, &R) -> Cursor,
) -> Result<Page<R>, Error> {
    let statement = 2 * sort + usize::from(page.is_desc());
    let order = orders[statement];
    let limit = page.sql_limit();
    let mut args = Args::default();
    args.add(page.cursor_for(order)?);
    filter(&mut args);
    args.add(limit);
    let rows = decode_all(tx.conn(), sql[statement], args.finish()).await?;
    Ok(Page::from_rows(rows, limit, |row| cursor(order, row)))
}

/// A new row's parameters: its fields, then the transaction's tenant where the table has one.
fn new_args<T: Write>(new: &T::New, tenant: Option<uuid::Uuid>) -> Args {
    let mut args = Args::default();
    T::bind(new, &mut args);
    if T::TENANT.is_some() {
        args.add(tenant);
    }
    args
}

/// Inserts (or upserts) one row after `validate()`, returning it as stored.
pub async fn insert<T: Write, R: Row>(tx: &mut impl Scope, sql: &str, new: &T::New) -> Result<R, Error> {
    T::validate(new).map_err(Error::Invalid)?;
    let args = new_args::<T>(new, tx.tenant_id()).finish();
    decode(&one_row(tx.conn(), sql, args).await?)
}

/// Inserts many rows in one statement (`many`: one array parameter per
/// column) after `validate()` of each, all or none, in a savepoint. If the
/// database refuses the batch for a row's sake (a constraint, a value, a
/// policy), inserts the rows one at a time with `one` (the single-row insert),
/// each after the ones before (so a duplicate inside the batch is found too),
/// rolls all of it back and reports the first refused row as
/// [`Error::InRow`]. The probe runs only on that error path. Without `many`
/// (array columns), or where the rows cannot travel as arrays, inserts them
/// one statement each.
pub async fn insert_rows<T: Write>(tx: &mut impl Scope, many: Option<&str>, one: &str, rows: &[T::New]) -> Result<u64, Error> {
    Violation::of_rows(rows, T::validate).map_err(Error::Invalid)?;
    let tenant = tx.tenant_id();
    let mut args = Args::default();
    let (Some(sql), true) = (many, T::bind_columns(rows, &mut args)) else {
        return insert_each::<T>(tx.conn(), one, rows, tenant).await;
    };
    if T::TENANT.is_some() {
        args.add(tenant);
    }
    let row_args = |row: usize| new_args::<T>(&rows[row], tenant).finish();
    insert_batch(tx.conn(), sql, args.finish(), one, rows.len(), &row_args).await
}

/// [`insert_many`]'s statements; `row_args` gives a row's parameters for `one`.
#[inline(never)]
fn insert_batch<'a>(
    conn: &'a mut PgConnection,
    sql: &'a str,
    args: Result<PgArguments, Error>,
    one: &'a str,
    rows: usize,
    row_args: &'a (dyn Fn(usize) -> Result<PgArguments, Error> + Sync),
) -> BoxFuture<'a, Result<u64, Error>> {
    Box::pin(run_batch(conn, sql, args, one, rows, row_args))
}

async fn run_batch(
    conn: &mut PgConnection,
    sql: &str,
    args: Result<PgArguments, Error>,
    one: &str,
    rows: usize,
    row_args: &(dyn Fn(usize) -> Result<PgArguments, Error> + Sync),
) -> Result<u64, Error> {
    let args = args?;
    let mut batch = sqlx::Connection::begin(&mut *conn).await?;
    let error = match sqlx::query_with(sql, args).execute(&mut *batch).await {
        Ok(done) => {
            batch.commit().await?;
            return Ok(done.rows_affected());
        }
        Err(error) => error,
    };
    batch.rollback().await?;
    if !matches!(error, sqlx::Error::Database(_)) {
        return Err(error.into());
    }
    let mut probe = sqlx::Connection::begin(&mut *conn).await?;
    for row in 0..rows {
        let refused = match row_args(row) {
            Ok(args) => sqlx::query_with(one, args).execute(&mut *probe).await.err().map(Error::from),
            Err(error) => Some(error),
        };
        if let Some(refused) = refused {
            probe.rollback().await?;
            return Err(Error::InRow {
                row,
                error: Box::new(refused),
            });
        }
    }
    // Every row alone went in: the batch failed as a whole; report that.
    probe.rollback().await?;
    Err(error.into())
}

/// Inserts validated rows one statement each; a refused row is named by `Error::InRow`.
async fn insert_each<T: Write>(conn: &mut PgConnection, sql: &str, rows: &[T::New], tenant: Option<uuid::Uuid>) -> Result<u64, Error> {
    for (row, new) in rows.iter().enumerate() {
        rows_affected(&mut *conn, sql, new_args::<T>(new, tenant).finish())
            .await
            .map_err(|error| Error::InRow {
                row,
                error: Box::new(error),
            })?;
    }
    Ok(rows.len() as u64)
}

/// Inserts many rows by binary COPY after `validate()` of each (see
/// [`copy`](crate::copy)), where the table has a [`CopyTarget`](crate::copy::CopyTarget);
/// else as [`insert_rows`] does, with `many` and `one`.
pub async fn insert_copy<T: Write>(tx: &mut impl Scope, many: Option<&str>, one: &str, rows: &[T::New]) -> Result<u64, Error> {
    let Some(target) = &T::COPY else {
        return insert_rows::<T>(tx, many, one, rows).await;
    };
    Violation::of_rows(rows, T::validate).map_err(Error::Invalid)?;
    let tenant = T::TENANT.zip(tx.tenant_id());
    crate::copy::insert(tx.conn(), target, rows, &|row, sink| T::bind(row, sink), tenant).await
}

/// Applies a patch after `validate()`: the key's parameters, the patch's,
/// then `after` (an expected version, or `()`); `None` when no row matched.
pub async fn update<'q, T: Write, R: Row>(
    tx: &mut impl Scope,
    sql: &str,
    key: impl Params<'q>,
    patch: &T::Patch,
    after: impl Params<'q>,
) -> Result<Option<R>, Error> {
    T::validate_patch(patch).map_err(Error::Invalid)?;
    let mut args = args_of(key);
    T::bind_patch(patch, &mut args);
    after.bind(&mut args);
    let row = optional_row(tx.conn(), sql, args.finish()).await?;
    row.as_ref().map(decode).transpose()
}
