//! The service of the README, as written there: it uses the identity and
//! tenant hubs through their generated crates alone (the crates re-export
//! sqlx, serde_json and the rest at the versions they were built with).
//! `tests/readme.rs` runs it on PostgreSQL and checks the README shows this
//! file's code verbatim.

// README: begin
// The repositories' methods (get, list, insert, update, ...) are traits' own.
use hub_identity::prelude::*;
use hub_identity::{roles, serde_json, sqlx, ActorTx, NewUser, PlatformTx, UserFilter, UserPatch, UserRepo};
use hub_tenant::ids::{TenantId, UserId};
use hub_tenant::{
    Condition, Error, NewTenant, NewTenantMember, PageRequest, TenantMemberFilter, TenantMemberRepo, TenantMemberSort, TenantRepo, TenantTx,
};

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Signs Ada up and fills her workspace. Migrate with an owner role
/// (`hub_identity::migrate(&pool)`); serve with a login role that is a member
/// of `<hub>_app` (`CREATE ROLE svc LOGIN IN ROLE tenant_app`), which never
/// bypasses row-level security — and, for sign-up, of `identity_auth`.
pub async fn onboard(identity: &sqlx::PgPool, tenants: &sqlx::PgPool) -> Result<usize> {
    // Sign-up runs as the auth role, in a platform transaction: a user's own
    // transaction reaches only their own account.
    let mut auth = PlatformTx::begin(identity, roles::IDENTITY_AUTH).await?;

    // Insert with the required fields; the rest are defaults or NULL.
    let new = NewUser {
        first_name: Some("Ada".into()),
        ..NewUser::new("ada@example.com".into(), "argon2id$v=19$...".into())
    };
    UserRepo::insert(&mut auth, &new).await?;

    // An upsert keeps what it leaves `None`: the first name survives.
    let again = NewUser::new("ada@example.com".into(), "argon2id$v=19$rotated".into());
    let ada = UserRepo::upsert_by_email(&mut auth, &again).await?;
    assert_eq!(ada.first_name.as_deref(), Some("Ada"));
    auth.commit().await?;

    // Acting for Ada: she sees her account, and only hers.
    let mut own = ActorTx::begin(identity, ada.id).await?;
    assert_eq!(UserRepo::count(&mut own, &UserFilter::default()).await?, 1);

    // A JSON patch: `null` clears a field, an absent key leaves it.
    let patch: UserPatch = serde_json::from_str(r#"{"first_name": null, "last_name": "Lovelace"}"#)?;
    let ada = UserRepo::update(&mut own, ada.id, &patch).await?;
    assert_eq!((ada.first_name.as_deref(), ada.last_name.as_deref()), (None, Some("Lovelace")));

    // `@sensitive` fields never serialize and print as <redacted>.
    let json = serde_json::to_string(&ada)?;
    assert!(!json.contains("argon2") && !format!("{ada:?}").contains("argon2"));
    own.commit().await?;

    // A workspace is its own tenant: insert it in the transaction of its new
    // id. IDs are typed across hubs: its owner and members take Ada's `UserId`.
    let mut tx = TenantTx::begin(tenants, TenantId::new()).await?;
    let workspace = NewTenant::new("Analytical Engines".into(), ada.id);
    let workspace = TenantRepo::insert(&mut tx, &workspace).await?;
    assert_eq!(workspace.id.0, tx.tenant());

    // Everything in the workspace runs in its tenant's transaction: RLS sees to it.
    let owner = NewTenantMember::new(ada.id, "OWNER".into());
    TenantMemberRepo::insert(&mut tx, &owner).await?;

    // A failed statement in a savepoint leaves the transaction usable.
    let mut savepoint = tx.savepoint().await?;
    match TenantMemberRepo::insert(&mut savepoint, &owner).await {
        Err(Error::UniqueViolation { constraint }) => {
            assert_eq!(constraint, "tenant_members_tenant_id_user_id_key");
            savepoint.rollback().await?;
        }
        other => return Err(format!("a second owner row: {other:?}").into()),
    }

    // 100,000 members by binary COPY.
    let members: Vec<NewTenantMember> = (0..100_000)
        .map(|i| NewTenantMember::new(UserId::new(), if i % 100 == 0 { "ADMIN" } else { "MEMBER" }.into()))
        .collect();
    TenantMemberRepo::insert_copy(&mut tx, &members).await?;

    // Admins and owners, newest user ids first, 100 per page.
    let leads = TenantMemberFilter {
        role: Condition::any_of(["ADMIN".to_string(), "OWNER".to_string()]),
        ..Default::default()
    };
    let mut request = PageRequest::first(100).by(TenantMemberSort::UserId).desc();
    let mut seen = 0;
    loop {
        let page = TenantMemberRepo::list(&mut tx, &leads, &request).await?;
        seen += page.items.len();
        match page.next {
            Some(cursor) => request = request.after(cursor),
            None => break,
        }
    }
    tx.commit().await?;
    Ok(seen)
}
// README: end
