//! The synthetic schema the benches measure.

use std::fmt::Write;

/// `tables` tables of 10 columns, 2 foreign keys and 2 indexes each, in 10 hubs.
#[allow(dead_code)]
pub fn synthetic_schema(tables: usize) -> String {
    synthetic_schema_in(tables, 10)
}

/// The same, spread over `hubs` hubs.
pub fn synthetic_schema_in(tables: usize, hubs: usize) -> String {
    let per_hub = tables.div_ceil(hubs);
    let mut out = String::new();
    for h in 0..hubs {
        let _ = writeln!(out, "hub h{h} database db_{h} {{");
        for t in 0..per_hub.min(tables.saturating_sub(h * per_hub)) {
            let _ = writeln!(out, "  table t{t} tenant_scoped(tenant_id) {{");
            let _ = writeln!(out, "    id         uuid          primary key default gen_random_uuid()");
            let _ = writeln!(out, "    tenant_id  uuid          not null");
            // Two foreign keys to earlier tables (the first table refers to itself).
            let _ = writeln!(
                out,
                "    parent_id  uuid          references t{}(id) on delete cascade",
                t.saturating_sub(1)
            );
            let _ = writeln!(out, "    owner_id   uuid          references t{}(id)", t / 2);
            let _ = writeln!(out, "    name       varchar(255)  not null");
            let _ = writeln!(
                out,
                "    status     varchar(20)   not null default 'active' check (status in ('active', 'inactive'))"
            );
            let _ = writeln!(out, "    amount     numeric(19, 4) default 0");
            let _ = writeln!(out, "    payload    jsonb");
            let _ = writeln!(out, "    created_at timestamptz   not null default now()");
            let _ = writeln!(out, "    updated_at timestamptz   not null default now() @touch");
            let _ = writeln!(out, "    index idx_t{t}_tenant (tenant_id, created_at desc)");
            let _ = writeln!(out, "    index idx_t{t}_status (tenant_id, status) where (status = 'active')");
            let _ = writeln!(out, "  }}");
        }
        let _ = writeln!(out, "}}");
    }
    out
}
