//! Seed 000 is the platform's specification. Its SQL, applied as written,
//! and the platform schema's migration, applied as generated, must agree on
//! every table, column (type, nullability, default), index, unique and
//! foreign key the seed defines. The generated database may add to it
//! (comments, RLS, grants, extra columns), never differ from it.

use hubgen_codegen::catalog::{Catalog, Table};
use hubgen_e2e::{initial_migration, load, root, TestDb};

async fn catalog_of(name: &str, sql: &str) -> Catalog {
    let db = TestDb::create(name).await;
    let mut conn = db.connect().await;
    hubgen_live::apply(&mut conn, sql).await.unwrap_or_else(|e| panic!("{name}: {e}"));
    let catalog = hubgen_live::introspect(&mut conn).await.expect("introspect");
    drop(conn);
    db.drop_db().await;
    catalog
}

/// `encrypted`: the platform's `@encrypted` columns, which hold ciphertext
/// (bytea) where the seed keeps text: the one deliberate difference.
fn compare(hub: &str, table_name: &str, seed: &Table, ours: &Table, encrypted: &[String], problems: &mut Vec<String>) {
    let at = |what: String| format!("{hub}.{table_name}: {what}");
    for (name, column) in &seed.columns {
        match ours.columns.get(name) {
            None => problems.push(at(format!("column {name} is missing"))),
            Some(c) if encrypted.contains(name) && column.ty == "text" && c.ty == "bytea" && c.nullable == column.nullable => {}
            Some(c) if c.ty != column.ty || c.nullable != column.nullable || c.default != column.default => problems.push(at(format!(
                "column {name}: seed has {} {} default {:?}, ours {} {} default {:?}",
                column.ty,
                if column.nullable { "null" } else { "not null" },
                column.default,
                c.ty,
                if c.nullable { "null" } else { "not null" },
                c.default
            ))),
            Some(_) => {}
        }
    }
    // Seed columns keep their relative order.
    let ours_order: Vec<&String> = ours.column_order.iter().filter(|c| seed.columns.contains_key(*c)).collect();
    if ours_order != seed.column_order.iter().collect::<Vec<_>>() {
        problems.push(at(format!(
            "column order {ours_order:?} differs from the seed's {:?}",
            seed.column_order
        )));
    }
    if seed.primary_key != ours.primary_key {
        problems.push(at(format!("primary key {:?} vs seed {:?}", ours.primary_key, seed.primary_key)));
    }
    for (name, columns) in &seed.uniques {
        if ours.uniques.get(name) != Some(columns) {
            problems.push(at(format!("unique {name} {columns:?} missing or different")));
        }
    }
    for (name, fk) in &seed.foreign_keys {
        if ours.foreign_keys.get(name) != Some(fk) {
            problems.push(at(format!(
                "foreign key {name} {fk:?} missing or different: {:?}",
                ours.foreign_keys.get(name)
            )));
        }
    }
    for (name, index) in &seed.indexes {
        if ours.indexes.get(name) != Some(index) {
            problems.push(at(format!("index {name} {index:?} missing or different")));
        }
    }
    if seed.checks != ours.checks {
        problems.push(at(format!("checks {:?} vs seed {:?}", ours.checks, seed.checks)));
    }
}

#[tokio::test]
async fn platform_matches_seed_000() {
    let schema = load("schema/platform.hubs");
    let mut problems = Vec::new();
    let mut counts = (0, 0, 0);
    for hub in &schema.hubs {
        let seed_path = root().join(format!("tests/data/seed_000/{}.sql", hub.name));
        let Ok(seed_sql) = std::fs::read_to_string(&seed_path) else {
            assert_eq!(hub.name, "billing", "only billing has no tables in the seed");
            continue;
        };
        let seed = catalog_of(&format!("seed_{}", hub.name), &seed_sql).await;
        let ours = catalog_of(
            &format!("seed_ours_{}", hub.name),
            &initial_migration("schema/platform.hubs", &schema, &hub.name),
        )
        .await;
        for (name, seed_table) in &seed.tables {
            counts.0 += 1;
            counts.1 += seed_table.columns.len();
            counts.2 += seed_table.indexes.len();
            match ours.tables.get(name) {
                Some(our_table) => {
                    let encrypted: Vec<String> = hub
                        .tables
                        .iter()
                        .filter(|t| format!("{}.{}", t.schema, t.name) == *name)
                        .flat_map(|t| &t.columns)
                        .filter(|c| c.encrypted.is_some())
                        .map(|c| c.name.clone())
                        .collect();
                    compare(&hub.name, name, seed_table, our_table, &encrypted, &mut problems)
                }
                None => problems.push(format!("{}: table {name} is missing", hub.name)),
            }
        }
        assert_eq!(
            seed.tables.len(),
            ours.tables.len(),
            "{}: the platform adds no tables to a seed hub",
            hub.name
        );
    }
    assert!(
        problems.is_empty(),
        "{} difference(s) from seed 000:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_eq!(counts.0, 23, "seed 000 defines 23 tables");
    println!("seed 000: {} tables, {} columns, {} indexes match", counts.0, counts.1, counts.2);
}
