#!/usr/bin/env bash
# Two nodes over one PostgreSQL (issue 8): do two `steward serve` nodes on one database give at
# least 1.6× the read throughput of one node? Run by hand, not in CI:
#
#   STEWARD_BIN=/path/to/steward bash bench/two-nodes.sh            # both nodes on this machine
#   ROUNDS=5 DURATION=20 SCENARIO=read-value bash bench/two-nodes.sh
#
#   # Nodes on other machines (started there by hand, see docs/bench.md): seed first, start the
#   # nodes, then measure. No server is started here, both nodes stay up for every run, and
#   # "one node" simply sends no load to node 2.
#   export DATABASE_URL=postgres://steward@10.0.0.10:5432/steward_two_nodes
#   REUSE=1 SEED_ONLY=1 bash bench/two-nodes.sh
#   REUSE=1 NODE1_URL=http://10.0.0.11:8080 NODE2_URL=http://10.0.0.12:8080 bash bench/two-nodes.sh
#
# Method: one database, seeded once with `steward bench --seed-database-url` (TWINS, default
# 10,000; REUSE=1 keeps a seeded database and its state file under SCALE_DIR). The load is
# always two `steward bench` processes running at the same time, same scenario, same duration,
# each with half of CONCURRENCY:
#   one node  = node 1 alone is running, and both load generators send to it;
#   two nodes = node 1 and node 2 are running, one load generator sends to each.
# Both nodes use the same database, the same --audit-key-file and the same operator token, as
# docs/scaling.md requires. One/two alternate within each round (one, two; then two, one; …),
# each after WARMUP seconds of the same load; the two generators' requests/s are summed and the
# script prints every run and the ratio of the medians (two / one).
#
# On one machine the nodes, PostgreSQL and both load generators share the same cores, so the
# ratio there measures how they contend for those cores, not how Steward scales out.
set -euo pipefail

SCENARIO=${SCENARIO:-read-foreign}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
CONCURRENCY=${CONCURRENCY:-32}
TWINS=${TWINS:-10000}
REUSE=${REUSE:-0}
SCALE_DIR=${SCALE_DIR:-/work/scale-data}
DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/steward_two_nodes}
PORT1=${PORT1:-18091}
PORT2=${PORT2:-18092}
NODE1_URL=${NODE1_URL:-}
NODE2_URL=${NODE2_URL:-}
TARGET=${TARGET:-1.6}
SEED_ONLY=${SEED_ONLY:-0}

cd "$(dirname "$0")/.."
if [[ -n "${STEWARD_BIN:-}" ]]; then
    BIN=$(realpath "$STEWARD_BIN")
else
    cargo build --release -q -p steward-cli
    BIN=$(realpath target/release/steward)
fi
REMOTE=0
if [[ -n "$NODE1_URL" || -n "$NODE2_URL" ]]; then
    if [[ -z "$NODE1_URL" || -z "$NODE2_URL" ]]; then
        echo "set both NODE1_URL and NODE2_URL, or neither" >&2
        exit 2
    fi
    REMOTE=1
else
    NODE1_URL="http://127.0.0.1:$PORT1"
    NODE2_URL="http://127.0.0.1:$PORT2"
fi
WORK=$(mktemp -d)
PID1=
PID2=
stop_nodes() {
    local pid
    for pid in $PID1 $PID2; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    PID1=
    PID2=
}
cleanup() {
    local status=$?
    if (( status != 0 )); then
        echo "failed (exit $status); last lines of the logs:" >&2
        tail -5 "$WORK"/*.log >&2 2>/dev/null || true
    fi
    stop_nodes
    rm -rf "$WORK"
}
trap cleanup EXIT
export STEWARD_OPERATOR_TOKEN=${STEWARD_OPERATOR_TOKEN:-bench-operator-token-0123456789}
TICKS=$(getconf CLK_TCK)
cat >"$WORK/line.py" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
a, b = r["a"], r["b"]
print(f"round {r['round']} {r['nodes']} node(s): {a['requests_per_sec']:.0f} + {b['requests_per_sec']:.0f} "
      f"= {a['requests_per_sec'] + b['requests_per_sec']:.0f}/s; p99 {a['p99_ms']:.2f} / {b['p99_ms']:.2f} ms; "
      f"errors {a['errors'] + b['errors']}")
PY

echo "date: $(date -u +%FT%TZ); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "binary: $BIN ($(sha256sum "$BIN" | cut -c1-12)); commit $(git log -1 --format=%h 2>/dev/null || echo '?')" \
    "$(git status --porcelain 2>/dev/null | grep -q . && echo '+ uncommitted changes')" >&2
CPUS=$(nproc)
echo "this machine: $CPUS CPUs; nodes: $NODE1_URL, $NODE2_URL ($([[ $REMOTE == 1 ]] && echo remote || echo 'started here'))" >&2

# The data set: one database, seeded once; the state file and the shared audit key live next to
# each other under SCALE_DIR/two-nodes when REUSE=1, in the temporary directory otherwise.
if [[ "$REUSE" == 1 ]]; then
    DATA="$SCALE_DIR/two-nodes"
else
    DATA="$WORK/data"
fi
mkdir -p "$DATA"
STATE="$DATA/state.json"
KEY="$DATA/audit.key"
if [[ "$REUSE" == 1 && -f "$DATA/seeded" ]]; then
    echo "seed: reusing $DATABASE_URL ($(cat "$DATA/seeded"))" >&2
else
    database=${DATABASE_URL##*/}
    admin_url=${DATABASE_URL%/*}/postgres
    psql "$admin_url" -qAt -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $database" \
        -c "CREATE DATABASE $database"
    started=$(date +%s.%N)
    "$BIN" bench --seed-database-url "$DATABASE_URL" --url "$NODE1_URL" --twins "$TWINS" \
        --state-file "$STATE" >"$WORK/seed.log" 2>&1
    ended=$(date +%s.%N)
    rate=$(python3 -c "print(f'{$TWINS} twins, {$TWINS / ($ended - $started):.0f} twins/s')")
    echo "$rate; $(date -u +%FT%TZ)" >"$DATA/seeded"
    echo "seed: $rate" >&2
fi
if [[ "$SEED_ONLY" == 1 ]]; then
    exit 0
fi

start_node() { # $1 port, $2 node number; the pid goes to LAST_PID
    "$BIN" serve --database-url "$DATABASE_URL" --data-dir "$WORK/node$2" --audit-key-file "$KEY" \
        --listen "127.0.0.1:$1" --log warn >"$WORK/node$2.log" 2>&1 &
    LAST_PID=$!
}

wait_ready() { # $1 url
    for _ in $(seq 1 300); do
        curl -fs "$1/healthz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "the node at $1 did not start" >&2
    exit 1
}

start_nodes() { # $1: 1 or 2 nodes
    [[ $REMOTE == 1 ]] && return 0
    start_node "$PORT1" 1
    PID1=$LAST_PID
    wait_ready "$NODE1_URL"  # node 1 creates the audit key if missing; node 2 then reads it
    if [[ $1 == 2 ]]; then
        start_node "$PORT2" 2
        PID2=$LAST_PID
        wait_ready "$NODE2_URL"
    fi
}

ticks_of() { # CPU ticks of the given pids (missing ones count 0)
    local total=0 pid
    for pid in "$@"; do
        total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
    echo "$total"
}
pg_pids() { [[ $REMOTE == 1 ]] || pgrep -x postgres || true; }  # PostgreSQL here only
# Busy and total ticks of the whole machine (every CPU), from /proc/stat.
machine_ticks() { awk '/^cpu / {total = 0; for (i = 2; i <= NF; i++) total += $i; print total - $5 - $6, total}' /proc/stat; }

half=$((CONCURRENCY / 2))
(( half >= 1 )) || half=1

# Runs the two load generators at once against $1 and $2 for $3 seconds; JSON to $4.a/$4.b.
pair() {
    "$BIN" bench --url "$1" --no-setup --state-file "$STATE" --scenario "$SCENARIO" \
        --duration "$3" --warmup 0 --concurrency "$half" --json >"$4.a" 2>>"$WORK/bench.log" &
    local a=$!
    "$BIN" bench --url "$2" --no-setup --state-file "$STATE" --scenario "$SCENARIO" \
        --duration "$3" --warmup 0 --concurrency "$half" --json >"$4.b" 2>>"$WORK/bench.log" &
    local b=$!
    wait "$a"
    wait "$b"
}

: >"$WORK/results.jsonl"
for round in $(seq 1 "$ROUNDS"); do
    if (( round % 2 )); then order="1 2"; else order="2 1"; fi
    for nodes in $order; do
        start_nodes "$nodes"
        if [[ $nodes == 1 ]]; then second=$NODE1_URL; else second=$NODE2_URL; fi
        pair "$NODE1_URL" "$second" "$WARMUP" "$WORK/warm"
        node_before=$(ticks_of $PID1 $PID2)
        pg_before=$(ticks_of $(pg_pids))
        read -r busy_before total_before < <(machine_ticks)
        pair "$NODE1_URL" "$second" "$DURATION" "$WORK/run"
        node_after=$(ticks_of $PID1 $PID2)
        pg_after=$(ticks_of $(pg_pids))
        read -r busy_after total_after < <(machine_ticks)
        stop_nodes
        line="{\"round\": $round, \"nodes\": $nodes, \"node_cpu_ticks\": $((node_after - node_before)),"
        line+=" \"pg_cpu_ticks\": $((pg_after - pg_before)),"
        line+=" \"machine_busy\": $(( (busy_after - busy_before) * 1000 / (total_after - total_before + 1) )),"
        line+=" \"a\": $(cat "$WORK/run.a"), \"b\": $(cat "$WORK/run.b")}"
        echo "$line" >>"$WORK/results.jsonl"
        python3 "$WORK/line.py" "$line" >&2
    done
done

echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
python3 - "$WORK/results.jsonl" "$TICKS" "$SCENARIO" "$TARGET" "$CPUS" "$REMOTE" "$CONCURRENCY" "$half" <<'PY'
import json, statistics, sys
path, ticks, scenario, target, cpus, remote, conc, half = sys.argv[1:9]
ticks, target = int(ticks), float(target)
runs = [json.loads(line) for line in open(path)]
print(f"scenario {scenario}; two load generators of {half} workers each ({conc} in all); "
      f"{len(runs) // 2} rounds; this machine has {cpus} CPUs")
print("| round | nodes | requests/s (gen. 1 + gen. 2) | total requests/s | p99 ms (gen. 1 / gen. 2) "
      "| errors | Steward CPU µs/req | PostgreSQL CPU µs/req | machine CPU busy |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in runs:
    a, b = r["a"], r["b"]
    total = a["requests_per_sec"] + b["requests_per_sec"]
    requests = max(a["requests"] + b["requests"], 1)
    r["total"] = total
    print(f"| {r['round']} | {r['nodes']} | {a['requests_per_sec']:,.0f} + {b['requests_per_sec']:,.0f} | {total:,.0f} "
          f"| {a['p99_ms']:.2f} / {b['p99_ms']:.2f} | {a['errors'] + b['errors']} "
          f"| {r['node_cpu_ticks'] * 1e6 / ticks / requests:.0f} | {r['pg_cpu_ticks'] * 1e6 / ticks / requests:.0f} "
          f"| {r['machine_busy'] / 10:.0f}% |")
one = statistics.median(r["total"] for r in runs if r["nodes"] == 1)
two = statistics.median(r["total"] for r in runs if r["nodes"] == 2)
ratio = two / one
per_round = []
for rnd in sorted({r["round"] for r in runs}):
    o = [r["total"] for r in runs if r["round"] == rnd and r["nodes"] == 1]
    t = [r["total"] for r in runs if r["round"] == rnd and r["nodes"] == 2]
    if o and t:
        per_round.append(t[0] / o[0])
print(f"\nmedian one node {one:,.0f}/s, two nodes {two:,.0f}/s: ratio {ratio:.3f} "
      f"(per round {', '.join(f'{x:.3f}' for x in per_round)}); target ≥ {target}×: "
      f"{'met' if ratio >= target else 'missed'}")
if remote != "1":
    print(f"note: both nodes, PostgreSQL and both load generators ran on this machine's {cpus} CPUs, "
          "so the ratio measures how they contend for the same cores, not scale-out; run the nodes "
          "on separate machines (NODE1_URL, NODE2_URL) for that")
PY
