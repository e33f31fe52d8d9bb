//! `hub!` used as a team without checked-in code would: the expanded wallet
//! hub migrates a database and runs its repositories.

mod wallet {
    hubgen_macros::hub!("../schema/platform.hubs", wallet);
}

use hubgen_runtime::prelude::*;
use hubgen_runtime::testing::TestDatabase;

#[tokio::test]
async fn the_expanded_hub_works_against_postgres() {
    let db = TestDatabase::create("macro_wallet", wallet::MIGRATIONS, "", 2).await;
    // Wallets are owner-scoped: the owner's own transaction writes and reads them.
    let owner = hub_ids::UserId::new();
    let mut conn = wallet::ActorTx::begin(&db.pool, owner).await.expect("begin");
    let new = wallet::NewWallet {
        id: None,
        user_id: owner,
        tenant_id: None,
        currency: Some("EUR".into()),
        balance: None,
        available_balance: None,
        frozen_balance: None,
        status: None,
        wallet_type: None,
        metadata: None,
        created_at: None,
        updated_at: None,
    };
    let row = wallet::WalletRepo::insert(&mut conn, &new).await.expect("insert");
    assert_eq!(row.currency, "EUR");
    assert_eq!(row.version, 1, "the database default applies");
    assert_eq!(wallet::WalletRepo::get(&mut conn, row.id).await.expect("get"), Some(row.clone()));
    // The same types as the checked-in crate: a row of one converts to the other through serde.
    let checked_in: hub_wallet::Wallet = serde_json::from_value(serde_json::to_value(&row).expect("json")).expect("same shape");
    assert_eq!(checked_in.id, row.id);
    drop(conn);
    db.drop_db().await;
}

/// A schema of one's own: a single hub with enums, its typed IDs expanded with it.
mod waha {
    hubgen_macros::hub!("../examples/waha/schema/waha.hubs", waha);
}

#[tokio::test]
async fn a_hub_of_another_schema_expands_with_its_ids_and_enums() {
    let db = TestDatabase::create("macro_waha", waha::MIGRATIONS, "", 2).await;
    let mut conn = db.pool.acquire().await.expect("connection");
    let new = waha::NewTenant {
        id: None,
        created_at: None,
        updated_at: None,
        name: "acme".into(),
        status: Some(waha::TenantStatus::Inactive),
        description: None,
        settings: None,
    };
    let row = waha::TenantRepo::insert(&mut conn, &new).await.expect("insert");
    let id: waha::ids::TenantId = row.id;
    assert_eq!(row.status, waha::TenantStatus::Inactive, "the enum round-trips");
    let read = waha::TenantRepo::get(&mut conn, id).await.expect("get").expect("found");
    assert_eq!(read, row);
    drop(conn);
    db.drop_db().await;
}

/// A table with an array column: COPY cannot write it, so `insert_copy`
/// inserts as `insert_many` does (row by row here: `UNNEST` would flatten
/// the arrays), and the rows land the same.
mod tagged {
    hubgen_macros::hub!("data/tagged.hubs", tagged);
}

#[tokio::test]
async fn insert_copy_inserts_as_insert_many_where_copy_cannot_write_a_column() {
    use tagged::{NewNote, NoteFilter, NoteRepo, NoteSort, PageRequest};
    let db = TestDatabase::create("macro_tagged", tagged::MIGRATIONS, "", 2).await;
    let mut conn = db.pool.acquire().await.expect("connection");
    let note = |body: &str, tags: Option<Vec<String>>| NewNote {
        id: None,
        body: body.into(),
        tags,
    };
    let copied = [note("a", Some(vec!["x".into(), "y".into()])), note("b", None)];
    let many = [note("c", Some(vec!["x".into(), "y".into()])), note("d", None)];
    assert_eq!(NoteRepo::insert_copy(&mut conn, &copied).await.expect("copy"), 2);
    assert_eq!(NoteRepo::insert_many(&mut conn, &many).await.expect("many"), 2);
    let page = NoteRepo::list(&mut conn, &NoteFilter::default(), &PageRequest::first(10).by(NoteSort::Id))
        .await
        .expect("list");
    let mut stored: Vec<(String, Option<Vec<String>>)> = page.items.into_iter().map(|n| (n.body, n.tags)).collect();
    stored.sort();
    let tags = Some(vec!["x".to_string(), "y".to_string()]);
    let expected = [("a", tags.clone()), ("b", None), ("c", tags), ("d", None)];
    assert_eq!(stored, expected.map(|(body, tags)| (body.to_string(), tags)));
    drop(conn);
    db.drop_db().await;
}
