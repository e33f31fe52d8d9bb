//! Schema evolution on real PostgreSQL. Each scenario starts from schema v1,
//! applies its migration, inserts rows, edits the schema to v2, plans the
//! next migration, applies it, and checks that the catalog equals v2's and
//! the rows survived; where the plan has a down migration, applying it
//! returns the catalog to v1. Each plan is a snapshot.

use hubgen_codegen::generate::LOCK_FILE;
use hubgen_codegen::{catalog, generate_from, Config, Existing, HubState};
use hubgen_e2e::TestDb;
use sqlx::Row;

const BASE: &str = r#"hub shop database shop_db {
  role support

  enum status {
    active
    closed
  }

  table customers {
    id          uuid          primary key default gen_random_uuid()
    email       varchar(100)  not null
    name        text
    age         integer
    score       smallint      default 0
    note        varchar(50)
    status      status        not null default 'active'
    created_at  timestamp     not null default now()

    index idx_customers_email (email)
  }

  table orders {
    id           uuid            primary key default gen_random_uuid()
    customer_id  uuid            not null references customers(id)
    tenant_id    uuid            not null
    total        numeric(10, 2)  not null default 0

    index idx_orders_tenant (tenant_id)
  }

  table events {
    id           uuid         not null default gen_random_uuid()
    occurred_at  timestamptz  not null
    kind         text         not null

    primary key (id, occurred_at)
    partition by range (occurred_at)
    partition events_2026_01 from '2026-01-01' to '2026-02-01'
  }
}
"#;

const SEED: &str =
    "INSERT INTO customers (email, name, age, note) VALUES ('a@x.io', '41', 30, 'x'), ('b@x.io', '42', 31, 'y'), ('c@x.io', '43', 32, 'z');
INSERT INTO orders (customer_id, tenant_id, total) SELECT id, gen_random_uuid(), 9.99 FROM customers WHERE email = 'a@x.io';
INSERT INTO events (occurred_at, kind) VALUES ('2026-01-15', 'signup');";

const ROWS_SURVIVE: &str = "SELECT (SELECT count(*) FROM customers) = 3";

struct Scenario {
    name: &'static str,
    v1: String,
    v2: String,
    allow_destructive: bool,
    /// The scenario drops a table on purpose: its rows are not counted after.
    drops_rows: bool,
    /// SQL returning true when the data is as it should be after v2.
    check: &'static str,
}

fn edit(base: &str, edits: &[(&str, &str)]) -> String {
    let mut text = base.to_string();
    for (from, to) in edits {
        assert!(text.contains(from), "edit target not found: {from}");
        text = text.replacen(from, to, 1);
    }
    text
}

fn scenario(name: &'static str, edits: &[(&str, &str)], check: &'static str) -> Scenario {
    Scenario {
        name,
        v1: BASE.to_string(),
        v2: edit(BASE, edits),
        allow_destructive: false,
        drops_rows: false,
        check,
    }
}

fn compile(text: &str) -> hubgen_schema::ir::Schema {
    let output = hubgen_schema::compile(text);
    match output.ir {
        Some(ir) => ir,
        None => panic!(
            "schema does not validate:\n{}",
            hubgen_schema::diagnostics::render_all(&output.diagnostics, &hubgen_schema::SourceFile::new("s.hubs", text), false)
        ),
    }
}

/// A hub's migrations folder as on disk, read by sqlx's own folder loader.
struct Folder(std::path::PathBuf);

impl Folder {
    fn write(name: &str, files: &std::collections::BTreeMap<String, String>) -> Folder {
        let dir = std::env::temp_dir().join(format!("hubgen-evolution-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        for (path, text) in files
            .iter()
            .filter(|(p, _)| p.starts_with("migrations/shop/") && p.ends_with(".sql"))
        {
            std::fs::write(dir.join(path.trim_start_matches("migrations/shop/")), text).expect("write migration");
        }
        Folder(dir)
    }

    async fn migrator(&self) -> sqlx::migrate::Migrator {
        sqlx::migrate::Migrator::new(self.0.as_path()).await.expect("sqlx reads the folder")
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What must survive a migration: the row count of every table and a
/// checksum of every row's text (equal only if no value changed).
async fn rows(conn: &mut sqlx::PgConnection) -> Vec<(String, i64, String)> {
    let mut out = Vec::new();
    for table in ["customers", "clients", "orders", "purchases", "events"] {
        let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
            .bind(table)
            .fetch_one(&mut *conn)
            .await
            .expect("regclass");
        if exists {
            let sql = format!("SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM {table} t");
            let (count, sum): (i64, String) = sqlx::query_as(&sql).fetch_one(&mut *conn).await.expect("checksum");
            out.push((table.to_string(), count, sum));
        }
    }
    out
}

fn existing_from(files: &std::collections::BTreeMap<String, String>) -> Existing {
    let mut state = HubState::default();
    for (path, text) in files.iter().filter(|(p, _)| p.starts_with("migrations/shop/")) {
        let name = path.trim_start_matches("migrations/shop/").to_string();
        if name == LOCK_FILE {
            state.lock = Some(serde_json::from_str(text).expect("lock"));
        } else {
            state.files.insert(name, text.clone());
        }
    }
    Existing {
        hubs: [("shop".to_string(), state)].into(),
    }
}

async fn run(s: Scenario) {
    let config = Config {
        schema_path: "schema/shop.hubs".into(),
        allow_destructive: s.allow_destructive,
        ..Default::default()
    };
    let v1 = compile(&s.v1);
    let first = generate_from(&v1, &Existing::default(), &config);
    let db = TestDb::create(&format!("evo_{}", s.name)).await;
    let pool = sqlx::PgPool::connect(&db.url).await.expect("pool");
    Folder::write(&format!("{}-v1", s.name), &first.files)
        .migrator()
        .await
        .run(&pool)
        .await
        .expect("v1 applies with sqlx");
    let mut conn = db.connect().await;
    sqlx::raw_sql(SEED).execute(&mut conn).await.expect("seed rows");
    let before = rows(&mut conn).await;

    // v2, planned from v1's lock and files as they are on disk.
    let v2 = compile(&s.v2);
    let second = generate_from(&v2, &existing_from(&first.files), &config);
    assert!(!second.refused(), "{}: plan refused: {:?}", s.name, second.lints);
    let new: Vec<(&String, &String)> = second
        .files
        .iter()
        .filter(|(p, t)| p.starts_with("migrations/shop/") && p.ends_with(".sql") && first.files.get(*p) != Some(t))
        .collect();
    assert!(!new.is_empty(), "{}: no new migration", s.name);
    let lints: Vec<String> = second
        .lints
        .iter()
        .flat_map(|l| &l.diagnostics)
        .map(|d| format!("{}[{}]", if d.is_error() { "error" } else { "warning" }, d.code.as_str()))
        .collect();
    let listing: Vec<String> = new
        .iter()
        .map(|(p, t)| format!("==> {}\n{t}", p.trim_start_matches("migrations/shop/")))
        .collect();
    insta::with_settings!({ snapshot_path => "snapshots/evolution", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!(s.name, format!("lint: {}\n\n{}", lints.join(", "), listing.join("\n")));
    });

    let v2_folder = Folder::write(&format!("{}-v2", s.name), &second.files);
    let migrator = v2_folder.migrator().await;
    migrator
        .run(&pool)
        .await
        .unwrap_or_else(|e| panic!("{}: v2 migrations failed under sqlx: {e}\n{}", s.name, listing.join("\n")));
    let differences = catalog::diff(
        &catalog::expected(&v2.hubs[0]),
        &hubgen_live::introspect(&mut conn).await.expect("introspect"),
    );
    assert!(
        differences.is_empty(),
        "{}: after the migration the database differs from v2:\n{}",
        s.name,
        differences.iter().map(|d| format!("  {d}")).collect::<Vec<_>>().join("\n")
    );
    let after = rows(&mut conn).await;
    let counts = |r: &[(String, i64, String)]| r.iter().map(|(_, c, _)| *c).collect::<Vec<_>>();
    if !s.drops_rows {
        assert_eq!(counts(&before), counts(&after), "{}: rows were lost or added", s.name);
    }
    let ok: bool = sqlx::query(s.check).fetch_one(&mut conn).await.expect("check query").get(0);
    assert!(ok, "{}: the data did not survive: {}", s.name, s.check);

    // Reversible: sqlx's revert returns the catalog to v1 and every row to what it was.
    let reversible = new
        .iter()
        .all(|(p, _)| !p.ends_with(".sql") || p.ends_with(".up.sql") || p.ends_with(".down.sql"));
    if reversible {
        migrator
            .undo(&pool, 1)
            .await
            .unwrap_or_else(|e| panic!("{}: down migrations failed under sqlx: {e}\n{}", s.name, listing.join("\n")));
        let differences = catalog::diff(
            &catalog::expected(&v1.hubs[0]),
            &hubgen_live::introspect(&mut conn).await.expect("introspect"),
        );
        assert!(
            differences.is_empty(),
            "{}: after the down migrations the database differs from v1:\n{}",
            s.name,
            differences.iter().map(|d| format!("  {d}")).collect::<Vec<_>>().join("\n")
        );
        assert_eq!(before, rows(&mut conn).await, "{}: the down migrations changed rows", s.name);
    }
    drop(conn);
    pool.close().await;
    db.drop_db().await;
}

macro_rules! scenarios {
    ($($name:ident => $scenario:expr;)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                run($scenario).await;
            }
        )*
    };
}

const ADD_TABLE: &str = "  table events {";

/// The hub's audit log, declared before `events`.
const AUDIT_LOG: &str = "  table audit_log tenant_scoped(tenant_id) audit_log {
    tenant_id    uuid         not null
    id           uuid         not null default gen_random_uuid()
    actor_id     uuid
    action       text         not null
    entity_type  text         not null
    entity_id    uuid         not null
    changes      jsonb        not null
    occurred_at  timestamptz  not null default now()

    primary key (tenant_id, id)
  }

  table events {";

/// Customers are the people erasure removes; their orders go with them.
const ERASURE: &[(&str, &str)] = &[
    ("  table customers {", "  table customers data_subject {"),
    ("    name        text\n", "    name        text          @pii\n"),
    (
        "    index idx_orders_tenant (tenant_id)",
        "    on erase delete\n    index idx_orders_tenant (tenant_id)",
    ),
];

/// The erase function runs (for no one: the rows must survive) with a step per table.
const ERASE_RUNS: &str = "SELECT count(*) = 2 AND sum(step_rows) = 0 FROM hubgen.erase_shop_subject(gen_random_uuid())";

/// `orders`, scoped by tenant and audited, with the audit log: the v1 of the scenarios that change auditing.
fn audited_base() -> String {
    edit(
        BASE,
        &[
            ("  table orders {", "  table orders tenant_scoped(tenant_id) audited {"),
            (ADD_TABLE, AUDIT_LOG),
        ],
    )
}

scenarios! {
    add_table => scenario("add_table", &[(ADD_TABLE, "  table coupons {\n    code  varchar(20)  primary key\n    pct   integer      not null check (pct between 1 and 100)\n  }\n\n  table events {")], ROWS_SURVIVE);
    drop_table => Scenario { allow_destructive: true, drops_rows: true, ..scenario("drop_table", &[("  table events {\n    id           uuid         not null default gen_random_uuid()\n    occurred_at  timestamptz  not null\n    kind         text         not null\n\n    primary key (id, occurred_at)\n    partition by range (occurred_at)\n    partition events_2026_01 from '2026-01-01' to '2026-02-01'\n  }\n", "")], ROWS_SURVIVE) };
    add_nullable_column => scenario("add_nullable_column", &[("    note        varchar(50)\n", "    note        varchar(50)\n    phone       varchar(20)\n")], "SELECT count(*) = 3 FROM customers WHERE phone IS NULL");
    add_not_null_column_with_default => scenario("add_not_null_column_with_default", &[("    note        varchar(50)\n", "    note        varchar(50)\n    vip         boolean  not null default false\n")], "SELECT count(*) = 3 FROM customers WHERE NOT vip");
    drop_column => Scenario { allow_destructive: true, ..scenario("drop_column", &[("    age         integer\n", "")], ROWS_SURVIVE) };
    drop_column_acknowledged_in_schema => scenario("drop_column_acknowledged_in_schema", &[("    age         integer\n", ""), ("  role support\n", "  role support\n  acknowledge destructive customers.age\n")], ROWS_SURVIVE);
    rename_column => scenario("rename_column", &[("    name        text\n", "    full_name   text  @renamed_from(name)\n")], "SELECT count(*) = 3 FROM customers WHERE full_name LIKE '4%'");
    rename_table => scenario("rename_table", &[("  table orders {", "  table purchases renamed_from(orders) {")], "SELECT count(*) = 1 FROM purchases");
    widen_varchar => scenario("widen_varchar", &[("    note        varchar(50)", "    note        varchar(200)")], "SELECT count(*) = 3 FROM customers WHERE note IS NOT NULL");
    varchar_to_text => scenario("varchar_to_text", &[("    email       varchar(100)", "    email       text")], "SELECT count(*) = 1 FROM customers WHERE email = 'a@x.io'");
    integer_to_bigint => scenario("integer_to_bigint", &[("    age         integer", "    age         bigint")], "SELECT sum(age) = 93 FROM customers");
    narrow_varchar => Scenario { allow_destructive: true, ..scenario("narrow_varchar", &[("    note        varchar(50)", "    note        varchar(10)")], "SELECT count(*) = 3 FROM customers WHERE note IS NOT NULL") };
    text_to_integer => scenario("text_to_integer", &[("    name        text\n", "    name        integer\n")], "SELECT sum(name) = 126 FROM customers");
    set_not_null => scenario("set_not_null", &[("    name        text\n", "    name        text  not null\n")], ROWS_SURVIVE);
    drop_not_null => scenario("drop_not_null", &[("    email       varchar(100)  not null", "    email       varchar(100)")], ROWS_SURVIVE);
    change_default => scenario("change_default", &[("    score       smallint      default 0", "    score       smallint      default 5")], "SELECT count(*) = 3 FROM customers WHERE score = 0");
    drop_default => scenario("drop_default", &[("    score       smallint      default 0", "    score       smallint")], ROWS_SURVIVE);
    add_index => scenario("add_index", &[("    index idx_customers_email (email)\n", "    index idx_customers_email (email)\n    index idx_customers_name (name) where (name is not null)\n")], ROWS_SURVIVE);
    drop_index => scenario("drop_index", &[("    index idx_customers_email (email)\n", "")], ROWS_SURVIVE);
    add_unique => scenario("add_unique", &[("    index idx_customers_email (email)\n", "    index idx_customers_email (email)\n    unique (email)\n")], ROWS_SURVIVE);
    add_check => scenario("add_check", &[("    age         integer\n", "    age         integer  check (age >= 0)\n")], ROWS_SURVIVE);
    drop_check => Scenario {
        v1: edit(BASE, &[("    age         integer\n", "    age         integer  check (age >= 0)\n")]),
        ..scenario("drop_check", &[], ROWS_SURVIVE)
    };
    add_foreign_key => Scenario {
        v1: edit(BASE, &[("    customer_id  uuid            not null references customers(id)", "    customer_id  uuid            not null")]),
        ..scenario("add_foreign_key", &[], "SELECT count(*) = 1 FROM orders")
    };
    drop_foreign_key => scenario("drop_foreign_key", &[("not null references customers(id)", "not null")], "SELECT count(*) = 1 FROM orders");
    add_enum_value => scenario("add_enum_value", &[("    active\n    closed\n", "    active\n    closed\n    archived\n")], ROWS_SURVIVE);
    add_enum_and_column => scenario("add_enum_and_column", &[("  table customers {", "  enum tier {\n    basic\n    gold\n  }\n\n  table customers {"), ("    note        varchar(50)\n", "    note        varchar(50)\n    tier        tier  not null default 'basic'\n")], "SELECT count(*) = 3 FROM customers WHERE tier = 'basic'");
    add_partition => scenario("add_partition", &[("    partition events_2026_01 from '2026-01-01' to '2026-02-01'\n", "    partition events_2026_01 from '2026-01-01' to '2026-02-01'\n    partition events_2026_02 from '2026-02-01' to '2026-03-01'\n")], "SELECT count(*) = 1 FROM events");
    add_upkeep => scenario("add_upkeep", &[("    partition by range (occurred_at)\n    partition events_2026_01 from '2026-01-01' to '2026-02-01'\n", "    partition by range (occurred_at) every 1 month premake 2 retain 90 days archive\n")], "SELECT count(*) = 1 FROM events_p2026_01");
    change_upkeep => Scenario {
        v1: edit(BASE, &[("    partition by range (occurred_at)\n    partition events_2026_01 from '2026-01-01' to '2026-02-01'\n", "    partition by range (occurred_at) every 1 month premake 2\n")]),
        v2: edit(BASE, &[("    partition by range (occurred_at)\n    partition events_2026_01 from '2026-01-01' to '2026-02-01'\n", "    partition by range (occurred_at) every 1 month premake 4 retain 1 year\n")]),
        ..scenario("change_upkeep", &[], "SELECT count(*) = 1 FROM events")
    };
    tenant_scope => scenario("tenant_scope", &[("  table orders {", "  table orders tenant_scoped(tenant_id) {")], "SELECT count(*) = 1 FROM orders");
    owner_scope => scenario("owner_scope", &[("  table orders {", "  table orders owner_scoped(customer_id) {"), ("    index idx_orders_tenant (tenant_id)\n", "    index idx_orders_tenant (tenant_id)\n    index idx_orders_customer (customer_id)\n")], "SELECT count(*) = 1 FROM orders");
    parent_scope => scenario("parent_scope", &[("  table customers {", "  table customers owner_scoped(id) {"), ("  table orders {", "  table orders scoped_through(customer_id) {"), ("    index idx_orders_tenant (tenant_id)\n", "    index idx_orders_tenant (tenant_id)\n    index idx_orders_customer (customer_id)\n")], "SELECT count(*) = 1 FROM orders");
    global_scope_and_platform_role => scenario("global_scope_and_platform_role", &[("  role support\n", "  role support\n  role shop_platform platform\n"), ("  table orders {", "  table orders tenant_or_global(tenant_id) {"), ("    tenant_id    uuid            not null\n", "    tenant_id    uuid\n")], "SELECT count(*) = 1 FROM orders");
    policy_role_and_grant => scenario("policy_role_and_grant", &[("  role support\n", "  role support\n  role auditor\n"), ("    index idx_customers_email (email)\n", "    index idx_customers_email (email)\n    policy auditor_read for select to auditor using (email is not null)\n    grant select to auditor\n")], ROWS_SURVIVE);
    comments => scenario("comments", &[("  table customers {\n", "  /// People who buy.\n  table customers {\n"), ("    age         integer\n", "    /// In years.\n    age         integer\n")], ROWS_SURVIVE);
    rename_indexed_column => scenario("rename_indexed_column", &[("    email       varchar(100)  not null", "    mail        varchar(100)  not null  @renamed_from(email)"), ("idx_customers_email (email)", "idx_customers_email (mail)")], "SELECT count(*) = 3 FROM customers WHERE mail LIKE '%@x.io'");
    rename_referenced_table => scenario("rename_referenced_table", &[("  table customers {", "  table clients renamed_from(customers) {"), ("references customers(id)", "references clients(id)")], "SELECT count(*) = 1 FROM orders JOIN clients ON clients.id = orders.customer_id");
    add_enum_value_and_use_it => scenario("add_enum_value_and_use_it", &[("    active\n    closed\n", "    active\n    closed\n    archived\n"), ("not null default 'active'", "not null default 'archived'")], "SELECT count(*) = 3 FROM customers WHERE status = 'active'");
    varchar_to_enum_with_default => Scenario {
        v1: edit(BASE, &[("    note        varchar(50)\n", "    note        varchar(50)\n    level       varchar(20)  not null default 'basic'\n"), ("  table customers {", "  enum tier {\n    basic\n    gold\n  }\n\n  table customers {")]),
        v2: edit(BASE, &[("    note        varchar(50)\n", "    note        varchar(50)\n    level       tier  not null default 'basic'\n"), ("  table customers {", "  enum tier {\n    basic\n    gold\n  }\n\n  table customers {")]),
        ..scenario("varchar_to_enum_with_default", &[], "SELECT count(*) = 3 FROM customers WHERE level = 'basic'")
    };
    add_not_null_column_with_backfill => scenario("add_not_null_column_with_backfill", &[("    note        varchar(50)\n", "    note        varchar(50)\n    region      varchar(20)  not null  @backfill('eu')\n")], "SELECT count(*) = 3 FROM customers WHERE region = 'eu'");
    add_audit => scenario("add_audit", &[("  table orders {", "  table orders tenant_scoped(tenant_id) audited {"), (ADD_TABLE, AUDIT_LOG)], "SELECT count(*) = 1 FROM orders");
    stop_auditing => Scenario {
        v1: audited_base(),
        v2: edit(&audited_base(), &[(" audited {", " {")]),
        ..scenario("stop_auditing", &[], "SELECT count(*) = 1 FROM orders")
    };
    audit_masks_a_new_sensitive_column => Scenario {
        v1: audited_base(),
        v2: edit(&audited_base(), &[("    total        numeric(10, 2)  not null default 0\n", "    total        numeric(10, 2)  not null default 0  @sensitive\n")]),
        ..scenario("audit_masks_a_new_sensitive_column", &[], "SELECT count(*) = 1 FROM orders")
    };
    encrypt_column => scenario("encrypt_column", &[("    note        varchar(50)\n", "    note        varchar(50)  @encrypted\n")], "SELECT count(*) = 3 FROM customers WHERE get_byte(note, 0) = 0 AND convert_from(substring(note from 2), 'UTF8') IN ('x', 'y', 'z')");
    encrypt_indexed_column_searchable => scenario("encrypt_indexed_column_searchable", &[("    email       varchar(100)  not null\n", "    email       varchar(100)  not null  @encrypted(searchable)\n")], "SELECT count(*) = 3 FROM customers WHERE get_byte(email, 0) = 0 AND email_bidx IS NULL");
    declare_data_subject => scenario("declare_data_subject", ERASURE, ERASE_RUNS);
    stop_erasing => Scenario {
        v1: edit(BASE, ERASURE),
        v2: BASE.to_string(),
        ..scenario("stop_erasing", &[], ROWS_SURVIVE)
    };
    erasure_rule_changes => Scenario {
        v1: edit(BASE, ERASURE),
        v2: edit(
            &edit(BASE, ERASURE),
            &[
                ("    on erase delete\n", ""),
                ("    customer_id  uuid            not null references customers(id)\n", "    customer_id  uuid            references customers(id) on erase anonymize\n"),
            ],
        ),
        ..scenario("erasure_rule_changes", &[], ERASE_RUNS)
    };
    timestamp_to_timestamptz => scenario("timestamp_to_timestamptz", &[("    created_at  timestamp     not null default now()", "    created_at  timestamptz   not null default now()")], ROWS_SURVIVE);
}

/// Destructive changes are refused unless acknowledged; nothing is planned into a file.
#[test]
fn destructive_changes_are_refused_by_default() {
    let config = Config {
        schema_path: "schema/shop.hubs".into(),
        ..Default::default()
    };
    let v1 = compile(BASE);
    let first = generate_from(&v1, &Existing::default(), &config);
    let state = HubState {
        lock: Some(serde_json::from_str(&first.files["migrations/shop/hubgen.lock"]).expect("lock")),
        ..Default::default()
    };
    let existing = Existing {
        hubs: [("shop".to_string(), state)].into(),
    };
    let v2 = compile(&edit(BASE, &[("    age         integer\n", "")]));
    let second = generate_from(&v2, &existing, &config);
    assert!(second.refused());
    let lint = &second.lints[0];
    let rendered = hubgen_schema::diagnostics::render_all(
        &lint.diagnostics,
        &hubgen_schema::SourceFile::new(lint.path.clone(), lint.text.clone()),
        false,
    );
    insta::with_settings!({ snapshot_path => "snapshots/evolution", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("refused_drop_column", rendered);
    });
}

/// A rename hint that matches nothing is an error, not a silent add.
#[test]
fn a_rename_hint_that_matches_nothing_is_an_error() {
    let config = Config::default();
    let first = generate_from(&compile(BASE), &Existing::default(), &config);
    let state = HubState {
        lock: Some(serde_json::from_str(&first.files["migrations/shop/hubgen.lock"]).expect("lock")),
        ..Default::default()
    };
    let existing = Existing {
        hubs: [("shop".to_string(), state)].into(),
    };
    let v2 = edit(BASE, &[("    name        text\n", "    full_name   text  @renamed_from(nmae)\n")]);
    let second = generate_from(&compile(&v2), &existing, &config);
    assert!(second.refused());
    let rendered = refusals(&second, &v2);
    assert!(rendered.contains("@renamed_from(nmae)"), "{rendered}");
    snapshot("refused_rename_hint", rendered);
}

/// Enum values can only be appended: a reordered or removed value is
/// refused at the enum's declaration.
#[test]
fn changing_existing_enum_values_is_refused_at_the_enum() {
    let config = Config::default();
    let first = generate_from(&compile(BASE), &Existing::default(), &config);
    let v2 = edit(BASE, &[("    active\n    closed\n", "    closed\n    active\n")]);
    let second = generate_from(&compile(&v2), &existing_from(&first.files), &config);
    assert!(second.refused());
    assert!(
        !second.files.keys().any(|p| p.contains("0002")),
        "no migration is planned around the refusal"
    );
    snapshot("refused_enum_change", refusals(&second, &v2));
}

/// Refusals as `generate` prints them: placed in the schema text.
fn refusals(output: &hubgen_codegen::generate::Output, schema: &str) -> String {
    let (ast, _) = hubgen_schema::parse(schema);
    let diagnostics: Vec<_> = output.refusals.iter().map(|r| r.placed(&ast)).collect();
    hubgen_schema::diagnostics::render_all(&diagnostics, &hubgen_schema::SourceFile::new("schema/shop.hubs", schema), false)
}

fn snapshot(name: &str, rendered: String) {
    insta::with_settings!({ snapshot_path => "snapshots/evolution", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!(name, rendered);
    });
}

/// Narrowing that does not fit stops the migration before it changes
/// anything, naming the table, the column and how many rows are in the way.
#[tokio::test]
async fn narrowing_that_does_not_fit_stops_and_changes_nothing() {
    let config = Config {
        schema_path: "schema/shop.hubs".into(),
        allow_destructive: true,
        ..Default::default()
    };
    let v1 = compile(BASE);
    let first = generate_from(&v1, &Existing::default(), &config);
    let db = TestDb::create("evo_narrowing_does_not_fit").await;
    let pool = sqlx::PgPool::connect(&db.url).await.expect("pool");
    Folder::write("narrow-misfit-v1", &first.files)
        .migrator()
        .await
        .run(&pool)
        .await
        .expect("v1");
    let mut conn = db.connect().await;
    sqlx::raw_sql(SEED).execute(&mut conn).await.expect("seed rows");
    let before = rows(&mut conn).await;

    // The names are two characters long; varchar(1) holds none of them.
    let v2 = compile(&edit(BASE, &[("    name        text\n", "    name        varchar(1)\n")]));
    let second = generate_from(&v2, &existing_from(&first.files), &config);
    assert!(!second.refused(), "{:?}", second.lints);
    let error = Folder::write("narrow-misfit-v2", &second.files)
        .migrator()
        .await
        .run(&pool)
        .await
        .expect_err("the data does not fit")
        .to_string();
    assert!(
        error.contains("public.customers.name: 3 row(s) hold a value that does not convert to character varying(1) unchanged"),
        "{error}"
    );
    let differences = catalog::diff(
        &catalog::expected(&v1.hubs[0]),
        &hubgen_live::introspect(&mut conn).await.expect("introspect"),
    );
    assert!(differences.is_empty(), "the failed migration changed the catalog: {differences:?}");
    assert_eq!(before, rows(&mut conn).await, "the failed migration changed rows");
    drop(conn);
    pool.close().await;
    db.drop_db().await;
}

/// A hub whose lock is gone is never planned from scratch: that would
/// rewrite `0001` under databases that applied it.
#[test]
fn a_missing_or_damaged_lock_refuses_instead_of_rewriting() {
    let config = Config::default();
    let first = generate_from(&compile(BASE), &Existing::default(), &config);
    let mut existing = existing_from(&first.files);
    let state = existing.hubs.get_mut("shop").expect("hub");
    state.lock = None;
    let again = generate_from(&compile(BASE), &existing, &config);
    assert!(again.refused());
    assert!(
        !again.files.keys().any(|p| p.starts_with("migrations/shop/")),
        "nothing of the hub is written"
    );
    let rendered = refusals(&again, BASE);
    assert!(rendered.contains("error[missing-lock]"), "{rendered}");
    assert!(rendered.contains("git checkout -- migrations/shop/hubgen.lock"), "{rendered}");
    snapshot("refused_missing_lock", rendered);

    existing.hubs.get_mut("shop").expect("hub").lock_error = Some("expected value at line 1 column 1".into());
    let damaged = generate_from(&compile(BASE), &existing, &config);
    assert!(damaged.refused());
    assert!(damaged.refusals[0].diagnostic.message.contains("is damaged"));
}

/// `set lock_timeout` reaches the next migration's body; changing it alone
/// plans no migration (PostgreSQL stores nothing of it), only the lock moves.
#[test]
fn the_schema_sets_the_lock_timeout_of_the_next_migration() {
    let config = Config::default();
    let first = generate_from(&compile(BASE), &Existing::default(), &config);
    let v2 = edit(
        &format!("set lock_timeout '30s'\n\n{BASE}"),
        &[
            ("  role support\n", "  role support\n  set lock_timeout '2s'\n"),
            ("    name        text\n", "    name        text\n    nickname    text\n"),
        ],
    );
    let second = generate_from(&compile(&v2), &existing_from(&first.files), &config);
    let body = &second.files["migrations/shop/0002_add_column_customers_nickname.up.sql"];
    assert!(
        body.contains("SET LOCAL lock_timeout = '2s';"),
        "the hub's own setting wins:\n{body}"
    );

    let v3 = v2.replace("  set lock_timeout '2s'\n", "");
    let third = generate_from(&compile(&v3), &existing_from(&second.files), &config);
    let migrations = |o: &hubgen_codegen::Output| o.files.keys().filter(|k| k.ends_with(".sql")).count();
    assert_eq!(migrations(&third), migrations(&second), "no migration for a setting");
    assert_ne!(
        third.files["migrations/shop/hubgen.lock"],
        second.files["migrations/shop/hubgen.lock"]
    );
    let v4 = edit(
        &v3,
        &[("    age         integer\n", "    age         integer\n    level       integer\n")],
    );
    let fourth = generate_from(&compile(&v4), &existing_from(&third.files), &config);
    let body = &fourth.files["migrations/shop/0003_add_column_customers_level.up.sql"];
    assert!(body.contains("SET LOCAL lock_timeout = '30s';"), "the top level's applies:\n{body}");
}
