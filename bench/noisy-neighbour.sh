#!/usr/bin/env bash
# Noisy neighbour (issue 9): while account A floods the server at full speed, does account B's
# p99 stay within 2x of its p99 alone? Run by hand, not in CI:
#
#   STEWARD_BIN=/path/to/steward bash bench/noisy-neighbour.sh
#   ROUNDS=5 DURATION=20 FLOOD_RATE=100 bash bench/noisy-neighbour.sh
#
# Method: one `steward serve` on SQLite, set up with `steward bench --setup-only` (TWINS twins,
# two accounts: A = the owner "shop", B = the reader "courier"). B is always one
# `steward bench --scenario read-foreign` process at VICTIM_CONCURRENCY workers (a modest,
# steady client). A is a second `steward bench --scenario read-own` process at
# FLOOD_CONCURRENCY workers (default 32: as fast as the machine allows), started a second
# before B's run and ending after it. Each round measures B three ways, in this order:
#   alone     - no flood;
#   unlimited - A floods with no rate limit (for reference: what the limit buys);
#   limited   - A floods with `PUT /operator/accounts/{A}/limits {"rate_limit_per_second":
#               FLOOD_RATE}`; the rest of its requests get 429.
# The script prints every run and the ratio of the medians of B's p99 (limited / alone);
# the target is <= TARGET (2).
#
# On one machine the server and both load generators share the same cores: A's generator
# itself takes CPU from the server and from B's generator, so this is a pessimistic setup.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-2}
TWINS=${TWINS:-1000}
FLOOD_CONCURRENCY=${FLOOD_CONCURRENCY:-32}
VICTIM_CONCURRENCY=${VICTIM_CONCURRENCY:-2}
FLOOD_RATE=${FLOOD_RATE:-100}
PORT=${PORT:-18093}
TARGET=${TARGET:-2}

cd "$(dirname "$0")/.."
if [[ -n "${STEWARD_BIN:-}" ]]; then
    BIN=$(realpath "$STEWARD_BIN")
else
    cargo build --release -q -p steward-cli
    BIN=$(realpath target/release/steward)
fi
WORK=$(mktemp -d)
URL="http://127.0.0.1:$PORT"
SERVER=
FLOOD=
cleanup() {
    local status=$?
    if (( status != 0 )); then
        echo "failed (exit $status); last lines of the logs:" >&2
        tail -5 "$WORK"/*.log >&2 2>/dev/null || true
    fi
    for pid in $FLOOD $SERVER; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
export STEWARD_OPERATOR_TOKEN=${STEWARD_OPERATOR_TOKEN:-bench-operator-token-0123456789}

echo "date: $(date -u +%FT%TZ); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "binary: $BIN ($(sha256sum "$BIN" | cut -c1-12)); commit $(git log -1 --format=%h 2>/dev/null || echo '?')" \
    "$(git status --porcelain 2>/dev/null | grep -q . && echo '+ uncommitted changes')" >&2
echo "this machine: $(nproc) CPUs; B: read-foreign x $VICTIM_CONCURRENCY; A: read-own x $FLOOD_CONCURRENCY;" \
    "A's limit when limited: $FLOOD_RATE/s; $ROUNDS rounds of ${DURATION}s (+${WARMUP}s warm-up)" >&2

"$BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" --log warn >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 300); do
    curl -fs "$URL/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
STATE="$WORK/state.json"
"$BIN" bench --url "$URL" --setup-only --twins "$TWINS" --accounts 2 --state-file "$STATE" \
    >"$WORK/setup.log" 2>&1
OWNER=$(jq -r .owner.account "$STATE")

set_limit() { # $1: the JSON document for A's limits
    curl -fsS -X PUT "$URL/operator/accounts/$OWNER/limits" \
        -H "Authorization: $STEWARD_OPERATOR_TOKEN" -d "$1" >/dev/null
}

victim() { # prints B's JSON report
    "$BIN" bench --url "$URL" --no-setup --state-file "$STATE" --scenario read-foreign \
        --concurrency "$VICTIM_CONCURRENCY" --duration "$DURATION" --warmup "$WARMUP" --json
}

run() { # $1 round, $2 mode (alone, unlimited, limited)
    local b a="{}"
    case "$2" in
        alone) set_limit '{}' ;;
        unlimited) set_limit '{}' ;;
        limited) set_limit "{\"rate_limit_per_second\": $FLOOD_RATE}" ;;
    esac
    if [[ "$2" != alone ]]; then
        "$BIN" bench --url "$URL" --no-setup --state-file "$STATE" --scenario read-own \
            --concurrency "$FLOOD_CONCURRENCY" --duration $((DURATION + WARMUP + 2)) --warmup 0 \
            --json >"$WORK/flood.json" 2>"$WORK/flood.log" &
        FLOOD=$!
        sleep 1
    fi
    b=$(victim)
    if [[ -n "$FLOOD" ]]; then
        wait "$FLOOD"
        FLOOD=
        a=$(cat "$WORK/flood.json")
    fi
    python3 - "$1" "$2" "$b" "$a" <<'PY' | tee -a "$WORK/runs.txt"
import json, sys
rnd, mode, b, a = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
flood = ""
if a:
    statuses = a.get("statuses", {})
    flood = (f"; A: {a['requests_per_sec']:.0f} answers/s "
             f"({statuses.get('200', 0)} x 200, {statuses.get('429', 0)} x 429)")
print(f"{rnd} {mode} {b['p99_ms']:.3f} {b['p50_ms']:.3f} {b['requests_per_sec']:.0f} {b['errors']}"
      f" | round {rnd} {mode:9}: B p50 {b['p50_ms']:.2f} ms, p99 {b['p99_ms']:.2f} ms, "
      f"{b['requests_per_sec']:.0f}/s, errors {b['errors']}{flood}")
PY
}

for round in $(seq 1 "$ROUNDS"); do
    for mode in alone unlimited limited; do
        run "$round" "$mode"
    done
done

python3 - "$WORK/runs.txt" "$TARGET" <<'PY'
import statistics, sys
p99 = {}
for line in open(sys.argv[1]):
    fields = line.split()
    p99.setdefault(fields[1], []).append(float(fields[2]))
alone, limited, unlimited = (statistics.median(p99[m]) for m in ("alone", "limited", "unlimited"))
target = float(sys.argv[2])
ratio = limited / alone
print(f"median p99 of B: alone {alone:.2f} ms, A flooding unlimited {unlimited:.2f} ms "
      f"({unlimited / alone:.2f}x), A flooding limited {limited:.2f} ms ({ratio:.2f}x); "
      f"target <= {target:g}x: {'met' if ratio <= target else 'missed'}")
PY
