#!/usr/bin/env bash
# Compile cost of the nine hub crates against SeaORM entities generated from
# the same nine databases (`sea-orm-cli generate entity --with-serde both`),
# side by side in one run, with the same profiles: touch-and-rebuild CPU and
# wall in debug and release, and the clean debug build's wall, as ratios
# (hub crates ÷ SeaORM; issue 14's goal: touch-and-rebuild CPU ≤ 1.0x).
#
# Not a test: run it by hand, `tests/benches/compile_vs_seaorm.sh` (needs
# PostgreSQL, as the tests do, and the package registry for sea-orm-cli and
# sea-orm). It takes 15–25 minutes on 2 cores, mostly the clean builds.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
WORK=${WORK:-$ROOT/target/compile-bench}
TOOLS=$ROOT/target/bench-tools
SEA_ORM=1.1.20
SERVER=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
BASE=${SERVER%/*}
HUBS=(identity user tenant app billing wallet config message spokes)
ROUNDS=${ROUNDS:-5}
mkdir -p "$WORK"

# 1. sea-orm-cli, installed once.
if ! [ -x "$TOOLS/bin/sea-orm-cli" ]; then
  cargo install "sea-orm-cli@$SEA_ORM" --locked --root "$TOOLS"
fi

# 2. The nine databases, migrated by hubgen from the checked-in migrations.
cargo build -q --release -p hubgen
for hub in "${HUBS[@]}"; do
  psql "$SERVER" -q -c "DROP DATABASE IF EXISTS bench_seaorm_$hub WITH (FORCE)" -c "CREATE DATABASE bench_seaorm_$hub"
  export "${hub^^}_DATABASE_URL=$BASE/bench_seaorm_$hub"
done
./target/release/hubgen migrate > /dev/null

# 3. SeaORM's entities for them: one crate, a module per hub.
SEA="$WORK/seaorm"
rm -rf "$SEA" && mkdir -p "$SEA/src"
for hub in "${HUBS[@]}"; do
  "$TOOLS/bin/sea-orm-cli" generate entity -u "$BASE/bench_seaorm_$hub" -o "$SEA/src/$hub" \
    --with-serde both --ignore-tables _sqlx_migrations > /dev/null
  echo "pub mod $hub;" >> "$SEA/src/lib.rs"
done
cat > "$SEA/Cargo.toml" <<TOML
[package]
name = "seaorm-entities"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
sea-orm = { version = "=$SEA_ORM", features = ["sqlx-postgres", "runtime-tokio-rustls", "with-ipnetwork"] }
serde = { version = "1", features = ["derive"] }

# The same profiles as the hub crates' workspace.
[profile.dev.package."*"]
opt-level = 1

[profile.release]
debug = false

[workspace]
TOML

lines() { cat "$@" | grep -cv '^\s*$'; }
SEA_LINES=$(lines $(find "$SEA/src" -name '*.rs'))
HUB_LIBS=()
for hub in "${HUBS[@]}"; do HUB_LIBS+=("generated/$hub/src/lib.rs"); done
HUB_LINES=$(lines "${HUB_LIBS[@]}")
IDS_LINES=$(lines generated/ids/src/lib.rs)

HUBS_BUILD=(env "CARGO_TARGET_DIR=$WORK/target-hubs" cargo build -q)
for hub in "${HUBS[@]}"; do HUBS_BUILD+=(-p "hub-$hub"); done
SEA_BUILD=(env "CARGO_TARGET_DIR=$WORK/target-seaorm" cargo build -q --manifest-path "$SEA/Cargo.toml")
hubs_touch() { touch "${HUB_LIBS[@]}"; }
sea_touch() { touch "$SEA/src/lib.rs"; }

# `wall cpu` of one command, in seconds; CPU is user + system of cargo and every rustc it ran.
measure() {
  /usr/bin/time -f "%e %U %S" -o "$WORK/time.txt" "$@" > /dev/null
  awk '{ printf "%.2f %.2f\n", $1, $2 + $3 }' "$WORK/time.txt"
}
# The least CPU of ROUNDS touch-and-rebuilds each, alternating hub crates and SeaORM.
rebuilds() {
  local best_h="" best_s="" h s
  "${HUBS_BUILD[@]}" "$@"; "${SEA_BUILD[@]}" "$@"
  for _ in $(seq "$ROUNDS"); do
    hubs_touch; h=$(measure "${HUBS_BUILD[@]}" "$@")
    sea_touch; s=$(measure "${SEA_BUILD[@]}" "$@")
    best_h=$(printf '%s\n%s\n' "$best_h" "$h" | grep . | sort -k2 -n | head -1)
    best_s=$(printf '%s\n%s\n' "$best_s" "$s" | grep . | sort -k2 -n | head -1)
  done
  echo "$best_h $best_s"
}

# Clean debug builds, dependencies included (each target directory of its own).
rm -rf "$WORK/target-hubs" "$WORK/target-seaorm"
read -r CLEAN_H _ <<< "$(measure "${HUBS_BUILD[@]}")"
read -r CLEAN_S _ <<< "$(measure "${SEA_BUILD[@]}")"
read -r DW_H DC_H DW_S DC_S <<< "$(rebuilds)"
read -r RW_H RC_H RW_S RC_S <<< "$(rebuilds --release)"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
printf '%-36s %12s %12s %10s\n' "(fastest of $ROUNDS)" "SeaORM $SEA_ORM" "hub crates" "ratio"
printf '%-36s %12s %12s %10s\n' "generated lines (non-blank)" "$SEA_LINES" "$HUB_LINES (+$IDS_LINES ids)" "$(ratio "$HUB_LINES" "$SEA_LINES")"
printf '%-36s %11ss %11ss %10s\n' "touch + rebuild, debug, CPU" "$DC_S" "$DC_H" "$(ratio "$DC_H" "$DC_S")"
printf '%-36s %11ss %11ss %10s\n' "touch + rebuild, debug, wall" "$DW_S" "$DW_H" "$(ratio "$DW_H" "$DW_S")"
printf '%-36s %11ss %11ss %10s\n' "touch + rebuild, release, CPU" "$RC_S" "$RC_H" "$(ratio "$RC_H" "$RC_S")"
printf '%-36s %11ss %11ss %10s\n' "touch + rebuild, release, wall" "$RW_S" "$RW_H" "$(ratio "$RW_H" "$RW_S")"
printf '%-36s %11ss %11ss %10s\n' "clean build incl. deps, debug, wall" "$CLEAN_S" "$CLEAN_H" "$(ratio "$CLEAN_H" "$CLEAN_S")"
