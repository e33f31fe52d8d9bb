//! Settings (`set lock_timeout '10s'`): known names, valid values, each set
//! once per scope. A hub's own setting wins over the top level's.

use super::{Ctx, HubCtx};
use crate::ast::Setting;
use crate::diagnostics::{messages, Diagnostic};

pub(super) fn check(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    check_scope(&ctx.settings, " at the top level", out);
    for hub in &ctx.hubs {
        check_scope(&hub.settings, " in this hub", out);
    }
}

fn check_scope(settings: &[&Setting], scope: &str, out: &mut Vec<Diagnostic>) {
    for (i, setting) in settings.iter().enumerate() {
        if let Some(previous) = settings[..i].iter().find(|s| s.name.name == setting.name.name) {
            out.push(messages::duplicate_setting(&setting.name, &previous.name, scope));
        }
        match setting.name.name.as_str() {
            "lock_timeout" => {
                if !is_duration(&setting.value) {
                    out.push(messages::invalid_lock_timeout(setting.value_span, &setting.value));
                }
            }
            _ => out.push(messages::unknown_setting(&setting.name)),
        }
    }
}

/// A hub's value of `name`: its own, else the top level's.
pub(crate) fn value<'a>(ctx: &Ctx<'a>, hub: &HubCtx<'a>, name: &str) -> Option<&'a str> {
    let find = |settings: &[&'a Setting]| settings.iter().find(|s| s.name.name == name).map(|s| s.value.as_str());
    find(&hub.settings).or_else(|| find(&ctx.settings))
}

/// A duration PostgreSQL accepts for a timeout: digits, then a unit or none (milliseconds).
fn is_duration(value: &str) -> bool {
    let digits = value.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && ["", "us", "ms", "s", "min", "h", "d"].contains(&&value[digits..])
}

#[cfg(test)]
mod tests {
    use super::is_duration;

    #[test]
    fn durations() {
        for ok in ["5s", "500ms", "1min", "2h", "1d", "0", "250"] {
            assert!(is_duration(ok), "{ok}");
        }
        for bad in ["", "s", "5 s", "5sec", "-1s", "1.5s", "five"] {
            assert!(!is_duration(bad), "{bad}");
        }
    }
}
