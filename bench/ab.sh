#!/usr/bin/env bash
# Before/after: two builds of `steward` serve the same data directory in turn (A/B, then B/A,
# ROUNDS times) under the same `steward bench` scenario, and the script prints each run and the
# ratio of the medians (B over A). This is how the before/after figures of a fix are measured
# in one run (issue 8). Run by hand, not in CI:
#
#   git worktree add /tmp/before <rev> && (cd /tmp/before && cargo build --release -p steward-cli)
#   cargo build --release -p steward-cli
#   bash bench/ab.sh /tmp/before/target/release/steward target/release/steward
#   SCENARIO=read-foreign ROUNDS=5 DURATION=20 bash bench/ab.sh OLD NEW
#
# Both builds must read the same data directory (the same migrations). The load generator is
# always B's `steward bench`, so only the server differs. Server CPU per request comes from
# /proc, as in bench/audit-cost.sh.
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: bash bench/ab.sh BINARY_A BINARY_B" >&2
    exit 2
fi
A=$(realpath "$1")
B=$(realpath "$2")
SCENARIO=${SCENARIO:-write-entry}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONCURRENCY=${CONCURRENCY:-32}
TWINS=${TWINS:-1000}
PORT=${PORT:-18081}

WORK=$(mktemp -d)
trap 'kill "${PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
export STEWARD_OPERATOR_TOKEN=bench-operator-token-0123456789
URL="http://127.0.0.1:$PORT"

# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

start() { # $1: the binary
    start_server "$1" serve --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" --log warn
}

start "$A"
"$B" bench --url "$URL" --setup-only --twins "$TWINS" --state-file "$WORK/state.json" >&2
stop_server

: >"$WORK/results.jsonl"
for round in $(seq 1 "$ROUNDS"); do
    if (( round % 2 )); then order="A B"; else order="B A"; fi
    for side in $order; do
        if [[ $side == A ]]; then start "$A"; else start "$B"; fi
        measure_and_stop "$B" "\"round\": $round, \"side\": \"$side\""
    done
done

python3 - "$WORK/results.jsonl" "$SCENARIO" "$(getconf CLK_TCK)" <<'EOF'
import json, statistics, sys
path, scenario, ticks_per_second = sys.argv[1], sys.argv[2], int(sys.argv[3])
runs = [json.loads(line) for line in open(path)]
def side(name):
    rows = [r for r in runs if r["side"] == name]
    rps = [r["result"]["requests_per_sec"] for r in rows]
    p99 = [r["result"]["p99_ms"] for r in rows]
    errors = sum(r["result"]["errors"] for r in rows)
    cpu = [r["server_cpu_ticks"] / ticks_per_second * 1e6 / max(r["result"]["requests"], 1) for r in rows]
    return rps, p99, errors, cpu
a, b = side("A"), side("B")
print(f"scenario {scenario}, {len(a[0])} rounds each")
for name, (rps, p99, errors, cpu) in (("A", a), ("B", b)):
    print(f"  {name}: requests/s {', '.join(f'{x:,.0f}' for x in rps)} (median {statistics.median(rps):,.0f}); "
          f"p99 ms median {statistics.median(p99):.2f}; server CPU µs/request median {statistics.median(cpu):.0f}; errors {errors}")
print(f"  B/A throughput ratio of medians: {statistics.median(b[0]) / statistics.median(a[0]):.3f}")
EOF
