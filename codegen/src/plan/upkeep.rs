//! Partition upkeep and partition security for tables that stay.
//!
//! Adding upkeep keeps the rows: the table's declared partitions are renamed
//! to pg_partman's names (it parses bounds from them) instead of dropped.
//! Whenever a partitioned table's partitions or security change, its
//! partitions are secured again, last, so they carry the parent's final state.

use super::{label, Phase, Plan, Step};
use crate::sql::statement::{Name, Statement};
use crate::sql::{access_rls_enabled, scope_policies, table_privileges};
use hubgen_schema::ir;

/// Upkeep added, changed or removed; `true` when the declared partitions
/// are handled here (renamed, kept) rather than diffed one by one.
pub(super) fn plan(o: &ir::Table, t: &ir::Table, plan: &mut Plan) -> bool {
    let old = o.partitioning.as_ref().and_then(|p| p.upkeep.as_ref());
    let new = t.partitioning.as_ref().and_then(|p| p.upkeep.as_ref());
    let (Some(column), table) = (t.partitioning.as_ref().map(|p| p.column.clone()), Name::of(t)) else {
        return false;
    };
    match (old, new) {
        (None, Some(upkeep)) => {
            let declared = o.partitioning.as_ref().map(|p| p.partitions.as_slice()).unwrap_or_default();
            let mut statements = Vec::new();
            let mut kept = Vec::new();
            for p in declared {
                let name = partman_name(&t.name, upkeep, &p.from).unwrap_or_else(|| p.name.clone());
                if name != p.name {
                    statements.push(Statement::RenameTable {
                        from: table.sibling(&p.name),
                        to: name.clone(),
                    });
                }
                kept.push(name);
            }
            statements.push(Statement::ConfigureUpkeep {
                table,
                column,
                upkeep: upkeep.clone(),
                kept,
            });
            plan.push(Step::new(
                Phase::Attach,
                format!("add partition upkeep to {}", label(t)),
                statements,
            ));
            true
        }
        (Some(previous), None) => {
            let kept = t.partitioning.iter().flat_map(|p| &p.partitions).map(|p| p.name.clone()).collect();
            plan.push(Step::new(
                Phase::Detach,
                format!("remove partition upkeep from {}", label(t)),
                vec![Statement::RemoveUpkeep {
                    table,
                    column,
                    upkeep: previous.clone(),
                    kept,
                }],
            ));
            true
        }
        (Some(previous), Some(upkeep)) if previous != upkeep => {
            let statements = if previous.interval == upkeep.interval {
                vec![Statement::ReconfigureUpkeep {
                    table,
                    upkeep: upkeep.clone(),
                    previous: previous.clone(),
                }]
            } else {
                // pg_partman cannot change a set's interval: the empty partitions go and come back.
                vec![
                    Statement::RemoveUpkeep {
                        table: table.clone(),
                        column: column.clone(),
                        upkeep: previous.clone(),
                        kept: Vec::new(),
                    },
                    Statement::ConfigureUpkeep {
                        table,
                        column,
                        upkeep: upkeep.clone(),
                        kept: Vec::new(),
                    },
                ]
            };
            plan.push(Step::new(
                Phase::Attach,
                format!("change partition upkeep of {}", label(t)),
                statements,
            ));
            true
        }
        (Some(_), Some(_)) => true,
        (None, None) => false,
    }
}

/// Partitions secured again when anything they must mirror changed.
pub(super) fn secure(old_hub: &ir::Hub, new_hub: &ir::Hub, o: &ir::Table, t: &ir::Table, plan: &mut Plan) {
    let Some(partitioning) = &t.partitioning else {
        return;
    };
    let old = o.partitioning.as_ref();
    let upkeep_added = partitioning.upkeep.is_some() && old.and_then(|p| p.upkeep.as_ref()).is_none();
    // Adding upkeep secures the partitions it makes and renames; otherwise a
    // partition added, or a lock written before partitions were secured.
    let partitions_changed =
        !upkeep_added && old.is_none_or(|p| p.partitions != partitioning.partitions || p.secured != partitioning.secured);
    let changed = partitions_changed
        || o.policies != t.policies
        || scope_policies(old_hub, o) != scope_policies(new_hub, t)
        || table_privileges(old_hub, o) != table_privileges(new_hub, t)
        || access_rls_enabled(o) != access_rls_enabled(t);
    if changed && (partitioning.upkeep.is_some() || !partitioning.partitions.is_empty()) {
        plan.push(Step::new(
            Phase::Partitions,
            format!("secure partitions of {}", label(t)),
            vec![Statement::SecurePartitions { table: Name::of(t) }],
        ));
    }
}

/// The name pg_partman gives the partition starting at `from` (a quoted
/// date or timestamp), or `None` when the bound is not one it could start.
pub fn partman_name(table: &str, upkeep: &ir::Upkeep, from: &str) -> Option<String> {
    let text = from.trim().trim_matches('\'');
    let (date, time) = text.split_once([' ', 'T']).unwrap_or((text, "00:00"));
    let mut parts = date.split('-').map(|p| p.parse::<i32>().ok());
    let (year, month, day) = (parts.next()??, parts.next()??, parts.next()??);
    let mut clock = time.split(':').map(|p| p.parse::<u32>().ok());
    let (hour, minute) = (clock.next()??, clock.next().flatten().unwrap_or(0));
    let suffix = match upkeep.interval.as_str() {
        "yearly" => format!("{year:04}"),
        "quarterly" => format!("{year:04}q{}", (month - 1) / 3 + 1),
        "monthly" => format!("{year:04}_{month:02}"),
        "weekly" => {
            let (iso_year, week) = iso_week(year, month, day)?;
            format!("{iso_year:04}w{week:02}")
        }
        "daily" => format!("{year:04}_{month:02}_{day:02}"),
        _ => format!("{year:04}_{month:02}_{day:02}_{hour:02}{minute:02}"),
    };
    Some(format!("{table}_p{suffix}"))
}

/// ISO 8601 year and week of a date.
fn iso_week(year: i32, month: i32, day: i32) -> Option<(i32, i32)> {
    let ordinal = |y: i32, m: i32, d: i32| -> i32 {
        let cumulative = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        cumulative[(m - 1) as usize] + d + i32::from(leap && m > 2)
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // Day of week, Monday = 1 (Sakamoto's method gives Sunday = 0).
    let t = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
    let y = if month < 3 { year - 1 } else { year };
    let dow = (y + y / 4 - y / 100 + y / 400 + t[(month - 1) as usize] + day) % 7;
    let dow = if dow == 0 { 7 } else { dow };
    let week = (ordinal(year, month, day) - dow + 10) / 7;
    let weeks_in = |y: i32| {
        let p = |y: i32| (y + y / 4 - y / 100 + y / 400) % 7;
        if p(y) == 4 || p(y - 1) == 3 {
            53
        } else {
            52
        }
    };
    Some(match week {
        0 => (year - 1, weeks_in(year - 1)),
        w if w > weeks_in(year) => (year + 1, 1),
        w => (year, w),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upkeep(interval: &str) -> ir::Upkeep {
        ir::Upkeep {
            interval: interval.into(),
            premake: 4,
            retain: None,
            archive: false,
        }
    }

    #[test]
    fn partman_names_follow_its_suffixes() {
        let name = |i: &str, from: &str| partman_name("messages", &upkeep(i), from);
        assert_eq!(name("monthly", "'2026-02-01'").as_deref(), Some("messages_p2026_02"));
        assert_eq!(name("daily", "'2026-02-03'").as_deref(), Some("messages_p2026_02_03"));
        assert_eq!(name("yearly", "'2026-01-01'").as_deref(), Some("messages_p2026"));
        assert_eq!(name("quarterly", "'2026-04-01'").as_deref(), Some("messages_p2026q2"));
        assert_eq!(name("hourly", "'2026-02-03 05:00'").as_deref(), Some("messages_p2026_02_03_0500"));
        // 2027-01-01 is a Friday of ISO week 53 of 2026; 2024-12-30 a Monday of week 1 of 2025.
        assert_eq!(name("weekly", "'2027-01-01'").as_deref(), Some("messages_p2026w53"));
        assert_eq!(name("weekly", "'2024-12-30'").as_deref(), Some("messages_p2025w01"));
        assert_eq!(name("weekly", "'2026-03-02'").as_deref(), Some("messages_p2026w10"));
        assert_eq!(name("monthly", "MINVALUE"), None);
    }
}
