#!/usr/bin/env bash
# What auditing costs read throughput (issue 7): `steward bench` runs the same scenario against
# one data directory served with the audit trail on and off, alternating (on/off, then off/on),
# ROUNDS times, and prints each run and the ratio of the medians. Run by hand, not in CI:
#
#   bash bench/audit-cost.sh                      # read-foreign, 3 rounds of 10 s, 32 workers
#   SCENARIO=read-value ROUNDS=5 DURATION=20 bash bench/audit-cost.sh
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/steward_bench bash bench/audit-cost.sh
#
# The load generator runs on the same machine as the server, as issue 8 asks; both share its
# cores, so compare ratios from one run, not absolute figures across runs.
set -euo pipefail

SCENARIO=${SCENARIO:-read-foreign}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONCURRENCY=${CONCURRENCY:-32}
TWINS=${TWINS:-1000}
PORT=${PORT:-18080}
DATABASE_URL=${DATABASE_URL:-}

cd "$(dirname "$0")/.."
cargo build --release -q -p steward-cli
BIN=target/release/steward
WORK=$(mktemp -d)
trap 'kill "${PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
export STEWARD_OPERATOR_TOKEN=bench-operator-token-0123456789
URL="http://127.0.0.1:$PORT"

if [[ -n "$DATABASE_URL" ]]; then
    STORE=(--database-url "$DATABASE_URL" --audit-key-file "$WORK/audit.key")
else
    STORE=(--data-dir "$WORK/data")
fi

# shellcheck source=bench/lib.sh
source bench/lib.sh

start() { # $1: audit on (true) or off (false)
    start_server "$BIN" serve "${STORE[@]}" --listen "127.0.0.1:$PORT" --audit-enabled="$1" \
        --log warn
}

start true
"$BIN" bench --url "$URL" --setup-only --twins "$TWINS" --state-file "$WORK/state.json" >&2
stop_server

: >"$WORK/results.jsonl"
for round in $(seq 1 "$ROUNDS"); do
    if (( round % 2 )); then order="true false"; else order="false true"; fi
    for audit in $order; do
        start "$audit"
        measure_and_stop "$BIN" "\"round\": $round, \"audit\": $audit"
    done
done

python3 - "$WORK/results.jsonl" "$SCENARIO" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
print(f"scenario {sys.argv[2]}; {len(runs)} runs")
import os
tick_us = 1e6 / os.sysconf("SC_CLK_TCK")
print("| round | audit | requests/s | server CPU µs/request | p50 ms | p99 ms | errors |")
print("|---:|---|---:|---:|---:|---:|---:|")
for run in runs:
    r = run["result"]
    run["cpu_us"] = run["server_cpu_ticks"] * tick_us / max(r["requests"], 1)
    print(f"| {run['round']} | {'on' if run['audit'] else 'off'} | {r['requests_per_sec']:.0f} "
          f"| {run['cpu_us']:.1f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']} |")
cpu_on = statistics.median(run["cpu_us"] for run in runs if run["audit"])
cpu_off = statistics.median(run["cpu_us"] for run in runs if not run["audit"])
print(f"server CPU per request: median on {cpu_on:.1f} µs, off {cpu_off:.1f} µs "
      f"(+{cpu_on - cpu_off:.1f} µs, {cpu_on / cpu_off:.3f}×)")
on = [run["result"]["requests_per_sec"] for run in runs if run["audit"]]
off = [run["result"]["requests_per_sec"] for run in runs if not run["audit"]]
per_round = [a["result"]["requests_per_sec"] / b["result"]["requests_per_sec"]
             for a in runs if a["audit"] for b in runs if not b["audit"] and b["round"] == a["round"]]
print(f"median on {statistics.median(on):.0f}/s, off {statistics.median(off):.0f}/s: "
      f"audited throughput is {statistics.median(on) / statistics.median(off):.3f} of unaudited "
      f"(cost {100 * (1 - statistics.median(on) / statistics.median(off)):.1f}%); "
      f"per-round ratios {', '.join(f'{x:.3f}' for x in per_round)}")
PY
