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

async fn run(s: Scenario) {
    let config = Config {
        schema_path: "schema/shop.hubs".into(),
        allow_destructive: s.allow_destructive,
        ..Default::default()
    };
    let v1 = compile(&s.v1);
    let first = generate_from(&v1, &Existing::default(), &config);
    let db = TestDb::create(&format!("evo_{}", s.name)).await;
    let mut conn = db.connect().await;
    hubgen_live::apply(&mut conn, &first.files["migrations/shop/0001_initial.sql"])
        .await
        .expect("v1 applies");
    sqlx::raw_sql(SEED).execute(&mut conn).await.expect("seed rows");

    // v2, planned from v1's lock and files as they would be on disk.
    let mut state = HubState::default();
    for (path, text) in first.files.iter().filter(|(p, _)| p.starts_with("migrations/shop/")) {
        let name = path.trim_start_matches("migrations/shop/").to_string();
        if name == LOCK_FILE {
            state.lock = Some(serde_json::from_str(text).expect("lock"));
        } else {
            state.files.insert(name, text.clone());
        }
    }
    let existing = Existing {
        hubs: [("shop".to_string(), state)].into(),
    };
    let v2 = compile(&s.v2);
    let second = generate_from(&v2, &existing, &config);
    assert!(!second.refused(), "{}: plan refused: {:?}", s.name, second.lints);
    let new: Vec<(&String, &String)> = second
        .files
        .iter()
        .filter(|(p, _)| p.starts_with("migrations/shop/0002_"))
        .collect();
    let up = new
        .iter()
        .find(|(p, _)| !p.ends_with(".down.sql"))
        .map(|(_, t)| t.as_str())
        .expect("a new migration");
    let down = new.iter().find(|(p, _)| p.ends_with(".down.sql")).map(|(_, t)| t.as_str());
    let names: Vec<&str> = new.iter().map(|(p, _)| p.trim_start_matches("migrations/shop/")).collect();
    let lints: Vec<String> = second
        .lints
        .iter()
        .flat_map(|l| &l.diagnostics)
        .map(|d| format!("{}[{}]", if d.is_error() { "error" } else { "warning" }, d.code.as_str()))
        .collect();
    insta::with_settings!({ snapshot_path => "snapshots/evolution", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!(s.name, format!("files: {}\nlint: {}\n\n{up}\n{}", names.join(", "), lints.join(", "), down.unwrap_or("-- no down migration\n")));
    });

    hubgen_live::apply(&mut conn, up)
        .await
        .unwrap_or_else(|e| panic!("{}: v2 migration failed: {e}\n{up}", s.name));
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
    let ok: bool = sqlx::query(s.check).fetch_one(&mut conn).await.expect("check query").get(0);
    assert!(ok, "{}: the data did not survive: {}", s.name, s.check);

    if let Some(down) = down {
        hubgen_live::apply(&mut conn, down)
            .await
            .unwrap_or_else(|e| panic!("{}: down migration failed: {e}\n{down}", s.name));
        let differences = catalog::diff(
            &catalog::expected(&v1.hubs[0]),
            &hubgen_live::introspect(&mut conn).await.expect("introspect"),
        );
        assert!(
            differences.is_empty(),
            "{}: after the down migration the database differs from v1:\n{}",
            s.name,
            differences.iter().map(|d| format!("  {d}")).collect::<Vec<_>>().join("\n")
        );
    }
    drop(conn);
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

scenarios! {
    add_table => scenario("add_table", &[(ADD_TABLE, "  table coupons {\n    code  varchar(20)  primary key\n    pct   integer      not null check (pct between 1 and 100)\n  }\n\n  table events {")], ROWS_SURVIVE);
    drop_table => Scenario { allow_destructive: true, ..scenario("drop_table", &[("  table events {\n    id           uuid         not null default gen_random_uuid()\n    occurred_at  timestamptz  not null\n    kind         text         not null\n\n    primary key (id, occurred_at)\n    partition by range (occurred_at)\n    partition events_2026_01 from '2026-01-01' to '2026-02-01'\n  }\n", "")], ROWS_SURVIVE) };
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
    tenant_scope => scenario("tenant_scope", &[("  table orders {", "  table orders tenant_scoped(tenant_id) {")], "SELECT count(*) = 1 FROM orders");
    policy_role_and_grant => scenario("policy_role_and_grant", &[("  role support\n", "  role support\n  role auditor\n"), ("    index idx_customers_email (email)\n", "    index idx_customers_email (email)\n    policy auditor_read for select to auditor using (true)\n    grant select to auditor\n")], ROWS_SURVIVE);
    comments => scenario("comments", &[("  table customers {\n", "  /// People who buy.\n  table customers {\n"), ("    age         integer\n", "    /// In years.\n    age         integer\n")], ROWS_SURVIVE);
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
    let v2 = compile(&edit(
        BASE,
        &[("    name        text\n", "    full_name   text  @renamed_from(nmae)\n")],
    ));
    let second = generate_from(&v2, &existing, &config);
    assert!(second.refused());
    let messages: Vec<&str> = second.lints[0].diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert!(messages.iter().any(|m| m.contains("@renamed_from(nmae)")), "{messages:?}");
}
