# Shared by the bench scripts that serve a data set with `steward serve` and drive it with
# `steward bench` (bench/ab.sh, bench/audit-cost.sh). Source it after setting URL and WORK.

# Starts the server command given as arguments in the background (PID), logging to
# $WORK/server.log, and waits until $URL/healthz answers.
start_server() {
    "$@" >"$WORK/server.log" 2>&1 &
    PID=$!
    for _ in $(seq 1 100); do
        curl -fs "$URL/healthz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "the server did not start:" >&2
    cat "$WORK/server.log" >&2
    exit 1
}

# CPU time the server process used so far (user + system), in clock ticks.
cpu_ticks() {
    awk '{print $14 + $15}' "/proc/$PID/stat"
}

stop_server() {
    kill -TERM "$PID"
    wait "$PID" || true
    PID=
}

# Warms the running server up for 2 s, then measures $SCENARIO for $DURATION s with
# $CONCURRENCY workers, using the `steward` binary $1, and stops the server. Appends one line
# to $WORK/results.jsonl: the JSON fields given as $2 (e.g. `"round": 1, "side": "A"`), the
# server's CPU ticks during the measurement and the bench result.
measure_and_stop() {
    local bench=$1 fields=$2 before after result
    "$bench" bench --url "$URL" --no-setup --state-file "$WORK/state.json" \
        --scenario "$SCENARIO" --duration 2 --warmup 0 --concurrency "$CONCURRENCY" --json >/dev/null
    before=$(cpu_ticks)
    result=$("$bench" bench --url "$URL" --no-setup --state-file "$WORK/state.json" \
        --scenario "$SCENARIO" --duration "$DURATION" --warmup 0 --concurrency "$CONCURRENCY" --json)
    after=$(cpu_ticks)
    stop_server
    echo "{$fields, \"server_cpu_ticks\": $((after - before)), \"result\": $result}" >>"$WORK/results.jsonl"
    echo "$fields: $result" >&2
}
