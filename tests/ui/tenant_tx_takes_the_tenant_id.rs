// A tenant's transaction is begun with the tenant table's ID: a user's ID does not compile.
async fn wrong_id(pool: &sqlx::PgPool) {
    let user = hub_ids::UserId::new();
    let _tx = hubgen_runtime::TenantTx::begin(pool, user).await;
}

fn main() {}
