// A tenant-scoped repository does not accept a plain connection: the tenant
// cannot be forgotten.
use hub_tenant::prelude::*;
use hub_tenant::{NewTenantMember, TenantMemberRepo};

async fn leak(conn: &mut sqlx::PgConnection, member: &NewTenantMember) {
    let _ = TenantMemberRepo::insert(conn, member).await;
}

fn main() {}
