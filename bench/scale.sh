#!/usr/bin/env bash
# Flat latency from 10,000 to 1,000,000 twins (issue 8): is `read-foreign`'s p99 at 1,000,000
# twins within 1.25× of its p99 at 10,000 twins, on SQLite and on PostgreSQL, and how much
# memory does `steward serve` use at 1,000,000 twins? Run by hand, not in CI:
#
#   REUSE=1 STEWARD_BIN=/path/to/steward bash bench/scale.sh      # seed once, then measure
#   REUSE=1 ROUNDS=5 DURATION=20 bash bench/scale.sh              # measure again on the same data
#   BACKENDS=sqlite SIZES="10000 100000" bash bench/scale.sh       # a quick look
#   SEED_ONLY=1 REUSE=1 bash bench/scale.sh                       # seed (or check) and stop
#
# 1. Seeding: one data set per backend and size, `steward bench --seed-data-dir` (SQLite) or
#    `--seed-database-url .../steward_scale_<size>` (PostgreSQL, database dropped and created
#    first), with the setup defaults (20 entries, 5 visible to the reader, 100-byte payloads)
#    and a state file per size, all under SCALE_DIR. With REUSE=1 a data set seeded completely
#    before (marker file `seeded`) is kept; otherwise it is seeded again and removed at the end.
#    The seeding rate (twins/s) is printed; a size whose seeding would take longer than
#    SEED_LIMIT_MINUTES at the rate of the largest smaller size is skipped (SEED_ANYWAY=1 seeds
#    it anyway).
# 2. Cold runs: for each size, a fresh server and `read-foreign` with no warm-up (the process's
#    caches are empty; the OS page cache is as it is, or dropped first with DROP_CACHES=1).
# 3. Rounds: ROUNDS times, for each size (the order rotates every round), start `steward serve`
#    on that data set, warm up WARMUP seconds of `read-foreign`, measure DURATION seconds of
#    `read-foreign` at CONCURRENCY workers, read the server's CPU time and VmHWM from /proc, stop.
# 4. Read scenarios: once per size, a fresh server, the same warm-up, then `read-foreign`,
#    `read-value`, `resolve` and `scan-match` one after the other, and the server's VmHWM
#    (peak resident memory) read just before it is stopped.
# 5. A table per backend: median requests/s and p99 per size, p99(size)/p99(smallest size)
#    against the 1.25× target, and peak RSS against the 150 MB target (SQLite, largest size).
#
# Knobs: BACKENDS ("sqlite postgres"), SIZES ("10000 100000 1000000"; the first is the
# reference), ROUNDS (3), DURATION (10 s), WARMUP (3 s), CONCURRENCY (32), SEED_CONCURRENCY (32;
# SQLite seeding uses at most 4 tasks), SEED_LIMIT_MINUTES (25), COLD (1), DROP_CACHES (0; 1 drops
# the OS page cache before each cold run, as root), SCALE_DIR (/work/scale-data), REUSE (0),
# PG_URL_BASE (postgres://postgres@127.0.0.1:5432), PORT (18090), SERVE_ARGS (extra `steward
# serve` options, e.g. "--object-cache-ttl-milliseconds 0"), STEWARD_BIN (default
# target/release/steward, built with cargo). Every run's JSON goes to SCALE_DIR/results-*.jsonl.
#
# `steward bench` picks a twin uniformly at random from the state file for every request, so
# the working set is every twin: at 1,000,000 twins the server's caches (object cache, SQLite's
# page cache, PostgreSQL's shared_buffers) hold a small part of it, which is what this measures.
# The load generator runs on the same machine (it holds every twin id of the state file in
# memory too); only the server process's memory and CPU are reported.
set -euo pipefail

BACKENDS=${BACKENDS:-"sqlite postgres"}
SIZES=${SIZES:-"10000 100000 1000000"}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
CONCURRENCY=${CONCURRENCY:-32}
SEED_CONCURRENCY=${SEED_CONCURRENCY:-32}
SEED_LIMIT_MINUTES=${SEED_LIMIT_MINUTES:-25}
SEED_ANYWAY=${SEED_ANYWAY:-0}
SEED_ONLY=${SEED_ONLY:-0}
COLD=${COLD:-1}
DROP_CACHES=${DROP_CACHES:-0}
REUSE=${REUSE:-0}
SCALE_DIR=${SCALE_DIR:-/work/scale-data}
PG_URL_BASE=${PG_URL_BASE:-postgres://postgres@127.0.0.1:5432}
PG_HOST=${PG_HOST:-127.0.0.1}
PG_PORT=${PG_PORT:-5432}
PG_USER=${PG_USER:-postgres}
PORT=${PORT:-18090}
P99_TARGET=${P99_TARGET:-1.25}
RSS_TARGET_MB=${RSS_TARGET_MB:-150}
# Extra `steward serve` options for every server, e.g. "--object-cache-ttl-milliseconds 0".
read -r -a SERVE_ARGS <<<"${SERVE_ARGS:-}"

cd "$(dirname "$0")/.."
if [[ -n "${STEWARD_BIN:-}" ]]; then
    BIN=$(realpath "$STEWARD_BIN")
else
    cargo build --release -q -p steward-cli
    BIN=$(realpath target/release/steward)
fi
mkdir -p "$SCALE_DIR"
SCALE_DIR=$(realpath "$SCALE_DIR")
WORK=$(mktemp -d)
PID=
cleanup() {
    local status=$?
    if (( status != 0 )); then
        echo "failed (exit $status); last lines of the load generator's and the server's logs:" >&2
        tail -5 "$WORK/bench.log" "$WORK/server.log" >&2 2>/dev/null || true
    fi
    if [[ -n "$PID" ]]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
    if [[ "$REUSE" != 1 ]]; then
        for size in $SIZES; do
            rm -rf "$SCALE_DIR/sqlite-$size" "$SCALE_DIR/postgres-$size"
            if [[ " $BACKENDS " == *" postgres "* ]]; then
                psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -qAtc \
                    "DROP DATABASE IF EXISTS steward_scale_$size" >/dev/null 2>&1 || true
            fi
        done
    fi
}
trap cleanup EXIT
export STEWARD_OPERATOR_TOKEN=bench-operator-token-0123456789
URL="http://127.0.0.1:$PORT"
TICKS=$(getconf CLK_TCK)
RESULTS="$WORK/results.jsonl"
: >"$RESULTS"
cat >"$WORK/line.py" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
x = r["result"]
print(f"{r['phase']} {r['backend']} {r['size']:>8} {r['scenario']:<12} round {r['round']}: "
      f"{x['requests_per_sec']:>8.0f}/s  p50 {x['p50_ms']:.2f}  p99 {x['p99_ms']:.2f}  "
      f"p99.9 {x['p999_ms']:.2f} ms  errors {x['errors']}  VmHWM {r['vm_hwm_kb'] / 1024:.0f} MB")
PY

echo "date: $(date -u +%FT%TZ); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "binary: $BIN ($(sha256sum "$BIN" | cut -c1-12)); commit $(git log -1 --format=%h 2>/dev/null || echo '?')" \
    "$(git status --porcelain 2>/dev/null | grep -q . && echo '+ uncommitted changes')" >&2
echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo); data under $SCALE_DIR" >&2
echo "settings: ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP CONCURRENCY=$CONCURRENCY" \
    "SERVE_ARGS='${SERVE_ARGS[*]:-}'" >&2

dir_of() { echo "$SCALE_DIR/$1-$2"; }          # $1 backend, $2 size
db_url_of() { echo "$PG_URL_BASE/steward_scale_$1"; }
psql_admin() { psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -qAt -v ON_ERROR_STOP=1 "$@"; }

# ---------------------------------------------------------------------------------------------
# 1. Seeding
# ---------------------------------------------------------------------------------------------
declare -A SEEDED=()   # "backend size" -> 1 when the data set is ready
seed() { # $1 backend, $2 size
    local backend=$1 size=$2 dir
    dir=$(dir_of "$backend" "$size")
    if [[ "$REUSE" == 1 && -f "$dir/seeded" ]]; then
        echo "seed $backend $size: reusing $dir ($(cat "$dir/seeded"))" >&2
        SEEDED["$backend $size"]=1
        return 0
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    local target=()
    if [[ $backend == sqlite ]]; then
        target=(--seed-data-dir "$dir/data")
    else
        psql_admin -c "DROP DATABASE IF EXISTS steward_scale_$size" \
            -c "CREATE DATABASE steward_scale_$size"
        target=(--seed-database-url "$(db_url_of "$size")")
    fi
    local started ended
    started=$(date +%s.%N)
    "$BIN" bench "${target[@]}" --url "$URL" --twins "$size" --concurrency "$SEED_CONCURRENCY" \
        --state-file "$dir/state.json" 2>"$dir/seed.log" >&2 || {
        echo "seed $backend $size failed:" >&2
        tail -20 "$dir/seed.log" >&2
        exit 1
    }
    ended=$(date +%s.%N)
    local rate
    rate=$(python3 -c "print(f'{$size / ($ended - $started):.0f} twins/s in {$ended - $started:.0f} s')")
    echo "$rate; seed concurrency $SEED_CONCURRENCY; $(date -u +%FT%TZ)" >"$dir/seeded"
    echo "seed $backend $size: $rate" >&2
    SEEDED["$backend $size"]=1
}

seed_rate() { # twins/s recorded for a seeded data set, or empty
    local file
    file="$(dir_of "$1" "$2")/seeded"
    [[ -f "$file" ]] && awk '{print $1}' "$file"
}

for backend in $BACKENDS; do
    previous=
    for size in $SIZES; do
        dir=$(dir_of "$backend" "$size")
        if [[ "$REUSE" != 1 || ! -f "$dir/seeded" ]] && [[ -n "$previous" && "$SEED_ANYWAY" != 1 ]]; then
            rate=$(seed_rate "$backend" "$previous")
            minutes=$(python3 -c "print(f'{$size / $rate / 60:.0f}')")
            if (( minutes > SEED_LIMIT_MINUTES )); then
                echo "seed $backend $size: skipped, about $minutes minutes at $rate twins/s (the" \
                    "$previous-twin rate) > SEED_LIMIT_MINUTES=$SEED_LIMIT_MINUTES; SEED_ANYWAY=1 seeds it" >&2
                continue
            fi
        fi
        seed "$backend" "$size"
        previous=$size
    done
done
if [[ "$SEED_ONLY" == 1 ]]; then
    exit 0
fi

# ---------------------------------------------------------------------------------------------
# Servers and measurements
# ---------------------------------------------------------------------------------------------
start() { # $1 backend, $2 size
    local dir store
    dir=$(dir_of "$1" "$2")
    if [[ $1 == sqlite ]]; then
        store=(--data-dir "$dir/data")
    else
        store=(--database-url "$(db_url_of "$2")" --data-dir "$dir/node" --audit-key-file "$dir/audit.key")
    fi
    "$BIN" serve "${store[@]}" --listen "127.0.0.1:$PORT" --log warn ${SERVE_ARGS[@]+"${SERVE_ARGS[@]}"} \
        >"$WORK/server.log" 2>&1 &
    PID=$!
    for _ in $(seq 1 300); do
        curl -fs "$URL/healthz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "the server did not start:" >&2
    cat "$WORK/server.log" >&2
    exit 1
}

stop() {
    kill -TERM "$PID"
    wait "$PID" || true
    PID=
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
vm_kb() { awk -v key="$1:" '$1 == key {print $2}' "/proc/$PID/status"; }  # VmHWM, VmRSS

# CPU ticks of every PostgreSQL process (the database's share of the work; processes that exit
# during a run are not counted, but Steward's pooled connections live as long as the server).
pg_ticks() {
    local total=0 pid
    for pid in $(pgrep -x postgres || true); do
        total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
    echo "$total"
}

load() { # $1 backend, $2 size, $3 scenario, $4 seconds, $5 warm-up seconds
    "$BIN" bench --url "$URL" --no-setup --state-file "$(dir_of "$1" "$2")/state.json" \
        --scenario "$3" --duration "$4" --warmup "$5" --concurrency "$CONCURRENCY" --json \
        2>>"$WORK/bench.log"
}

measure() { # $1 phase, $2 round, $3 backend, $4 size, $5 scenario; appends one JSON line
    local before pg_before result after pg_after
    before=$(cpu_ticks)
    pg_before=$(pg_ticks)
    result=$(load "$3" "$4" "$5" "$DURATION" 0)
    after=$(cpu_ticks)
    pg_after=$(pg_ticks)
    local line="{\"phase\": \"$1\", \"round\": $2, \"backend\": \"$3\", \"size\": $4,"
    line+=" \"scenario\": \"$5\", \"server_cpu_ticks\": $((after - before)),"
    line+=" \"pg_cpu_ticks\": $((pg_after - pg_before)), \"vm_hwm_kb\": $(vm_kb VmHWM),"
    line+=" \"vm_rss_kb\": $(vm_kb VmRSS), \"result\": $result}"
    echo "$line" >>"$RESULTS"
    python3 "$WORK/line.py" "$line" >&2
}

warm() { # $1 backend, $2 size
    load "$1" "$2" read-foreign "$WARMUP" 0 >/dev/null
}

for backend in $BACKENDS; do
    sizes=()
    for size in $SIZES; do
        [[ -n "${SEEDED["$backend $size"]:-}" ]] && sizes+=("$size")
    done
    (( ${#sizes[@]} )) || continue

    # 2. Cold runs: a fresh process, no warm-up.
    if [[ "$COLD" == 1 ]]; then
        for size in "${sizes[@]}"; do
            if [[ "$DROP_CACHES" == 1 ]]; then
                sync
                echo 3 >/proc/sys/vm/drop_caches
                [[ $backend == postgres ]] && echo "(PostgreSQL's shared_buffers are not dropped)" >&2
            fi
            start "$backend" "$size"
            measure cold 0 "$backend" "$size" read-foreign
            stop
        done
    fi

    # 3. Rounds, alternating sizes; the order rotates every round.
    count=${#sizes[@]}
    for round in $(seq 1 "$ROUNDS"); do
        for i in $(seq 0 $((count - 1))); do
            size=${sizes[$(((i + round - 1) % count))]}
            start "$backend" "$size"
            warm "$backend" "$size"
            measure round "$round" "$backend" "$size" read-foreign
            stop
        done
    done

    # 4. The read scenarios on a fresh server per size; VmHWM at the end of its life.
    for size in "${sizes[@]}"; do
        start "$backend" "$size"
        warm "$backend" "$size"
        for scenario in read-foreign read-value resolve scan-match; do
            measure reads 0 "$backend" "$size" "$scenario"
        done
        hwm=$(vm_kb VmHWM)
        rss=$(vm_kb VmRSS)
        anon=$(vm_kb RssAnon)
        file=$(vm_kb RssFile)
        stop
        echo "{\"phase\": \"final-rss\", \"backend\": \"$backend\", \"size\": $size, \"vm_hwm_kb\": $hwm," \
            "\"vm_rss_kb\": $rss, \"rss_anon_kb\": $anon, \"rss_file_kb\": $file}" >>"$RESULTS"
        echo "reads $backend $size: VmHWM at the end $((hwm / 1024)) MB (now $((rss / 1024)) MB:" \
            "anonymous $((anon / 1024)) MB, file-backed $((file / 1024)) MB)" >&2
    done
done

echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
cp "$RESULTS" "$SCALE_DIR/results-$(date -u +%Y%m%dT%H%M%SZ).jsonl"

# ---------------------------------------------------------------------------------------------
# 5. Tables
# ---------------------------------------------------------------------------------------------
python3 - "$RESULTS" "$TICKS" "$P99_TARGET" "$RSS_TARGET_MB" "$SCALE_DIR" "$BACKENDS" "$SIZES" <<'PY'
import json, os, statistics, sys
path, ticks, p99_target, rss_target, scale_dir = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
backends, sizes = sys.argv[6].split(), [int(s) for s in sys.argv[7].split()]
runs = [json.loads(line) for line in open(path)]
def cpu_us(run, key="server_cpu_ticks"):
    return run[key] * 1e6 / ticks / max(run["result"]["requests"], 1)
for backend in backends:
    mine = [r for r in runs if r["backend"] == backend]
    if not mine:
        continue
    print(f"\n### {backend}\n")
    seeded = []
    for size in sizes:
        f = os.path.join(scale_dir, f"{backend}-{size}", "seeded")
        if os.path.exists(f):
            seeded.append(f"{size:,}: {open(f).read().strip()}")
    if seeded:
        print("seeding: " + "; ".join(seeded) + "\n")
    pg = backend == "postgres"
    print("| phase | round | twins | requests/s | p50 ms | p99 ms | p99.9 ms | errors | server CPU µs/req |"
          + (" PostgreSQL CPU µs/req |" if pg else "") + " VmHWM MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if pg else "") + "---:|")
    for r in mine:
        if r["phase"] not in ("cold", "round") :
            continue
        x = r["result"]
        print(f"| {r['phase']} | {r['round'] or ''} | {r['size']:,} | {x['requests_per_sec']:,.0f} | {x['p50_ms']:.2f} "
              f"| {x['p99_ms']:.2f} | {x['p999_ms']:.2f} | {x['errors']} | {cpu_us(r):.0f} |"
              + (f" {cpu_us(r, 'pg_cpu_ticks'):.0f} |" if pg else "") + f" {r['vm_hwm_kb'] / 1024:.0f} |")
    rounds = [r for r in mine if r["phase"] == "round"]
    present = [s for s in sizes if any(r["size"] == s for r in rounds)]
    if not present:
        continue
    base = statistics.median(r["result"]["p99_ms"] for r in rounds if r["size"] == present[0])
    print(f"\n| twins | median requests/s | median p50 ms | median p99 ms | p99 / p99({present[0]:,}) | target ≤ {p99_target}× |")
    print("|---:|---:|---:|---:|---:|---|")
    for size in present:
        rs = [r for r in rounds if r["size"] == size]
        rps = statistics.median(r["result"]["requests_per_sec"] for r in rs)
        p50 = statistics.median(r["result"]["p50_ms"] for r in rs)
        p99 = statistics.median(r["result"]["p99_ms"] for r in rs)
        ratio = p99 / base
        verdict = "—" if size == present[0] else ("met" if ratio <= p99_target else "missed")
        print(f"| {size:,} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {ratio:.2f} | {verdict} |")
    reads = [r for r in mine if r["phase"] == "reads"]
    if reads:
        print("\nRead scenarios, one fresh server per size (after the warm-up, one after the other):\n")
        print("| twins | scenario | requests/s | p50 ms | p99 ms | p99.9 ms | errors | server CPU µs/req |")
        print("|---:|---|---:|---:|---:|---:|---:|---:|")
        for r in reads:
            x = r["result"]
            print(f"| {r['size']:,} | {r['scenario']} | {x['requests_per_sec']:,.0f} | {x['p50_ms']:.2f} | {x['p99_ms']:.2f} "
                  f"| {x['p999_ms']:.2f} | {x['errors']} | {cpu_us(r):.0f} |")
    finals = [r for r in runs if r["phase"] == "final-rss" and r["backend"] == backend]
    if finals:
        print("\nPeak RSS of `steward serve` (VmHWM just before it was stopped, after read-foreign, "
              "read-value, resolve and scan-match):\n")
        print("| twins | VmHWM MB | VmRSS at the end MB | of which anonymous / file-backed MB | target |")
        print("|---:|---:|---:|---:|---|")
        for r in finals:
            mb = r["vm_hwm_kb"] / 1024
            target = ""
            if backend == "sqlite" and r["size"] == max(f["size"] for f in finals):
                target = f"≤ {rss_target:.0f} MB: {'met' if mb <= rss_target else 'missed'}"
            print(f"| {r['size']:,} | {mb:.0f} | {r['vm_rss_kb'] / 1024:.0f} "
                  f"| {r['rss_anon_kb'] / 1024:.0f} / {r['rss_file_kb'] / 1024:.0f} | {target} |")
    errors = sum(r["result"]["errors"] for r in mine if "result" in r)
    print(f"\nerrors over all {backend} runs: {errors}")
PY
