//! The README's service runs as written, on PostgreSQL, as the application
//! roles; and the README shows exactly its code.

use hubgen_runtime::testing::TestDatabase;

#[tokio::test(flavor = "multi_thread")]
async fn the_readme_service_runs_as_the_application_roles() {
    let identity = TestDatabase::create("service_identity", hub_identity::MIGRATIONS, "SET ROLE identity_app", 2).await;
    let tenants = TestDatabase::create("service_tenant", hub_tenant::MIGRATIONS, "SET ROLE tenant_app", 2).await;
    let leads = hubgen_service_example::onboard(&identity.pool, &tenants.pool)
        .await
        .expect("the service runs");
    assert_eq!(leads, 1 + 1_000, "the owner and every hundredth member");
    identity.drop_db().await;
    tenants.drop_db().await;
}

#[test]
fn the_readme_shows_this_code() {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(manifest.join("src/lib.rs")).expect("lib.rs");
    let readme = std::fs::read_to_string(manifest.join("../../README.md")).expect("README");
    let code = source
        .split("// README: begin\n")
        .nth(1)
        .and_then(|rest| rest.split("// README: end").next())
        .expect("markers");
    assert!(
        readme.contains(code),
        "README.md must show examples/service/src/lib.rs between its markers, verbatim"
    );
}
