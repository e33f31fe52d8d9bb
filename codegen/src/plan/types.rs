//! How a column type change behaves: in place, rewriting, or losing data.

use hubgen_schema::types::ColumnType;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeChange {
    /// Every old value fits and PostgreSQL changes only the catalog (varchar(50) → varchar(100), varchar → text).
    Widening,
    /// Every old value fits but the table is rewritten under an exclusive lock (integer → bigint).
    WideningRewrite,
    /// Values may not fit (text → varchar(10), bigint → integer): may fail or lose precision.
    Narrowing,
    /// A different kind of value (text → integer): converted with `USING`, may fail.
    Conversion,
    /// Text becomes `@encrypted`: each value is kept as plaintext marked as
    /// such (a zero byte, then UTF-8), which the crate reads and its
    /// `reencrypt` seals; the database has no keys.
    Encrypt,
    /// Back to text, possible while no value has been sealed yet.
    Decrypt,
}

pub fn classify(from: &ColumnType, to: &ColumnType) -> TypeChange {
    use ColumnType::*;
    let rank = |t: &ColumnType| match t {
        SmallInt => Some(1),
        Integer => Some(2),
        BigInt => Some(3),
        _ => None,
    };
    match (from, to) {
        (Varchar(Some(a)), Varchar(Some(b))) if b >= a => TypeChange::Widening,
        (Varchar(_), Varchar(None) | Text) | (Char(_), Text) => TypeChange::Widening,
        (Varchar(_) | Text, Varchar(_)) | (Text, Char(_)) | (Varchar(_), Char(_)) => TypeChange::Narrowing,
        (Numeric(Some((p1, s1))), Numeric(Some((p2, s2)))) if s1 == s2 && p2 >= p1 => TypeChange::Widening,
        (Numeric(Some(_)), Numeric(None)) => TypeChange::Widening,
        (Numeric(_), Numeric(_)) => TypeChange::Narrowing,
        (Real, Double) => TypeChange::WideningRewrite,
        (Double, Real) => TypeChange::Narrowing,
        (Timestamp, Timestamptz) => TypeChange::WideningRewrite,
        (Timestamptz, Timestamp) => TypeChange::Narrowing,
        (Json, Jsonb) => TypeChange::WideningRewrite,
        _ => match (rank(from), rank(to)) {
            (Some(a), Some(b)) if b > a => TypeChange::WideningRewrite,
            (Some(_), Some(_)) => TypeChange::Narrowing,
            _ if rank(from).is_some() && matches!(to, Numeric(None)) => TypeChange::WideningRewrite,
            _ => TypeChange::Conversion,
        },
    }
}
