-- wrk script for soak.sh: spreads POST requests over several inference targets, round robin (each thread starts at
-- a different target), and counts the answers by HTTP status, keeping the first few bodies of each status other
-- than 200 so a failure can be told apart from the budget's 503s.
--   SOAK_TARGETS: a file of lines "<path> <body file>" (e.g. "/v2/models/mlp/versions/1/infer /tmp/mlp.json")
--   SOAK_KEY:     the API key sent as "Authorization: Bearer <key>"
--   SOAK_REPORT:  where done() writes "status <code> <count>" and "sample <code> <body>" lines
local threads = {}

function setup(thread)
    thread:set("offset", #threads)
    table.insert(threads, thread)
end

local requests = {}
local next_index = 1
-- Read back by done() through thread:get, which copies numbers and strings reliably (nested tables it does not):
-- "codes" lists the statuses seen, "n<code>" counts each, "samples" holds "sample <code> <body>" lines.
codes = ""
samples = ""
local kept = {}

function init(args)
    local key = os.getenv("SOAK_KEY")
    assert(key, "SOAK_KEY is not set")
    local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key }
    local targets = os.getenv("SOAK_TARGETS")
    assert(targets, "SOAK_TARGETS is not set")
    for line in io.lines(targets) do
        local path, file = line:match("^(%S+)%s+(%S+)$")
        if path then
            local f = assert(io.open(file, "rb"))
            local body = f:read("*a")
            f:close()
            table.insert(requests, wrk.format("POST", path, headers, body))
        end
    end
    assert(#requests > 0, "no targets")
    next_index = (offset or 0) % #requests + 1
end

function request()
    local r = requests[next_index]
    next_index = next_index % #requests + 1
    return r
end

function response(status, headers, body)
    local name = "n" .. status
    local count = _G[name]
    if count == nil then
        codes = codes .. " " .. status
        count = 0
    end
    _G[name] = count + 1
    if status ~= 200 and (kept[status] or 0) < 5 then
        kept[status] = (kept[status] or 0) + 1
        local text = (body or ""):sub(1, 300):gsub("[\r\n]", " ")
        samples = samples .. "sample " .. status .. " " .. text .. "\n"
    end
end

function done(summary, latency, requests_)
    local totals, order = {}, {}
    local report = os.getenv("SOAK_REPORT")
    assert(report, "SOAK_REPORT is not set")
    local out = assert(io.open(report, "w"))
    for _, thread in ipairs(threads) do
        for code in thread:get("codes"):gmatch("%d+") do
            if totals[code] == nil then
                totals[code] = 0
                table.insert(order, code)
            end
            totals[code] = totals[code] + thread:get("n" .. code)
        end
        out:write(thread:get("samples"))
    end
    for _, code in ipairs(order) do out:write(string.format("status %s %d\n", code, totals[code])) end
    local e = summary.errors
    out:write(string.format("requests %d\n", summary.requests))
    out:write(string.format("socket_errors connect=%d read=%d write=%d timeout=%d\n", e.connect, e.read, e.write, e.timeout))
    out:write(string.format("latency_ms p50=%.3f p99=%.3f max=%.3f\n",
        latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
    out:close()
end
