-- wrk script of bench/compare-pocketbase.sh: one request per call to a random path of a list,
-- with an Authorization header, optionally with a JSON body built from a template.
--
--   wrk -t2 -c32 -d10s -s bench/wrk/request.lua http://127.0.0.1:PORT -- \
--       PATHS_FILE AUTH_FILE [METHOD BODY_FILE ENTRIES]
--
-- PATHS_FILE: one request path per line (the twins' or records' URLs); every request picks one
--   at random.
-- AUTH_FILE: the value of the Authorization header, on its first line.
-- METHOD: GET (default), POST, PATCH.
-- BODY_FILE: a JSON body template; `{{SEQ}}` becomes a number unique to the request and
--   `{{ENTRY}}` a random number in 0 .. ENTRIES-1 (which entry a Steward write changes).
--
-- Requests are built in init() and request(), not at load time: wrk fills in `wrk.host` (and so
-- the Host header that wrk.format adds) only then. GETs are built once per path in init(); a
-- request() call then only picks one.
--
-- response() counts every answer that is not 2xx and keeps the first one; done() adds the
-- threads' counts and prints one line, `RESULT {json}`, that the shell script reads.

local threads = {}

-- Globals of each thread's Lua state, read from done() through thread:get().
thread_id = 0
non2xx = 0
first_error = ""

local paths, method, headers, body_template, entries, prebuilt
local sequence = 0

local function read_lines(name)
    local lines = {}
    local file = assert(io.open(name, "r"), "cannot open " .. tostring(name))
    for line in file:lines() do
        if line ~= "" then
            lines[#lines + 1] = line
        end
    end
    file:close()
    return lines
end

local function read_all(name)
    local file = assert(io.open(name, "r"), "cannot open " .. tostring(name))
    local text = file:read("*a")
    file:close()
    return (text:gsub("%s+$", ""))
end

function setup(thread)
    threads[#threads + 1] = thread
    thread:set("thread_id", #threads)
end

function init(args)
    paths = read_lines(args[1])
    assert(#paths > 0, "no paths in " .. tostring(args[1]))
    method = args[3] or "GET"
    headers = { ["Authorization"] = read_lines(args[2])[1] }
    if args[4] then
        body_template = read_all(args[4])
        entries = tonumber(args[5] or "1")
        headers["Content-Type"] = "application/json"
    end
    math.randomseed(os.time() + thread_id * 7919)
    -- Distinct sequence numbers per thread, so every write carries a new value.
    sequence = thread_id * 1000000000
    if not body_template then
        prebuilt = {}
        for i, path in ipairs(paths) do
            prebuilt[i] = wrk.format(method, path, headers)
        end
    end
end

function request()
    if prebuilt then
        return prebuilt[math.random(#prebuilt)]
    end
    sequence = sequence + 1
    local body = body_template
        :gsub("{{SEQ}}", string.format("%d", sequence))
        :gsub("{{ENTRY}}", string.format("%d", math.random(0, entries - 1)))
    return wrk.format(method, paths[math.random(#paths)], headers, body)
end

function response(status, response_headers, body)
    if status < 200 or status > 299 then
        non2xx = non2xx + 1
        if first_error == "" then
            first_error = status .. ": " .. string.sub(body or "", 1, 300)
        end
    end
end

local function json_string(text)
    return '"' .. text:gsub('[%c"\\]', function(c)
        return string.format("\\u%04x", string.byte(c))
    end) .. '"'
end

function done(summary, latency, requests)
    local rejected, first = 0, ""
    for _, thread in ipairs(threads) do
        rejected = rejected + (thread:get("non2xx") or 0)
        local error_text = thread:get("first_error") or ""
        if first == "" then
            first = error_text
        end
    end
    local e = summary.errors
    local socket_errors = e.connect + e.read + e.write + e.timeout
    local seconds = summary.duration / 1e6
    io.write(string.format(
        'RESULT {"requests": %d, "duration_secs": %.3f, "requests_per_sec": %.1f, '
            .. '"p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, '
            .. '"non2xx": %d, "socket_errors": %d, "errors": %d, "first_error": %s}\n',
        summary.requests, seconds, summary.requests / seconds,
        latency:percentile(50) / 1000, latency:percentile(90) / 1000,
        latency:percentile(99) / 1000, latency.max / 1000,
        rejected, socket_errors, rejected + socket_errors, json_string(first)))
end
