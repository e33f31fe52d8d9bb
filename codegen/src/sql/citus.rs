//! The Citus target: the script that distributes a `distributed by` hub on
//! a Citus coordinator, after its migrations have run there.
//!
//! Reference (`shared`) tables first, then sharded tables, parents before
//! children (Citus checks foreign keys as it distributes), every sharded
//! table colocated with the first, so a tenant's rows share a node. Each
//! call is guarded by `pg_dist_partition`: the script is re-run after every
//! migration and distributes only the tables that are new.

use super::quote::literal;
use super::statement::Name;
use hubgen_schema::ir;

/// The script, or `None` for a hub that is not distributed.
pub fn distribution_script(hub: &ir::Hub) -> Option<String> {
    let column = hub.distributed_by.as_ref()?;
    let order = parents_first(hub);
    let mut out = format!(
        "-- hub {} on Citus: sharded by `{column}`, reference tables on every node.\n\
         -- Run on the coordinator after the hub's migrations; safe to re-run.\n",
        hub.name
    );
    let reference: Vec<&ir::Table> = order.iter().copied().filter(|t| t.distribution_column.is_none()).collect();
    let sharded: Vec<&ir::Table> = order.iter().copied().filter(|t| t.distribution_column.is_some()).collect();
    if !reference.is_empty() {
        out.push_str("\n-- reference tables\n");
    }
    for table in &reference {
        let name = literal(&Name::new(&table.schema, &table.name).sql());
        out.push_str(&format!("SELECT create_reference_table({name}){};\n", guard(&name)));
    }
    if let Some(first) = sharded.first() {
        out.push_str(&format!("\n-- sharded tables, colocated with {}\n", first.name));
        let anchor = literal(&Name::new(&first.schema, &first.name).sql());
        for table in &sharded {
            let name = literal(&Name::new(&table.schema, &table.name).sql());
            let column = literal(table.distribution_column.as_deref().unwrap_or_default());
            let colocate = if table.name == first.name && table.schema == first.schema {
                String::new()
            } else {
                format!(", colocate_with => {anchor}")
            };
            out.push_str(&format!(
                "SELECT create_distributed_table({name}, {column}{colocate}){};\n",
                guard(&name)
            ));
        }
    }
    Some(out)
}

/// Only when the table is not distributed yet.
fn guard(name: &str) -> String {
    format!(" WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = {name}::regclass)")
}

/// Tables with every table they reference (in the hub) before them;
/// otherwise in schema order. A cycle keeps schema order for its members.
fn parents_first(hub: &ir::Hub) -> Vec<&ir::Table> {
    let mut placed: Vec<&ir::Table> = Vec::new();
    let mut pending: Vec<&ir::Table> = hub.tables.iter().collect();
    while !pending.is_empty() {
        let ready = pending.iter().position(|t| {
            t.foreign_keys.iter().all(|fk| {
                (fk.ref_schema == t.schema && fk.ref_table == t.name)
                    || placed.iter().any(|p| p.schema == fk.ref_schema && p.name == fk.ref_table)
                    || !pending.iter().any(|p| p.schema == fk.ref_schema && p.name == fk.ref_table)
            })
        });
        placed.push(pending.remove(ready.unwrap_or(0)));
    }
    placed
}
